"""Hypothesis strategies for hostile pieces of a request: values, keys, headers and XML bodies.

Every draw gives ``(label, value)``: the label names the class of hostility (``huge-number``,
``invalid-utf8``, ``deepen-990``...) and becomes part of a finding's kind, so that one defect met
through many requests is reported once. Path and query values come percent-encoded, ready for the
request line; header values are bytes that HTTP allows in a field (no CR, LF or NUL: a request
the HTTP parser must refuse says nothing about cosflow).
"""

from __future__ import annotations

import base64
import hashlib
import xml.etree.ElementTree as ET
from collections.abc import Callable
from typing import Any
from urllib.parse import quote

from hypothesis import strategies as st

Draw = Callable[[st.SearchStrategy[Any]], Any]


def pct(text: str) -> str:
    return quote(text.encode("utf-8"), safe="")


#: Raw (percent-encoded) query values by class.
QUERY_VALUES: dict[str, st.SearchStrategy[str]] = {
    "plain": st.sampled_from(["1", "0", "a", "true", "10", "1000", "Active", "Paused"]),
    "huge-number": st.sampled_from([20, 4301, 5000]).map(lambda n: "9" * n),
    "negative": st.sampled_from(["-1", "-0", "-99999999999999999999"]),
    "float": st.sampled_from(["1.5", "1e309", "nan", "inf", "0x10", "1_000", "%201", "+1"]),
    "unicode-digits": st.sampled_from(["١٢٣", "１２", "²", "߁"]).map(pct),
    "unicode": st.text(min_size=1, max_size=16).map(pct),
    "invalid-utf8": st.sampled_from(["%ff", "%fe", "a%c0%afb", "%ed%a0%80", "x%80", "%f8%88%80%80%80"]),
    "crlf": st.sampled_from(["a%0d%0aX-Injected:%201", "%0d", "%0a", "x%0d%0a%0d%0a<b>"]),
    "nul": st.sampled_from(["%00", "a%00b"]),
    "control": st.integers(1, 31).map(lambda c: f"a%{c:02x}b") | st.just("%7f"),
    "space-x": st.sampled_from(["%20x", "x%20", "%20", "%09x"]),
    "long": st.sampled_from([300, 2100, 9000]).map(lambda n: "a" * n),
    "empty": st.just(""),
    "garbage": st.sampled_from(["%3C%3E", "%25", "%", "%zz", "+", "%26", "%3D", "'%22", "..%2F..", "*", ","]),
}

#: Header values by class (bytes HTTP allows in a field value).
HEADER_VALUES: dict[str, st.SearchStrategy[bytes]] = {
    "plain": st.sampled_from([b"1", b"0", b"a", b"text/plain", b"true"]),
    "huge-number": st.sampled_from([20, 4301, 5000]).map(lambda n: b"9" * n),
    "negative": st.sampled_from([b"-1", b"-99999999999999999999"]),
    "unicode": st.text(st.characters(exclude_categories=("Cc", "Cs")), min_size=1, max_size=16).map(
        lambda t: t.encode("utf-8")
    ),
    "latin1": st.binary(min_size=1, max_size=8).map(lambda b: bytes(0x80 | c for c in b)),
    "long": st.sampled_from([300, 4000]).map(lambda n: b"a" * n),
    "empty": st.just(b""),
    "garbage": st.sampled_from([b"<>", b"%00", b"%ff", b"\t", b" ", b"=?utf-8?b?5Lit?=", b";", b'"', b"\\"]),
}


def query_value(draw: Draw) -> tuple[str, str]:
    label = draw(st.sampled_from(sorted(QUERY_VALUES)))
    return label, draw(QUERY_VALUES[label])


def header_value(draw: Draw) -> tuple[str, bytes]:
    label = draw(st.sampled_from(sorted(HEADER_VALUES)))
    return label, draw(HEADER_VALUES[label])


