"""The database a test server or engine uses: the embedded SQLite file (the default), or a
throwaway PostgreSQL database per server, chosen by ``COSFLOW_TEST_DATABASE=postgresql`` for a
whole run or by the ``both_databases`` marker for one test (tests/conftest.py).

PostgreSQL is the one at ``COSFLOW_TEST_POSTGRES`` (default ``127.0.0.1:5432``, user postgres,
trust auth, as on this machine and in CI). Each database is created with a linguistic (ICU
``en-US``) collation where the server has ICU, as most production databases are, so a query that
relies on byte order is caught; every one is dropped at the end of the session.
"""

from __future__ import annotations

import functools
import os
import uuid
from pathlib import Path

import psycopg
from psycopg import sql

ADMIN = os.environ.get("COSFLOW_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/postgres")
#: Databases made in this session, by the directory (data dir, tmp_path) they belong to.
_made: dict[str, str] = {}


def chosen() -> str:
    """``sqlite`` or ``postgresql``: what ``COSFLOW_TEST_DATABASE`` asks every test to run on."""
    value = os.environ.get("COSFLOW_TEST_DATABASE", "sqlite").strip().lower() or "sqlite"
    if value not in ("sqlite", "postgresql"):
        raise ValueError(f"COSFLOW_TEST_DATABASE must be sqlite or postgresql, not {value!r}")
    return value


@functools.cache
def unavailable() -> str | None:
    """Why PostgreSQL cannot be used for tests, or None when it can."""
    try:
        with psycopg.connect(ADMIN, connect_timeout=3) as conn:
            conn.execute("select 1")
    except psycopg.Error as exc:
        return f"PostgreSQL is not reachable at {ADMIN} ({str(exc).strip().splitlines()[0]})"
    return None


def _create(name: str) -> None:
    with psycopg.connect(ADMIN, autocommit=True) as conn:
        icu = conn.execute("select 1 from pg_collation where collname = 'en-US-x-icu'").fetchone()
        statement = sql.SQL("create database {} template template0").format(sql.Identifier(name))
        if icu:
            statement += sql.SQL(" locale_provider icu icu_locale 'en-US' locale 'C.UTF-8'")
        conn.execute(statement)


def postgres_url(owner: Path) -> str:
    """The SQLAlchemy URL of the PostgreSQL database that belongs to ``owner`` (created on first
    use, so a server restarted on the same data dir finds its data again)."""
    key = str(owner.resolve())
    if key not in _made:
        name = f"cosflow_test_{uuid.uuid4().hex[:12]}"
        _create(name)
        _made[key] = name
    base = ADMIN.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://", 1)
    return f"{base}/{_made[key]}"


def url_for(database: str, owner: Path) -> str:
    """The URL a server or engine in ``owner`` uses on ``database`` (sqlite or postgresql)."""
    if database == "postgresql":
        return postgres_url(owner)
    return f"sqlite:///{owner / 'cosflow.db'}"


def drop_all() -> None:
    """Drop every database this session made (connections still open are ended first)."""
    if not _made:
        return
    with psycopg.connect(ADMIN, autocommit=True) as conn:
        for name in _made.values():
            conn.execute(sql.SQL("drop database if exists {} with (force)").format(sql.Identifier(name)))
    _made.clear()
