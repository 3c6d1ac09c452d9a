"""Transcode settings and arguments: the container/codec tables, the template checked into
:class:`Settings`, and ``plan``, which turns a probed input and the settings into FFmpeg's arguments,
copying a stream whenever the source fits (spec §10.1). Pure: nothing here runs or reads a file.

Choices the spec leaves open: absent ``Audio/Samplerate``/``Channels`` keep the source's; odd
sizes round down to even; one side alone keeps the aspect; ``Crf`` is on the x264 scale, mapped
onto 0-63 for VP8/VP9/AV1. HLS is a VOD playlist naming bare segments: MPEG-TS for H.264,
fragmented MP4 (``init.mp4`` + ``.m4s``) for H.265 (Apple players take HEVC in HLS only so, tagged
``hvc1``) and AV1. Video containers need a video stream unless ``Video/Remove``.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

from cosflow.media.base import MediaError
from cosflow.media.params import Fields, invalid
from cosflow.media.probe import MediaInfo, VideoInfo


@dataclass(frozen=True)
class Container:
    format: str
    ext: str
    muxer: str
    video: tuple[str, ...]  # video codecs it takes, the default first; () = audio-only
    audio: tuple[str, ...]  # audio codecs it takes, the default first


CONTAINERS = {
    c.format: c
    for c in (
        Container("mp4", "mp4", "mp4", ("h264", "hevc", "av1"), ("aac", "mp3")),
        Container("hls", "m3u8", "hls", ("h264", "hevc", "av1"), ("aac", "mp3")),
        Container("mkv", "mkv", "matroska", ("h264", "hevc", "av1"), ("aac", "mp3")),
        Container("mov", "mov", "mov", ("h264",), ("aac", "mp3")),
        Container("ts", "ts", "mpegts", ("h264",), ("aac", "mp3")),
        Container("flv", "flv", "flv", ("h264",), ("aac", "mp3")),
        Container("webm", "webm", "webm", ("vp9", "vp8", "av1"), ("opus", "vorbis")),
        Container("mp3", "mp3", "mp3", (), ("mp3",)),
        Container("m4a", "m4a", "ipod", (), ("aac",)),
        Container("aac", "aac", "adts", (), ("aac",)),
        Container("flac", "flac", "flac", (), ("flac",)),
        Container("wav", "wav", "wav", (), ("pcm_s16le",)),
    )
}
VIDEO_ENCODERS = {"h264": "libx264", "hevc": "libx265", "vp8": "libvpx", "vp9": "libvpx-vp9", "av1": "libsvtav1"}
AUDIO_ENCODERS = {
    "aac": "aac", "mp3": "libmp3lame", "opus": "libopus", "vorbis": "libvorbis", "flac": "flac",
    "pcm_s16le": "pcm_s16le",
}  # fmt: skip
_VIDEO_NAMES = {"h.264": "h264", "h264": "h264", "avc": "h264", "h.265": "hevc", "h265": "hevc", "hevc": "hevc"}
_AUDIO_NAMES = {"libopus": "opus", "libvorbis": "vorbis", "pcm": "pcm_s16le"}
#: PyAV reports decoder names; these are the codecs they decode.
_DECODED = {"mp3float": "mp3", "libdav1d": "av1", "libaom-av1": "av1", "libvpx-vp9": "vp9", "libvpx": "vp8"}
_X26X_PRESETS = "ultrafast superfast veryfast faster fast medium slow slower veryslow placebo".split()
_VPX_SPEED = {"realtime": ["-deadline", "realtime", "-cpu-used", "8"], "good": ["-deadline", "good", "-cpu-used", "4"]}
_RATES = {
    "aac": {8000, 11025, 12000, 16000, 22050, 24000, 32000, 44100, 48000, 64000, 88200, 96000},
    "mp3": {8000, 11025, 12000, 16000, 22050, 24000, 32000, 44100, 48000},
    "opus": {8000, 12000, 16000, 24000, 48000},
}
_CHANNELS = {"aac": {1, 2, 4, 5, 6, 8}, "flac": {1, 2, 4, 5, 6, 8}, "mp3": {1, 2}, "opus": {1, 2}}
_FITS = ("none", "scale", "crop", "pad")
_VIDEO_INTS = {
    "Width": (128, 4096), "Height": (128, 4096), "Bitrate": (10, 50000), "Maxrate": (10, 50000),
    "Bufsize": (1000, 128000), "Gop": (1, 100000),
}  # fmt: skip


@dataclass(frozen=True)
class VideoParams:
    codec: str = ""  # "" when the output has no video
    width: int | None = None
    height: int | None = None
    fps: float | None = None
    bitrate: int | None = None  # kbps
    crf: float | None = None
    maxrate: int | None = None  # kbps
    bufsize: int | None = None  # kbit
    gop: int | None = None
    profile: str = ""
    preset: str = ""
    pixfmt: str = ""

    def reshapes(self, source: VideoInfo) -> bool:
        """Whether the pictures change from the source's (so the stream cannot be copied)."""
        if any(f is not None for f in (self.bitrate, self.crf, self.maxrate, self.gop)) or self.profile:
            return True
        resized = self.width not in (None, source.width) or self.height not in (None, source.height)
        return resized or self.pixfmt not in ("", source.pix_fmt) or abs((self.fps or source.fps) - source.fps) > 0.01


