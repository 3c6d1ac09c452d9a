"""SmartCover: pick the best-looking frames of a video as cover images.

Sampling is cheap: only keyframes are decoded when they are dense enough, otherwise frames are
taken about once a second; every sample is scaled to a small grey image and scored with numpy
(brightness, contrast, Laplacian sharpness, edge density). Black, flat, faded and blurred frames
lose to sharp ones; the winners are spread over time and extracted at full (or requested) size
by FFmpeg, one ``-ss t -frames:v 1`` call each.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import av
import numpy as np
from PIL import Image

from cosflow.media import ffmpeg
from cosflow.media.base import Job, MediaError, Product, Progress
from cosflow.media.params import Fields
from cosflow.media.probe import probe, require_video
from cosflow.media.reasons import reason

FORMATS = ("jpg", "png", "webp")
DEFAULT_COUNT = 3
SAMPLE_WIDTH = 160
MAX_CANDIDATES = 300
#: A candidate within this share of the best score counts as "as good as the best".
ELIGIBLE_SHARE = 0.8
#: dHash Hamming distance at or below which two frames are near-duplicates.
DUPLICATE_BITS = 6
_ENCODER_ARGS = {
    "jpg": ["-c:v", "mjpeg", "-q:v", "2"],
    "png": ["-c:v", "png"],
    "webp": ["-c:v", "libwebp", "-quality", "90"],
}

FrameObserver = Callable[[float], None]
"""Called with the time of every frame the sampler decodes (a test seam)."""


@dataclass(frozen=True)
class CoverParams:
    format: str = "jpg"
    width: int | None = None
    height: int | None = None
    count: int = DEFAULT_COUNT
    delete_duplicates: bool = False


@dataclass(frozen=True)
class Candidate:
    time: float  # seconds from the start of the file (what ``ffmpeg -ss`` means)
    brightness: float
    contrast: float
    sharpness: float
    edges: float
    dhash: int


def _source(operation: ET.Element | None, template: ET.Element | None) -> ET.Element | None:
    """The ``SmartCover`` parameter element: a template's wins over the inline one."""
    if template is not None:
        inner = template.find("SmartCover")
        return inner if inner is not None else template
    return operation.find("SmartCover") if operation is not None else None


def parse_params(operation: ET.Element | None, template: ET.Element | None) -> CoverParams:
    element = _source(operation, template)
    if element is None:
        return CoverParams()
    fmt = (element.findtext("Format") or "jpg").strip().lower()
    fmt = "jpg" if fmt == "jpeg" else fmt
    if fmt not in FORMATS:
        raise MediaError("InvalidArgument", f"SmartCover Format must be one of {', '.join(FORMATS)}, got {fmt!r}")
    dedup = (element.findtext("DeleteDuplicates") or "false").strip().lower()
    if dedup not in ("true", "false"):
        raise MediaError("InvalidArgument", f"SmartCover DeleteDuplicates must be true or false, got {dedup!r}")
    fields = Fields(element, "SmartCover")
    count = fields.digits("Count", 1, 10)
    return CoverParams(
        format=fmt,
        width=fields.digits("Width", 128, 4096),
        height=fields.digits("Height", 128, 4096),
        count=DEFAULT_COUNT if count is None else count,
        delete_duplicates=dedup == "true",
    )


# -- measuring ------------------------------------------------------------------------------------


def _dhash(gray: np.ndarray) -> int:
    small = np.asarray(Image.fromarray(gray).resize((9, 8), Image.Resampling.BILINEAR), dtype=np.int16)
    bits = (small[:, 1:] > small[:, :-1]).flatten()
    return int(sum(1 << i for i, bit in enumerate(bits) if bit))


def measure(gray: np.ndarray, time: float) -> Candidate:
    """Score one small grey frame (uint8, 2-D)."""
    g = gray.astype(np.float32)
    laplacian = 4 * g[1:-1, 1:-1] - g[:-2, 1:-1] - g[2:, 1:-1] - g[1:-1, :-2] - g[1:-1, 2:]
    gradient = np.abs(np.diff(g, axis=1))[:-1, :] + np.abs(np.diff(g, axis=0))[:, :-1]
    return Candidate(
        time=time,
        brightness=float(g.mean()),
        contrast=float(g.std()),
        sharpness=float(laplacian.var()) if laplacian.size else 0.0,
        edges=float((gradient > 40).mean()) if gradient.size else 0.0,
        dhash=_dhash(gray),
    )


def rejected(candidate: Candidate) -> bool:
    """Black, white/blank or flat: never a cover while anything else exists."""
    return candidate.brightness < 20 or candidate.brightness > 235 or candidate.contrast < 12


def scores(candidates: list[Candidate]) -> list[float]:
    """Each candidate's quality relative to the best of the video, in [0, 1]."""
    tops = [max((getattr(c, k) for c in candidates), default=0.0) or 1.0 for k in ("sharpness", "contrast", "edges")]
    return [0.5 * c.sharpness / tops[0] + 0.3 * c.contrast / tops[1] + 0.2 * c.edges / tops[2] for c in candidates]


# -- sampling -------------------------------------------------------------------------------------


def _gray(frame: av.VideoFrame) -> np.ndarray:
    width = min(SAMPLE_WIDTH, frame.width)
    height = max(2, round(frame.height * width / max(frame.width, 1)))
    return frame.reformat(width=width, height=height, format="gray").to_ndarray()


def _frames(path: Path, skip: str, observe: FrameObserver | None) -> Iterator[tuple[float, av.VideoFrame]]:
    """Decoded frames with their time from the start of the file (``-ss`` semantics)."""
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        stream.codec_context.skip_frame = skip
        start = container.start_time / av.time_base if container.start_time is not None else 0.0
        for frame in container.decode(stream):
            if frame.time is None:
                continue
            time = max(0.0, frame.time - start)
            if observe is not None:
                observe(time)
            yield time, frame


