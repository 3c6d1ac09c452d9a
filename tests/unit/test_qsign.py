"""The q-sign v5 signature: the Go SDK test vector, the official Python SDK, and parse errors."""

from __future__ import annotations

import hashlib
import hmac
import types
from urllib.parse import quote

import pytest
import requests
from qcloud_cos import CosConfig, cos_auth

from cosflow.domain import qsign
from cosflow.errors import AccessDenied

GO_SECRET_KEY = "AKIDZfbOA78asKUYBcXFrJD0a1ICvR98JM"
GO_KEY_TIME = "1480932292;1481012292"
GO_HEADERS = {
    "host": "testbucket-125000000.cos.ap-guangzhou.myqcloud.com",
    "x-cos-content-sha1": "db8ac1c259eb89d4a131b253bacfca5f319d54f2",
    "x-cos-stroage-class": "nearline",
}
GO_SIGNATURE = "ce4ac0ecbcdb30538b3fee0a97cc6389694ce53a"

SECRET_ID = "AKIDunitTestSecretId0000000000000001"
SECRET_KEY = "unitTestSecretKey000000000000001"
HOST = "b-1250000000.cos.ap-guangzhou.myqcloud.com"


# --- the Go SDK test vector -------------------------------------------------------------------------
def test_go_sdk_test_vector() -> None:
    assert qsign.signature(GO_SECRET_KEY, GO_KEY_TIME, "PUT", "/testfile2", {}, GO_HEADERS) == GO_SIGNATURE


def test_go_vector_is_independent_of_header_name_case_and_method_case() -> None:
    headers = {
        "Host": GO_HEADERS["host"],
        "X-Cos-Content-Sha1": GO_HEADERS["x-cos-content-sha1"],
        "X-COS-STROAGE-CLASS": GO_HEADERS["x-cos-stroage-class"],
    }
    assert qsign.signature(GO_SECRET_KEY, GO_KEY_TIME, "put", "/testfile2", {}, headers) == GO_SIGNATURE


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("secret_key", GO_SECRET_KEY + "x"),
        ("key_time", "1480932292;1481012293"),
        ("method", "POST"),
        ("path", "/testfile3"),
    ],
)
def test_go_vector_changes_when_any_input_changes(field: str, value: str) -> None:
    args = {"secret_key": GO_SECRET_KEY, "key_time": GO_KEY_TIME, "method": "PUT", "path": "/testfile2"}
    args[field] = value
    assert qsign.signature(params={}, headers=GO_HEADERS, **args) != GO_SIGNATURE


def test_go_vector_changes_with_a_header_value_or_an_extra_param() -> None:
    tampered = {**GO_HEADERS, "x-cos-stroage-class": "Nearline"}  # values are not lower-cased
    assert qsign.signature(GO_SECRET_KEY, GO_KEY_TIME, "PUT", "/testfile2", {}, tampered) != GO_SIGNATURE
    with_param = qsign.signature(GO_SECRET_KEY, GO_KEY_TIME, "PUT", "/testfile2", {"acl": ""}, GO_HEADERS)
    assert with_param != GO_SIGNATURE


# --- the building blocks ------------------------------------------------------------------------------
def test_host_signatures_reproduce_the_go_vector() -> None:
    others = {k: v for k, v in GO_HEADERS.items() if k != "host"}
    signatures = qsign.HostSignatures(GO_SECRET_KEY, GO_KEY_TIME, "PUT", "/testfile2", {}, others)
    assert signatures.signature(GO_HEADERS["host"]) == GO_SIGNATURE
    assert signatures.signature("other-125000000.cos.ap-guangzhou.myqcloud.com") != GO_SIGNATURE


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Content-Type": "text/plain"},  # sorts before host
        {"x-cos-meta-a": "1", "Range": "bytes=0-1"},  # after host
        {"Content-MD5": "a+b/c==", "If-Match": '"e"', "x-cos-acl": "private", "hosts": "x"},  # both sides
    ],
)
@pytest.mark.parametrize("params", [{}, {"response-content-disposition": 'attachment; filename="a b.mp4"', "A": ""}])
def test_host_signatures_equal_signature_with_host_added(headers: dict[str, str], params: dict[str, str]) -> None:
    """The per-host shortcut used to match bare-host links (api/links.py) signs exactly what
    :func:`qsign.signature` signs with ``host`` among the headers."""
    signatures = qsign.HostSignatures(SECRET_KEY, GO_KEY_TIME, "GET", "/out/报告 1.mp4", params, headers)
    for host in (HOST, "127.0.0.1", "a-1250000000.cos.ap-guangzhou.tencentcos.cn", "[::1]:80"):
        expected = qsign.signature(SECRET_KEY, GO_KEY_TIME, "GET", "/out/报告 1.mp4", params, {**headers, "Host": host})
        assert signatures.signature(host) == expected


