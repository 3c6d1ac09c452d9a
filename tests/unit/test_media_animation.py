"""The Animation processor on real FFmpeg output, checked by decoding with Pillow, never by bytes."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest
from PIL import GifImagePlugin, Image, ImageSequence

from cosflow.media.animation import Animation, parse_params
from cosflow.media.base import Job, MediaError, Product
from tests.support.media import make_audio, make_corrupt_mp4, make_video


@pytest.fixture(scope="module")
def video(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """4 s, 320x240, 25 fps, a key frame every second, with audio."""
    return make_video(tmp_path_factory.mktemp("animation") / "clip.mp4", seconds=4.0)


def template(fmt: str, video: str = "", interval: str = "") -> ET.Element:
    body = f"<Container><Format>{fmt}</Format></Container><Video>{video}</Video>"
    return ET.fromstring(f"<Animation>{body}<TimeInterval>{interval}</TimeInterval></Animation>")


def run(source: Path, work: Path, body: ET.Element | None, operation: ET.Element | None = None) -> Product:
    job = Job("Animation", (source,), (source.name,), operation, body, work, 60.0)
    [product] = Animation()(job, lambda fraction: None)
    return product


def frames(path: Path) -> tuple[str, tuple[int, int], list[np.ndarray], list[int]]:
    """Format, size, every frame as RGB, and every frame's duration in ms."""
    with Image.open(path) as image:
        assert image.n_frames == sum(1 for _ in ImageSequence.Iterator(image))
        pictures, durations = [], []
        for frame in ImageSequence.Iterator(image):
            pictures.append(np.asarray(frame.convert("RGB"), dtype=np.int16))
            durations.append(int(frame.info.get("duration", 0)))
        return str(image.format), image.size, pictures, durations


def test_gif_has_fps_times_duration_frames_at_the_asked_size(video: Path, work: Path) -> None:
    product = run(
        video,
        work,
        template("gif", "<Codec>gif</Codec><Fps>10</Fps><Width>160</Width>", "<Start>1</Start><Duration>2</Duration>"),
    )
    fmt, size, pictures, durations = frames(product.path)
    assert (product.ext, fmt, size) == ("gif", "GIF", (160, 120))
    assert abs(len(pictures) - 20) <= 1
    assert all(abs(duration - 100) <= 10 for duration in durations[:-1])


@pytest.mark.parametrize("start", ["0", "0.0", "00"])
def test_a_start_of_zero_however_written_is_the_beginning(video: Path, work: Path, start: str) -> None:
    product = run(
        video, work, template("gif", "<Fps>5</Fps><Width>160</Width>", f"<Start>{start}</Start><Duration>1</Duration>")
    )
    assert abs(len(frames(product.path)[2]) - 5) <= 1


def test_hgif_is_a_gif_with_its_own_palette_per_frame(video: Path, work: Path) -> None:
    product = run(video, work, template("hgif", "<Fps>8</Fps><Height>128</Height>", "<Duration>2</Duration>"))
    fmt, size, pictures, _ = frames(product.path)
    assert (product.ext, fmt, size[1]) == ("gif", "GIF", 128)
    assert abs(len(pictures) - 16) <= 1


