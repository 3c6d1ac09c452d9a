"""The signed time window (q-key-time, spec §2.1): a malformed one and one that starts in the future
are refused with 403 AccessDenied, never a 500, and store nothing; a client clock a little ahead
(within ``clock_skew_seconds``, 900 s by default) is accepted.

Each refusal goes through every form that carries a window: the Authorization header, a presigned
URL's query and a POST Object form.
"""

from __future__ import annotations

import re
import time
import types
from collections.abc import Iterator
from urllib.parse import parse_qsl, urlencode, urlsplit

import httpx
import pytest
from qcloud_cos import CosS3Client, cos_auth

from tests.e2e import test_post_object as forms
from tests.support.refusals import assert_absent
from tests.support.server import REGION, ServerProcess
from tests.support.signing import error_code, error_field

SKEW = 900  # the server's default clock_skew_seconds


def _host(bucket: str) -> str:
    return f"{bucket}.cos.{REGION}.myqcloud.com"


@pytest.fixture
def sdk_clock(monkeypatch: pytest.MonkeyPatch) -> Iterator[types.SimpleNamespace]:
    """The clock the official SDK's signer reads, set per test (``clock.now``); the SDK signs
    ``<now - 60>;<now + Expired>``."""
    clock = types.SimpleNamespace(now=time.time())
    monkeypatch.setattr(cos_auth, "time", types.SimpleNamespace(time=lambda: clock.now))
    yield clock


def _put_with_header(server: ServerProcess, client: CosS3Client, bucket: str, key: str) -> httpx.Response:
    headers = {"Host": _host(bucket)}
    auth = client.get_auth(Method="PUT", Bucket=bucket, Key=key, Headers=headers, Expired=3600)
    return httpx.put(f"{server.endpoint}/{key}", content=b"x", headers={**headers, "Authorization": auth})


def _put_presigned(server: ServerProcess, client: CosS3Client, bucket: str, key: str) -> httpx.Response:
    url = client.get_presigned_url(Bucket=bucket, Key=key, Method="PUT", Expired=3600, Headers={"Host": _host(bucket)})
    parts = urlsplit(url)
    return httpx.put(f"{server.endpoint}{parts.path}?{parts.query}", content=b"x", headers={"Host": _host(bucket)})


def _with_window(authorization: str, window: str) -> str:
    """The same signed fields with q-sign-time and q-key-time both replaced by ``window``."""
    return re.sub(r"(q-(?:sign|key)-time=)[^&]*", lambda m: m.group(1) + window, authorization)


def _refused_403(resp: httpx.Response, words: str) -> None:
    assert (resp.status_code, error_code(resp)) == (403, "AccessDenied"), resp.text
    assert words in error_field(resp, "Message"), resp.text


MALFORMED = ["abc;def", "1700000000", "1700000000;", ";1700000000", "1.5;2.5", "1;2;3"]


@pytest.mark.parametrize("window", MALFORMED)
def test_a_malformed_key_time_in_the_header_is_403(
    server: ServerProcess, client: CosS3Client, bucket: str, window: str
) -> None:
    headers = {"Host": _host(bucket)}
    auth = _with_window(client.get_auth(Method="PUT", Bucket=bucket, Key="kt", Headers=headers), window)
    resp = httpx.put(f"{server.endpoint}/kt", content=b"x", headers={**headers, "Authorization": auth})
    _refused_403(resp, "q-key-time")
    assert_absent(client, bucket, "kt")


@pytest.mark.parametrize("window", MALFORMED)
def test_a_malformed_key_time_in_a_presigned_url_is_403(
    server: ServerProcess, client: CosS3Client, bucket: str, window: str
) -> None:
    url = client.get_presigned_url(Bucket=bucket, Key="kt", Method="PUT", Expired=300, Headers={"Host": _host(bucket)})
    query = {k: (window if k in ("q-sign-time", "q-key-time") else v) for k, v in parse_qsl(urlsplit(url).query)}
    resp = httpx.put(f"{server.endpoint}/kt?{urlencode(query)}", content=b"x", headers={"Host": _host(bucket)})
    _refused_403(resp, "q-key-time")
    assert_absent(client, bucket, "kt")


@pytest.mark.parametrize("send", [_put_with_header, _put_presigned], ids=["header", "presigned"])
def test_a_window_starting_in_the_future_is_403(
    server: ServerProcess, client: CosS3Client, bucket: str, sdk_clock: types.SimpleNamespace, send: object
) -> None:
    """Signed by a client whose clock is an hour ahead: the window starts beyond the allowed skew."""
    sdk_clock.now = time.time() + 3600
    resp = send(server, client, bucket, "future")  # type: ignore[operator]
    _refused_403(resp, "future")
    sdk_clock.now = time.time()
    assert_absent(client, bucket, "future")


@pytest.mark.parametrize("send", [_put_with_header, _put_presigned], ids=["header", "presigned"])
def test_a_client_clock_ahead_within_the_skew_is_accepted(
    server: ServerProcess, client: CosS3Client, bucket: str, sdk_clock: types.SimpleNamespace, send: object
) -> None:
    """The window starts ``SKEW - 120`` s ahead of the server (the SDK starts it 60 s early)."""
    sdk_clock.now = time.time() + SKEW - 60
    resp = send(server, client, bucket, "ahead")  # type: ignore[operator]
    assert resp.status_code == 200, resp.text
    assert client.get_object(Bucket=bucket, Key="ahead")["Body"].get_raw_stream().read() == b"x"


@pytest.mark.parametrize(("ahead", "words"), [(3600, "future"), (None, "q-key-time")])
def test_a_form_upload_window_starting_in_the_future_or_malformed_is_403(
    server: ServerProcess,
    client: CosS3Client,
    bucket: str,
    monkeypatch: pytest.MonkeyPatch,
    ahead: int | None,
    words: str,
) -> None:
    """POST Object checks its own window (the policy's q-key-time) the same way."""
    if ahead is not None:
        now = time.time() + ahead
        monkeypatch.setattr(forms, "time", types.SimpleNamespace(time=lambda: now))
    fields = forms._form(bucket, [{"bucket": bucket}]) | {"key": "form-future"}
    if ahead is None:
        fields["q-key-time"] = "soon;later"
    resp = forms._post(server, bucket, fields, b"payload")
    _refused_403(resp, words)
    assert_absent(client, bucket, "form-future")
