"""Range header parsing for GET Object (``domain.ranges``)."""

from __future__ import annotations

import pytest

from cosflow.domain.ranges import ByteRange, parse_range
from cosflow.errors import InvalidRange

SIZE = 100


@pytest.mark.parametrize("header", [None, ""])
def test_no_header_means_whole_object(header: str | None) -> None:
    assert parse_range(header, SIZE) is None


@pytest.mark.parametrize(
    ("header", "start", "end"),
    [
        ("bytes=0-0", 0, 0),
        ("bytes=0-99", 0, 99),
        ("bytes=10-19", 10, 19),
        ("bytes=10-", 10, 99),
        ("bytes=99-", 99, 99),
        ("bytes=90-1000", 90, 99),  # the end is clamped to the object
        ("bytes=-1", 99, 99),
        ("bytes=-10", 90, 99),
        ("bytes=-100", 0, 99),
        ("bytes=-5000", 0, 99),  # a suffix longer than the object is the whole object
        ("Bytes=1-2", 1, 2),
        (" bytes=1-2 ", 1, 2),
        ("bytes= 3 - 4", 3, 4),
        ("bytes=5-6,8-9", 5, 6),  # several ranges: the first is served
    ],
)
def test_satisfiable_ranges(header: str, start: int, end: int) -> None:
    assert parse_range(header, SIZE) == ByteRange(start, end)


def test_byte_range_length_and_content_range() -> None:
    byte_range = ByteRange(10, 19)
    assert byte_range.length == 10
    assert byte_range.content_range(SIZE) == "bytes 10-19/100"
    assert ByteRange(0, 0).length == 1
    assert ByteRange(0, 0).content_range(1) == "bytes 0-0/1"


@pytest.mark.parametrize(
    "header",
    ["bytes=100-", "bytes=100-200", "bytes=1000-1001", "bytes=-0"],
)
def test_unsatisfiable_ranges_raise(header: str) -> None:
    with pytest.raises(InvalidRange):
        parse_range(header, SIZE)


@pytest.mark.parametrize(("header", "size"), [("bytes=500-", SIZE), ("bytes=-0", SIZE), ("bytes=0-", 0)])
def test_unsatisfiable_range_names_the_header_as_resource(header: str, size: int) -> None:
    with pytest.raises(InvalidRange) as caught:
        parse_range(header, size)
    assert caught.value.resource == header


@pytest.mark.parametrize("header", ["bytes=0-", "bytes=0-0", "bytes=3-9", "bytes=-0", "bytes=-000"])
def test_any_first_byte_range_on_an_empty_object_is_unsatisfiable(header: str) -> None:
    with pytest.raises(InvalidRange):
        parse_range(header, 0)


@pytest.mark.parametrize("header", ["bytes=-1", "bytes=-5", "bytes=-0010", "bytes=-1, 0-0"])
def test_a_suffix_range_of_an_empty_object_is_the_whole_empty_object(header: str) -> None:
    """RFC 9110 §14.1.3: the one satisfiable range of an empty object, yet no ``bytes a-b/0``
    can describe it (``bytes 0--1/0`` is what ``ByteRange(0, size - 1)`` would say): 200."""
    assert parse_range(header, 0) is None


def test_a_suffix_range_of_a_one_byte_object_is_that_byte() -> None:
    assert parse_range("bytes=-1", 1) == ByteRange(0, 0)
    assert parse_range("bytes=-9", 1) == ByteRange(0, 0)


@pytest.mark.parametrize(
    "header",
    [
        "items=0-1",  # another unit
        "bytes",
        "bytes=",
        "bytes=5",  # no dash
        "bytes=-",
        "bytes=a-b",
        "bytes=1-b",
        "bytes=5-2",  # last before first: invalid, so ignored
        "bytes=0x1-0x2",
        "bytes=--1",  # not a suffix range: "-" followed by "-1"
        "bytes=1_0-2_0",  # digits only, no Python integer literal syntax
    ],
)
def test_syntactically_invalid_headers_are_ignored(header: str) -> None:
    assert parse_range(header, SIZE) is None


@pytest.mark.parametrize(
    ("header", "start", "end"),
    [
        ("bytes=0-" + "9" * 4301, 0, 99),
        ("bytes=-" + "9" * 4301, 0, 99),
        ("bytes=" + "0" * 4300 + "5-" + "0" * 4300 + "9", 5, 9),
    ],
    ids=["huge-end", "huge-suffix", "leading-zeros"],
)
def test_positions_of_any_length(header: str, start: int, end: int) -> None:
    """A bare int() answered 500 past 4,300 digits (issue 9, defect 5)."""
    assert parse_range(header, SIZE) == ByteRange(start, end)


def test_a_huge_start_is_past_the_end() -> None:
    with pytest.raises(InvalidRange):
        parse_range("bytes=" + "9" * 4301 + "-", SIZE)
