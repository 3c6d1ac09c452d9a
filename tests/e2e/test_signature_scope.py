"""What a signature covers decides what it may do (docs/design-choices.md, "Signature scope").

1. A query parameter that chooses the operation (``uploadId``, ``partNumber``, ``uploads``,
   ``delete``, ``acl``, ``versionId``, the CI list and switch parameters) must be signed: a link
   signed for "PUT <key>" must not upload a part, abort an upload or rewrite an ACL by an appended
   parameter.
2. A signature on a bucket's own host must cover ``host``: without it the signature names no
   bucket and would fit the same key in every bucket.

Both refusals are 403 ``SignatureDoesNotMatch`` naming what is missing, and nothing changes. The
official SDKs sign all of this by default (cos-python-sdk-v5 ``cos_auth.py`` ``CosS3Auth``,
cos-go-sdk-v5 ``auth.go`` ``newAuthorization``, cos-java-sdk-v5 ``COSSigner``, cos-nodejs-sdk-v5
``util.js`` ``getAuth``); the exceptions they make (``?cancel``, ``?active``/``?paused`` sent
unsigned) keep working in the Authorization header form they use.
"""

from __future__ import annotations

import time
from urllib.parse import quote, urlsplit

import httpx
import pytest
from qcloud_cos import CosConfig, CosS3Client
from qcloud_cos.cos_exception import CosServiceError

from tests.conftest import make_client
from tests.support.server import APPID, REGION, SECRET_ID, SECRET_KEY, ServerProcess
from tests.support.signing import error_code, error_field
from tests.support.templates import transcode_template
from tests.support.workflows import node, workflow_body


def _host(bucket: str, svc: str = "cos") -> str:
    return f"{bucket}.{svc}.{REGION}.myqcloud.com"


def _domain_client() -> CosS3Client:
    """A client in its default (domain) mode: its links name the real bucket host."""
    return CosS3Client(CosConfig(Region=REGION, SecretId=SECRET_ID, SecretKey=SECRET_KEY, Scheme="http"))


def _send(server: ServerProcess, url: str, method: str = "GET", **kwargs: object) -> httpx.Response:
    """Send a URL made for the real COS host to our server with that Host (like curl --connect-to)."""
    parts = urlsplit(url)
    headers = {"Host": parts.netloc, **kwargs.pop("headers", {})}  # type: ignore[dict-item]
    local = f"{server.endpoint}{parts.path}" + (f"?{parts.query}" if parts.query else "")
    return httpx.request(method, local, headers=headers, **kwargs)  # type: ignore[arg-type]


def _header_signed(
    client: CosS3Client, server: ServerProcess, bucket: str, method: str, key: str, query: str, **kwargs: object
) -> httpx.Response:
    """``method /<key>`` signed by the SDK over its path and host only, sent with ``query`` added."""
    auth = client.get_auth(Method=method, Bucket=bucket, Key=key, Headers={"Host": _host(bucket)})
    url = f"{server.endpoint}/{quote(key.lstrip('/'))}" + (f"?{query}" if query else "")
    headers = {"Host": _host(bucket), "Authorization": auth, **kwargs.pop("headers", {})}  # type: ignore[dict-item]
    return httpx.request(method, url, headers=headers, **kwargs)  # type: ignore[arg-type]


def _refused(resp: httpx.Response, *names: str) -> None:
    assert (resp.status_code, error_code(resp)) == (403, "SignatureDoesNotMatch"), resp.text
    message = error_field(resp, "Message")
    for name in names:
        assert name in message, message


def _parts(client: CosS3Client, bucket: str, key: str, upload_id: str) -> list[object]:
    return list(client.list_parts(Bucket=bucket, Key=key, UploadId=upload_id).get("Part", []))


def _uploads(client: CosS3Client, bucket: str) -> list[str]:
    found = client.list_multipart_uploads(Bucket=bucket).get("Upload", [])
    return [u["UploadId"] for u in (found if isinstance(found, list) else [found])]


