"""Rendering nested dicts/lists as XML documents without namespaces (API responses, callbacks)."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Mapping
from typing import Any


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
                child.set(key[1:], str(item))
            else:
                _fill(child, key, item)
    elif isinstance(value, bool):
        child.text = "true" if value else "false"
    else:
        child.text = str(value)


def render(root: str, body: Mapping[str, Any]) -> bytes:
    """Dicts become nested elements (``@name`` keys become attributes), lists repeated elements,
    ``None`` is left out."""
    element = ET.Element(root)
    for key, value in body.items():
        _fill(element, key, value)
    return b"<?xml version='1.0' encoding='utf-8' ?>\n" + ET.tostring(element, encoding="unicode").encode()