def test_sign_key_is_hex_hmac_sha1_of_key_time() -> None:
    expected = hmac.new(GO_SECRET_KEY.encode(), GO_KEY_TIME.encode(), hashlib.sha1).hexdigest()
    assert qsign.sign_key(GO_SECRET_KEY, GO_KEY_TIME) == expected
    assert len(expected) == 40


def test_canonical_pairs_encode_sort_and_lower_case_names() -> None:
    pairs, names = qsign.canonical_pairs(
        {"Prefix": "a b/c", "max-keys": "10", "Encoding-Type": "url", "x-cos-meta-Ü": "ü~-_."}
    )
    assert names == "encoding-type;max-keys;prefix;x-cos-meta-%c3%9c"
    assert pairs == "encoding-type=url&max-keys=10&prefix=a%20b%2Fc&x-cos-meta-%c3%9c=%C3%BC~-_."


def test_canonical_pairs_of_nothing_are_empty() -> None:
    assert qsign.canonical_pairs({}) == ("", "")


def test_canonical_name_matches_what_canonical_pairs_emits() -> None:
    assert qsign.canonical_name("Content-Type") == "content-type"
    assert qsign.canonical_name("a b") == "a%20b"


def test_signature_by_hand_with_params_and_decoded_path() -> None:
    params = {"uploadId": "1 2", "partNumber": "3"}
    headers = {"Host": HOST, "Content-Length": "5"}
    http_string = "put\n/dir/ä b.txt\npartnumber=3&uploadid=1%202\ncontent-length=5&host=" + HOST + "\n"
    string_to_sign = f"sha1\n{GO_KEY_TIME}\n{hashlib.sha1(http_string.encode()).hexdigest()}\n"
    key = qsign.sign_key(SECRET_KEY, GO_KEY_TIME)
    expected = hmac.new(key.encode(), string_to_sign.encode(), hashlib.sha1).hexdigest()
    assert qsign.signature(SECRET_KEY, GO_KEY_TIME, "PUT", "/dir/ä b.txt", params, headers) == expected


def test_authorization_header_round_trips_through_the_parser() -> None:
    value = qsign.authorization_header(
        SECRET_ID, SECRET_KEY, GO_KEY_TIME, "GET", "/k", {"versionId": "v1"}, {"Host": HOST, "Range": "bytes=0-1"}
    )
    auth = qsign.parse_authorization_header(value)
    assert auth.secret_id == SECRET_ID
    assert auth.sign_time == auth.key_time == GO_KEY_TIME
    assert auth.window == (1480932292, 1481012292)
    assert auth.header_list == ("host", "range")
    assert auth.param_list == ("versionid",)
    expected = qsign.signature(
        SECRET_KEY, GO_KEY_TIME, "GET", "/k", {"versionid": "v1"}, {"host": HOST, "range": "bytes=0-1"}
    )
    assert auth.signature == expected


def test_signatures_match() -> None:
    assert qsign.signatures_match(GO_SIGNATURE, GO_SIGNATURE)
    assert not qsign.signatures_match(GO_SIGNATURE, GO_SIGNATURE[:-1] + "b")
    assert not qsign.signatures_match(GO_SIGNATURE, "")


