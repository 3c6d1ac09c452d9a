"""XML in (hardened against entity tricks, bounded in size, depth and elements) and XML out (no
namespaces)."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from starlette.requests import Request

from cosflow.domain import xmldoc
from cosflow.domain.numbers import capped_uint
from cosflow.errors import EntityTooLarge, MalformedXML


async def read_body(request: Request, max_bytes: int) -> bytes:
    """The whole (small) request body, refusing more than ``max_bytes`` without reading it all."""
    declared = request.headers.get("content-length")
    if declared is not None and (capped_uint(declared, max_bytes + 1) or 0) > max_bytes:
        raise EntityTooLarge(f"XML bodies are at most {max_bytes} bytes")
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > max_bytes:
            raise EntityTooLarge(f"XML bodies are at most {max_bytes} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


def parse(data: bytes, max_elements: int = xmldoc.MAX_ELEMENTS, *, local_names: bool = False) -> ET.Element:
    """Parse untrusted XML (``domain.xmldoc.parse``): DTDs, entities and external references are
    refused, and so are bodies nested deeper than ``xmldoc.MAX_DEPTH`` or with more than
    ``max_elements`` elements (MalformedXML, before anything is stored). ``local_names``: tags
    without their namespace (the S3 one boto3 sends)."""
    if not data.strip():
        raise MalformedXML("the request body is empty")
    return xmldoc.parse(data, max_elements=max_elements, local_names=local_names)


async def read_xml(
    request: Request, max_bytes: int, max_elements: int = xmldoc.MAX_ELEMENTS, *, local_names: bool = False
) -> ET.Element:
    return parse(await read_body(request, max_bytes), max_elements, local_names=local_names)


def text(element: ET.Element | None, path: str, default: str = "") -> str:
    if element is None:
        return default
    found = element.find(path)
    return default if found is None or found.text is None else found.text


render = xmldoc.render
