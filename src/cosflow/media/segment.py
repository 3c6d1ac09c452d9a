"""Segment: cut a media file into pieces of ``Duration`` seconds (or remux/extract it whole).

Streams whose codec the target container takes are copied (a remux, no re-encode), so with
stream copy a video piece ends at the first keyframe at or after its boundary. Codecs the
container cannot hold are re-encoded, with keyframes forced on the boundaries. Audio-only formats
(aac, mp3, flac) carry the first audio stream only; hls/m3u8 gives one playlist whose segments
travel as the playlist product's companions.
"""

from __future__ import annotations

import math
import shutil
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

import av

from cosflow.media import ffmpeg
from cosflow.media.base import Job, MediaError, Product, Progress, share
from cosflow.media.params import Fields, invalid
from cosflow.media.probe import probe
from cosflow.media.reasons import reason

ANY = frozenset({"*"})
_X264 = ("libx264", "-preset", "veryfast", "-crf", "23", "-pix_fmt", "yuv420p")
HLS_DEFAULT_SECONDS = 5
MIN_DURATION = 5


@dataclass(frozen=True)
class Container:
    muxer: str
    ext: str
    video: frozenset[str]  # codecs copied as they are; empty: an audio-only container
    audio: frozenset[str]
    audio_encoder: tuple[str, ...]
    video_encoder: tuple[str, ...] = _X264


_H26X = frozenset({"h264", "hevc"})
CONTAINERS: dict[str, Container] = {
    "mp4": Container("mp4", "mp4", _H26X | {"av1", "mpeg4"}, frozenset({"aac", "mp3", "alac", "opus"}), ("aac",)),
    "ts": Container("mpegts", "ts", _H26X | {"mpeg2video"}, frozenset({"aac", "mp3", "ac3", "mp2"}), ("aac",)),
    "mkv": Container("matroska", "mkv", ANY, ANY, ("aac",)),
    # AVI: classic MPEG-4 Part 2 + MP3 (H.264 in AVI needs Annex B and splits badly when copied)
    "avi": Container("avi", "avi", frozenset({"mpeg4"}), frozenset({"mp3"}), ("libmp3lame",), ("mpeg4", "-q:v", "3")),
    "hls": Container("hls", "m3u8", _H26X, frozenset({"aac", "mp3"}), ("aac",)),
    "aac": Container("adts", "aac", frozenset(), frozenset({"aac"}), ("aac", "-b:a", "128k")),
    "mp3": Container("mp3", "mp3", frozenset(), frozenset({"mp3"}), ("libmp3lame", "-q:a", "2")),
    # FLAC is always (losslessly) encoded: a copied STREAMINFO header would claim the source's length
    "flac": Container("flac", "flac", frozenset(), frozenset(), ("flac",)),
}
CONTAINERS["m3u8"] = CONTAINERS["hls"]


@dataclass(frozen=True)
class SegmentParams:
    format: str
    duration: int | None = None
    start: float = 0.0
    end: float | None = None

    @property
    def container(self) -> Container:
        return CONTAINERS[self.format]

    @property
    def hls(self) -> bool:
        return self.container.muxer == "hls"

    @property
    def seconds(self) -> int | None:
        """How long each piece is, if the output is cut at all."""
        return self.duration or (HLS_DEFAULT_SECONDS if self.hls else None)


def parse_params(operation: ET.Element | None) -> SegmentParams:
    element = operation.find("Segment") if operation is not None else None
    if element is None:
        raise invalid("the Segment node needs a Segment element in its Operation")
    fields = Fields(element, "Segment")
    fmt = fields.text("Format").lower()
    if fmt not in CONTAINERS:
        raise invalid(f"Segment Format must be one of {', '.join(CONTAINERS)}, got {fmt!r}")
    if fields.flag("HlsEncrypt/IsHlsEncrypt"):
        raise invalid("Segment HlsEncrypt is not supported")
    start, end = fields.number("StartTime", 0, math.inf) or 0.0, fields.number("EndTime", 0, math.inf)
    if end is not None and end <= start:
        raise invalid(f"Segment EndTime ({end}) must be after StartTime ({start})")
    return SegmentParams(fmt, fields.digits("Duration", MIN_DURATION, math.inf), start, end)


# -- building the FFmpeg arguments ----------------------------------------------------------------


def _codecs(path: Path) -> tuple[str | None, str | None]:
    """The canonical codec names of the first video and audio streams (``mp3``, not ``mp3float``)."""
    with av.open(str(path)) as container:
        video = next(iter(container.streams.video), None)
        audio = next(iter(container.streams.audio), None)
        return (
            video.codec_context.codec.canonical_name if video is not None else None,
            audio.codec_context.codec.canonical_name if audio is not None else None,
        )


def _fits(codec: str, allowed: frozenset[str]) -> bool:
    return allowed == ANY or codec in allowed


def _audio_codec(audio: str, box: Container) -> list[str]:
    return ["-c:a", *(("copy",) if _fits(audio, box.audio) else box.audio_encoder)]


def stream_args(params: SegmentParams, video: str | None, audio: str | None) -> list[str]:
    """``-map``/``-c`` arguments: copy what fits the container, encode the rest."""
    box = params.container
    if not box.video:
        if audio is None:
            raise MediaError("InvalidInput", f"Segment to {params.format} needs an audio stream; the input has none")
        return ["-map", "0:a:0", "-vn", *_audio_codec(audio, box)]
    if video is None and audio is None:
        raise MediaError("InvalidInput", "the input has neither a video nor an audio stream")
    args = ["-sn", "-dn"]
    if video is not None:
        copy = _fits(video, box.video)
        args += ["-map", "0:v:0", "-c:v", *(("copy",) if copy else box.video_encoder)]
        if not copy and params.seconds:
            args += ["-force_key_frames", f"expr:gte(t,n_forced*{params.seconds})"]
    if audio is not None:
        args += ["-map", "0:a:0", *_audio_codec(audio, box)]
    return args


