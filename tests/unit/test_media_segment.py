"""Segment (``media.segment``): pieces of ``Duration`` seconds, numbered, stream-copied when the codecs
fit; HLS as one playlist with its segments as companions; audio-only formats; StartTime/EndTime."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from pathlib import Path

import av
import pytest

from cosflow.media import ffmpeg
from cosflow.media.base import Job, MediaError, Product
from cosflow.media.probe import probe
from cosflow.media.segment import Segment
from tests.support.media import make_audio, make_corrupt_mp4, make_video

TOLERANCE = 0.1


@pytest.fixture(scope="module")
def video(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """12 s of H.264/AAC with a keyframe every second."""
    return make_video(tmp_path_factory.mktemp("segment-media") / "input.mp4", seconds=12)


def _operation(**fields: object) -> str:
    body = "".join(f"<{k}>{v}</{k}>" for k, v in fields.items())
    return f"<Operation><Segment>{body}</Segment></Operation>"


def _job(work: Path, *inputs: Path, operation: str) -> Job:
    work.mkdir(parents=True, exist_ok=True)
    return Job("Segment", inputs, tuple(p.name for p in inputs), ET.fromstring(operation), None, work, 60)


def _segment(work: Path, *inputs: Path, **fields: object) -> list[Product]:
    return Segment()(_job(work, *inputs, operation=_operation(**fields)), lambda fraction: None)


def _audio_seconds(path: Path) -> float:
    """Decoded length of the audio: what a player plays, whatever the container header says."""
    with av.open(str(path)) as container:
        stream = container.streams.audio[0]
        samples = sum(frame.samples for frame in container.decode(stream))
        return samples / stream.codec_context.sample_rate


def _video_packet_sizes(*paths: Path) -> list[int]:
    sizes = []
    for path in paths:
        with av.open(str(path)) as container:
            sizes += [packet.size for packet in container.demux(container.streams.video[0]) if packet.size]
    return sizes


@pytest.mark.parametrize("fmt", ["mp4", "ts"])
def test_video_is_cut_into_numbered_pieces_by_stream_copy(fmt: str, video: Path, tmp_path: Path) -> None:
    products = _segment(tmp_path, video, Format=fmt, Duration=5)

    assert [p.number for p in products] == [0, 1, 2]
    assert all(p.ext == fmt and p.path.suffix == f".{fmt}" for p in products)
    for product, expected in zip(products, [5, 5, 2], strict=True):
        info = probe(product.path)
        assert info.duration == pytest.approx(expected, abs=TOLERANCE)
        assert (info.video and info.video.codec, info.audio and info.audio.codec) == ("h264", "aac")
    if fmt == "mp4":  # the very same compressed frames: remuxed, not re-encoded
        assert _video_packet_sizes(*(p.path for p in products)) == _video_packet_sizes(video)


def test_codecs_the_container_cannot_hold_are_reencoded_on_the_boundaries(tmp_path: Path) -> None:
    source = tmp_path / "input.mkv"  # Motion JPEG + FLAC: neither goes into mp4 as it is
    lavfi = ["-f", "lavfi", "-i", "testsrc2=size=320x240:rate=25:duration=11", "-f", "lavfi", "-i", "sine=duration=11"]
    ffmpeg.run([*lavfi, "-c:v", "mjpeg", "-q:v", "8", "-c:a", "flac", str(source)], timeout=60)

    products = _segment(tmp_path / "work", source, Format="mp4", Duration=5)

    for product, expected in zip(products, [5, 5, 1], strict=True):
        info = probe(product.path)
        assert info.duration == pytest.approx(expected, abs=TOLERANCE)
        assert (info.video and info.video.codec, info.audio and info.audio.codec) == ("h264", "aac")


def test_hls_is_one_playlist_with_its_segments_as_companions(video: Path, tmp_path: Path) -> None:
    products = _segment(tmp_path, video, Format="hls", Duration=5)

    assert len(products) == 1
    playlist = products[0]
    assert (playlist.ext, playlist.number, playlist.path.suffix) == ("m3u8", None, ".m3u8")
    assert len(playlist.companions) == 3
    text = playlist.path.read_text()
    assert [c.name for c in playlist.companions] == re.findall(r"^(\S+\.ts)$", text, re.M)
    durations = [float(d) for d in re.findall(r"#EXTINF:([0-9.]+),", text)]
    assert durations == pytest.approx([5, 5, 2], abs=TOLERANCE)
    assert "#EXT-X-ENDLIST" in text
    for companion in playlist.companions:
        assert companion.parent == playlist.path.parent
        info = probe(companion)
        assert (info.format, info.video and info.video.codec) == ("mpegts", "h264")


@pytest.mark.parametrize(("fmt", "codec"), [("aac", "aac"), ("mp3", "mp3"), ("flac", "flac")])
def test_audio_formats_carry_only_the_audio(fmt: str, codec: str, video: Path, tmp_path: Path) -> None:
    products = _segment(tmp_path, video, Format=fmt, Duration=5)

    assert [p.number for p in products] == [0, 1, 2]
    for product, expected in zip(products, [5, 5, 2], strict=True):
        with av.open(str(product.path)) as container:
            assert not container.streams.video
            assert container.streams.audio[0].codec_context.codec.canonical_name == codec
        assert _audio_seconds(product.path) == pytest.approx(expected, abs=TOLERANCE)
    if fmt == "flac":  # each FLAC header states its own length
        assert [round(probe(p.path).duration) for p in products] == [5, 5, 2]


def test_without_duration_the_whole_input_is_remuxed(video: Path, tmp_path: Path) -> None:
    products = _segment(tmp_path, video, Format="mkv")

    assert len(products) == 1 and products[0].number is None and products[0].ext == "mkv"
    info = probe(products[0].path)
    assert info.format.startswith("matroska") and info.duration == pytest.approx(12, abs=TOLERANCE)


def test_start_and_end_time_trim_before_cutting(video: Path, tmp_path: Path) -> None:
    products = _segment(tmp_path, video, Format="mp4", Duration=5, StartTime=2, EndTime=9)

    assert [probe(p.path).duration for p in products] == pytest.approx([5, 2], abs=TOLERANCE)


def test_audio_input_to_an_audio_format(tmp_path: Path) -> None:
    source = make_audio(tmp_path / "input.wav", seconds=7)

    products = _segment(tmp_path / "work", source, Format="mp3", Duration=5)

    assert [round(_audio_seconds(p.path), 1) for p in products] == pytest.approx([5, 2], abs=TOLERANCE)


def test_several_inputs_keep_their_source_index(video: Path, tmp_path: Path) -> None:
    products = _segment(tmp_path, video, video, Format="ts", Duration=5)

    assert [(p.source_index, p.number) for p in products] == [(0, 0), (0, 1), (0, 2), (1, 0), (1, 1), (1, 2)]
    assert len({p.path for p in products}) == 6


@pytest.mark.parametrize(
    ("fields", "count"),
    [
        ({"Format": "mp4", "Duration": 5}, 2),
        ({"Format": "aac", "Duration": 10}, 2),
        ({"Format": "hls", "Duration": 5}, 1),
        ({"Format": "m3u8", "Duration": 5}, 1),
        ({"Format": "mp4"}, 1),
    ],
)
def test_product_count(fields: dict[str, object], count: int) -> None:
    assert Segment().product_count(ET.fromstring(_operation(**fields)), None) == count


@pytest.mark.parametrize(
    "fields",
    [{"Format": "mp4", "Duration": 1}, {"Format": "wav"}, {"Format": "mp4", "StartTime": 5, "EndTime": 3}],
)
def test_product_count_raises_on_bad_parameters(fields: dict[str, object]) -> None:
    with pytest.raises(MediaError) as caught:
        Segment().product_count(ET.fromstring(_operation(**fields)), None)
    assert caught.value.code == "InvalidArgument" and caught.value.message


@pytest.mark.parametrize(
    "fields",
    [
        {"Format": "mp4", "Duration": 4},
        {"Format": "mp4", "Duration": "5.5"},
        {"Format": "wav", "Duration": 5},
        {"Duration": 5},
        {"Format": "mp4", "StartTime": 5, "EndTime": 3},
        {"Format": "mp4", "StartTime": "soon"},
        {"Format": "mp4", "StartTime": 60},
        {"Format": "hls", "HlsEncrypt": "<IsHlsEncrypt>true</IsHlsEncrypt>"},
    ],
)
def test_bad_parameters_are_invalid_arguments(fields: dict[str, object], video: Path, tmp_path: Path) -> None:
    with pytest.raises(MediaError) as caught:
        _segment(tmp_path, video, **fields)

    assert caught.value.code == "InvalidArgument"
    assert list(tmp_path.iterdir()) == []


def test_an_audio_format_needs_an_audio_stream(tmp_path: Path) -> None:
    silent = make_video(tmp_path / "silent.mp4", seconds=6, audio=False)
    work = tmp_path / "work"

    with pytest.raises(MediaError) as caught:
        _segment(work, silent, Format="aac", Duration=5)

    assert caught.value.code == "InvalidInput"
    assert list(work.iterdir()) == []


def test_corrupt_input_is_invalid_and_leaves_nothing(video: Path, tmp_path: Path) -> None:
    corrupt = make_corrupt_mp4(tmp_path / "corrupt.mp4", garbage_blocks=40)
    work = tmp_path / "work"

    with pytest.raises(MediaError) as caught:
        _segment(work, video, corrupt, Format="mp4", Duration=5)

    assert caught.value.code == "InvalidInput"
    assert list(work.iterdir()) == []  # the pieces of the good first input were removed too
