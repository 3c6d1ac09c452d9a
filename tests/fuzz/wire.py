"""One fuzz request on the wire: raw bytes, signed by the official SDK's signer, sent over
``http.client`` so malformed bytes go out as they are, and its answer judged.

Signing: ``CosS3Client.get_auth`` (cos-python-sdk-v5 ``cos_client.py``, which runs ``CosS3Auth`` of
``cos_auth.py``) is given exactly what the server will read back: the decoded path
(``urllib.parse.unquote``, as the router does), the query as Starlette parses it
(``parse_qsl(keep_blank_values=True)``) and the header values as Starlette decodes them (latin-1).
The SDK picks the headers it signs (``filter_headers``: ``host``, ``content-*``, ``range``,
``if-*``, ``x-cos-*``...), as it does for its own requests, whose prepared headers include
``Content-Length``.
"""

from __future__ import annotations

import http.client
import json
import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field, replace
from urllib.parse import parse_qsl, quote, unquote

from qcloud_cos import CosS3Client


@dataclass(frozen=True)
class Wire:
    """A request as it will be sent. ``path`` and query values are already percent-encoded (a
    value of None is a bare name: ``?uploads``); ``mutations`` name what was done to a valid one."""

    family: str
    method: str
    host: str
    path: str
    query: tuple[tuple[str, str | None], ...] = ()
    headers: tuple[tuple[str, bytes], ...] = ()
    body: bytes = b""
    #: "header" (Authorization), "query" (a presigned link) or "none" (anonymous)
    sign: str = "header"
    #: query names left out of the signature
    unsigned: frozenset[str] = frozenset()
    chunked: bool = False
    mutations: tuple[str, ...] = ()

    @property
    def target(self) -> str:
        pairs = [name if value is None else f"{name}={value}" for name, value in self.query]
        return self.path + ("?" + "&".join(pairs) if pairs else "")

    def header(self, name: str) -> bytes | None:
        return next((v for k, v in self.headers if k.lower() == name.lower()), None)

    def with_headers(self, *pairs: tuple[str, bytes], drop: tuple[str, ...] = ()) -> Wire:
        gone = {d.lower() for d in drop} | {k.lower() for k, _ in pairs}
        kept = tuple((k, v) for k, v in self.headers if k.lower() not in gone)
        return replace(self, headers=kept + pairs)

    def excerpt(self, limit: int = 240) -> dict[str, object]:
        """A short, printable account of the request (for findings and reproducers)."""

        def cut(text: str) -> str:
            return text if len(text) <= limit else f"{text[:limit]}…(+{len(text) - limit} chars)"

        return {
            "family": self.family,
            "mutations": list(self.mutations),
            "method": self.method,
            "target": cut(self.target),
            "headers": [f"{k}: {cut(v.decode('latin-1'))}" for k, v in self.headers if k != "Authorization"],
            "sign": self.sign,
            "body": cut(self.body.decode("utf-8", "backslashreplace")),
            "body_bytes": len(self.body),
        }


def signed(client: CosS3Client, wire: Wire) -> Wire:
    """``wire`` with its signature, computed by the SDK over what the server will read."""
    if wire.sign == "none":
        return wire
    raw_query = "&".join(n if v is None else f"{n}={v}" for n, v in wire.query)
    params = {k: v for k, v in parse_qsl(raw_query, keep_blank_values=True) if k not in wire.unsigned}
    headers = {"Host": wire.host.encode("utf-8").decode("latin-1")}
    for name, value in wire.headers:
        headers.setdefault(name, value.decode("latin-1"))
    if not wire.chunked and "content-length" not in {k.lower() for k in headers}:
        headers["Content-Length"] = str(len(wire.body))
    auth = client.get_auth(Method=wire.method, Bucket=None, Key=unquote(wire.path), Params=params, Headers=headers)
    if wire.sign == "query":  # as get_presigned_url lays it out: the q-* fields, url-encoded
        pairs = tuple((k, quote(v, safe="")) for k, v in (p.split("=", 1) for p in auth.split("&")))
        return replace(wire, query=pairs + wire.query)
    return wire.with_headers(("Authorization", auth.encode()))


