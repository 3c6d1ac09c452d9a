"""Presigned links on the bare host (``http://127.0.0.1:<port>/<key>?q-sign…``), as the official
Python SDK makes them in the IP/Port configuration (README "Hand out a link to an output").

Such a URL names no bucket. Made with ``Headers={"Host": "<bucket>.cos.<region>.<domain>"}`` its
signature does, and :func:`linked_target` finds that bucket: the link then does exactly what it
would with that Host header sent. Made without, it is signed over ``127.0.0.1`` and ``/<key>`` and
would fit that key in every bucket; it keeps its path-style reading (``/<bucket>/<key>``, so the
first segment of the key is taken as the bucket) and, when that bucket does not exist,
:func:`with_hint` says how to make a working one.
"""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import unquote

from starlette.requests import Request

from cosflow.api.auth import Principal, authenticate_link, is_presigned
from cosflow.api.routing import Router, Service, Style, Target
from cosflow.errors import NoSuchBucket
from cosflow.settings import Settings
from cosflow.wiring import Services

#: The most buckets whose hosts a link is checked against (about 7 µs each per domain): past this,
#: bare-host links are not resolved and must name their bucket in the path.
MAX_LINK_BUCKETS = 1000


def _bucket_hosts(settings: Settings, names: list[str]) -> Iterator[str]:
    """The hosts the SDK signs for these buckets (``<bucket>.cos.<region>.<domain>``)."""
    for name in names:
        for domain in settings.domains:
            yield f"{name}.cos.{settings.region}.{domain}"


async def linked_target(
    request: Request, settings: Settings, router: Router, services: Services, raw_path: str, target: Target
) -> tuple[Target, Principal] | None:
    """Where a presigned path-style request that failed to verify as sent really points, and who
    signed it: the bucket whose host its signature covers (see
    :func:`cosflow.api.auth.authenticate_link`), or None."""
    if target.style is not Style.PATH or target.service is not Service.COS or not is_presigned(request):
        return None
    buckets = await services.buckets.list()
    if len(buckets) > MAX_LINK_BUCKETS:
        return None
    hosts = _bucket_hosts(settings, [bucket.name for bucket in buckets])
    found = authenticate_link(request, settings, hosts, unquote(raw_path) or "/")
    if found is None:
        return None
    host, principal = found
    return router.resolve(host, request.method, raw_path, request.query_params, request.headers), principal


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
