"""Grouping sorted keys into ``Contents`` and ``CommonPrefixes`` for GET Bucket (v1 and v2)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Generic, TypeVar

T = TypeVar("T")

#: ``fetch(after, limit)`` returns up to ``limit`` ``(key, item)`` rows, sorted by key, with
#: key > after and key >= the listing's prefix.
Fetch = Callable[[str, int], Sequence[tuple[str, T]]]


@dataclass
class Page(Generic[T]):
    contents: list[T] = field(default_factory=list)
    common_prefixes: list[str] = field(default_factory=list)
    is_truncated: bool = False
    #: The last key or common prefix returned: a marker that resumes after this page.
    next_marker: str = ""


def common_prefix(key: str, prefix: str, delimiter: str) -> str | None:
    """The CommonPrefix ``key`` rolls up into, or ``None`` when it is listed itself."""
    if not delimiter:
        return None
    at = key.find(delimiter, len(prefix))
    return None if at < 0 else key[: at + len(delimiter)]


def _skip_past(prefix: str) -> str:
    """A cursor greater than every key that starts with ``prefix``."""
    return prefix + "\U0010ffff"


def build_page(fetch: Fetch[T], prefix: str, delimiter: str, marker: str, max_keys: int) -> Page[T]:
    page: Page[T] = Page()
    cursor = marker
    batch = max(1, min(max_keys + 1, 1000))
    while True:
        rows = fetch(cursor, batch)
        if not rows:
            return page
        for key, item in rows:
            if not key.startswith(prefix):
                return page  # keys sharing the prefix are contiguous: we are past them
            rolled = common_prefix(key, prefix, delimiter)
            if rolled is not None and marker.startswith(rolled):
                cursor = _skip_past(rolled)  # this prefix was returned on an earlier page
                break
            if len(page.contents) + len(page.common_prefixes) >= max_keys:
                page.is_truncated = True
                return page
            if rolled is None:
                page.contents.append(item)
                page.next_marker = cursor = key
                continue
            page.common_prefixes.append(rolled)
            page.next_marker = rolled
            cursor = _skip_past(rolled)
            break
        else:
            if len(rows) < batch:
                return page
