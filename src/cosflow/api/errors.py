"""The one table from error classes to (COS code, HTTP status), and the COS ``<Error>`` body."""

from __future__ import annotations

import logging

from starlette.responses import Response

from cosflow import errors as e
from cosflow.api import xmlio

#: Most specific class first is not needed: lookup walks each exception's MRO.
TABLE: dict[type[e.CosflowError], tuple[str, int]] = {
    e.InvalidArgument: ("InvalidArgument", 400),
    e.MalformedXML: ("MalformedXML", 400),
    e.EntityTooLarge: ("EntityTooLarge", 400),
    e.EntityTooSmall: ("EntityTooSmall", 400),
    e.IncompleteBody: ("IncompleteBody", 400),
    e.MissingContentLength: ("MissingContentLength", 411),
    e.InvalidDigest: ("InvalidDigest", 400),
    e.BadDigest: ("BadDigest", 400),
    e.InvalidBucketName: ("InvalidBucketName", 400),
    e.KeyTooLong: ("KeyTooLong", 400),
    e.InvalidURI: ("InvalidURI", 400),
    e.InvalidRange: ("InvalidRange", 416),
    e.PreconditionFailed: ("PreconditionFailed", 412),
    e.NotModified: ("NotModified", 304),
    e.MethodNotAllowed: ("MethodNotAllowed", 405),
    e.NotImplementedOperation: ("NotImplemented", 501),
    e.InvalidPart: ("InvalidPart", 400),
    e.InvalidPartOrder: ("InvalidPartOrder", 400),
    e.InvalidPolicyDocument: ("InvalidPolicyDocument", 400),
    e.AccessDenied: ("AccessDenied", 403),
    e.InvalidAccessKeyId: ("InvalidAccessKeyId", 403),
    e.SignatureDoesNotMatch: ("SignatureDoesNotMatch", 403),
    e.NoSuchBucket: ("NoSuchBucket", 404),
    e.NoSuchKey: ("NoSuchKey", 404),
    e.NoSuchUpload: ("NoSuchUpload", 404),
    e.ResourceNotFound: ("ResourceNotFound", 400),
    e.BucketAlreadyExists: ("BucketAlreadyExists", 409),
    e.BucketNotEmpty: ("BucketNotEmpty", 409),
    e.InsufficientStorage: ("ServiceUnavailable", 503),  # retried by the SDKs: docs/design-choices.md
    e.StorageError: ("InternalError", 500),
    e.ConfigError: ("InternalError", 500),
}


#: Headers an error class adds: a full disk says when to try again (seconds).
EXTRA_HEADERS: dict[type[e.CosflowError], dict[str, str]] = {
    e.InsufficientStorage: {"Retry-After": "5"},
}

log = logging.getLogger(__name__)

#: The only Message a 500 carries: its exception text (paths, errno numbers) stays in the server log.
INTERNAL_MESSAGE = "We encountered an internal error. Please try again."


def code_and_status(exc: BaseException) -> tuple[str, int]:
    for cls in type(exc).__mro__:
        if cls in TABLE:
            return TABLE[cls]  # type: ignore[index]
    return "InternalError", 500


def public_message(exc: BaseException) -> str:
    """The ``Message`` a client sees: a refusal's own words; for a 500 (a storage failure, a bug)
    only :data:`INTERNAL_MESSAGE` (the detail goes to the log: :func:`log_internal`)."""
    _, status = code_and_status(exc)
    if status != 500 and isinstance(exc, e.CosflowError):
        return exc.message
    return INTERNAL_MESSAGE


def log_internal(exc: BaseException, request_id: str, **context: str) -> None:
    """Log a fault answered 500, with its traceback and ``request_id`` (a 503 as a warning with its
    cause): once, where it is answered
    (the request's handler in api/app.py, or a per-key result of a multi-object delete)."""
    status = code_and_status(exc)[1]
    if status == 500:
        log.error("internal error", exc_info=exc, extra={"request_id": request_id, **context})
    elif status == 503:  # e.g. a full disk: the operator has to act; the cause names the OS error
        cause = f" (from {type(exc.__cause__).__name__}: {exc.__cause__})" if exc.__cause__ is not None else ""
        detail = f"{type(exc).__name__}: {exc}{cause}"
        log.warning("service unavailable", extra={"request_id": request_id, "detail": detail, **context})


def error_response(
    exc: BaseException, *, resource: str, request_id: str, head: bool = False, service: str = "cos"
) -> Response:
    code, status = code_and_status(exc)
    message = public_message(exc)
    if isinstance(exc, e.CosflowError) and exc.resource:
        resource = f"{resource} ({exc.resource})" if resource and exc.resource not in resource else resource
    headers = {
        f"x-{service}-request-id": request_id,
        "Server": f"tencent-{service}",
        "x-cos-trace-id": request_id,
        **EXTRA_HEADERS.get(type(exc), {}),  # type: ignore[call-overload]
    }
    if status == 304 or head:
        return Response(status_code=status, headers=headers)
    body = xmlio.render(
        "Error",
        {
            "Code": code,
            "Message": message,
            "Resource": resource or "/",
            "RequestId": request_id,
            "TraceId": request_id,
        },
    )
    return Response(body, status_code=status, headers=headers, media_type="application/xml")
