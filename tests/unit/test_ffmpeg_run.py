"""ffmpeg.run: argument lists, errors with the stderr tail, timeouts and cancellation kill the
whole process group."""

from __future__ import annotations

import contextvars
import os
import subprocess
import threading
import time
from pathlib import Path

import pytest

from cosflow.media import ffmpeg
from cosflow.media.base import MediaError

LONG = ["-f", "lavfi", "-i", "testsrc2=size=320x240:rate=25:duration=600", "-f", "null", "-"]


def _no_ffmpeg_children() -> bool:
    me = os.getpid()
    for status in Path("/proc").glob("[0-9]*/status"):
        try:
            text = status.read_text()
        except OSError:
            continue
        if f"PPid:\t{me}\n" in text and "ffmpeg" in text.split("\n", 1)[0]:
            return False
    return True


def test_failure_carries_the_stderr_tail(tmp_path: Path) -> None:
    with pytest.raises(MediaError) as err:
        ffmpeg.run(["-i", str(tmp_path / "missing.mp4"), str(tmp_path / "out.mp4")], timeout=30)
    assert err.value.code == "InvalidInput" and "missing.mp4" in err.value.message


def test_timeout_kills_it() -> None:
    started = time.monotonic()
    with pytest.raises(MediaError) as err:
        ffmpeg.run(LONG, timeout=0.5)
    assert err.value.code == "Timeout" and time.monotonic() - started < 5
    assert _no_ffmpeg_children()


def test_cancel_kills_it_promptly() -> None:
    cancel = threading.Event()
    outcome: list[BaseException] = []

    def work() -> None:
        ffmpeg.CANCEL.set(cancel)
        try:
            ffmpeg.run(LONG, timeout=600)
        except MediaError as exc:
            outcome.append(exc)

    thread = threading.Thread(target=contextvars.copy_context().run, args=(work,))
    thread.start()
    time.sleep(0.5)
    started = time.monotonic()
    cancel.set()
    thread.join(10)
    assert not thread.is_alive() and time.monotonic() - started < 3
    assert isinstance(outcome[0], MediaError) and outcome[0].code == "Cancelled"
    assert _no_ffmpeg_children()


def test_a_failing_progress_report_does_not_fail_the_run() -> None:
    """The runner's report writes to the database; if that fails, FFmpeg's output must still be
    read to the end (else it blocks on a full pipe) and the run must still succeed."""
    calls: list[float] = []

    def report(fraction: float) -> None:
        calls.append(fraction)
        raise RuntimeError("database is locked")

    short = ["-f", "lavfi", "-i", "testsrc2=size=160x120:rate=25:duration=3", "-f", "null", "-"]
    ffmpeg.run(short, timeout=60, duration=3.0, progress=report)
    assert len(calls) == 1


def _detached_ffmpeg(output: Path, cwd: Path) -> subprocess.Popen[bytes]:
    """An FFmpeg started the way ffmpeg.run starts one (own session), as a dead server leaves it."""
    proc = subprocess.Popen(
        [ffmpeg.executable(), "-nostdin", "-f", "lavfi", "-i", "testsrc2=size=160x120:rate=5:duration=600", "-y"]
        + [str(output)],
        cwd=cwd,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    # Popen can return (vfork) before the kernel has set up the new program's arguments; an
    # orphan a dead server left is long past that point.
    deadline = time.monotonic() + 10
    while str(output).encode() not in Path(f"/proc/{proc.pid}/cmdline").read_bytes():
        assert time.monotonic() < deadline, "ffmpeg never showed its arguments"
        time.sleep(0.01)
    return proc


def test_kill_orphans_kills_only_ffmpeg_working_under_the_dir(tmp_path: Path) -> None:
    work = tmp_path / "data" / "work"
    (work / "j1-ab").mkdir(parents=True)
    (tmp_path / "elsewhere").mkdir()
    ours = _detached_ffmpeg(Path("data/work/j1-ab/out.mp4"), cwd=tmp_path)  # relative: resolved by its cwd
    theirs = _detached_ffmpeg(tmp_path / "elsewhere" / "out.mp4", cwd=tmp_path)
    try:
        assert ffmpeg.kill_orphans(work) == 1
        assert ours.wait(5) == -9
        assert theirs.poll() is None
        assert ffmpeg.kill_orphans(work) == 0
    finally:
        for proc in (ours, theirs):
            proc.kill()
            proc.wait()
