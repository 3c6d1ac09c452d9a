"""Probing media with PyAV: streams, sizes, durations. Unreadable input is a MediaError, not a crash;
its message names the file by its path (the runner shows the object key instead)."""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av

from cosflow.media.base import MediaError
from cosflow.media.reasons import reason


@dataclass(frozen=True)
class VideoInfo:
    codec: str
    width: int
    height: int
    fps: float
    pix_fmt: str
    bitrate: int


@dataclass(frozen=True)
class AudioInfo:
    codec: str
    sample_rate: int
    channels: int
    bitrate: int


@dataclass(frozen=True)
class MediaInfo:
    format: str
    duration: float
    size: int
    video: VideoInfo | None
    audio: AudioInfo | None


def _fps(rate: Fraction | None) -> float:
    return float(rate) if rate else 0.0


def probe(path: Path) -> MediaInfo:
    if not path.exists() or path.stat().st_size == 0:
        raise MediaError("InvalidInput", f"{path} is empty (0 bytes)")
    try:
        with av.open(str(path)) as container:
            video = next((s for s in container.streams.video), None)
            audio = next((s for s in container.streams.audio), None)
            duration = float(container.duration / av.time_base) if container.duration else 0.0
            if not duration and video is not None and video.duration and video.time_base:
                duration = float(video.duration * video.time_base)
            return MediaInfo(
                format=container.format.name,
                duration=duration,
                size=path.stat().st_size,
                video=None
                if video is None
                else VideoInfo(
                    video.codec_context.name,
                    video.codec_context.width,
                    video.codec_context.height,
                    _fps(video.average_rate),
                    video.codec_context.pix_fmt or "",
                    video.codec_context.bit_rate or 0,
                ),
                audio=None
                if audio is None
                else AudioInfo(
                    audio.codec_context.name,
                    audio.codec_context.sample_rate or 0,
                    audio.codec_context.channels if hasattr(audio.codec_context, "channels") else 0,
                    audio.codec_context.bit_rate or 0,
                ),
            )
    except (av.error.FFmpegError, UnicodeDecodeError, ValueError) as exc:
        raise MediaError("InvalidInput", f"{path} is not a readable media file: {reason(exc)}") from exc


def require_video(info: MediaInfo, what: str) -> VideoInfo:
    if info.video is None or info.video.width <= 0:
        raise MediaError("InvalidInput", f"{what} needs a video stream; the input has none")
    return info.video
