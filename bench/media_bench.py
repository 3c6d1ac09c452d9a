"""Media benchmark: the Transcode processor against the same FFmpeg command run directly, and
SmartCover on a 10-minute 1080p input against FFmpeg's ``thumbnail`` filter. Writes the
``## Media`` section of docs/benchmarks.md.

    .venv/bin/python bench/media_bench.py [--minutes 10] [--out docs/benchmarks.md]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.report import write_section  # noqa: E402
from cosflow.media import ffmpeg  # noqa: E402
from cosflow.media.base import Job  # noqa: E402
from cosflow.media.presets import PRESETS  # noqa: E402
from cosflow.media.probe import probe  # noqa: E402
from cosflow.media.smartcover import SmartCover  # noqa: E402
from cosflow.media.transcode import Transcode  # noqa: E402
from cosflow.media.transcode_plan import parse, plan  # noqa: E402

HEADING = "## Media"


def make_input(path: Path, seconds: int) -> Path:
    subprocess.run(
        [
            ffmpeg.executable(),
            "-hide_banner",
            "-loglevel",
            "error",
            "-y",
            "-f",
            "lavfi",
            "-i",
            f"testsrc2=size=1920x1080:rate=25:duration={seconds}",
            "-f",
            "lavfi",
            "-i",
            f"sine=frequency=440:sample_rate=44100:duration={seconds}",
            "-c:v",
            "libx264",
            "-preset",
            "ultrafast",
            "-g",
            "100",
            "-pix_fmt",
            "yuv420p",
            "-c:a",
            "aac",
            "-shortest",
            str(path),
        ],
        check=True,
    )
    return path


def timed(action: Callable[[], object]) -> float:
    started = time.perf_counter()
    action()
    return time.perf_counter() - started


def template(name: str) -> ET.Element:
    return ET.fromstring(next(p.body_xml for p in PRESETS if p.name == name))


def transcode_pair(source: Path, work: Path, preset: str) -> tuple[float, float]:
    """(processor seconds, direct FFmpeg seconds), the better of two alternating runs each."""
    body = template(preset)

    def processor() -> None:
        out = work / "p"
        out.mkdir(exist_ok=True)
        job = Job("Transcode", (source,), ("in.mp4",), None, body, out, 3600)
        Transcode()(job, lambda _: None)

    def direct() -> None:
        out = work / "d"
        out.mkdir(exist_ok=True)
        target = out / ("index.m3u8" if "HLS" in preset else "out.mp4")
        args = plan(probe(source), parse(body), source, target)
        subprocess.run([ffmpeg.executable(), "-hide_banner", "-nostdin", "-y", *args], check=True, capture_output=True)

    ours, theirs = [], []
    for _ in range(2):
        ours.append(timed(processor))
        theirs.append(timed(direct))
    return min(ours), min(theirs)


def smartcover_pair(source: Path, work: Path) -> tuple[float, float]:
    operation = ET.fromstring("<Operation><SmartCover><Format>jpg</Format><Count>3</Count></SmartCover></Operation>")
    job = Job("SmartCover", (source,), ("in.mp4",), operation, None, work, 3600)
    ours = timed(lambda: SmartCover()(job, lambda _: None))
    # The thumbnail filter picks one frame per batch of 250 over the whole file (it decodes it all).
    thumbnail = [
        ffmpeg.executable(),
        "-hide_banner",
        "-nostdin",
        "-y",
        "-i",
        str(source),
        "-vf",
        "thumbnail=n=250",
        "-fps_mode",
        "vfr",
        str(work / "thumb-%04d.jpg"),
    ]
    theirs = timed(lambda: subprocess.run(thumbnail, check=True, capture_output=True))
    return ours, theirs


def section(rows: list[tuple[str, float, float]], cover: tuple[float, float], minutes: int) -> str:
    lines = [
        f"| {name} | {ours:.2f} s | {direct:.2f} s | {ours / direct:.3f} | "
        f"{'met' if ours / direct <= 1.05 else '**missed**'} |"
        for name, ours, direct in rows
    ]
    ours, thumb = cover
    cover_status = "met" if ours <= 5 else "**missed**"
    return f"""{HEADING}

Run {datetime.now(UTC):%Y-%m-%d %H:%M} UTC with `bench/media_bench.py`; {os.cpu_count()} CPUs, FFmpeg from
`{ffmpeg.locate().source if ffmpeg.locate() else "?"}`. Inputs are generated with lavfi (`testsrc2` 1080p25
H.264 + AAC, keyframe every 4 s).

| Transcode (10 s 1080p input) | Processor | Same FFmpeg command directly | Ratio | Target ≤ 1.05 |
|---|---:|---:|---:|---|
{chr(10).join(lines)}

The processor time includes probing the input and checking the output's length; each side is the
better of two alternating runs.

| SmartCover ({minutes}-minute 1080p input, 3 covers) | Time | Target | Status |
|---|---:|---:|---|
| cosflow SmartCover (keyframes at 160 px, scored with numpy) | {ours:.2f} s | ≤ 5 s | {cover_status} |
| FFmpeg `thumbnail=n=250` over the whole file (decodes every frame), for reference | {thumb:.2f} s | | |
"""


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--minutes", type=int, default=10)
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "benchmarks.md")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        short = make_input(work / "ten.mp4", 10)
        rows = []
        for preset, label in (("HLS-H264-HD", "→ 720p H.264 HLS"), ("MP4-265-FHD", "→ 1080p H.265 MP4")):
            ours, direct = transcode_pair(short, work, preset)
            rows.append((f"{label} ({preset})", ours, direct))
            print(f"{label}: processor {ours:.2f} s, direct {direct:.2f} s, ratio {ours / direct:.3f}")
        long = make_input(work / "long.mp4", args.minutes * 60)
        cover = smartcover_pair(long, work)
        print(f"SmartCover {cover[0]:.2f} s, thumbnail filter {cover[1]:.2f} s")
    write_section(args.out, HEADING, section(rows, cover, args.minutes))
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
