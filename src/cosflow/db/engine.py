"""Engine construction and migrations (Alembic, applied at start)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import ExceptionContext

from cosflow.domain.failures import disk_full
from cosflow.errors import InsufficientStorage

MIGRATIONS = Path(__file__).parent / "migrations"
#: SQLite's primary result code for "database or disk is full" (sqlite3.h ``SQLITE_FULL``).
_SQLITE_FULL = 13
#: PostgreSQL's SQLSTATE ``disk_full`` (class 53, insufficient resources).
_PG_DISK_FULL = "53100"


def _database_full(context: ExceptionContext) -> None:
    """The database's "disk is full" (SQLite ``SQLITE_FULL``, PostgreSQL ``53100``, an ``ENOSPC``)
    becomes :class:`InsufficientStorage`, raised from SQLAlchemy's error (``handle_error`` lets a
    listener raise its own exception); every other error is left as it is."""
    original = context.original_exception
    code = getattr(original, "sqlite_errorcode", None)
    full = (
        (isinstance(code, int) and code & 0xFF == _SQLITE_FULL)
        or _PG_DISK_FULL in (getattr(original, "pgcode", None), getattr(original, "sqlstate", None))  # psycopg 2, 3
        or disk_full(original)
    )
    if full:
        raise InsufficientStorage() from context.sqlalchemy_exception or original


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # Let SQLAlchemy issue BEGIN itself: pysqlite's own deferred BEGIN starts only at the first
    # write, so the reads of a check-then-write ran outside the transaction.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def _begin_immediate(conn: Any) -> None:
    """Every transaction takes SQLite's write lock up front, so a read-check-write sequence is
    atomic (two PUTs of one key, a duplicate CompleteMultipartUpload, two finishing parents of one
    node). Reads wait at most busy_timeout; WAL keeps the lock short."""
    conn.exec_driver_sql("BEGIN IMMEDIATE")


def make_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"check_same_thread": False}, pool_size=8)
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "begin", _begin_immediate)
    else:
        engine = create_engine(url, pool_pre_ping=True)
    event.listen(engine, "handle_error", _database_full)
    return engine


def _config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


def migrate(engine: Engine) -> None:
    """Bring the schema to the newest revision."""
    config = _config()
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "head")


def revisions(engine: Engine) -> tuple[str | None, str]:
    """(the database's schema revision, None when it has none; the newest this code knows).

    Reads only: tools other than ``cosflow serve`` check the schema with it instead of migrating.
    """
    with engine.connect() as connection:
        current = MigrationContext.configure(connection).get_current_revision()
    head = ScriptDirectory.from_config(_config()).get_current_head()
    assert head is not None  # the package ships its migrations
    return current, head
