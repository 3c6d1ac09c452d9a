"""The CI API's three time formats (spec §0)."""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

#: Tencent's service reports China time; cosflow does the same so clients see familiar values.
CHINA = timezone(timedelta(hours=8))


def api(moment: datetime) -> str:
    """Workflow/template/queue/job times: ``2022-07-14T12:37:28+0800``."""
    return moment.astimezone(CHINA).strftime("%Y-%m-%dT%H:%M:%S%z")


def callback(moment: datetime) -> str:
    """Workflow callback bodies: ``2022-08-09 14:54:17+0800``."""
    return moment.astimezone(CHINA).strftime("%Y-%m-%d %H:%M:%S%z")


_OFFSET = re.compile(r"([+-]\d{2}):?(\d{2})$")


def parse(text: str) -> datetime:
    """Any of the three forms, ``Z``, or a colon offset; naive times are China time."""
    value = text.strip().replace(" ", "T", 1)
    if value.endswith("Z"):
        value = value[:-1] + "+00:00"
    value = _OFFSET.sub(r"\1:\2", value)
    moment = datetime.fromisoformat(value)
    return moment if moment.tzinfo else moment.replace(tzinfo=CHINA)
