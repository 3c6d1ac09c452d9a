"""Route families: for each, a valid request built from the state the run set up (buckets, objects,
an upload, templates, workflows, queues, a run), as the SDK would send it.

Valid CI bodies are the ones the tests already send: workflows from
``tests.support.workflows.workflow_body``, templates recorded from ``tests.support.templates``,
queue updates shaped like ``tests/e2e/test_templates_queues.py``; each is laid out as XML by the
SDK's own ``format_xml`` (root ``Request``), as its ``ci_*`` methods do.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from hypothesis import strategies as st
from qcloud_cos.cos_comm import format_xml

from cosflow.api.ci import HANDLERS
from cosflow.api.ci_routes import Kind
from cosflow.api.ci_table import CI_ROUTES, PROCESSING_VERBS
from tests.fuzz.mutations import Draw, range_value
from tests.support.server import REGION, SECRET_ID, SECRET_KEY

DOMAIN = "myqcloud.com"


def xml(data: dict[str, Any], root: str = "Request") -> bytes:
    return format_xml(data=data, root=root)  # type: ignore[no-any-return]


@dataclass
class State:
    """What the run set up, by the SDK, before the first fuzz request."""

    bucket: str
    public_bucket: str
    acl_bucket: str
    keys: list[str]
    upload_key: str
    upload_ids: list[str]
    part_etag: str
    templates: dict[str, dict[str, Any]]  # Tag -> the SDK's Template argument
    template_ids: list[str]
    workflows: list[dict[str, Any]]  # the SDK's Body argument
    workflow_ids: list[str]
    queue_id: str
    pic_queue_id: str
    run_ids: list[str]
    appid: str
    victims: dict[str, list[str]] = field(default_factory=dict)


@dataclass
class Spec:
    """A valid request of one family, before its mutations and its signature."""

    family: str
    method: str
    bucket: str | None = None
    key: str | None = None  # percent-encoded object key; None: a bucket, service or CI path
    path: str = "/"  # the path when ``key`` is None (CI resources, /api/...)
    query: list[tuple[str, str | None]] = field(default_factory=list)
    headers: list[tuple[str, bytes]] = field(default_factory=list)
    body: bytes = b""
    body_kind: str = "none"  # "xml", "bytes", "form" or "none"
    host: str = "cos"  # "cos" (object host), "ci" (a .ci. host) or "bare" (127.0.0.1)
    sign: str = "header"
    header_names: tuple[str, ...] = ()
    query_names: tuple[str, ...] = ()
    labels: tuple[str, ...] = ()  # what the builder itself changed from the valid request


Builder = Callable[[Draw, State], Spec]

_READ_HEADERS = ("Range", "If-Match", "If-None-Match", "If-Modified-Since", "If-Unmodified-Since")
_RESPONSE = tuple(
    f"response-{n}"
    for n in ("content-type", "content-disposition", "cache-control", "expires", "content-language", "content-encoding")
)
_WRITE_HEADERS = (
    "Content-Type", "Content-MD5", "Content-Disposition", "Content-Encoding", "Cache-Control", "Expires",
    "x-cos-meta-fuzz", "x-cos-acl", "x-cos-storage-class", "x-cos-traffic-limit", "x-cos-forbid-overwrite",
    "x-cos-tagging", "x-cos-content-sha1", "Expect", "Pic-Operations",
)  # fmt: skip
_COPY_HEADERS = (
    "x-cos-copy-source-range", "x-cos-metadata-directive", "x-cos-copy-source-If-Modified-Since",
    "x-cos-copy-source-If-Match", "x-cos-meta-fuzz",
)  # fmt: skip
_LIST_QUERY = ("prefix", "delimiter", "marker", "max-keys", "encoding-type")
_PAGE = ("pageNumber", "pageSize")


def _pick(draw: Draw, items: list[str]) -> str:
    return draw(st.sampled_from(items))  # type: ignore[no-any-return]


def _new_key(draw: Draw) -> str:
    return "fuzz/" + draw(st.text("abcdefghij0123456789", min_size=1, max_size=8))


def _hex_id(draw: Draw, prefix: str) -> str:
    return prefix + draw(st.text("0123456789abcdef", min_size=32, max_size=32))


def _named(draw: Draw, data: dict[str, Any]) -> bytes:
    """``data`` as XML, its ``Name`` (at the top or under ``MediaWorkflow``) made unique."""
    suffix = "-" + draw(st.text("abcdefghij0123456789", min_size=4, max_size=8))
    if "MediaWorkflow" in data:
        data = {**data, "MediaWorkflow": {**data["MediaWorkflow"], "Name": data["MediaWorkflow"]["Name"] + suffix}}
    else:
        data = {**data, "Name": data["Name"] + suffix}
    return xml(data)


def _some(draw: Draw, items: list[str], prefix: str) -> str:
    """One of ``items`` (usually) or a well-shaped id of nothing."""
    return _pick(draw, items) if items and draw(st.booleans()) else _hex_id(draw, prefix)


# --- objects -------------------------------------------------------------------------------------


def object_put(draw: Draw, s: State) -> Spec:
    body = draw(st.binary(max_size=64) | st.sampled_from([b"x" * 70000, b""]))
    return Spec(
        "object.put", "PUT", s.bucket, _new_key(draw), body=body, body_kind="bytes", header_names=_WRITE_HEADERS
    )


def _ranged(draw: Draw) -> tuple[list[tuple[str, bytes]], tuple[str, ...]]:
    """Half the reads carry a drawn Range (valid or hostile), as range reads are most of a CDN's."""
    if not draw(st.booleans()):
        return [], ()
    label, value = range_value(draw)
    return [("Range", value)], (f"header:Range:{label}",)