# --- 1. parameters that choose the operation ---------------------------------------------------------
def test_presigned_put_link_cannot_upload_a_part(server: ServerProcess, client: CosS3Client, bucket: str) -> None:
    """The issue's case: a PUT link for a key, plus unsigned partNumber and uploadId, put a part
    into the key's open multipart upload."""
    upload_id = client.create_multipart_upload(Bucket=bucket, Key="big.bin")["UploadId"]
    url = _domain_client().get_presigned_url(Bucket=bucket, Key="big.bin", Method="PUT", Expired=300)
    resp = _send(server, f"{url}&partNumber=1&uploadId={upload_id}", "PUT", content=b"injected part")
    _refused(resp, "partNumber", "uploadId")
    assert _parts(client, bucket, "big.bin", upload_id) == []
    with pytest.raises(CosServiceError) as err:
        client.head_object(Bucket=bucket, Key="big.bin")
    assert err.value.get_status_code() == 404
    # The link still does what it was made for.
    assert _send(server, url, "PUT", content=b"whole object").status_code == 200
    assert _parts(client, bucket, "big.bin", upload_id) == []


def test_signed_put_cannot_become_a_part_upload(server: ServerProcess, client: CosS3Client, bucket: str) -> None:
    upload_id = client.create_multipart_upload(Bucket=bucket, Key="k")["UploadId"]
    resp = _header_signed(client, server, bucket, "PUT", "k", f"partNumber=1&uploadId={upload_id}", content=b"x")
    _refused(resp, "partNumber", "uploadId")
    assert _parts(client, bucket, "k", upload_id) == []


def test_signed_delete_cannot_abort_an_upload(server: ServerProcess, client: CosS3Client, bucket: str) -> None:
    upload_id = client.create_multipart_upload(Bucket=bucket, Key="k")["UploadId"]
    client.upload_part(Bucket=bucket, Key="k", Body=b"part one", PartNumber=1, UploadId=upload_id)
    url = _domain_client().get_presigned_url(Bucket=bucket, Key="k", Method="DELETE", Expired=300)
    _refused(_send(server, f"{url}&uploadId={upload_id}", "DELETE"), "uploadId")
    assert _uploads(client, bucket) == [upload_id]
    assert len(_parts(client, bucket, "k", upload_id)) == 1


def test_signed_post_cannot_start_an_upload_or_complete_one(
    server: ServerProcess, client: CosS3Client, bucket: str
) -> None:
    _refused(_header_signed(client, server, bucket, "POST", "n", "uploads"), "uploads")
    assert _uploads(client, bucket) == []
    upload_id = client.create_multipart_upload(Bucket=bucket, Key="n")["UploadId"]
    etag = client.upload_part(Bucket=bucket, Key="n", Body=b"only part", PartNumber=1, UploadId=upload_id)["ETag"]
    part = f"<Part><PartNumber>1</PartNumber><ETag>{etag}</ETag></Part>"
    body = f"<CompleteMultipartUpload>{part}</CompleteMultipartUpload>"
    _refused(_header_signed(client, server, bucket, "POST", "n", f"uploadId={upload_id}", content=body), "uploadId")
    assert _uploads(client, bucket) == [upload_id]


def test_signed_bucket_put_cannot_rewrite_an_acl(server: ServerProcess, client: CosS3Client, bucket: str) -> None:
    """A "create a public-read bucket" signature (PUT / with x-cos-acl signed) replayed with an
    unsigned ``?acl`` would make an existing private bucket public."""
    client.put_object(Bucket=bucket, Key="private.txt", Body=b"private")
    headers = {"Host": _host(bucket), "x-cos-acl": "public-read"}
    auth = client.get_auth(Method="PUT", Bucket=bucket, Key="/", Headers=headers)
    resp = httpx.put(f"{server.endpoint}/?acl", headers={**headers, "Authorization": auth})
    _refused(resp, "acl")
    anonymous = httpx.get(f"{server.endpoint}/private.txt", headers={"Host": _host(bucket)})
    assert (anonymous.status_code, error_code(anonymous)) == (403, "AccessDenied")
    grants = client.get_bucket_acl(Bucket=bucket)["AccessControlList"]["Grant"]
    assert "AllUsers" not in str(grants)


