"""Snapshot node: still images at time points (Interval, Average, KeyFrame) and sprite sheets (spec §10.1).

Frames are taken with FFmpeg without decoding more of the video than needed: sparse time points are
reached by seeking (``-ss`` before each ``-i``, several inputs per FFmpeg process), dense ones by one
pass over just the needed span with a ``select`` filter, key frames with ``-skip_frame nokey``.
Sprite sheets are composed from the extracted frames by :mod:`cosflow.media.sprites`.
"""

from __future__ import annotations

import math
import shutil
import time
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import av
from PIL import Image

from cosflow.domain.numbers import plain_uint
from cosflow.media import ffmpeg
from cosflow.media.base import Job, MediaError, Product, Progress, share
from cosflow.media.params import Fields, invalid
from cosflow.media.probe import probe, require_video
from cosflow.media.reasons import reason
from cosflow.media.sprites import SpriteConfig, compose_sheets, parse_config

_FORMATS = {"jpg": "jpg", "jpeg": "jpg", "png": "png", "webp": "webp"}
_MODES = {"interval": "Interval", "average": "Average", "keyframe": "KeyFrame"}
_OUT_MODES = {"onlysnapshot": "OnlySnapshot", "onlysprite": "OnlySprite", "snapshotandsprite": "SnapshotAndSprite"}
_DENSE_STEP = 2.0  # seconds: closer time points are cheaper to reach by decoding through than by seeking
_SEEK_BATCH = 16  # inputs (one per time point) opened by one FFmpeg process
_REORDER = 16  # extra packets read past the wanted ones, for B-frame reordering
#: Containers whose index makes ``-ss`` before ``-i`` land on the key frame before the time asked for.
#: Others (MPEG-TS, FLV, AVI, ...) are decoded through from their start instead: slower, never wrong.
_INDEXED = frozenset({"mov,mp4,m4a,3gp,3g2,mj2", "matroska,webm"})


# --- parameters ------------------------------------------------------------------------------------
def _ci_param(text: str) -> tuple[str | None, int | None]:
    """The output format and quality an ``imageMogr2/format/png/quality/80`` rule asks for."""
    fmt: str | None = None
    quality: int | None = None
    for rule in filter(None, (part.strip() for part in text.split("|"))):
        tokens = rule.strip("/").split("/")
        if tokens[0] != "imageMogr2":
            continue
        for key, value in zip(tokens[1::2], tokens[2::2], strict=False):
            if key == "format":
                if value.lower() not in _FORMATS:
                    raise invalid(f"CIParam format must be jpg, png or webp, got {value!r}")
                fmt = _FORMATS[value.lower()]
            elif key == "quality":
                if not 1 <= (plain_uint(value) or 0) <= 100:
                    raise invalid(f"CIParam quality must be in [1, 100], got {value!r}")
                quality = int(value)
    return fmt, quality


@dataclass(frozen=True)
class SnapshotParams:
    mode: str
    start: float
    interval: float | None
    count: int
    width: int | None
    height: int | None
    fmt: str
    quality: int | None
    out_mode: str
    check_count: bool
    black: tuple[int, int] | None  # (BlackLevel %, PixelBlackThreshold) when IsCheckBlack
    sprite: SpriteConfig | None


def _format(fields: Fields, operation: ET.Element | None) -> tuple[str, int | None]:
    fmt, quality = _ci_param(fields.text("CIParam"))
    if fmt is None:  # else the Output object's literal suffix, else jpg (spec §10.1 [INF])
        suffix = Fields(operation).text("Output/Object").rpartition(".")[2].lower()
        fmt = _FORMATS.get(suffix, "jpg")
    return fmt, quality


