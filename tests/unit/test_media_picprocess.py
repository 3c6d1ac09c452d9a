"""PicProcess (``media.picprocess``): the imageMogr2 subset of docs/picprocess.md, checked by decoding
the results with Pillow (size, format, pixels), never by comparing bytes."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path
from xml.sax.saxutils import escape

import pytest
from PIL import Image

from cosflow.media.base import Job, MediaError, Product
from cosflow.media.picprocess import PicProcess, parse_rule
from tests.support.media import make_image, make_video

RED, GREEN, BLUE, YELLOW = (255, 0, 0), (0, 255, 0), (0, 0, 255), (255, 255, 0)


@pytest.fixture(scope="module")
def media(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("picprocess-media")


@pytest.fixture(scope="module")
def photo(media: Path) -> Path:
    """A 640x480 PNG test pattern."""
    return make_image(media / "photo.png")


@pytest.fixture(scope="module")
def quadrants(media: Path) -> Path:
    """A 200x100 PNG: red top-left, green top-right, blue bottom-left, yellow bottom-right."""
    image = Image.new("RGB", (200, 100))
    for colour, box in [(RED, (0, 0, 100, 50)), (GREEN, (100, 0, 200, 50)), (BLUE, (0, 50, 100, 100))]:
        image.paste(colour, box)
    image.paste(YELLOW, (100, 50, 200, 100))
    path = media / "quadrants.png"
    image.save(path)
    return path


def _template(rule: str) -> str:
    body = f"<IsPicInfo>false</IsPicInfo><ProcessRule>{escape(rule)}</ProcessRule>"
    return f"<PicProcess><PicProcess>{body}</PicProcess></PicProcess>"


def _process(work: Path, rule: str, *inputs: Path) -> list[Product]:
    work.mkdir(parents=True, exist_ok=True)
    job = Job("PicProcess", inputs, tuple(p.name for p in inputs), None, ET.fromstring(_template(rule)), work, 60)
    return PicProcess()(job, lambda fraction: None)


def _one(work: Path, rule: str, source: Path) -> Image.Image:
    (product,) = _process(work, rule, source)
    image = Image.open(product.path)
    image.load()
    return image


@pytest.mark.parametrize(
    ("rule", "size"),
    [
        ("thumbnail/200x", (200, 150)),
        ("thumbnail/x120", (160, 120)),
        ("thumbnail/200x200", (200, 150)),
        ("thumbnail/!50p", (320, 240)),
        ("thumbnail/!50px", (320, 480)),
        ("thumbnail/!x50p", (640, 240)),
        ("thumbnail/100x100!", (100, 100)),
        ("thumbnail/100x100r", (133, 100)),
        ("thumbnail/1000x1000>", (640, 480)),
        ("thumbnail/320x320>", (320, 240)),
        ("thumbnail/800x800<", (1067, 800)),
        ("thumbnail/10000@", (115, 86)),
        ("crop/300x200", (300, 200)),
        ("crop/300x", (300, 480)),
        ("crop/x1000", (640, 480)),
        ("rotate/90", (480, 640)),
        ("rotate/180", (640, 480)),
    ],
)
def test_sizes(rule: str, size: tuple[int, int], photo: Path, tmp_path: Path) -> None:
    assert _one(tmp_path, f"imageMogr2/{rule}", photo).size == size


def test_rotate_is_clockwise(quadrants: Path, tmp_path: Path) -> None:
    image = _one(tmp_path, "imageMogr2/rotate/90", quadrants).convert("RGB")

    assert image.size == (100, 200)
    assert image.getpixel((75, 25)) == RED  # the left column (red over blue) is now the top row
    assert image.getpixel((25, 25)) == BLUE


def test_rotate_by_an_odd_angle_grows_the_canvas(photo: Path, tmp_path: Path) -> None:
    width, height = _one(tmp_path, "imageMogr2/rotate/45", photo).size

    assert width > 640 and height > 480


@pytest.mark.parametrize(
    ("gravity", "colour"),
    [("", RED), ("/gravity/northwest", RED), ("/gravity/northeast", GREEN), ("/gravity/southwest", BLUE),
     ("/gravity/southeast", YELLOW)],
)  # fmt: skip
def test_crop_gravity(gravity: str, colour: tuple[int, int, int], quadrants: Path, tmp_path: Path) -> None:
    image = _one(tmp_path, f"imageMogr2/crop/60x30{gravity}", quadrants).convert("RGB")

    assert image.size == (60, 30)
    assert {image.getpixel((x, y)) for x in (0, 59) for y in (0, 29)} == {colour}


def test_crop_gravity_center_and_before_the_crop(quadrants: Path, tmp_path: Path) -> None:
    image = _one(tmp_path, "imageMogr2/gravity/center/crop/20x20", quadrants).convert("RGB")

    assert image.getpixel((0, 0)) == RED and image.getpixel((19, 19)) == YELLOW


@pytest.mark.parametrize(("fmt", "pillow", "ext"), [("jpg", "JPEG", "jpg"), ("png", "PNG", "png"),
                                                   ("webp", "WEBP", "webp"), ("gif", "GIF", "gif")])  # fmt: skip
def test_format(fmt: str, pillow: str, ext: str, photo: Path, tmp_path: Path) -> None:
    (product,) = _process(tmp_path, f"imageMogr2/format/{fmt}", photo)

    assert product.ext == ext and product.path.suffix == f".{ext}"
    with Image.open(product.path) as image:
        assert (image.format, image.size) == (pillow, (640, 480))


def test_without_format_the_input_format_is_kept(photo: Path, tmp_path: Path) -> None:
    jpeg = tmp_path / "photo.jpg"
    Image.open(photo).convert("RGB").save(jpeg, "JPEG")

    (product,) = _process(tmp_path / "work", "imageMogr2/thumbnail/100x", jpeg)

    assert product.ext == "jpg"
    with Image.open(product.path) as image:
        assert image.format == "JPEG"


def test_quality_changes_the_file_size(photo: Path, tmp_path: Path) -> None:
    (low,) = _process(tmp_path / "low", "imageMogr2/format/jpg/quality/10", photo)
    (high,) = _process(tmp_path / "high", "imageMogr2/quality/95!/format/jpg", photo)

    assert low.path.stat().st_size * 2 < high.path.stat().st_size


def test_chained_rule(photo: Path, tmp_path: Path) -> None:
    (product,) = _process(tmp_path, "imageMogr2/thumbnail/200x/rotate/90/format/png", photo)

    with Image.open(product.path) as image:
        assert (image.format, image.size, product.ext) == ("PNG", (150, 200), "png")


def test_strip_removes_metadata_that_is_otherwise_kept(tmp_path: Path) -> None:
    source = tmp_path / "exif.jpg"
    exif = Image.Exif()
    exif[0x010E] = "a described picture"  # ImageDescription
    Image.new("RGB", (64, 48), "gray").save(source, "JPEG", exif=exif)

    kept = _one(tmp_path / "kept", "imageMogr2/thumbnail/32x", source)
    stripped = _one(tmp_path / "stripped", "imageMogr2/thumbnail/32x/strip", source)

    assert kept.getexif().get(0x010E) == "a described picture"
    assert "exif" not in stripped.info and not stripped.getexif()


def test_transparency_is_flattened_for_jpeg(tmp_path: Path) -> None:
    source = tmp_path / "alpha.png"
    Image.new("RGBA", (40, 40), (255, 0, 0, 0)).save(source)

    image = _one(tmp_path / "work", "imageMogr2/format/jpg", source)

    assert image.format == "JPEG" and image.mode == "RGB"


def test_several_inputs_give_one_product_each(photo: Path, quadrants: Path, tmp_path: Path) -> None:
    products = _process(tmp_path, "imageMogr2/thumbnail/50x", photo, quadrants)

    assert [(p.source_index, p.number) for p in products] == [(0, None), (1, None)]
    assert PicProcess().product_count(None, ET.fromstring(_template("imageMogr2/strip"))) == 1


@pytest.mark.parametrize("rule", ["imageMogr2/sharpen/1", "imageMogr2/rotate/400", "imageView2/1/w/100"])
def test_product_count_raises_on_a_bad_rule(rule: str) -> None:
    with pytest.raises(MediaError) as caught:
        PicProcess().product_count(None, ET.fromstring(_template(rule)))
    assert caught.value.code == "InvalidArgument" and caught.value.message


@pytest.mark.parametrize(
    ("rule", "named"),
    [
        ("imageMogr2/blur/3x5", "blur"),
        ("imageMogr2/thumbnail/200x/sharpen/50", "sharpen"),
        ("imageMogr2/thumbnail/abc", "thumbnail/abc"),
        ("imageMogr2/thumbnail/x", "thumbnail/x"),
        ("imageMogr2/thumbnail/0x10", "thumbnail/0x10"),
        ("imageMogr2/crop/ax2", "crop/ax2"),
        ("imageMogr2/rotate/400", "rotate/400"),
        ("imageMogr2/rotate", "rotate"),
        ("imageMogr2/format/tiff", "format/tiff"),
        ("imageMogr2/quality/0", "quality/0"),
        ("imageMogr2/gravity/up", "gravity/up"),
        ("imageMogr2/thumbnail/100000x100000!", "thumbnail"),
        ("imageView2/1/w/100", "imageView2"),
        ("imageMogr2/strip|watermark/1", "imageMogr2"),
    ],
)
def test_bad_rules_are_invalid_arguments(rule: str, named: str, photo: Path, tmp_path: Path) -> None:
    with pytest.raises(MediaError) as caught:
        _process(tmp_path, rule, photo)

    assert caught.value.code == "InvalidArgument"
    assert named in caught.value.message
    assert list(tmp_path.iterdir()) == []


def test_rules_are_checked_before_any_input_is_read() -> None:
    with pytest.raises(MediaError, match="sharpen"):
        parse_rule("imageMogr2/sharpen/1")


@pytest.mark.parametrize("kind", ["text", "video", "empty", "truncated"])
def test_non_image_input_is_invalid_and_leaves_nothing(kind: str, photo: Path, tmp_path: Path) -> None:
    source = tmp_path / "input.png"
    if kind == "text":
        source.write_text("hello, not a picture")
    elif kind == "video":
        source = make_video(tmp_path / "input.mp4", seconds=0.2, audio=False)
    elif kind == "empty":
        source.write_bytes(b"")
    else:
        source.write_bytes(photo.read_bytes()[:2000])
    work = tmp_path / "work"

    with pytest.raises(MediaError) as caught:
        _process(work, "imageMogr2/thumbnail/100x", photo, source)

    assert caught.value.code == "InvalidInput"
    assert list(work.iterdir()) == []  # the first input's product was removed too
