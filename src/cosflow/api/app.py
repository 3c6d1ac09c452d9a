"""The ASGI application: one dispatch table from (method, target, subresource) to a handler."""

from __future__ import annotations

import logging
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from cosflow.api import buckets, callbacks_api, ci, links, multipart, objects, post_object
from cosflow.api.auth import Principal, authenticate, require_signed
from cosflow.api.context import Call, Handler
from cosflow.api.errors import error_response, log_internal
from cosflow.api.expect import CloseUnreadContinue
from cosflow.api.routing import CI_ROUTES, Router, Service, Style, Target, check_uri
from cosflow.errors import (
    AccessDenied,
    CosflowError,
    MethodNotAllowed,
    NotImplementedOperation,
    SignatureDoesNotMatch,
)
from cosflow.ids import request_id
from cosflow.media.base import Registry
from cosflow.settings import Settings
from cosflow.wiring import Services, build_services

log = logging.getLogger(__name__)

#: Query parameters that select an operation, in precedence order (case-insensitive).
SUBRESOURCES = ("uploadid", "uploads", "delete", "acl")
#: COS sub-resources cosflow does not implement: answered 501 instead of being mistaken for data.
UNSUPPORTED = frozenset(
    [
        "cors",
        "lifecycle",
        "policy",
        "tagging",
        "versioning",
        "website",
        "logging",
        "replication",
        "inventory",
        "referer",
        "encryption",
        "domain",
        "origin",
        "intelligenttiering",
        "restore",
        "select",
        "append",
        "versions",
        "location",
        "accelerate",
        "object-lock",
        "retention",
        "symlink",
        "notification",
        "torrent",
        # Sent by the official SDKs (cos_client.py, COSClient.java) and unknown to cosflow: without
        # these a DELETE /?domaincertificate would delete the bucket, a PUT <key>?live store an object.
        "domaincertificate",
        "response-control",
        "intelligent-tiering",
        "live",
        "vod",
        "rename",
        "decompression",
    ]
)

#: Query parameters that choose what a COS request does: a signature must cover them
#: (api/auth.py ``require_signed``; docs/design-choices.md "Signature scope").
SIGNED_SELECTORS = frozenset([*SUBRESOURCES, "partnumber", "versionid", *UNSUPPORTED])
#: The same for CI requests: the parameters that make a path a CI operation (``ci_table.CI_ROUTES``) and the
#: workflow state switches. ``cancel``, ``active`` and ``paused`` are sent unsigned by official SDKs
#: (spec §1.2; cos-java-sdk-v5 ``COSSigner``) and pass unsigned in the Authorization-header form.
CI_SELECTORS = frozenset({"active", "paused"}.union(*(route.lower.query | route.lower.shape for route in CI_ROUTES)))
CI_HEADER_FORM_UNSIGNED = frozenset({"cancel", "active", "paused"})


def not_implemented(operation: str) -> Handler:
    """The handler of a COS operation cosflow routes but lacks: 501 ``NotImplemented`` naming it,
    as for the CI operations (``api/ci.py``), instead of a 405 that reads as if the method were wrong."""

    async def refuse(call: Call) -> Response:
        raise NotImplementedOperation(f"the COS operation {operation} is not implemented by cosflow")

    return refuse


ROUTES: dict[tuple[str, str, str | None], Handler] = {
    ("GET", "service", None): buckets.list_buckets,
    ("PUT", "bucket", None): buckets.put_bucket,
    ("HEAD", "bucket", None): buckets.head_bucket,
    ("DELETE", "bucket", None): buckets.delete_bucket,
    ("GET", "bucket", None): buckets.list_objects,
    ("PUT", "bucket", "acl"): buckets.put_bucket_acl,
    ("GET", "bucket", "acl"): buckets.get_bucket_acl,
    ("GET", "bucket", "uploads"): multipart.list_uploads,
    ("POST", "bucket", "delete"): buckets.delete_objects,
    ("POST", "bucket", None): post_object.post_object,
    ("PUT", "object", None): objects.put_object,
    ("GET", "object", None): objects.get_object,
    ("HEAD", "object", None): objects.get_object,
    ("DELETE", "object", None): objects.delete_object,
    ("POST", "object", "uploads"): multipart.initiate,
    ("PUT", "object", "uploadid"): multipart.upload_part,
    ("GET", "object", "uploadid"): multipart.list_parts,
    ("POST", "object", "uploadid"): multipart.complete,
    ("DELETE", "object", "uploadid"): multipart.abort,
    # Object ACLs come with issue 13; until then the SDK's put/get_object_acl learn that plainly.
    ("PUT", "object", "acl"): not_implemented("PutObjectACL (PUT <key>?acl)"),
    ("GET", "object", "acl"): not_implemented("GetObjectACL (GET <key>?acl)"),
}
#: How a MethodNotAllowed message names what the request addressed.
_ADDRESSED = {"service": "the service", "bucket": "a bucket", "object": "an object"}

#: Starlette lower-cases header names; COS sends these capitalised and SDK users index them so
#: (``response["ETag"]``). ``x-cos-*`` names stay lower-case, as COS sends them.
_CANONICAL = {
    name.lower().encode(): name.encode()
    for name in [
        "ETag",
        "Content-Type",
        "Content-Length",
        "Content-Range",
        "Last-Modified",
        "Accept-Ranges",
        "Cache-Control",
        "Content-Disposition",
        "Content-Encoding",
        "Content-Language",
        "Expires",
        "Location",
        "Server",
        "Date",
        "Connection",
    ]
}

#: What an anonymous caller may do on a public-read bucket.
ANONYMOUS_READS = {("GET", "object", None), ("HEAD", "object", None), ("GET", "bucket", None), ("HEAD", "bucket", None)}
#: Operations that carry their own authorisation (the signed form policy).
SELF_AUTHORISED = {("POST", "bucket", None)}


