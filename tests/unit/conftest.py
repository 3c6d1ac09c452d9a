"""Fixtures shared by the unit tests."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture
def work(tmp_path: Path) -> Path:
    """An empty scratch directory, as the runner gives each processor."""
    path = tmp_path / "work"
    path.mkdir()
    return path
