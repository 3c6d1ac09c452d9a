"""Sprite sheets: Snapshot frames laid out Columns x Lines on a coloured background (spec §10.1).

``parse_config`` reads a Snapshot element's ``SpriteSnapshotConfig``; ``compose_sheets`` pastes the
extracted frames with Pillow, one sheet per full grid, every sheet the grid's full size.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageColor

from cosflow.media.params import Fields, invalid

_SCALE_METHODS = {"directscale": False, "maxwhscale": True, "maxwhscaleandpad": True}  # -> keep aspect in a cell
_MAX_SHEET_PIXELS = 100_000_000
_MAX_SHEET_SIDE = {"jpg": 65_500, "png": 65_500, "webp": 16_383}


@dataclass(frozen=True)
class SpriteConfig:
    columns: int
    lines: int
    cell_width: int | None
    cell_height: int | None
    padding: int
    margin: int
    colour: tuple[int, int, int]
    keep_aspect: bool

    def sheet_size(self, cell: tuple[int, int]) -> tuple[int, int]:
        width = self.columns * cell[0] + (self.columns - 1) * self.padding + 2 * self.margin
        height = self.lines * cell[1] + (self.lines - 1) * self.padding + 2 * self.margin
        return width, height

    def origin(self, k: int, cell: tuple[int, int]) -> tuple[int, int]:
        column, line = k % self.columns, k // self.columns
        return self.margin + column * (cell[0] + self.padding), self.margin + line * (cell[1] + self.padding)


def _colour(text: str) -> tuple[int, int, int]:
    name = (text or "black").split("@", 1)[0].strip()
    if name.lower().startswith("0x"):
        name = "#" + name[2:]
    try:
        rgb = ImageColor.getrgb(name)
    except ValueError:
        raise invalid(f"SpriteSnapshotConfig Color {text!r} is not a colour") from None
    return rgb[0], rgb[1], rgb[2]


def parse_config(element: ET.Element) -> SpriteConfig:
    """The ``SpriteSnapshotConfig`` below a ``Snapshot`` element, checked."""
    config = element.find("SpriteSnapshotConfig")
    if config is None:
        raise invalid("a sprite SnapshotOutMode needs SpriteSnapshotConfig")
    fields = Fields(config, "Snapshot")
    columns, lines = fields.integer("Columns", 1, 10000), fields.integer("Lines", 1, 10000)
    if columns is None or lines is None:
        raise invalid("SpriteSnapshotConfig needs Columns and Lines")
    return SpriteConfig(
        columns=columns,
        lines=lines,
        cell_width=fields.integer("CellWidth", 8, 4096),
        cell_height=fields.integer("CellHeight", 8, 4096),
        padding=fields.integer("Padding", 0, 1024) or 0,
        margin=fields.integer("Margin", 0, 1024) or 0,
        colour=_colour(fields.text("Color")),
        keep_aspect=_SCALE_METHODS[fields.choice("ScaleMethod", {k: k for k in _SCALE_METHODS}, "directscale")],
    )


def _cell(config: SpriteConfig, size: tuple[int, int]) -> tuple[int, int]:
    """CellWidth x CellHeight; one alone keeps the snapshot's aspect; neither is the snapshot size."""
    width, height = size
    if config.cell_width and config.cell_height:
        return config.cell_width, config.cell_height
    if config.cell_width:
        return config.cell_width, max(1, round(config.cell_width * height / width))
    if config.cell_height:
        return max(1, round(config.cell_height * width / height)), config.cell_height
    return width, height


def _paste(sheet: Image.Image, frame: Path, origin: tuple[int, int], cell: tuple[int, int], keep: bool) -> None:
    with Image.open(frame) as opened:
        image = opened.convert("RGB")
    if keep:  # fit inside the cell, centred, the background colour around it
        image.thumbnail(cell, Image.Resampling.LANCZOS)
        origin = (origin[0] + (cell[0] - image.width) // 2, origin[1] + (cell[1] - image.height) // 2)
    elif image.size != cell:
        image = image.resize(cell, Image.Resampling.LANCZOS)
    sheet.paste(image, origin)


def _save(image: Image.Image, path: Path, fmt: str, quality: int | None) -> None:
    if fmt == "png":
        image.save(path, "PNG")
    else:
        image.save(path, "WEBP" if fmt == "webp" else "JPEG", quality=quality or (80 if fmt == "webp" else 90))


def compose_sheets(
    frames: Sequence[Path], config: SpriteConfig, fmt: str, quality: int | None, out_dir: Path
) -> list[Path]:
    """One sheet per Columns x Lines frames, all of the full grid size, the background in ``Color``."""
    with Image.open(frames[0]) as first:
        cell = _cell(config, first.size)
    size = config.sheet_size(cell)
    if size[0] * size[1] > _MAX_SHEET_PIXELS or max(size) > _MAX_SHEET_SIDE[fmt]:
        raise invalid(f"a {size[0]}x{size[1]} sprite sheet is too large for {fmt}")
    per_sheet = config.columns * config.lines
    sheets = []
    for number, offset in enumerate(range(0, len(frames), per_sheet)):
        sheet = Image.new("RGB", size, config.colour)
        for k, frame in enumerate(frames[offset : offset + per_sheet]):
            _paste(sheet, frame, config.origin(k, cell), cell, config.keep_aspect)
        path = out_dir / f"sprite-{number:05d}.{fmt}"
        _save(sheet, path, fmt, quality)
        sheets.append(path)
    return sheets
