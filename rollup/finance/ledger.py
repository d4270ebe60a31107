"""Closed months in the store: frozen detail rows, their content hash, and the close/reopen log.

``finance_months`` holds one row per closed month (when, the content hash of its detail, the
policy and input hashes in force); ``finance_frozen_rows`` the detail rows exactly as exported;
``finance_log`` every close and reopen with its reason and who ran it. Rows are read back with
their hash checked, so a closed month re-exports byte-identical figures or not at all.
"""

from __future__ import annotations

import getpass
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

import pandas as pd
from sqlalchemy import delete, select

from rollup.errors import RollupError
from rollup.finance.allocation import content_hash
from rollup.store import Store
from rollup.store.schema_finance import finance_frozen_rows, finance_log, finance_months

_CHUNK = 2000


@dataclass(frozen=True)
class ClosedMonth:
    """One closed month as recorded."""

    month: str
    closed_at: datetime
    content_hash: str
    rows: int
    meta: dict[str, Any]


def actor() -> str:
    """Who runs this process (recorded with every close and reopen)."""
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


class Ledger:
    """Closed months of one store."""

    def __init__(self, store: Store):
        self.store = store

    def closed(self) -> dict[str, ClosedMonth]:
        """Closed months by label, oldest first."""
        with self.store.connect() as conn:
            rows = conn.execute(select(finance_months).order_by(finance_months.c.month)).mappings().all()
        return {r["month"]: ClosedMonth(r["month"], r["closed_at"], r["content_hash"], r["rows"], dict(r["meta"]))
                for r in rows}

    def frozen(self, months: list[str] | None = None, *, effort_months: list[str] | None = None) -> pd.DataFrame:
        """Frozen detail rows of closed ``months`` (or whose effort month is in ``effort_months``)."""
        query = select(finance_frozen_rows.c.month, finance_frozen_rows.c.payload).order_by(
            finance_frozen_rows.c.month, finance_frozen_rows.c.row_no)
        if months is not None:
            query = query.where(finance_frozen_rows.c.month.in_(months))
        if effort_months is not None:
            query = query.where(finance_frozen_rows.c.effort_month.in_(effort_months))
        with self.store.connect() as conn:
            payloads = [r[1] for r in conn.execute(query)]
        return pd.DataFrame(payloads)

    def month_detail(self, month: str) -> pd.DataFrame:
        """The frozen detail of one closed month, its hash verified."""
        record = self.closed()[month]
        columns = record.meta["columns"]
        bases = record.meta["bases"]
        detail = self.frozen([month]).reindex(columns=columns)
        if len(detail) != record.rows or content_hash(detail, bases) != record.content_hash:
            raise RollupError(f"the frozen rows of closed month {month} do not match their content hash "
                              f"{record.content_hash[:12]}…; the store was altered outside rollup — restore it "
                              "from a backup, or reopen the month and close it again")
        return detail

    def close(self, month: str, detail: pd.DataFrame, digest: str, meta: dict[str, Any], *,
              reason: str | None = None, now: datetime | None = None) -> None:
        """Store the month's detail rows and hash, and log the close: one transaction."""
        now = now or datetime.now(timezone.utc)
        records = detail.to_dict("records")
        values = [{"month": month, "row_no": i, "effort_month": r["effort_month"], "payload": r}
                  for i, r in enumerate(records)]
        with self.store.begin() as conn:
            conn.execute(finance_months.insert().values(month=month, closed_at=now, content_hash=digest,
                                                        rows=len(records), meta=meta))
            for start in range(0, len(values), _CHUNK):
                conn.execute(finance_frozen_rows.insert(), values[start:start + _CHUNK])
            conn.execute(finance_log.insert().values(at=now, month=month, action="close", reason=reason,
                                                     content_hash=digest, actor=actor()))

    def reopen(self, month: str, reason: str, *, now: datetime | None = None) -> str:
        """Drop the month's frozen rows and log the reopen with its reason; return the old hash."""
        now = now or datetime.now(timezone.utc)
        record = self.closed()[month]
        with self.store.begin() as conn:
            conn.execute(delete(finance_frozen_rows).where(finance_frozen_rows.c.month == month))
            conn.execute(delete(finance_months).where(finance_months.c.month == month))
            conn.execute(finance_log.insert().values(at=now, month=month, action="reopen", reason=reason,
                                                     content_hash=record.content_hash, actor=actor()))
        return record.content_hash

    def log(self) -> list[dict[str, Any]]:
        """Every close and reopen, oldest first."""
        with self.store.connect() as conn:
            return [dict(r) for r in conn.execute(select(finance_log).order_by(finance_log.c.id)).mappings()]

