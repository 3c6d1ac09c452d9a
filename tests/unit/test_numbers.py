"""``domain.numbers.plain_uint``: the one check for integers that arrive in requests."""

from __future__ import annotations

import pytest

from cosflow.domain.numbers import MAX_DIGITS, capped_uint, plain_uint


@pytest.mark.parametrize("text, value", [("0", 0), ("007", 7), ("1" * MAX_DIGITS, int("1" * MAX_DIGITS))])
def test_plain_digits_are_read(text: str, value: int) -> None:
    assert plain_uint(text) == value


@pytest.mark.parametrize("text", ["", "-1", "+1", "1.0", " 1", "\u00b2", "\u0663", "1" * (MAX_DIGITS + 1), "9" * 5000])
def test_anything_else_is_none_never_an_exception(text: str) -> None:
    assert plain_uint(text) is None


@pytest.mark.parametrize(
    "text, value",
    [("0", 0), ("000", 0), ("42", 42), ("0" * 5000 + "7", 7), ("9" * 4301, 1000), ("1" + "0" * 18, 1000), ("999", 999)],
)
def test_capped_uint_reads_any_length_of_digits_up_to_the_ceiling(text: str, value: int) -> None:
    assert capped_uint(text, 1000) == value


@pytest.mark.parametrize("text", ["", "-1", "+1", " 1", "1_0", "\u0663", "\u00b2", "1.0"])
def test_capped_uint_refuses_what_is_not_ascii_digits(text: str) -> None:
    assert capped_uint(text, 1000) is None
