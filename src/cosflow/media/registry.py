"""The production registry: node Type -> processor. Types absent here are refused at creation.

Processors are built on first use: PyAV, numpy and Pillow cost about 40 MB of memory, which a
server that only stores objects never needs to pay.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping

from cosflow.media.base import Processor


def _transcode() -> Processor:
    from cosflow.media.transcode import Transcode

    return Transcode()


def _snapshot() -> Processor:
    from cosflow.media.snapshot import Snapshot

    return Snapshot()


def _smartcover() -> Processor:
    from cosflow.media.smartcover import SmartCover

    return SmartCover()


def _animation() -> Processor:
    from cosflow.media.animation import Animation

    return Animation()


def _segment() -> Processor:
    from cosflow.media.segment import Segment

    return Segment()


def _picprocess() -> Processor:
    from cosflow.media.picprocess import PicProcess

    return PicProcess()


FACTORIES: dict[str, Callable[[], Processor]] = {
    "Transcode": _transcode,
    "Snapshot": _snapshot,
    "SmartCover": _smartcover,
    "Animation": _animation,
    "Segment": _segment,
    "PicProcess": _picprocess,
}


class LazyRegistry(Mapping[str, Processor]):
    def __init__(self, factories: Mapping[str, Callable[[], Processor]]) -> None:
        self._factories = dict(factories)
        self._built: dict[str, Processor] = {}

    def __getitem__(self, node_type: str) -> Processor:
        if node_type not in self._built:
            self._built[node_type] = self._factories[node_type]()
        return self._built[node_type]

    def __contains__(self, node_type: object) -> bool:  # Mapping's default would build it
        return node_type in self._factories

    def __iter__(self) -> Iterator[str]:
        return iter(self._factories)

    def __len__(self) -> int:
        return len(self._factories)


def default_registry() -> LazyRegistry:
    return LazyRegistry(FACTORIES)
