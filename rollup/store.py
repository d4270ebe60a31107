"""The local store: normalized Jira rows kept in SQLite (default) or PostgreSQL.

SQLAlchemy Core tables, dialect-specific upserts (``INSERT ... ON CONFLICT DO UPDATE``),
one transaction per written batch. Datetimes go in as UTC and come back as aware UTC on
both dialects. The schema is versioned in ``meta``: a missing schema is created, an older
one is upgraded by the ordered functions in :data:`MIGRATIONS`, a newer one is refused.

>>> store = Store.open("sqlite:///:memory:")
>>> store.counts()["issues"]
0
"""

from __future__ import annotations

import dataclasses
import json
import os
import re
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from datetime import date, datetime, timezone
from operator import itemgetter
from pathlib import Path
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    create_engine,
    delete,
    event,
    func,
    inspect,
    select,
    text,
    update,
)
from sqlalchemy.dialects import postgresql as pg_dialect
from sqlalchemy.dialects import sqlite as sqlite_dialect
from sqlalchemy.engine import Connection, Engine, make_url
from sqlalchemy.exc import ArgumentError, DatabaseError, OperationalError
from sqlalchemy.types import TypeDecorator

from connectors.jira.rows import FieldRow, IssueRow, TransitionRow, WorklogRow
from rollup.errors import EmptyStoreError, StoreError, StoreURLError

#: The schema version this code writes. Bump it and add a function to MIGRATIONS together.
SCHEMA_VERSION = 3

#: Where the store lives when neither ROLLUP_DATABASE_URL nor an argument says otherwise.
DEFAULT_PATH = Path(".rollup") / "rollup.db"

#: Environment variable naming the database URL.
DATABASE_URL_ENV = "ROLLUP_DATABASE_URL"

# Bound parameters per statement stay well under SQLite's limit (32766 in recent builds).
_CHUNK = 500


def _naive(value: datetime) -> StoreError:
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
            raise _naive(value)
        value = value.astimezone(timezone.utc)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect) -> datetime | None:
        """Read back as an aware UTC datetime, taking a naive value as UTC."""
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=timezone.utc)
        return value.astimezone(timezone.utc)


def _json() -> JSON:
    return JSON().with_variant(pg_dialect.JSONB(), "postgresql")


metadata = MetaData()

issues = Table(
    "issues",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("key", String(64), nullable=False, unique=True),
    Column("project_key", String(64), nullable=False, index=True),
    Column("issue_type", String(128), nullable=False),
    Column("hierarchy_level", Integer, nullable=False),
    Column("parent_key", String(64), index=True),
    Column("epic_key", String(64), index=True),
    Column("status", String(128), nullable=False),
    Column("status_category", String(32), nullable=False),
    Column("assignee_id", String(128)),
    Column("assignee_name", String(255)),
    Column("assignee_active", Boolean),
    Column("created", UTCDateTime, nullable=False),
    Column("updated", UTCDateTime, nullable=False),
    Column("resolved", UTCDateTime),
    Column("story_points", Float),
    Column("start_date", Date),
    Column("target_date", Date),
    Column("due_date", Date),
    Column("labels", _json(), nullable=False),
    Column("components", _json(), nullable=False),
    Column("fix_versions", _json(), nullable=False),
    Column("team", String(255)),
    Column("sprint", String(255)),
    Column("summary", Text, nullable=False),
    Column("description", Text, nullable=False),
    Column("description_length", Integer, nullable=False),
    Column("custom", _json(), nullable=False),
    Column("changelog_complete", Boolean, nullable=False, default=False),
    #: When a complete deletion sweep found the issue gone from Jira or from the scope (soft delete):
    #: the row stays, every reader skips it, and a later sync that sees it again brings it back.
    Column("deleted_at", UTCDateTime, index=True),
)

