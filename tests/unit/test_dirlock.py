"""The data directory lock: one holder at a time, the holder named, free again once released."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from cosflow.errors import ConfigError
from cosflow.storage.dirlock import DataDirLock


def test_second_holder_is_refused_with_the_first_holders_pid(tmp_path: Path) -> None:
    first = DataDirLock(tmp_path)
    first.acquire()
    with pytest.raises(ConfigError, match=f"pid {os.getpid()}.*{tmp_path}"):
        DataDirLock(tmp_path).acquire()
    first.release()
    second = DataDirLock(tmp_path)
    second.acquire()
    second.release()
