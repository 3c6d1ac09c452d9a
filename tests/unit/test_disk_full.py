"""A full disk at each edge it can be met (issue 9 §2): the blob store's OS errors, SQLite's
``SQLITE_FULL``, the disk reserve and the retry that gives it up. The whole episode, through the
SDK on a real full filesystem, is tests/e2e/test_full_disk.py."""

from __future__ import annotations

import errno
import os
import threading
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import anyio
import pytest
from sqlalchemy import text

from cosflow.db.engine import make_engine, migrate
from cosflow.domain.failures import disk_full
from cosflow.domain.records import ObjectAttrs
from cosflow.errors import InsufficientStorage, StorageError
from cosflow.services import space, transfer
from cosflow.services.buckets import BucketService
from cosflow.services.objects import ObjectService
from cosflow.settings import KeyPair, Settings
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


def test_the_reserve_is_a_file_that_is_held_lent_and_held_again(tmp_path: Path) -> None:
    reserve = DiskReserve(tmp_path / "reserve", 64 * 1024)
    assert not reserve.held and reserve.hold() and reserve.held
    assert (tmp_path / "reserve").stat().st_size == 64 * 1024
    assert reserve.lend() and not reserve.held and not (tmp_path / "reserve").exists()
    assert not reserve.hold()  # refused while lent: new data must not take the room back
    assert reserve.give_back() and reserve.held and (tmp_path / "reserve").stat().st_size == 64 * 1024
    assert DiskReserve(tmp_path / "off", 0).hold() and not (tmp_path / "off").exists()
    assert not DiskReserve(tmp_path / "off", 0).lend()
    reserve.close()


def test_nothing_to_lend_when_nothing_is_held(tmp_path: Path) -> None:
    reserve = DiskReserve(tmp_path / "reserve", 64 * 1024)
    assert not reserve.lend()  # never allocated, no file: a retry would gain nothing
    (tmp_path / "reserve").write_bytes(bytes(1024))  # left by an earlier run, not opened yet
    assert reserve.lend() and not (tmp_path / "reserve").exists()
    reserve.give_back()
    reserve.close()


def test_a_reserve_removed_from_outside_still_frees_its_space(tmp_path: Path) -> None:
    """An operator or a cleanup script removes the file while the server runs: the server holds
    it open, so the space is still there for a delete, and the reserve comes back under its name."""
    reserve = DiskReserve(tmp_path / "reserve", 256 * 1024)
    assert reserve.hold()
    (tmp_path / "reserve").unlink()
    assert reserve.held  # the open file still has its blocks
    assert reserve.lend()  # was: FileNotFoundError, "nothing freed", and the delete answered 503
    assert reserve.give_back() and (tmp_path / "reserve").stat().st_size == 256 * 1024
    reserve.close()


def test_the_reserve_is_lent_to_every_delete_running_and_taken_back_after_the_last(tmp_path: Path) -> None:
    reserve = DiskReserve(tmp_path / "reserve", 64 * 1024)
    assert reserve.hold()
    assert reserve.lend() and reserve.lend()  # the second delete runs in the room the first freed
    assert not reserve.give_back() and not reserve.held  # one delete still committing
    assert reserve.give_back() and reserve.held
    reserve.close()