def test_hgif_takes_a_palette_per_frame_where_gif_shares_one(
    video: Path, work: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Pillow then keeps frames that reuse the first frame's palette in P mode, and the others in RGB.
    monkeypatch.setattr(
        GifImagePlugin, "LOADING_STRATEGY", GifImagePlugin.LoadingStrategy.RGB_AFTER_DIFFERENT_PALETTE_ONLY
    )

    def modes(fmt: str) -> set[str]:
        (work / fmt).mkdir()
        product = run(video, work / fmt, template(fmt, "<Fps>5</Fps>", "<Duration>1</Duration>"))
        with Image.open(product.path) as image:
            return {frame.mode for frame in ImageSequence.Iterator(image)}

    assert modes("gif") == {"P"}
    assert "RGB" in modes("hgif")


def test_webp_is_really_animated(video: Path, work: Path) -> None:
    product = run(
        video,
        work,
        template(
            "webp", "<Codec>webp</Codec><Fps>12</Fps><Quality>60</Quality>", "<Start>0.5</Start><Duration>2</Duration>"
        ),
    )
    with Image.open(product.path) as image:
        assert (product.ext, image.format, image.is_animated) == ("webp", "WEBP", True)
    _, size, pictures, durations = frames(product.path)
    assert size == (320, 240)
    assert abs(len(pictures) - 24) <= 1
    assert all(abs(duration - 83) <= 2 for duration in durations[:-1])
    assert np.abs(pictures[0] - pictures[len(pictures) // 2]).mean() > 5  # the picture moves


def test_frames_per_second_outranks_key_frames_and_interval(video: Path, work: Path) -> None:
    settings = (
        "<Fps>10</Fps><AnimateFramesPerSecond>2</AnimateFramesPerSecond>"
        "<AnimateOnlyKeepKeyFrame>true</AnimateOnlyKeepKeyFrame><AnimateTimeIntervalOfFrame>1</AnimateTimeIntervalOfFrame>"
    )
    _, _, pictures, durations = frames(run(video, work, template("gif", settings, "<Duration>3</Duration>")).path)
    assert abs(len(pictures) - 6) <= 1  # 2 frames a second of the clip, played at 10 a second
    assert all(abs(duration - 100) <= 10 for duration in durations[:-1])


def test_only_key_frames_outranks_the_interval(video: Path, work: Path) -> None:
    settings = "<AnimateOnlyKeepKeyFrame>true</AnimateOnlyKeepKeyFrame>"
    settings += "<AnimateTimeIntervalOfFrame>0.2</AnimateTimeIntervalOfFrame>"
    assert len(frames(run(video, work, template("gif", settings)).path)[2]) == 4  # one key frame a second


def test_time_interval_of_frame(video: Path, work: Path) -> None:
    settings = "<AnimateTimeIntervalOfFrame>0.5</AnimateTimeIntervalOfFrame>"
    assert abs(len(frames(run(video, work, template("gif", settings)).path)[2]) - 8) <= 1


def test_without_a_rate_the_source_rate_is_capped(video: Path, work: Path) -> None:
    assert abs(len(frames(run(video, work, template("gif", interval="<Duration>1</Duration>")).path)[2]) - 15) <= 1


def test_inline_operation_parameters(video: Path, work: Path) -> None:
    operation = ET.fromstring(
        "<Operation><Animation><Container><Format>webp</Format></Container><Video><Fps>5</Fps><Width>128</Width>"
        "</Video><TimeInterval><Duration>1</Duration></TimeInterval></Animation></Operation>"
    )
    product = run(video, work, None, operation)
    fmt, size, pictures, _ = frames(product.path)
    assert (product.ext, fmt, size) == ("webp", "WEBP", (128, 96))
    assert abs(len(pictures) - 5) <= 1


def test_product_count_is_one() -> None:
    assert Animation().product_count(None, template("gif")) == 1


@pytest.mark.parametrize(
    ("fmt", "settings"), [("gif", "<Fps>fast</Fps>"), ("gif", "<Quality>high</Quality>"), ("avi", ""), ("", "")]
)
def test_product_count_raises_on_bad_parameters(fmt: str, settings: str) -> None:
    with pytest.raises(MediaError) as caught:
        Animation().product_count(None, template(fmt, settings))
    assert caught.value.code == "InvalidArgument" and caught.value.message
    with pytest.raises(MediaError, match="Animation parameters"):
        Animation().product_count(None, None)


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
        run(source, work, template("gif", "<Fps>5</Fps>"))
    assert caught.value.code == "InvalidInput"
    assert list(work.iterdir()) == []


@pytest.mark.parametrize(
    ("fmt", "settings", "interval"),
    [
        ("avi", "", ""),
        ("", "", ""),  # neither Format nor Codec
        ("gif", "<Codec>webp</Codec>", ""),
        ("webp", "<Codec>h264</Codec>", ""),
        ("gif", "<Fps>0</Fps>", ""),
        ("gif", "<Fps>61</Fps>", ""),
        ("gif", "<Fps>fast</Fps>", ""),
        ("gif", "<Width>50</Width>", ""),
        ("gif", "<Width>200.5</Width>", ""),
        ("gif", "<Quality>500</Quality>", ""),  # without effect on a GIF, but still checked
        ("webp", "<Quality>0</Quality>", ""),
        ("gif", "<AnimateTimeIntervalOfFrame>-1</AnimateTimeIntervalOfFrame>", ""),
        ("gif", "", "<Start>-1</Start>"),
        ("gif", "", "<Start>9</Start>"),  # past the end
        ("gif", "", "<Duration>0</Duration>"),
    ],
)
def test_bad_parameters_are_invalid_argument(video: Path, work: Path, fmt: str, settings: str, interval: str) -> None:
    with pytest.raises(MediaError) as caught:
        run(video, work, template(fmt, settings, interval))
    assert caught.value.code == "InvalidArgument"
    assert caught.value.message and "Traceback" not in caught.value.message
    assert list(work.iterdir()) == []


def test_missing_parameters_are_invalid_argument(video: Path, work: Path) -> None:
    with pytest.raises(MediaError, match="Animation parameters") as caught:
        run(video, work, None)
    assert caught.value.code == "InvalidArgument"


def test_progress_is_reported(video: Path, work: Path) -> None:
    seen: list[float] = []
    job = Job("Animation", (video,), ("clip.mp4",), None, template("gif", "<Fps>5</Fps>"), work, 60.0)
    Animation()(job, seen.append)
    assert seen and seen[-1] == 1.0 and all(0.0 <= value <= 1.0 for value in seen)


def test_quality_on_a_gif_has_no_effect() -> None:
    with_quality = parse_params(None, template("gif", "<Quality>50</Quality>"))
    assert with_quality == parse_params(None, template("gif")) and with_quality.quality is None
    assert parse_params(None, template("webp", "<Quality>50</Quality>")).quality == 50