@dataclass(frozen=True)
class AudioParams:
    codec: str = ""  # "" when the output has no audio
    samplerate: int | None = None
    bitrate: int | None = None  # kbps
    channels: int | None = None


@dataclass(frozen=True)
class Settings:
    container: Container
    video: VideoParams
    audio: AudioParams
    start: float = 0.0
    duration: float | None = None
    segment_seconds: float = 5.0
    fit: str = "none"
    delete_metadata: bool = False

    @property
    def clipped(self) -> bool:
        return self.start > 0 or self.duration is not None


def _codec(raw: str, names: dict[str, str], allowed: tuple[str, ...], what: str, container: Container) -> str:
    if not raw:
        return allowed[0]
    codec = names.get(raw.lower(), raw.lower())
    if codec not in allowed:
        takes = ", ".join(allowed)
        raise invalid(f"container {container.format} does not take {what} codec {raw}; it takes {takes}")
    return codec


def _speed(codec: str, preset: str) -> str:
    valid = {"h264": _X26X_PRESETS, "hevc": _X26X_PRESETS, "vp8": list(_VPX_SPEED), "vp9": list(_VPX_SPEED)}
    allowed = valid.get(codec, [str(n) for n in range(14)])
    if preset and preset not in allowed:
        raise invalid(f"Video/Preset {preset!r} does not apply to {codec}; use one of {', '.join(allowed)}")
    return preset


def _even(value: int | None) -> int | None:
    return None if value is None else value - value % 2


def _parse_video(fields: Fields, container: Container) -> VideoParams:
    if not container.video or fields.flag("Video/Remove"):
        return VideoParams()
    codec = _codec(fields.text("Video/Codec"), _VIDEO_NAMES, container.video, "video", container)
    profile = fields.text("Video/Profile").lower()
    if codec == "h264" and profile not in ("", "auto", "baseline", "main", "high"):
        raise invalid(f"Video/Profile must be baseline, main, high or auto, got {profile!r}")
    pixfmt = fields.text("Video/Pixfmt").lower()
    if pixfmt and not pixfmt.isalnum():
        raise invalid(f"Video/Pixfmt {pixfmt!r} is not a pixel format name")
    ints = {name.lower(): fields.integer(f"Video/{name}", *limits) for name, limits in _VIDEO_INTS.items()}
    ints["width"], ints["height"] = _even(ints["width"]), _even(ints["height"])
    if ints["maxrate"] is None:  # a buffer without a rate cap bounds nothing (domain/schemas.py)
        ints["bufsize"] = None
    fps, crf = fields.number("Video/Fps", 0.001, 60), fields.number("Video/Crf", 0, 51)
    profile = "" if codec != "h264" or profile == "auto" else profile
    preset = _speed(codec, fields.text("Video/Preset").lower())
    return VideoParams(codec=codec, fps=fps, crf=crf, profile=profile, preset=preset, pixfmt=pixfmt, **ints)


def _parse_audio(fields: Fields, container: Container) -> AudioParams:
    if fields.flag("Audio/Remove"):
        if not container.video:
            raise invalid(f"container {container.format} is audio-only; Audio/Remove cannot be true")
        return AudioParams()
    codec = _codec(fields.text("Audio/Codec"), _AUDIO_NAMES, container.audio, "audio", container)
    samplerate = fields.integer("Audio/Samplerate", 8000, 96000)
    if samplerate is not None and samplerate not in _RATES.get(codec, {samplerate}):
        raise invalid(f"Audio/Samplerate {samplerate} does not suit {codec}: {sorted(_RATES[codec])}")
    channels = fields.integer("Audio/Channels", 1, 8)
    if channels is not None and channels not in _CHANNELS.get(codec, {channels}):
        raise invalid(f"Audio/Channels {channels} does not suit {codec}: {sorted(_CHANNELS[codec])}")
    bitrate = fields.integer("Audio/Bitrate", 8, 1000)
    return AudioParams(codec, samplerate, None if codec in ("flac", "pcm_s16le") else bitrate, channels)


