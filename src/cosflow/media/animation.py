"""Animation node: a clip as an animated GIF, a high-quality GIF (``hgif``) or an animated WebP (spec §10.1).

One FFmpeg pass per input over just the clip (``-ss``/``-t`` before ``-i``): frames are sampled
(``fps``, or key frames only with ``-skip_frame nokey``), retimed to the playback rate, scaled, and
for GIF quantised with a palette made from the clip itself (``palettegen`` + ``paletteuse`` in one
filter graph). ``hgif`` takes a palette per frame and error-diffusion dithering: larger, truer colour.
"""

from __future__ import annotations

import math
import shutil
import time
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

from cosflow.media import ffmpeg
from cosflow.media.base import Job, MediaError, Product, Progress, share
from cosflow.media.params import Fields, invalid
from cosflow.media.probe import MediaInfo, probe, require_video

_FORMATS = ("gif", "hgif", "webp")
_DEFAULT_MAX_FPS = 15.0  # no rate asked for: the source's, but no more than this
_GIF_PALETTE = "palettegen=max_colors=256:stats_mode=diff[p];[b][p]paletteuse=dither=bayer:bayer_scale=5"
_HGIF_PALETTE = "palettegen=max_colors=256:stats_mode=single[p];[b][p]paletteuse=new=1:dither=sierra2_4a"


@dataclass(frozen=True)
class AnimationParams:
    fmt: str  # gif | hgif | webp
    start: float
    duration: float | None
    fps: float | None  # Video/Fps: the playback rate (and the sampling rate when nothing else says)
    frames_per_second: float | None  # AnimateFramesPerSecond: frames sampled per second of the source
    keyframes_only: bool  # AnimateOnlyKeepKeyFrame
    frame_interval: float | None  # AnimateTimeIntervalOfFrame: seconds between sampled frames
    width: int | None
    height: int | None
    quality: int | None  # webp only

    @property
    def ext(self) -> str:
        return "webp" if self.fmt == "webp" else "gif"


def _format(fields: Fields) -> str:
    fmt, codec = fields.text("Container/Format").lower(), fields.text("Video/Codec").lower()
    if fmt and fmt not in _FORMATS:
        raise invalid(f"Animation Container/Format must be gif, hgif or webp, got {fmt!r}")
    if codec and codec not in ("gif", "webp"):
        raise invalid(f"Animation Video/Codec must be gif or webp, got {codec!r}")
    if fmt and codec and (fmt == "webp") != (codec == "webp"):
        raise invalid(f"Animation Video/Codec {codec} does not fit Container/Format {fmt}")
    if not (fmt or codec):
        raise invalid("Animation needs Container/Format (gif, hgif or webp)")
    return fmt or codec


def parse_params(operation: ET.Element | None, template: ET.Element | None) -> AnimationParams:
    """The template body (``<Animation>``), or the operation's inline ``Animation`` (standalone jobs)."""
    element = template if template is not None or operation is None else operation.find("Animation")
    if element is None:
        raise invalid("the Animation node has no Animation parameters (template or inline)")
    fields = Fields(element, "Animation")
    fmt = _format(fields)
    quality = fields.integer("Video/Quality", 0, 100, open_low=True)
    quality = quality if fmt == "webp" else None  # GIF has no quality setting: no effect, as in Tencent's
    return AnimationParams(
        fmt=fmt,
        start=fields.number("TimeInterval/Start", 0, math.inf) or 0.0,
        duration=fields.number("TimeInterval/Duration", 0, math.inf, open_low=True),
        fps=fields.number("Video/Fps", 0, 60, open_low=True),
        frames_per_second=fields.number("Video/AnimateFramesPerSecond", 0, 60, open_low=True),
        keyframes_only=fields.flag("Video/AnimateOnlyKeepKeyFrame"),
        frame_interval=fields.number("Video/AnimateTimeIntervalOfFrame", 0, math.inf, open_low=True),
        width=fields.integer("Video/Width", 127, 4096, open_low=True),
        height=fields.integer("Video/Height", 127, 4096, open_low=True),
        quality=quality,
    )


@dataclass(frozen=True)
class _Timing:
    sample: float | None  # frames taken per second of the source; None: key frames only
    play: float | None  # playback frames per second; None: keep the source's timing


