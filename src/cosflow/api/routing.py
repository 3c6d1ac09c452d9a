"""Where a request goes: which service (COS object API or CI API), which bucket, which key.

Rules (design.md "Routing"):
- Host ``<bucket>-<appid>.ci.<region>.<domain>`` → CI API.
- Host ``<bucket>-<appid>.cos.<region>.<domain>`` → object API, except requests that match a CI
  operation exactly (the official SDK sends CI calls with the ``.cos.`` host in IP/Port mode).
- Any other host (``127.0.0.1:8080``) → path-style ``/<bucket>/<key>``; ``/`` is GET Service.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from urllib.parse import unquote, unquote_to_bytes

from cosflow.errors import InvalidURI

#: The bucket part is taken as sent (any case, any shape) so that a bad name gets InvalidBucketName
#: from the bucket rules rather than falling through to path-style routing.
_HOST = r"^(?P<bucket>[^./:]+)\.(?P<svc>cos|ci|pic)\.(?P<region>[a-z0-9-]+)\.(?:{domains})(?::\d+)?$"
_HEX32 = "[0-9a-f]{32}"


class Service(StrEnum):
    COS = "cos"
    CI = "ci"
    #: cosflow's own JSON endpoints on the bare host (``/api/...``); never a bucket name, since
    #: bucket names end in ``-<appid>``.
    API = "api"


class Style(StrEnum):
    VIRTUAL = "virtual"  # bucket in the Host
    PATH = "path"  # bucket in the path


@dataclass(frozen=True)
class Target:
    service: Service
    style: Style
    bucket: str | None
    key: str | None
    #: The path the client signed, candidates in order (spec §2.1 step 5).
    signed_paths: tuple[str, ...]

    @property
    def resource(self) -> str:
        if self.bucket is None:
            return "/"
        return f"{self.bucket}/{self.key}" if self.key else self.bucket


@dataclass(frozen=True)
class CiRoute:
    """One CI operation's shape: method, path pattern, and query names that must be present."""

    method: str
    path: re.Pattern[str]
    name: str
    needs_query: frozenset[str] = frozenset()


def _ci(method: str, path: str, name: str, *needs: str) -> CiRoute:
    return CiRoute(method, re.compile(f"^{path}$"), name, frozenset(needs))


#: Every CI operation cosflow recognises on the object host. An object whose key happens to be
#: ``workflow`` is still reachable: GET /workflow is CI only with the list query the SDK sends.
CI_ROUTES: tuple[CiRoute, ...] = (
    _ci("POST", "/workflow", "create_workflow"),
    _ci("GET", "/workflow", "list_workflows", "ids"),
    _ci("GET", "/workflow", "list_workflows", "pagenumber"),
    _ci("GET", f"/workflow/w{_HEX32}", "get_workflow"),
    _ci("PUT", f"/workflow/w{_HEX32}", "update_workflow"),
    _ci("DELETE", f"/workflow/w{_HEX32}", "delete_workflow"),
    _ci("POST", "/triggerworkflow", "trigger_workflow", "workflowid"),
    _ci("GET", "/workflowexecution", "list_executions", "workflowid"),
    _ci("GET", f"/workflowexecution/i{_HEX32}", "get_execution"),
    _ci("POST", "/template", "create_template"),
    _ci("GET", "/template", "list_templates", "pagenumber"),
    _ci("GET", "/template", "list_templates", "category"),
    _ci("GET", "/template", "list_templates", "ids"),
    _ci("PUT", "/template/t[0-9a-z]{6,40}", "update_template"),
    _ci("DELETE", "/template/t[0-9a-z]{6,40}", "delete_template"),
    _ci("GET", "/queue", "list_queues", "state"),
    _ci("GET", "/queue", "list_queues", "queueids"),
    _ci("PUT", f"/queue/p{_HEX32}", "update_queue"),
    _ci("GET", "/picqueue", "list_pic_queues", "state"),
    _ci("GET", "/picqueue", "list_pic_queues", "queueids"),
    _ci("PUT", f"/picqueue/p{_HEX32}", "update_pic_queue"),
    _ci("POST", "/jobs", "create_jobs"),
    _ci("GET", "/jobs", "list_jobs", "tag"),
    _ci("GET", f"/jobs/j{_HEX32}(?:,j{_HEX32})*", "get_jobs"),
    _ci("PUT", f"/jobs/j{_HEX32}", "cancel_job", "cancel"),
)