def parse(template: ET.Element | None) -> Settings:
    """The template's parameters, checked; :class:`MediaError` ``InvalidArgument`` when unusable."""
    if template is None:
        raise invalid("Transcode needs a template with Container/Format")
    fields = Fields(template, auto=True)
    name = fields.text("Container/Format").lower()
    container = CONTAINERS.get("hls" if name == "m3u8" else name)
    if container is None:
        raise invalid(f"Container/Format must be one of {', '.join(CONTAINERS)}, got {name or 'nothing'!r}")
    video, audio = _parse_video(fields, container), _parse_audio(fields, container)
    if not video.codec and not audio.codec:
        raise invalid("Video/Remove and Audio/Remove are both true: there is nothing left to transcode")
    fit = fields.text("TransConfig/AdjDarMethod").lower() or "none"
    if fit not in _FITS:
        raise invalid(f"TransConfig/AdjDarMethod must be one of {', '.join(_FITS)}, got {fit!r}")
    start = fields.number("TimeInterval/Start", 0, 864000) or 0.0
    duration = fields.number("TimeInterval/Duration", 0.001, 864000)
    segment = fields.number("Container/ClipConfig/Duration", 1, 3600)
    # Without a box to fit into, or without segments, these have no effect (as in Tencent's service).
    fit = fit if video.width and video.height else "none"
    segment = (segment or 5.0) if container.format == "hls" else 5.0
    return Settings(container, video, audio, start, duration, segment, fit, fields.flag("TransConfig/DeleteMetadata"))


def source_codec(name: str) -> str:
    """The codec a PyAV decoder name stands for (``libdav1d`` -> ``av1``)."""
    return _DECODED.get(name, name)


def _check_input(info: MediaInfo, settings: Settings) -> None:
    missing = "video" if settings.video.codec and (info.video is None or info.video.width <= 0) else ""
    missing = missing or ("audio" if not settings.container.video and info.audio is None else "")
    if missing:
        raise MediaError("InvalidInput", f"{settings.container.format} needs an {missing} stream; the input has none")
    if info.duration and settings.start >= info.duration:
        raise invalid(f"TimeInterval/Start {settings.start:g} s is past the input's end ({info.duration:.3f} s)")


def expected_seconds(info: MediaInfo, settings: Settings) -> float:
    """How long the output should be (0 when the input's duration is unknown)."""
    left = max(0.0, info.duration - settings.start) if info.duration else 0.0
    if settings.duration is not None:
        return min(settings.duration, left) if left else settings.duration
    return left


def _scale(info: MediaInfo, settings: Settings) -> list[str]:
    w, h = settings.video.width, settings.video.height
    if w and h:
        fitted = {
            "none": [f"scale={w}:{h}"],
            "scale": [f"scale={w}:{h}:force_original_aspect_ratio=decrease:force_divisible_by=2"],
            "crop": [f"scale={w}:{h}:force_original_aspect_ratio=increase", f"crop={w}:{h}"],
            "pad": [f"scale={w}:{h}:force_original_aspect_ratio=decrease", f"pad={w}:{h}:-1:-1"],
        }
        return [*fitted[settings.fit], "setsar=1"]
    if w or h:
        return [f"scale={w or -2}:{h or -2}", "setsar=1"]
    source = info.video
    if source is not None and (source.width % 2 or source.height % 2):
        return ["scale=trunc(iw/2)*2:trunc(ih/2)*2"]
    return []


def _rate(v: VideoParams) -> list[str]:
    codec, args = v.codec, []
    if v.crf is not None or v.bitrate is None:
        crf = 25.0 if v.crf is None else v.crf
        scaled = crf if codec in ("h264", "hevc") else max(1.0, crf * 63 / 51)
        args += ["-crf", f"{scaled:g}"]
        if codec in ("vp8", "vp9"):  # libvpx: constant quality wants -b:v as its cap (0 = none, VP9 only)
            args += ["-b:v", f"{v.maxrate}k" if v.maxrate else ("0" if codec == "vp9" else "10M")]
    else:
        args += ["-b:v", f"{v.bitrate}k"]
    if v.maxrate:
        args += ["-maxrate", f"{v.maxrate}k", "-bufsize", f"{v.bufsize or 2 * v.maxrate}k"]
    return args


