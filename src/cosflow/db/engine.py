"""Engine construction and migrations (Alembic, applied at start)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, create_engine, event, text
from sqlalchemy.engine import ExceptionContext
from sqlalchemy.exc import ArgumentError, DBAPIError, OperationalError

from cosflow.domain.failures import disk_full
from cosflow.errors import ConfigError, InsufficientStorage

MIGRATIONS = Path(__file__).parent / "migrations"
#: SQLite's primary result code for "database or disk is full" (sqlite3.h ``SQLITE_FULL``).
_SQLITE_FULL = 13
#: PostgreSQL's SQLSTATE ``disk_full`` (class 53, insufficient resources).
_PG_DISK_FULL = "53100"
#: The key of the PostgreSQL advisory lock that migrations run under (any constant bigint; this
#: one is "cosflow" in ASCII), so replicas starting together apply them one after another.
MIGRATION_LOCK = 0x636F73666C6F77
#: URL schemes taken to mean PostgreSQL through psycopg 3.
_PSYCOPG_ALIASES = frozenset({"postgresql", "postgres", "postgresql+psycopg"})


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
    """An engine for ``url``: ``sqlite:///<file>`` (the embedded default) or
    ``postgresql+psycopg://user[:password]@host[:port]/database`` (psycopg 3).

    On SQLite every transaction takes the write lock up front. On PostgreSQL transactions run at
    READ COMMITTED and each read-check-write sequence locks what it depends on itself (row locks,
    conditional updates, ``ON CONFLICT``; docs/design-choices.md "Atomicity on PostgreSQL").
    """
    scheme = url.partition(":")[0]
    if scheme in _PSYCOPG_ALIASES:
        url = "postgresql+psycopg:" + url.partition(":")[2]  # psycopg 3 is the driver we ship
    elif scheme not in ("sqlite", "postgresql+psycopg"):
        raise ConfigError(f"database_url must be sqlite:///<file> or postgresql+psycopg://..., not {scheme}://...")
    try:
        if url.startswith("sqlite"):
            engine = create_engine(url, connect_args={"check_same_thread": False}, pool_size=8)
            event.listen(engine, "connect", _sqlite_pragmas)
            event.listen(engine, "begin", _begin_immediate)
        else:
            engine = create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=20)
    except ArgumentError as exc:
        raise ConfigError(f"database_url is not a valid URL: {str(exc).splitlines()[0]}") from exc
    event.listen(engine, "handle_error", _database_full)
    return engine


def describe(engine: Engine) -> str:
    """The engine's URL without its password, for messages."""
    return engine.url.render_as_string(hide_password=True)


def unreachable(engine: Engine, exc: DBAPIError) -> ConfigError:
    """One line saying which database could not be opened and the driver's first line of why
    (wrong host or port, a refused password, a missing database)."""
    original = exc.orig if exc.orig is not None else exc
    first = next((line.strip() for line in str(original).splitlines() if line.strip()), type(original).__name__)
    return ConfigError(f"cannot open the database {describe(engine)}: {first}")


def check_connection(engine: Engine) -> None:
    """Connect once; :class:`ConfigError` with one line naming the database when that fails."""
    try:
        with engine.connect() as connection:
            connection.execute(text("select 1"))
    except OperationalError as exc:
        raise unreachable(engine, exc) from exc


def _config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


def _serialise_migrations(connection: Connection) -> None:
    """On PostgreSQL, wait for the migration lock; it is released when the transaction ends, so
    a second process starting at the same moment finds the schema already at head. SQLite's
    transaction already holds the database's write lock."""
    if connection.dialect.name == "postgresql":
        connection.execute(text("select pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK})


def migrate(engine: Engine) -> None:
    """Bring the schema to the newest revision, in one transaction (PostgreSQL and SQLite both run
    DDL transactionally), under :data:`MIGRATION_LOCK` on PostgreSQL.

    Raises :class:`ConfigError` (one line) when the database cannot be reached."""
    config = _config()
    try:
        with engine.begin() as connection:
            _serialise_migrations(connection)
            config.attributes["connection"] = connection
            command.upgrade(config, "head")
    except OperationalError as exc:
        raise unreachable(engine, exc) from exc


def revisions(engine: Engine) -> tuple[str | None, str]:
    """(the database's schema revision, None when it has none; the newest this code knows).

    Reads only: tools other than ``cosflow serve`` check the schema with it instead of migrating.
    """
    with engine.connect() as connection:
        current = MigrationContext.configure(connection).get_current_revision()
    head = ScriptDirectory.from_config(_config()).get_current_head()
    assert head is not None  # the package ships its migrations
    return current, head