def _timing(params: AnimationParams, source_fps: float) -> _Timing:
    """Priority AnimateFramesPerSecond > AnimateOnlyKeepKeyFrame > AnimateTimeIntervalOfFrame > Fps."""
    if params.frames_per_second is not None:
        sample: float | None = min(params.frames_per_second, source_fps or params.frames_per_second)
    elif params.keyframes_only:
        sample = None
    elif params.frame_interval is not None:
        sample = 1.0 / params.frame_interval
    else:
        sample = params.fps or min(source_fps or _DEFAULT_MAX_FPS, _DEFAULT_MAX_FPS)
    return _Timing(sample, params.fps or sample)


def _filter_graph(params: AnimationParams, timing: _Timing) -> str:
    chain = [] if timing.sample is None else [f"fps={timing.sample:.6g}"]
    if timing.play is not None and timing.play != timing.sample:
        play = f"{timing.play:.6g}"
        chain.append(f"settb=AVTB,setpts=N/({play}*TB),fps={play}")  # retimed, and the rate the encoder sees
    if params.width or params.height:
        flags = "lanczos" if params.fmt == "hgif" else "bicubic"
        chain.append(f"scale={params.width or -2}:{params.height or -2}:flags={flags}")
    graph = ",".join(chain) or "null"
    if params.fmt == "webp":
        return graph
    return f"{graph},split[a][b];[a]{_HGIF_PALETTE if params.fmt == 'hgif' else _GIF_PALETTE}"


def _arguments(source: Path, target: Path, params: AnimationParams, timing: _Timing, clip: float) -> list[str]:
    args = ["-skip_frame", "nokey"] if timing.sample is None else []
    args += ["-ss", f"{params.start:.6f}"] if params.start > 0 else []
    args += ["-t", f"{clip:.6f}", "-i", str(source), "-map", "0:v:0", "-vf", _filter_graph(params, timing)]
    args += ["-fps_mode", "passthrough", "-loop", "0"]
    if params.fmt == "webp":
        args += ["-c:v", "libwebp_anim", "-pix_fmt", "yuv420p", "-quality", str(params.quality or 75)]
    else:
        args += ["-c:v", "gif"]
    return [*args, str(target)]


def _clip(params: AnimationParams, length: float) -> float:
    """The clip's length: Duration from Start, within the input."""
    if length > 0 and params.start >= length:
        raise MediaError("InvalidArgument", f"Animation Start ({params.start:g} s) is past the input's end")
    left = length - params.start if length > 0 else math.inf
    clip = min(params.duration or left, left)
    if not math.isfinite(clip):
        raise MediaError("InvalidInput", "the input's duration is unknown; give TimeInterval/Duration")
    return clip


def _animate(
    source: Path, info: MediaInfo, target: Path, params: AnimationParams, deadline: float, progress: Progress
) -> None:
    timing = _timing(params, require_video(info, "Animation").fps)
    clip = _clip(params, info.duration)
    played = clip * timing.sample / timing.play if timing.sample and timing.play else clip
    left = deadline - time.monotonic()
    if left <= 0:
        raise MediaError("Timeout", "the Animation job ran out of time")
    ffmpeg.run(_arguments(source, target, params, timing, clip), timeout=left, duration=played, progress=progress)
    if not target.exists() or target.stat().st_size == 0:
        raise MediaError("InvalidInput", "the requested time range of the input holds no video frames")


class Animation:
    """The ``Animation`` node: one animated image per input."""

    def product_count(self, operation: ET.Element | None, template: ET.Element | None) -> int:
        """One animation per input; bad parameters raise ``InvalidArgument``."""
        parse_params(operation, template)
        return 1

    def __call__(self, job: Job, progress: Progress) -> list[Product]:
        params = parse_params(job.operation, job.template)
        infos = [probe(source) for source in job.inputs]  # every input checked before anything is written
        for info in infos:
            require_video(info, "Animation")
        deadline = time.monotonic() + job.timeout_seconds
        root = job.work_dir / "animation"
        products = []
        try:
            root.mkdir(parents=True, exist_ok=True)
            for index, (source, info) in enumerate(zip(job.inputs, infos, strict=True)):
                target = root / f"{index}.{params.ext}"
                _animate(source, info, target, params, deadline, share(progress, index, len(job.inputs)))
                products.append(Product(target, params.ext, source_index=index))
        except BaseException:
            shutil.rmtree(root, ignore_errors=True)
            raise
        progress(1.0)
        return products