def test_post_policy_signature() -> None:
    policy = b'{"expiration":"2030-01-01T00:00:00Z","conditions":[{"bucket":"b-1250000000"}]}'
    key = hmac.new(SECRET_KEY.encode(), GO_KEY_TIME.encode(), hashlib.sha1).hexdigest()
    expected = hmac.new(key.encode(), hashlib.sha1(policy).hexdigest().encode(), hashlib.sha1).hexdigest()
    assert qsign.post_policy_signature(SECRET_KEY, GO_KEY_TIME, policy) == expected


# --- the official Python SDK's signer -----------------------------------------------------------------
FROZEN_NOW = 1_700_000_000


@pytest.fixture
def frozen_sdk_clock(monkeypatch: pytest.MonkeyPatch) -> str:
    """Freeze the clock the SDK signer reads; returns the KeyTime it will use."""
    monkeypatch.setattr(cos_auth, "time", types.SimpleNamespace(time=lambda: FROZEN_NOW))
    return f"{FROZEN_NOW - 60};{FROZEN_NOW + 10000}"


def _sdk_sign(
    key: str, method: str, params: dict[str, str], headers: dict[str, str], body: bytes
) -> requests.PreparedRequest:
    config = CosConfig(Region="ap-guangzhou", SecretId=SECRET_ID, SecretKey=SECRET_KEY)
    url = "http://127.0.0.1:18080/" + quote(key.encode(), safe="/-_.~")
    prepared = requests.Request(method, url, params=params, headers=headers, data=body).prepare()
    return cos_auth.CosS3Auth(config, key, params)(prepared)


def _verify_like_a_server(request: requests.PreparedRequest, path: str, params: dict[str, str]) -> bool:
    """Recompute over exactly the headers/params the client named, as the server does."""
    auth = qsign.parse_authorization_header(request.headers["Authorization"])
    present_headers = {qsign.canonical_name(k): v for k, v in request.headers.items()}
    present_params = {qsign.canonical_name(k): v for k, v in params.items()}
    headers = {name: present_headers[name] for name in auth.header_list}
    signed_params = {name: present_params[name] for name in auth.param_list}
    expected = qsign.signature(SECRET_KEY, auth.key_time, request.method or "", path, signed_params, headers)
    return qsign.signatures_match(expected, auth.signature)


UNICODE_KEY = "目录/sub dir/naïve file (1) ü+é.txt"
MIXED_PARAMS = {"uploadId": "Upload ID/1", "partNumber": "7", "Response-Content-Type": "text/plain; charset=utf-8"}


def test_sdk_signature_verifies_for_unicode_key_and_mixed_case_params(frozen_sdk_clock: str) -> None:
    headers = {
        "Host": HOST,
        "Content-Type": "text/plain",
        "x-cos-meta-Author": "Zoë / Ünïcode",
        "x-cos-storage-class": "STANDARD",
        "User-Agent": "cos-python-sdk-v5.1.9.44",  # not signed by the SDK
    }
    request = _sdk_sign(UNICODE_KEY, "PUT", MIXED_PARAMS, headers, b"hello")
    auth = qsign.parse_authorization_header(request.headers["Authorization"])

    assert auth.secret_id == SECRET_ID
    assert auth.sign_time == auth.key_time == frozen_sdk_clock
    assert auth.param_list == ("partnumber", "response-content-type", "uploadid")
    assert auth.header_list == (
        "content-length",
        "content-type",
        "host",
        "x-cos-meta-author",
        "x-cos-storage-class",
    )
    assert _verify_like_a_server(request, "/" + UNICODE_KEY, MIXED_PARAMS)


def test_sdk_signature_is_over_the_decoded_path(frozen_sdk_clock: str) -> None:
    request = _sdk_sign(UNICODE_KEY, "GET", {}, {"Host": HOST}, b"")
    assert _verify_like_a_server(request, "/" + UNICODE_KEY, {})
    assert not _verify_like_a_server(request, "/" + quote(UNICODE_KEY), {})
    assert not _verify_like_a_server(request, "/" + UNICODE_KEY.replace(" ", "+"), {})


