"""Finance tables, owned by :mod:`rollup.finance.ledger`: closed months, their frozen detail rows, the log."""

from __future__ import annotations

from sqlalchemy import Column, ForeignKey, Integer, String, Table, Text, UniqueConstraint

from rollup.store.columns import UTCDateTime, json_type, metadata

finance_months = Table(
    "finance_months",
    metadata,
    Column("month", String(7), primary_key=True),
    Column("closed_at", UTCDateTime, nullable=False),
    Column("content_hash", String(64), nullable=False),
    Column("rows", Integer, nullable=False),
    Column("meta", json_type(), nullable=False),
)

finance_frozen_rows = Table(
    "finance_frozen_rows",
    metadata,
    Column("month", String(7), ForeignKey("finance_months.month", ondelete="CASCADE"), nullable=False,
           index=True),
    Column("row_no", Integer, nullable=False),
    Column("effort_month", String(7), nullable=False, index=True),
    Column("payload", json_type(), nullable=False),
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
