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
    """A cursor past the keys under ``prefix`` in the common case (keys without U+10FFFF after it);
    :func:`build_page` still checks each key, so rarer keys are skipped one by one, never repeated.
    """
    return prefix + "\U0010ffff"


def build_page(fetch: Fetch[T], prefix: str, delimiter: str, marker: str, max_keys: int) -> Page[T]:
    page: Page[T] = Page()
    if max_keys <= 0:
        return page
    # A marker inside a common prefix means that prefix was returned on an earlier page.
    skipping = common_prefix(marker, prefix, delimiter) if marker.startswith(prefix) else None
    cursor = max(marker, _skip_past(skipping)) if skipping else marker
    batch = min(max_keys + 1, 1000)
    while True:
        rows = fetch(cursor, batch)
        jumped = False
        for key, item in rows:
            if not key.startswith(prefix):
                return page  # keys sharing the prefix are contiguous: we are past them
            cursor = key
            if skipping is not None and key.startswith(skipping):
                continue
            if len(page.contents) + len(page.common_prefixes) >= max_keys:
                page.is_truncated = True
                return page
            rolled = common_prefix(key, prefix, delimiter)
            if rolled is None:
                page.contents.append(item)
                page.next_marker = key
                continue
            page.common_prefixes.append(rolled)
            page.next_marker = skipping = rolled
            cursor, jumped = max(key, _skip_past(rolled)), True
            break
        if not jumped and len(rows) < batch:
            return page
