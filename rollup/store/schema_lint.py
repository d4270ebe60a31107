"""Lint run tables, owned by :mod:`rollup.lint.history` (which holds their queries).

One row per ``rollup lint`` run, its findings, and each team's score (for the trend and for the
portfolio workbook's data-quality sheet).
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, Date, Float, ForeignKey, Integer, String, Table, Text, UniqueConstraint

from rollup.store.columns import UTCDateTime, json_type, metadata

lint_runs = Table(
    "lint_runs",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("started", UTCDateTime, nullable=False),
    Column("as_of", Date, nullable=False),
    Column("sync_run_id", Integer),
    Column("config_hash", String(64), nullable=False),
    Column("rules", json_type(), nullable=False),
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
    Column("issue_id", BigInteger),
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
