"""The one table from error classes to (COS code, HTTP status), and the COS ``<Error>`` body."""

from __future__ import annotations

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
    e.StorageError: ("InternalError", 500),
    e.ConfigError: ("InternalError", 500),
}


def code_and_status(exc: BaseException) -> tuple[str, int]:
    for cls in type(exc).__mro__:
        if cls in TABLE:
            return TABLE[cls]  # type: ignore[index]
    return "InternalError", 500


def error_response(
    exc: BaseException, *, resource: str, request_id: str, head: bool = False, service: str = "cos"
) -> Response:
    code, status = code_and_status(exc)
    message = exc.message if isinstance(exc, e.CosflowError) else "We encountered an internal error."
    if isinstance(exc, e.CosflowError) and exc.resource:
        resource = f"{resource} ({exc.resource})" if resource and exc.resource not in resource else resource
    headers = {
        f"x-{service}-request-id": request_id,
        "Server": f"tencent-{service}",
        "x-cos-trace-id": request_id,
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