def test_signed_post_cannot_become_a_multi_delete(server: ServerProcess, client: CosS3Client, bucket: str) -> None:
    client.put_object(Bucket=bucket, Key="keep.txt", Body=b"keep")
    body = "<Delete><Object><Key>keep.txt</Key></Object></Delete>"
    _refused(_header_signed(client, server, bucket, "POST", "/", "delete", content=body), "delete")
    assert client.get_object(Bucket=bucket, Key="keep.txt")["Body"].get_raw_stream().read() == b"keep"


def test_list_link_cannot_list_uploads_or_pick_a_version(
    server: ServerProcess, client: CosS3Client, bucket: str
) -> None:
    client.put_object(Bucket=bucket, Key="v.txt", Body=b"v")
    client.create_multipart_upload(Bucket=bucket, Key="pending/secret-name.bin")
    listing = _domain_client().get_presigned_url(Bucket=bucket, Key="/", Method="GET", Expired=300)
    assert _send(server, listing).status_code == 200
    resp = _send(server, f"{listing}&uploads")
    _refused(resp, "uploads")
    assert "secret-name" not in resp.text
    get_link = _domain_client().get_presigned_url(Bucket=bucket, Key="v.txt", Method="GET", Expired=300)
    _refused(_send(server, f"{get_link}&versionId=MTg0NDUxNTc1NjIzMTQ1MDAwODg"), "versionId")


def test_parameter_names_are_compared_as_signed(server: ServerProcess, client: CosS3Client, bucket: str) -> None:
    """Case does not hide a parameter (the router reads names case-insensitively); signed, it works."""
    upload_id = client.create_multipart_upload(Bucket=bucket, Key="c")["UploadId"]
    _refused(_header_signed(client, server, bucket, "PUT", "c", f"PARTNUMBER=1&UPLOADID={upload_id}", content=b"x"))
    params = {"partNumber": "1", "uploadId": upload_id}
    auth = client.get_auth(Method="PUT", Bucket=bucket, Key="c", Params=params, Headers={"Host": _host(bucket)})
    signed = httpx.put(
        f"{server.endpoint}/c",
        params=params,
        content=b"signed part",
        headers={"Host": _host(bucket), "Authorization": auth},
    )
    assert signed.status_code == 200, signed.text
    assert len(_parts(client, bucket, "c", upload_id)) == 1


def test_sdk_calls_that_choose_an_operation_still_work(server: ServerProcess, client: CosS3Client, bucket: str) -> None:
    """The Python SDK signs uploads, uploadId, partNumber, delete, acl and versionId: all work."""
    upload_id = client.create_multipart_upload(Bucket=bucket, Key="m")["UploadId"]
    etag = client.upload_part(Bucket=bucket, Key="m", Body=b"p" * 10, PartNumber=1, UploadId=upload_id)["ETag"]
    assert len(_parts(client, bucket, "m", upload_id)) == 1
    assert _uploads(client, bucket) == [upload_id]
    parts = {"Part": [{"PartNumber": "1", "ETag": etag}]}
    client.complete_multipart_upload(Bucket=bucket, Key="m", UploadId=upload_id, MultipartUpload=parts)
    aborted = client.create_multipart_upload(Bucket=bucket, Key="a")["UploadId"]
    client.abort_multipart_upload(Bucket=bucket, Key="a", UploadId=aborted)
    client.put_bucket_acl(Bucket=bucket, ACL="private")
    assert client.get_bucket_acl(Bucket=bucket)["Owner"]
    assert client.get_object(Bucket=bucket, Key="m", VersionId="null")["Body"].get_raw_stream().read() == b"p" * 10
    deleted = client.delete_objects(Bucket=bucket, Delete={"Object": [{"Key": "m"}], "Quiet": "false"})
    assert deleted["Deleted"][0]["Key"] == "m"
    # A presigned link made for a part upload signs its parameters and works as given.
    upload_id = client.create_multipart_upload(Bucket=bucket, Key="linked")["UploadId"]
    part_link = _domain_client().get_presigned_url(
        Bucket=bucket, Key="linked", Method="PUT", Params={"partNumber": "1", "uploadId": upload_id}
    )
    assert _send(server, part_link, "PUT", content=b"part by link").status_code == 200
    assert len(_parts(client, bucket, "linked", upload_id)) == 1