def parse_params(operation: ET.Element | None, template: ET.Element | None) -> SnapshotParams:
    """The template's ``Snapshot`` element, or the operation's inline one (standalone jobs)."""
    found = (source.find("Snapshot") for source in (template, operation) if source is not None)
    element = next((e for e in found if e is not None), None)
    if element is None:
        raise invalid("the Snapshot node has no Snapshot parameters (template or inline)")
    fields = Fields(element, "Snapshot")
    count = fields.integer("Count", 1, 10000)
    if count is None:
        raise invalid("Snapshot Count is required, in [1, 10000]")
    out_mode = fields.choice("SnapshotOutMode", _OUT_MODES, "OnlySnapshot")
    fmt, quality = _format(fields, operation)
    black = None
    if fields.flag("IsCheckBlack"):
        black = (fields.integer("BlackLevel", 30, 100) or 100, fields.integer("PixelBlackThreshold", 0, 255) or 0)
    mode = fields.choice("Mode", _MODES, "Interval")
    interval = fields.number("TimeInterval", 0, 3600, open_low=True)
    interval = interval if mode == "Interval" else None  # other modes place frames themselves
    return SnapshotParams(
        mode=mode,
        start=fields.number("Start", 0, math.inf) or 0.0,
        interval=interval,
        count=count,
        width=fields.integer("Width", 128, 4096),
        height=fields.integer("Height", 128, 4096),
        fmt=fmt,
        quality=quality,
        out_mode=out_mode,
        check_count=fields.flag("IsCheckCount") and interval is not None,
        black=black,
        sprite=None if out_mode == "OnlySnapshot" else parse_config(element),
    )


# --- taking frames ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class _Video:
    end: float  # seconds from the container's start to the end of the last video frame
    fps: float
    seekable: bool  # an indexed container: ``-ss`` before ``-i`` is exact and cheap
    origin: float  # the container's start time: media time 0 is this raw timestamp

    @property
    def last(self) -> float:
        """The time of the last frame (a seek past it yields nothing)."""
        return max(0.0, self.end - 1.0 / self.fps)


@dataclass(frozen=True)
class _Extraction:
    source: Path
    video: _Video
    out_dir: Path
    ext: str
    video_filter: str
    codec: tuple[str, ...]
    deadline: float
    progress: Progress

    def path(self, number: int) -> Path:
        return self.out_dir / f"{number:05d}.{self.ext}"

    def outputs(self, count: int) -> list[str]:
        """Image-sequence output arguments for at most ``count`` frames."""
        return ["-frames:v", str(count), *self.codec, "-start_number", "0", str(self.out_dir / f"%05d.{self.ext}")]

    def remaining(self) -> float:
        left = self.deadline - time.monotonic()
        if left <= 0:
            raise MediaError("Timeout", "the Snapshot job ran out of time")
        return left


def _video_of(path: Path) -> _Video:
    info = probe(path)
    video = require_video(info, "Snapshot")
    end = info.duration
    try:
        with av.open(str(path)) as container:
            stream = container.streams.video[0]
            origin = (container.start_time or 0) / av.time_base
            fps = video.fps if video.fps > 0 else 25.0
            if stream.duration and stream.time_base:  # the video's own end, not the audio's
                first = float((stream.start_time or 0) * stream.time_base) - origin
                end = first + float(stream.duration * stream.time_base)
            elif end <= 0:  # not in the headers (a still image, a raw stream): the last packet's end
                times = [float(p.pts * stream.time_base) for p in container.demux(stream) if p.pts is not None]
                end = max(times) - origin + 1.0 / fps if times else 0.0
    except av.error.FFmpegError as exc:
        raise MediaError("InvalidInput", f"{path} is not a readable media file: {reason(exc)}") from exc
    if end <= 0:
        raise MediaError("InvalidInput", "the input's video has no frames")
    return _Video(end, fps, info.format in _INDEXED, origin)


def _frame_times(path: Path, video: _Video, start: float, count: int, keyframes: bool) -> list[float]:
    """The first ``count`` (key) frame times at or after ``start``, read from packets (no decoding)."""
    found: list[float] = []
    try:
        with av.open(str(path)) as container:
            stream = container.streams.video[0]
            if start > 0 and video.seekable:
                container.seek(int((start + video.origin) * av.time_base), backward=True)
            wanted = count + (0 if keyframes else _REORDER)
            for packet in container.demux(stream):
                if packet.pts is None or (keyframes and not packet.is_keyframe):
                    continue
                moment = float(packet.pts * stream.time_base) - video.origin
                if moment >= start - 0.0005:
                    found.append(moment)
                if len(found) >= wanted:
                    break
    except av.error.FFmpegError as exc:
        raise MediaError("InvalidInput", f"the video of {path} could not be read: {reason(exc)}") from exc
    return sorted(found)[:count]