def object_get(draw: Draw, s: State) -> Spec:
    headers, labels = _ranged(draw)
    return Spec(
        "object.get", "GET", s.bucket, _pick(draw, s.keys), headers=headers, labels=labels,
        header_names=_READ_HEADERS, query_names=_RESPONSE,
    )  # fmt: skip


def object_head(draw: Draw, s: State) -> Spec:
    headers, labels = _ranged(draw)
    return Spec(
        "object.head", "HEAD", s.bucket, _pick(draw, s.keys), headers=headers, labels=labels,
        header_names=_READ_HEADERS, query_names=_RESPONSE,
    )  # fmt: skip


def object_delete(draw: Draw, s: State) -> Spec:
    return Spec("object.delete", "DELETE", s.bucket, _new_key(draw), header_names=("If-Match",))


def object_copy(draw: Draw, s: State) -> Spec:
    source = f"{s.bucket}.cos.{REGION}.{DOMAIN}/{_pick(draw, s.keys)}".encode()
    return Spec(
        "object.copy",
        "PUT",
        s.bucket,
        _new_key(draw),
        headers=[("x-cos-copy-source", source)],
        header_names=("x-cos-copy-source", *_COPY_HEADERS),
    )


def object_anonymous_get(draw: Draw, s: State) -> Spec:
    method = _pick(draw, ["GET", "HEAD"])
    return Spec(
        "object.anonymous-read",
        method,
        s.public_bucket,
        "public.txt",
        sign="none",
        header_names=_READ_HEADERS,
        query_names=_RESPONSE,
    )


def object_presigned(draw: Draw, s: State) -> Spec:
    method = _pick(draw, ["GET", "PUT"])
    key = _pick(draw, s.keys) if method == "GET" else _new_key(draw)
    body = b"presigned" if method == "PUT" else b""
    return Spec(
        f"object.presigned-{method.lower()}",
        method,
        s.bucket,
        key,
        body=body,
        body_kind="bytes" if body else "none",
        sign="query",
        query_names=_RESPONSE,
    )


def object_unsupported(draw: Draw, s: State) -> Spec:
    sub = _pick(draw, ["tagging", "versioning", "cors", "lifecycle", "policy", "restore", "select", "append"])
    return Spec(
        "object.sub-resource", _pick(draw, ["GET", "PUT", "POST"]), s.bucket, _pick(draw, s.keys), query=[(sub, None)]
    )


def object_odd_method(draw: Draw, s: State) -> Spec:
    method = _pick(draw, ["PATCH", "OPTIONS", "PROPFIND", "TRACE", "MKCOL", "FUZZ"])
    return Spec("object.odd-method", method, s.bucket, _pick(draw, s.keys))


# --- multipart -----------------------------------------------------------------------------------


