"""The production registry: every node Type it names builds a real processor, lazily."""

from __future__ import annotations

import subprocess
import sys

from cosflow.media.registry import default_registry


def test_every_registered_type_builds_a_processor() -> None:
    registry = default_registry()
    assert set(registry) == {"Transcode", "Snapshot", "SmartCover", "Animation", "Segment", "PicProcess"}
    for node_type in registry:
        processor = registry[node_type]
        assert callable(processor) and callable(processor.product_count)
        assert registry[node_type] is processor  # built once


def test_heavy_media_libraries_load_only_when_a_processor_is_used() -> None:
    code = (
        "import sys\n"
        "from cosflow.wiring import build_services\n"
        "from cosflow.media.registry import default_registry\n"
        "r = default_registry(); assert 'Transcode' in r\n"
        "print(sorted(m for m in ('av', 'numpy', 'PIL') if m in sys.modules))\n"
        "r['SmartCover']\n"
        "print(sorted(m for m in ('av', 'numpy') if m in sys.modules))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split("\n")
    assert out[0] == "[]" and out[1] == "['av', 'numpy']"