def match_ci(method: str, path: str, query: Mapping[str, str]) -> CiRoute | None:
    names = {k.lower() for k in query}
    for route in CI_ROUTES:
        if route.method == method and route.path.match(path) and route.needs_query <= names:
            return route
    return None


class Router:
    def __init__(self, domains: tuple[str, ...]) -> None:
        pattern = "|".join(re.escape(d) for d in domains) or r"(?!x)x"
        self._host = re.compile(_HOST.format(domains=pattern), re.IGNORECASE)

    def resolve(self, host: str, method: str, raw_path: str, query: Mapping[str, str]) -> Target:
        path = unquote(raw_path) or "/"
        found = self._host.match(host)
        if found is None:
            return self._path_style(path, raw_path)
        bucket = found["bucket"]
        if found["svc"].lower() == "ci" or match_ci(method, path, query) is not None:
            return Target(Service.CI, Style.VIRTUAL, bucket, None, (path,))
        key = path[1:] or None
        return Target(Service.COS, Style.VIRTUAL, bucket, key, (path,))

    @staticmethod
    def _path_style(path: str, raw_path: str) -> Target:
        trimmed = raw_path.lstrip("/")
        if trimmed == "api" or trimmed.startswith("api/"):
            return Target(Service.API, Style.PATH, None, None, (path,))
        if not trimmed:
            return Target(Service.COS, Style.PATH, None, None, ("/",))
        bucket_raw, _, key_raw = trimmed.partition("/")
        bucket = unquote(bucket_raw)
        key = unquote(key_raw) or None
        # The bare Host names no bucket, so the signed path must: /<bucket>/<key>, or /<bucket>[/]
        # for bucket operations. A signature over /<key> alone would open that key in any bucket.
        # (A presigned link whose signed Host is a bucket host is re-resolved for that host by
        # api/links.py, after its signature is checked against it.)
        signed = (f"/{bucket}/{key}",) if key else (f"/{bucket}/", f"/{bucket}")
        return Target(Service.COS, Style.PATH, bucket, key, signed)


def _utf8(raw: bytes) -> str | None:
    """``raw`` percent-decoded as UTF-8, or ``None`` when the bytes are not UTF-8."""
    try:
        return unquote_to_bytes(raw).decode("utf-8")
    except UnicodeDecodeError:
        return None


def check_uri(raw_path: bytes, raw_query: bytes) -> None:
    """Raise :class:`InvalidURI` unless the path (bucket and key) and every query name and value
    are valid UTF-8 once percent-decoded.

    Object keys are UTF-8 (COS "Object overview", naming rules); decoding with replacement would
    make ``%ff`` and ``%fe`` name the same object (U+FFFD), and every other URI part (``prefix``,
    ``marker``, ``key-marker``, CI names...) is compared with keys. S3 answers such a URI
    400 InvalidURI; cosflow does the same before any signature check or lookup."""
    if _utf8(raw_path) is None:
        raise InvalidURI("the path is not valid UTF-8 once percent-decoded; object keys are UTF-8")
    for item in raw_query.split(b"&"):
        name, _, value = item.replace(b"+", b" ").partition(b"=")
        shown = _utf8(name)
        if shown is None:
            raise InvalidURI("a query parameter name is not valid UTF-8 once percent-decoded")
        if _utf8(value) is None:
            raise InvalidURI(f"the query parameter {shown[:64]!r} is not valid UTF-8 once percent-decoded")
