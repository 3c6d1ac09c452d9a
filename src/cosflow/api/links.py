"""Presigned links on the bare host (``http://127.0.0.1:<port>/<key>?q-sign…``), as the official
Python SDK makes them in the IP/Port configuration (README "Hand out a link to an output").

Such a URL names no bucket. Made with ``Headers={"Host": "<bucket>.cos.<region>.<domain>"}`` its
signature does, and :class:`BareHostLinks` finds that bucket: the link then does exactly what it
would with that Host header sent. Made without, it is signed over ``127.0.0.1`` and ``/<key>`` and
would fit that key in every bucket; it keeps its path-style reading (``/<bucket>/<key>``, so the
first segment of the key is taken as the bucket) and, when that bucket does not exist,
:func:`with_hint` says how to make a working one.

What a link that fits no bucket may cost is bounded (docs/design-choices.md, "Presigned links on
the bare host"): at most :data:`MAX_LINK_BUCKETS` buckets, one SHA1 and one HMAC per candidate
host, worked through in one of :data:`SEARCH_THREADS` threads off the event loop; a link that was
opened before is tried first against the host it fitted then.
"""

from __future__ import annotations

from collections import OrderedDict
from urllib.parse import unquote

from anyio import CapacityLimiter, to_thread
from starlette.requests import Request

from cosflow.api.auth import LinkCheck, Principal, is_presigned, link_check
from cosflow.api.routing import Router, Service, Style, Target
from cosflow.errors import NoSuchBucket
from cosflow.settings import Settings
from cosflow.wiring import Services

#: The most buckets whose hosts a link is checked against (each costs about 1-2 µs per domain):
#: past this, bare-host links are not resolved and must name their bucket in the path.
MAX_LINK_BUCKETS = 1000
#: How many searches run at once, each in its own worker thread: a flood of links that fit no bucket
#: waits on these and leaves the other worker threads (database, files) to everyone else.
SEARCH_THREADS = 2
#: How many opened links remember the host they fitted (a player's range requests reuse one link).
REMEMBERED_LINKS = 1024


def _bucket_hosts(settings: Settings, names: list[str]) -> list[str]:
    """The hosts the SDK signs for these buckets (``<bucket>.cos.<region>.<domain>``)."""
    return [f"{name}.cos.{settings.region}.{domain}" for name in names for domain in settings.domains]


def _first_fit(check: LinkCheck, hosts: list[str]) -> str | None:
    return next((host for host in hosts if check.fits(host)), None)


class BareHostLinks:
    """Finds the bucket a presigned bare-host link was signed for. One per app: it remembers,
    by signature, the host each recently opened link fitted."""

    def __init__(self, settings: Settings, router: Router) -> None:
        self._settings = settings
        self._router = router
        self._fitted: OrderedDict[str, str] = OrderedDict()
        self._limiter: CapacityLimiter | None = None  # made on first use, inside the event loop

    async def resolve(
        self, request: Request, services: Services, raw_path: str, target: Target
    ) -> tuple[Target, Principal] | None:
        """Where a presigned path-style request that failed to verify as sent really points, and
        who signed it: the bucket whose host its signature covers (see
        :func:`cosflow.api.auth.link_check`), or None. Raises as ``link_check`` does."""
        if target.style is not Style.PATH or target.service is not Service.COS or not is_presigned(request):
            return None
        check = link_check(request, self._settings, unquote(raw_path) or "/")
        if check is None:
            return None
        host = await self._find(check, services)
        if host is None:
            return None
        resolved = self._router.resolve(host, request.method, raw_path, request.query_params, request.headers)
        return resolved, check.principal

    async def _find(self, check: LinkCheck, services: Services) -> str | None:
        names = await services.buckets.names(MAX_LINK_BUCKETS + 1)
        if len(names) > MAX_LINK_BUCKETS:  # the same rule for links opened before
            return None
        remembered = self._fitted.get(check.presented)
        if remembered is not None and check.fits(remembered):
            self._fitted.move_to_end(check.presented)
            return remembered
        if self._limiter is None:
            self._limiter = CapacityLimiter(SEARCH_THREADS)
        hosts = _bucket_hosts(self._settings, names)
        host = await to_thread.run_sync(_first_fit, check, hosts, limiter=self._limiter)
        if host is not None:
            self._fitted[check.presented] = host
            if len(self._fitted) > REMEMBERED_LINKS:
                self._fitted.popitem(last=False)
        return host


def with_hint(exc: Exception, request: Request, settings: Settings, target: Target) -> Exception:
    """``exc`` with a Message saying how to make a working link, when it is the NoSuchBucket of a
    presigned path-style request for the bucket its path names (most likely a link from the SDK's
    IP/Port mode, made without the Host); otherwise ``exc`` as it is."""
    if not isinstance(exc, NoSuchBucket) or target.style is not Style.PATH or target.bucket is None:
        return exc
    if exc.resource not in (None, target.bucket) or not is_presigned(request):
        return exc
    example = next(iter(_bucket_hosts(settings, ["<bucket>"])), "<bucket host>")
    return NoSuchBucket(
        f"the bucket {target.bucket!r} does not exist. A link from get_presigned_url in the SDK's "
        f"IP/Port mode names no bucket (it signs 127.0.0.1 and /<key>): make it with Headers={{'Host': "
        f"'{example}'}} (README, 'Hand out a link to an output'), or sign /<bucket>/<key>",
        resource=target.bucket,
    )