def test_sdk_signature_fails_for_a_tampered_header_or_param(frozen_sdk_clock: str) -> None:
    request = _sdk_sign("a/b c", "PUT", MIXED_PARAMS, {"Host": HOST, "x-cos-meta-k": "v"}, b"x")
    assert _verify_like_a_server(request, "/a/b c", MIXED_PARAMS)
    assert not _verify_like_a_server(request, "/a/b c", {**MIXED_PARAMS, "partNumber": "8"})
    request.headers["x-cos-meta-k"] = "V"
    assert not _verify_like_a_server(request, "/a/b c", MIXED_PARAMS)


def test_sdk_signs_the_hostname_from_the_url_when_no_host_header_is_given(frozen_sdk_clock: str) -> None:
    request = _sdk_sign("k", "GET", {}, {}, b"")
    auth = qsign.parse_authorization_header(request.headers["Authorization"])
    assert auth.header_list == ("host",)
    expected = qsign.signature(SECRET_KEY, auth.key_time, "GET", "/k", {}, {"host": "127.0.0.1"})
    assert auth.signature == expected
    with_port = qsign.signature(SECRET_KEY, auth.key_time, "GET", "/k", {}, {"host": "127.0.0.1:18080"})
    assert auth.signature != with_port


# --- parse_authorization errors ---------------------------------------------------------------------
def _fields() -> dict[str, str]:
    return {
        "q-sign-algorithm": "sha1",
        "q-ak": SECRET_ID,
        "q-sign-time": GO_KEY_TIME,
        "q-key-time": GO_KEY_TIME,
        "q-header-list": "host",
        "q-url-param-list": "",
        "q-signature": GO_SIGNATURE,
    }


def test_parse_authorization_accepts_a_complete_set() -> None:
    auth = qsign.parse_authorization(_fields())
    assert auth.header_list == ("host",)
    assert auth.param_list == ()
    assert auth.signature == GO_SIGNATURE


def test_parse_authorization_lower_cases_lists_and_signature() -> None:
    fields = {**_fields(), "q-header-list": "Host;X-Cos-Meta-A", "q-url-param-list": "UploadId", "q-signature": "ABC"}
    auth = qsign.parse_authorization(fields)
    assert auth.header_list == ("host", "x-cos-meta-a")
    assert auth.param_list == ("uploadid",)
    assert auth.signature == "abc"


def test_parse_authorization_header_accepts_mixed_case_field_names() -> None:
    value = "&".join(f"{k.upper()}={v}" for k, v in _fields().items())
    assert qsign.parse_authorization_header(value).secret_id == SECRET_ID


@pytest.mark.parametrize("name", ["q-sign-algorithm", "q-ak", "q-sign-time", "q-key-time", "q-signature"])
def test_parse_authorization_missing_field(name: str) -> None:
    fields = _fields()
    del fields[name]
    with pytest.raises(AccessDenied, match=name):
        qsign.parse_authorization(fields)


@pytest.mark.parametrize("name", ["q-ak", "q-signature"])
def test_parse_authorization_empty_field(name: str) -> None:
    with pytest.raises(AccessDenied, match=name):
        qsign.parse_authorization({**_fields(), name: ""})


def test_parse_authorization_header_missing_field() -> None:
    value = "&".join(f"{k}={v}" for k, v in _fields().items() if k != "q-signature")
    with pytest.raises(AccessDenied, match="q-signature"):
        qsign.parse_authorization_header(value)


def test_parse_authorization_header_garbage() -> None:
    with pytest.raises(AccessDenied):
        qsign.parse_authorization_header("Bearer abc")


@pytest.mark.parametrize("algorithm", ["hmac-sha256", "md5", "sha256"])
def test_parse_authorization_bad_algorithm(algorithm: str) -> None:
    with pytest.raises(AccessDenied, match="sha1"):
        qsign.parse_authorization({**_fields(), "q-sign-algorithm": algorithm})


