"""Locating FFmpeg: the system binary if present, else the one ``imageio-ffmpeg`` brings."""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass


@dataclass(frozen=True)
class Binary:
    path: str
    source: str  # "system" or "imageio-ffmpeg"
    version: str


def locate() -> Binary | None:
    path, source = shutil.which("ffmpeg"), "system"
    if path is None:
        try:
            import imageio_ffmpeg

            path, source = imageio_ffmpeg.get_ffmpeg_exe(), "imageio-ffmpeg"
        except (ImportError, RuntimeError):
            return None
    try:
        out = subprocess.run([path, "-hide_banner", "-version"], capture_output=True, text=True, timeout=20)
    except (OSError, subprocess.TimeoutExpired):
        return None
    first = out.stdout.splitlines()[0] if out.stdout else "unknown"
    return Binary(path, source, first)
