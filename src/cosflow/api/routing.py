"""Where a request goes: which service (COS object API or CI API), which bucket, which key.

Rules (design.md "Routing"):
- Host ``<bucket>-<appid>.ci.<region>.<domain>`` → CI API.
- Host ``<bucket>-<appid>.cos.<region>.<domain>`` (or ``.pic.``) → object API, except requests that
  match a CI operation exactly (the official SDK sends CI calls with the ``.cos.`` host in IP/Port
  mode). The CI operations are one table, ``ci_table.CI_ROUTES``.
- Host ``ci.<region>.<domain>`` → CI with no bucket (``/mediabucket``, ``/dataset``...).
- Any other host (``127.0.0.1:8080``) → path-style ``/<bucket>/<key>``; ``/`` is GET Service. The
  same CI table applies inside the bucket (``/<bucket>/<key>?imageInfo``), and a first segment that
  is a bucket-less CI resource (``/mediabucket``: never a bucket name) is CI with no bucket, unless
  the request is presigned (a link to an object, matched to its bucket by api/links.py).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from enum import StrEnum
from urllib.parse import unquote, unquote_to_bytes

from cosflow.api.ci_routes import CiRoute, Host, Kind
from cosflow.api.ci_table import CI_ROUTES, match_ci
from cosflow.errors import InvalidURI

__all__ = ["CI_ROUTES", "CiRoute", "Router", "Service", "Style", "Target", "match_ci"]

#: The bucket part is taken as sent (any case, any shape) so that a bad name gets InvalidBucketName
#: from the bucket rules rather than falling through to path-style routing.
_HOST = r"^(?P<bucket>[^./:]+)\.(?P<svc>cos|ci|pic)\.(?P<region>[a-z0-9-]+)\.(?:{domains})(?::\d+)?$"
_CI_SERVICE_HOST = r"^ci\.(?P<region>[a-z0-9-]+)\.(?:{domains})(?::\d+)?$"


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
    #: For CI: the operation (None on a ``.ci.`` host when nothing matched) and the path inside
    #: the bucket it was matched on.
    ci: CiRoute | None = None
    ci_path: str = "/"

    @property
    def resource(self) -> str:
        if self.bucket is None:
            return "/"
        return f"{self.bucket}/{self.key}" if self.key else self.bucket


class Router:
    def __init__(self, domains: tuple[str, ...]) -> None:
        pattern = "|".join(re.escape(d) for d in domains) or r"(?!x)x"
        self._host = re.compile(_HOST.format(domains=pattern), re.IGNORECASE)
        self._ci_service = re.compile(_CI_SERVICE_HOST.format(domains=pattern), re.IGNORECASE)

    def resolve(
        self,
        host: str,
        method: str,
        raw_path: str,
        query: Mapping[str, str],
        headers: Mapping[str, str] | None = None,
    ) -> Target:
        """Where a request goes. ``headers`` matter only for ``Pic-Operations`` (a CI operation on
        any object request) and, for a write to a reserved path with a badly shaped id, an XML
        ``Content-Type`` (``ci_routes``; docs/design-choices.md "Routing")."""
        path = unquote(raw_path) or "/"
        found = self._host.match(host)
        if found is None:
            if self._ci_service.match(host):
                route = match_ci(method, path, query, headers, host=Host.SERVICE)
                return Target(Service.CI, Style.VIRTUAL, None, None, (path,), route, path)
            return self._bare(method, path, raw_path, query, headers)
        bucket = found["bucket"]
        on_ci_host = found["svc"].lower() == "ci"
        route = match_ci(method, path, query, headers, host=Host.CI if on_ci_host else Host.OBJECT)
        if on_ci_host or route is not None:
            return Target(Service.CI, Style.VIRTUAL, bucket, _ci_key(route, path), (path,), route, path)
        key = path[1:] or None
        return Target(Service.COS, Style.VIRTUAL, bucket, key, (path,))

    def _bare(
        self, method: str, path: str, raw_path: str, query: Mapping[str, str], headers: Mapping[str, str] | None
    ) -> Target:
        """Path style: a bucket-less CI resource first, else the CI table inside the bucket. A
        presigned request (signature in the query) is a link to an object, never a bucket-less CI
        call: ``/playKey?q-signature=…`` is the key ``playKey`` of the bucket api/links.py finds."""
        presigned = bool(query) and any(k.lower() == "q-signature" for k in query)
        service = None if presigned else match_ci(method, path, query, headers, host=Host.SERVICE)
        if service is not None:
            return Target(Service.CI, Style.PATH, None, None, (path,), service, path)
        target = self._path_style(path, raw_path)
        if target.service is not Service.COS:
            return target
        inner = "/" + (target.key or "") if target.bucket is not None else "/"
        route = match_ci(method, inner, query, headers, host=Host.OBJECT)
        if route is None:
            return target
        return replace(target, service=Service.CI, key=_ci_key(route, inner), ci=route, ci_path=inner)

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


def _ci_key(route: CiRoute | None, path: str) -> str | None:
    """The object a CI operation acts on (``GET <key>?imageInfo``), None for reserved paths."""
    if route is None or route.kind is Kind.PATH or path == "/":
        return None
    return path[1:]


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
