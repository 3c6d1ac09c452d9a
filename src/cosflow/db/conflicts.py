"""``INSERT … ON CONFLICT DO NOTHING`` on both backends: the one way to insert a row that a
concurrent transaction may be inserting too, without a read-then-insert race (on PostgreSQL the
statement waits for that transaction and then does nothing; on SQLite the write lock already
serialised them)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import Connection, Table
from sqlalchemy.dialects import postgresql, sqlite


def insert_absent(conn: Connection, table: Table, values: Mapping[str, Any]) -> bool:
    """Insert ``values`` unless a row with the same primary key exists; whether it was inserted."""
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    key = list(table.primary_key.columns)[0]
    statement = dialect.insert(table).values(**values).on_conflict_do_nothing().returning(key)
    # RETURNING, not rowcount: SQLAlchemy reports -1 for a psycopg INSERT whatever happened.
    return conn.execute(statement).first() is not None