def trim_args(params: SegmentParams) -> tuple[list[str], list[str]]:
    """(input options, output options) for StartTime/EndTime."""
    before = ["-ss", f"{params.start:.3f}"] if params.start else []
    after = ["-t", f"{params.end - params.start:.3f}"] if params.end is not None else []
    return before, after


def muxer_args(params: SegmentParams, folder: Path) -> tuple[list[str], Path]:
    """Muxer options and the output path (a pattern for split files)."""
    box = params.container
    if params.hls:
        segments = str(folder / "segment-%05d.ts")
        args = ["-f", "hls", "-hls_time", str(params.seconds), "-hls_list_size", "0", "-hls_playlist_type", "vod"]
        return [*args, "-hls_segment_filename", segments], folder / "playlist.m3u8"
    if params.duration:
        args = ["-f", "segment", "-segment_time", str(params.duration), "-reset_timestamps", "1"]
        return [*args, "-segment_format", box.muxer], folder / f"part-%05d.{box.ext}"
    return ["-f", box.muxer], folder / f"whole.{box.ext}"


# -- running --------------------------------------------------------------------------------------


def _length(params: SegmentParams, duration: float) -> float:
    end = duration if params.end is None else min(params.end, duration or params.end)
    return max(0.0, end - params.start)


def _products(params: SegmentParams, folder: Path, index: int) -> list[Product]:
    ext = params.container.ext
    if params.hls:
        playlist = folder / "playlist.m3u8"
        segments = tuple(sorted(folder.glob("segment-*.ts")))
        if not playlist.exists() or not segments:
            raise MediaError("InvalidInput", "FFmpeg produced no HLS segments")
        return [Product(playlist, ext, source_index=index, companions=segments)]
    files = sorted(folder.glob(f"part-*.{ext}")) if params.duration else [folder / f"whole.{ext}"]
    files = [f for f in files if f.exists() and f.stat().st_size > 0]
    if not files:
        raise MediaError("InvalidInput", "FFmpeg produced no output (is StartTime past the end?)")
    numbered = params.duration is not None
    return [Product(f, ext, number=i if numbered else None, source_index=index) for i, f in enumerate(files)]


@dataclass(frozen=True)
class Cut:
    """One input's planned cut."""

    source: Path
    folder: Path
    params: SegmentParams
    streams: tuple[str, ...]
    length: float  # seconds of output, 0 when unknown


def _split(cut: Cut, timeout: float, progress: Progress) -> None:
    before, after = trim_args(cut.params)
    mux, target = muxer_args(cut.params, cut.folder)
    args = [*before, "-i", str(cut.source), *after, *cut.streams, *mux, str(target)]
    ffmpeg.run(args, timeout=timeout, duration=cut.length or None, progress=progress)


def _pieces(cut: Cut, timeout: float, progress: Progress) -> None:
    """One FFmpeg call per piece, so that each FLAC header states its own length."""
    step = cut.params.duration or cut.length
    count = max(1, math.ceil(cut.length / step - 1e-3)) if step else 1
    box = cut.params.container
    for number in range(count):
        start = ["-ss", f"{cut.params.start + number * step:.3f}"]
        span = ["-t", f"{min(step, cut.length - number * step):.3f}"] if cut.length else []
        target = cut.folder / f"part-{number:05d}.{box.ext}"
        args = [*start, "-i", str(cut.source), *span, *cut.streams, "-f", box.muxer, str(target)]
        ffmpeg.run(args, timeout=timeout, duration=step or None, progress=share(progress, number, count))


def segment_file(
    source: Path, folder: Path, params: SegmentParams, timeout: float, progress: Progress, index: int = 0
) -> list[Product]:
    """Cut one input into ``folder`` (created here, removed again on failure)."""
    info = probe(source)
    if params.start and info.duration and params.start >= info.duration:
        raise MediaError("InvalidArgument", f"Segment StartTime {params.start} is past the end ({info.duration:.3f} s)")
    try:
        streams = stream_args(params, *_codecs(source))
    except (av.error.FFmpegError, ValueError) as exc:
        raise MediaError("InvalidInput", f"{source} is not a readable media file: {reason(exc)}") from exc
    run = _pieces if params.format == "flac" and params.duration else _split
    folder.mkdir(parents=True, exist_ok=True)
    try:
        run(Cut(source, folder, params, tuple(streams), _length(params, info.duration)), timeout, progress)
        return _products(params, folder, index)
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise


class Segment:
    """The ``Segment`` node: numbered pieces of ``Duration`` seconds, or one HLS playlist."""

    def product_count(self, operation: ET.Element | None, template: ET.Element | None) -> int:
        """Several numbered pieces when cut (2 stands for "more than one"); bad parameters raise."""
        params = parse_params(operation)
        return 2 if params.duration is not None and not params.hls else 1

    def __call__(self, job: Job, progress: Progress) -> list[Product]:
        params = parse_params(job.operation)
        products: list[Product] = []
        folders = [job.work_dir / f"segment-{index}" for index in range(len(job.inputs))]
        try:
            for index, (source, folder) in enumerate(zip(job.inputs, folders, strict=True)):
                report = share(progress, index, len(job.inputs))
                products += segment_file(source, folder, params, job.timeout_seconds, report, index)
        except BaseException:
            for folder in folders:
                shutil.rmtree(folder, ignore_errors=True)
            raise
        progress(1.0)
        return products
