"""HTTP byte ranges (RFC 9110 §14) for GET Object: one range, suffix ranges, 416 when unsatisfiable."""

from __future__ import annotations

from dataclasses import dataclass

from cosflow.errors import InvalidRange


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
    """
    if not header:
        return None
    unit, _, spec = header.strip().partition("=")
    if unit.strip().lower() != "bytes" or not spec:
        return None
    first = spec.split(",")[0].strip()
    start_text, dash, end_text = first.partition("-")
    if not dash:
        return None
    try:
        if not start_text:  # suffix range: the last N bytes
            suffix = int(end_text)
            if suffix <= 0:
                raise InvalidRange(resource=header)
            if size == 0:
                raise InvalidRange(resource=header)
            return ByteRange(max(0, size - suffix), size - 1)
        start = int(start_text)
        end = int(end_text) if end_text else size - 1
    except ValueError:
        return None
    if start < 0 or end < start:
        return None
    if start >= size:
        raise InvalidRange(resource=header)
    return ByteRange(start, min(end, size - 1))
