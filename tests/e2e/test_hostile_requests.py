"""Hostile request lines and headers (issue 9): ``response-*`` overrides that cannot be headers,
numbers of any length, keys that are not UTF-8, refused ``Expect: 100-continue`` uploads.
Each answer is an exact COS error, never a 500 or a dropped connection, and nothing changes."""

from __future__ import annotations

import socket

import httpx
import pytest
from qcloud_cos import CosS3Client
from qcloud_cos.cos_exception import CosServiceError

from tests.support.server import APPID, REGION, ServerProcess
from tests.support.signing import error_code, error_field

BODY = b"0123456789"


@pytest.fixture
def public(client: CosS3Client, bucket: str) -> str:
    """A public-read bucket holding ``obj`` (BODY): anonymous reads reach GET Object."""
    client.put_bucket_acl(Bucket=bucket, ACL="public-read")
    client.put_object(Bucket=bucket, Key="obj", Body=BODY, ContentType="text/plain")
    return bucket


def host_of(bucket: str) -> str:
    return f"{bucket}.cos.{REGION}.myqcloud.com"


def anonymous(server: ServerProcess, bucket: str, target: str, **headers: str) -> httpx.Response:
    """``GET target`` exactly as written (escapes kept) on the bucket's host, unsigned."""
    return httpx.get(server.endpoint + target, headers={"Host": host_of(bucket), **headers}, timeout=5)


def service_error(call: object, **kwargs: object) -> CosServiceError:
    with pytest.raises(CosServiceError) as caught:
        call(**kwargs)  # type: ignore[operator]
    return caught.value


# --- response-* overrides (defect 4) --------------------------------------------------------------


@pytest.mark.parametrize(
    "value",
    ["%E4%B8%AD", "a%0d%0aX-Evil:%201", "a%0aX-Evil:%201", "a%00b", "a%7fb", "a%1bb"],
    ids=["non-latin-1", "crlf-injection", "lf", "nul", "del", "esc"],
)
@pytest.mark.parametrize("param", ["response-content-type", "response-content-disposition", "response-expires"])
def test_override_that_cannot_be_a_header_is_invalid_argument(
    server: ServerProcess, public: str, param: str, value: str
) -> None:
    """Before: 500 for '中', and a dropped connection (no answer at all) for CR/LF or NUL."""
    resp = anonymous(server, public, f"/obj?{param}={value}")
    assert (resp.status_code, error_code(resp)) == (400, "InvalidArgument"), resp.text
    assert param in error_field(resp, "Message") and param in error_field(resp, "Resource")
    assert "x-evil" not in resp.headers


@pytest.mark.parametrize(
    "value, header",
    [("%20x", "x"), ("x%20", "x"), ("%09a%20b%09", "a b"), ("caf%C3%A9", "café"), ("%20", "text/plain")],
    ids=["leading-space", "trailing-space", "inner-space-kept", "latin-1", "blank-is-absent"],
)
def test_override_spaces_are_trimmed_and_latin_1_is_served(
    server: ServerProcess, public: str, value: str, header: str
) -> None:
    """RFC 9110 §5.5: leading and trailing whitespace is not part of a field value (before: the
    connection was dropped for '%20x'); Latin-1 text is a valid header (obs-text)."""
    resp = anonymous(server, public, f"/obj?response-content-type={value}")
    assert resp.status_code == 200, resp.text
    assert resp.headers["content-type"].encode("latin-1").decode("latin-1") == header
    assert resp.content == BODY


def test_override_through_the_sdk(client: CosS3Client, public: str) -> None:
    err = service_error(client.get_object, Bucket=public, Key="obj", ResponseContentDisposition="attachment; 中.txt")
    assert (err.get_status_code(), err.get_error_code()) == (400, "InvalidArgument")
    rfc8187 = "attachment; filename*=UTF-8''%E4%B8%AD.txt"
    got = client.get_object(Bucket=public, Key="obj", ResponseContentDisposition=rfc8187)
    assert got["Content-Disposition"] == rfc8187
    assert got["Body"].get_raw_stream().read() == BODY  # and the connection goes back to the pool


# --- numbers of any length (defect 5) --------------------------------------------------------------


HUGE = "9" * 4301


@pytest.mark.parametrize(
    "spec, status, content",
    [
        (f"bytes={HUGE}-", 416, None),
        (f"bytes=0-{HUGE}", 206, BODY),
        (f"bytes=-{HUGE}", 206, BODY),
        (f"bytes={'0' * 4300}2-3", 206, BODY[2:4]),
    ],
    ids=["start-past-any-end", "end-clamped", "suffix-whole", "leading-zeros"],
)
def test_ranges_of_any_length(
    server: ServerProcess, public: str, spec: str, status: int, content: bytes | None
) -> None:
    """Before: a bare int() in domain/ranges.py answered 500 for 4,301 digits."""
    resp = anonymous(server, public, "/obj", Range=spec)
    assert resp.status_code == status, resp.text
    if content is None:
        assert error_code(resp) == "InvalidRange"
    else:
        assert resp.content == content