def multipart_initiate(draw: Draw, s: State) -> Spec:
    return Spec(
        "multipart.initiate", "POST", s.bucket, _new_key(draw), query=[("uploads", None)], header_names=_WRITE_HEADERS
    )


def multipart_part(draw: Draw, s: State) -> Spec:
    return Spec(
        "multipart.upload-part",
        "PUT",
        s.bucket,
        s.upload_key,
        query=[("partNumber", str(draw(st.integers(1, 3)))), ("uploadId", _pick(draw, s.upload_ids))],
        body=draw(st.binary(max_size=32)),
        body_kind="bytes",
        header_names=("Content-MD5", "x-cos-content-sha1", "Expect", "x-cos-traffic-limit"),
        query_names=("partNumber", "uploadId"),
    )


def multipart_complete(draw: Draw, s: State) -> Spec:
    body = xml({"Part": [{"PartNumber": "1", "ETag": s.part_etag}]}, root="CompleteMultipartUpload")
    return Spec(
        "multipart.complete",
        "POST",
        s.bucket,
        s.upload_key,
        query=[("uploadId", _pick(draw, s.upload_ids))],
        body=body,
        body_kind="xml",
        query_names=("uploadId",),
    )


def multipart_list_parts(draw: Draw, s: State) -> Spec:
    return Spec(
        "multipart.list-parts",
        "GET",
        s.bucket,
        s.upload_key,
        query=[("uploadId", _pick(draw, s.upload_ids))],
        query_names=("max-parts", "part-number-marker", "encoding-type", "uploadId"),
    )


def multipart_abort(draw: Draw, s: State) -> Spec:
    upload = _some(draw, s.victims.get("uploads", []), "")
    return Spec("multipart.abort", "DELETE", s.bucket, s.upload_key, query=[("uploadId", upload)])


def multipart_list_uploads(draw: Draw, s: State) -> Spec:
    return Spec(
        "multipart.list-uploads",
        "GET",
        s.bucket,
        query=[("uploads", None)],
        query_names=("prefix", "delimiter", "key-marker", "upload-id-marker", "max-uploads", "encoding-type"),
    )


# --- buckets and the service ----------------------------------------------------------------------


def bucket_multi_delete(draw: Draw, s: State) -> Spec:
    keys = [{"Key": _new_key(draw)} for _ in range(draw(st.integers(1, 3)))]
    body = xml({"Object": keys, "Quiet": _pick(draw, ["true", "false"])}, root="Delete")
    return Spec(
        "bucket.multi-delete",
        "POST",
        s.bucket,
        query=[("delete", None)],
        body=body,
        body_kind="xml",
        header_names=("Content-MD5",),
    )


def bucket_list(draw: Draw, s: State) -> Spec:
    return Spec("bucket.list-objects", "GET", s.bucket, query_names=_LIST_QUERY)


def bucket_head(draw: Draw, s: State) -> Spec:
    return Spec("bucket.head", "HEAD", _pick(draw, [s.bucket, s.public_bucket, f"missing-{s.appid}"]))


def _bucket_name(draw: Draw, s: State) -> str:
    shape = draw(st.sampled_from(["ok", "upper", "long", "no-appid", "unicode", "dots"]))
    base = "fz" + draw(st.text("abcdefghij0123456789", min_size=1, max_size=6))
    return {
        "ok": f"{base}-{s.appid}",
        "upper": f"FZ{base}-{s.appid}",
        "long": f"{'b' * 60}-{s.appid}",
        "no-appid": base,
        "unicode": f"{base}%E4%B8%AD-{s.appid}",
        "dots": f"{base}..x-{s.appid}",
    }[shape]


def bucket_create(draw: Draw, s: State) -> Spec:
    return Spec("bucket.create", "PUT", _bucket_name(draw, s), header_names=("x-cos-acl", "x-cos-grant-read"))


def bucket_delete(draw: Draw, s: State) -> Spec:
    return Spec("bucket.delete", "DELETE", _bucket_name(draw, s))


def bucket_put_acl(draw: Draw, s: State) -> Spec:
    headers = [("x-cos-acl", draw(st.sampled_from([b"private", b"public-read"])))]
    return Spec(
        "bucket.put-acl", "PUT", s.acl_bucket, query=[("acl", None)], headers=headers, header_names=("x-cos-acl",)
    )


