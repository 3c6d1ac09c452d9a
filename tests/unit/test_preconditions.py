"""Conditional request headers (``domain.preconditions.check``), RFC 9110 §13.2.2 order."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from cosflow.domain.preconditions import check
from cosflow.errors import NotModified, PreconditionFailed

ETAG = "5d41402abc4b2a76b9719d911017c592"
OTHER = "7d793037a0760186574b0282f2f435e7"
# Stored with sub-second precision, as the database keeps it; HTTP dates have whole seconds.
MODIFIED = datetime(2024, 5, 8, 11, 5, 9, 750_000, tzinfo=UTC)
AT = "Wed, 08 May 2024 11:05:09 GMT"  # the object's Last-Modified as sent to clients
BEFORE = "Wed, 08 May 2024 11:05:08 GMT"
AFTER = "Wed, 08 May 2024 11:05:10 GMT"


def run(**headers: str | bool) -> None:
    check(ETAG, MODIFIED, **headers)  # type: ignore[arg-type]


def test_no_conditions_pass() -> None:
    run()
    run(is_read=False)


# --- If-Match ------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "header",
    [f'"{ETAG}"', ETAG, "*", f'"{OTHER}", "{ETAG}"', f'W/"{ETAG}"', f' "{ETAG}" '],
)
def test_if_match_passes(header: str) -> None:
    run(if_match=header)
    run(if_match=header, is_read=False)


@pytest.mark.parametrize("header", [f'"{OTHER}"', f'"{OTHER}", "x"', '""', f'"{ETAG.upper()}"'])
def test_if_match_fails(header: str) -> None:
    with pytest.raises(PreconditionFailed) as caught:
        run(if_match=header)
    assert caught.value.resource == "If-Match"


def test_if_match_overrides_if_unmodified_since() -> None:
    run(if_match=f'"{ETAG}"', if_unmodified_since=BEFORE)


# --- If-Unmodified-Since ---------------------------------------------------------------------------------
@pytest.mark.parametrize("header", [AT, AFTER, "Thu, 01 Jan 2099 00:00:00 GMT"])
def test_if_unmodified_since_passes(header: str) -> None:
    run(if_unmodified_since=header)


def test_if_unmodified_since_fails_when_modified_later() -> None:
    with pytest.raises(PreconditionFailed) as caught:
        run(if_unmodified_since=BEFORE)
    assert caught.value.resource == "If-Unmodified-Since"
    with pytest.raises(PreconditionFailed):
        run(if_unmodified_since=BEFORE, is_read=False)


def test_unparsable_if_unmodified_since_is_ignored() -> None:
    run(if_unmodified_since="yesterday")


# --- If-None-Match ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("header", [f'"{ETAG}"', "*", f'"{OTHER}", W/"{ETAG}"'])
def test_if_none_match_hit_is_not_modified_on_reads(header: str) -> None:
    with pytest.raises(NotModified):
        run(if_none_match=header)


@pytest.mark.parametrize("header", [f'"{ETAG}"', "*"])
def test_if_none_match_hit_is_precondition_failed_on_writes(header: str) -> None:
    with pytest.raises(PreconditionFailed) as caught:
        run(if_none_match=header, is_read=False)
    assert caught.value.resource == "If-None-Match"


def test_if_none_match_miss_passes() -> None:
    run(if_none_match=f'"{OTHER}"')
    run(if_none_match=f'"{OTHER}"', is_read=False)


def test_if_none_match_overrides_if_modified_since() -> None:
    run(if_none_match=f'"{OTHER}"', if_modified_since=AFTER)


# --- If-Modified-Since -----------------------------------------------------------------------------------
@pytest.mark.parametrize("header", [AT, AFTER])
def test_if_modified_since_not_modified(header: str) -> None:
    with pytest.raises(NotModified):
        run(if_modified_since=header)


def test_if_modified_since_passes_when_modified_later() -> None:
    run(if_modified_since=BEFORE)


def test_if_modified_since_only_applies_to_reads() -> None:
    run(if_modified_since=AFTER, is_read=False)


def test_unparsable_if_modified_since_is_ignored() -> None:
    run(if_modified_since="not a date")


def test_if_modified_since_with_an_offset() -> None:
    # 13:05:09 +0200 is the same instant as 11:05:09 GMT.
    with pytest.raises(NotModified):
        run(if_modified_since="Wed, 08 May 2024 13:05:09 +0200")


# --- order of evaluation ------------------------------------------------------------------------------------
def test_if_match_failure_wins_over_if_none_match() -> None:
    with pytest.raises(PreconditionFailed):
        run(if_match=f'"{OTHER}"', if_none_match=f'"{ETAG}"')


def test_if_unmodified_since_failure_wins_over_if_modified_since() -> None:
    with pytest.raises(PreconditionFailed):
        run(if_unmodified_since=BEFORE, if_modified_since=AFTER)


def test_if_unmodified_since_passes_for_an_older_object() -> None:
    check(ETAG, MODIFIED - timedelta(days=1), if_unmodified_since=BEFORE)


# --- the other HTTP date formats (RFC 9110 §5.6.7: recipients MUST accept all three) ------------------------
@pytest.mark.parametrize(
    ("before", "after"),
    [
        ("Wednesday, 08-May-24 11:05:08 GMT", "Wednesday, 08-May-24 11:05:10 GMT"),  # RFC 850
        ("Wed May  8 11:05:08 2024", "Wed May  8 11:05:10 2024"),  # asctime, no zone: UTC
        ("Wed, 08 May 2024 11:05:08 -0000", "Wed, 08 May 2024 11:05:10 -0000"),  # RFC 5322 "unknown zone"
    ],
)
def test_obsolete_date_formats(before: str, after: str) -> None:
    with pytest.raises(PreconditionFailed):
        run(if_unmodified_since=before)
    run(if_unmodified_since=after)
    with pytest.raises(NotModified):
        run(if_modified_since=after)
    run(if_modified_since=before)


@pytest.mark.parametrize(
    "header",
    [
        "Mon, 01 Jan 99999999999999999999 00:00:00 GMT",
        "Mon, 99999999999999999999 Jan 2020 00:00:00 GMT",
        "Mon, 01 Jan 2020 99999999999999999999:00:00 GMT",
        "Mon, 01 Jan 2020 00:00:00 +99999999999999999999",
        "Mon, 01 Jan " + "9" * 5000 + " 00:00:00 GMT",
    ],
    ids=["year", "day", "hour", "offset", "4301-digit-year"],
)
@pytest.mark.parametrize("name", ["if_modified_since", "if_unmodified_since"])
def test_dates_with_huge_numbers_are_ignored(name: str, header: str) -> None:
    """The stdlib parser raised OverflowError (a 500) for a 20-digit year (issue 9, defect 5);
    an unparsable date is ignored, as HTTP requires."""
    run(**{name: header})
