"""Transcode: one output per input, driven by a Transcode template (spec §10.1).

``transcode_plan.parse`` checks the template into settings before any input is read and
``transcode_plan.plan`` gives FFmpeg's arguments; here they are run, one input at a time, and the
output is checked: an input that decodes clearly shorter than it declares (truncated) is
``InvalidInput``, not a short output.
"""

from __future__ import annotations

import shutil
import time
import xml.etree.ElementTree as ET
from dataclasses import replace
from pathlib import Path

import av

from cosflow.media import ffmpeg
from cosflow.media.base import Job, MediaError, Product, Progress, share
from cosflow.media.probe import MediaInfo, probe
from cosflow.media.transcode_plan import Settings, expected_seconds, parse, plan


def _declared_seconds(source: Path, info: MediaInfo, settings: Settings) -> float:
    """The longest kept stream's declared duration (the container's when streams don't say)."""
    kinds = {kind for kind, codec in (("video", settings.video.codec), ("audio", settings.audio.codec)) if codec}
    try:
        with av.open(str(source)) as box:
            found = [float(s.duration * s.time_base) for s in box.streams if s.type in kinds and s.duration]
    except (av.error.FFmpegError, ValueError, TypeError):
        found = []
    return max(found) if found else info.duration


def _output_seconds(target: Path) -> float:
    if target.suffix == ".m3u8":
        lines = target.read_text().splitlines()
        return sum(float(line[8:].split(",")[0]) for line in lines if line.startswith("#EXTINF:"))
    return probe(target).duration


def _check_complete(source: Path, target: Path, info: MediaInfo, settings: Settings) -> None:
    want = expected_seconds(replace(info, duration=_declared_seconds(source, info, settings)), settings)
    got = _output_seconds(target)
    if want and want - got > max(0.5, 0.1 * want):
        raise MediaError(
            "InvalidInput",
            f"the input looks truncated or damaged: it declares {want:.2f} s but only {got:.2f} s could be decoded",
        )


def _products(target: Path, settings: Settings, index: int) -> Product:
    companions = tuple(sorted(p for p in target.parent.iterdir() if p != target)) if target.suffix == ".m3u8" else ()
    return Product(target, settings.container.ext, source_index=index, companions=companions)


def _rising(progress: Progress) -> Progress:
    """``progress`` fed only values above the last one it got."""
    last = [0.0]

    def report(value: float) -> None:
        if value > last[0]:
            last[0] = value
            progress(value)

    return report


class Transcode:
    """The ``Transcode`` node: one product per input, in the template's container."""

    def product_count(self, operation: ET.Element | None, template: ET.Element | None) -> int:
        """One output per input; an unusable template raises ``InvalidArgument``."""
        parse(template)
        return 1

    def __call__(self, job: Job, progress: Progress) -> list[Product]:
        settings, report, count = parse(job.template), _rising(progress), len(job.inputs)
        deadline = time.monotonic() + job.timeout_seconds
        products = []
        for index, source in enumerate(job.inputs):
            part = share(report, index, count)
            products.append(self._one(job, index, source, settings, deadline, part))
        report(1.0)
        return products

    def _one(
        self, job: Job, index: int, source: Path, settings: Settings, deadline: float, progress: Progress
    ) -> Product:
        info = probe(source)
        folder = job.work_dir / f"transcode-{index}"
        name = "index.m3u8" if settings.container.format == "hls" else f"out.{settings.container.ext}"
        args = plan(info, settings, source, folder / name)
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise MediaError("Timeout", f"the job ran longer than {job.timeout_seconds:.0f} s and was stopped")
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)
        try:
            seconds = expected_seconds(info, settings)
            ffmpeg.run(args, timeout=remaining, duration=seconds or None, progress=progress)
            _check_complete(source, folder / name, info, settings)
        except BaseException:
            shutil.rmtree(folder, ignore_errors=True)  # never leave a partial output behind
            raise
        return _products(folder / name, settings, index)