def bucket_get_acl(draw: Draw, s: State) -> Spec:
    return Spec("bucket.get-acl", "GET", _pick(draw, [s.bucket, s.acl_bucket]), query=[("acl", None)])


def service_list(draw: Draw, s: State) -> Spec:
    return Spec("service.list-buckets", "GET", host="bare", query_names=("prefix", "marker", "max-keys"))


def _post_policy(s: State, key: str, extra: list[Any]) -> dict[str, str]:
    """A POST policy signed as Tencent documents it (Java SDK ``COSSigner.buildPostObjectSignature``:
    HMAC-SHA1(HMAC-SHA1(SecretKey, KeyTime), SHA1(policy))); the Python SDK has no form signer."""
    now = int(time.time())
    key_time = f"{now - 60};{now + 3600}"
    expiration = time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime(now + 3600))
    conditions = [{"bucket": s.bucket}, ["starts-with", "$key", "fuzz/"], {"q-ak": SECRET_ID}, *extra]
    policy = json.dumps({"expiration": expiration, "conditions": conditions}).encode()
    sign_key = hmac.new(SECRET_KEY.encode(), key_time.encode(), hashlib.sha1).hexdigest()
    string_to_sign = hashlib.sha1(policy).hexdigest()
    signature = hmac.new(sign_key.encode(), string_to_sign.encode(), hashlib.sha1).hexdigest()
    return {
        "key": key,
        "policy": base64.b64encode(policy).decode(),
        "q-sign-algorithm": "sha1",
        "q-ak": SECRET_ID,
        "q-key-time": key_time,
        "q-signature": signature,
    }


_FORM_EXTRAS: list[list[Any]] = [
    [],
    [["content-length-range", 0, 10**400]],
    [["content-length-range", -1, "x"]],
    [["eq", "$Content-Type", "中"]],
    [{"x-cos-meta-a": "\x00"}],
    [["starts-with"]],
    [[1, 2, 3, 4, 5]],
]


def bucket_post_form(draw: Draw, s: State) -> Spec:
    """A browser form upload; its body is mutated as a form (fields dropped, repeated, odd)."""
    key = _new_key(draw).replace("fuzz/", "fuzz/form-")
    fields = list(_post_policy(s, key, draw(st.sampled_from(_FORM_EXTRAS))).items())
    tweak = draw(st.sampled_from(["none", "drop", "repeat", "odd-value", "bad-policy", "no-file", "unicode-name"]))
    label = tweak
    if tweak == "drop":
        fields.pop(draw(st.integers(0, len(fields) - 1)))
    elif tweak == "repeat":
        fields.append(fields[draw(st.integers(0, len(fields) - 1))])
    elif tweak == "odd-value":
        at = draw(st.integers(0, len(fields) - 1))
        fields[at] = (fields[at][0], draw(st.sampled_from(["", "9" * 4301, "\x00", "中" * 300, "%ff"])))
    elif tweak == "bad-policy":
        fields.append(("policy", draw(st.sampled_from(["!!", base64.b64encode(b"{").decode(), "e30="]))))
    elif tweak == "unicode-name":
        fields.append(("名前\x01", "v"))
    boundary = "fuzzboundary" + draw(st.text("abc123", min_size=1, max_size=6))
    parts = [f'--{boundary}\r\nContent-Disposition: form-data; name="{n}"\r\n\r\n{v}\r\n'.encode() for n, v in fields]
    if tweak != "no-file":
        parts.append(
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="a.txt"\r\n'
            f"Content-Type: text/plain\r\n\r\n".encode()
            + b"form bytes\r\n"
        )
    body = b"".join(parts) + f"--{boundary}--\r\n".encode()
    headers = [("Content-Type", f"multipart/form-data; boundary={boundary}".encode())]
    return Spec(
        "bucket.post-object",
        "POST",
        s.bucket,
        body=body,
        body_kind="form",
        headers=headers,
        sign="none",
        labels=(f"form:{label}",) if tweak != "none" else (),
    )


# --- CI ------------------------------------------------------------------------------------------


def _ci(family: str, method: str, s: State, path: str, **kw: Any) -> Spec:
    return Spec(family, method, s.bucket, path=path, host="ci", **kw)


