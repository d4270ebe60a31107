"""The BI feed in the store: ``feed_*`` tables refreshed in one transaction, read back through the views.

:func:`replace_feed` replaces every ``feed_<table>`` with the frames of one export in ONE transaction,
so a reader (a BI tool on the ``rollup_<table>`` views) sees the previous feed or the new one, never
a mix; the rows are deleted and inserted (not the tables dropped), so the views, and the grants a
database administrator gave on them, stay. :func:`read_view` reads a view back with the column types
of the data dictionary (what a test compares with the files). Tables and views:
:mod:`rollup.store.schema_feed`.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime, timezone
from typing import Any

import pandas as pd
from sqlalchemy import column, delete, func, inspect, select, table, text
from sqlalchemy.engine import Connection

from rollup.feed.dictionary import BY_NAME, TABLES, FeedTable
from rollup.store.core import Store
from rollup.store.schema_feed import FEED_TABLES, SQL_TYPES, view_sql

#: Rows per INSERT statement (bound parameters stay under SQLite's limit).
_CHUNK = 10_000


def replace_feed(store: Store, tables: Mapping[str, pd.DataFrame]) -> dict[str, int]:
    """Replace the store's feed with ``tables`` (every table of the feed, by name), in one transaction.

    Missing views are created again first (a view someone dropped by hand). Returns the rows stored per table.
    """
    unknown = sorted(set(tables) - set(FEED_TABLES))
    missing = sorted(set(FEED_TABLES) - set(tables))
    if unknown or missing:
        raise ValueError(f"the feed has tables {', '.join(FEED_TABLES)}; given: {', '.join(tables)}")
    stored: dict[str, int] = {}
    with store.begin() as conn:
        ensure_views(conn)
        for feed in TABLES:
            target = FEED_TABLES[feed.name]
            conn.execute(delete(target))
            rows = records(tables[feed.name], feed)
            for start in range(0, len(rows), _CHUNK):
                conn.execute(target.insert(), rows[start:start + _CHUNK])
            stored[feed.name] = len(rows)
    return stored


def ensure_views(conn: Connection) -> list[str]:
    """Create any ``rollup_*`` view that is missing (inside the caller's transaction); return those created."""
    present = set(inspect(conn).get_view_names())
    created = []
    for feed in TABLES:
        if feed.view not in present:
            conn.execute(text(view_sql(feed, dialect=conn.dialect.name)))
            created.append(feed.view)
    return created


def records(frame: pd.DataFrame, feed: FeedTable) -> list[dict[str, Any]]:
    """The rows of a conformed feed frame as plain Python values (None for null), column by column."""
    columns = {c.name: _python(frame[c.name], c.type) for c in feed.columns}
    names = list(columns)
    return [dict(zip(names, row)) for row in zip(*columns.values())] if len(frame) else []


def _python(values: pd.Series, kind: str) -> list[Any]:
    present = values.notna().to_numpy()
    if kind == "date":
        raw: list[Any] = values.astype("object").tolist()
    elif kind == "timestamp":
        raw = [None if pd.isna(v) else v.to_pydatetime() for v in values]
    elif kind == "integer":
        raw = [int(v) if ok else None for v, ok in zip(values.astype("object"), present)]
    elif kind == "number":
        raw = [float(v) if ok else None for v, ok in zip(values.astype("object"), present)]
    elif kind == "boolean":
        raw = [bool(v) if ok else None for v, ok in zip(values.astype("object"), present)]
    else:
        raw = values.astype("object").tolist()
    return [v if ok else None for v, ok in zip(raw, present)]


def read_view(store: Store, name: str) -> pd.DataFrame:
    """The rows of the view ``rollup_<name>``, typed as the dictionary says (the frames the files hold)."""
    from rollup.feed.tables import conform

    feed = BY_NAME[name]
    view = table(feed.view, *(column(c.name, _sql_type(c.type)) for c in feed.columns))
    with store.connect() as conn:
        result = conn.execute(select(view))
        frame = pd.DataFrame([tuple(r) for r in result.fetchall()], columns=list(result.keys()))
    for c in feed.columns:
        if c.type == "date":
            frame[c.name] = [_day(v) for v in frame[c.name]]
    return conform(frame, feed)


def _sql_type(kind: str) -> Any:
    found = SQL_TYPES[kind]
    return found() if isinstance(found, type) else found


def _day(value: Any) -> date | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.astimezone(timezone.utc).date() if value.tzinfo else value.date()
    return value if isinstance(value, date) else date.fromisoformat(str(value))


def stored_counts(store: Store) -> dict[str, int]:
    """Rows in each ``rollup_*`` view, by feed table name."""
    out = {}
    with store.connect() as conn:
        for feed in TABLES:
            out[feed.name] = conn.execute(select(func.count()).select_from(table(feed.view))).scalar_one()
    return out


__all__ = ["ensure_views", "read_view", "records", "replace_feed", "stored_counts"]