def test_range_through_the_sdk(client: CosS3Client, public: str) -> None:
    err = service_error(client.get_object, Bucket=public, Key="obj", Range=f"bytes={HUGE}-")
    assert (err.get_status_code(), err.get_error_code()) == (416, "InvalidRange")


@pytest.mark.parametrize("value", ["1_0", "\u0661\u0660", "+5", HUGE, "-1", "1001"])
def test_query_numbers_are_plain_bounded_digits(server: ServerProcess, public: str, value: str) -> None:
    """max-keys (like every query number) goes through domain.numbers: int() took '1_0' and '١٠'."""
    resp = httpx.get(server.endpoint + "/", params={"max-keys": value}, headers={"Host": host_of(public)}, timeout=5)
    assert (resp.status_code, error_code(resp)) == (400, "InvalidArgument"), resp.text
    assert "max-keys" in error_field(resp, "Message")


def test_declared_xml_length_past_the_limit_is_refused_unread(
    client: CosS3Client, server: ServerProcess, bucket: str
) -> None:
    """A 19-digit Content-Length passes h11 but not plain_uint: it used to count as 0, and the
    server then waited for 10**18 bytes of XML (a hang). Now: EntityTooLarge, unread."""
    client.put_object(Bucket=bucket, Key="keep", Body=b"x")
    auth = client.get_auth(
        Method="POST", Bucket=bucket, Key="/", Params={"delete": ""}, Headers={"Host": host_of(bucket)}
    )
    request = (
        f"POST /?delete HTTP/1.1\r\nHost: {host_of(bucket)}\r\nAuthorization: {auth}\r\n"
        f"Content-Length: 1{'0' * 18}\r\n\r\n<Delete>"
    ).encode()
    with socket.create_connection(("127.0.0.1", server.port), timeout=5) as sock:
        sock.sendall(request)
        head = _read_answer(sock).decode("latin-1")
    assert head.startswith("HTTP/1.1 400 ") and "<Code>EntityTooLarge</Code>" in head, head
    assert [c["Key"] for c in client.list_objects(Bucket=bucket)["Contents"]] == ["keep"]


@pytest.mark.parametrize("name", ["If-Modified-Since", "If-Unmodified-Since"])
def test_conditional_dates_with_huge_numbers_are_ignored(server: ServerProcess, public: str, name: str) -> None:
    """A 20-digit year made the stdlib date parser raise OverflowError: a 500 before."""
    resp = anonymous(server, public, "/obj", **{name: "Mon, 01 Jan 99999999999999999999 00:00:00 GMT"})
    assert resp.status_code == 200 and resp.content == BODY


# --- keys that are not UTF-8 (defect 9) -----------------------------------------------------------


def test_a_key_that_is_not_utf8_names_no_object(client: CosS3Client, server: ServerProcess, public: str) -> None:
    """Before: %ff and %fe were both decoded to U+FFFD, so they named the same object; a signature
    over U+FFFD was good for both."""
    client.put_object(Bucket=public, Key="\ufffd", Body=b"replacement char")
    for raw in ("%ff", "%fe", "a%c3", "%ed%a0%80"):  # bad byte, truncated sequence, surrogate
        resp = anonymous(server, public, f"/{raw}")
        assert (resp.status_code, error_code(resp)) == (400, "InvalidURI"), resp.text
        auth = client.get_auth(Method="PUT", Bucket=public, Key="\ufffd", Headers={"Host": host_of(public)})
        put = httpx.put(
            f"{server.endpoint}/{raw}", content=b"alias", headers={"Host": host_of(public), "Authorization": auth}
        )
        assert (put.status_code, error_code(put)) == (400, "InvalidURI"), put.text
    path_style = httpx.put(f"{server.endpoint}/{public}/%ff", content=b"x", timeout=5)
    assert (path_style.status_code, error_code(path_style)) == (400, "InvalidURI")
    assert client.get_object(Bucket=public, Key="\ufffd")["Body"].get_raw_stream().read() == b"replacement char"
    assert sorted(c["Key"] for c in client.list_objects(Bucket=public)["Contents"]) == ["obj", "\ufffd"]


@pytest.mark.parametrize("param", ["prefix", "marker", "delimiter", "max-keys"])
def test_query_values_that_are_not_utf8_are_invalid_uri(server: ServerProcess, public: str, param: str) -> None:
    resp = anonymous(server, public, f"/?{param}=%ff")
    assert (resp.status_code, error_code(resp)) == (400, "InvalidURI"), resp.text
    assert param in error_field(resp, "Message")


def test_copy_source_key_that_is_not_utf8_is_refused(client: CosS3Client, server: ServerProcess, public: str) -> None:
    client.put_object(Bucket=public, Key="\ufffd", Body=b"replacement char")
    headers = {"Host": host_of(public), "x-cos-copy-source": f"{host_of(public)}/%ff"}
    auth = client.get_auth(Method="PUT", Bucket=public, Key="copy", Headers=headers)
    resp = httpx.put(f"{server.endpoint}/copy", headers={**headers, "Authorization": auth}, timeout=5)
    assert (resp.status_code, error_code(resp)) == (400, "InvalidArgument"), resp.text
    assert "x-cos-copy-source" in error_field(resp, "Message")
    assert "copy" not in [c["Key"] for c in client.list_objects(Bucket=public)["Contents"]]