def ci_workflow_create(draw: Draw, s: State) -> Spec:
    return _ci(
        "ci.workflow.create",
        "POST",
        s,
        "/workflow",
        body=_named(draw, draw(st.sampled_from(s.workflows))),
        body_kind="xml",
    )


def ci_workflow_list(draw: Draw, s: State) -> Spec:
    query = [("ids", _pick(draw, s.workflow_ids)), ("pageNumber", "1")] if draw(st.booleans()) else []
    return _ci("ci.workflow.list", "GET", s, "/workflow", query=query, query_names=("ids", *_PAGE))


def ci_workflow_get(draw: Draw, s: State) -> Spec:
    return _ci("ci.workflow.get", "GET", s, f"/workflow/{_some(draw, s.workflow_ids, 'w')}")


def ci_workflow_update(draw: Draw, s: State) -> Spec:
    path = f"/workflow/{_some(draw, s.workflow_ids, 'w')}"
    switch = draw(st.sampled_from(["body", "active", "paused"]))
    if switch != "body":
        return _ci(f"ci.workflow.{switch}", "PUT", s, path, query=[(switch, None)])
    return _ci(
        "ci.workflow.update", "PUT", s, path, body=_named(draw, draw(st.sampled_from(s.workflows))), body_kind="xml"
    )


def ci_workflow_delete(draw: Draw, s: State) -> Spec:
    return _ci("ci.workflow.delete", "DELETE", s, f"/workflow/{_some(draw, s.victims['workflows'], 'w')}")


def ci_trigger(draw: Draw, s: State) -> Spec:
    query = [("workflowId", _pick(draw, s.workflow_ids)), ("object", _pick(draw, s.keys))]
    return _ci("ci.trigger", "POST", s, "/triggerworkflow", query=query, query_names=("workflowId", "object", "name"))


def ci_execution_list(draw: Draw, s: State) -> Spec:
    query = [("workflowId", _pick(draw, s.workflow_ids)), ("size", "10")]
    names = ("workflowId", "name", "orderByTime", "states", "size", "nextToken", "startCreationTime",
             "endCreationTime", "jobId")  # fmt: skip
    return _ci("ci.execution.list", "GET", s, "/workflowexecution", query=query, query_names=names)


def ci_execution_get(draw: Draw, s: State) -> Spec:
    return _ci("ci.execution.get", "GET", s, f"/workflowexecution/{_some(draw, s.run_ids, 'i')}")


def ci_template_create(draw: Draw, s: State) -> Spec:
    tag = _pick(draw, sorted(s.templates))
    return _ci("ci.template.create", "POST", s, "/template", body=_named(draw, s.templates[tag]), body_kind="xml")


def ci_template_list(draw: Draw, s: State) -> Spec:
    names = ("category", "ids", "name", "tag", *_PAGE)
    return _ci("ci.template.list", "GET", s, "/template", query=[("tag", "Transcode")], query_names=names)


def ci_template_update(draw: Draw, s: State) -> Spec:
    tag = _pick(draw, sorted(s.templates))
    path = f"/template/{_some(draw, s.template_ids, 't')}"
    return _ci("ci.template.update", "PUT", s, path, body=_named(draw, s.templates[tag]), body_kind="xml")


def ci_template_delete(draw: Draw, s: State) -> Spec:
    return _ci("ci.template.delete", "DELETE", s, f"/template/{_some(draw, s.victims['templates'], 't')}")


def _queue_body(queue_id: str) -> bytes:
    notify = {"Url": "http://127.0.0.1:9/queue-callback", "Type": "Url", "Event": "TaskFinish", "State": "On"}
    return xml({"Name": "fuzz-queue", "QueueID": queue_id, "State": "Active", "NotifyConfig": notify})


def ci_queue_list(draw: Draw, s: State) -> Spec:
    return _ci("ci.queue.list", "GET", s, "/queue", query_names=("queueIds", "state", *_PAGE))


def ci_queue_update(draw: Draw, s: State) -> Spec:
    qid = _some(draw, [s.queue_id], "p")
    return _ci("ci.queue.update", "PUT", s, f"/queue/{qid}", body=_queue_body(qid), body_kind="xml")


def ci_pic_queue_list(draw: Draw, s: State) -> Spec:
    return _ci("ci.picqueue.list", "GET", s, "/picqueue", query_names=("queueIds", "state", *_PAGE))