def _number(draw: Draw) -> tuple[str, str]:
    label = draw(st.sampled_from(["small", "zero", "huge-number", "unicode-digits", "negative", "space"]))
    value = {
        "small": lambda: str(draw(st.integers(0, 100))),
        "zero": lambda: "0",
        "huge-number": lambda: "9" * draw(st.sampled_from([20, 4301, 5000])),
        "unicode-digits": lambda: draw(st.sampled_from(["١٢", "１", "²"])),
        "negative": lambda: "-5",
        "space": lambda: " 3",
    }[label]()
    return label, value


def range_value(draw: Draw) -> tuple[str, bytes]:
    shape = draw(st.sampled_from(["a-b", "-n", "a-", "multi", "unit", "reversed", "empty", "garbage"]))
    (la, a), (lb, b) = _number(draw), _number(draw)
    text = {
        "a-b": f"bytes={a}-{b}",
        "-n": f"bytes=-{a}",
        "a-": f"bytes={a}-",
        "multi": f"bytes=0-1,{a}-{b}",
        "unit": f"items={a}-{b}",
        "reversed": f"bytes={b}-{a}",
        "empty": "bytes=",
        "garbage": draw(st.sampled_from(["bytes", "bytes=a-b", "bytes==1-", "bytes=1--2", "bytes=-", " bytes=0-"])),
    }[shape]
    label = "+".join(sorted({la, lb} - {"small", "zero"})) or "plain"
    return f"range:{shape}:{label}", text.encode("utf-8")


_DATES = [
    b"Sun, 06 Nov 1994 08:49:37 GMT",
    b"Tue, 31 Dec 9999 23:59:59 GMT",
    b"Mon, 01 Jan 0001 00:00:00 GMT",
    b"Thu, 32 Foo 2024 25:61:61 GMT",
    b"99999999999999999999",
    b"Sunday, 06-Nov-94 08:49:37 GMT",
    b"Sun Nov  6 08:49:37 1994",
    b"Sat, 01 Jan 100000 00:00:00 GMT",
]
_ETAGS = [b'"d41d8cd98f00b204e9800998ecf8427e"', b"*", b'W/"x"', b'"a", "b"', b"", b'"' + b"f" * 4000 + b'"']


def _md5(draw: Draw) -> bytes:
    kind = draw(st.sampled_from(["other", "garbage", "short"]))
    if kind == "other":
        return base64.b64encode(hashlib.md5(draw(st.binary(max_size=8))).digest())
    return {"garbage": b"not base64!!", "short": b"AAAA"}[kind]


#: name -> how its value is drawn (a label and bytes). ``None``: any header value class.
HEADERS: dict[str, Callable[[Draw], tuple[str, bytes]] | None] = {
    "Range": range_value,
    "If-Match": lambda d: ("etag", d(st.sampled_from(_ETAGS))),
    "If-None-Match": lambda d: ("etag", d(st.sampled_from(_ETAGS))),
    "If-Modified-Since": lambda d: ("date", d(st.sampled_from(_DATES))),
    "If-Unmodified-Since": lambda d: ("date", d(st.sampled_from(_DATES))),
    "Content-MD5": lambda d: ("md5", _md5(d)),
    "Content-Type": None,
    "Content-Disposition": None,
    "Content-Encoding": None,
    "Content-Language": None,
    "Cache-Control": None,
    "Expires": lambda d: ("date", d(st.sampled_from(_DATES))),
    "x-cos-meta-fuzz": None,
    "x-cos-acl": lambda d: ("acl", d(st.sampled_from([b"private", b"public-read", b"public-read-write", b"bogus"]))),
    "x-cos-grant-read": None,
    "x-cos-storage-class": None,
    "x-cos-traffic-limit": None,
    "x-cos-forbid-overwrite": None,
    "x-cos-tagging": None,
    "x-cos-server-side-encryption": None,
    "x-cos-content-sha1": None,
    "x-cos-copy-source-range": range_value,
    "x-cos-metadata-directive": None,
    "x-cos-copy-source-If-Modified-Since": lambda d: ("date", d(st.sampled_from(_DATES))),
    "x-cos-copy-source-If-Match": lambda d: ("etag", d(st.sampled_from(_ETAGS))),
    "Pic-Operations": lambda d: ("pic-ops", d(st.sampled_from([b"{", b'{"rules":[{"rule":1}]}', b"[]", b"null"]))),
    "Origin": None,
    "Expect": lambda d: ("100-continue", b"100-continue"),
    "x-cos-security-token": None,
    "X-Odd-Header": None,
}


