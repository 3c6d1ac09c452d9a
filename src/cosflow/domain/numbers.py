"""The non-negative integers requests carry (part numbers, key times, lengths, counts, tokens).

``str.isdigit()`` accepts '²' and ``int()`` refuses strings past 4,300 digits, so neither check
alone keeps a bad number from becoming a 500: this one function is the check everywhere.
"""

from __future__ import annotations

#: Digits accepted: every such number fits a signed 64-bit database column.
MAX_DIGITS = 18


def plain_uint(text: str, max_digits: int = MAX_DIGITS) -> int | None:
    """``text`` as an int when it is 1 to ``max_digits`` ASCII digits, else ``None``; never raises."""
    if text.isascii() and text.isdigit() and 0 < len(text) <= max_digits:
        return int(text)
    return None
