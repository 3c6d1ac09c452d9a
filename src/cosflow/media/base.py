"""The processor seam: one callable per node Type, over local files only."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol


@dataclass(frozen=True)
class Job:
    """What a processor gets: input files on disk, the node's parameters, a scratch directory."""

    node_type: str
    inputs: tuple[Path, ...]
    #: The object keys the inputs came from (same order as ``inputs``).
    input_keys: tuple[str, ...]
    operation: ET.Element | None = field(compare=False)
    #: The body of the node's template (e.g. the ``Snapshot`` element), when it has one.
    template: ET.Element | None = field(compare=False)
    work_dir: Path
    timeout_seconds: float
    #: The task's JobId (for logs); empty when a processor runs outside a workflow.
    job_id: str = ""


@dataclass(frozen=True)
class Product:
    """One produced file. ``source_index`` says which input it came from.

    ``companions`` are files that must sit next to it, such as an HLS playlist's segments: they are
    stored beside the product's key as ``<its stem>-<companion file name>``, and a text product
    (a playlist) has its references to them rewritten to match.
    """

    path: Path
    ext: str
    number: int | None = None
    time_ms: int | None = None
    sprite: bool = False
    source_index: int = 0
    companions: tuple[Path, ...] = ()


class MediaError(Exception):
    """A processor's failure, with a CI-style code and a readable message (never a traceback)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


Progress = Callable[[float], None]


def share(progress: Progress, index: int, total: int) -> Progress:
    """Part ``index`` of ``total`` equal parts of ``progress`` (a job's inputs, an input's pieces)."""
    return lambda fraction: progress((index + min(1.0, max(0.0, fraction))) / total)


class Processor(Protocol):
    def __call__(self, job: Job, progress: Progress) -> list[Product]: ...

    def product_count(self, operation: ET.Element | None, template: ET.Element | None) -> int:
        """How many objects one input yields (creation-time check for ``${Number}``)."""
        ...


Registry = Mapping[str, Processor]
