"""Run history: one ``job_runs`` row per run of a job, written as the run goes.

A run starts as ``running`` and ends as one of:

* ``ok`` — every step ran (or was skipped as planned);
* ``partial`` — a step with ``on_failure: continue`` failed, the others ran;
* ``failed`` — a step with ``on_failure: stop`` failed (the rest were skipped) or the run could not start;
* ``interrupted`` — SIGTERM or Ctrl-C: the current step was abandoned, the rest skipped;
* ``locked`` — another process held the job's lock; nothing ran (``error`` names the holder);
* ``missed`` — the scheduler was down longer than ``misfire_grace`` past the fire time;
* ``died`` — the process ended without finishing the row (found and marked by the job's next run).

``delivery_status`` is ``none`` (nothing to deliver), ``sent`` (by SMTP, and to Confluence when
configured), ``outbox`` (the email was written to the job's outbox folder, not sent), ``failed`` or
``skipped`` (the run did not produce a complete result), with the per-channel detail in ``delivery``.
"""

from __future__ import annotations

import os
import socket
from datetime import datetime, timezone
from typing import Any

from sqlalchemy import select, update

from rollup.store import Store
from rollup.store.schema_jobs import job_runs


def _now() -> datetime:
    return datetime.now(timezone.utc)


def start_run(store: Store, job: str, trigger: str, *, started: datetime | None = None) -> int:
    """Insert a ``running`` row for this process; return its id."""
    values = {"job": job, "trigger": trigger, "host": socket.gethostname(), "pid": os.getpid(),
              "started": started or _now(), "status": "running", "steps": [], "outputs": [],
              "delivery_status": "none", "delivery": {}}
    with store.begin() as conn:
        key = conn.execute(job_runs.insert().values(**values)).inserted_primary_key
        assert key is not None, "an INSERT of one row returns its key"
        return int(key[0])


def update_run(store: Store, run_id: int, **values: Any) -> None:
    """Set columns of one run (``steps``, ``outputs``, ``status``, ``error``, ``delivery``…)."""
    with store.begin() as conn:
        conn.execute(update(job_runs).where(job_runs.c.id == run_id).values(**values))


def finish_run(store: Store, run_id: int, status: str, **values: Any) -> None:
    """Close a run with its final status."""
    update_run(store, run_id, status=status, finished=_now(), **values)


def record_run(store: Store, job: str, trigger: str, status: str, *, error: str | None = None,
               started: datetime | None = None) -> int:
    """One finished row for a run that did nothing (``locked``, ``missed``, a failed start)."""
    run_id = start_run(store, job, trigger, started=started)
    finish_run(store, run_id, status, error=error)
    return run_id


def mark_died(store: Store, job: str, keep: int) -> list[int]:
    """Mark the job's other ``running`` rows as ``died``; call only while holding the job's lock."""
    # One statement, its condition checked on each row as it is updated: a run that another process
    # finished in the meantime (a "locked" run closing right after its start) is left as it finished.
    running = (job_runs.c.job == job) & (job_runs.c.status == "running") & (job_runs.c.id != keep)
    with store.begin() as conn:
        marked = conn.execute(update(job_runs).where(running).values(
            status="died", finished=_now(),
            error="the process ended before the run finished (killed, or the machine stopped)",
        ).returning(job_runs.c.id))
        return sorted(int(r[0]) for r in marked)


def list_runs(store: Store, *, job: str | None = None, limit: int | None = 20) -> list[dict[str, Any]]:
    """Runs, newest first, as dicts of the ``job_runs`` columns."""
    query = select(job_runs).order_by(job_runs.c.id.desc())
    if job:
        query = query.where(job_runs.c.job == job)
    if limit:
        query = query.limit(limit)
    with store.connect() as conn:
        return [dict(row) for row in conn.execute(query).mappings()]


def scheduled_run_since(store: Store, job: str, since: datetime) -> dict[str, Any] | None:
    """The first scheduled run of ``job`` started at or after ``since`` that got to run, or None.

    Runs that did nothing (``locked``, ``missed``, ``skipped``) do not count.
    """
    query = (select(job_runs)
             .where(job_runs.c.job == job, job_runs.c.trigger == "schedule", job_runs.c.started >= since,
                    job_runs.c.status.notin_(("locked", "missed", "skipped")))
             .order_by(job_runs.c.id).limit(1))
    with store.connect() as conn:
        row = conn.execute(query).mappings().first()
    return dict(row) if row else None


def get_run(store: Store, run_id: int) -> dict[str, Any] | None:
    """One run by id."""
    with store.connect() as conn:
        row = conn.execute(select(job_runs).where(job_runs.c.id == run_id)).mappings().first()
    return dict(row) if row else None


def last_run(store: Store, job: str) -> dict[str, Any] | None:
    """The job's newest run."""
    runs = list_runs(store, job=job, limit=1)
    return runs[0] if runs else None
