"""The one settings object: defaults < TOML file < ``COSFLOW_*`` environment < explicit overrides.

Nothing here runs at import time; :func:`load_settings` is called by the CLI (or a test) once and
the frozen result is passed down explicitly.
"""

from __future__ import annotations

import json
import os
import secrets
import string
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from cosflow.errors import ConfigError

DEV_CREDENTIALS_FILE = "dev-credentials.json"


@dataclass(frozen=True)
class KeyPair:
    secret_id: str
    secret_key: str


@dataclass(frozen=True)
class Settings:
    host: str = "127.0.0.1"
    port: int = 8080
    data_dir: Path = Path("data")
    appid: str = "1250000000"
    region: str = "ap-guangzhou"
    #: Domains whose ``<bucket>-<appid>.cos|ci.<region>.<domain>`` hosts are virtual-hosted.
    domains: tuple[str, ...] = ("myqcloud.com", "tencentcos.cn")
    #: Base of object URLs handed out (empty: the server's own http://host:port).
    public_url: str = ""
    #: SQLAlchemy URL; empty means ``sqlite:///<data_dir>/cosflow.db``.
    database_url: str = ""
    credentials: tuple[KeyPair, ...] = ()
    #: Largest XML request body accepted (bytes); a CompleteMultipartUpload may have 2.5 MB whatever
    #: this says (10,000 parts with checksums: api/multipart.COMPLETE_MAX_BYTES).
    max_xml_bytes: int = 1024 * 1024
    #: Largest single PUT Object / part (bytes); COS allows 5 GB.
    max_object_bytes: int = 5 * 1024**3
    #: Smallest multipart part except the last (bytes); COS requires 1 MB.
    min_part_bytes: int = 1024 * 1024
    #: Disk space held back (a file in the data dir) so deletes still commit on a full disk; new
    #: data is refused while it cannot be held. 0 turns it off. docs/design-choices.md.
    disk_reserve_bytes: int = 8 * 1024 * 1024
    #: How far a signature's start time may lie in the future (client clock ahead).
    clock_skew_seconds: int = 900
    log_level: str = "info"
    #: Tasks run at once by the in-process executor (FFmpeg jobs are CPU-heavy: about one per core).
    workers: int = 2
    #: A task running longer than this is failed (and its FFmpeg killed).
    task_timeout_seconds: int = 3600
    #: Seconds to wait before each callback attempt (first immediate); jittered by +-10%. After the
    #: last one fails the callback is dead (visible, redeliverable). About three days by default.
    callback_retry_schedule: tuple[int, ...] = (0, 5, 300, 1800, 7200, 18000, 36000, 50400, 72000, 86400)
    callback_connect_timeout: float = 5.0
    callback_timeout: float = 15.0
    #: Longest Retry-After honoured (seconds).
    callback_retry_after_cap: int = 3600
    #: Callback attempts in flight at once, in all.
    callback_concurrency: int = 256
    #: Callback attempts in flight at once to one destination (scheme + host + port): a destination
    #: that hangs holds at most this many slots, so others keep theirs.
    callback_destination_concurrency: int = 16
    #: Standard Webhooks signing secret (``whsec_<base64>``); empty = unsigned (per-workflow secrets
    #: can still be set in NotifyConfig/SigningSecret).
    callback_secret: str = ""
    #: Refuse callback URLs resolving to loopback or private networks (link-local and cloud metadata
    #: addresses are always refused).
    callback_deny_private: bool = False
    #: Where object bytes live: ``filesystem`` (under the data dir) or ``s3`` (the bucket below).
    blob_store: str = "filesystem"
    #: The S3-compatible service (MinIO, Ceph RGW, AWS S3, COS): endpoint (empty = AWS for the
    #: region), an existing bucket cosflow may own, a key prefix inside it, its region.
    s3_endpoint_url: str = ""
    s3_bucket: str = ""
    s3_prefix: str = ""
    s3_region: str = ""
    #: Credentials; empty = boto3's usual chain (AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY /
    #: AWS_SESSION_TOKEN, AWS_PROFILE, ~/.aws, an instance role).
    s3_access_key_id: str = ""
    s3_secret_access_key: str = field(default="", repr=False)
    #: ``path`` (``<endpoint>/<bucket>/<key>``), ``virtual`` (``<bucket>.<endpoint>``) or ``auto``;
    #: empty = ``path`` with an endpoint URL (what MinIO and Ceph expect), ``auto`` without.
    s3_addressing_style: str = ""
    #: Bytes buffered per S3 multipart part of an upload (at most two per upload in memory); S3
    #: needs at least 5 MiB.
    s3_part_bytes: int = 8 * 1024 * 1024

    @property
    def endpoint(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def effective_public_url(self) -> str:
        return (self.public_url or self.endpoint).rstrip("/")

    @property
    def effective_database_url(self) -> str:
        return self.database_url or f"sqlite:///{self.data_dir / 'cosflow.db'}"


_ENV_KEYS: dict[str, str] = {
    "host": "COSFLOW_HOST",
    "port": "COSFLOW_PORT",
    "data_dir": "COSFLOW_DATA_DIR",
    "appid": "COSFLOW_APPID",
    "region": "COSFLOW_REGION",
    "domains": "COSFLOW_DOMAINS",
    "public_url": "COSFLOW_PUBLIC_URL",
    "database_url": "COSFLOW_DATABASE_URL",
    "max_xml_bytes": "COSFLOW_MAX_XML_BYTES",
    "max_object_bytes": "COSFLOW_MAX_OBJECT_BYTES",
    "min_part_bytes": "COSFLOW_MIN_PART_BYTES",
    "disk_reserve_bytes": "COSFLOW_DISK_RESERVE_BYTES",
    "clock_skew_seconds": "COSFLOW_CLOCK_SKEW_SECONDS",
    "log_level": "COSFLOW_LOG_LEVEL",
    "workers": "COSFLOW_WORKERS",
    "task_timeout_seconds": "COSFLOW_TASK_TIMEOUT_SECONDS",
    "callback_retry_schedule": "COSFLOW_CALLBACK_RETRY_SCHEDULE",
    "callback_connect_timeout": "COSFLOW_CALLBACK_CONNECT_TIMEOUT",
    "callback_timeout": "COSFLOW_CALLBACK_TIMEOUT",
    "callback_retry_after_cap": "COSFLOW_CALLBACK_RETRY_AFTER_CAP",
    "callback_concurrency": "COSFLOW_CALLBACK_CONCURRENCY",
    "callback_destination_concurrency": "COSFLOW_CALLBACK_DESTINATION_CONCURRENCY",
    "callback_secret": "COSFLOW_CALLBACK_SECRET",
    "callback_deny_private": "COSFLOW_CALLBACK_DENY_PRIVATE",
    "blob_store": "COSFLOW_BLOB_STORE",
    "s3_endpoint_url": "COSFLOW_S3_ENDPOINT_URL",
    "s3_bucket": "COSFLOW_S3_BUCKET",
    "s3_prefix": "COSFLOW_S3_PREFIX",
    "s3_region": "COSFLOW_S3_REGION",
    "s3_access_key_id": "COSFLOW_S3_ACCESS_KEY_ID",
    "s3_secret_access_key": "COSFLOW_S3_SECRET_ACCESS_KEY",
    "s3_addressing_style": "COSFLOW_S3_ADDRESSING_STYLE",
    "s3_part_bytes": "COSFLOW_S3_PART_BYTES",
}


def _coerce(name: str, value: Any) -> Any:
    kind = {f.name: f.type for f in fields(Settings)}[name]
    try:
        if kind == "int":
            return int(value)
        if kind == "float":
            return float(value)
        if kind == "bool":
            return value if isinstance(value, bool) else _BOOLS[str(value).strip().lower()]
        if kind == "tuple[int, ...]":
            items = value.split(",") if isinstance(value, str) else list(value)
            return tuple(int(str(s).strip()) for s in items if str(s).strip())
        if kind == "Path":
            return Path(value)
        if kind == "tuple[str, ...]":
            items = value.split(",") if isinstance(value, str) else list(value)
            return tuple(s.strip() for s in items if s.strip())
        return str(value)
    except (TypeError, ValueError, KeyError) as exc:  # KeyError: a bool word we do not know
        raise ConfigError(f"setting {name!r}: cannot use {value!r}") from exc


#: A misspelt switch (``ture``) is an error, not a silent False.
_BOOLS = {"1": True, "true": True, "yes": True, "on": True, "0": False, "false": False, "no": False, "off": False}


def _key_pairs(raw: Any) -> tuple[KeyPair, ...]:
    pairs = []
    for item in raw or ():
        try:
            pairs.append(KeyPair(str(item["secret_id"]), str(item["secret_key"])))
        except (KeyError, TypeError) as exc:
            raise ConfigError("each [[credentials]] entry needs secret_id and secret_key") from exc
    return tuple(pairs)


def _dev_key_pair(data_dir: Path) -> KeyPair:
    """The dev pair, generated once and kept in the data dir so restarts keep working."""
    path = data_dir / DEV_CREDENTIALS_FILE
    if path.exists():
        stored = json.loads(path.read_text())
        return KeyPair(stored["secret_id"], stored["secret_key"])
    alphabet = string.ascii_letters + string.digits
    pair = KeyPair(
        "AKID" + "".join(secrets.choice(alphabet) for _ in range(32)),
        "".join(secrets.choice(alphabet) for _ in range(32)),
    )
    data_dir.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps({"secret_id": pair.secret_id, "secret_key": pair.secret_key}))
    os.chmod(tmp, 0o600)
    os.replace(tmp, path)
    return pair


