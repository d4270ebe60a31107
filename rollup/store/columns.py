"""What every table is built from: the shared :data:`metadata` and the column types.

:class:`UTCDateTime` keeps datetimes as UTC on both dialects; :func:`json_type` is JSON (JSONB on
PostgreSQL). Each subsystem's tables (``schema_*`` modules) join :data:`metadata`.
"""

from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy import JSON, DateTime, MetaData
from sqlalchemy.dialects import postgresql as pg_dialect
from sqlalchemy.types import TypeDecorator

from rollup.errors import StoreError

#: Every table of the store, whichever subsystem owns it: ``create_all`` makes the missing ones.
metadata = MetaData()


def naive_datetime_error(value: datetime) -> StoreError:
    """The error for a naive datetime handed to the store (the connector must give aware UTC)."""
    return StoreError(
        f"naive datetime {value.isoformat()} given to the store; the connector must hand over aware UTC datetimes"
    )


class UTCDateTime(TypeDecorator):
    """A timezone-aware datetime stored as UTC; naive values read back are taken as UTC.

    PostgreSQL keeps ``timestamptz`` natively; SQLite stores text without an offset, so the
    value is converted to UTC before it is written and tagged UTC when it is read.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect) -> datetime | None:
        """Refuse a naive datetime; write UTC (without an offset on SQLite)."""
        if value is None:
            return None
        if value.tzinfo is None:
            raise naive_datetime_error(value)
        value = value.astimezone(timezone.utc)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect) -> datetime | None:
        """Read back as an aware UTC datetime, taking a naive value as UTC."""
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=timezone.utc)
        return value.astimezone(timezone.utc)



def json_type() -> JSON:
    """A JSON column type: JSONB on PostgreSQL."""
    return JSON().with_variant(pg_dialect.JSONB(), "postgresql")
