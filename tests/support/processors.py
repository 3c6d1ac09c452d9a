"""Test processors registered under real node Types, so the engine can be tested before (and
independently of) the FFmpeg processors. Behaviour is steered by the input's bytes:

- ``sleep=<seconds>`` anywhere in the input: the processor sleeps that long first;
- ``fail:<Type>``: the processor of that Type fails with code ``TestFailure``.

Every execution appends ``<job_id> <Type> <input key>`` to ``$COSFLOW_TEST_EXEC_LOG`` when set, so
tests can count how often a task really ran.
"""

from __future__ import annotations

import os
import re
import time
import xml.etree.ElementTree as ET
from pathlib import Path

from cosflow.media.base import Job, MediaError, Product, Progress, Registry


def _log(job: Job) -> None:
    target = os.environ.get("COSFLOW_TEST_EXEC_LOG")
    if target:
        with open(target, "a") as log:
            log.write(f"{job.job_id} {job.node_type} {' '.join(job.input_keys)}\n")


def _count(operation: ET.Element | None, template: ET.Element | None, path: str, default: int) -> int:
    for element in (operation, template):
        if element is not None and (element.findtext(path) or "").strip().isdigit():
            return int(element.findtext(path, "").strip())
    return default


class Echo:
    """One product per input: the input's bytes wrapped as ``<Type>(...)``."""

    def __init__(self, node_type: str, ext: str, count_path: str = "", default_count: int = 1) -> None:
        self.node_type, self.ext = node_type, ext
        self.count_path, self.default_count = count_path, default_count

    def product_count(self, operation: ET.Element | None, template: ET.Element | None) -> int:
        if not self.count_path:
            return 1
        return _count(operation, template, self.count_path, self.default_count)

    def __call__(self, job: Job, progress: Progress) -> list[Product]:
        _log(job)
        products = []
        count = self.product_count(job.operation, job.template)
        for index, source in enumerate(job.inputs):
            data = Path(source).read_bytes()
            sleep = re.search(rb"sleep=([0-9.]+)", data)
            if sleep:
                end = time.monotonic() + float(sleep.group(1))
                while time.monotonic() < end:
                    progress(1 - (end - time.monotonic()) / float(sleep.group(1)))
                    time.sleep(0.05)
            if f"fail:{self.node_type}".encode() in data:
                raise MediaError("TestFailure", f"{self.node_type} was told to fail by its input")
            for number in range(count):
                out = job.work_dir / f"out-{index}-{number}.{self.ext}"
                tmp = out.with_suffix(".partial")
                tmp.write_bytes(self.node_type.encode() + b"(" + data + b")")
                tmp.rename(out)
                products.append(
                    Product(
                        out, self.ext, number=number if count > 1 else None, time_ms=number * 1000, source_index=index
                    )
                )
        return products


def test_registry() -> Registry:
    return {
        "Transcode": Echo("Transcode", "mp4"),
        "Snapshot": Echo("Snapshot", "jpg", "Snapshot/Count", 1),
        "SmartCover": Echo("SmartCover", "jpg", "SmartCover/Count", 3),
        "PicProcess": Echo("PicProcess", "png"),
        "Animation": Echo("Animation", "gif"),
    }