def header(draw: Draw, names: tuple[str, ...]) -> tuple[str, tuple[str, bytes]]:
    """One header from ``names`` (or any known one), with a drawn value."""
    name = draw(st.sampled_from(names) | st.sampled_from(sorted(HEADERS)))
    how = HEADERS.get(name)
    label, value = how(draw) if how else header_value(draw)
    return f"header:{name}:{label}", (name, value)


KEY_CLASSES: dict[str, st.SearchStrategy[str]] = {
    "unicode": st.text(min_size=1, max_size=24).map(pct),
    "long": st.sampled_from([850, 1023, 1024, 1025, 4000]).map(lambda n: "k" * n),
    "pct-encoded": st.sampled_from(
        ["a%2Fb", "%2e%2e/%2e%2e/etc/passwd", "..%2f..%2fx", "a%25b", "a+b", "%20lead", "trail%20", "a%3Fb", "a%23b"]
    ),
    "invalid-utf8": st.sampled_from(["%ff", "%fe", "a%c0%afb", "%ed%a0%80", "x%80"]),
    "nul": st.sampled_from(["%00", "a%00b", "a%00"]),
    "control": st.integers(1, 31).map(lambda c: f"a%{c:02x}b") | st.just("a%7fb"),
    "dots": st.sampled_from([".", "..", "./a", "a/../b", "a//b", "dir/", "/lead", "a/./b"]),
    "xml-chars": st.sampled_from(["%3C%2FKey%3E", "a%26b", "%5D%5D%3E", "%EF%BF%BE", "%EF%BF%BF"]),
}


def key(draw: Draw) -> tuple[str, str]:
    """A hostile object key, percent-encoded for the path."""
    label = draw(st.sampled_from(sorted(KEY_CLASSES)))
    return f"key:{label}", draw(KEY_CLASSES[label])


# --- XML bodies ---------------------------------------------------------------------------------

_DEPTHS = (3, 40, 300, 990, 3000)
_TAGS = ("Foo", "名前", "a-b.c", "Request", "Object", "Key", "Tag", "Name", "Node", "Nodes", "Part")
_MARK = "FUZZDEEPMARK"


def _parents(root: ET.Element) -> dict[ET.Element, ET.Element]:
    return {child: parent for parent in root.iter() for child in parent}


def _text_value(draw: Draw) -> tuple[str, str]:
    label = draw(
        st.sampled_from(["huge-number", "negative", "float", "unicode", "empty", "long", "control", "garbage"])
    )
    value = {
        "huge-number": lambda: "9" * draw(st.sampled_from([20, 4301, 5000])),
        "negative": lambda: draw(st.sampled_from(["-1", "-99999999999999999999"])),
        "float": lambda: draw(st.sampled_from(["1.5", "1e309", "nan", "inf", "0x10"])),
        "unicode": lambda: draw(st.text(min_size=1, max_size=16)),
        "empty": lambda: "",
        "long": lambda: "x" * draw(st.sampled_from([300, 70000])),
        "control": lambda: "a" + chr(draw(st.integers(1, 31))) + "b",
        "garbage": lambda: draw(st.sampled_from(["<>", "&amp;", "]]>", "${x}", "{{x}}", " "])),
    }[label]()
    return label, value


def _serialise(root: ET.Element) -> bytes:
    return ET.tostring(root, encoding="utf-8", xml_declaration=True)


