"""Authenticating a request: q-sign in the Authorization header, in the query (presigned URLs),
or as one ``sign=`` parameter (the Go SDK's merged form). Spec §2.2.

What a signature covers bounds what it may do (docs/design-choices.md, "Signature scope"): on a
bucket's own host it must cover ``host``, and a query parameter that chooses the operation must be
among those it signs (:func:`require_signed`).
"""

from __future__ import annotations

import time
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from urllib.parse import unquote

from starlette.requests import Request

from cosflow.domain import qsign
from cosflow.errors import AccessDenied, InvalidAccessKeyId, RequestExpired, SignatureDoesNotMatch
from cosflow.settings import Settings


@dataclass(frozen=True)
class Principal:
    """Who is calling: a configured key's SecretId, or nobody (anonymous); and what the signature
    covered: its ``q-url-param-list`` names, and whether it came in the query (a presigned link)."""

    secret_id: str | None
    signed_params: frozenset[str] = frozenset()
    presigned: bool = False

    @property
    def anonymous(self) -> bool:
        return self.secret_id is None


ANONYMOUS = Principal(None)


def _credentials(request: Request) -> tuple[qsign.Authorization | None, bool]:
    """The presented authorization and whether it came in the query (presigned)."""
    header = request.headers.get("authorization", "").strip()
    if header:
        return qsign.parse_authorization_header(header), False
    query = {k.lower(): v for k, v in request.query_params.items()}
    if "q-signature" in query or "q-ak" in query:
        return qsign.parse_authorization(query), True
    if "sign" in query:
        return qsign.parse_authorization_header(unquote(query["sign"])), True
    return None, False


def _pick(items: list[tuple[str, str]], listed: tuple[str, ...], what: str) -> dict[str, str]:
    """The raw ``name: value`` pairs whose canonical names the client listed as signed. A signed
    name given twice is refused: handlers must never read a value other than the one verified."""
    present: dict[str, tuple[str, str]] = {}
    for name, value in items:
        canonical = qsign.canonical_name(name)
        if canonical in present and canonical in listed:
            raise SignatureDoesNotMatch(f"the signed {what[:-3]} {name!r} is given more than once")
        present.setdefault(canonical, (name, value))
    missing = [name for name in listed if name not in present]
    if missing:
        raise SignatureDoesNotMatch(f"signed {what} missing from the request: {', '.join(missing)}")
    return dict(present[name] for name in listed)


def _signed_params(request: Request, auth: qsign.Authorization) -> dict[str, str]:
    return _pick(request.query_params.multi_items(), auth.param_list, "parameter(s)")


def _signed_headers(request: Request, auth: qsign.Authorization, host: str) -> dict[str, str]:
    items = [("host", host)] + [(k, v) for k, v in request.headers.items() if k != "host"]
    unsigned = sorted({k for k, _ in items if k.startswith("x-cos-") and k not in auth.header_list})
    if unsigned:  # e.g. x-cos-copy-source added to a presigned PUT: it would change what happens
        raise SignatureDoesNotMatch(f"x-cos-* headers must be signed; not signed: {', '.join(unsigned)}")
    return _pick(items, auth.header_list, "header(s)")


def _host_variants(host: str) -> list[str]:
    """The Host as received and, for the SDK quirk of signing the hostname alone, without port."""
    variants = [host]
    name, sep, port = host.rpartition(":")
    if sep and port.isdecimal() and not host.endswith("]"):
        variants.append(name)
    return variants


def _checked_key(auth: qsign.Authorization, settings: Settings) -> str:
    """The SecretKey of the presented SecretId, once the signature's window is current."""
    keys = {pair.secret_id: pair.secret_key for pair in settings.credentials}
    secret_key = keys.get(auth.secret_id)
    if secret_key is None:
        raise InvalidAccessKeyId(resource=auth.secret_id)
    start, end = auth.window
    now = int(time.time())
    if now > end:
        raise RequestExpired(f"the signature expired at {end}, it is now {now}")
    if now < start - settings.clock_skew_seconds:
        raise AccessDenied("the signature's start time is too far in the future (check the client clock)")
    return secret_key


def _signed_host(
    request: Request, auth: qsign.Authorization, secret_key: str, hosts: Iterable[str], paths: tuple[str, ...]
) -> str | None:
    """The first of ``hosts`` that, as the request's Host, makes the signature cover it with one of
    ``paths`` as its path; None when none does (SignatureDoesNotMatch for a signed header or
    parameter that is missing or repeated, or an unsigned ``x-cos-*`` header)."""
    params = _signed_params(request, auth)
    for host_value in hosts:
        headers = _signed_headers(request, auth, host_value)
        for path in paths:
            expected = qsign.signature(secret_key, auth.key_time, request.method, path, params, headers)
            if qsign.signatures_match(expected, auth.signature):
                return host_value
    return None


def _mismatch(auth: qsign.Authorization) -> SignatureDoesNotMatch:
    return SignatureDoesNotMatch(
        f"check the SecretKey and the signed method, path, headers ({';'.join(auth.header_list)}) "
        f"and parameters ({';'.join(auth.param_list)})"
    )


