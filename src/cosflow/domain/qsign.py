"""The COS "q-sign" v5 request signature (spec §2.1), as pure functions.

The server recomputes the signature over exactly the headers and query parameters the client
named in ``q-header-list`` / ``q-url-param-list``; everything else in the request is ignored.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import quote

from cosflow.domain.numbers import plain_uint
from cosflow.errors import AccessDenied

_REQUIRED = ("q-sign-algorithm", "q-ak", "q-sign-time", "q-key-time", "q-signature")


@dataclass(frozen=True)
class Authorization:
    secret_id: str
    sign_time: str
    key_time: str
    header_list: tuple[str, ...]
    param_list: tuple[str, ...]
    signature: str

    @property
    def window(self) -> tuple[int, int]:
        """From q-key-time: the signed one (the SignKey is derived from it). ``ValueError`` unless
        both ends are plain unix seconds (``domain.numbers``: no sign, space, '_' or 4,000 digits)."""
        text_start, _, text_end = self.key_time.partition(";")
        start, end = plain_uint(text_start), plain_uint(text_end)
        if start is None or end is None:
            raise ValueError("q-key-time must be '<start>;<end>' in unix seconds")
        return start, end


#: Text RFC 3986 encoding leaves as it is (bucket hosts, most header names): skips ``quote``.
_UNRESERVED = re.compile(r"[A-Za-z0-9_.~-]*")


def _encode(text: str) -> str:
    if _UNRESERVED.fullmatch(text):
        return text
    return quote(text.encode("utf-8"), safe="-_.~")


def parse_authorization(fields: Mapping[str, str]) -> Authorization:
    """Build an :class:`Authorization` from the ``q-*`` fields (header or query form)."""
    missing = [name for name in _REQUIRED if not fields.get(name)]
    if missing:
        raise AccessDenied(f"Authorization is missing {', '.join(missing)}")
    if fields["q-sign-algorithm"].lower() != "sha1":
        raise AccessDenied("q-sign-algorithm must be sha1")
    auth = Authorization(
        secret_id=fields["q-ak"],
        sign_time=fields["q-sign-time"],
        key_time=fields["q-key-time"],
        header_list=tuple(h for h in fields.get("q-header-list", "").lower().split(";") if h),
        param_list=tuple(p for p in fields.get("q-url-param-list", "").lower().split(";") if p),
        signature=fields["q-signature"].lower(),
    )
    if auth.sign_time != auth.key_time:
        raise AccessDenied("q-sign-time and q-key-time must be the same window")
    try:
        start, end = auth.window
    except ValueError as exc:
        raise AccessDenied("q-key-time must be '<start>;<end>' in unix seconds") from exc
    if end < start:
        raise AccessDenied("q-sign-time ends before it starts")
    return auth


def parse_authorization_header(value: str) -> Authorization:
    fields: dict[str, str] = {}
    for item in value.split("&"):
        name, sep, text = item.partition("=")
        if sep:
            fields[name.strip().lower()] = text.strip()
    return parse_authorization(fields)


def canonical_name(name: str) -> str:
    """How a header or parameter name appears in the string to sign."""
    return _encode(name).lower()


def canonical_pairs(items: Mapping[str, str]) -> tuple[str, str]:
    """``(k1=v1&k2=v2, k1;k2)`` with names lower-cased and both sides RFC 3986 encoded, sorted."""
    encoded = sorted((_encode(k).lower(), _encode(v)) for k, v in items.items())
    return "&".join(f"{k}={v}" for k, v in encoded), ";".join(k for k, _ in encoded)


def sign_key(secret_key: str, key_time: str) -> str:
    return hmac.new(secret_key.encode(), key_time.encode(), hashlib.sha1).hexdigest()


def signature(
    secret_key: str,
    key_time: str,
    method: str,
    path: str,
    params: Mapping[str, str],
    headers: Mapping[str, str],
) -> str:
    """The hex q-signature of one request; ``path`` is the decoded path starting with ``/``."""
    http_params, _ = canonical_pairs(params)
    http_headers, _ = canonical_pairs(headers)
    http_string = f"{method.lower()}\n{path}\n{http_params}\n{http_headers}\n"
    string_to_sign = f"sha1\n{key_time}\n{hashlib.sha1(http_string.encode()).hexdigest()}\n"
    key = sign_key(secret_key, key_time)
    return hmac.new(key.encode(), string_to_sign.encode(), hashlib.sha1).hexdigest()


class HostSignatures:
    """The q-signatures of one request as a function of its Host header alone, for trying many
    hosts cheaply (a bare-host link, api/links.py): the SignKey, the parameter string and the
    other signed headers are computed once; each host costs one SHA1 of the host's part of the
    HttpString and one HMAC (spec §2.1).

    ``headers`` are the signed headers other than ``host``; the signature is the one
    :func:`signature` gives with ``host`` added to them."""

    def __init__(
        self,
        secret_key: str,
        key_time: str,
        method: str,
        path: str,
        params: Mapping[str, str],
        headers: Mapping[str, str],
    ) -> None:
        http_params, _ = canonical_pairs(params)
        encoded = sorted((_encode(k).lower(), _encode(v)) for k, v in headers.items())
        before = "".join(f"{k}={v}&" for k, v in encoded if k < "host")
        self._after = "".join(f"&{k}={v}" for k, v in encoded if k > "host") + "\n"
        self._head = hashlib.sha1(f"{method.lower()}\n{path}\n{http_params}\n{before}host=".encode())
        self._key_time = key_time
        self._mac = hmac.new(sign_key(secret_key, key_time).encode(), digestmod=hashlib.sha1)

    def signature(self, host: str) -> str:
        """The hex q-signature with ``host`` as the Host header."""
        http_string = self._head.copy()
        http_string.update(f"{_encode(host)}{self._after}".encode())
        mac = self._mac.copy()
        mac.update(f"sha1\n{self._key_time}\n{http_string.hexdigest()}\n".encode())
        return mac.hexdigest()


def authorization_header(
    secret_id: str,
    secret_key: str,
    key_time: str,
    method: str,
    path: str,
    params: Mapping[str, str],
    headers: Mapping[str, str],
) -> str:
    """A full Authorization value, as a client would send it (used by ``cosflow`` tools)."""
    _, param_list = canonical_pairs(params)
    _, header_list = canonical_pairs(headers)
    sig = signature(secret_key, key_time, method, path, params, headers)
    return (
        f"q-sign-algorithm=sha1&q-ak={secret_id}&q-sign-time={key_time}&q-key-time={key_time}"
        f"&q-header-list={header_list}&q-url-param-list={param_list}&q-signature={sig}"
    )


def signatures_match(expected: str, given: str) -> bool:
    return hmac.compare_digest(expected.encode(), given.encode())


def post_policy_signature(secret_key: str, key_time: str, policy_json: bytes) -> str:
    """POST Object form signature (spec §2.5): HMAC over SHA1 of the policy text."""
    string_to_sign = hashlib.sha1(policy_json).hexdigest()
    key = sign_key(secret_key, key_time)
    return hmac.new(key.encode(), string_to_sign.encode(), hashlib.sha1).hexdigest()
