"""The Snapshot processor on real FFmpeg output, checked by decoding (Pillow, PyAV), never by bytes."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import av
import numpy as np
import pytest
from PIL import Image

from cosflow.media.base import Job, MediaError, Product
from cosflow.media.snapshot import Snapshot
from tests.support.media import make_audio, make_corrupt_mp4, make_video


def sprite(extra: str = "<Color>red</Color>") -> str:
    """A 2x2 grid, 4 px between cells, 6 px around them."""
    grid = "<Columns>2</Columns><Lines>2</Lines><Padding>4</Padding><Margin>6</Margin>"
    return f"<SpriteSnapshotConfig>{grid}{extra}</SpriteSnapshotConfig>"


@pytest.fixture(scope="module")
def video(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """4 s, 320x240, 25 fps, a key frame every second, with audio."""
    return make_video(tmp_path_factory.mktemp("snapshot") / "clip.mp4", seconds=4.0)


def run(source: Path, work: Path, body: str, operation: str | None = None) -> list[Product]:
    job = Job(
        node_type="Snapshot",
        inputs=(source,),
        input_keys=(source.name,),
        operation=None if operation is None else ET.fromstring(operation),
        template=ET.fromstring(f"<Snapshot><Snapshot>{body}</Snapshot></Snapshot>"),
        work_dir=work,
        timeout_seconds=60.0,
    )
    return Snapshot()(job, lambda fraction: None)


def shots(products: list[Product]) -> list[Product]:
    return [p for p in products if not p.sprite]


def sheets(products: list[Product]) -> list[Product]:
    return [p for p in products if p.sprite]


def image(path: Path) -> Image.Image:
    with Image.open(path) as opened:
        opened.load()
        return opened


def frame_at(source: Path, seconds: float) -> np.ndarray:
    """The decoded frame shown at ``seconds`` (the first at or after it)."""
    with av.open(str(source)) as container:
        for frame in container.decode(video=0):
            if frame.time is not None and frame.time >= seconds - 0.001:
                return np.asarray(frame.to_image().convert("RGB"), dtype=np.int16)
    raise AssertionError(f"no frame at {seconds}")


def difference(path: Path, reference: np.ndarray) -> float:
    return float(np.abs(np.asarray(image(path).convert("RGB"), dtype=np.int16) - reference).mean())


# --- modes and ${Number}/${Time} ---------------------------------------------------------------------
def test_interval_takes_count_images_every_time_interval(video: Path, work: Path) -> None:
    products = run(video, work, "<Mode>Interval</Mode><Start>0.5</Start><TimeInterval>1</TimeInterval><Count>3</Count>")
    assert [(p.number, p.time_ms, p.ext) for p in products] == [(0, 500, "jpg"), (1, 1500, "jpg"), (2, 2500, "jpg")]
    assert all(image(p.path).format == "JPEG" and image(p.path).size == (320, 240) for p in products)


def test_interval_stops_at_the_end_of_the_video(video: Path, work: Path) -> None:
    products = run(video, work, "<TimeInterval>1</TimeInterval><Count>10</Count>")
    assert [p.time_ms for p in products] == [0, 1000, 2000, 3000]


def test_is_check_count_falls_back_to_average_when_the_video_is_too_short(video: Path, work: Path) -> None:
    body = "<TimeInterval>1</TimeInterval><Count>8</Count><IsCheckCount>true</IsCheckCount>"
    assert [p.time_ms for p in run(video, work, body)] == [0, 500, 1000, 1500, 2000, 2500, 3000, 3500]


def test_interval_without_time_interval_takes_every_frame(video: Path, work: Path) -> None:
    products = run(video, work, "<Start>1</Start><Count>5</Count>")
    assert [p.time_ms for p in products] == [1000, 1040, 1080, 1120, 1160]


def test_average_spreads_count_over_the_duration_from_start(video: Path, work: Path) -> None:
    assert [p.time_ms for p in run(video, work, "<Mode>Average</Mode><Count>4</Count>")] == [0, 1000, 2000, 3000]
    again = work / "again"
    again.mkdir()
    times = [p.time_ms for p in run(video, again, "<Mode>Average</Mode><Start>2</Start><Count>4</Count>")]
    assert times == [2000, 2500, 3000, 3500]


def test_keyframe_takes_the_first_count_key_frames(video: Path, work: Path) -> None:
    assert [p.time_ms for p in run(video, work, "<Mode>KeyFrame</Mode><Count>10</Count>")] == [0, 1000, 2000, 3000]
    later = work / "later"
    later.mkdir()
    assert [p.time_ms for p in run(video, later, "<Mode>KeyFrame</Mode><Start>1.5</Start><Count>1</Count>")] == [2000]


@pytest.mark.parametrize(
    "body",
    [
        "<Start>0.6</Start><TimeInterval>1.2</TimeInterval><Count>3</Count>",  # seeks
        "<Mode>Average</Mode><Count>10</Count>",  # one pass with a select filter
        "<Start>2</Start><Count>3</Count>",  # every frame
        "<Mode>KeyFrame</Mode><Count>4</Count>",
    ],
    ids=["seek", "dense", "every-frame", "keyframe"],
)
def test_each_image_is_the_frame_at_its_time(video: Path, work: Path, body: str) -> None:
    products = run(video, work, body + "<CIParam>imageMogr2/format/png</CIParam>")
    times = [p.time_ms or 0 for p in products]
    assert times == sorted(times) and len(set(times)) == len(times)
    for product in products:
        here = difference(product.path, frame_at(video, (product.time_ms or 0) / 1000))
        later = difference(product.path, frame_at(video, (product.time_ms or 0) / 1000 + 0.2))
        assert here < 2.0 < later, (product.time_ms, here, later)


# --- sizes and formats ------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("size", "expected"),
    [
        ("<Width>160</Width><Height>128</Height>", (160, 128)),
        ("<Width>160</Width>", (160, 120)),
        ("<Height>180</Height>", (240, 180)),
    ],
)
def test_width_and_height(video: Path, work: Path, size: str, expected: tuple[int, int]) -> None:
    products = run(video, work, f"<Mode>Average</Mode><Count>2</Count>{size}")
    assert [image(p.path).size for p in products] == [expected, expected]


@pytest.mark.parametrize(
    ("ci_param", "fmt", "ext"),
    [("", "JPEG", "jpg"), ("imageMogr2/format/png", "PNG", "png"), ("imageMogr2/format/webp", "WEBP", "webp")],
)
def test_format_follows_ci_param(video: Path, work: Path, ci_param: str, fmt: str, ext: str) -> None:
    products = run(video, work, f"<Count>2</Count><TimeInterval>1</TimeInterval><CIParam>{ci_param}</CIParam>")
    assert [(p.ext, image(p.path).format) for p in products] == [(ext, fmt), (ext, fmt)]


def test_format_follows_a_literal_output_suffix(video: Path, work: Path) -> None:
    operation = "<Operation><Output><Object>shots/${Number}.png</Object></Output></Operation>"
    [product] = run(video, work, "<Count>1</Count>", operation)
    assert (product.ext, image(product.path).format) == ("png", "PNG")


# --- sprite sheets ----------------------------------------------------------------------------------
def test_sprite_sheet_has_the_grid_size_and_the_colour_in_its_margin(video: Path, work: Path) -> None:
    body = "<Mode>Average</Mode><Count>4</Count><Width>128</Width><SnapshotOutMode>SnapshotAndSprite</SnapshotOutMode>"
    products = run(video, work, body + sprite())
    assert len(shots(products)) == 4
    [sheet] = sheets(products)
    assert (sheet.number, sheet.ext, sheet.time_ms) == (0, "jpg", None)
    picture = image(sheet.path).convert("RGB")
    assert picture.size == (2 * 128 + 4 + 2 * 6, 2 * 96 + 4 + 2 * 6)
    for point in [(2, 2), (picture.width - 3, picture.height - 3), (6 + 128 + 2, 50)]:  # margin and padding
        red, green, blue = picture.getpixel(point)  # type: ignore[misc]
        assert red > 200 and green < 50 and blue < 50, point


def test_more_snapshots_than_cells_give_several_sheets(video: Path, work: Path) -> None:
    config = sprite("<CellWidth>64</CellWidth><CellHeight>40</CellHeight><Color>0x00FF00</Color>")
    body = f"<Mode>Average</Mode><Count>7</Count><SnapshotOutMode>SnapshotAndSprite</SnapshotOutMode>{config}"
    products = run(video, work, body + "<CIParam>imageMogr2/format/png</CIParam>")
    assert len(shots(products)) == 7
    found = sheets(products)
    assert [p.number for p in found] == [0, 1]
    expected = (2 * 64 + 4 + 12, 2 * 40 + 4 + 12)
    assert [image(p.path).size for p in found] == [expected, expected]
    last = image(found[1].path).convert("RGB")
    assert last.getpixel((6 + 64 + 4 + 32, 6 + 40 + 4 + 20)) == (0, 255, 0)  # the empty fourth cell


def test_only_sprite_yields_sheets_alone(video: Path, work: Path) -> None:
    body = "<Mode>Average</Mode><Count>4</Count><SnapshotOutMode>OnlySprite</SnapshotOutMode>"
    products = run(video, work, body + sprite("<Color>black</Color>"))
    assert [(p.sprite, p.number) for p in products] == [(True, 0)]
    assert image(products[0].path).size == (2 * 320 + 4 + 12, 2 * 240 + 4 + 12)
    assert sorted(p.name for p in work.rglob("*") if p.is_file()) == [products[0].path.name]


def test_product_count() -> None:
    def count(body: str) -> int:
        return Snapshot().product_count(None, ET.fromstring(f"<Snapshot><Snapshot>{body}</Snapshot></Snapshot>"))

    assert count("<Count>5</Count>") == 5
    assert count("<Count>5</Count><SnapshotOutMode>OnlySprite</SnapshotOutMode>" + sprite()) == 0
    inline = ET.fromstring("<Operation><Snapshot><Count>3</Count></Snapshot></Operation>")
    assert Snapshot().product_count(inline, None) == 3


@pytest.mark.parametrize(
    "body",
    [
        "<Count>nope</Count>",
        "<Count>5</Count><Mode>Sometimes</Mode>",
        "<Count>5</Count><SnapshotOutMode>OnlySprite</SnapshotOutMode>",  # no SpriteSnapshotConfig
        "<Count>5</Count><SnapshotOutMode>OnlySprite</SnapshotOutMode>" + sprite("<Color>nocolour</Color>"),
    ],
)
def test_product_count_raises_on_bad_parameters(body: str) -> None:
    template = ET.fromstring(f"<Snapshot><Snapshot>{body}</Snapshot></Snapshot>")
    with pytest.raises(MediaError) as caught:
        Snapshot().product_count(None, template)
    assert caught.value.code == "InvalidArgument" and caught.value.message


# --- failures -------------------------------------------------------------------------------------
@pytest.mark.parametrize("kind", ["corrupt", "empty", "audio-only"])
def test_unusable_input_is_invalid_input_and_leaves_nothing(tmp_path: Path, work: Path, kind: str) -> None:
    source = tmp_path / "input.mp4"
    if kind == "corrupt":
        make_corrupt_mp4(source)
    elif kind == "empty":
        source.write_bytes(b"")
    else:
        source = make_audio(tmp_path / "input.m4a")
    with pytest.raises(MediaError) as caught:
        run(source, work, "<Count>2</Count>")
    assert caught.value.code == "InvalidInput"
    assert list(work.iterdir()) == []


@pytest.mark.parametrize(
    "body",
    [
        "<Mode>Interval</Mode>",  # no Count
        "<Count>0</Count>",
        "<Count>2.5</Count>",
        "<Count>2</Count><Mode>Sometimes</Mode>",
        "<Count>2</Count><TimeInterval>soon</TimeInterval>",
        "<Count>2</Count><TimeInterval>0</TimeInterval>",
        "<Count>2</Count><Width>50</Width>",
        "<Count>2</Count><Start>-1</Start>",
        "<Count>2</Count><Start>10</Start>",  # past the end
        "<Count>2</Count><CIParam>imageMogr2/format/bmp</CIParam>",
        "<Count>2</Count><SnapshotOutMode>Both</SnapshotOutMode>",
        "<Count>2</Count><SnapshotOutMode>OnlySprite</SnapshotOutMode>",  # no SpriteSnapshotConfig
        "<Count>2</Count><SnapshotOutMode>OnlySprite</SnapshotOutMode>"
        "<SpriteSnapshotConfig><Columns>2</Columns><Color>red</Color></SpriteSnapshotConfig>",  # no Lines
        "<Count>2</Count><SnapshotOutMode>OnlySprite</SnapshotOutMode>" + sprite("<Color>nocolour</Color>"),
        "<Count>2</Count><SnapshotOutMode>OnlySprite</SnapshotOutMode>" + sprite("<CellWidth>4</CellWidth>"),
    ],
)
def test_bad_parameters_are_invalid_argument(video: Path, work: Path, body: str) -> None:
    with pytest.raises(MediaError) as caught:
        run(video, work, body)
    assert caught.value.code == "InvalidArgument"
    assert caught.value.message and "Traceback" not in caught.value.message
    assert list(work.iterdir()) == []


def test_missing_snapshot_parameters_are_invalid_argument(video: Path, work: Path) -> None:
    job = Job("Snapshot", (video,), ("clip.mp4",), None, None, work, 60.0)
    with pytest.raises(MediaError, match="Snapshot parameters") as caught:
        Snapshot()(job, lambda fraction: None)
    assert caught.value.code == "InvalidArgument"


def test_black_frames_are_dropped_when_asked(tmp_path: Path, work: Path) -> None:
    black = make_video(tmp_path / "black.mp4", seconds=1.0, source="color", audio=False)
    assert len(run(black, work, "<Mode>Average</Mode><Count>2</Count>")) == 2
    checked = work / "checked"
    checked.mkdir()
    with pytest.raises(MediaError) as caught:
        run(black, checked, "<Mode>Average</Mode><Count>2</Count><IsCheckBlack>true</IsCheckBlack>")
    assert caught.value.code == "InvalidInput"


def test_progress_is_reported(video: Path, work: Path) -> None:
    seen: list[float] = []
    job = Job(
        "Snapshot",
        (video,),
        ("clip.mp4",),
        None,
        ET.fromstring("<Snapshot><Snapshot><TimeInterval>1</TimeInterval><Count>4</Count></Snapshot></Snapshot>"),
        work,
        60.0,
    )
    Snapshot()(job, seen.append)
    assert seen and seen[-1] == 1.0 and all(0.0 <= value <= 1.0 for value in seen)