@dataclass
class Answer:
    """What came back: a status and body, or ``failure`` ("dropped", "no-answer") when nothing did."""

    status: int | None
    code: str = ""
    body: bytes = b""
    retry_after: bool = False
    content_type: str = ""
    failure: str = ""
    detail: str = ""
    reused: bool = False


def error_code(body: bytes) -> str:
    """The ``<Code>`` of an error body, read as text when the body is not well-formed XML."""
    try:
        root = ET.fromstring(body)
    except ET.ParseError:
        found = re.search(rb"<Code>([^<]{0,64})</Code>", body)
        return found.group(1).decode("latin-1") if found else ""
    return (root.findtext("Code") or "").strip()


def well_formed(body: bytes, content_type: str) -> bool:
    """Whether an error body can be read by a client: XML (or JSON from the ``/api`` endpoints)."""
    if "json" in content_type:
        try:
            json.loads(body)
        except ValueError:
            return False
        return True
    try:
        ET.fromstring(body)
    except ET.ParseError:
        return False
    return True


@dataclass
class Connection:
    """One keep-alive HTTP/1.1 connection, reopened after the server closes it, as clients do."""

    port: int
    timeout: float = 10.0
    _conn: http.client.HTTPConnection | None = field(default=None, repr=False)

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def send(self, wire: Wire) -> Answer:
        reused = self._conn is not None and self._conn.sock is not None
        if self._conn is None:
            self._conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=self.timeout)
        conn = self._conn
        try:
            conn.putrequest(wire.method, wire.target, skip_host=True, skip_accept_encoding=True)
            conn.putheader("Host", wire.host.encode("utf-8"))
            for name, value in wire.headers:
                conn.putheader(name, value)
            if wire.chunked:
                conn.putheader("Transfer-Encoding", "chunked")
            elif wire.header("Content-Length") is None:
                conn.putheader("Content-Length", str(len(wire.body)))
            # chunked: an empty body still gets its last chunk (http.client sends it only for a body)
            conn.endheaders(wire.body if wire.body or wire.chunked else None, encode_chunked=wire.chunked)
            resp = conn.getresponse()
            body = resp.read()
        except (http.client.InvalidURL, ValueError):
            raise  # the fuzzer built something http.client will not send: its own bug, not a finding
        except TimeoutError as exc:
            self.close()
            return Answer(None, failure="no-answer", detail=type(exc).__name__, reused=reused)
        except (OSError, http.client.HTTPException) as exc:
            self.close()
            return Answer(None, failure="dropped", detail=f"{type(exc).__name__}: {exc}"[:200], reused=reused)
        if resp.will_close:
            self.close()
        content_type = resp.getheader("Content-Type") or ""
        return Answer(
            resp.status,
            error_code(body) if resp.status >= 300 else "",
            body,
            resp.getheader("Retry-After") is not None,
            content_type,
            reused=reused,
        )


def judge(wire: Wire, answer: Answer) -> str:
    """The failure an answer shows, or "" when it is a fine answer. A 5xx is a failure except a
    deliberate 501 ``NotImplemented`` (a HEAD answer has no body to name it) and a 503 that says
    when to come back (``Retry-After``). An error body must be well-formed."""
    if answer.status is None:
        return answer.failure
    if answer.status >= 500:
        if answer.status == 501 and (answer.code == "NotImplemented" or wire.method == "HEAD"):
            return ""
        if answer.status == 503 and answer.retry_after:
            return ""
        return "5xx"
    readable = answer.status < 400 or wire.method == "HEAD" or not answer.body
    return "" if readable or well_formed(answer.body, answer.content_type) else "bad-error-body"
