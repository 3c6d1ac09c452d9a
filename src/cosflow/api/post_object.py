"""POST Object: browser form uploads authorised by a signed policy (spec §2.5)."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from urllib.parse import quote, urlencode

from starlette.datastructures import FormData, UploadFile
from starlette.formparsers import MultiPartException
from starlette.responses import RedirectResponse, Response

from cosflow.api import headers as hdr
from cosflow.api import xmlio
from cosflow.api.context import Call
from cosflow.domain import post_policy, qsign, times
from cosflow.errors import (
    AccessDenied,
    EntityTooLarge,
    InvalidAccessKeyId,
    InvalidArgument,
    MissingContentLength,
    RequestExpired,
    SignatureDoesNotMatch,
)

_UPLOAD_CHUNK = 1024 * 1024
_STATUSES = {"200": 200, "201": 201, "204": 204}


async def _chunks(upload: UploadFile) -> AsyncIterator[bytes]:
    while chunk := await upload.read(_UPLOAD_CHUNK):
        yield chunk


def _authorise(call: Call, fields: dict[str, str]) -> None:
    """Check the policy's signature and time window; conditions are checked once the size is known."""
    if not fields.get("policy"):
        raise AccessDenied("form uploads need a signed policy; anonymous writes are not allowed")
    secret_id = fields.get("q-ak", "")
    keys = {pair.secret_id: pair.secret_key for pair in call.services.settings.credentials}
    if secret_id not in keys:
        raise InvalidAccessKeyId(resource=secret_id or "q-ak")
    key_time = fields.get("q-key-time") or fields.get("q-sign-time", "")
    start, _, end = key_time.partition(";")
    if not (start.isdigit() and end.isdigit()):
        raise AccessDenied("q-key-time must be '<start>;<end>'")
    now = int(time.time())
    if now > int(end):
        raise RequestExpired()
    if now < int(start) - call.services.settings.clock_skew_seconds:
        raise AccessDenied("q-key-time starts in the future")
    policy = post_policy.decode(fields["policy"])
    expected = qsign.post_policy_signature(keys[secret_id], key_time, policy.raw)
    if not qsign.signatures_match(expected, fields.get("q-signature", "").lower()):
        raise SignatureDoesNotMatch("the q-signature does not match the policy")


#: Room for the form's other fields around the file.
_FORM_OVERHEAD = 1024 * 1024


async def _read_form(call: Call) -> FormData:
    """Parse the form, bounded: the Content-Length is required and capped before anything is read
    (the policy that authorises the upload is inside the body)."""
    length = call.content_length()
    if length is None:
        raise MissingContentLength("form uploads need a Content-Length")
    if length > call.services.settings.max_object_bytes + _FORM_OVERHEAD:
        raise EntityTooLarge(f"form uploads are at most {call.services.settings.max_object_bytes} bytes")
    try:
        return await call.request.form(max_files=1, max_fields=200)
    except MultiPartException as exc:
        raise InvalidArgument(f"the multipart/form-data body is malformed: {exc.message}") from exc


async def post_object(call: Call) -> Response:
    form = await _read_form(call)
    try:
        upload = form.get("file")
        if not isinstance(upload, UploadFile):
            raise InvalidArgument("the form has no file field", resource="file")
        fields = {k.lower(): v for k, v in form.multi_items() if isinstance(v, str)}
        fields.setdefault("q-sign-time", fields.get("q-key-time", ""))
        _authorise(call, fields)
        key = fields.get("key", "").replace("${filename}", upload.filename or "")
        if not key:
            raise InvalidArgument("the form has no key field", resource="key")
        fields["key"], fields["bucket"] = key, call.bucket
        size = upload.size if upload.size is not None else 0
        sent = [name for name, value in form.multi_items() if isinstance(value, str)]
        post_policy.check(post_policy.decode(fields["policy"]), fields, size, times.now(), sent)
        form_headers = {k: v for k, v in fields.items() if k in hdr.KEPT or k.startswith("x-cos-meta-")}
        form_headers["content-type"] = fields.get("content-type") or (upload.content_type or "")
        obj = await call.services.objects.put(
            call.bucket,
            key,
            _chunks(upload),
            hdr.attrs_from(form_headers),
            content_length=size,
            content_md5=None,
        )
    finally:
        await form.close()
    location = f"http://{call.bucket_host()}/{quote(key)}"
    if fields.get("success_action_redirect"):
        query = urlencode({"bucket": call.bucket, "key": key, "etag": hdr.quoted(obj.etag)})
        return RedirectResponse(f"{fields['success_action_redirect']}?{query}", status_code=303)
    status = _STATUSES.get(fields.get("success_action_status", ""), 204)
    headers = {"ETag": hdr.quoted(obj.etag), "Location": location}
    if status == 201:
        body = xmlio.render(
            "PostResponse", {"Location": location, "Bucket": call.bucket, "Key": key, "ETag": hdr.quoted(obj.etag)}
        )
        return Response(body, status_code=201, headers=headers, media_type="application/xml")
    return Response(status_code=status, headers=headers)