def _stored_dev_key_pair(data_dir: Path) -> tuple[KeyPair, ...]:
    """The dev pair a server already generated into ``data_dir``, if any (nothing is written)."""
    path = data_dir / DEV_CREDENTIALS_FILE
    if not path.is_file():
        return ()
    try:
        stored = json.loads(path.read_text())
        return (KeyPair(stored["secret_id"], stored["secret_key"]),)
    except (OSError, ValueError, KeyError, TypeError):
        return ()


def _check(settings: Settings) -> None:
    if not settings.callback_retry_schedule:
        raise ConfigError("callback_retry_schedule needs at least one entry")
    if settings.workers < 1:
        raise ConfigError("workers must be at least 1")
    if min(settings.callback_concurrency, settings.callback_destination_concurrency) < 1:
        raise ConfigError("callback_concurrency and callback_destination_concurrency must be at least 1")
    if min(settings.task_timeout_seconds, settings.callback_timeout, settings.callback_connect_timeout) <= 0:
        raise ConfigError("task_timeout_seconds, callback_timeout and callback_connect_timeout must be positive")
    if min(settings.callback_retry_schedule) < 0:
        raise ConfigError("callback_retry_schedule entries cannot be negative")
    if settings.disk_reserve_bytes < 0:
        raise ConfigError("disk_reserve_bytes cannot be negative (0 turns the reserve off)")
    if not settings.appid.isdecimal():
        raise ConfigError(f"appid must be digits, got {settings.appid!r}")
    _check_blob_store(settings)