transitions = Table(
    "transitions",
    metadata,
    Column("issue_id", Integer, ForeignKey("issues.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("history_id", Integer, nullable=False),
    Column("field", String(32), nullable=False),
    Column("at", UTCDateTime, nullable=False),
    Column("from_value", String(255)),
    Column("to_value", String(255)),
    Column("to_category", String(32)),
    Column("author_id", String(128)),
    UniqueConstraint("issue_id", "history_id", "field", "to_value", name="uq_transitions_change"),
)

worklogs = Table(
    "worklogs",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("issue_id", Integer, ForeignKey("issues.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("author_id", String(128)),
    Column("author_name", String(255)),
    Column("started", UTCDateTime, nullable=False),
    Column("seconds", Integer, nullable=False),
    Column("updated", UTCDateTime, nullable=False),
)

fields = Table(
    "fields",
    metadata,
    Column("id", String(128), primary_key=True),
    Column("name", String(255), nullable=False),
    Column("custom", Boolean, nullable=False),
    Column("schema_type", String(64)),
    Column("role", String(64)),
)

sync_state = Table(
    "sync_state",
    metadata,
    Column("key", String(64), primary_key=True),
    Column("value", Text),
)

sync_runs = Table(
    "sync_runs",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("started", UTCDateTime, nullable=False),
    Column("finished", UTCDateTime),
    Column("mode", String(16), nullable=False),
    Column("status", String(16), nullable=False),
    Column("issues_new", Integer, nullable=False, default=0),
    Column("issues_changed", Integer, nullable=False, default=0),
    Column("issues_deleted", Integer, nullable=False, default=0),
    Column("requests", Integer, nullable=False, default=0),
    Column("retries", Integer, nullable=False, default=0),
    Column("throttled", Integer, nullable=False, default=0),
    Column("elapsed_s", Float),
    Column("error", Text),
)

#: One epic snapshot per report week: ``week`` is the ISO week of the report's as-of date
#: (``2026-W48``), ``as_of`` that date; ``run_id`` and ``taken_at`` say which sync run's data it holds
#: and when it was written. Re-running a week's report replaces that week's rows.
snapshots = Table(
    "snapshots",
    metadata,
    Column("week", String(8), nullable=False),
    Column("as_of", Date, nullable=False),
    Column("run_id", Integer, nullable=False),
    Column("taken_at", UTCDateTime, nullable=False),
    Column("issue_id", Integer, nullable=False),
    Column("key", String(64), nullable=False),
    Column("payload", _json(), nullable=False),
    UniqueConstraint("week", "issue_id", name="uq_snapshots_week_issue"),
)

# ---------------------------------------------------------------------------------------- lint runs
# One row per `rollup lint` run, its findings, and each team's score (for the trend and for the
# portfolio workbook's data-quality sheet). Written by rollup.lint.history.

lint_runs = Table(
    "lint_runs",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("started", UTCDateTime, nullable=False),
    Column("as_of", Date, nullable=False),
    Column("sync_run_id", Integer),
    Column("config_hash", String(64), nullable=False),
    Column("rules", _json(), nullable=False),
    Column("epics", Integer, nullable=False),
    Column("findings", Integer, nullable=False),
    Column("errors", Integer, nullable=False),
    Column("warnings", Integer, nullable=False),
    Column("infos", Integer, nullable=False),
)

lint_findings = Table(
    "lint_findings",
    metadata,
    Column("run_id", Integer, ForeignKey("lint_runs.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("key", String(64), nullable=False),
    Column("issue_id", Integer),
    Column("team_id", String(64)),
    Column("owner", String(255)),
    Column("rule", String(16), nullable=False),
    Column("severity", String(8), nullable=False),
    Column("message", Text, nullable=False),
    UniqueConstraint("run_id", "key", "rule", name="uq_lint_findings_run_key_rule"),
)

lint_team_scores = Table(
    "lint_team_scores",
    metadata,
    Column("run_id", Integer, ForeignKey("lint_runs.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("team_id", String(64), nullable=False),
    Column("team", String(255), nullable=False),
    Column("epics", Integer, nullable=False),
    Column("clean", Integer, nullable=False),
    Column("score", Float),
    Column("errors", Integer, nullable=False),
    Column("warnings", Integer, nullable=False),
    Column("infos", Integer, nullable=False),
    Column("stories_without_epic", Integer, nullable=False),
    UniqueConstraint("run_id", "team_id", name="uq_lint_team_scores_run_team"),
)

# ---------------------------------------------------------------------------------------- finance
# Closed months and their frozen detail rows. Written by rollup.finance.

finance_months = Table(
    "finance_months",
    metadata,
    Column("month", String(7), primary_key=True),
    Column("closed_at", UTCDateTime, nullable=False),
    Column("content_hash", String(64), nullable=False),
    Column("rows", Integer, nullable=False),
    Column("meta", _json(), nullable=False),
)

finance_frozen_rows = Table(
    "finance_frozen_rows",
    metadata,
    Column("month", String(7), ForeignKey("finance_months.month", ondelete="CASCADE"), nullable=False,
           index=True),
    Column("row_no", Integer, nullable=False),
    Column("effort_month", String(7), nullable=False, index=True),
    Column("payload", _json(), nullable=False),
    UniqueConstraint("month", "row_no", name="uq_finance_frozen_rows_month_row"),
)

finance_log = Table(
    "finance_log",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("at", UTCDateTime, nullable=False),
    Column("month", String(7), nullable=False, index=True),
    Column("action", String(16), nullable=False),
    Column("reason", Text),
    Column("content_hash", String(64)),
    Column("actor", String(255)),
)

# ---------------------------------------------------------------------------------------- job runs
# Scheduled and one-shot job runs (history, outputs, errors). Written by rollup.schedule.
# ``steps`` is a list of {name, status, started, seconds, summary, outputs, error};
# ``delivery`` maps a channel (email, confluence) to {status, attempts, error, detail}.

job_runs = Table(
    "job_runs",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("job", String(64), nullable=False, index=True),
    Column("trigger", String(16), nullable=False),
    Column("host", String(255), nullable=False),
    Column("pid", Integer, nullable=False),
    Column("started", UTCDateTime, nullable=False),
    Column("finished", UTCDateTime),
    Column("status", String(16), nullable=False),
    Column("steps", _json(), nullable=False),
    Column("outputs", _json(), nullable=False),
    Column("run_dir", Text),
    Column("error", Text),
    Column("delivery_status", String(16), nullable=False),
    Column("delivery", _json(), nullable=False),
)

# Who holds a job's lock on PostgreSQL (the advisory lock itself lives in the server session).
job_locks = Table(
    "job_locks",
    metadata,
    Column("job", String(64), primary_key=True),
    Column("host", String(255), nullable=False),
    Column("pid", Integer, nullable=False),
    Column("started", UTCDateTime, nullable=False),
)

meta = Table(
    "meta",
    metadata,
    Column("schema_version", Integer, nullable=False),
)

#: Cursor names kept in ``sync_state``.
STATE_ISSUES_HWM = "issues.updated_hwm"
STATE_WORKLOGS_SINCE = "worklogs.since"
STATE_DELETION_SWEEP_AT = "deletion_sweep.at"
STATE_SERVER_DEPLOYMENT = "server.deployment"
STATE_SERVER_BASE_URL = "server.base_url"


# ---------------------------------------------------------------------------------------- migrations


def _migrate_0_to_1(conn: Connection) -> None:
    """Version 0 (the pre-release layout) lacked ``issues.changelog_complete`` and ``snapshots``.

    The column is added as ``false`` so every issue's changelog is fetched again on the next
    sync; missing tables are created by the ``create_all`` that follows every upgrade.
    """
    columns = {c["name"] for c in inspect(conn).get_columns("issues")}
    if "changelog_complete" not in columns:
        conn.execute(text("ALTER TABLE issues ADD COLUMN changelog_complete BOOLEAN NOT NULL DEFAULT false"))


def _migrate_1_to_2(conn: Connection) -> None:
    """Version 2 keeps deleted issues (``issues.deleted_at``, soft delete) instead of removing them."""
    columns = {c["name"] for c in inspect(conn).get_columns("issues")}
    if "deleted_at" not in columns:
        kind = "TIMESTAMP WITH TIME ZONE" if conn.dialect.name == "postgresql" else "DATETIME"
        conn.execute(text(f"ALTER TABLE issues ADD COLUMN deleted_at {kind}"))
        conn.execute(text("CREATE INDEX IF NOT EXISTS ix_issues_deleted_at ON issues (deleted_at)"))


def _migrate_2_to_3(conn: Connection) -> None:
    """Version 3 keys snapshots by the report's as-of week instead of by sync run.

    Each old snapshot is dated by its ``taken_at`` (the only date it had); where several runs fall
    in one ISO week the latest one is kept, as a re-run of that week would have done.
    """
    tables = set(inspect(conn).get_table_names())
    if "snapshots" not in tables:
        return
    columns = {c["name"] for c in inspect(conn).get_columns("snapshots")}
    if "week" in columns:
        return
    old = conn.execute(text("SELECT run_id, taken_at, issue_id, key, payload FROM snapshots "
                            "ORDER BY run_id, issue_id")).mappings().all()
    conn.execute(text("DROP TABLE snapshots"))
    snapshots.create(conn)
    kept: dict[tuple[str, int], dict[str, Any]] = {}
    for row in old:
        taken = row["taken_at"]
        taken = taken if isinstance(taken, datetime) else datetime.fromisoformat(str(taken))
        taken = taken.replace(tzinfo=timezone.utc) if taken.tzinfo is None else taken.astimezone(timezone.utc)
        day = taken.date()
        year, week, _ = day.isocalendar()
        payload = row["payload"]
        kept[(f"{year}-W{week:02d}", int(row["issue_id"]))] = {
            "week": f"{year}-W{week:02d}", "as_of": day, "run_id": row["run_id"], "taken_at": taken,
            "issue_id": row["issue_id"], "key": row["key"],
            "payload": json.loads(payload) if isinstance(payload, str) else payload}
    if kept:
        conn.execute(snapshots.insert(), list(kept.values()))


#: ``MIGRATIONS[v]`` upgrades a database from version ``v`` to ``v + 1``, in one transaction.
MIGRATIONS: dict[int, Callable[[Connection], None]] = {0: _migrate_0_to_1, 1: _migrate_1_to_2,
                                                        2: _migrate_2_to_3}


def upgrade(
    conn: Connection,
    from_version: int,
    to_version: int = SCHEMA_VERSION,
    migrations: Mapping[int, Callable[[Connection], None]] | None = None,
) -> list[int]:
    """Run the migrations from ``from_version`` up to ``to_version`` in order; return the steps run."""
    migrations = MIGRATIONS if migrations is None else migrations
    steps = []
    for version in range(from_version, to_version):
        step = migrations.get(version)
        if step is None:
            raise StoreError(
                f"no migration from store schema version {version} to {version + 1}; "
                "this database cannot be upgraded by this release — sync into a new store"
            )
        step(conn)
        steps.append(version)
    return steps


# ---------------------------------------------------------------------------------------- helpers


#: A bare path (no ``scheme://``) is taken as a SQLite file when it ends in one of these.
SQLITE_SUFFIXES = (".db", ".sqlite", ".sqlite3")
#: The store locations accepted, for error messages.
ACCEPTED_URLS = ("sqlite:///PATH (e.g. sqlite:///.rollup/rollup.db; a bare path ending in .db, .sqlite or "
                 ".sqlite3 also works) or postgresql://USER:PASSWORD@HOST/DB")


def normalize_url(url: str) -> str:
    """Return a SQLAlchemy URL: ``postgresql://`` gets the psycopg 3 driver, a bare path to a SQLite file
    (ending in ``.db``, ``.sqlite`` or ``.sqlite3``, or naming a file that exists) is SQLite. Anything else is
    returned as it is, for :func:`checked_url` to refuse."""
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://"):]
    if url.startswith("postgresql://"):
        return "postgresql+psycopg://" + url[len("postgresql://"):]
    if "://" not in url:
        path = Path(url).expanduser()
        if path.suffix.lower() in SQLITE_SUFFIXES or path.is_file():
            return f"sqlite:///{path}"
    return url


def checked_url(raw: str, source: str = DATABASE_URL_ENV) -> str:
    """:func:`normalize_url`, refusing what the store cannot use with a :class:`StoreURLError` (exit code 2).

    ``source`` names where the value came from (``ROLLUP_DATABASE_URL`` or ``--database``). The
    message shows the value with any password masked and says what a valid one looks like.
    """
    url = normalize_url(raw.strip())
    shown = mask_url(raw)
    try:
        parsed = make_url(url)
    except (ArgumentError, ValueError):
        raise StoreURLError(f"{source}={shown!r} is not a database URL; give {ACCEPTED_URLS}") from None
    backend = parsed.get_backend_name()
    if backend not in ("sqlite", "postgresql"):
        raise StoreURLError(f"{source}={shown!r}: '{backend}' databases are not supported; give {ACCEPTED_URLS}")
    file = _sqlite_file(url)
    if file is not None and file.is_dir():
        raise StoreURLError(f"{source}={shown!r}: {file} is a folder, not a store file; name the file, "
                            "e.g. sqlite:///.rollup/rollup.db")
    return url


def _sqlite_file(url: str) -> Path | None:
    """The file of a SQLite URL, or None (in memory, or not SQLite)."""
    parsed = make_url(url)
    database = parsed.database or ""
    if parsed.get_backend_name() != "sqlite" or not database or database == ":memory:" or database.startswith("file:"):
        return None
    return Path(database)


def mask_url(url: str) -> str:
    """The URL with any password replaced by ``***``, safe to print and log (also when it does not parse)."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except (ArgumentError, ValueError):
        # Whatever sits between "//" and "@" may hold a password.
        return re.sub(r"//[^/@]*@", "//***@", url)


def _chunks(items: Sequence[Any], size: int = _CHUNK) -> Iterator[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start:start + size]


def _issue_values(row: IssueRow, changelog_complete: bool) -> dict[str, Any]:
    return {
        "id": row.id,
        "key": row.key,
        "project_key": row.project_key,
        "issue_type": row.issue_type,
        "hierarchy_level": row.hierarchy_level,
        "parent_key": row.parent_key,
        "epic_key": row.epic_key,
        "status": row.status,
        "status_category": row.status_category,
        "assignee_id": row.assignee_id,
        "assignee_name": row.assignee_name,
        "assignee_active": row.assignee_active,
        "created": row.created,
        "updated": row.updated,
        "resolved": row.resolved,
        "story_points": row.story_points,
        "start_date": row.start_date,
        "target_date": row.target_date,
        "due_date": row.due_date,
        "labels": list(row.labels),
        "components": list(row.components),
        "fix_versions": list(row.fix_versions),
        "team": row.team,
        "sprint": row.sprint,
        "summary": row.summary,
        "description": row.description,
        "description_length": len(row.description or ""),
        "custom": _jsonable(row.custom),
        "changelog_complete": bool(changelog_complete),
        "deleted_at": None,
    }


_PLAIN = (str, int, float, bool, type(None))


def _is_plain(value: Any) -> bool:
    """True when ``value`` is already JSON-ready (str/number/bool/None, lists and str-keyed dicts of them)."""
    if isinstance(value, _PLAIN):
        return True
    if isinstance(value, list):
        return all(_is_plain(v) for v in value)
    if isinstance(value, dict):
        return all(isinstance(k, str) and _is_plain(v) for k, v in value.items())
    return False


def _jsonable(value: Any) -> Any:
    """Custom field values may hold dates; JSON columns need plain values."""
    if _is_plain(value):  # the common case: skip the dumps/loads round trip (a bench hot spot)
        return value
    return json.loads(json.dumps(value, default=_json_default))


_WORKLOG_FIELDS = tuple(f.name for f in dataclasses.fields(WorklogRow))


def _worklog_values(row: WorklogRow) -> dict[str, Any]:
    # dataclasses.asdict deep-copies every value; the fields are flat, a shallow read is enough.
    return {name: getattr(row, name) for name in _WORKLOG_FIELDS}


def _json_default(value: Any) -> Any:
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return dataclasses.asdict(value)
    raise TypeError(f"cannot store {type(value).__name__} in a JSON column")


def _complete_for(changelog_complete: bool | Mapping[int, bool] | Collection[int], issue_id: int) -> bool:
    if isinstance(changelog_complete, bool):
        return changelog_complete
    if isinstance(changelog_complete, Mapping):
        return bool(changelog_complete.get(issue_id, False))
    return issue_id in changelog_complete


# SQLite fast path. SQLAlchemy Core's executemany runs a bind processor per value (datetime
# formatting, JSON serialisation), ~40 µs per issue row; on SQLite the rows are turned into tuples
# here, in exactly the text SQLAlchemy's SQLite types would store, and handed to the driver's
# executemany (tests/store checks both paths store the same values). PostgreSQL keeps the Core path.
_SQLITE_DATETIME = "%04d-%02d-%02d %02d:%02d:%02d.%06d"


def _sqlite_dt(value: datetime | None) -> str | None:
    """An aware datetime as SQLAlchemy's SQLite ``DATETIME`` stores it (UTC, no offset)."""
    if value is None:
        return None
    if value.tzinfo is None:
        raise _naive(value)
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


def _sqlite_rows(names: list[str], converters: list[Callable | None], rows: Iterable[Mapping[str, Any]]) -> list[tuple]:
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
_SQLITE_FAST = {"issues": _SQLITE_ISSUES, "transitions": _SQLITE_TRANSITIONS, "worklogs": _SQLITE_WORKLOGS}


# ---------------------------------------------------------------------------------------- the store


class Store:
    """Normalized Jira rows in a SQL database; open one with :meth:`Store.open`."""

    def __init__(self, engine: Engine, url: str):
        self.engine = engine
        self.url = url

    # -- opening -----------------------------------------------------------------------------

    @classmethod
    def open(cls, url: str | None = None, *, create: bool = True, must_exist: bool = False) -> Store:
        """Open (and create or upgrade) the store.

        ``url`` wins, then ``ROLLUP_DATABASE_URL``, then the SQLite file ``.rollup/rollup.db``
        under the working directory (its folder is created). ``postgresql://`` URLs use psycopg 3.
        A URL the store cannot use, or a file that is not a SQLite database, is a
        :class:`StoreURLError` (exit code 2). ``must_exist`` (commands that only read synced data)
        refuses a SQLite file that is not there with :class:`EmptyStoreError` instead of creating it.
        """
        source = "--database" if url else DATABASE_URL_ENV
        raw = url or os.environ.get(DATABASE_URL_ENV) or ""
        if not raw:
            if must_exist and not DEFAULT_PATH.is_file():
                raise EmptyStoreError(f"sqlite:///{DEFAULT_PATH.resolve()}")
            DEFAULT_PATH.parent.mkdir(parents=True, exist_ok=True)
            raw = f"sqlite:///{DEFAULT_PATH.resolve()}"
        sa_url = checked_url(raw, source)
        file = _sqlite_file(sa_url)
        if must_exist and file is not None and (not file.is_file() or file.stat().st_size == 0):
            raise EmptyStoreError(mask_url(sa_url))  # a zero-byte file would get a schema: leave it alone
        try:
            engine = _make_engine(sa_url)
        except (ArgumentError, ImportError) as exc:
            raise StoreURLError(f"cannot use database URL {mask_url(sa_url)}: {exc}; use sqlite:///PATH or "
                                "postgresql://USER:PASSWORD@HOST/DB (ROLLUP_DATABASE_URL)") from None
        store = cls(engine, sa_url)
        if create:
            store._prepare_schema()
        return store

    @property
    def location(self) -> str:
        """Where the store is, fit to print: the URL with any password masked."""
        return mask_url(self.url)

    @property
    def dialect(self) -> str:
        """``sqlite`` or ``postgresql``."""
        return self.engine.dialect.name

    def close(self) -> None:
        """Release the database connections."""
        self.engine.dispose()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def schema_version(self) -> int | None:
        """The version recorded in ``meta``, or None for an empty database."""
        with self.engine.connect() as conn:
            return _read_version(conn)

    def prepare(self) -> None:
        """Create or upgrade the schema (what :meth:`open` does unless ``create=False``)."""
        self._prepare_schema()

    def _prepare_schema(self) -> None:
        try:
            with self.engine.begin() as conn:
                version = _read_version(conn)
                if version is not None and version > SCHEMA_VERSION:
                    raise StoreError(
                        f"the store at {self.location} has schema version {version}, newer than this "
                        f"release understands ({SCHEMA_VERSION}); upgrade jira-portfolio-rollup or point "
                        f"{DATABASE_URL_ENV} at another database"
                    )
                if version is not None and version < SCHEMA_VERSION:
                    upgrade(conn, version, SCHEMA_VERSION)
                metadata.create_all(conn)
                if version != SCHEMA_VERSION:
                    conn.execute(delete(meta))
                    conn.execute(meta.insert().values(schema_version=SCHEMA_VERSION))
        except OperationalError as exc:
            raise StoreError(f"cannot open the store at {self.location}: {exc.orig}") from None
        except DatabaseError as exc:  # SQLite: "file is not a database" (a text file, an encrypted file, …)
            raise StoreURLError(f"{_sqlite_file(self.url) or self.location} is not a rollup store ({exc.orig}); "
                                f"point {DATABASE_URL_ENV} "
                                "(or --database) at the store, e.g. sqlite:///.rollup/rollup.db") from None

    # -- writing -----------------------------------------------------------------------------

    def _insert(self, table: Table):
        if self.dialect == "postgresql":
            return pg_dialect.insert(table)
        if self.dialect == "sqlite":
            return sqlite_dialect.insert(table)
        raise StoreError(f"unsupported database {self.dialect!r}: use SQLite or PostgreSQL")

    def _upsert(self, table: Table, index: Sequence[str]):
        stmt = self._insert(table)
        return stmt.on_conflict_do_update(
            index_elements=list(index),
            set_={c.name: stmt.excluded[c.name] for c in table.columns if c.name not in index},
        )

    def upsert_batch(
        self,
        issue_rows: Sequence[IssueRow],
        transitions_by_issue: Mapping[int, Sequence[TransitionRow]],
        changelog_complete: bool | Mapping[int, bool] | Collection[int] = True,
    ) -> None:
        """Write one fetched batch in ONE transaction.

        Issues are upserted by id, so a moved issue keeps its id and takes its new key. The
        transitions of every issue in the batch are replaced, so a re-read never doubles them.
        ``changelog_complete`` is a bool for the whole batch, a mapping id → bool, or a set of
        the ids whose changelog is complete.
        """
        if not issue_rows:
            return
        values = [_issue_values(r, _complete_for(changelog_complete, r.id)) for r in issue_rows]
        ids = [v["id"] for v in values]
        keys = [v["key"] for v in values]
        with self.engine.begin() as conn:
            # A key now held by another id means that issue moved; until it is re-read, it
            # parks under "<key>@<id>" so the unique key constraint holds.
            for chunk in _chunks(keys):
                stale = conn.execute(
                    select(issues.c.id, issues.c.key).where(issues.c.key.in_(chunk), issues.c.id.not_in(ids))
                ).all()
                for stale_id, stale_key in stale:
                    conn.execute(update(issues).where(issues.c.id == stale_id).values(key=f"{stale_key}@{stale_id}"))
            self._executemany(conn, issues, ["id"], values)
            for chunk in _chunks(ids):
                conn.execute(delete(transitions).where(transitions.c.issue_id.in_(chunk)))
            rows = {}
            for issue_id in ids:
                for t in transitions_by_issue.get(issue_id, ()):
                    rows[(t.issue_id, t.history_id, t.field, t.to_value)] = {
                        "issue_id": t.issue_id,
                        "history_id": t.history_id,
                        "field": t.field,
                        "at": t.at,
                        "from_value": t.from_value,
                        "to_value": t.to_value,
                        "to_category": t.to_category,
                        "author_id": t.author_id,
                    }
            if rows:
                self._executemany(conn, transitions, None, list(rows.values()))

    def upsert_worklogs(self, rows: Iterable[WorklogRow]) -> int:
        """Insert or update worklogs by id, in one transaction; return how many were written."""
        values = [_worklog_values(r) for r in rows]
        if not values:
            return 0
        with self.engine.begin() as conn:
            self._executemany(conn, worklogs, ["id"], values)
        return len(values)

    def _executemany(self, conn: Connection, table: Table, index: Sequence[str] | None,
                     values: list[dict[str, Any]]) -> None:
        """Insert (``index`` None) or upsert ``values``; on SQLite straight through the driver."""
        if self.dialect == "sqlite" and table.name in _SQLITE_FAST:
            sql, names, converters = _SQLITE_FAST[table.name]
            conn.exec_driver_sql(sql, _sqlite_rows(names, converters, values))
        elif index:
            conn.execute(self._upsert(table, index), values)
        else:
            conn.execute(table.insert(), values)

    def delete_worklogs(self, ids: Iterable[int]) -> int:
        """Delete worklogs by id; return how many existed."""
        ids = list(ids)
        removed = 0
        with self.engine.begin() as conn:
            for chunk in _chunks(ids):
                removed += conn.execute(delete(worklogs).where(worklogs.c.id.in_(chunk))).rowcount
        return removed

    def delete_issues(self, ids: Iterable[int], *, at: datetime | None = None) -> int:
        """Mark issues deleted (soft delete), in one transaction; return how many were live.

        The rows, their transitions and worklogs stay, with ``deleted_at`` set: every reader skips
        them, a wrong deletion is undone by the next sync that sees the issue (its upsert clears
        ``deleted_at``), and finance can see when an issue left the scope.
        """
        ids = list(ids)
        when = (at or datetime.now(timezone.utc)).astimezone(timezone.utc)
        removed = 0
        with self.engine.begin() as conn:
            for chunk in _chunks(ids):
                removed += conn.execute(
                    update(issues).where(issues.c.id.in_(chunk), issues.c.deleted_at.is_(None)).values(deleted_at=when)
                ).rowcount
        return removed

    #: Issues gone from Jira (or from the scope) are flagged with ``deleted_at``, not removed.
    mark_deleted = delete_issues

    def deleted_issue_rows(self) -> list[dict[str, Any]]:
        """Issues a deletion sweep marked deleted, with ``deleted_at``, ordered by id."""
        with self.engine.connect() as conn:
            query = select(issues).where(issues.c.deleted_at.is_not(None)).order_by(issues.c.id)
            return [dict(row) for row in conn.execute(query).mappings()]

    def field_roles(self) -> dict[str, str]:
        """The stored field catalogue's roles: role → its field ids, comma-separated and sorted."""
        with self.engine.connect() as conn:
            rows = conn.execute(select(fields.c.role, fields.c.id).where(fields.c.role.is_not(None))).all()
        return field_roles_of(rows)

    def replace_fields(self, rows: Iterable[FieldRow]) -> None:
        """Replace the field catalogue with ``rows`` (from field discovery)."""
        values = {r.id: dataclasses.asdict(r) for r in rows}
        with self.engine.begin() as conn:
            conn.execute(delete(fields))
            if values:
                conn.execute(fields.insert(), list(values.values()))

    def get_state(self, key: str, default: str | None = None) -> str | None:
        """A value from ``sync_state`` (cursors), or ``default``."""
        with self.engine.connect() as conn:
            value = conn.execute(select(sync_state.c.value).where(sync_state.c.key == key)).scalar_one_or_none()
        return default if value is None else value

    def set_state(self, key: str, value: str | None) -> None:
        """Set one ``sync_state`` value (None removes it)."""
        with self.engine.begin() as conn:
            if value is None:
                conn.execute(delete(sync_state).where(sync_state.c.key == key))
            else:
                conn.execute(self._upsert(sync_state, ["key"]), [{"key": key, "value": value}])

    def get_datetime(self, key: str) -> datetime | None:
        """A ``sync_state`` value parsed as an aware UTC datetime."""
        value = self.get_state(key)
        if not value:
            return None
        parsed = datetime.fromisoformat(value)
        return parsed.replace(tzinfo=timezone.utc) if parsed.tzinfo is None else parsed.astimezone(timezone.utc)

    def set_datetime(self, key: str, value: datetime) -> None:
        """Store an aware datetime in ``sync_state`` as UTC ISO 8601."""
        self.set_state(key, value.astimezone(timezone.utc).isoformat())

    def record_run(self, **values: Any) -> int:
        """Insert one ``sync_runs`` row (columns as keywords); return its id."""
        unknown = set(values) - set(sync_runs.c.keys())
        if unknown:
            raise StoreError(f"unknown sync_runs columns: {', '.join(sorted(unknown))}")
        with self.engine.begin() as conn:
            key = conn.execute(sync_runs.insert().values(**values)).inserted_primary_key
            assert key is not None, "an INSERT of one row returns its key"
            return key[0]

    def update_run(self, run_id: int, **values: Any) -> None:
        """Update one ``sync_runs`` row (columns as keywords), e.g. when a running sync ends."""
        unknown = set(values) - set(sync_runs.c.keys())
        if unknown:
            raise StoreError(f"unknown sync_runs columns: {', '.join(sorted(unknown))}")
        with self.engine.begin() as conn:
            conn.execute(update(sync_runs).where(sync_runs.c.id == run_id).values(**values))

    def abandon_running_runs(self, finished: datetime) -> int:
        """Mark sync runs still 'running' as 'abandoned' (their process died); return how many.

        Call it only while holding the sync lock: no other sync can be running then.
        """
        with self.engine.begin() as conn:
            return conn.execute(
                update(sync_runs).where(sync_runs.c.status == "running").values(
                    status="abandoned", finished=finished,
                    error="the sync stopped before it finished (the process was killed or crashed); "
                          "what it had committed is kept")
            ).rowcount

    def forget_synced_data(self) -> None:
        """Remove every synced row — issues, transitions, worklogs, fields, cursors — and the snapshots,
        in one transaction; the run histories (sync, lint, scheduled jobs) are kept.

        For the demo, which lives its sample organisation's weeks again from the first one.
        """
        with self.engine.begin() as conn:
            for table in (snapshots, worklogs, transitions, issues, fields, sync_state):
                conn.execute(delete(table))

    def replace_snapshot(self, as_of: date, run_id: int, taken_at: datetime,
                         rows: Iterable[tuple[int, str, dict]]) -> int:
        """Store (issue_id, key, payload) as the epic snapshot of ``as_of``'s ISO week; return how many.

        The week's earlier snapshot, if any, is replaced whole in the same transaction (an epic
        gone since is not left behind).
        """
        year, number, _ = as_of.isocalendar()
        week = f"{year}-W{number:02d}"
        values = [
            {"week": week, "as_of": as_of, "run_id": run_id, "taken_at": taken_at, "issue_id": i, "key": k,
             "payload": _jsonable(p)}
            for i, k, p in rows
        ]
        with self.engine.begin() as conn:
            conn.execute(delete(snapshots).where(snapshots.c.week == week))
            if values:
                conn.execute(self._insert(snapshots), values)
        return len(values)

    # -- reading -----------------------------------------------------------------------------

    def stored_updated(
        self, ids: Iterable[int] | None = None, *, require_complete_changelog: bool = False
    ) -> dict[int, datetime | None]:
        """``{issue id: updated}`` for the stored issues among ``ids`` (every stored issue when None).

        With ``require_complete_changelog`` an issue whose changelog was incomplete maps to
        None, so a sync comparing with the swept ``updated`` reads it again. Issues not stored
        are absent from the result.
        """
        query = select(issues.c.id, issues.c.updated, issues.c.changelog_complete, issues.c.deleted_at)
        if ids is None:
            queries = [query]
        else:
            queries = [query.where(issues.c.id.in_(chunk)) for chunk in _chunks(list(ids))]
        out: dict[int, datetime | None] = {}
        with self.engine.connect() as conn:
            for q in queries:
                result = conn.execution_options(stream_results=True, yield_per=5000).execute(q)
                for issue_id, updated, complete, deleted_at in result:
                    # A deleted issue seen again is read again (its upsert restores it).
                    stale = deleted_at is not None or (require_complete_changelog and not complete)
                    out[issue_id] = None if stale else updated
        return out

    def all_issue_ids(self) -> set[int]:
        """The ids of every stored issue not marked deleted."""
        with self.engine.connect() as conn:
            query = select(issues.c.id).where(issues.c.deleted_at.is_(None))
            result = conn.execution_options(stream_results=True, yield_per=10000).execute(query)
            return {row[0] for row in result}

    def counts(self) -> dict[str, int]:
        """Row counts per table; ``issues`` counts live issues, ``deleted_issues`` those marked deleted."""
        out = {}
        with self.engine.connect() as conn:
            for table in (issues, transitions, worklogs, fields, sync_runs, snapshots):
                out[table.name] = conn.execute(select(func.count()).select_from(table)).scalar_one()
            out["deleted_issues"] = conn.execute(
                select(func.count()).select_from(issues).where(issues.c.deleted_at.is_not(None))).scalar_one()
        out["issues"] -= out["deleted_issues"]
        return out

    def _rows(self, table: Table, order_by: Sequence[str], live: Column | None = None) -> list[dict[str, Any]]:
        with self.engine.connect() as conn:
            query = select(table).order_by(*(table.c[c] for c in order_by))
            if live is not None:
                query = query.where(live.in_(live_issue_ids()))
            return [dict(row) for row in conn.execute(query).mappings()]

    def issue_rows(self) -> list[dict[str, Any]]:
        """Every stored issue not marked deleted, as a dict of the ``issues`` columns, ordered by id."""
        with self.engine.connect() as conn:
            query = select(issues).where(issues.c.deleted_at.is_(None)).order_by(issues.c.id)
            return [dict(row) for row in conn.execute(query).mappings()]

    def transition_rows(self) -> list[dict[str, Any]]:
        """Every stored transition of a live issue, ordered by issue, time and history id."""
        return self._rows(transitions, ["issue_id", "at", "history_id", "field"], live=transitions.c.issue_id)

    def worklog_rows(self) -> list[dict[str, Any]]:
        """Every stored worklog of a live issue, ordered by id."""
        return self._rows(worklogs, ["id"], live=worklogs.c.issue_id)

    def field_rows(self) -> list[dict[str, Any]]:
        """The field catalogue, ordered by id."""
        return self._rows(fields, ["id"])

    def sync_run_rows(self) -> list[dict[str, Any]]:
        """Recorded sync runs, oldest first."""
        return self._rows(sync_runs, ["id"])

    def snapshot_rows(self) -> list[dict[str, Any]]:
        """Stored weekly epic snapshots, oldest week first."""
        return self._rows(snapshots, ["week", "issue_id"])

    def state(self) -> dict[str, str]:
        """All ``sync_state`` values."""
        return {r["key"]: r["value"] for r in self._rows(sync_state, ["key"])}



def field_roles_of(rows: Iterable[tuple[str | None, str]]) -> dict[str, str]:
    """(role, field id) pairs → role → its field ids, comma-separated and sorted (comparable across syncs)."""
    out: dict[str, list[str]] = {}
    for role, fid in rows:
        if role:
            out.setdefault(role, []).append(fid)
    return {role: ",".join(sorted(ids)) for role, ids in sorted(out.items())}


def live_issue_ids():
    """A subquery of the ids of issues not marked deleted (for readers of transitions and worklogs)."""
    return select(issues.c.id).where(issues.c.deleted_at.is_(None)).scalar_subquery()


def _read_version(conn: Connection) -> int | None:
    if not inspect(conn).has_table("meta"):
        return None
    return conn.execute(select(func.max(meta.c.schema_version))).scalar_one_or_none()


def _make_engine(url: str) -> Engine:
    sa_url = make_url(url)
    if sa_url.get_backend_name() == "sqlite":
        database = sa_url.database or ""
        if database and database != ":memory:" and not database.startswith("file:"):
            Path(database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url)

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn, _record):  # pragma: no cover - trivial
            cursor = dbapi_conn.cursor()
            cursor.execute("PRAGMA foreign_keys=ON")
            if database and database != ":memory:":
                cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.close()

        return engine
    return create_engine(url, pool_pre_ping=True)