# --- Expect: 100-continue (defect 11) ---------------------------------------------------------------


def _read_answer(sock: socket.socket) -> bytes:
    """One HTTP/1.1 answer (an interim 100 alone, or a final one with its Content-Length body);
    b'' when the connection is closed first."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            return data
        data += chunk
    head, _, rest = data.partition(b"\r\n\r\n")
    length = next(
        (int(line.split(b":")[1]) for line in head.split(b"\r\n") if line.lower().startswith(b"content-length:")), 0
    )
    while len(rest) < length:
        chunk = sock.recv(65536)
        if not chunk:
            break
        rest += chunk
    return head + b"\r\n\r\n" + rest


def _exchange(server: ServerProcess, first: bytes, body: bytes | None = None) -> tuple[str, bytes]:
    """Send ``first`` (a request head with Expect: 100-continue), then, on the same connection, a
    plain GET Service. Returns the first answer and whatever the connection gave the second
    request (b'' when the server closed it cleanly). Bounded by a 5 s socket timeout."""
    with socket.create_connection(("127.0.0.1", server.port), timeout=5) as sock:
        sock.sendall(first)
        answer = _read_answer(sock)
        if body is not None and answer.startswith(b"HTTP/1.1 100 "):
            sock.sendall(body)
            answer += _read_answer(sock)
        second = f"GET / HTTP/1.1\r\nHost: 127.0.0.1:{server.port}\r\n\r\n".encode()
        try:
            sock.sendall(second)
            reply = _read_answer(sock)
        except (ConnectionResetError, BrokenPipeError):
            reply = b""
    return answer.decode("latin-1"), reply


@pytest.mark.parametrize("length", [5, 10**9], ids=["small-body", "large-body"])
def test_refused_expect_continue_put_closes_its_connection(
    client: CosS3Client, server: ServerProcess, bucket: str, length: int
) -> None:
    """boto3 sends Expect: 100-continue on every PUT. Refused before its body was read (here:
    unsigned, on a private bucket), the connection used to stay open: the next request's bytes were
    read as the body (a spurious 400), or the server waited for 10**9 bytes (a hang)."""
    head = (
        f"PUT /k HTTP/1.1\r\nHost: {host_of(bucket)}\r\nContent-Length: {length}\r\nExpect: 100-continue\r\n\r\n"
    ).encode()
    answer, reply = _exchange(server, head)
    assert answer.startswith("HTTP/1.1 403 ") and "<Code>AccessDenied</Code>" in answer, answer
    assert "\r\nConnection: close\r\n" in answer
    assert reply == b"" or reply.startswith(b"HTTP/1.1 403 "), reply  # a clean close, or a real answer
    assert not client.list_objects(Bucket=bucket).get("Contents")


def test_accepted_expect_continue_put_keeps_its_connection(
    client: CosS3Client, server: ServerProcess, bucket: str
) -> None:
    """When the app reads the body, uvicorn sends 100 Continue and the connection stays usable."""
    headers = {"Host": host_of(bucket), "Content-Length": "5", "Expect": "100-continue"}
    auth = client.get_auth(Method="PUT", Bucket=bucket, Key="k", Headers={"Host": host_of(bucket)})
    lines = "".join(f"{k}: {v}\r\n" for k, v in {**headers, "Authorization": auth}.items())
    answer, reply = _exchange(server, f"PUT /k HTTP/1.1\r\n{lines}\r\n".encode(), body=b"hello")
    assert answer.startswith("HTTP/1.1 100 ") and "HTTP/1.1 200 " in answer, answer
    assert "Connection: close" not in answer
    assert reply.startswith(b"HTTP/1.1 403 "), reply  # GET Service, unsigned: a real answer
    assert client.get_object(Bucket=bucket, Key="k")["Body"].get_raw_stream().read() == b"hello"


def test_refused_expect_continue_for_a_missing_bucket(client: CosS3Client, server: ServerProcess) -> None:
    missing = f"missing-{APPID}"
    headers = {"Host": host_of(missing)}
    auth = client.get_auth(Method="PUT", Bucket=missing, Key="k", Headers=headers)
    head = (
        f"PUT /k HTTP/1.1\r\nHost: {host_of(missing)}\r\nAuthorization: {auth}\r\nContent-Length: 1048576\r\n"
        "Expect: 100-continue\r\n\r\n"
    ).encode()
    answer, reply = _exchange(server, head)
    assert answer.startswith("HTTP/1.1 404 ") and "<Code>NoSuchBucket</Code>" in answer, answer
    assert reply == b"" or reply.startswith(b"HTTP/1.1 403 "), reply
