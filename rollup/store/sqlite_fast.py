"""The SQLite fast path for the bulk writes of issues, transitions and worklogs.

SQLAlchemy Core's executemany runs a bind processor per value (datetime
formatting, JSON serialisation), ~40 µs per issue row; on SQLite the rows are turned into tuples
here, in exactly the text SQLAlchemy's SQLite types would store, and handed to the driver's
executemany (tests/store checks both paths store the same values). PostgreSQL keeps the Core path.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import date, datetime, timezone
from operator import itemgetter
from typing import Any

from sqlalchemy import JSON, Boolean, Column, Date, Table

from rollup.store.columns import UTCDateTime, naive_datetime_error
from rollup.store.schema_sync import issues, transitions, worklogs

_SQLITE_DATETIME = "%04d-%02d-%02d %02d:%02d:%02d.%06d"


def _sqlite_dt(value: datetime | None) -> str | None:
    """An aware datetime as SQLAlchemy's SQLite ``DATETIME`` stores it (UTC, no offset)."""
    if value is None:
        return None
    if value.tzinfo is None:
        raise naive_datetime_error(value)
    if value.utcoffset():
        value = value.astimezone(timezone.utc)
    return _SQLITE_DATETIME % (value.year, value.month, value.day, value.hour, value.minute, value.second,
                               value.microsecond)


def _sqlite_date(value: date | None) -> str | None:
    if value is None:
        return None
    return f"{value.year:04d}-{value.month:02d}-{value.day:02d}"


def _sqlite_bool(value: Any) -> int | None:
    return None if value is None else int(bool(value))


_dumps = json.JSONEncoder().encode  # what json.dumps(value) does, without its argument handling


def _sqlite_converter(column: Column) -> Callable[[Any], Any] | None:
    kind = column.type
    if isinstance(kind, UTCDateTime):
        return _sqlite_dt
    if isinstance(kind, JSON):
        return _dumps
    if isinstance(kind, Boolean):
        return _sqlite_bool
    if isinstance(kind, Date):
        return _sqlite_date
    return None


def _sqlite_statement(table: Table, index: Sequence[str] | None) -> tuple[str, list[str], list[Callable | None]]:
    """``INSERT`` (or upsert on ``index``) SQL for ``table`` with ``?`` markers, its columns and converters."""
    names = [c.name for c in table.columns]
    cols = ", ".join(f'"{n}"' for n in names)
    sql = f'INSERT INTO "{table.name}" ({cols}) VALUES ({", ".join("?" for _ in names)})'
    if index:
        updates = ", ".join(f'"{n}" = excluded."{n}"' for n in names if n not in index)
        sql += f' ON CONFLICT ({", ".join(f"{chr(34)}{n}{chr(34)}" for n in index)}) DO UPDATE SET {updates}'
    return sql, names, [_sqlite_converter(c) for c in table.columns]


def sqlite_rows(names: list[str], converters: list[Callable | None], rows: Iterable[Mapping[str, Any]]) -> list[tuple]:
    """``rows`` (dicts) as tuples of the values in ``names`` order, each converted to its SQLite text."""
    # Every converter takes None too (JSON stores it as "null", as SQLAlchemy's JSON type does).
    get = itemgetter(*names)
    convert = [(i, f) for i, f in enumerate(converters) if f is not None]
    out = []
    for row in rows:
        try:
            values = list(get(row))
        except KeyError:  # a column left out (every caller passes them all): NULL
            values = [row.get(n) for n in names]
        for i, f in convert:
            values[i] = f(values[i])
        out.append(tuple(values))
    return out


_SQLITE_ISSUES = _sqlite_statement(issues, ["id"])
_SQLITE_TRANSITIONS = _sqlite_statement(transitions, None)
_SQLITE_WORKLOGS = _sqlite_statement(worklogs, ["id"])
#: Table name → (SQL, columns, converters) for the tables written through the fast path.
FAST_STATEMENTS = {"issues": _SQLITE_ISSUES, "transitions": _SQLITE_TRANSITIONS, "worklogs": _SQLITE_WORKLOGS}