def _encoder(v: VideoParams) -> list[str]:
    args = ["-c:v", VIDEO_ENCODERS[v.codec]]
    if v.codec in ("h264", "hevc"):
        args += ["-preset", v.preset or "medium"]
    elif v.codec in ("vp8", "vp9"):
        args += [*_VPX_SPEED[v.preset or "good"], "-row-mt", "1"]
    else:
        args += ["-preset", v.preset or "8"]
    if v.codec == "hevc":
        args += ["-x265-params", "log-level=error"]
    return args + (["-profile:v", v.profile] if v.profile else [])


def _hvc1(settings: Settings) -> list[str]:
    mp4_family = settings.container.format in ("mp4", "mov", "hls")
    return ["-tag:v", "hvc1"] if settings.video.codec == "hevc" and mp4_family else []


def _video_args(info: MediaInfo, settings: Settings) -> list[str]:
    v = settings.video
    if not v.codec or info.video is None:
        return ["-vn"]
    args = ["-map", "0:v:0"]
    same = source_codec(info.video.codec) == v.codec
    if same and not settings.clipped and not v.reshapes(info.video):
        return [*args, "-c:v", "copy", *_hvc1(settings)]
    filters = ([f"fps={v.fps:g}"] if v.fps else []) + _scale(info, settings)
    args += _encoder(v) + (["-vf", ",".join(filters)] if filters else [])
    args += ["-pix_fmt", v.pixfmt or "yuv420p", *_rate(v)]
    args += ["-g", str(v.gop)] if v.gop else []
    if settings.container.format == "hls":  # segments can only start on key frames
        args += ["-force_key_frames", f"expr:gte(t,n_forced*{settings.segment_seconds:g})"]
    return args + _hvc1(settings)


def _audio_args(info: MediaInfo, settings: Settings) -> list[str]:
    a, source = settings.audio, info.audio
    if not a.codec or source is None:
        return ["-an"]
    args = ["-map", "0:a:0"]
    fits = source_codec(source.codec) == a.codec and a.bitrate is None and not settings.clipped
    fits = fits and a.samplerate in (None, source.sample_rate) and a.channels in (None, source.channels)
    if fits:
        return [*args, "-c:a", "copy"]
    args += ["-c:a", AUDIO_ENCODERS[a.codec]]
    args += ["-ar", str(a.samplerate)] if a.samplerate else []
    channels = a.channels or (2 if source.channels > 2 and a.codec in ("mp3", "opus") else None)
    args += ["-ac", str(channels)] if channels else []
    return args + (["-b:a", f"{a.bitrate}k"] if a.bitrate else [])


def _muxer(settings: Settings, target: Path) -> list[str]:
    container = settings.container
    if container.format != "hls":
        faststart = ["-movflags", "+faststart"] if container.format in ("mp4", "mov", "m4a") else []
        return [*faststart, "-f", container.muxer, str(target)]
    args = ["-f", "hls", "-hls_time", f"{settings.segment_seconds:g}", "-hls_playlist_type", "vod"]
    args += ["-hls_list_size", "0"]
    extension = "ts"
    if settings.video.codec in ("hevc", "av1"):
        args += ["-hls_segment_type", "fmp4", "-hls_fmp4_init_filename", "init.mp4"]
        extension = "m4s"
    return [*args, "-hls_segment_filename", str(target.parent / f"seg-%05d.{extension}"), str(target)]


def plan(info: MediaInfo, settings: Settings, source: Path, target: Path) -> list[str]:
    """FFmpeg's arguments (after the binary and its global flags) for one input; pure."""
    _check_input(info, settings)
    args = ["-loglevel", "warning", "-stats_period", "0.1"]
    args += ["-ss", f"{settings.start:.3f}"] if settings.start else []
    args += ["-i", str(source), *_video_args(info, settings), *_audio_args(info, settings)]
    args += ["-t", f"{settings.duration:.3f}"] if settings.duration is not None else []
    args += ["-map_metadata", "-1"] if settings.delete_metadata else []
    return args + _muxer(settings, target)