def _operation(request: Request, target: Target) -> tuple[str, str, str | None]:
    kind = "service" if target.bucket is None else ("object" if target.key else "bucket")
    names = {k.lower() for k in request.query_params}
    unsupported = names & UNSUPPORTED
    if unsupported:
        raise NotImplementedOperation(f"the ?{sorted(unsupported)[0]} sub-resource is not supported")
    sub = next((s for s in SUBRESOURCES if s in names), None)
    return request.method, kind, sub


async def _authorise(call: Call, operation: tuple[str, str, str | None]) -> None:
    if not call.principal.anonymous or operation in SELF_AUTHORISED:
        return
    if operation in ANONYMOUS_READS:
        bucket = await call.services.buckets.find(call.bucket)
        if bucket is not None and bucket.acl == "public-read":
            return
    raise AccessDenied("this request needs a signature (the bucket is private or the operation writes)")


class CosflowApp:
    """ASGI app. The lifespan builds the services; each request is routed, authenticated, run."""

    def __init__(self, settings: Settings, registry: Registry | None = None) -> None:
        self.settings = settings
        self.registry = registry
        self.router = Router(settings.domains)
        self.links = links.BareHostLinks(settings, self.router)
        self.services: Services | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
        elif scope["type"] == "http":
            response = await self.handle(Request(scope, receive))
            await response(scope, receive, send)

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                try:
                    self.services = build_services(self.settings, self.registry)
                    await self.services.start()
                except CosflowError as exc:  # an expected refusal: its message says it all
                    log.error("startup refused: %s", exc)
                    await self._abandon_start()
                    # No message: uvicorn would log it a second time; the line above says it.
                    await send({"type": "lifespan.startup.failed", "message": ""})
                    return
                except Exception as exc:  # reported to the server, which refuses to start
                    log.exception("startup failed")
                    await self._abandon_start()
                    await send({"type": "lifespan.startup.failed", "message": str(exc)})
                    return
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                if self.services is not None:
                    await self.services.stop()
                await send({"type": "lifespan.shutdown.complete"})
                return

    async def _abandon_start(self) -> None:
        """Stop whatever a failed start had begun (background loops, the data dir lock)."""
        services, self.services = self.services, None
        if services is not None:
            try:
                await services.stop()
            except Exception:
                log.exception("could not stop what the failed start had begun")

    async def handle(self, request: Request) -> Response:
        rid = request_id()
        host = request.headers.get("host", "")
        raw_path = request.scope.get("raw_path", b"").decode("latin-1").split("?", 1)[0] or request.url.path
        target = self.router.resolve(host, request.method, raw_path, request.query_params, request.headers)
        try:
            check_uri(request.scope.get("raw_path", b""), request.scope.get("query_string", b""))
            target, principal = await self._authenticate(request, raw_path, target)
            response = await self._run(request, rid, target, principal)
        except Exception as exc:  # a refusal, or a fault answered 500 and logged here, once
            log_internal(exc, rid, path=raw_path)
            response = self._error(links.with_hint(exc, request, self.settings, target), request, rid, target)
        service = "ci" if target.service is Service.CI else "cos"
        response.headers[f"x-{service}-request-id"] = rid
        response.headers["Server"] = f"tencent-{service}"
        response.raw_headers = [(_CANONICAL.get(name, name), value) for name, value in response.raw_headers]
        return response

    def _error(self, exc: BaseException, request: Request, rid: str, target: Target) -> Response:
        host = request.headers.get("host", "")
        resource = f"{host}/{target.key}" if target.key else f"{host}{request.url.path}"
        service = "ci" if target.service is Service.CI else "cos"
        return error_response(exc, resource=resource, request_id=rid, head=request.method == "HEAD", service=service)

    async def _authenticate(self, request: Request, raw_path: str, target: Target) -> tuple[Target, Principal]:
        """The caller, and the target a presigned link on the bare host points to (api/links.py)."""
        assert self.services is not None, "the lifespan has not started the services"
        try:
            principal = authenticate(
                request, self.settings, target.signed_paths, bucket_in_host=target.style is Style.VIRTUAL
            )
        except SignatureDoesNotMatch:
            linked = await self.links.resolve(request, self.services, raw_path, target)
            if linked is None:
                raise
            return linked
        return target, principal

    async def _run(self, request: Request, rid: str, target: Target, principal: Principal) -> Response:
        assert self.services is not None, "the lifespan has not started the services"
        call = Call(request, rid, target, principal, self.services)
        if target.service is Service.CI:
            # An operation cosflow lacks says so to anyone; one it has needs a signature.
            if principal.anonymous and ci.implemented(call):
                raise AccessDenied("CI requests need a signature")
            require_signed(request, principal, CI_SELECTORS, CI_HEADER_FORM_UNSIGNED)
            return await ci.dispatch(call)
        if target.service is Service.API:
            return await callbacks_api.handle(call)
        operation = _operation(request, target)
        require_signed(request, principal, SIGNED_SELECTORS)
        handler = ROUTES.get(operation)
        if handler is None:
            method, kind, sub = operation
            named = next((f" ?{name}" for name in request.query_params if name.lower() == sub), "")
            raise MethodNotAllowed(f"{method}{named} is not allowed on {_ADDRESSED[kind]}")
        await _authorise(call, operation)
        return await handler(call)


def create_app(settings: Settings, registry: Registry | None = None) -> Any:
    """The ASGI app; ``registry`` (node Type -> processor) defaults to the production processors.
    A refused ``Expect: 100-continue`` request closes its connection (``api/expect.py``)."""
    return CloseUnreadContinue(CosflowApp(settings, registry))
