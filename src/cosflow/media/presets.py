"""The system ("Official") templates, as data (spec §10.1 "System presets").

The real catalogue is not published, so this one follows the names seen in real payloads
(``HLS-FHD``, ``HLS-265-FHD``, ``MP4-265-SD``). Each body has the same shape as a stored custom
template: an element named after the Tag whose children are the request's parameters.

* Video: ``{MP4,HLS}-{H264,265}-{SD,HD,FHD}`` = 540p / 720p / 1080p by ``Height`` (the width
  follows the source's aspect), constant quality (``Crf`` 23 for H.264, 28 for H.265, which look
  alike) capped by ``Maxrate``; AAC 128 kbps, 44.1 kHz, stereo. HLS cuts 5 s segments.
  ``{MP4,HLS}-{SD,HD,FHD}`` are the H.264 ones under the short names the spec saw.
* Audio: ``MP3-128K`` (mp3) and ``AAC-128K`` (AAC in m4a), 44.1 kHz stereo.
* ``Snapshot-Default``: 10 frames spread evenly over the whole input (Mode ``Average``), 320 px
  wide (height follows the aspect); the format follows the Output object's suffix (jpg default).
* ``GIF-Default`` / ``WebP-Default``: the first 3 s, 320 px wide, 10 frames a second.

Ids never change across restarts or versions: ``"t" + sha1(name)[:33]``.
"""

from __future__ import annotations

import hashlib
import xml.etree.ElementTree as ET
from dataclasses import dataclass

Tree = dict[str, "str | Tree"]


@dataclass(frozen=True)
class Preset:
    template_id: str
    name: str
    tag: str
    body_xml: str


def preset_id(name: str) -> str:
    return "t" + hashlib.sha1(name.encode()).hexdigest()[:33]


def _element(tag: str, tree: Tree) -> ET.Element:
    element = ET.Element(tag)
    for child, value in tree.items():
        if isinstance(value, dict):
            element.append(_element(child, value))
        else:
            ET.SubElement(element, child).text = value
    return element


def _preset(name: str, tag: str, tree: Tree) -> Preset:
    return Preset(preset_id(name), name, tag, ET.tostring(_element(tag, tree), encoding="unicode"))


#: (suffix, height, H.264 maxrate kbps, H.265 maxrate kbps)
_RESOLUTIONS = (("SD", 540, 1000, 700), ("HD", 720, 2000, 1400), ("FHD", 1080, 4000, 2800))
_STEREO_AAC: Tree = {"Codec": "aac", "Samplerate": "44100", "Bitrate": "128", "Channels": "2"}


def _video_presets() -> list[Preset]:
    presets = []
    for container in ("MP4", "HLS"):
        box: Tree = {"Format": container.lower()}
        if container == "HLS":
            box["ClipConfig"] = {"Duration": "5"}
        for label, height, h264_max, h265_max in _RESOLUTIONS:
            for family, codec, crf, maxrate in (("H264", "H.264", "23", h264_max), ("265", "H.265", "28", h265_max)):
                video: Tree = {"Codec": codec, "Height": str(height), "Crf": str(crf), "Maxrate": str(maxrate)}
                video |= {"Profile": "high"} if codec == "H.264" else {}
                video["Preset"] = "medium"
                tree: Tree = {"Container": box, "Video": video, "Audio": _STEREO_AAC}
                names = [f"{container}-{family}-{label}"]
                names += [f"{container}-{label}"] if codec == "H.264" else []  # the spec's short names
                presets += [_preset(name, "Transcode", tree) for name in names]
    return presets


def _other_presets() -> list[Preset]:
    mp3: Tree = {**_STEREO_AAC, "Codec": "mp3"}
    clip: Tree = {"Start": "0", "Duration": "3"}
    gif: Tree = {"Codec": "gif", "Width": "320", "Fps": "10"}
    webp: Tree = {"Codec": "webp", "Width": "320", "Fps": "10", "Quality": "75"}
    snapshot: Tree = {"Mode": "Average", "Start": "0", "Count": "10", "Width": "320"}
    return [
        _preset("MP3-128K", "Transcode", {"Container": {"Format": "mp3"}, "Audio": mp3}),
        _preset("AAC-128K", "Transcode", {"Container": {"Format": "m4a"}, "Audio": _STEREO_AAC}),
        _preset("Snapshot-Default", "Snapshot", {"Snapshot": snapshot}),
        _preset("GIF-Default", "Animation", {"Container": {"Format": "gif"}, "Video": gif, "TimeInterval": clip}),
        _preset("WebP-Default", "Animation", {"Container": {"Format": "webp"}, "Video": webp, "TimeInterval": clip}),
    ]


PRESETS: tuple[Preset, ...] = (*_video_presets(), *_other_presets())


def parameters(preset: Preset) -> str:
    """The preset's leaf parameters as ``Path=value`` pairs (for documentation)."""
    root = ET.fromstring(preset.body_xml)

    def leaves(element: ET.Element, prefix: str) -> list[str]:
        if not len(element):
            return [f"{prefix}={element.text or ''}"]
        return [pair for child in element for pair in leaves(child, f"{prefix}/{child.tag}".lstrip("/"))]

    return "; ".join(leaves(root, ""))


def markdown_table() -> str:
    """The table in ``docs/presets.md``, generated from :data:`PRESETS`."""
    rows = ["| Id | Name | Tag | Parameters |", "|---|---|---|---|"]
    rows += [f"| `{p.template_id}` | {p.name} | {p.tag} | {parameters(p)} |" for p in PRESETS]
    return "\n".join(rows) + "\n"