def _grid(params: SnapshotParams, video: _Video) -> list[float]:
    """Interval (with TimeInterval) and Average time points, within the video."""
    if params.mode == "Interval" and params.interval is not None:
        points = [params.start + i * params.interval for i in range(params.count)]
        points = [p for p in points if p < video.end]
        if len(points) == params.count or not params.check_count:  # IsCheckCount: fall back to Average
            return [min(p, max(0.0, video.last - 0.001)) for p in points]
    step = (video.end - params.start) / params.count
    return [min(params.start + i * step, max(0.0, video.last - 0.001)) for i in range(params.count)]


def _extract_seeks(x: _Extraction, points: Sequence[float]) -> list[tuple[Path, int]]:
    """Sparse points in an indexed input: one seek each, ``_SEEK_BATCH`` inputs per FFmpeg process."""
    for offset in range(0, len(points), _SEEK_BATCH):
        batch = range(offset, min(offset + _SEEK_BATCH, len(points)))
        args: list[str] = []
        for number in batch:
            args += ["-ss", f"{points[number]:.6f}", "-i", str(x.source)]
        for k, number in enumerate(batch):
            args += ["-map", f"{k}:v:0", "-vf", x.video_filter, "-frames:v", "1", "-update", "1", *x.codec]
            args.append(str(x.path(number)))
        ffmpeg.run(args, timeout=x.remaining())
        x.progress(batch.stop / len(points))
    return [(x.path(i), round(p * 1000)) for i, p in enumerate(points) if x.path(i).exists()]


def _entry(x: _Extraction, start: float, span: float | None = None) -> tuple[list[str], float]:
    """Input arguments that enter the video at ``start``, and the ``t`` a select filter then sees there.

    Indexed inputs are entered by seeking (``t`` restarts at 0) and read for ``span`` seconds; others
    are read from their start with their own timestamps (``-copyts``: FFmpeg's and PyAV's time 0 can
    differ there).
    """
    if not x.video.seekable:
        return ["-copyts", "-i", str(x.source)], x.video.origin + start
    seek = ["-ss", f"{start:.6f}"] if start > 0 else []
    return [*seek, *(["-t", f"{span:.6f}"] if span else []), "-i", str(x.source)], 0.0


def _extract_dense(x: _Extraction, points: Sequence[float]) -> list[tuple[Path, int]]:
    """Close points (or no index): decode through once, keeping the first frame at or after each point."""
    step = points[1] - points[0] if len(points) > 1 else 1.0
    entry, at = _entry(x, points[0], span=points[-1] - points[0] + step)
    select = f"select='gte(t,{at:.6f}+{step:.6f}*selected_n-0.0005)'"
    args = [*entry, "-map", "0:v:0", "-vf", f"{select},{x.video_filter}", "-fps_mode", "passthrough"]
    ffmpeg.run([*args, *x.outputs(len(points))], timeout=x.remaining(), duration=points[-1] + step, progress=x.progress)
    return [(x.path(i), round(p * 1000)) for i, p in enumerate(points) if x.path(i).exists()]


def _extract_frames(x: _Extraction, start: float, count: int, keyframes: bool) -> list[tuple[Path, int]]:
    """Every frame (Interval without TimeInterval) or every key frame, from ``start``."""
    times = _frame_times(x.source, x.video, start, count, keyframes)
    if not times:
        kind = "key frames" if keyframes else "frames"
        raise MediaError("InvalidArgument", f"the video has no {kind} at or after Start ({start:g} s)")
    entry, at = _entry(x, start)
    select = f"select='gte(t,{at - 0.0005:.6f})'," if at > 0 else ""
    args = ["-skip_frame", "nokey"] if keyframes else []
    args += [*entry, "-map", "0:v:0", "-vf", select + x.video_filter, "-fps_mode", "passthrough"]
    ffmpeg.run([*args, *x.outputs(len(times))], timeout=x.remaining(), duration=times[-1] or None, progress=x.progress)
    return [(x.path(i), round(t * 1000)) for i, t in enumerate(times) if x.path(i).exists()]


