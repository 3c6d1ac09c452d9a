"""Test media generated at test time with ``ffmpeg -f lavfi`` (never committed)."""

from __future__ import annotations

import subprocess
from pathlib import Path

from cosflow.media.ffmpeg import executable


def _ffmpeg(*args: str) -> None:
    subprocess.run([executable(), "-hide_banner", "-loglevel", "error", "-y", *args], check=True, timeout=120)


def make_video(
    path: Path,
    seconds: float = 2.0,
    width: int = 320,
    height: int = 240,
    fps: int = 25,
    audio: bool = True,
    source: str = "testsrc2",
) -> Path:
    """An H.264/AAC mp4 (or whatever ``path``'s suffix implies) of a moving test pattern."""
    args = ["-f", "lavfi", "-i", f"{source}=size={width}x{height}:rate={fps}:duration={seconds}"]
    if audio:
        args += ["-f", "lavfi", "-i", f"sine=frequency=440:sample_rate=44100:duration={seconds}"]
    args += ["-pix_fmt", "yuv420p"]
    if path.suffix == ".mp4":
        args += ["-c:v", "libx264", "-preset", "ultrafast", "-g", str(fps)]
        args += ["-c:a", "aac"] if audio else []
    _ffmpeg(*args, "-shortest" if audio else "-an", str(path))
    return path


def make_audio(path: Path, seconds: float = 2.0) -> Path:
    _ffmpeg("-f", "lavfi", "-i", f"sine=frequency=440:sample_rate=44100:duration={seconds}", str(path))
    return path


def make_corrupt_mp4(path: Path, garbage_blocks: int = 8) -> Path:
    """An ``ftyp`` header (so it looks like an MP4) followed by bytes no demuxer can use."""
    path.write_bytes(b"\x00\x00\x00\x18ftypmp42" + bytes(range(256)) * garbage_blocks)
    return path


def make_image(path: Path, width: int = 640, height: int = 480) -> Path:
    _ffmpeg("-f", "lavfi", "-i", f"testsrc2=size={width}x{height}:rate=1", "-frames:v", "1", str(path))
    return path
