"""Conditional requests (If-Match, If-None-Match, If-Modified-Since, If-Unmodified-Since)."""

from __future__ import annotations

from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

from cosflow.errors import NotModified, PreconditionFailed


def _etags(header: str) -> list[str]:
    return [t.strip().removeprefix("W/").strip('"') for t in header.split(",") if t.strip()]


def _date(header: str | None) -> datetime | None:
    if not header:
        return None
    try:
        moment = parsedate_to_datetime(header)
    except (TypeError, ValueError, OverflowError):  # OverflowError: a 20-digit year, day or hour
        return None  # an unparsable date is ignored, as HTTP requires
    # asctime and "-0000" dates come back naive; HTTP dates are always UTC.
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def check(
    etag: str,
    last_modified: datetime,
    *,
    if_match: str | None = None,
    if_none_match: str | None = None,
    if_modified_since: str | None = None,
    if_unmodified_since: str | None = None,
    is_read: bool = True,
) -> None:
    """Raise :class:`PreconditionFailed` (412) or :class:`NotModified` (304) per RFC 9110 §13.2.2."""
    modified = last_modified.replace(microsecond=0)
    if if_match is not None:
        tags = _etags(if_match)
        if "*" not in tags and etag not in tags:
            raise PreconditionFailed(resource="If-Match")
    else:
        since = _date(if_unmodified_since)
        if since is not None and modified > since:
            raise PreconditionFailed(resource="If-Unmodified-Since")
    if if_none_match is not None:
        tags = _etags(if_none_match)
        if "*" in tags or etag in tags:
            if is_read:
                raise NotModified()
            raise PreconditionFailed(resource="If-None-Match")
    elif is_read:
        since = _date(if_modified_since)
        if since is not None and modified <= since:
            raise NotModified()
