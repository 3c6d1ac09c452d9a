"""A full disk at each edge it can be met (issue 9 §2): the blob store's OS errors, SQLite's
``SQLITE_FULL``, the disk reserve and the retry that gives it up. The whole episode, through the
SDK on a real full filesystem, is tests/e2e/test_full_disk.py."""

from __future__ import annotations

import errno
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import text

from cosflow.db.engine import make_engine
from cosflow.domain.failures import disk_full
from cosflow.errors import InsufficientStorage, StorageError
from cosflow.services import space
from cosflow.storage.filesystem import FileBlobStore
from cosflow.storage.reserve import DiskReserve


def test_a_write_to_a_full_device_is_insufficient_storage_and_leaves_nothing(tmp_path: Path) -> None:
    store = FileBlobStore(tmp_path / "storage")
    writer = store.writer()
    writer._file.close()
    writer._file = open("/dev/full", "wb", buffering=0)  # noqa: SIM115 - every write is ENOSPC
    with pytest.raises(InsufficientStorage) as raised:
        writer.write(b"x" * 4096)
    assert isinstance(raised.value.__cause__, OSError) and raised.value.__cause__.errno == errno.ENOSPC
    writer.abort()
    assert list(store.tmp_dir.iterdir()) == []


def test_other_store_errors_are_words_without_paths(tmp_path: Path) -> None:
    store = FileBlobStore(tmp_path / "storage")
    with pytest.raises(StorageError) as raised:
        store.open("b0123456789abcdef")
    assert raised.value.message == "could not read the object: a file the server needed is missing"
    with pytest.raises(StorageError) as composed:
        store.compose(["b0123456789abcdef"])
    assert str(tmp_path) not in composed.value.message and "Errno" not in composed.value.message
    with pytest.raises(StorageError) as bad:
        store.path("../etc")
    assert "../etc" not in bad.value.message


def test_sqlite_database_full_is_insufficient_storage(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'full.db'}")
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE t (v TEXT)"))
    with engine.connect() as conn:  # SQLite answers SQLITE_FULL past max_page_count, as on a full disk
        conn.exec_driver_sql("PRAGMA max_page_count = 4")
        conn.commit()
        with pytest.raises(InsufficientStorage) as raised:
            for _ in range(100):
                conn.execute(text("INSERT INTO t VALUES (:v)"), {"v": "x" * 2000})
                conn.commit()
    assert "database or disk is full" in str(raised.value.__cause__)
    engine.dispose()


def test_the_reserve_is_a_file_that_is_held_released_and_held_again(tmp_path: Path) -> None:
    reserve = DiskReserve(tmp_path / "reserve", 64 * 1024)
    assert reserve.hold() and (tmp_path / "reserve").stat().st_size == 64 * 1024
    assert reserve.release() and not (tmp_path / "reserve").exists()
    assert not reserve.release()  # nothing left to free
    assert reserve.hold() and (tmp_path / "reserve").exists()
    assert DiskReserve(tmp_path / "off", 0).hold() and not (tmp_path / "off").exists()


def test_a_reserve_that_does_not_fit_is_not_held(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def no_room(fd: int, offset: int, length: int) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr("cosflow.storage.reserve.os.posix_fallocate", no_room)
    reserve = DiskReserve(tmp_path / "reserve", 64 * 1024)
    assert not reserve.hold()
    assert list(tmp_path.iterdir()) == []  # no partial reserve left behind


class _Store:
    """The two reserve calls of a blob store, counted."""

    def __init__(self, held: bool = True, frees: bool = True) -> None:
        self.held, self.frees, self.released = held, frees, 0

    def hold_reserve(self) -> bool:
        return self.held

    def release_reserve(self) -> bool:
        self.released += 1
        return self.frees


def _failing(times: int) -> Callable[[], str]:
    calls = [0]

    def operation() -> str:
        calls[0] += 1
        if calls[0] <= times:
            raise InsufficientStorage()
        return f"done after {calls[0]}"

    return operation


def test_with_room_gives_the_reserve_up_once_and_retries() -> None:
    store = _Store()
    assert space.with_room(store, _failing(0)) == "done after 1" and store.released == 0  # type: ignore[arg-type]
    assert space.with_room(store, _failing(1)) == "done after 2" and store.released == 1  # type: ignore[arg-type]
    with pytest.raises(InsufficientStorage):
        space.with_room(store, _failing(2))  # type: ignore[arg-type]
    assert store.released == 2
    nothing = _Store(frees=False)
    with pytest.raises(InsufficientStorage):
        space.with_room(nothing, _failing(1))  # type: ignore[arg-type]


def test_new_data_is_refused_while_the_reserve_cannot_be_held() -> None:
    space.require_room(_Store(held=True))  # type: ignore[arg-type]
    with pytest.raises(InsufficientStorage):
        space.require_room(_Store(held=False))  # type: ignore[arg-type]


def test_disk_full_looks_through_the_causes() -> None:
    try:
        try:
            raise OSError(errno.EDQUOT, "Disk quota exceeded")
        except OSError as exc:
            raise ValueError("wrapped") from exc
    except ValueError as wrapped:
        assert disk_full(wrapped)
    assert not disk_full(OSError(errno.EACCES, "denied")) and not disk_full(None)
