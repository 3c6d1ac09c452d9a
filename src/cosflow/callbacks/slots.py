"""Delivery slots: how many callback attempts may be in flight, in all and per destination, so a
destination that hangs holds at most its own share and every other destination keeps its pace.

A destination is scheme + host + port (``https://hooks.example.com:443``), the unit a receiver
fails as and the key of the HTTP client's per-host connection pool. Pure bookkeeping, no I/O."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from cosflow.domain.deliveries import Callback

_DEFAULT_PORTS = {"http": 80, "https": 443}


def destination(url: str) -> str:
    """``scheme://host:port`` of a callback URL, lower-cased, with the default port filled in
    (``http://A.example/x`` and ``http://a.example:80/y`` are one destination). A URL too broken to
    split is its own destination (the address guard refuses it at delivery)."""
    try:
        parts = urlsplit(url)
        scheme, host = parts.scheme.lower(), parts.hostname or ""
        port = parts.port or _DEFAULT_PORTS.get(scheme, 0)
    except ValueError:
        return url
    return f"{scheme}://[{host}]:{port}" if ":" in host else f"{scheme}://{host}:{port}"


@dataclass
class Plan:
    """What one claim may take: a copy of the counts, so the claim can run in a worker thread
    while attempts finish. Attempts ending meanwhile only make it cautious, never over the bounds."""

    room: int
    per_destination: int
    counts: Counter[str]
    #: In flight already: never claimed twice, even should a lease run out mid-attempt.
    busy_ids: frozenset[str]
    #: URLs whose destination is full: the claim's query can pass over their rows. By URL, not by
    #: destination: a busy destination's other URLs each cost the claim one look (docs/callbacks.md).
    skip_urls: frozenset[str]

    def take(self, callback_id: str, url: str) -> bool:
        """Reserve a slot for a callback to ``url`` if its destination and the whole have room."""
        if self.room <= 0 or callback_id in self.busy_ids:
            return False
        where = destination(url)
        if self.counts[where] >= self.per_destination:
            return False
        self.counts[where] += 1
        self.room -= 1
        return True


@dataclass
class Slots:
    """The attempts in flight in this process. ``total`` and ``per_destination`` come from
    ``callback_concurrency`` and ``callback_destination_concurrency`` (docs/callbacks.md)."""

    total: int
    per_destination: int
    _ids: dict[str, str] = field(default_factory=dict)  # callback id -> its URL
    _counts: Counter[str] = field(default_factory=Counter)  # destination -> attempts in flight

    @property
    def free(self) -> int:
        return self.total - len(self._ids)

    def plan(self) -> Plan:
        full = {d for d, n in self._counts.items() if n >= self.per_destination}
        return Plan(
            room=self.free,
            per_destination=self.per_destination,
            counts=Counter(self._counts),
            busy_ids=frozenset(self._ids),
            skip_urls=frozenset(url for url in self._ids.values() if destination(url) in full),
        )

    def add(self, callback: Callback) -> None:
        self._ids[callback.callback_id] = callback.url
        self._counts[destination(callback.url)] += 1

    def remove(self, callback: Callback) -> None:
        if self._ids.pop(callback.callback_id, None) is None:
            return
        where = destination(callback.url)
        self._counts[where] -= 1
        if self._counts[where] <= 0:
            del self._counts[where]
