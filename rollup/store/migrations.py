"""Schema versions and the ordered migrations between them.

A missing schema is created; an older one is upgraded by the functions in :data:`MIGRATIONS`, run in
order in the transaction that opens the store (``create_all`` then adds any missing table); a newer
one is refused.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from datetime import datetime, timezone
from typing import Any

from sqlalchemy import inspect, text
from sqlalchemy.engine import Connection

from rollup.errors import StoreError
from rollup.store.schema_sync import STATE_ISSUES_HWM, snapshots

#: The schema version this code writes. Bump it and add a function to MIGRATIONS together.
SCHEMA_VERSION = 6


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


def _migrate_3_to_4(conn: Connection) -> None:
    """Version 4 keeps more of the changelog: a child's epic or parent, story points and target dates
    (the scope ledger), and each change's author name (``transitions.author_name``); and sprints
    (``issues.sprint_ids``, the ``sprints`` table, created by the ``create_all`` after the upgrade).

    Every issue's changelog is marked incomplete and the issues' high-water mark is dropped, so the next
    sync is a full one that reads each changelog again (an incremental one would re-read only the issues
    changed since), and the ledger covers the issues' whole history, not only what changes after the upgrade.
    """
    tables = set(inspect(conn).get_table_names())
    if "transitions" in tables:
        columns = {c["name"] for c in inspect(conn).get_columns("transitions")}
        if "author_name" not in columns:
            conn.execute(text("ALTER TABLE transitions ADD COLUMN author_name VARCHAR(255)"))
    if "issues" in tables:
        columns = {c["name"] for c in inspect(conn).get_columns("issues")}
        if "sprint_ids" not in columns:
            kind = "JSONB" if conn.dialect.name == "postgresql" else "JSON"
            conn.execute(text(f"ALTER TABLE issues ADD COLUMN sprint_ids {kind}"))
    if "issues" in tables:
        conn.execute(text("UPDATE issues SET changelog_complete = false"))
    if "sync_state" in tables:
        conn.execute(text("DELETE FROM sync_state WHERE key = :key"), {"key": STATE_ISSUES_HWM})


#: Columns that hold issue, worklog or sprint ids: 64-bit from version 5 (ids of a store of several sites).
_ID_COLUMNS = (("issues", "id"), ("transitions", "issue_id"), ("worklogs", "id"), ("worklogs", "issue_id"),
               ("sprints", "id"), ("snapshots", "issue_id"), ("lint_findings", "issue_id"))


def _migrate_4_to_5(conn: Connection) -> None:
    """Version 5 can hold several Jira sites: a ``site`` column in issues, fields and sync_runs (None for
    the one site of an older store, which stays the first site), and 64-bit ids.

    SQLite's INTEGER already holds 64 bits; on PostgreSQL every id column is widened to BIGINT.
    Nothing is re-read: the stored issues are exactly what they were.
    """
    tables = set(inspect(conn).get_table_names())
    for table in ("issues", "fields", "sync_runs"):
        if table in tables and "site" not in {c["name"] for c in inspect(conn).get_columns(table)}:
            conn.execute(text(f"ALTER TABLE {table} ADD COLUMN site VARCHAR(64)"))
    if "issues" in tables:
        conn.execute(text("CREATE INDEX IF NOT EXISTS ix_issues_site ON issues (site)"))
    if conn.dialect.name == "postgresql":
        for table, column in _ID_COLUMNS:
            if table in tables:
                conn.execute(text(f"ALTER TABLE {table} ALTER COLUMN {column} TYPE BIGINT"))


def _migrate_5_to_6(conn: Connection) -> None:
    """Version 6 adds the BI feed: a ``feed_<table>`` per table of ``rollup export`` and the stable
    ``rollup_<table>`` view over each (:mod:`rollup.store.schema_feed`).

    The tables are created empty, each with its view (created with the table); the next ``rollup export``
    fills them. Nothing stored before is changed.
    """
    from rollup.store.schema_feed import FEED_TABLES

    for table in FEED_TABLES.values():
        table.create(conn, checkfirst=True)


#: ``MIGRATIONS[v]`` upgrades a database from version ``v`` to ``v + 1``, in one transaction.
MIGRATIONS: dict[int, Callable[[Connection], None]] = {0: _migrate_0_to_1, 1: _migrate_1_to_2,
                                                        2: _migrate_2_to_3, 3: _migrate_3_to_4,
                                                        4: _migrate_4_to_5, 5: _migrate_5_to_6}


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

