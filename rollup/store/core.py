"""The :class:`Store`: normalized Jira rows kept in SQLite (default) or PostgreSQL.

SQLAlchemy Core tables, dialect-specific upserts (``INSERT ... ON CONFLICT DO UPDATE``),
one transaction per written batch. Datetimes go in as UTC and come back as aware UTC on
both dialects. Opening the store creates a missing schema, upgrades an older one
(:mod:`rollup.store.migrations`) and refuses a newer one.

Subsystems that own tables of their own (lint history, the finance ledger, job runs and locks) reach
the database through :meth:`Store.connect` and :meth:`Store.begin`; nothing outside this package
touches the SQLAlchemy engine.
"""

from __future__ import annotations

import dataclasses
import json
import os
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import Column, Table, create_engine, delete, event, func, inspect, select, update
from sqlalchemy.dialects import postgresql as pg_dialect
from sqlalchemy.dialects import sqlite as sqlite_dialect
from sqlalchemy.engine import Connection, Engine, make_url
from sqlalchemy.exc import ArgumentError, DatabaseError, OperationalError, SQLAlchemyError

from connectors.jira.rows import FieldRow, IssueRow, TransitionRow, WorklogRow
from rollup.errors import EmptyStoreError, StoreError, StoreURLError

# Importing the lint, finance, job and feed schemas adds their tables to ``metadata``: opening a store creates them.
from rollup.store import schema_feed, schema_finance, schema_jobs, schema_lint, sqlite_fast  # noqa: F401
from rollup.store.columns import metadata
from rollup.store.migrations import SCHEMA_VERSION, upgrade
from rollup.store.schema_meta import meta, read_version
from rollup.store.schema_sync import (
    fields,
    issues,
    live_issue_ids,
    snapshots,
    sprints,
    sync_runs,
    sync_state,
    transitions,
    worklogs,
)
from rollup.store.sites import SiteIdentity
from rollup.store.urls import DATABASE_URL_ENV, DEFAULT_PATH, checked_url, mask_url, sqlite_file

T = TypeVar("T")

# Bound parameters per statement stay well under SQLite's limit (32766 in recent builds).
_CHUNK = 500


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
        "sprint_ids": [sp.id for sp in row.sprints],
        "summary": row.summary,
        "description": row.description,
        "description_length": len(row.description or ""),
        "custom": _jsonable(row.custom),
        "changelog_complete": bool(changelog_complete),
        "site": None,
        "deleted_at": None,
    }


def _site_values(values: dict[str, Any], site: SiteIdentity) -> dict[str, Any]:
    """An issue's stored values as ``site`` keeps them (its ids and keys told apart from other sites')."""
    values["site"] = site.name
    if site.slot:
        values["id"] = site.store_id(values["id"])
        for column in ("key", "parent_key", "epic_key"):
            values[column] = site.key(values[column])
        values["assignee_id"] = site.person(values["assignee_id"])
        values["sprint_ids"] = [site.store_id(i) for i in values["sprint_ids"]]
    return values


