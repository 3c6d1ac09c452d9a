"""XML documents: reading untrusted ones within bounds, and rendering nested dicts/lists without
namespaces (API responses, callbacks)."""

from __future__ import annotations

import io
import re
import xml.etree.ElementTree as ET
from collections.abc import Mapping
from typing import Any

import defusedxml.ElementTree as SafeET
from defusedxml import DefusedXmlException

from cosflow.errors import MalformedXML, XMLTooComplex

#: Nesting accepted in any XML body. The deepest document a client sends is a CI workflow
#: (Request/MediaWorkflow/Topology/Nodes/<node>/Operation/Output/...: about 8 levels); rendering a
#: stored body inside a response adds 3 more. ElementTree serialises recursively, so a body nested
#: ~970 deep used to be stored and then break every listing (issue 9, defect 3).
MAX_DEPTH = 32
#: Elements accepted in any XML body: a CompleteMultipartUpload of 10,000 parts has 40,001 with a
#: checksum on each part (boto3).
MAX_ELEMENTS = 50_000

#: What XML 1.0 cannot carry at all, even as a character reference (XML 1.0 §2.2 Char): C0 controls
#: but tab, LF and CR; lone surrogates; U+FFFE and U+FFFF.
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
#: Written in their place, so a document stays well-formed whatever a request put in it.
REPLACEMENT = "\ufffd"


def xml_safe(text: str) -> str:
    """``text`` with every character XML 1.0 cannot carry replaced by U+FFFD."""
    return _NOT_XML.sub(REPLACEMENT, text)


def parse(
    data: bytes | str, *, max_depth: int = MAX_DEPTH, max_elements: int = MAX_ELEMENTS, local_names: bool = False
) -> ET.Element:
    """Parse untrusted XML within bounds, checked while it is read (nothing deeper is built).

    ``local_names`` drops the namespace from every tag: S3 SDKs (boto3, minio-go) put
    ``xmlns="http://s3.amazonaws.com/doc/2006-03-01/"`` on their request bodies, and
    ``<{ns}Delete>`` must still read as ``<Delete>``.

    Raises :class:`MalformedXML` for XML that is not well-formed, declares an encoding that cannot
    be read (found by the fuzzer, tests/fuzz), or has a DTD, entities or external references
    (defusedxml), and :class:`XMLTooComplex` (a ``MalformedXML``) past ``max_depth``
    levels or ``max_elements`` elements."""
    raw = data.encode() if isinstance(data, str) else data
    depth = count = 0
    root: ET.Element | None = None
    try:
        events = SafeET.iterparse(
            io.BytesIO(raw), events=("start", "end"), forbid_dtd=True, forbid_entities=True, forbid_external=True
        )
        for event, element in events:
            if event == "end":
                depth -= 1
                continue
            depth, count = depth + 1, count + 1
            root = element if root is None else root
            if local_names and element.tag.startswith("{"):
                element.tag = element.tag.partition("}")[2]
            if depth > max_depth:
                raise XMLTooComplex(f"the XML is nested more than {max_depth} levels deep")
            if count > max_elements:
                raise XMLTooComplex(f"the XML has more than {max_elements} elements")
    except DefusedXmlException as exc:
        raise MalformedXML("XML with a DTD, entities or external references is not accepted") from exc
    except ET.ParseError as exc:
        raise MalformedXML(f"the XML is not well-formed: {exc}") from exc
    except (LookupError, ValueError) as exc:  # a declared encoding= Python cannot read (ebcdic-x, rot13)
        raise MalformedXML("the XML declares an encoding that cannot be read; send UTF-8") from exc
    if root is None:
        raise MalformedXML("the XML has no element")
    return root


def stored(text: str, empty: str) -> tuple[ET.Element, str | None]:
    """XML this server stored (a template body, a workflow topology) and ``None``, or, for a row
    that :func:`parse` would refuse today (stored by an older version, or edited by hand), an
    empty ``<empty/>`` element and the reason: a listing shows such a row with what can be
    shown (its id, so that it can be deleted) instead of failing for every row."""
    try:
        return parse(text), None
    except MalformedXML as exc:
        return ET.Element(empty), exc.message


def _fill(parent: ET.Element, name: str, value: Any) -> None:
    if value is None:
        return
    if isinstance(value, list | tuple):
        for item in value:
            _fill(parent, name, item)
        return
    child = ET.SubElement(parent, name)
    if isinstance(value, ET.Element):
        child.extend(list(value))
        child.text = value.text
    elif isinstance(value, Mapping):
        for key, item in value.items():
            if key.startswith("@"):  # an attribute, e.g. {"@{ns}type": "Group"}
                child.set(key[1:], xml_safe(str(item)))
            else:
                _fill(child, key, item)
    elif isinstance(value, bool):
        child.text = "true" if value else "false"
    else:
        child.text = xml_safe(str(value))


def render(root: str, body: Mapping[str, Any]) -> bytes:
    """Dicts become nested elements (``@name`` keys become attributes), lists repeated elements,
    ``None`` is left out. Text XML 1.0 cannot carry (a NUL from a key, a control character from a
    message) is written as U+FFFD: every document, error bodies included, is well-formed."""
    element = ET.Element(root)
    for key, value in body.items():
        _fill(element, key, value)
    return b"<?xml version='1.0' encoding='utf-8' ?>\n" + ET.tostring(element, encoding="unicode").encode()
