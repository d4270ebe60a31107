"""The store read once into pandas frames: what mapping, views and lint work on.

:func:`load_frames` is the only place that turns store rows into frames; views and lint never
touch the store. Every frame has a fixed set of columns (checked by :func:`check_columns`), so
an empty store gives empty frames with the right columns rather than a frame without columns.

``issues`` columns (one row per issue, ordered by id):

=====================  =====================================================================
``id``                 Jira issue id (int64)
``key``                issue key (string)
``project_key``        project key (categorical)
``issue_type``         issue type name (categorical)
``hierarchy_level``    -1 sub-task, 0 story/task/bug, 1 epic, 2+ initiative (int64)
``parent_key``         direct parent key or NA
``epic_key``           the epic of a story-level issue or NA (sub-tasks reach it via parent)
``status``             status name (categorical)
``status_category``    ``new`` / ``indeterminate`` / ``done`` (categorical)
``assignee_id``, ``assignee_name``, ``assignee_active``  the assignee or NA
``created``, ``updated``, ``resolved``   UTC ``datetime64`` (NaT when missing)
``story_points``       float (NaN when missing)
``start_date``, ``target_date``, ``due_date``   naive ``datetime64`` at midnight (NaT when missing)
``labels``, ``components``, ``fix_versions``    Python lists of strings (``[]`` when none)
``team``               Jira Team field value (categorical)
``sprint``             the current sprint's name (categorical)
``summary``, ``description``, ``description_length``
``custom``             dict: field name → value for ``jira.extra_fields`` (e.g. ``{"Investment": …}``)
``changelog_complete`` bool
=====================  =====================================================================

``transitions``: issue_id, history_id, field, at, from_value, to_value, to_category, author_id, author_name
(``field``: status, assignee, epic, parent, story_points, target_date; see ``connectors.jira.rows.TransitionRow``).
``worklogs``: id, issue_id, author_id, author_name, started, seconds, updated.
``snapshots``: week (ISO week of the report's as-of date), as_of, run_id, taken_at, issue_id, key, payload (dict).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from typing import Any

import orjson
import pandas as pd
from sqlalchemy import Boolean, Date, select

from rollup.store import Store, schema_sync

ISSUE_COLUMNS = (
    "id", "key", "project_key", "issue_type", "hierarchy_level", "parent_key", "epic_key", "status",
    "status_category", "assignee_id", "assignee_name", "assignee_active", "created", "updated", "resolved",
    "story_points", "start_date", "target_date", "due_date", "labels", "components", "fix_versions", "team",
    "sprint", "sprint_ids", "summary", "description", "description_length", "custom", "changelog_complete",
    "site",
)
TRANSITION_COLUMNS = ("issue_id", "history_id", "field", "at", "from_value", "to_value", "to_category", "author_id",
                      "author_name")
WORKLOG_COLUMNS = ("id", "issue_id", "author_id", "author_name", "started", "seconds", "updated")
SNAPSHOT_COLUMNS = ("week", "as_of", "run_id", "taken_at", "issue_id", "key", "payload")

_CATEGORICAL = ("project_key", "issue_type", "status", "status_category", "team", "sprint", "site")
_DATETIMES = ("created", "updated", "resolved")
_DATES = ("start_date", "target_date", "due_date")
_LISTS = ("labels", "components", "fix_versions", "sprint_ids")


@dataclass
class Frames:
    """The store as pandas frames; see the module docstring for the columns."""

    issues: pd.DataFrame
    transitions: pd.DataFrame
    worklogs: pd.DataFrame
    snapshots: pd.DataFrame


def load_frames(store: Store) -> Frames:
    """Read every table later stages need from ``store`` into :class:`Frames`, once."""
    issue_table = schema_sync.issues
    live = schema_sync.live_issue_ids()
    with store.connect() as conn:
        # Issues a deletion sweep marked deleted are not part of any view (nor their history).
        issues = _read(conn, issue_table, ["id"], issue_table.c.deleted_at.is_(None))
        transitions = _read(conn, schema_sync.transitions, ["issue_id", "at", "history_id", "field"],
                            schema_sync.transitions.c.issue_id.in_(live))
        worklogs = _read(conn, schema_sync.worklogs, ["id"], schema_sync.worklogs.c.issue_id.in_(live))
        snapshots = _read(conn, schema_sync.snapshots, ["week", "issue_id"])
    return Frames(
        issues=issues_frame(issues),
        transitions=_typed(transitions, TRANSITION_COLUMNS, datetimes=("at",)),
        worklogs=_typed(worklogs, WORKLOG_COLUMNS, datetimes=("started", "updated")),
        snapshots=_typed(snapshots, SNAPSHOT_COLUMNS, datetimes=("taken_at",), json_dicts=("payload",)),
    )


def issues_frame(rows: pd.DataFrame | list[dict[str, Any]]) -> pd.DataFrame:
    """Issue rows (store dicts or a raw frame) → the typed ``issues`` frame; missing columns become NA.

    Tests build small hand-made issue frames with this too.
    """
    frame = rows if isinstance(rows, pd.DataFrame) else pd.DataFrame(list(rows))
    frame = frame.reindex(columns=list(ISSUE_COLUMNS)).reset_index(drop=True)
    for column in _LISTS:
        frame[column] = _lists(frame[column])
    frame["custom"] = _dicts(frame["custom"])
    frame = _typed(frame, ISSUE_COLUMNS, datetimes=_DATETIMES, dates=_DATES)
    for column in ("id", "hierarchy_level"):
        frame[column] = pd.to_numeric(frame[column]).astype("int64")
    frame["story_points"] = pd.to_numeric(frame["story_points"], errors="coerce").astype("float64")
    frame["assignee_active"] = frame["assignee_active"].astype("boolean")
    frame["changelog_complete"] = frame["changelog_complete"].astype("boolean").fillna(False).astype(bool)
    frame["description_length"] = pd.to_numeric(frame["description_length"]).fillna(0).astype("int64")
    for column in ("key", "parent_key", "epic_key", "summary", "description"):
        frame[column] = frame[column].astype("string")
    for column in _CATEGORICAL:
        frame[column] = frame[column].astype("category")
    return frame


def check_columns(frame: pd.DataFrame, columns: tuple[str, ...] | list[str], name: str) -> None:
    """Raise ``ValueError`` naming what is missing when ``frame`` lacks any of ``columns``."""
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise ValueError(f"the {name} frame lacks columns: {', '.join(missing)}")


# ---------------------------------------------------------------------------------------- helpers


def _read(conn: Any, table: Any, order_by: list[str], where: Any = None) -> pd.DataFrame:
    query = select(table).order_by(*(table.c[c] for c in order_by))
    if where is not None:
        query = query.where(where)
    if conn.dialect.name == "sqlite":
        return _read_sqlite(conn, table, query)
    return _read_rows(conn, query)


def _read_rows(conn: Any, query: Any) -> pd.DataFrame:
    """The rows of ``query`` through SQLAlchemy's result processing (every value typed as its column)."""
    result = conn.execute(query)
    # Plain tuples: pandas probes each row it is given for attributes, and on a SQLAlchemy Row every
    # probe raises and catches an error inside SQLAlchemy (a third of the time of a read).
    return pd.DataFrame([tuple(row) for row in result.fetchall()], columns=list(result.keys()))