def _site_filter(site: SiteIdentity | None) -> Any:
    """The issues of ``site`` (the first site's include those stored before the store had several)."""
    if site is None or site.name is None:
        return None
    if site.slot == 0:
        return issues.c.site.is_(None) | (issues.c.site == site.name)
    return issues.c.site == site.name


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
        file = sqlite_file(sa_url)
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

    def after_fork(self) -> None:
        """In a forked process: let go of the parent's pooled connections without closing them (they are the
        parent's); the process opens a store of its own."""
        self.engine.dispose(close=False)

    def close(self) -> None:
        """Release the database connections."""
        self.engine.dispose()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- connections, for subsystems that own their tables ------------------------------------

    def connect(self, *, autocommit: bool = False) -> Connection:
        """A connection for reading, to use as ``with store.connect() as conn:``.

        ``autocommit`` gives one whose statements each commit at once (PostgreSQL's session-level
        advisory locks, held on one connection for a whole job run).
        """
        conn = self.engine.connect()
        return conn.execution_options(isolation_level="AUTOCOMMIT") if autocommit else conn

    @contextmanager
    def begin(self) -> Iterator[Connection]:
        """A connection in ONE transaction for the ``with`` block: committed at its end, rolled back on an error."""
        with self.engine.begin() as conn:
            yield conn

    def ensure_table(self, table: Table) -> None:
        """Create ``table`` unless it exists (also when another process creates it at the same moment)."""
        try:
            table.create(self.engine, checkfirst=True)
        except SQLAlchemyError:
            # Another process created it between the check and the create: it exists now.
            if not inspect(self.engine).has_table(table.name):
                raise

    def bind(self, build: Callable[[Engine], T]) -> T:
        """``build(engine)``: for a library that keeps its own table and connections on this database.

        Only APScheduler's job store needs it (:func:`rollup.schedule.scheduler.build_scheduler`);
        rollup's own subsystems use :meth:`connect` and :meth:`begin`.
        """
        return build(self.engine)

    def schema_version(self) -> int | None:
        """The version recorded in ``meta``, or None for an empty database."""
        with self.engine.connect() as conn:
            return read_version(conn)

    def prepare(self) -> None:
        """Create or upgrade the schema (what :meth:`open` does unless ``create=False``)."""
        self._prepare_schema()

    def _prepare_schema(self) -> None:
        try:
            with self.engine.begin() as conn:
                version = read_version(conn)
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
            raise StoreURLError(f"{sqlite_file(self.url) or self.location} is not a rollup store ({exc.orig}); "
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
        *,
        site: SiteIdentity | None = None,
    ) -> None:
        """Write one fetched batch in ONE transaction.

        Issues are upserted by id, so a moved issue keeps its id and takes its new key. The
        transitions of every issue in the batch are replaced, so a re-read never doubles them.
        ``changelog_complete`` is a bool for the whole batch, a mapping id → bool, or a set of
        the ids whose changelog is complete. ``site`` (a store of several sites) says whose rows these
        are: their ids and keys are stored as that site's (:mod:`rollup.store.sites`).
        """
        if not issue_rows:
            return
        values = [_issue_values(r, _complete_for(changelog_complete, r.id)) for r in issue_rows]
        offset = 0
        if site is not None:
            values = [_site_values(v, site) for v in values]
            offset = site.offset
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
                for t in transitions_by_issue.get(issue_id - offset, ()):
                    from_value, to_value = t.from_value, t.to_value
                    if offset:
                        from_value, to_value = site.value(t.field, from_value), site.value(t.field, to_value)  # type: ignore[union-attr]
                    rows[(t.issue_id + offset, t.history_id, t.field, to_value)] = {
                        "issue_id": t.issue_id + offset,
                        "history_id": t.history_id,
                        "field": t.field,
                        "at": t.at,
                        "from_value": from_value,
                        "to_value": to_value,
                        "to_category": t.to_category,
                        "author_id": site.person(t.author_id) if offset else t.author_id,  # type: ignore[union-attr]
                        "author_name": t.author_name,
                    }
            if rows:
                self._executemany(conn, transitions, None, list(rows.values()))
            # Each sprint as the batch last saw it (every issue names its sprints in full).
            seen = {sp.id: sp for r in issue_rows for sp in r.sprints}
            if seen:
                self._executemany(conn, sprints, ["id"], [
                    {"id": sp.id + offset, "name": sp.name, "state": sp.state, "board_id": sp.board_id,
                     "start_at": sp.start, "end_at": sp.end, "complete_at": sp.complete} for sp in seen.values()])

    def upsert_worklogs(self, rows: Iterable[WorklogRow], *, site: SiteIdentity | None = None) -> int:
        """Insert or update worklogs by id, in one transaction; return how many were written."""
        values = [_worklog_values(r) for r in rows]
        if site is not None and site.slot:
            for v in values:
                v["id"], v["issue_id"] = site.store_id(v["id"]), site.store_id(v["issue_id"])
                v["author_id"] = site.person(v["author_id"])
        if not values:
            return 0
        with self.engine.begin() as conn:
            self._executemany(conn, worklogs, ["id"], values)
        return len(values)

    def _executemany(self, conn: Connection, table: Table, index: Sequence[str] | None,
                     values: list[dict[str, Any]]) -> None:
        """Insert (``index`` None) or upsert ``values``; on SQLite straight through the driver."""
        if self.dialect == "sqlite" and table.name in sqlite_fast.FAST_STATEMENTS:
            sql, names, converters = sqlite_fast.FAST_STATEMENTS[table.name]
            conn.exec_driver_sql(sql, sqlite_fast.sqlite_rows(names, converters, values))
        elif index:
            conn.execute(self._upsert(table, index), values)
        else:
            conn.execute(table.insert(), values)

    def delete_worklogs(self, ids: Iterable[int], *, site: SiteIdentity | None = None) -> int:
        """Delete worklogs by id (Jira's ids of ``site``, when given); return how many existed."""
        ids = [site.store_id(i) for i in ids] if site is not None else list(ids)
        removed = 0
        with self.engine.begin() as conn:
            for chunk in _chunks(ids):
                removed += conn.execute(delete(worklogs).where(worklogs.c.id.in_(chunk))).rowcount
        return removed

    def delete_issues(self, ids: Iterable[int], *, at: datetime | None = None,
                      site: SiteIdentity | None = None) -> int:
        """Mark issues deleted (soft delete), in one transaction; return how many were live.

        The rows, their transitions and worklogs stay, with ``deleted_at`` set: every reader skips
        them, a wrong deletion is undone by the next sync that sees the issue (its upsert clears
        ``deleted_at``), and finance can see when an issue left the scope.
        """
        ids = [site.store_id(i) for i in ids] if site is not None else list(ids)
        when = (at or datetime.now(timezone.utc)).astimezone(timezone.utc)
        removed = 0
        with self.engine.begin() as conn:
            for chunk in _chunks(ids):
                removed += conn.execute(
                    update(issues).where(issues.c.id.in_(chunk), issues.c.deleted_at.is_(None)).values(deleted_at=when)
                ).rowcount
        return removed

    def adopt_unsited_issues(self, site: str) -> int:
        """Name ``site`` as the site of every issue stored without one (a store of one site that gains more)."""
        with self.engine.begin() as conn:
            return conn.execute(update(issues).where(issues.c.site.is_(None)).values(site=site)).rowcount

    #: Issues gone from Jira (or from the scope) are flagged with ``deleted_at``, not removed.
    mark_deleted = delete_issues

    def deleted_issue_rows(self) -> list[dict[str, Any]]:
        """Issues a deletion sweep marked deleted, with ``deleted_at``, ordered by id."""
        with self.engine.connect() as conn:
            query = select(issues).where(issues.c.deleted_at.is_not(None)).order_by(issues.c.id)
            return [dict(row) for row in conn.execute(query).mappings()]

    def field_roles(self, *, site: SiteIdentity | None = None) -> dict[str, str]:
        """The stored field catalogue's roles: role → its field ids, comma-separated and sorted.

        With ``site``, that site's fields only, by the site's own ids.
        """
        query = select(fields.c.role, fields.c.id).where(fields.c.role.is_not(None))
        if site is not None and site.name is not None:
            query = query.where(fields.c.site == site.name if site.slot else fields.c.site.is_(None))
        with self.engine.connect() as conn:
            rows: list[tuple[Any, Any]] = [tuple(row) for row in conn.execute(query).all()]
        if site is not None and site.prefix:
            rows = [(role, field_id[len(site.prefix):]) for role, field_id in rows]
        return field_roles_of(rows)

    def replace_fields(self, rows: Iterable[FieldRow], *, site: SiteIdentity | None = None) -> None:
        """Replace the field catalogue (``site``: that site's part of it) with ``rows`` (from field discovery)."""
        values = {r.id: dataclasses.asdict(r) for r in rows}
        where = None
        if site is not None and site.name is not None and site.slot:
            values = {site.field_id(k): {**v, "id": site.field_id(k), "site": site.name} for k, v in values.items()}
            where = fields.c.site == site.name
        elif site is not None and site.name is not None:
            where = fields.c.site.is_(None)  # the first site's fields keep their ids and no site
        with self.engine.begin() as conn:
            conn.execute(delete(fields) if where is None else delete(fields).where(where))
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

        For the demo, which lives its sample organisation's weeks again from the first one. The BI feed's
        tables (``feed_*``, built from those rows) are emptied with them; their views stay.
        """
        with self.engine.begin() as conn:
            for table in (snapshots, worklogs, transitions, issues, fields, sync_state,
                          *schema_feed.FEED_TABLES.values()):
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
        self, ids: Iterable[int] | None = None, *, require_complete_changelog: bool = False,
        site: SiteIdentity | None = None,
    ) -> dict[int, datetime | None]:
        """``{issue id: updated}`` for the stored issues among ``ids`` (every stored issue when None).

        With ``require_complete_changelog`` an issue whose changelog was incomplete maps to
        None, so a sync comparing with the swept ``updated`` reads it again. Issues not stored
        are absent from the result. With ``site``, ids are that site's own, in and out.
        """
        query = select(issues.c.id, issues.c.updated, issues.c.changelog_complete, issues.c.deleted_at)
        offset = site.offset if site is not None else 0
        if ids is None:
            where = _site_filter(site)
            queries = [query if where is None else query.where(where)]
        else:
            wanted = [i + offset for i in ids]
            queries = [query.where(issues.c.id.in_(chunk)) for chunk in _chunks(wanted)]
        out: dict[int, datetime | None] = {}
        with self.engine.connect() as conn:
            for q in queries:
                result = conn.execution_options(stream_results=True, yield_per=5000).execute(q)
                for issue_id, updated, complete, deleted_at in result:
                    # A deleted issue seen again is read again (its upsert restores it).
                    stale = deleted_at is not None or (require_complete_changelog and not complete)
                    out[issue_id - offset] = None if stale else updated
        return out

    def all_issue_ids(self, *, site: SiteIdentity | None = None) -> set[int]:
        """The ids of every stored issue not marked deleted (``site``: that site's, by its own ids)."""
        with self.engine.connect() as conn:
            query = select(issues.c.id).where(issues.c.deleted_at.is_(None))
            where = _site_filter(site)
            if where is not None:
                query = query.where(where)
            result = conn.execution_options(stream_results=True, yield_per=10000).execute(query)
            offset = site.offset if site is not None else 0
            return {row[0] - offset for row in result}

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

    def sprint_rows(self) -> list[dict[str, Any]]:
        """Every stored sprint, ordered by id."""
        return self._rows(sprints, ["id"])

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
