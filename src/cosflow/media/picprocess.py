"""PicProcess: a subset of Cloud Infinite ``imageMogr2`` image processing, done with Pillow.

A rule such as ``imageMogr2/thumbnail/200x/rotate/90/format/png`` is parsed into steps that run
in the order written (``gravity`` belongs to ``crop`` wherever it stands), then the image is saved
with ``format``, ``quality`` and ``strip``. The supported subset is documented in
``docs/picprocess.md``.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote

from PIL import Image, ImageOps, UnidentifiedImageError

from cosflow.domain.numbers import plain_uint
from cosflow.media.base import Job, MediaError, Product, Progress
from cosflow.media.params import Fields
from cosflow.media.reasons import reason, writing

MAX_SIDE = 10_000
MAX_PIXELS = 50_000_000
#: Scaling past this percentage cannot give a valid side even from a 1-pixel image.
MAX_PERCENT = 100 * MAX_SIDE
#: The longest input side CI processes ("width and height not exceeding 30,000 pixels", CI doc
#: "Scaling", 1045/33713): a crop beyond it can never be met.
MAX_CROP = 30_000
FORMATS = {"jpg": "JPEG", "jpeg": "JPEG", "png": "PNG", "webp": "WEBP", "gif": "GIF", "bmp": "BMP"}
_EXT_OF_FORMAT = {"JPEG": "jpg", "PNG": "png", "WEBP": "webp", "GIF": "gif", "BMP": "bmp", "TIFF": "tiff"}
_SAVE_AS = {"MPO": "JPEG"}  # other input formats Pillow reads but we do not write become PNG
_GRAVITY = {  # (x share, y share) of the free space left of / above the crop box
    "northwest": (0.0, 0.0), "north": (0.5, 0.0), "northeast": (1.0, 0.0),
    "west": (0.0, 0.5), "center": (0.5, 0.5), "east": (1.0, 0.5),
    "southwest": (0.0, 1.0), "south": (0.5, 1.0), "southeast": (1.0, 1.0),
}  # fmt: skip
_THUMBNAIL = re.compile(
    r"^(?:!(?P<pct>\d+(?:\.\d+)?)p|!(?P<pctw>\d+(?:\.\d+)?)px|!x(?P<pcth>\d+(?:\.\d+)?)p"
    r"|(?P<w>\d+)?x(?P<h>\d+)?(?P<mode>[!r<>]?)|(?P<area>\d+)@)$"
)
_CROP = re.compile(r"^(?P<w>\d+)?x(?P<h>\d+)?$")
DEFAULT_QUALITY = 85

Step = Callable[[Image.Image], Image.Image]


@dataclass
class Rule:
    """A parsed ``imageMogr2`` rule: transforms in order, then how to save."""

    steps: list[Step] = field(default_factory=list)
    format: str | None = None  # Pillow format name
    quality: int | None = None
    strip: bool = False
    gravity: str = "northwest"


def _invalid(message: str) -> MediaError:
    """An ``InvalidArgument`` naming the field, wherever the rule is found bad: when a template or
    workflow is written, or at run time against the actual image."""
    return MediaError("InvalidArgument", f"PicProcess ProcessRule: {message}")


def _bad(operation: str, value: str, expected: str) -> MediaError:
    shown = value if len(value) <= 40 else f"{value[:40]}..."  # a 5,000-digit value is not repeated whole
    return _invalid(f"imageMogr2 {operation}/{shown} is invalid: expected {expected}")


def _side(value: float) -> int:
    return max(1, min(MAX_SIDE, round(value)))


def _whole(spec: str, operation: str, text: str | None, high: int) -> int:
    """A size written in digits, 1 to ``high`` (0 when absent); a longer one is refused before
    ``int()`` could meet it (4,300+ digits raise ValueError, huge ones overflow float maths)."""
    if not text:
        return 0
    value = plain_uint(text, 9)
    if value is None or not 1 <= value <= high:
        raise _bad(operation, spec, f"sizes from 1 to {high} pixels")
    return value


def _percent(spec: str, text: str | None) -> float:
    """A percentage above 0 and at most :data:`MAX_PERCENT` (100 when absent)."""
    if not text:
        return 100.0
    whole, _, fraction = text.partition(".")
    if len(whole) > 9 or len(fraction) > 9 or not 0 < float(text) <= MAX_PERCENT:
        raise _bad("thumbnail", spec, f"a percentage above 0 and at most {MAX_PERCENT}")
    return float(text)


def thumbnail_size(spec: str, width: int, height: int) -> tuple[int, int]:
    """The target size ``thumbnail/<spec>`` gives an image of ``width`` x ``height``."""
    match = _THUMBNAIL.match(spec)
    if match is None or spec == "x":
        raise _bad("thumbnail", spec, "<W>x<H>[!|r|<|>], <W>x, x<H>, !<P>p, !<P>px, !x<P>p or <Area>@")
    size = _size_for(match, width, height)
    if size[0] * size[1] > MAX_PIXELS:
        raise _bad("thumbnail", spec, f"a result of at most {MAX_PIXELS} pixels")
    return size


def _size_for(match: re.Match[str], width: int, height: int) -> tuple[int, int]:
    spec = match.string
    if match["pct"] or match["pctw"] or match["pcth"]:
        x_share = _percent(spec, match["pct"] or match["pctw"]) / 100
        y_share = _percent(spec, match["pct"] or match["pcth"]) / 100
        return _side(width * x_share), _side(height * y_share)
    if match["area"] is not None:
        share = (_whole(spec, "thumbnail", match["area"], MAX_PIXELS) / (width * height)) ** 0.5
        return (_side(int(width * share)), _side(int(height * share))) if share < 1 else (width, height)
    w, h, mode = (
        _whole(spec, "thumbnail", match["w"], MAX_SIDE),
        _whole(spec, "thumbnail", match["h"], MAX_SIDE),
        match["mode"],
    )
    if mode == "!" and w and h:
        return _side(w), _side(h)
    shares = [s for s in (w / width if w else None, h / height if h else None) if s is not None]
    if not shares:
        raise _bad("thumbnail", match.string, "a width or a height")
    share = max(shares) if mode in ("r", "<") else min(shares)
    if (mode == ">" and share >= 1) or (mode == "<" and share <= 1):
        return width, height
    return _side(width * share), _side(height * share)


def _thumbnail(spec: str) -> Step:
    thumbnail_size(spec, 100, 100)  # validate while parsing

    def step(image: Image.Image) -> Image.Image:
        size = thumbnail_size(spec, *image.size)
        return image if size == image.size else image.resize(size, Image.Resampling.LANCZOS)

    return step


def crop_box(spec: str, gravity: str, width: int, height: int) -> tuple[int, int, int, int]:
    match = _CROP.match(spec)
    if match is None or spec == "x":
        raise _bad("crop", spec, "<W>x<H>, <W>x or x<H>")
    w = min(width, _whole(spec, "crop", match["w"], MAX_CROP)) if match["w"] else width
    h = min(height, _whole(spec, "crop", match["h"], MAX_CROP)) if match["h"] else height
    gx, gy = _GRAVITY[gravity]
    left, top = round((width - w) * gx), round((height - h) * gy)
    return left, top, left + w, top + h


def _crop(spec: str, rule: Rule) -> Step:
    crop_box(spec, "center", 100, 100)
    return lambda image: image.crop(crop_box(spec, rule.gravity, *image.size))


def _rotate(value: str) -> Step:
    try:
        degrees = float(value)
    except ValueError:
        raise _bad("rotate", value, "degrees in [0, 360]") from None
    if not 0 <= degrees <= 360:
        raise _bad("rotate", value, "degrees in [0, 360]")
    transposes = {90: Image.Transpose.ROTATE_270, 180: Image.Transpose.ROTATE_180, 270: Image.Transpose.ROTATE_90}

    def step(image: Image.Image) -> Image.Image:
        if degrees % 90 == 0:  # lossless, exact size; CI rotates clockwise, Pillow counter-clockwise
            return image.transpose(transposes[int(degrees) % 360]) if degrees % 360 else image
        fill = (255, 255, 255, 0) if image.mode == "RGBA" else "white"
        return image.convert("RGBA" if "A" in image.mode else "RGB").rotate(-degrees, expand=True, fillcolor=fill)

    return step


def _format(value: str, rule: Rule) -> None:
    if value.lower() not in FORMATS:
        raise _bad("format", value, " | ".join(sorted(FORMATS)))
    rule.format = FORMATS[value.lower()]


def _quality(value: str, rule: Rule) -> None:
    number = value.rstrip("!")
    if not 1 <= (plain_uint(number) or 0) <= 100:
        raise _bad("quality", value, "an integer in [1, 100]")
    rule.quality = int(number)


def _gravity(value: str, rule: Rule) -> None:
    if value.lower() not in _GRAVITY:
        raise _bad("gravity", value, " | ".join(_GRAVITY))
    rule.gravity = value.lower()


def _strip(value: str, rule: Rule) -> None:
    rule.strip = True


def _auto_orient(image: Image.Image) -> Image.Image:
    return ImageOps.exif_transpose(image)


#: operation -> (takes a value, what it does to the rule)
_OPERATIONS: dict[str, tuple[bool, Callable[[str, Rule], None]]] = {
    "thumbnail": (True, lambda v, r: r.steps.append(_thumbnail(v))),
    "crop": (True, lambda v, r: r.steps.append(_crop(v, r))),
    "gravity": (True, _gravity),
    "rotate": (True, lambda v, r: r.steps.append(_rotate(v))),
    "format": (True, _format),
    "quality": (True, _quality),
    "strip": (False, _strip),
    "auto-orient": (False, lambda v, r: r.steps.append(_auto_orient)),
}


def parse_rule(text: str) -> Rule:
    """Parse ``imageMogr2/<op>[/<value>]/...``; an unknown operation is an InvalidArgument."""
    parts = [unquote(p) for p in text.strip().split("/") if p]
    if not parts or parts[0] != "imageMogr2" or "|" in text:
        raise _invalid(f"only a single imageMogr2 rule is supported, got {text[:80]!r}")
    rule, index = Rule(), 1
    while index < len(parts):
        name = parts[index]
        if name not in _OPERATIONS:
            raise _invalid(f"imageMogr2 operation {name[:40]!r} is not supported")
        takes_value, apply = _OPERATIONS[name]
        if takes_value and index + 1 >= len(parts):
            raise _invalid(f"imageMogr2 {name} needs a value")
        apply(parts[index + 1] if takes_value else "", rule)
        index += 2 if takes_value else 1
    return rule


def rule_text(operation: ET.Element | None, template: ET.Element | None) -> str:
    """The ``ProcessRule``: the template's (``<PicProcess><PicProcess><ProcessRule>``), else inline."""
    for element in (template, operation):
        for path in ("PicProcess/ProcessRule", "ProcessRule"):
            text = Fields(element).text(path)
            if text:
                return text
    return ""


