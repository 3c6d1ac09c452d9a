"""ExtFilter (spec §5.3): which uploaded objects start a workflow, by suffix or Content-Type."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass

from cosflow.errors import InvalidArgument

VIDEO = frozenset(["mp4", "mov", "flv", "avi", "mkv", "wmv", "ts", "m3u8", "webm", "mpg", "mpeg", "3gp", "m4v", "rmvb"])
AUDIO = frozenset(["mp3", "aac", "m4a", "wav", "flac", "ogg", "amr", "wma", "opus"])
IMAGE = frozenset(["jpg", "jpeg", "png", "gif", "webp", "bmp", "tiff", "heic", "avif"])
MAX_CUSTOM = 10


@dataclass(frozen=True)
class ExtFilter:
    on: bool = False
    video: bool = False
    audio: bool = False
    image: bool = False
    content_type: bool = False
    custom: bool = False
    custom_exts: frozenset[str] = frozenset()
    all_file: bool = False

    def matches(self, key: str, content_type: str) -> bool:
        if not self.on or self.all_file:
            return True
        if self.content_type:
            major = content_type.split("/", 1)[0].strip().lower()
            kinds = {"video": self.video, "audio": self.audio, "image": self.image}
            return kinds.get(major, False) or (self.custom and self._suffix(key) in self.custom_exts)
        return self._suffix(key) in self._allowed()

    def _allowed(self) -> frozenset[str]:
        allowed: set[str] = set()
        for enabled, names in ((self.video, VIDEO), (self.audio, AUDIO), (self.image, IMAGE)):
            if enabled:
                allowed |= names
        if self.custom:
            allowed |= self.custom_exts
        return frozenset(allowed)

    @staticmethod
    def _suffix(key: str) -> str:
        name = key.rsplit("/", 1)[-1]
        return name.rsplit(".", 1)[-1].lower() if "." in name else ""


def _flag(element: ET.Element, name: str, where: str) -> bool:
    value = (element.findtext(name) or "false").strip().lower()
    if value not in ("true", "false"):
        raise InvalidArgument(f"{where}: ExtFilter {name} must be true or false, got {value!r}")
    return value == "true"


def parse_ext_filter(element: ET.Element | None, where: str) -> ExtFilter:
    if element is None:
        return ExtFilter()
    state = (element.findtext("State") or "Off").strip().lower()
    if state not in ("on", "off"):
        raise InvalidArgument(f"{where}: ExtFilter State must be On or Off")
    flags = {n: _flag(element, n, where) for n in ("Video", "Audio", "Image", "ContentType", "Custom", "AllFile")}
    exts = frozenset(
        e.strip().lower().lstrip(".") for e in (element.findtext("CustomExts") or "").split("/") if e.strip()
    )
    if flags["Custom"] and not exts:
        raise InvalidArgument(f"{where}: ExtFilter Custom=true needs CustomExts (e.g. mp4/mov)")
    if len(exts) > MAX_CUSTOM:
        raise InvalidArgument(f"{where}: ExtFilter CustomExts lists at most {MAX_CUSTOM} extensions")
    return ExtFilter(
        on=state == "on",
        video=flags["Video"],
        audio=flags["Audio"],
        image=flags["Image"],
        content_type=flags["ContentType"],
        custom=flags["Custom"],
        custom_exts=exts if flags["Custom"] else frozenset(),  # without Custom they have no effect
        all_file=flags["AllFile"],
    )
