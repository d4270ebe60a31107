"""Scheduled job tables, owned by :mod:`rollup.schedule`.

``job_runs`` (scheduled and one-shot runs: history, outputs, errors; written by
:mod:`rollup.schedule.history`): ``steps`` is a list of {name, status, started, seconds, summary, outputs,
error}; ``delivery`` maps a channel (email, confluence) to {status, attempts, error, detail}.
``job_locks`` is written by :mod:`rollup.schedule.locks`. APScheduler's own job store table is made
and kept by APScheduler (reached through :meth:`rollup.store.core.Store.bind`), not here.
"""

from __future__ import annotations

from sqlalchemy import Column, Integer, String, Table, Text

from rollup.store.columns import UTCDateTime, json_type, metadata

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
    Column("steps", json_type(), nullable=False),
    Column("outputs", json_type(), nullable=False),
    Column("run_dir", Text),
    Column("error", Text),
    Column("delivery_status", String(16), nullable=False),
    Column("delivery", json_type(), nullable=False),
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
