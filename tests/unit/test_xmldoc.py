"""``domain.xmldoc``: bounded parsing of untrusted XML, and documents that are always well-formed."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from cosflow.domain import xmldoc
from cosflow.errors import MalformedXML, XMLTooComplex


def nested(depth: int) -> bytes:
    return b"<n>" * depth + b"</n>" * depth


def test_depth_up_to_the_bound_is_read() -> None:
    root = xmldoc.parse(nested(xmldoc.MAX_DEPTH))
    assert root.tag == "n" and len(list(root.iter())) == xmldoc.MAX_DEPTH


@pytest.mark.parametrize("depth", [xmldoc.MAX_DEPTH + 1, 970, 100_000])
def test_deeper_is_too_complex(depth: int) -> None:
    with pytest.raises(XMLTooComplex, match="nested"):
        xmldoc.parse(nested(depth))


def test_elements_up_to_the_bound_are_read_and_one_more_is_refused() -> None:
    assert len(xmldoc.parse(b"<r>" + b"<a/>" * 9 + b"</r>", max_elements=10)) == 9
    with pytest.raises(XMLTooComplex, match="elements"):
        xmldoc.parse(b"<r>" + b"<a/>" * 10 + b"</r>", max_elements=10)


def test_too_complex_is_malformed_xml() -> None:
    """The one HTTP table maps both to 400 MalformedXML."""
    assert issubclass(XMLTooComplex, MalformedXML)


@pytest.mark.parametrize(
    "data, word",
    [
        (b"<a>", "well-formed"),
        (b"", "well-formed"),
        (b'<?xml version="1.0"?><!DOCTYPE a [<!ENTITY e "x">]><a>&e;</a>', "DTD"),
        (b"<a>\xff</a>", "well-formed"),
        (b"<a>&#0;</a>", "well-formed"),
    ],
)
def test_what_is_not_xml_is_malformed(data: bytes, word: str) -> None:
    with pytest.raises(MalformedXML, match=word):
        xmldoc.parse(data)


def test_stored_rows_that_cannot_be_read_come_back_empty_with_the_reason() -> None:
    element, problem = xmldoc.stored("<Snapshot><Count>3</Count></Snapshot>", "Snapshot")
    assert problem is None and element.findtext("Count") == "3"
    for text in ("<n>" * 970 + "</n>" * 970, "<unclosed>", ""):
        element, problem = xmldoc.stored(text, "Snapshot")
        assert problem and element.tag == "Snapshot" and len(element) == 0


@pytest.mark.parametrize(
    "bad", ["\x00", "\x01", "\x08", "\x0b", "\x0c", "\x1b", "\x7f\x00", "\ud800", "\udfff", "\ufffe", "\uffff"]
)
def test_render_replaces_what_xml_cannot_carry(bad: str) -> None:
    body = xmldoc.render("Error", {"Code": "NoSuchKey", "Resource": f"bucket/a{bad}b", "Meta": {"@attr": bad}})
    root = ET.fromstring(body)  # expat: strict XML 1.0
    assert root.findtext("Resource") == f"bucket/a{xmldoc.xml_safe(bad)}b"
    assert "\ufffd" in (root.findtext("Resource") or "")


def test_render_keeps_what_xml_can_carry() -> None:
    text = "tab\there, line\nfeed, é, 中, \U0001f600, <&>"
    assert ET.fromstring(xmldoc.render("R", {"T": text})).findtext("T") == text