def test_a_reserve_that_does_not_fit_is_not_held(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def no_room(fd: int, offset: int, length: int) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr("cosflow.storage.reserve.os.posix_fallocate", no_room)
    reserve = DiskReserve(tmp_path / "reserve", 64 * 1024)
    assert not reserve.hold()
    assert list(tmp_path.iterdir()) == []  # no partial reserve left behind


class _Store:
    """The reserve calls of a blob store, counted, with the thread each ran in."""

    def __init__(self, held: bool = True, frees: bool = True, can_hold: bool = True) -> None:
        self.held, self.frees, self.can_hold = held, frees, can_hold
        self.lent = self.returned = 0
        self.hold_threads: list[threading.Thread] = []

    def reserve_held(self) -> bool:
        return self.held

    def hold_reserve(self) -> bool:
        self.hold_threads.append(threading.current_thread())
        return self.can_hold

    def lend_reserve(self) -> bool:
        self.lent += 1
        return self.frees

    def return_reserve(self) -> None:
        self.returned += 1


def _failing(times: int) -> Callable[[], str]:
    calls = [0]

    def operation() -> str:
        calls[0] += 1
        if calls[0] <= times:
            raise InsufficientStorage()
        return f"done after {calls[0]}"

    return operation


def test_with_room_borrows_the_reserve_once_retries_and_gives_it_back() -> None:
    store = _Store()
    assert space.with_room(store, _failing(0)) == "done after 1" and store.lent == 0  # type: ignore[arg-type]
    assert space.with_room(store, _failing(1)) == "done after 2"  # type: ignore[arg-type]
    assert (store.lent, store.returned) == (1, 1)
    with pytest.raises(InsufficientStorage):
        space.with_room(store, _failing(2))  # type: ignore[arg-type]
    assert (store.lent, store.returned) == (2, 2)  # given back even when the retry failed
    nothing = _Store(frees=False)
    with pytest.raises(InsufficientStorage):
        space.with_room(nothing, _failing(1))  # type: ignore[arg-type]
    assert nothing.returned == 0


def test_a_held_reserve_is_checked_on_the_event_loop_and_only_allocating_takes_a_thread() -> None:
    held = _Store(held=True)
    anyio.run(space.require_room, held)
    assert held.hold_threads == []  # was: hold_reserve in a worker thread on every PUT, copy and part
    allocating = _Store(held=False)
    anyio.run(space.require_room, allocating)
    assert len(allocating.hold_threads) == 1 and allocating.hold_threads[0] is not threading.main_thread()
    with pytest.raises(InsufficientStorage):
        anyio.run(space.require_room, _Store(held=False, can_hold=False))


async def _body(reserve: DiskReserve, lend_after: int) -> AsyncIterator[bytes]:
    for n in range(4):
        if n == lend_after:
            assert reserve.lend()  # a delete on a full disk borrows the reserve meanwhile
        yield bytes(transfer.FLUSH_BYTES)


def test_an_upload_in_flight_gives_up_when_a_delete_borrows_the_reserve(tmp_path: Path) -> None:
    """The room a lent reserve leaves is for the delete's commit, not for bodies still arriving:
    they stop with InsufficientStorage (and their temp file goes) instead of filling it."""
    store = FileBlobStore(tmp_path / "storage", 64 * 1024)
    reserve: DiskReserve = store._reserve
    with pytest.raises(InsufficientStorage):
        anyio.run(lambda: transfer.receive(store, _body(reserve, 1), max_bytes=1 << 30))
    assert list(store.tmp_dir.iterdir()) == [] and list(store.blob_dir.iterdir()) == []
    reserve.give_back()
    info = anyio.run(lambda: transfer.receive(store, _body(reserve, -1), max_bytes=1 << 30))
    assert info.size == 4 * transfer.FLUSH_BYTES  # held again: uploads go through
    store.close()


def test_a_put_with_the_reserve_held_never_allocates_it_again(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, credentials=(KeyPair("AKIDunit", "unitkey"),))
    engine = make_engine(f"sqlite:///{tmp_path / 'cosflow.db'}")
    migrate(engine)
    store = FileBlobStore(tmp_path / "storage", 64 * 1024)
    objects = ObjectService(engine, store, settings)
    anyio.run(BucketService(engine, settings).create, "b-1250000000", None)
    calls: list[threading.Thread] = []
    hold = store.hold_reserve

    def counted() -> bool:
        calls.append(threading.current_thread())
        return hold()

    store.hold_reserve = counted  # type: ignore[method-assign]

    async def put(key: str) -> None:
        async def body() -> AsyncIterator[bytes]:
            yield b"small"

        await objects.put("b-1250000000", key, body(), ObjectAttrs(), content_length=5, content_md5=None)

    anyio.run(put, "first")
    assert len(calls) == 1  # the first write allocates the reserve
    for n in range(5):
        anyio.run(put, f"more-{n}")
    assert len(calls) == 1  # then a flag read on the event loop: no worker thread, no system call
    store.close()
    engine.dispose()


def test_disk_full_looks_through_the_causes() -> None:
    try:
        try:
            raise OSError(errno.EDQUOT, "Disk quota exceeded")
        except OSError as exc:
            raise ValueError("wrapped") from exc
    except ValueError as wrapped:
        assert disk_full(wrapped)
    assert not disk_full(OSError(errno.EACCES, "denied")) and not disk_full(None)


def test_a_reserve_the_filesystem_does_not_allocate_is_reported(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """OpenZFS answers fallocate by checking free space and making a sparse file (and glibc's
    emulation writes zeros, which compression keeps in no room): the log says so once held."""

    def sparse(fd: int, offset: int, length: int) -> None:
        os.ftruncate(fd, offset + length)

    monkeypatch.setattr("cosflow.storage.reserve.os.posix_fallocate", sparse)
    reserve = DiskReserve(tmp_path / "reserve", 1024 * 1024)
    assert reserve.hold()
    assert any("takes no room on this filesystem" in r.getMessage() for r in caplog.records)
    reserve.close()
    caplog.clear()
    monkeypatch.undo()
    real = DiskReserve(tmp_path / "real", 1024 * 1024)
    assert real.hold()
    assert not [r for r in caplog.records if "takes no room" in r.getMessage()]  # allocated for real here
    real.close()
