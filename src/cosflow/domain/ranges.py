"""HTTP byte ranges (RFC 9110 §14) for GET Object: one range, suffix ranges, 416 when unsatisfiable."""

from __future__ import annotations

import re
from dataclasses import dataclass

from cosflow.domain.numbers import capped_uint
from cosflow.errors import InvalidRange

#: Byte positions past this are all "past the end of any object"; RFC 9110 puts no limit on the
#: number of digits, so a longer number is capped here rather than converted.
_FAR = 1 << 62
_RANGE = re.compile(r"^\s*([0-9]*)\s*-\s*([0-9]*)\s*$", re.ASCII)


@dataclass(frozen=True)
class ByteRange:
    start: int
    end: int  # inclusive

    @property
    def length(self) -> int:
        return self.end - self.start + 1

    def content_range(self, size: int) -> str:
        return f"bytes {self.start}-{self.end}/{size}"


def parse_range(header: str | None, size: int) -> ByteRange | None:
    """The range to serve, ``None`` for the whole object (absent or ignorable header).

    Like S3/COS, a syntactically invalid header is ignored; a valid one that selects no byte of
    the object raises :class:`InvalidRange`. Several ranges are not supported: the first is served.
    Positions of any length are accepted (``bytes=<4,301 digits>-`` is past the end: 416).
    """
    if not header:
        return None
    unit, _, spec = header.strip().partition("=")
    found = _RANGE.match(spec.split(",")[0]) if unit.strip().lower() == "bytes" else None
    if found is None or not (found[1] or found[2]):
        return None
    if not found[1]:  # suffix range: the last N bytes
        suffix = _position(found[2])
        if suffix == 0:
            raise InvalidRange(resource=header[:80])
        if size == 0:
            # Satisfiable (RFC 9110 §14.1.3) yet no 206 can describe it: the whole empty object
            # with 200, as Amazon S3 answers (docs/design-choices.md).
            return None
        return ByteRange(max(0, size - suffix), size - 1)
    start = _position(found[1])
    end = _position(found[2]) if found[2] else None
    if end is not None and end < start:
        return None
    if start >= size:
        raise InvalidRange(resource=header[:80])
    return ByteRange(start, size - 1 if end is None else min(end, size - 1))


def _position(digits: str) -> int:
    """A byte position the regex matched (ASCII digits only), capped at :data:`_FAR`."""
    value = capped_uint(digits, _FAR)
    assert value is not None, "the range regex admits ASCII digits only"
    return value