# -- applying -------------------------------------------------------------------------------------


def _open(path: Path) -> Image.Image:
    try:
        image = Image.open(path)
    except (UnidentifiedImageError, OSError, Image.DecompressionBombError, ValueError) as exc:
        raise MediaError("InvalidInput", f"{path} is not a readable image: {reason(exc)}") from exc
    try:
        image.load()
    except (OSError, Image.DecompressionBombError, ValueError, SyntaxError) as exc:
        image.close()
        raise MediaError("InvalidInput", f"the image {path} cannot be decoded: {reason(exc)}") from exc
    return image


def _prepare(image: Image.Image, pillow_format: str) -> Image.Image:
    """Modes each encoder accepts (JPEG has no alpha: flatten onto white)."""
    if pillow_format == "JPEG" and image.mode not in ("RGB", "L", "CMYK"):
        rgba = image.convert("RGBA")
        flat = Image.new("RGB", rgba.size, "white")
        flat.paste(rgba, mask=rgba.getchannel("A"))
        return flat
    if pillow_format in ("WEBP", "PNG") and image.mode not in ("RGB", "RGBA", "L", "LA", "P", "1", "I;16"):
        return image.convert("RGBA" if "A" in image.mode else "RGB")
    if pillow_format == "BMP" and image.mode not in ("RGB", "L", "P", "1"):
        return image.convert("RGB")
    return image


