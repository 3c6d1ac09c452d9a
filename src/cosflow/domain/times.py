"""Time formats used on the wire (spec §0 and the COS object API)."""

from __future__ import annotations

from datetime import UTC, datetime
from email.utils import format_datetime


def now() -> datetime:
    return datetime.now(UTC)


def http_date(moment: datetime) -> str:
    """``Last-Modified`` style: ``Wed, 21 Oct 2015 07:28:00 GMT``."""
    return format_datetime(moment.astimezone(UTC).replace(microsecond=0), usegmt=True)


def iso_z(moment: datetime) -> str:
    """Listing style: ``2015-10-21T07:28:00.000Z``."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"
