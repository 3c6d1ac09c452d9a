"""SmartCover (``media.smartcover``): covers come from the sharp part of a video, never from black,
blurred or fading frames; Count/Format/Width/Height/DeleteDuplicates are honoured; sampling is cheap."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from cosflow.media import ffmpeg
from cosflow.media.base import Job, MediaError, Product
from cosflow.media.smartcover import CoverParams, SmartCover, extract, parse_params, sample
from tests.support.media import make_audio, make_corrupt_mp4, make_video

SIZE = "320x240"
#: The mixed video: 0-3 s black, 3-6 s blurred, 6-9 s fading in from black, 9-14 s sharp.
SHARP_FROM_MS, SHARP_TO_MS = 9000, 14000


def _lavfi(*sources: str, graph: str, target: Path, gop: int = 25) -> Path:
    args: list[str] = []
    for source in sources:
        args += ["-f", "lavfi", "-i", source]
    args += ["-filter_complex", graph, "-map", "[v]", "-c:v", "libx264", "-preset", "ultrafast", "-g", str(gop)]
    ffmpeg.run([*args, "-pix_fmt", "yuv420p", str(target)], timeout=60)
    return target


@pytest.fixture(scope="module")
def media(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("smartcover-media")


@pytest.fixture(scope="module")
def mixed(media: Path) -> Path:
    return _lavfi(
        f"color=black:size={SIZE}:rate=25:duration=3",
        f"testsrc2=size={SIZE}:rate=25:duration=3",
        f"testsrc2=size={SIZE}:rate=25:duration=3",
        f"testsrc2=size={SIZE}:rate=25:duration=5",
        graph="[1:v]gblur=sigma=20[blur];[2:v]fade=t=in:st=0:d=3[fade];"
        "[0:v][blur][fade][3:v]concat=n=4:v=1:a=0,format=yuv420p[v]",
        target=media / "mixed.mp4",
    )


@pytest.fixture(scope="module")
def static(media: Path) -> Path:
    return _lavfi(f"smptebars=size={SIZE}:rate=25:duration=8", graph="[0:v]null[v]", target=media / "static.mp4")


@pytest.fixture(scope="module")
def scenes(media: Path) -> Path:
    """Three different, individually static scenes of 3 s each."""
    return _lavfi(
        f"smptebars=size={SIZE}:rate=25:duration=3",
        f"rgbtestsrc=size={SIZE}:rate=25:duration=3",
        f"testsrc=size={SIZE}:rate=25:duration=3",
        graph="[2:v]trim=end_frame=1,loop=loop=74:size=1[still];[0:v][1:v][still]concat=n=3:v=1:a=0[v]",
        target=media / "scenes.mp4",
    )


def _job(work: Path, *inputs: Path, operation: str | None = None, template: str | None = None) -> Job:
    work.mkdir(parents=True, exist_ok=True)
    return Job(
        node_type="SmartCover",
        inputs=inputs,
        input_keys=tuple(p.name for p in inputs),
        operation=ET.fromstring(operation) if operation else None,
        template=ET.fromstring(template) if template else None,
        work_dir=work,
        timeout_seconds=60,
    )


def _inline(**fields: object) -> str:
    body = "".join(f"<{k}>{v}</{k}>" for k, v in fields.items())
    return f"<Operation><SmartCover>{body}</SmartCover></Operation>"


def _gray(path: Path) -> np.ndarray:
    with Image.open(path) as image:
        return np.asarray(image.convert("L"), dtype=np.float32)


def _sharpness(gray: np.ndarray) -> float:
    laplacian = 4 * gray[1:-1, 1:-1] - gray[:-2, 1:-1] - gray[2:, 1:-1] - gray[1:-1, :-2] - gray[1:-1, 2:]
    return float(laplacian.var())


def _covers(work: Path, *inputs: Path, **kwargs: str) -> list[Product]:
    return SmartCover()(_job(work, *inputs, **kwargs), lambda fraction: None)


# --- choosing the right frames ------------------------------------------------------------------


def test_covers_come_only_from_the_sharp_stretch(mixed: Path, tmp_path: Path) -> None:
    blurred = tmp_path / "blurred.png"
    extract(mixed, 4.5, blurred, CoverParams(format="png"), timeout=30)
    blurred_sharpness = _sharpness(_gray(blurred))

    covers = _covers(tmp_path / "work", mixed)

    assert [c.number for c in covers] == [0, 1, 2]
    assert [c.time_ms for c in covers] == sorted(c.time_ms for c in covers)
    for cover in covers:
        assert cover.time_ms is not None and SHARP_FROM_MS <= cover.time_ms < SHARP_TO_MS, cover
        gray = _gray(cover.path)
        assert gray.shape == (240, 320)
        assert gray.mean() > 80 and gray.std() > 40  # neither black nor faded nor flat
        assert _sharpness(gray) > 20 * blurred_sharpness


def test_count_format_and_size_are_honoured(mixed: Path, tmp_path: Path) -> None:
    covers = _covers(tmp_path, mixed, mixed, operation=_inline(Count=2, Format="png", Width=256))

    assert [(c.source_index, c.number) for c in covers] == [(0, 0), (0, 1), (1, 0), (1, 1)]
    for cover in covers:
        assert cover.ext == "png" and cover.path.suffix == ".png"
        with Image.open(cover.path) as image:
            assert (image.format, image.size) == ("PNG", (256, 192))


def test_height_only_keeps_the_aspect_ratio_and_webp(mixed: Path, tmp_path: Path) -> None:
    covers = _covers(tmp_path, mixed, operation=_inline(Count=1, Format="webp", Height=300))

    assert len(covers) == 1 and covers[0].ext == "webp"
    with Image.open(covers[0].path) as image:
        assert (image.format, image.size) == ("WEBP", (400, 300))


def test_template_parameters_win_over_inline_ones(mixed: Path, tmp_path: Path) -> None:
    template = "<SmartCover><SmartCover><Count>1</Count><Format>jpg</Format></SmartCover></SmartCover>"
    covers = _covers(tmp_path, mixed, operation=_inline(Count=5, Format="png"), template=template)

    assert len(covers) == 1
    with Image.open(covers[0].path) as image:
        assert image.format == "JPEG"


def test_delete_duplicates_keeps_one_cover_of_a_static_video(static: Path, tmp_path: Path) -> None:
    assert len(_covers(tmp_path / "keep", static, operation=_inline(Count=3))) == 3

    covers = _covers(tmp_path / "dedup", static, operation=_inline(Count=3, DeleteDuplicates="true"))

    assert len(covers) == 1 and covers[0].number == 0


def test_delete_duplicates_keeps_distinct_scenes(scenes: Path, tmp_path: Path) -> None:
    covers = _covers(tmp_path, scenes, operation=_inline(Count=3, DeleteDuplicates="true"))

    assert len(covers) == 3
    assert sorted(c.time_ms // 3000 for c in covers if c.time_ms is not None) == [0, 1, 2]


def test_a_very_short_video_gives_what_it_has(tmp_path: Path) -> None:
    short = make_video(tmp_path / "short.mp4", seconds=0.12, audio=False)

    covers = _covers(tmp_path / "work", short, operation=_inline(Count=10))

    assert 1 <= len(covers) <= 3
    assert len({c.time_ms for c in covers}) == len(covers)


# --- cheap sampling -----------------------------------------------------------------------------


def test_sampling_decodes_keyframes_only_when_they_are_dense(tmp_path: Path) -> None:
    video = make_video(tmp_path / "long.mp4", seconds=20, width=640, height=360, audio=False)  # a keyframe a second
    decoded: list[float] = []

    covers = SmartCover(observe=decoded.append)(_job(tmp_path / "work", video), lambda fraction: None)

    assert len(covers) == 3
    assert len(decoded) <= 25  # 20 keyframes, not the 500 frames of the video


def test_sparse_keyframes_are_sampled_about_once_a_second(tmp_path: Path) -> None:
    video = _lavfi(
        "testsrc2=size=320x240:rate=25:duration=20", graph="[0:v]null[v]", target=tmp_path / "gop.mp4", gop=250
    )

    candidates = sample(video, duration=20.0, count=3)

    assert 15 <= len(candidates) <= 25
    assert all(later.time - earlier.time >= 0.9 for earlier, later in zip(candidates, candidates[1:], strict=False))


# --- parameters and bad input -------------------------------------------------------------------


def test_defaults_and_product_count() -> None:
    assert parse_params(None, None) == CoverParams(format="jpg", count=3, delete_duplicates=False)
    assert SmartCover().product_count(None, None) == 3
    assert SmartCover().product_count(ET.fromstring(_inline(Count=7)), None) == 7
    template = ET.fromstring("<SmartCover><SmartCover><Count>1</Count></SmartCover></SmartCover>")
    assert SmartCover().product_count(ET.fromstring(_inline(Count=7)), template) == 1


@pytest.mark.parametrize("fields", [{"Count": 0}, {"Count": "7.0"}, {"Format": "gif"}, {"DeleteDuplicates": "yes"}])
def test_product_count_raises_on_bad_parameters(fields: dict[str, object]) -> None:
    with pytest.raises(MediaError) as caught:
        SmartCover().product_count(ET.fromstring(_inline(**fields)), None)
    assert caught.value.code == "InvalidArgument" and caught.value.message


@pytest.mark.parametrize(
    "fields",
    [{"Count": 0}, {"Count": 11}, {"Format": "gif"}, {"Width": 100}, {"Height": 5000}, {"DeleteDuplicates": "yes"}],
)
def test_bad_parameters_are_invalid_arguments(fields: dict[str, object], mixed: Path, tmp_path: Path) -> None:
    with pytest.raises(MediaError) as caught:
        _covers(tmp_path, mixed, operation=_inline(**fields))
    assert caught.value.code == "InvalidArgument"
    assert list(tmp_path.iterdir()) == []


def test_corrupt_input_is_invalid_and_leaves_nothing(mixed: Path, tmp_path: Path) -> None:
    corrupt = make_corrupt_mp4(tmp_path / "corrupt.mp4", garbage_blocks=40)
    work = tmp_path / "work"

    with pytest.raises(MediaError) as caught:
        _covers(work, mixed, corrupt)

    assert caught.value.code == "InvalidInput"
    assert list(work.iterdir()) == []  # the covers of the good first input were removed too


@pytest.mark.parametrize("kind", ["empty", "audio"])
def test_empty_and_audio_only_inputs_are_invalid(kind: str, tmp_path: Path) -> None:
    source = tmp_path / "input.mp3"
    if kind == "empty":
        source.write_bytes(b"")
    else:
        make_audio(source, seconds=1)
    work = tmp_path / "work"

    with pytest.raises(MediaError) as caught:
        _covers(work, source)

    assert caught.value.code == "InvalidInput"
    assert list(work.iterdir()) == []
