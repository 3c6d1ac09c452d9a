"""Request fields as data: every field of a body is honoured or refused; none that could change
the output is silently ignored.

A :class:`Schema` maps field paths (``Video/Codec``, ``Operation/Output/Object``) below one element
to a rule:

* :class:`Honoured` -- cosflow reads it. ``values`` limits it to the values cosflow implements
  (``TransConfig/IsCheckReso`` only ``false``). ``when`` lists the conditions for it to take
  effect: unmet, it tunes something the request does not ask for (``ExtFilter/CustomExts`` with
  ``Custom`` off, ``Video/*`` with no video stream) and is accepted without effect, as Tencent
  does. ``requires`` lists conditions without which it is refused: another field decides what it
  would decide (``Video/Bitrate`` beside ``Video/Crf``), so honouring the request is impossible
  and dropping the field would surprise (docs/design-choices.md "Fields");
* :class:`Unsupported` -- Tencent defines it (spec §5, §10; cos-go-sdk-v5 ``ci_media.go``), cosflow
  does not implement it: refused, saying why;
* :class:`Ignored` -- accepted and without effect: response-only identity and time fields
  (``WorkflowId``, ``CreateTime``), so that a GET response can be sent back, and fields that can
  never take effect in that body (an Animation's ``Container/ClipConfig/Duration``);
* :class:`Delegated` -- its children are checked by other code (``Topology/Nodes``).

A path in no table, and not a group of some path in the table, is unknown and refused. A field
with neither text nor children counts as absent (SDK demos send ``'MqRegion': ''``). Rules come
from issue 8 ("every field read or refused", conventions §22).
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property

from cosflow.errors import InvalidArgument

BOOL = ("true", "false")
#: ``values`` of a :class:`When` that mean "given, whatever its value".
GIVEN = ("*",)


@dataclass(frozen=True)
class When:
    """The field applies only when ``path`` (from the schema's root) has one of ``values`` (lower
    case; ``""`` = absent, :data:`GIVEN` = any value), or none of them when ``negate``."""

    path: str
    values: tuple[str, ...]
    negate: bool = False

    def holds(self, root: ET.Element) -> bool:
        text = (root.findtext(self.path) or "").strip().lower()
        found = text in self.values or (bool(text) and self.values == GIVEN)
        return found != self.negate

    def describe(self) -> str:
        if self.values == GIVEN:
            return f"{self.path} is {'absent' if self.negate else 'given'}"
        shown = " or ".join(v or "absent" for v in self.values)
        return f"{self.path} is {'not ' if self.negate else ''}{shown}"


@dataclass(frozen=True)
class Honoured:
    values: tuple[str, ...] = ()  # allowed values, lower case; () = any (its reader checks it)
    refused: str = ""  # why other values are refused (they name a feature cosflow lacks)
    pattern: re.Pattern[str] | None = None  # the shape a value must have
    shape: str = ""  # that shape in words
    when: tuple[When, ...] = ()  # unmet: accepted, without effect
    requires: tuple[When, ...] = ()  # unmet (and ``when`` met): refused


@dataclass(frozen=True)
class Unsupported:
    reason: str


@dataclass(frozen=True)
class Ignored:
    reason: str


@dataclass(frozen=True)
class Delegated:
    pass


Rule = Honoured | Unsupported | Ignored | Delegated
HONOURED = Honoured()


@dataclass(frozen=True)
class Schema:
    """The fields below one element. ``name`` completes "is not a field of ..." (``a Transcode node``)."""

    name: str
    fields: Mapping[str, Rule] = field(default_factory=dict)

    @cached_property
    def groups(self) -> frozenset[str]:
        """Every path that holds other fields (``Video`` for ``Video/Codec``)."""
        found: set[str] = set()
        for path in self.fields:
            parts = path.split("/")
            found.update("/".join(parts[:i]) for i in range(1, len(parts)))
        return frozenset(found)

    def paths(self, kind: type) -> list[str]:
        return sorted(p for p, rule in self.fields.items() if isinstance(rule, kind))

    def merged(self, name: str, fields: Mapping[str, Rule]) -> Schema:
        return Schema(name, {**self.fields, **fields})


def check(element: ET.Element, schema: Schema, where: str) -> None:
    """Raise :class:`InvalidArgument` ``"<where>: <path> ..."`` for the first field ``element`` holds
    that ``schema`` does not honour, or return."""
    _walk(element, element, schema, where, "")


def _blank(element: ET.Element) -> bool:
    return not len(element) and not (element.text or "").strip()


def _walk(root: ET.Element, element: ET.Element, schema: Schema, where: str, prefix: str) -> None:
    seen: set[str] = set()
    for child in element:
        if not isinstance(child.tag, str):  # comments, processing instructions
            continue
        path = prefix + child.tag
        rule = schema.fields.get(path)
        if rule is None and path not in schema.groups:
            raise InvalidArgument(f"{where}: {path} is unknown: it is not a field of {schema.name}")
        if isinstance(rule, Ignored | Delegated) or _blank(child):
            continue
        if isinstance(rule, Unsupported):
            raise InvalidArgument(f"{where}: {path} is not supported by cosflow ({rule.reason})")
        if path in seen:
            raise InvalidArgument(f"{where}: {path} is given more than once")
        seen.add(path)
        if rule is None:
            if (child.text or "").strip():
                raise InvalidArgument(f"{where}: {path} holds fields, not text")
            _walk(root, child, schema, where, path + "/")
        else:
            _check_value(root, child, path, rule, where)


def _check_value(root: ET.Element, element: ET.Element, path: str, rule: Honoured, where: str) -> None:
    if len(element):
        raise InvalidArgument(f"{where}: {path}/{element[0].tag} is unknown: {path} is a value, not a group")
    raw = (element.text or "").strip()
    if rule.values and raw.lower() not in rule.values:
        if rule.refused:
            allowed = " or ".join(rule.values)
            raise InvalidArgument(
                f"{where}: {path} {raw} is not supported by cosflow ({rule.refused}); it takes {allowed}"
            )
        raise InvalidArgument(f"{where}: {path} must be {' or '.join(rule.values)}, got {raw!r}")
    if rule.pattern is not None and not rule.pattern.fullmatch(raw):
        raise InvalidArgument(f"{where}: {path} {raw!r} is not supported by cosflow: it takes {rule.shape}")
    if not all(condition.holds(root) for condition in rule.when):
        return  # it tunes something the request does not ask for: no effect, as in Tencent's service
    for condition in rule.requires:
        if not condition.holds(root):
            raise InvalidArgument(
                f"{where}: {path} applies only when {condition.describe()}; here cosflow would not "
                "apply it, so remove it"
            )