def test_parse_authorization_algorithm_is_case_insensitive() -> None:
    assert qsign.parse_authorization({**_fields(), "q-sign-algorithm": "SHA1"}).secret_id == SECRET_ID


@pytest.mark.parametrize("window", ["1480932292", "abc;def", "1480932292;", ";1481012292", "1.5;2.5", "1;2;3"])
def test_parse_authorization_malformed_time_window(window: str) -> None:
    """Both fields malformed alike, so the window parse itself is what refuses (with only
    q-sign-time changed, the same-window check would refuse first and hide a missing guard)."""
    with pytest.raises(AccessDenied, match="q-key-time must be '<start>;<end>'"):
        qsign.parse_authorization({**_fields(), "q-sign-time": window, "q-key-time": window})


def test_parse_authorization_window_ending_before_it_starts() -> None:
    with pytest.raises(AccessDenied, match="ends before it starts"):
        window = "1481012292;1480932292"
        qsign.parse_authorization({**_fields(), "q-sign-time": window, "q-key-time": window})


def test_parse_authorization_sign_and_key_time_must_agree() -> None:
    """The window is read from the signed q-key-time; an edited q-sign-time must not pass."""
    with pytest.raises(AccessDenied, match="same window"):
        qsign.parse_authorization({**_fields(), "q-sign-time": "1480932292;1999999999"})


@pytest.mark.parametrize(
    "window",
    ["+1480932292;1481012293", "1_480_932_292;1481012293", " 1480932292;1481012293", "1480932292;" + "9" * 4301],
    ids=["sign", "underscores", "space", "4301-digits"],
)
def test_key_time_ends_are_plain_digits(window: str) -> None:
    """int() read '+1', '1_000' and ' 1'; q-key-time goes through domain.numbers like every number."""
    fields = {
        "q-sign-algorithm": "sha1",
        "q-ak": "AKID",
        "q-sign-time": window,
        "q-key-time": window,
        "q-signature": "0" * 40,
    }
    with pytest.raises(AccessDenied, match="q-key-time"):
        qsign.parse_authorization(fields)


# --- the exact refusals, and fields the parser tolerates ----------------------------------------------
@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"q-ak": ""}, "Authorization is missing q-ak"),
        ({"q-ak": "", "q-signature": ""}, "Authorization is missing q-ak, q-signature"),
        ({"q-sign-algorithm": "md5"}, "q-sign-algorithm must be sha1"),
        ({"q-sign-time": "1480932292;1999999999"}, "q-sign-time and q-key-time must be the same window"),
        ({"q-sign-time": "a;b", "q-key-time": "a;b"}, "q-key-time must be '<start>;<end>' in unix seconds"),
        ({"q-sign-time": "2;1", "q-key-time": "2;1"}, "q-sign-time ends before it starts"),
    ],
)
def test_parse_authorization_refusals_say_exactly_what_is_wrong(changes: dict[str, str], message: str) -> None:
    with pytest.raises(AccessDenied) as caught:
        qsign.parse_authorization({**_fields(), **changes})
    assert caught.value.message == message


def test_parse_authorization_without_header_or_param_lists_signs_neither() -> None:
    fields = {k: v for k, v in _fields().items() if k not in ("q-header-list", "q-url-param-list")}
    auth = qsign.parse_authorization(fields)
    assert (auth.header_list, auth.param_list) == ((), ())


def test_parse_authorization_accepts_a_window_of_one_second() -> None:
    window = "1480932292;1480932292"
    assert qsign.parse_authorization({**_fields(), "q-sign-time": window, "q-key-time": window}).window == (
        1480932292,
        1480932292,
    )


def test_parse_authorization_header_splits_each_field_at_its_first_equals_sign() -> None:
    value = "&".join(f"{k}={v}" for k, v in (_fields() | {"q-ak": "AKID=with=equals"}).items())
    assert qsign.parse_authorization_header(value).secret_id == "AKID=with=equals"