def test_sdk_without_signed_parameters_gets_a_clear_refusal(server: ServerProcess, bucket: str) -> None:
    """``CosConfig(SignParams=False)`` signs no parameter, so its uploadId could be anyone's: refused
    with a message that says what to sign; calls without such a parameter still work."""
    unsigned = make_client(server.port, SignParams=False)
    unsigned.put_object(Bucket=bucket, Key="plain", Body=b"plain")
    with pytest.raises(CosServiceError) as err:
        unsigned.create_multipart_upload(Bucket=bucket, Key="plain")
    assert (err.value.get_status_code(), err.value.get_error_code()) == (403, "SignatureDoesNotMatch")
    assert "uploads" in err.value.get_error_msg()


def test_ci_list_parameter_cannot_turn_an_object_link_into_a_listing(
    server: ServerProcess, client: CosS3Client, bucket: str
) -> None:
    """On the object host, GET /workflow is CI only with its list parameters: a link for the object
    ``workflow`` must not list the bucket's workflows by an unsigned ``pageNumber``."""
    client.put_object(Bucket=bucket, Key="workflow", Body=b"an object named workflow")
    url = _domain_client().get_presigned_url(Bucket=bucket, Key="workflow", Method="GET", Expired=300)
    assert _send(server, url).content == b"an object named workflow"
    _refused(_send(server, f"{url}&pageNumber=1&pageSize=10"), "pageNumber")


def test_unsigned_cancel_is_header_form_only(server: ServerProcess, client: CosS3Client, bucket: str) -> None:
    """The Python SDK's ``ci_cancel_jobs`` appends ``?cancel`` unsigned (Authorization header form):
    the signature check lets it through. A presigned PUT link for an object whose key happens to be
    ``jobs/<job id>`` cannot be turned into a cancel."""
    job_id = "j" + "0" * 32
    try:
        client.ci_cancel_jobs(Bucket=bucket, JobID=job_id)
    except CosServiceError as exc:  # the job does not exist: any answer but a signature refusal
        assert exc.get_error_code() not in {"SignatureDoesNotMatch", "AccessDenied"}, exc.get_error_msg()
    url = _domain_client().get_presigned_url(Bucket=bucket, Key=f"jobs/{job_id}", Method="PUT", Expired=300)
    _refused(_send(server, f"{url}&cancel", "PUT", content=b""), "cancel")


def test_unsigned_state_switch_in_header_form_works(
    engine_server: ServerProcess, ci: CosS3Client, media_bucket: str
) -> None:
    """The Java SDK drops ``?active`` / ``?paused`` from what it signs for CI workflow calls
    (``COSSigner`` ``isCIWorkflowRequest``): the Authorization-header form keeps working. A presigned
    link must sign the switch."""
    template = transcode_template(ci, media_bucket)
    transcode = node("Transcode", "o/${InputName}", TemplateId=template)
    body = workflow_body("scope", {"Start": "T", "T": "End"}, {"T": transcode})
    workflow_id = ci.ci_create_workflow(Bucket=media_bucket, Body=body)["MediaWorkflow"]["WorkflowId"]
    endpoint = engine_server.endpoint
    path = f"/workflow/{workflow_id}"
    auth = ci.get_auth(Method="PUT", Bucket=media_bucket, Key=path, Headers={"Host": _host(media_bucket, "ci")})
    resp = httpx.put(f"{endpoint}{path}?active", headers={"Host": _host(media_bucket, "ci"), "Authorization": auth})
    assert resp.status_code == 200, resp.text
    assert ci.ci_get_workflow(Bucket=media_bucket, Ids=workflow_id)["MediaWorkflowList"][0]["State"] == "Active"
    link = ci.get_presigned_url(
        Bucket=media_bucket, Key=path, Method="PUT", Headers={"Host": _host(media_bucket, "ci")}
    )
    query = urlsplit(link).query
    resp = httpx.put(f"{endpoint}{path}?{query}&paused", headers={"Host": _host(media_bucket, "ci")})
    _refused(resp, "paused")
    assert ci.ci_get_workflow(Bucket=media_bucket, Ids=workflow_id)["MediaWorkflowList"][0]["State"] == "Active"