def _extract(x: _Extraction, params: SnapshotParams) -> list[tuple[Path, int]]:
    if params.start > x.video.last + 0.001:
        raise MediaError("InvalidArgument", f"Snapshot Start ({params.start:g} s) is past the video's end")
    if params.mode == "KeyFrame":
        return _extract_frames(x, params.start, params.count, keyframes=True)
    if params.mode == "Interval" and params.interval is None:
        return _extract_frames(x, params.start, params.count, keyframes=False)
    points = _grid(params, x.video)
    if not x.video.seekable or (len(points) > 1 and points[1] - points[0] < _DENSE_STEP):
        return _extract_dense(x, points)
    return _extract_seeks(x, points)


def _codec(fmt: str, quality: int | None) -> tuple[str, ...]:
    if fmt == "png":
        return ("-c:v", "png")
    if fmt == "webp":
        return ("-c:v", "libwebp", "-quality", str(quality or 80))
    scale = 2 if quality is None else round(2 + (100 - quality) * 29 / 99)  # mjpeg qscale 2 (best) .. 31
    return ("-c:v", "mjpeg", "-q:v", str(scale))


def _scale(width: int | None, height: int | None) -> str:
    if width is None and height is None:
        return "null"
    return f"scale={width or -2}:{height or -2}"  # one side alone keeps the aspect ratio


def _is_black(path: Path, level: int, threshold: int) -> bool:
    with Image.open(path) as image:
        histogram = image.convert("L").histogram()
    return sum(histogram[: threshold + 1]) * 100 >= level * sum(histogram)


# --- the processor ---------------------------------------------------------------------------------
def _shoot(
    source: Path, video: _Video, params: SnapshotParams, out_dir: Path, deadline: float, progress: Progress
) -> tuple[list[tuple[Path, int]], list[Path]]:
    """The snapshots (path, time ms) kept as products, and the sprite sheets."""
    out_dir.mkdir(parents=True)
    only_sprite = params.out_mode == "OnlySprite"
    ext = "png" if only_sprite else params.fmt  # lossless frames when they only feed the sheets
    codec = _codec(ext, params.quality)
    scale = _scale(params.width, params.height)
    extraction = _Extraction(source, video, out_dir, ext, scale, codec, deadline, progress)
    shots = _extract(extraction, params)
    if params.black is not None:
        shots = [shot for shot in shots if not _is_black(shot[0], *params.black)]
    if not shots:
        raise MediaError("InvalidInput", "no snapshot could be taken at the requested time points")
    sheets: list[Path] = []
    if params.sprite is not None:
        sheets = compose_sheets([path for path, _ in shots], params.sprite, params.fmt, params.quality, out_dir)
    if only_sprite:
        for path, _ in shots:
            path.unlink()
        shots = []
    return shots, sheets


class Snapshot:
    """The ``Snapshot`` node: ``Product.number``/``time_ms`` feed ``${Number}``/``${Time}``."""

    def product_count(self, operation: ET.Element | None, template: ET.Element | None) -> int:
        """``Count`` snapshots per input (none kept with OnlySprite); bad parameters raise ``InvalidArgument``."""
        params = parse_params(operation, template)
        return 0 if params.out_mode == "OnlySprite" else params.count

    def __call__(self, job: Job, progress: Progress) -> list[Product]:
        params = parse_params(job.operation, job.template)
        videos = [_video_of(path) for path in job.inputs]  # every input probed before anything is written
        deadline = time.monotonic() + job.timeout_seconds
        root = job.work_dir / "snapshot"
        products: list[Product] = []
        try:
            for index, (source, video) in enumerate(zip(job.inputs, videos, strict=True)):
                report = share(progress, index, len(job.inputs))
                shots, sheets = _shoot(source, video, params, root / str(index), deadline, report)
                products += [
                    Product(path, params.fmt, number=n, time_ms=ms, source_index=index)
                    for n, (path, ms) in enumerate(shots)
                ]
                products += [
                    Product(path, params.fmt, number=n, sprite=True, source_index=index)
                    for n, path in enumerate(sheets)
                ]
        except BaseException:
            shutil.rmtree(root, ignore_errors=True)
            raise
        progress(1.0)
        return products