def _tree_op(draw: Draw, root: ET.Element, op: str) -> tuple[str, bytes]:
    elements = list(root.iter())
    inner = elements[1:] or elements
    parents = _parents(root)
    target = draw(st.sampled_from(inner))
    parent = parents.get(target)
    if op == "drop" and parent is not None:
        parent.remove(target)
        return "xml:drop", _serialise(root)
    if op == "duplicate" and parent is not None:
        copies = draw(st.sampled_from([1, 2, 60, 1500]))
        at = list(parent).index(target)
        for _ in range(copies):
            parent.insert(at, ET.fromstring(ET.tostring(target)))
        return f"xml:duplicate-{copies}", _serialise(root)
    if op == "deepen":
        depth = draw(st.sampled_from(_DEPTHS))
        tag = draw(st.sampled_from([target.tag, "A"]))
        for child in list(target):
            target.remove(child)
        target.text = _MARK
        body = _serialise(root)
        return f"xml:deepen-{depth}", body.replace(
            _MARK.encode(), f"<{tag}>".encode() * depth + b"1" + f"</{tag}>".encode() * depth
        )
    if op == "rename":
        target.tag = draw(st.sampled_from(_TAGS))
        return "xml:rename", _serialise(root)
    if op == "attribute":
        target.set(draw(st.sampled_from(["xmlns", "xmlns:x", "id", "x"])), draw(st.sampled_from(["", "urn:x", "1"])))
        return "xml:attribute", _serialise(root)
    if op == "add-child":
        child = ET.SubElement(target, draw(st.sampled_from(_TAGS)))
        label, child.text = _text_value(draw)
        return f"xml:add-child:{label}", _serialise(root)
    leaves = [e for e in elements if len(e) == 0] or elements
    leaf = draw(st.sampled_from(leaves))
    label, leaf.text = _text_value(draw)
    return f"xml:text:{label}", _serialise(root)


def _byte_op(draw: Draw, body: bytes, op: str) -> tuple[str, bytes]:
    if op == "truncate":
        return "xml:truncate", body[: draw(st.integers(0, max(0, len(body) - 1)))]
    if op == "invalid-utf8":
        at = body.rfind(b"</")
        return "xml:invalid-utf8", body[:at] + draw(
            st.sampled_from([b"\xff\xfe", b"\xc0\xaf", b"\xed\xa0\x80"])
        ) + body[at:]
    if op == "doctype":
        decl, _, rest = body.partition(b"?>")
        dtd = b'<!DOCTYPE x [<!ENTITY e "entity">]>'
        return "xml:doctype", decl + b"?>" + dtd + rest.replace(b"</", b"&e;</", 1)
    if op == "encoding":
        name = draw(st.sampled_from([b"UTF-16", b"latin-1", b"ebcdic-x", b"", b"shift_jis", b"rot13", b"idna"]))
        return "xml:encoding", body.replace(b'encoding="utf-8"', b'encoding="' + name + b'"', 1)
    if op == "oversize":
        return "xml:oversize", body.replace(b"?>", b"?><!--" + b" " * (1024 * 1024 + 10) + b"-->", 1)
    whole = {
        "empty": b"",
        "garbage": b"not xml at all",
        "json": b'{"Request": {"Name": "x"}}',
        "other-root": b"<Other/>",
        "bom": b"\xef\xbb\xbf" + body,
    }
    return f"xml:{op}", whole[op]


TREE_OPS = ("drop", "duplicate", "deepen", "rename", "attribute", "add-child", "text")
BYTE_OPS = (
    "truncate",
    "invalid-utf8",
    "doctype",
    "encoding",
    "oversize",
    "empty",
    "garbage",
    "json",
    "other-root",
    "bom",
)


def xml_body(draw: Draw, body: bytes) -> tuple[str, bytes]:
    """One mutation of a valid XML body: a change to its tree (mostly) or to its bytes."""
    op = draw(st.sampled_from(TREE_OPS) | st.sampled_from(BYTE_OPS))
    if op in TREE_OPS:
        return _tree_op(draw, ET.fromstring(body), op)
    return _byte_op(draw, body, op)
