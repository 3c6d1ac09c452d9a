"""``domain.failures.scrub`` / ``os_words`` and ``media.reasons``: what a user reads of a failure names
objects and reasons, never server paths, scratch names or errno numbers (issue 8 §3.8)."""

from __future__ import annotations

import errno
from pathlib import Path

import av
import pytest
from PIL import Image

from cosflow.domain.failures import SCRATCH_FILE, SERVER_FILE, os_words, scrub
from cosflow.media import ffmpeg
from cosflow.media.base import MediaError
from cosflow.media.probe import probe
from cosflow.media.reasons import INVALID, reason, writing

SCRATCH = "data/work/j2a1d0aacec7711f1ab9302fc00000001-ae8319fd/input-0.mp4"
KEY = "in/car.mp4"


def test_a_scratch_input_becomes_its_key_and_the_errno_goes() -> None:
    raw = f"the input is not a readable media file: [Errno 1094995529] Invalid data found: '{SCRATCH}'"
    said = scrub(raw, {SCRATCH: KEY}, ["data"])
    assert said == f"the input is not a readable media file: Invalid data found: '{KEY}'"


def test_other_files_under_the_data_dir_and_absolute_paths_are_dropped() -> None:
    raw = (
        "Error opening output file data/work/j1-ab/transcode-0/out.mp4 | "
        "cannot open /srv/cosflow/data/storage/tmp/x1 | lib /usr/lib/libx.so | C:\\data\\x.mp4"
    )
    said = scrub(raw, {}, ["data", "/srv/cosflow/data"])
    assert (
        said
        == f"Error opening output file {SCRATCH_FILE} | cannot open {SCRATCH_FILE} | lib {SERVER_FILE} | {SERVER_FILE}"
    )


def test_a_key_put_in_is_never_scrubbed_again_and_words_stay() -> None:
    # the key itself looks like a scratch path; "the data is..." is not a path under "data"
    said = scrub(f"{SCRATCH}: the data is invalid", {SCRATCH: "data/work/clip.mp4"}, ["data"])
    assert said == "data/work/clip.mp4: the data is invalid"


@pytest.mark.parametrize(
    "raw, said",
    [
        ("gaierror: [Errno -2] Name or service not known", "gaierror: Name or service not known"),
        ("write failed (errno=28)", "write failed ()"),
        ("Error code: -22 while opening encoder", "while opening encoder"),
        (
            "Cannot connect to host 127.0.0.1:9 ssl:default [Connect call failed ('127.0.0.1', 9)]",
            "Cannot connect to host 127.0.0.1:9 ssl:default [Connect call failed ('127.0.0.1', 9)]",
        ),
        ("POST http://hooks.example.com/a/b/c failed", "POST http://hooks.example.com/a/b/c failed"),
        ("imageMogr2/thumbnail/200x and Container/Format 1/2", "imageMogr2/thumbnail/200x and Container/Format 1/2"),
    ],
)
def test_errno_numbers_go_addresses_urls_and_rules_stay(raw: str, said: str) -> None:
    assert scrub(raw, {}, ["data"]) == said


def test_os_words() -> None:
    assert os_words(errno.ENOSPC) == "the server is out of disk space"
    assert os_words(errno.ENOTDIR) == "not a directory"
    assert os_words(None) == "a file operation failed"


def test_reasons_name_no_path_and_no_number(tmp_path: Path) -> None:
    bad = tmp_path / "input-0.mp4"
    bad.write_bytes(b"not a video")
    with pytest.raises(av.error.FFmpegError) as caught:
        av.open(str(bad))
    assert reason(caught.value) == INVALID
    with pytest.raises(Image.UnidentifiedImageError) as unreadable:
        Image.open(bad)
    assert reason(unreadable.value) == "it is not in an image format that can be read"
    assert reason(OSError("image file is truncated (63 bytes not processed)")) == "the data is truncated"
    assert writing(OSError(errno.ENOSPC, "No space left on device", str(bad))) == "the server is out of disk space"
    assert writing(OSError("cannot write mode RGBA as JPEG")) == "cannot write mode RGBA as JPEG"


def test_a_real_probe_failure_reads_as_words_once_scrubbed(tmp_path: Path) -> None:
    scratch = tmp_path / "work" / "j1-ab" / "input-0.mp4"
    scratch.parent.mkdir(parents=True)
    scratch.write_bytes(b"\x00\x01garbage" * 100)
    with pytest.raises(MediaError) as caught:
        probe(scratch)
    said = scrub(caught.value.message, {str(scratch): KEY}, [str(tmp_path)])
    assert said == f"{KEY} is not a readable media file: {INVALID}"


def test_a_real_ffmpeg_failure_names_the_object_not_the_scratch_file(tmp_path: Path) -> None:
    scratch = tmp_path / "work" / "j1-ab" / "input-0.mp4"
    scratch.parent.mkdir(parents=True)
    scratch.write_bytes(b"\x00\x01garbage" * 100)
    out = scratch.parent / "transcode-0" / "out.mp4"
    with pytest.raises(MediaError) as caught:
        ffmpeg.run(["-i", str(scratch), str(out)], timeout=60)
    assert str(scratch) in caught.value.message and " @ 0x" not in caught.value.message  # raw: paths
    said = scrub(caught.value.message, {str(scratch): KEY}, [str(tmp_path)])
    assert KEY in said and str(tmp_path) not in said and "input-0" not in said and "Errno" not in said, said