def _require_host(auth: qsign.Authorization) -> None:
    """A signature used on a bucket's own host must cover ``host``: the host is all that names the
    bucket there, and a signature without it fits the same path in every bucket. Every official SDK
    signs it unless told not to (cos-nodejs-sdk-v5 ``util.js`` getAuth: "avoid cross-bucket access";
    cos-go-sdk-v5 ``object.go`` GetPresignedURL and the iOS docs warn that leaving it out may cause
    failed requests or a security hole)."""
    if "host" not in auth.header_list:
        raise SignatureDoesNotMatch(
            "the signature does not cover the Host header, which names the bucket: add host to "
            "q-header-list (the SDKs do unless SignHost=False / ForceSignHost=false is set)"
        )


def authenticate(
    request: Request, settings: Settings, signed_paths: tuple[str, ...], *, bucket_in_host: bool
) -> Principal:
    """Who signed the request, or ANONYMOUS when it carries no signature (spec §2.1-§2.2).

    ``bucket_in_host``: the Host names the bucket (virtual-host style, COS or CI), so the signature
    must cover ``host`` (:func:`_require_host`); on the bare host the signed path names it.

    Raises InvalidAccessKeyId (unknown SecretId), RequestExpired / AccessDenied (outside the
    signed window) and SignatureDoesNotMatch (also for a signature without ``host`` where the
    Host names the bucket)."""
    auth, presigned = _credentials(request)
    if auth is None:
        return ANONYMOUS
    secret_key = _checked_key(auth, settings)
    hosts = _host_variants(request.headers.get("host", ""))
    if _signed_host(request, auth, secret_key, hosts, signed_paths) is None:
        raise _mismatch(auth)
    if bucket_in_host:
        _require_host(auth)
    return _principal(auth, presigned)


def _principal(auth: qsign.Authorization, presigned: bool) -> Principal:
    return Principal(auth.secret_id, frozenset(auth.param_list), presigned)


def require_signed(
    request: Request, principal: Principal, selectors: Collection[str], header_form_unsigned: Collection[str] = ()
) -> None:
    """Refuse a query parameter that chooses the operation (one of ``selectors``, lower-case) but
    that the signature does not cover: a link signed for ``PUT <key>`` must not upload a part
    (``&partNumber=1&uploadId=…``), abort an upload or rewrite an ACL. Names are compared as the
    signature lists them (encoded, lower-case), so case hides nothing.

    ``header_form_unsigned``: selectors an official SDK sends unsigned in the Authorization-header
    form (spec §1.2: the Python SDK's ``?cancel``; cos-java-sdk-v5 ``COSSigner`` signs CI workflow
    paths without ``?active`` / ``?paused``); a presigned link must still sign them. Anonymous
    callers are not checked here (they can only read, see api/app.py).

    Raises SignatureDoesNotMatch naming the unsigned parameters."""
    if principal.anonymous:
        return
    allowed = principal.signed_params if principal.presigned else principal.signed_params | set(header_form_unsigned)
    names = {name: qsign.canonical_name(name) for name in request.query_params}
    unsigned = sorted(name for name, canonical in names.items() if canonical in selectors and canonical not in allowed)
    if unsigned:
        raise SignatureDoesNotMatch(
            f"the signature does not cover the parameter(s) {', '.join(unsigned)}, which choose the "
            "operation: sign them (list them in q-url-param-list)"
        )


def is_presigned(request: Request) -> bool:
    """Whether the request carries its signature in the query (a presigned link)."""
    return _credentials(request)[1]


@dataclass(frozen=True)
class LinkCheck:
    """A presigned link that did not verify as sent, ready to be tried against bucket hosts: who
    signed it, and its signature as a function of the Host alone (:class:`qsign.HostSignatures`)."""

    principal: Principal
    presented: str
    signatures: qsign.HostSignatures

    def fits(self, host: str) -> bool:
        """Whether the link's signature covers ``host`` as its Host (one SHA1 and one HMAC)."""
        return qsign.signatures_match(self.signatures.signature(host), self.presented)


def link_check(request: Request, settings: Settings, path: str) -> LinkCheck | None:
    """For a presigned link that did not verify as sent: what is needed to find the bucket host its
    signature covers together with ``path`` (the request's decoded path); None when the request is
    no such link (no signature in the query, or one that does not sign ``host``).

    This is how ``get_presigned_url(..., Headers={"Host": <bucket host>})`` in the SDK's IP/Port
    mode opens as given: its URL names only ``127.0.0.1:<port>`` and ``/<key>``, its signature the
    bucket host. Only links that sign ``host`` qualify; a fitting host grants exactly what the link
    would with that Host header sent, so a link made for one bucket can open nothing in another.
    Raises as :func:`authenticate` does for an unknown key, a window not current or malformed
    signed fields, before any host is tried."""
    auth, presigned = _credentials(request)
    if auth is None or not presigned or "host" not in auth.header_list:
        return None
    secret_key = _checked_key(auth, settings)
    params = _signed_params(request, auth)
    headers = _signed_headers(request, auth, "")
    del headers["host"]
    signatures = qsign.HostSignatures(secret_key, auth.key_time, request.method, path, params, headers)
    return LinkCheck(_principal(auth, presigned), auth.signature, signatures)
