"""Row-level races on the repository functions themselves, many threads on one engine, on both
databases: the same sequences as tests/e2e/test_atomicity.py without HTTP in between, so the
race window is as wide as the database allows (docs/design-choices.md, "Atomicity on
PostgreSQL")."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from sqlalchemy import Engine

from cosflow.db import buckets as bucket_rows
from cosflow.db import objects as object_rows
from cosflow.db.engine import make_engine, migrate
from cosflow.domain import times
from cosflow.domain.records import Bucket, ObjectAttrs, StoredObject
from tests.support import databases

pytestmark = pytest.mark.both_databases
THREADS = 24


@pytest.fixture
def engine(database: str, tmp_path: Path) -> Iterator[Engine]:
    engine = make_engine(databases.url_for(database, tmp_path))
    migrate(engine)
    with engine.begin() as conn:
        bucket_rows.create(conn, Bucket("b-1250000000", "private", times.now()))
    yield engine
    engine.dispose()


def _put(engine: Engine, key: str, barrier: threading.Barrier) -> str | None:
    obj = StoredObject("b-1250000000", key, uuid.uuid4().hex, 1, "e", times.now(), ObjectAttrs())
    barrier.wait()
    with engine.begin() as conn:
        return object_rows.put(conn, obj)


def test_concurrent_first_puts_of_one_key_replace_each_other_once(engine: Engine) -> None:
    """Every PUT commits; every blob but the winner's is replaced exactly once (garbage), none twice."""
    for round_number in range(3):
        key = f"k{round_number}"
        barrier = threading.Barrier(THREADS)
        with ThreadPoolExecutor(THREADS) as pool:
            replaced = list(pool.map(_put, [engine] * THREADS, [key] * THREADS, [barrier] * THREADS))
        assert replaced.count(None) == 1  # the one that inserted the row
        with engine.connect() as conn:
            current = object_rows.get(conn, "b-1250000000", key)
            garbage = object_rows.garbage_ids(conn)
        assert current is not None and current.blob_id not in garbage
        assert sorted(r for r in replaced if r is not None) == sorted(set(r for r in replaced if r is not None))


def test_concurrent_deletes_of_one_key_free_its_blob_once(engine: Engine) -> None:
    barrier = threading.Barrier(1)
    _put(engine, "gone", barrier)

    def remove(_: int) -> str | None:
        with engine.begin() as conn:
            return object_rows.remove(conn, "b-1250000000", "gone")

    with ThreadPoolExecutor(THREADS) as pool:
        freed = [b for b in pool.map(remove, range(THREADS)) if b is not None]
    assert len(freed) == 1