def _collect(path: Path, skip: str, spacing: float, observe: FrameObserver | None) -> list[Candidate]:
    candidates: list[Candidate] = []
    next_time = 0.0
    try:
        for time, frame in _frames(path, skip, observe):
            if time + 1e-3 >= next_time:
                candidates.append(measure(_gray(frame), time))
                next_time = time + spacing
    except (av.error.FFmpegError, ValueError):
        if not candidates:  # a damaged tail still leaves the frames before it usable
            raise
    return candidates


def sample(path: Path, duration: float, count: int, observe: FrameObserver | None = None) -> list[Candidate]:
    """Keyframes when there are enough of them, else about one frame a second (denser for short clips)."""
    spacing = max(duration / MAX_CANDIDATES, min(1.0, duration / (4 * count))) if duration > 0 else 0.0
    wanted = duration / spacing if spacing else 1
    try:
        candidates = _collect(path, "NONKEY", duration / MAX_CANDIDATES, observe)
        if len(candidates) < min(wanted / 2, 60):
            candidates = _collect(path, "NONREF", spacing, observe) or candidates
    except (av.error.FFmpegError, ValueError) as exc:
        raise MediaError("InvalidInput", f"the video of {path} cannot be decoded: {reason(exc)}") from exc
    if not candidates:
        raise MediaError("InvalidInput", f"{path} has no decodable video frames")
    return candidates


# -- choosing -------------------------------------------------------------------------------------


def _duplicate(candidate: Candidate, chosen: list[Candidate]) -> bool:
    return any((candidate.dhash ^ other.dhash).bit_count() <= DUPLICATE_BITS for other in chosen)


def _preference(candidates: list[Candidate], count: int) -> list[Candidate]:
    """Candidates in order of preference: the best of each stretch of the eligible ones, spread over
    time, then the other eligible ones, then the remaining usable ones, best first."""
    score = dict(zip((id(c) for c in candidates), scores(candidates), strict=True))
    usable = [c for c in candidates if not rejected(c)] or [max(candidates, key=lambda c: c.contrast)]
    best = max(score[id(c)] for c in usable)
    eligible = [c for c in usable if score[id(c)] >= ELIGIBLE_SHARE * best]
    by_score = sorted(usable, key=lambda c: score[id(c)], reverse=True)
    groups = np.array_split(np.arange(len(eligible)), min(count, len(eligible)))
    spread = [max((eligible[i] for i in group), key=lambda c: score[id(c)]) for group in groups]
    ordered = spread + [c for c in by_score if c in eligible] + by_score
    return list({id(c): c for c in ordered}.values())


def select(candidates: list[Candidate], count: int, delete_duplicates: bool) -> list[Candidate]:
    """Up to ``count`` covers (at least one), in time order."""
    chosen: list[Candidate] = []
    for candidate in _preference(candidates, count):
        if len(chosen) == count:
            break
        if not (delete_duplicates and _duplicate(candidate, chosen)):
            chosen.append(candidate)
    return sorted(chosen, key=lambda c: c.time)


# -- extracting -----------------------------------------------------------------------------------


def _scale(params: CoverParams) -> list[str]:
    if params.width is None and params.height is None:
        return []
    return ["-vf", f"scale={params.width or -1}:{params.height or -1}"]


def extract(source: Path, time: float, target: Path, params: CoverParams, timeout: float) -> None:
    seek = f"{int(time * 1000) / 1000:.3f}"  # rounded down: never past the chosen frame
    args = ["-ss", seek, "-i", str(source), "-map", "0:v:0", "-frames:v", "1", "-an", "-sn", *_scale(params)]
    ffmpeg.run([*args, *_ENCODER_ARGS[params.format], "-f", "image2", "-update", "1", str(target)], timeout=timeout)
    if not target.exists() or target.stat().st_size == 0:
        raise MediaError("InvalidInput", f"no frame could be extracted at {seek} s")


class SmartCover:
    """The ``SmartCover`` node: ``Count`` cover images per input video."""

    def __init__(self, observe: FrameObserver | None = None) -> None:
        self._observe = observe

    def product_count(self, operation: ET.Element | None, template: ET.Element | None) -> int:
        """``Count`` covers per input; bad parameters raise ``InvalidArgument``."""
        return parse_params(operation, template).count

    def __call__(self, job: Job, progress: Progress) -> list[Product]:
        params = parse_params(job.operation, job.template)
        products: list[Product] = []
        try:
            for index, source in enumerate(job.inputs):
                products += self._covers(job, index, source, params, progress)
        except BaseException:
            for product in products:
                product.path.unlink(missing_ok=True)
            raise
        progress(1.0)
        return products

    def _covers(self, job: Job, index: int, source: Path, params: CoverParams, progress: Progress) -> list[Product]:
        info = probe(source)
        require_video(info, "SmartCover")
        candidates = sample(source, info.duration, params.count, self._observe)
        chosen = select(candidates, params.count, params.delete_duplicates)
        progress((index + 0.5) / len(job.inputs))
        targets = [job.work_dir / f"cover-{index}-{number}.{params.format}" for number in range(len(chosen))]
        try:
            for number, (candidate, target) in enumerate(zip(chosen, targets, strict=True)):
                extract(source, candidate.time, target, params, job.timeout_seconds)
                progress((index + 0.5 + 0.5 * (number + 1) / len(chosen)) / len(job.inputs))
        except BaseException:
            for target in targets:
                target.unlink(missing_ok=True)
            raise
        return [
            Product(target, params.format, number, round(candidate.time * 1000), source_index=index)
            for number, (candidate, target) in enumerate(zip(chosen, targets, strict=True))
        ]
