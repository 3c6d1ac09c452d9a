"""The only place SQL runs: SQLAlchemy Core tables, repositories over a Connection, migrations."""