def _read_sqlite(conn: Any, table: Any, query: Any) -> pd.DataFrame:
    """The rows of ``query`` as SQLite holds them, without SQLAlchemy's per-value result processing.

    Dates and booleans are converted here a column at a time, as that processing would; timestamps
    and JSON stay text for the typing every frame gets next (:func:`_typed`, :func:`_lists`,
    :func:`_dicts` read text as they read decoded values). A test checks that this read and
    SQLAlchemy's give equal frames.
    """
    compiled = query.compile(dialect=conn.dialect)
    params = tuple(compiled.params[name] for name in compiled.positiontup or ())
    cursor = conn.exec_driver_sql(str(compiled), params).cursor
    columns = [c[0] for c in cursor.description]
    frame = pd.DataFrame(cursor.fetchall(), columns=columns)
    if not len(frame):
        return frame
    for column in table.columns:
        if column.name not in frame.columns:
            continue
        kind, values = column.type, frame[column.name].tolist()
        if isinstance(kind, Date):
            frame[column.name] = [date.fromisoformat(v) if isinstance(v, str) else None for v in values]
        elif isinstance(kind, Boolean):
            frame[column.name] = [None if v is None or v != v else bool(v) for v in values]
    return frame


def _typed(
    frame: pd.DataFrame,
    columns: tuple[str, ...],
    *,
    datetimes: tuple[str, ...] = (),
    dates: tuple[str, ...] = (),
    json_dicts: tuple[str, ...] = (),
) -> pd.DataFrame:
    frame = frame.reindex(columns=list(columns))
    for column in datetimes:
        frame[column] = pd.to_datetime(frame[column], utc=True)
    for column in dates:
        frame[column] = pd.to_datetime(frame[column])
    for column in json_dicts:
        frame[column] = _dicts(frame[column])
    return frame


def _lists(values: pd.Series) -> pd.Series:
    """JSON lists (already decoded, or text from a raw read) → lists; NA → []."""
    return pd.Series([_decode(v, list) for v in values], index=values.index, dtype="object")


def _dicts(values: pd.Series) -> pd.Series:
    return pd.Series([_decode(v, dict) for v in values], index=values.index, dtype="object")


def _loads(text: str) -> Any:
    """JSON text → value: orjson (most of a large store's read is spent decoding these lists), the
    standard library for what orjson refuses and Python's encoder writes (``NaN``, lone surrogates)."""
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        return json.loads(text)


def _decode(value: Any, kind: type) -> Any:
    if isinstance(value, kind):
        return value
    if isinstance(value, str):
        decoded = _loads(value)
        return decoded if isinstance(decoded, kind) else kind()
    if isinstance(value, (list, tuple)) and kind is list:
        return list(value)
    return kind()