def ci_pic_queue_update(draw: Draw, s: State) -> Spec:
    qid = _some(draw, [s.pic_queue_id], "p")
    method = _pick(draw, ["PUT", "POST"])
    return _ci("ci.picqueue.update", method, s, f"/picqueue/{qid}", body=_queue_body(qid), body_kind="xml")


_UNIMPLEMENTED = [r for r in CI_ROUTES if r.name not in HANDLERS and r.kind in (Kind.PATH, Kind.BUCKET)]


def ci_unimplemented(draw: Draw, s: State) -> Spec:
    """A CI operation cosflow lacks (answered 501), with a body when the SDK sends one."""
    route = draw(st.sampled_from(_UNIMPLEMENTED))
    path = route.template
    for placeholder in ("<WorkflowId>", "<RunId>", "<JobId>", "<JobIds>", "<QueueId>", "<TemplateId>", "<Id>", "<Ids>"):
        path = path.replace(placeholder, "j" + "0" * 32)
    path = path.replace("<Name>", "fuzzname").replace("[<key>]", "")
    method = "GET" if route.method == "*" else route.method
    query = [(n, "1") for n in route.query]
    body = xml({"Tag": "Fuzz", "Input": {"Object": "a"}}) if method in ("POST", "PUT") else b""
    return _ci("ci.unimplemented", method, s, path or "/", query=query, body=body, body_kind="xml" if body else "none")


def ci_object_process(draw: Draw, s: State) -> Spec:
    """``<key>?ci-process=…``, a processing query (``?imageInfo``) or a Pic-Operations upload."""
    kind = draw(st.sampled_from(["ci-process", "verb", "pic-operations"]))
    key = _pick(draw, s.keys)
    if kind == "ci-process":
        value = draw(st.sampled_from(["videoinfo", "snapshot", "Fuzz", "", "%ff"]))
        return Spec("ci.object-process", "GET", s.bucket, key, query=[("ci-process", value)])
    if kind == "verb":
        verb = draw(st.sampled_from(PROCESSING_VERBS))
        return Spec("ci.object-process", "GET", s.bucket, key, query=[(f"{verb}/fuzz/1", None)])
    ops = b'{"is_pic_info":1,"rules":[{"fileid":"p.png","rule":"imageView2/format/png"}]}'
    return Spec(
        "ci.object-process",
        "PUT",
        s.bucket,
        _new_key(draw),
        headers=[("Pic-Operations", ops)],
        body=b"x",
        body_kind="bytes",
    )


def api_callbacks(draw: Draw, s: State) -> Spec:
    shape = draw(st.sampled_from(["list", "show", "redeliver-one", "redeliver-since"]))
    names = ("run_id", "state", "since", "limit")
    if shape == "list":
        return Spec("api.callbacks", "GET", path="/api/callbacks", host="bare", query_names=names)
    if shape == "show":
        return Spec("api.callbacks", "GET", path=f"/api/callbacks/{_hex_id(draw, 'c')}", host="bare")
    if shape == "redeliver-one":
        return Spec("api.callbacks", "POST", path=f"/api/callbacks/{_hex_id(draw, 'c')}/redeliver", host="bare")
    since = [("since", "2020-01-01T00:00:00Z")]
    return Spec("api.callbacks", "POST", path="/api/callbacks/redeliver", host="bare", query=since, query_names=names)


FAMILIES: dict[str, Builder] = {
    f.__name__: f
    for f in (
        object_put, object_get, object_head, object_delete, object_copy, object_anonymous_get, object_presigned,
        object_unsupported, object_odd_method,
        multipart_initiate, multipart_part, multipart_complete, multipart_list_parts, multipart_abort,
        multipart_list_uploads,
        bucket_multi_delete, bucket_list, bucket_head, bucket_create, bucket_delete, bucket_put_acl, bucket_get_acl,
        service_list, bucket_post_form,
        ci_workflow_create, ci_workflow_list, ci_workflow_get, ci_workflow_update, ci_workflow_delete, ci_trigger,
        ci_execution_list, ci_execution_get, ci_template_create, ci_template_list, ci_template_update,
        ci_template_delete, ci_queue_list, ci_queue_update, ci_pic_queue_list, ci_pic_queue_update,
        ci_unimplemented, ci_object_process, api_callbacks,
    )
}  # fmt: skip
