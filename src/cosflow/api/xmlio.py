"""XML in (hardened against entity tricks, bounded in size) and XML out (no namespaces)."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import defusedxml.ElementTree as SafeET
from defusedxml import DefusedXmlException
from starlette.requests import Request

from cosflow.domain import xmldoc
from cosflow.domain.numbers import plain_uint
from cosflow.errors import EntityTooLarge, MalformedXML


async def read_body(request: Request, max_bytes: int) -> bytes:
    """The whole (small) request body, refusing more than ``max_bytes`` without reading it all."""
    declared = request.headers.get("content-length")
    if declared and (plain_uint(declared) or 0) > max_bytes:
        raise EntityTooLarge(f"XML bodies are at most {max_bytes} bytes")
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > max_bytes:
            raise EntityTooLarge(f"XML bodies are at most {max_bytes} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


def parse(data: bytes) -> ET.Element:
    """Parse untrusted XML: DTDs, entities and external references are refused.

    Raises MalformedXML for anything that is not well-formed, including a declared ``encoding``
    Python cannot decode with (``ebcdic-x``, ``rot13``, ``shift_jis``: expat raises LookupError
    or ValueError for those, found by the fuzzer, tests/fuzz)."""
    if not data.strip():
        raise MalformedXML("the request body is empty")
    try:
        return SafeET.fromstring(data, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except DefusedXmlException as exc:
        raise MalformedXML("XML with a DTD, entities or external references is not accepted") from exc
    except ET.ParseError as exc:
        raise MalformedXML(f"the XML is not well-formed: {exc}") from exc
    except (LookupError, ValueError) as exc:  # the declared encoding= is unknown or not a text codec
        raise MalformedXML("the XML declares an encoding that cannot be read; send UTF-8") from exc


async def read_xml(request: Request, max_bytes: int) -> ET.Element:
    return parse(await read_body(request, max_bytes))


def text(element: ET.Element | None, path: str, default: str = "") -> str:
    if element is None:
        return default
    found = element.find(path)
    return default if found is None or found.text is None else found.text


render = xmldoc.render
