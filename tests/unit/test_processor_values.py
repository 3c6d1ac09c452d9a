"""Every value a processor reads from a template or a node's Operation, however hostile, is either
used or refused with ``MediaError('InvalidArgument', ...)``: never a ValueError, OverflowError or
MemoryError leaking to a 500 (template and workflow creation) or to an internal task message
(a run meeting a stored row). Issue 9 §6. The fields walked are the schemas' honoured paths
(``domain/schemas.py``), so a field added there is covered here."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from cosflow.domain import schemas
from cosflow.domain.fields import Honoured
from cosflow.domain.topology import TEMPLATE_TAGS
from cosflow.media.base import MediaError
from cosflow.media.registry import default_registry

HOSTILE = (
    "9" * 5000,  # past int()'s 4,300-digit limit
    "9" * 400,  # a float overflows
    "99999999999999999999",
    "-99999999999999999999",
    "1e309",
    "-1e309",
    "nan",
    "inf",
    "-0",
    "0x10",
    "1_000",
    "\u0661\u0662",  # Arabic-Indic digits: str.isdigit() says yes
    "１２",  # fullwidth digits
    "1" * 20 + "." + "5" * 20,
    " ",
    "x" * 3000,
)
_REQUEST = {"Tag", "Name", "Category"}


def _element(root: str, path: str, value: str) -> ET.Element:
    element = ET.Element(root)
    node = element
    for part in path.split("/"):
        node = ET.SubElement(node, part)
    node.text = value
    return element


def _template_cases() -> list[tuple[str, str, str]]:
    cases = []
    for node_type, (tag, _) in TEMPLATE_TAGS.items():
        if node_type not in default_registry() or tag not in schemas.TEMPLATES:
            continue
        for path, rule in schemas.TEMPLATES[tag].fields.items():
            if isinstance(rule, Honoured) and path not in _REQUEST:
                cases += [(node_type, path, value) for value in HOSTILE]
    return cases


def _operation_cases() -> list[tuple[str, str, str]]:
    cases = []
    for node_type, schema in schemas.NODES.items():
        if node_type not in default_registry():
            continue
        for path, rule in schema.fields.items():
            if isinstance(rule, Honoured) and path.startswith("Operation/") and path != "Operation/TemplateId":
                cases += [(node_type, path.removeprefix("Operation/"), value) for value in HOSTILE]
    return cases


def _refused_cleanly(check: object) -> None:
    try:
        check()  # type: ignore[operator]
    except MediaError as exc:
        assert exc.code == "InvalidArgument", exc.code
        assert exc.message and "Traceback" not in exc.message, exc.message


@pytest.mark.parametrize(("node_type", "path", "value"), _template_cases())
def test_a_hostile_template_value_is_used_or_an_invalid_argument(node_type: str, path: str, value: str) -> None:
    tag = TEMPLATE_TAGS[node_type][0]
    processor = default_registry()[node_type]
    _refused_cleanly(lambda: processor.product_count(None, _element(tag, path, value)))


@pytest.mark.parametrize(("node_type", "path", "value"), _operation_cases())
def test_a_hostile_operation_value_is_used_or_an_invalid_argument(node_type: str, path: str, value: str) -> None:
    processor = default_registry()[node_type]
    _refused_cleanly(lambda: processor.product_count(_element("Operation", path, value), None))


_NUMBERS = ("9" * 5000, "9" * 400, "99999999999999999999", "0", "1e309", "\u0661\u0662")
_RULES = [
    f"imageMogr2/{shape.format(n=n)}"
    for n in _NUMBERS
    for shape in (
        "thumbnail/{n}x",
        "thumbnail/x{n}",
        "thumbnail/{n}x{n}!",
        "thumbnail/1x{n}r",
        "thumbnail/!{n}p",
        "thumbnail/!{n}px",
        "thumbnail/!x{n}p",
        "thumbnail/!{n}.{n}p",
        "thumbnail/{n}@",
        "crop/{n}x",
        "crop/x{n}",
        "rotate/{n}",
        "quality/{n}",
        "quality/{n}!",
    )
]


@pytest.mark.parametrize("rule", _RULES)
def test_a_hostile_process_rule_is_used_or_an_invalid_argument_naming_the_field(rule: str) -> None:
    template = _element("PicProcess", "PicProcess/ProcessRule", rule)
    try:
        default_registry()["PicProcess"].product_count(None, template)
    except MediaError as exc:
        assert exc.code == "InvalidArgument" and exc.message.startswith("PicProcess ProcessRule: "), exc.message
        assert len(exc.message) < 300, exc.message  # a 5,000-digit value is not echoed whole


@pytest.mark.parametrize(
    "rule",
    ["imageMogr2/thumbnail/99999999999999999999x", "imageMogr2/thumbnail/x99999999999999999999"],
)
def test_the_issue_cases_are_refused(rule: str) -> None:
    template = _element("PicProcess", "PicProcess/ProcessRule", rule)
    with pytest.raises(MediaError) as refused:
        default_registry()["PicProcess"].product_count(None, template)
    assert refused.value.message.endswith("expected sizes from 1 to 10000 pixels"), refused.value.message
