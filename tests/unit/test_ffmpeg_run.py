"""ffmpeg.run: argument lists, errors with the stderr tail, timeouts and cancellation kill the
whole process group."""

from __future__ import annotations

import contextvars
import os
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