#: S3's own bounds on a multipart part (all but the last).
S3_MIN_PART_BYTES = 5 * 1024 * 1024
S3_MAX_PART_BYTES = 5 * 1024**3


def _check_blob_store(settings: Settings) -> None:
    if settings.blob_store not in ("filesystem", "s3"):
        raise ConfigError(f"blob_store must be filesystem or s3, got {settings.blob_store!r}")
    if settings.s3_addressing_style not in ("", "auto", "path", "virtual"):
        raise ConfigError(f"s3_addressing_style must be auto, path or virtual, got {settings.s3_addressing_style!r}")
    if not S3_MIN_PART_BYTES <= settings.s3_part_bytes <= S3_MAX_PART_BYTES:
        raise ConfigError("s3_part_bytes must be between 5 MiB (5242880) and 5 GiB (S3's part limits)")
    if bool(settings.s3_access_key_id) != bool(settings.s3_secret_access_key):
        raise ConfigError("set both s3_access_key_id and s3_secret_access_key, or neither (boto3's usual chain)")
    if settings.blob_store == "s3" and not settings.s3_bucket:
        raise ConfigError("blob_store = s3 needs s3_bucket (COSFLOW_S3_BUCKET): an existing bucket")
    if settings.blob_store == "s3" and settings.max_object_bytes > S3_MAX_PART_BYTES:
        raise ConfigError("with blob_store = s3, max_object_bytes is at most 5 GiB (S3's CopyObject limit)")


def load_settings(
    config_file: Path | None = None,
    env: Mapping[str, str] | None = None,
    *,
    create_dev_credentials: bool = True,
    **overrides: Any,
) -> Settings:
    """Build the settings once. ``overrides`` (from CLI flags) win; ``None`` values are ignored.

    A relative ``data_dir`` in the TOML file is taken relative to the file's own directory (so a
    command run from anywhere with ``--config`` finds the same data); one from the environment or a
    flag is relative to the working directory, as shells expect.

    With no key pair configured, ``create_dev_credentials`` generates the dev pair into the data
    dir (creating it): only ``cosflow serve`` does that. Other commands pass ``False`` and get the
    pair a server stored there, or none: loading settings then writes nothing.
    """
    env = os.environ if env is None else env
    values: dict[str, Any] = {}
    file_pairs: tuple[KeyPair, ...] = ()
    if config_file is not None:
        try:
            document = tomllib.loads(Path(config_file).read_text())
        except (OSError, tomllib.TOMLDecodeError) as exc:
            raise ConfigError(f"cannot read config file {config_file}: {exc}") from exc
        file_pairs = _key_pairs(document.pop("credentials", ()))
        known = {f.name for f in fields(Settings)} - {"credentials"}
        unknown = set(document) - known
        if unknown:
            raise ConfigError(f"unknown settings in {config_file}: {', '.join(sorted(unknown))}")
        values.update({k: _coerce(k, v) for k, v in document.items()})
        if "data_dir" in values and not values["data_dir"].is_absolute():
            values["data_dir"] = Path(config_file).parent / values["data_dir"]
    for name, var in _ENV_KEYS.items():
        if env.get(var):
            values[name] = _coerce(name, env[var])
    values.update({k: _coerce(k, v) for k, v in overrides.items() if v is not None})
    settings = Settings(**values)

    pairs = list(file_pairs)
    env_id, env_key = env.get("COSFLOW_SECRET_ID"), env.get("COSFLOW_SECRET_KEY")
    if bool(env_id) != bool(env_key):
        raise ConfigError("set both COSFLOW_SECRET_ID and COSFLOW_SECRET_KEY, or neither")
    if env_id and env_key:
        pairs.insert(0, KeyPair(env_id, env_key))
    _check(settings)
    if not pairs and create_dev_credentials:  # only once everything else is known to be valid
        pairs.append(_dev_key_pair(settings.data_dir))
    elif not pairs:
        pairs.extend(_stored_dev_key_pair(settings.data_dir))
    return replace(settings, credentials=tuple(pairs))
