"""Node parameters as XML fields: their text, flags, numbers and choices, checked where they are read.

A field that is absent or blank reads as ``None`` (or the default given); one that is present but
unusable is a :class:`MediaError` ``InvalidArgument`` naming the field, what it takes and what it got.
"""

from __future__ import annotations

import math
import xml.etree.ElementTree as ET
from collections.abc import Mapping
from dataclasses import dataclass

from cosflow.domain.numbers import plain_uint
from cosflow.media.base import MediaError


def invalid(message: str) -> MediaError:
    return MediaError("InvalidArgument", message)


@dataclass(frozen=True)
class Fields:
    """The fields below one parameter element; errors call them ``<node> <path>``."""

    element: ET.Element | None
    node: str = ""  # "Snapshot", "Animation", ...: the prefix of every message
    auto: bool = False  # ``auto`` (any case) reads as absent, as in Transcode templates

    def _name(self, path: str) -> str:
        return f"{self.node} {path}" if self.node else path

    def text(self, path: str) -> str:
        """``path``'s text, stripped; ``""`` when it (or the element) is absent."""
        return "" if self.element is None else (self.element.findtext(path) or "").strip()

    def flag(self, path: str) -> bool:
        """``true`` (any case) is true; anything else, absence included, is false."""
        return self.text(path).lower() == "true"

    def number(
        self, path: str, low: float, high: float, *, open_low: bool = False, whole: bool = False
    ) -> float | None:
        """A finite number in [``low``, ``high``] (``(low, high]`` when ``open_low``), whole if asked."""
        raw = self.text(path)
        if not raw or (self.auto and raw.lower() == "auto"):
            return None
        try:
            value = float(raw)
        except ValueError:
            raise invalid(f"{self._name(path)} must be a number, got {raw!r}") from None
        above = value > low if open_low else value >= low
        if not (math.isfinite(value) and above and value <= high and (value.is_integer() or not whole)):
            kind = "a whole number" if whole else "a number"
            interval = f"{'(' if open_low else '['}{low:g}, {high:g}]"
            raise invalid(f"{self._name(path)} must be {kind} in {interval}, got {raw}")
        return value

    def integer(self, path: str, low: float, high: float, *, open_low: bool = False) -> int | None:
        """A whole number, however written (``5``, ``5.0``, ``5e0``), in the bounds."""
        value = self.number(path, low, high, open_low=open_low, whole=True)
        return None if value is None else int(value)

    def digits(self, path: str, low: float, high: float) -> int | None:
        """A whole number written in decimal digits alone (no sign, point or exponent), in [low, high]."""
        raw = self.text(path)
        if not raw:
            return None
        value = plain_uint(raw)
        if value is None or not low <= value <= high:
            raise invalid(f"{self._name(path)} must be an integer in [{low:g}, {high:g}], got {raw!r}")
        return value

    def choice(self, path: str, choices: Mapping[str, str], default: str) -> str:
        """The canonical spelling of one of ``choices`` (keyed in lower case), ``default`` when absent."""
        raw = self.text(path)
        if not raw:
            return default
        if raw.lower() not in choices:
            allowed = ", ".join(sorted(set(choices.values())))
            raise invalid(f"{self._name(path)} must be one of {allowed}, got {raw!r}")
        return choices[raw.lower()]
