"""The non-negative integers requests carry (part numbers, key times, lengths, counts, tokens,
byte positions).

``str.isdigit()`` accepts '²', ``int()`` accepts ' 1', '+1', '1_000' and '٣' and refuses strings
past 4,300 digits (a ``ValueError`` that used to become a 500): the functions here are the one
check everywhere a number comes from a header, a query parameter, a form field or a request body.
"""

from __future__ import annotations

#: Digits accepted: every such number fits a signed 64-bit database column.
MAX_DIGITS = 18


def plain_uint(text: str, max_digits: int = MAX_DIGITS) -> int | None:
    """``text`` as an int when it is 1 to ``max_digits`` ASCII digits, else ``None``; never raises."""
    if text.isascii() and text.isdigit() and 0 < len(text) <= max_digits:
        return int(text)
    return None


def capped_uint(text: str, ceiling: int) -> int | None:
    """``text`` as an int no larger than ``ceiling`` when it is ASCII digits of any length (leading
    zeros allowed), else ``None``; never raises and never converts more than ``MAX_DIGITS`` digits.

    For numbers whose size only matters up to a point (a byte position past any object is just
    "past the end", RFC 9110 §14.1.1 allows any number of digits)."""
    if not (text.isascii() and text.isdigit()):
        return None
    value = plain_uint(text.lstrip("0") or "0")
    return ceiling if value is None else min(value, ceiling)
