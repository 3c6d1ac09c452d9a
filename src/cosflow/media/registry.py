"""The production registry: node Type -> processor. Types absent here are refused at creation."""

from __future__ import annotations

from cosflow.media.animation import Animation
from cosflow.media.base import Registry
from cosflow.media.picprocess import PicProcess
from cosflow.media.segment import Segment
from cosflow.media.smartcover import SmartCover
from cosflow.media.snapshot import Snapshot
from cosflow.media.transcode import Transcode


def default_registry() -> Registry:
    return {
        "Transcode": Transcode(),
        "Snapshot": Snapshot(),
        "SmartCover": SmartCover(),
        "Animation": Animation(),
        "Segment": Segment(),
        "PicProcess": PicProcess(),
    }
