"""The synced data's tables, owned by the store itself (:class:`~rollup.store.core.Store` reads and writes them).

``issues`` (soft-deleted with ``deleted_at``), ``transitions``, ``worklogs``, ``fields`` (the field
catalogue), ``sync_state`` (cursors, named by the ``STATE_*`` constants), ``sync_runs`` and the weekly
epic ``snapshots``. Written by :mod:`rollup.jobs.sync` and the portfolio report through ``Store`` methods.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Date,
    Float,
    ForeignKey,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
    select,
)

from rollup.store.columns import UTCDateTime, json_type, metadata

#: Issue, worklog and sprint ids are Jira's own for the first site; a store of several sites adds
#: ``slot × SITE_ID_SPAN`` for each further site (:mod:`rollup.store.sites`), so they are 64-bit.
issues = Table(
    "issues",
    metadata,
    Column("id", BigInteger, primary_key=True, autoincrement=False),
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
    Column("labels", json_type(), nullable=False),
    Column("components", json_type(), nullable=False),
    Column("fix_versions", json_type(), nullable=False),
    Column("team", String(255)),
    Column("sprint", String(255)),
    #: Ids of every sprint the issue has been in (its Sprint field; ``sprints`` holds each one).
    Column("sprint_ids", json_type()),
    Column("summary", Text, nullable=False),
    Column("description", Text, nullable=False),
    Column("description_length", Integer, nullable=False),
    Column("custom", json_type(), nullable=False),
    Column("changelog_complete", Boolean, nullable=False, default=False),
    #: The Jira site the issue was read from (a name in ``sites:``); None in a store of one site.
    Column("site", String(64), index=True),
    #: When a complete deletion sweep found the issue gone from Jira or from the scope (soft delete):
    #: the row stays, every reader skips it, and a later sync that sees it again brings it back.
    Column("deleted_at", UTCDateTime, index=True),
)

sprints = Table(
    "sprints",
    metadata,
    Column("id", BigInteger, primary_key=True, autoincrement=False),
    Column("name", String(255), nullable=False),
    Column("state", String(16)),
    Column("board_id", Integer),
    Column("start_at", UTCDateTime),
    Column("end_at", UTCDateTime),
    Column("complete_at", UTCDateTime),
)

transitions = Table(
    "transitions",
    metadata,
    Column("issue_id", BigInteger, ForeignKey("issues.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("history_id", Integer, nullable=False),
    Column("field", String(32), nullable=False),
    Column("at", UTCDateTime, nullable=False),
    Column("from_value", String(255)),
    Column("to_value", String(255)),
    Column("to_category", String(32)),
    Column("author_id", String(128)),
    Column("author_name", String(255)),
    UniqueConstraint("issue_id", "history_id", "field", "to_value", name="uq_transitions_change"),
)

worklogs = Table(
    "worklogs",
    metadata,
    Column("id", BigInteger, primary_key=True, autoincrement=False),
    Column("issue_id", BigInteger, ForeignKey("issues.id", ondelete="CASCADE"), nullable=False, index=True),
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
    #: The site the field belongs to (its id is then ``<site>:<field id>``); None for the first site.
    Column("site", String(64)),
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
    #: The site a sync of several sites read (one row per site); None for a store of one site.
    Column("site", String(64)),
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
    Column("issue_id", BigInteger, nullable=False),
    Column("key", String(64), nullable=False),
    Column("payload", json_type(), nullable=False),
    UniqueConstraint("week", "issue_id", name="uq_snapshots_week_issue"),
)

#: Cursor names kept in ``sync_state``.
STATE_ISSUES_HWM = "issues.updated_hwm"
STATE_WORKLOGS_SINCE = "worklogs.since"
STATE_DELETION_SWEEP_AT = "deletion_sweep.at"
STATE_SERVER_DEPLOYMENT = "server.deployment"
STATE_SERVER_BASE_URL = "server.base_url"


def live_issue_ids():
    """A subquery of the ids of issues not marked deleted (for readers of transitions and worklogs)."""
    return select(issues.c.id).where(issues.c.deleted_at.is_(None)).scalar_subquery()
