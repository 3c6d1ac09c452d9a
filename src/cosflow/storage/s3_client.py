"""Building the S3 store from the settings, and the start-up check that stops a server with one
line when the bucket cannot be used (docs/storage-s3.md)."""

from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit

from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError

from cosflow.errors import ConfigError
from cosflow.settings import Settings
from cosflow.storage.s3 import MISSING, REFUSED, S3BlobStore


def connect(settings: Settings) -> S3BlobStore:
    """A store over a boto3 client built from ``settings``, checked with :func:`check`.
    Raises :class:`ConfigError` (one line) when the bucket cannot be used."""
    import boto3
    from botocore.config import Config

    style = settings.s3_addressing_style or ("path" if settings.s3_endpoint_url else "auto")
    session = boto3.session.Session(
        aws_access_key_id=settings.s3_access_key_id or None,
        aws_secret_access_key=settings.s3_secret_access_key or None,
        region_name=settings.s3_region or None,
    )
    config = Config(
        s3={"addressing_style": style},
        signature_version="s3v4",
        retries={"max_attempts": 3, "mode": "standard"},
        connect_timeout=5,
        read_timeout=60,
        max_pool_connections=64,
        # Only the checksums S3 itself requires: many S3-compatible stores refuse the rest.
        request_checksum_calculation="when_required",
        response_checksum_validation="when_required",
    )
    client = session.client("s3", endpoint_url=settings.s3_endpoint_url or None, config=config)
    store = S3BlobStore(client, settings.s3_bucket, settings.s3_prefix, part_bytes=settings.s3_part_bytes)
    check(store)
    return store


def check(store: S3BlobStore) -> None:
    """Raise :class:`ConfigError` with one line naming what is wrong (endpoint unreachable,
    credentials refused, bucket missing) unless the bucket answers."""
    where = _safe_endpoint(store.client.meta.endpoint_url)
    try:
        store.client.head_bucket(Bucket=store.bucket)
    except NoCredentialsError as exc:
        raise ConfigError(
            "S3 store: no credentials found (set s3_access_key_id and s3_secret_access_key, or "
            "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY)"
        ) from exc
    except ClientError as exc:
        code = str(exc.response.get("Error", {}).get("Code", ""))
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        if code in MISSING or code == "NoSuchBucket":
            missing = f"S3 store: bucket {store.bucket!r} does not exist at {where} (create it first)"
            raise ConfigError(missing) from exc
        if code in REFUSED:
            raise ConfigError(f"S3 store: {where} refused the credentials for bucket {store.bucket!r}") from exc
        if status == 301 or code in ("301", "PermanentRedirect", "AuthorizationHeaderMalformed"):
            raise ConfigError(f"S3 store: bucket {store.bucket!r} is in another region (set s3_region)") from exc
        raise ConfigError(f"S3 store: {where} answered {code or status} for bucket {store.bucket!r}") from exc
    except BotoCoreError as exc:
        raise ConfigError(f"S3 store: cannot reach {where} ({type(exc).__name__})") from exc


def _safe_endpoint(url: str) -> str:
    """The endpoint URL without any user:password it may carry."""
    parts = urlsplit(url)
    return urlunsplit(parts._replace(netloc=parts.netloc.rpartition("@")[2]))
