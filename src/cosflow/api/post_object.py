"""POST Object: browser form uploads authorised by a signed policy (spec §2.5)."""

from __future__ import annotations

import time
from urllib.parse import quote, urlencode

from starlette.responses import RedirectResponse, Response

from cosflow.api import headers as hdr
from cosflow.api import xmlio
from cosflow.api.context import Call
from cosflow.api.form_stream import FormStream
from cosflow.domain import post_policy, qsign, times
from cosflow.domain.numbers import plain_uint
from cosflow.errors import (
    AccessDenied,
    InvalidAccessKeyId,
    InvalidArgument,
    RequestExpired,
    SignatureDoesNotMatch,
)

_STATUSES = {"200": 200, "201": 201, "204": 204}


def _authorise(call: Call, fields: dict[str, str]) -> post_policy.Policy:
    """The form's policy, once its signature and time window are checked (its conditions are
    checked next)."""
    if not fields.get("policy"):
        raise AccessDenied("form uploads need a signed policy; anonymous writes are not allowed")
    secret_id = fields.get("q-ak", "")
    keys = {pair.secret_id: pair.secret_key for pair in call.services.settings.credentials}
    if secret_id not in keys:
        raise InvalidAccessKeyId(resource=secret_id or "q-ak")
    key_time = fields.get("q-key-time") or fields.get("q-sign-time", "")
    text_start, _, text_end = key_time.partition(";")
    start, end = plain_uint(text_start), plain_uint(text_end)
    if start is None or end is None:
        raise AccessDenied("q-key-time must be '<start>;<end>'")
    now = int(time.time())
    if now > end:
        raise RequestExpired()
    if now < start - call.services.settings.clock_skew_seconds:
        raise AccessDenied("q-key-time starts in the future")
    policy = post_policy.decode(fields["policy"])
    expected = qsign.post_policy_signature(keys[secret_id], key_time, policy.raw)
    if not qsign.signatures_match(expected, fields.get("q-signature", "").lower()):
        raise SignatureDoesNotMatch("the q-signature does not match the policy")
    return policy


async def post_object(call: Call) -> Response:
    """Fields first, then the policy and its signature are checked, and only then is the file
    part read, straight into its blob: an unauthorised form never gets its file stored anywhere."""
    fields, upload = await FormStream(call.request).fields()
    fields.setdefault("q-sign-time", fields.get("q-key-time", ""))
    policy = _authorise(call, fields)
    key = fields.get("key", "").replace("${filename}", upload.filename)
    if not key:
        raise InvalidArgument("the form has no key field", resource="key")
    fields["key"], fields["bucket"] = key, call.bucket
    post_policy.check(policy, fields, None, times.now())
    form_headers = {k: v for k, v in fields.items() if k in hdr.KEPT or k.startswith("x-cos-meta-")}
    form_headers["content-type"] = fields.get("content-type") or upload.content_type
    obj = await call.services.objects.put(
        call.bucket,
        key,
        upload.chunks,
        hdr.attrs_from(form_headers),
        content_length=None,
        content_md5=None,
        size_range=post_policy.length_range(policy),
    )
    return _success(call, fields, key, obj.etag)


def _success(call: Call, fields: dict[str, str], key: str, etag: str) -> Response:
    location = f"http://{call.bucket_host()}/{quote(key)}"
    if fields.get("success_action_redirect"):
        query = urlencode({"bucket": call.bucket, "key": key, "etag": hdr.quoted(etag)})
        return RedirectResponse(f"{fields['success_action_redirect']}?{query}", status_code=303)
    status = _STATUSES.get(fields.get("success_action_status", ""), 204)
    headers = {"ETag": hdr.quoted(etag), "Location": location}
    if status == 201:
        body = xmlio.render(
            "PostResponse", {"Location": location, "Bucket": call.bucket, "Key": key, "ETag": hdr.quoted(etag)}
        )
        return Response(body, status_code=201, headers=headers, media_type="application/xml")
    return Response(status_code=status, headers=headers)
