"""The data directory lock: one holder at a time, the holder named, free again once released
(also after a start that failed)."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

import pytest

from cosflow.api.app import create_app
from cosflow.errors import ConfigError
from cosflow.settings import KeyPair, Settings
from cosflow.storage.dirlock import DataDirLock
from cosflow.wiring import Services


def test_second_holder_is_refused_with_the_first_holders_pid(tmp_path: Path) -> None:
    first = DataDirLock(tmp_path)
    first.acquire()
    with pytest.raises(ConfigError, match=f"pid {os.getpid()}.*{tmp_path}"):
        DataDirLock(tmp_path).acquire()
    first.release()
    second = DataDirLock(tmp_path)
    second.acquire()
    second.release()


def test_a_failed_start_stops_what_it_began_and_frees_the_data_dir(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """If starting fails after the services were built, the lock (and any loop begun) is released,
    so the same process or a successor can start on the directory."""
    settings = Settings(data_dir=tmp_path, credentials=(KeyPair("AKIDunit", "unitkey"),))

    async def fail_start(self: Services) -> None:
        raise RuntimeError("recovery failed")

    monkeypatch.setattr(Services, "start", fail_start)
    sent: list[dict[str, object]] = []

    async def receive() -> dict[str, object]:
        return {"type": "lifespan.startup"}

    async def send(message: dict[str, object]) -> None:
        sent.append(message)

    asyncio.run(create_app(settings)({"type": "lifespan"}, receive, send))
    assert sent == [{"type": "lifespan.startup.failed", "message": "recovery failed"}]
    lock = DataDirLock(tmp_path)
    lock.acquire()
    lock.release()
