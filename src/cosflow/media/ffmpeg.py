"""FFmpeg: locating the binary, and running it by argument list in its own process group with a
timeout, progress, and the stderr tail in errors (never a shell string)."""

from __future__ import annotations

import contextlib
import functools
import logging
import os
import re
import shutil
import signal
import subprocess
import threading
import time
from collections import deque
from collections.abc import Sequence
from contextvars import ContextVar
from dataclasses import dataclass
from pathlib import Path

from cosflow.media.base import MediaError, Progress

log = logging.getLogger(__name__)

#: Set around a task by the runner (and copied into the worker thread with the context): once the
#: event is set, the FFmpeg running for that task is killed, with its whole process group.
CANCEL: ContextVar[threading.Event | None] = ContextVar("cosflow_ffmpeg_cancel", default=None)


@dataclass(frozen=True)
class Binary:
    path: str
    source: str  # "system" or "imageio-ffmpeg"
    version: str


def locate() -> Binary | None:
    """The system ``ffmpeg`` if present, else the one ``imageio-ffmpeg`` installs through pip."""
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


@functools.cache
def executable() -> str:
    binary = locate()
    if binary is None:
        raise MediaError("InternalError", "FFmpeg is not installed (install ffmpeg or pip install imageio-ffmpeg)")
    return binary.path


def _read_progress(stream: object, duration: float | None, progress: Progress | None) -> None:
    """Read FFmpeg's progress lines to the end (an unread pipe would block it), reporting as we
    go; a report that fails (say, the database is busy) stops the reports, never the reading."""
    report = progress if duration else None
    for line in stream:  # type: ignore[attr-defined]
        key, _, value = line.strip().partition("=")
        if report is not None and duration and key == "out_time_us" and value.isdecimal():
            try:
                report(min(1.0, int(value) / 1_000_000 / duration))
            except Exception:
                log.warning("progress report failed; the task goes on without progress", exc_info=True)
                report = None


def _wait(proc: subprocess.Popen[str], deadline: float, timeout: float) -> None:
    cancel = CANCEL.get()
    while proc.poll() is None:
        if time.monotonic() > deadline:
            raise MediaError("Timeout", f"FFmpeg ran longer than {timeout:.0f} s and was stopped")
        if cancel is not None and cancel.is_set():
            raise MediaError("Cancelled", "the task was cancelled and its FFmpeg stopped")
        time.sleep(0.05)


def run(
    args: Sequence[str],
    *,
    timeout: float,
    duration: float | None = None,
    progress: Progress | None = None,
) -> None:
    """Run ``ffmpeg <args>``; raise :class:`MediaError` with the stderr tail on failure or timeout."""
    command = [executable(), "-hide_banner", "-nostdin", "-y", "-progress", "pipe:1", "-nostats", *args]
    proc = subprocess.Popen(  # noqa: S603 - an argument list, never a shell string
        command,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        errors="replace",
        start_new_session=True,
    )
    tail: deque[str] = deque(maxlen=30)
    readers = [
        threading.Thread(target=_read_progress, args=(proc.stdout, duration, progress), daemon=True),
        threading.Thread(target=lambda: tail.extend(proc.stderr or ()), daemon=True),  # type: ignore[arg-type]
    ]
    for reader in readers:
        reader.start()
    try:
        _wait(proc, time.monotonic() + timeout, timeout)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)  # the whole group: no orphaned encoder left behind
            proc.wait()
        for reader in readers:
            reader.join(timeout=2)
        for pipe in (proc.stdout, proc.stderr):
            if pipe is not None:
                pipe.close()
    if proc.returncode != 0:
        if any(_DISK_FULL.search(line) for line in tail):  # strerror(ENOSPC / EDQUOT): not the input's fault
            raise MediaError("InsufficientStorage", "FFmpeg could not write its output: " + _OUT_OF_SPACE)
        raise MediaError("InvalidInput", f"FFmpeg failed (exit {proc.returncode}): {_detail(tail) or 'no output'}")


#: How FFmpeg reports a full disk or quota (the C library's strerror of ENOSPC and EDQUOT).
_DISK_FULL = re.compile(r"No space left on device|Disk quota exceeded", re.IGNORECASE)
_OUT_OF_SPACE = "the server is out of disk space"

#: FFmpeg's log prefixes carry a memory address (``[mov,mp4 @ 0x55d5c8a3c2c0]``): noise to a user.
_ADDRESS = re.compile(r"\s*@\s*0x[0-9a-fA-F]+")


def _detail(tail: Sequence[str]) -> str:
    """The stderr tail on one line. It still names files by their paths (scratch paths): the
    runner turns an input's path into its object key and drops the others."""
    return _ADDRESS.sub("", " | ".join(line.strip() for line in tail if line.strip()))[-1500:]


def kill_orphans(under: Path) -> int:
    """Kill FFmpeg processes left running by a server that died (they run in their own session, so
    kill -9 of the server does not reach them) whose arguments point inside ``under``, each with its
    process group; how many. Reads ``/proc``: on systems without it nothing is done."""
    proc_root = Path("/proc")
    if not proc_root.is_dir() or not under.is_dir():
        return 0
    root = os.path.normpath(under.resolve())
    killed = 0
    for entry in proc_root.iterdir():
        if not entry.name.isdecimal():
            continue
        pid = int(entry.name)
        try:
            args = [os.fsdecode(a) for a in (entry / "cmdline").read_bytes().split(b"\0") if a]
            if not args or "ffmpeg" not in os.path.basename(args[0]):
                continue
            session = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[3])
            cwd = os.readlink(entry / "cwd")
        except (OSError, ValueError, IndexError):
            continue  # gone meanwhile, or not ours to inspect
        if session != pid:
            continue  # every FFmpeg we start leads its own session
        if any(_inside(os.path.normpath(os.path.join(cwd, arg)), root) for arg in args[1:]):
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(pid, signal.SIGKILL)
                killed += 1
    return killed


def _inside(path: str, root: str) -> bool:
    return path == root or path.startswith(root + os.sep)