def _save_options(rule: Rule, pillow_format: str, source: Image.Image) -> dict[str, object]:
    options: dict[str, object] = {}
    if pillow_format in ("JPEG", "WEBP"):
        options["quality"] = rule.quality or DEFAULT_QUALITY
    if not rule.strip:  # keep the colour profile and EXIF unless told to strip them
        for key in ("icc_profile", "exif"):
            if source.info.get(key) and pillow_format in ("JPEG", "PNG", "WEBP"):
                options[key] = source.info[key]
    return options


def process_image(source: Path, rule: Rule, target_stem: Path) -> tuple[Path, str]:
    """Apply ``rule`` to ``source``; write ``<target_stem>.<ext>`` atomically; return (path, ext)."""
    with _open(source) as original:
        image: Image.Image = original
        for step in rule.steps:
            image = step(image)
        pillow_format = rule.format or _SAVE_AS.get(original.format or "", original.format or "PNG")
        pillow_format = pillow_format if pillow_format in _EXT_OF_FORMAT else "PNG"
        ext = _EXT_OF_FORMAT.get(pillow_format, pillow_format.lower())
        target = target_stem.with_name(f"{target_stem.name}.{ext}")
        partial = target.with_name(f"{target.name}.partial")
        try:
            _prepare(image, pillow_format).save(partial, pillow_format, **_save_options(rule, pillow_format, original))
        except (OSError, ValueError, KeyError) as exc:
            partial.unlink(missing_ok=True)
            code = "InternalError" if isinstance(exc, OSError) and exc.errno else "InvalidArgument"  # disk, or rule
            raise MediaError(code, f"the image cannot be written as {pillow_format}: {writing(exc)}") from exc
        partial.replace(target)
    return target, ext


def _rule(operation: ET.Element | None, template: ET.Element | None) -> Rule:
    """The node's rule, parsed; no ProcessRule at all keeps the image as it is. A bad one is an
    ``InvalidArgument`` naming the field (``PicProcess ProcessRule: imageMogr2 thumbnail/...``)."""
    return parse_rule(rule_text(operation, template) or "imageMogr2")


class PicProcess:
    """The ``PicProcess`` node: one processed image per input image."""

    def product_count(self, operation: ET.Element | None, template: ET.Element | None) -> int:
        """One image per input; an unusable ProcessRule raises ``InvalidArgument``."""
        _rule(operation, template)
        return 1

    def __call__(self, job: Job, progress: Progress) -> list[Product]:
        rule = _rule(job.operation, job.template)
        products: list[Product] = []
        try:
            for index, source in enumerate(job.inputs):
                path, ext = process_image(source, rule, job.work_dir / f"picture-{index}")
                products.append(Product(path, ext, source_index=index))
                progress((index + 1) / len(job.inputs))
        except BaseException:
            for product in products:
                product.path.unlink(missing_ok=True)
            raise
        return products