# --- 2. a signature that does not cover host -------------------------------------------------------
def test_signature_without_host_does_not_open_another_bucket(
    server: ServerProcess, client: CosS3Client, bucket: str
) -> None:
    other = f"scopeother{int(time.time() * 1000) % 10**6}-{APPID}"
    client.create_bucket(Bucket=other)
    client.put_object(Bucket=other, Key="report.pdf", Body=b"other bucket's report")
    client.put_object(Bucket=bucket, Key="report.pdf", Body=b"own report")
    auth = client.get_auth(Method="GET", Bucket=bucket, Key="report.pdf", SignHost=False)
    assert "q-header-list=&" in auth
    for target in (other, bucket):
        resp = httpx.get(f"{server.endpoint}/report.pdf", headers={"Host": _host(target), "Authorization": auth})
        _refused(resp, "host")
        assert b"bucket's report" not in resp.content and b"own report" not in resp.content


def test_presigned_link_without_host_cannot_write_into_another_bucket(
    server: ServerProcess, client: CosS3Client, bucket: str
) -> None:
    other = f"scopewrite{int(time.time() * 1000) % 10**6}-{APPID}"
    client.create_bucket(Bucket=other)
    client.put_object(Bucket=other, Key="index.html", Body=b"original")
    url = _domain_client().get_presigned_url(Bucket=bucket, Key="index.html", Method="PUT", SignHost=False)
    moved = url.replace(_host(bucket), _host(other))
    _refused(_send(server, moved, "PUT", content=b"defaced"), "host")
    assert client.get_object(Bucket=other, Key="index.html")["Body"].get_raw_stream().read() == b"original"
    listing = _domain_client().get_presigned_url(Bucket=bucket, Key="/", Method="GET", SignHost=False)
    _refused(_send(server, listing.replace(_host(bucket), _host(other))), "host")


def test_ci_call_without_host_is_refused(server: ServerProcess, client: CosS3Client, bucket: str) -> None:
    auth = client.get_auth(Method="GET", Bucket=bucket, Key="/workflow", Params={"pageNumber": "1"}, SignHost=False)
    resp = httpx.get(
        f"{server.endpoint}/workflow?pageNumber=1", headers={"Host": _host(bucket, "ci"), "Authorization": auth}
    )
    _refused(resp, "host")


def test_sdk_ip_port_mode_signs_its_forced_host_even_with_sign_host_off(server: ServerProcess, bucket: str) -> None:
    """``CosConfig(SignHost=False)`` only stops the SDK adding the URL's host; in the README's IP/Port
    mode it sends (and so signs) the bucket Host anyway, and keeps working. In domain mode it signs
    no host at all: that is what ``get_auth(SignHost=False)`` makes above, and it is refused."""
    hostless = make_client(server.port, SignHost=False)
    hostless.put_object(Bucket=bucket, Key="h", Body=b"h")
    assert hostless.get_object(Bucket=bucket, Key="h")["Body"].get_raw_stream().read() == b"h"


def test_path_style_signature_without_host_is_bound_by_its_path(
    server: ServerProcess, client: CosS3Client, bucket: str
) -> None:
    """On the bare host the signed path names the bucket (``/<bucket>/<key>``), so a signature
    without ``host`` is still bound to it and keeps working; it opens no other bucket."""
    client.put_object(Bucket=bucket, Key="ps.txt", Body=b"path style")
    auth = client.get_auth(Method="GET", Bucket=bucket, Key=f"{bucket}/ps.txt", SignHost=False)
    assert "q-header-list=&" in auth
    assert httpx.get(f"{server.endpoint}/{bucket}/ps.txt", headers={"Authorization": auth}).content == b"path style"
    other = f"scopepath{int(time.time() * 1000) % 10**6}-{APPID}"
    client.create_bucket(Bucket=other)
    client.put_object(Bucket=other, Key="ps.txt", Body=b"other")
    resp = httpx.get(f"{server.endpoint}/{other}/ps.txt", headers={"Authorization": auth})
    assert error_code(resp) == "SignatureDoesNotMatch"
