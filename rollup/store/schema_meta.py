"""The ``meta`` table: the schema version the store was written with (owned by the store package)."""

from __future__ import annotations

from sqlalchemy import Column, Integer, Table, func, inspect, select
from sqlalchemy.engine import Connection

from rollup.store.columns import metadata

meta = Table(
    "meta",
    metadata,
    Column("schema_version", Integer, nullable=False),
)


def read_version(conn: Connection) -> int | None:
    """The schema version recorded in ``meta``, or None when there is no ``meta`` table."""
    if not inspect(conn).has_table("meta"):
        return None
    return conn.execute(select(func.max(meta.c.schema_version))).scalar_one_or_none()
