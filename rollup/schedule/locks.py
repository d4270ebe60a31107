"""One run of a job at a time, across processes: whoever holds the job's lock runs it.

* PostgreSQL store: a session-level advisory lock (``pg_try_advisory_lock``) on a connection held
  for the whole run; the server releases it if the process dies. Who holds it is written to the
  ``job_locks`` table.
* SQLite store: an exclusive ``flock`` on ``<store folder>/locks/<job>.lock``; the kernel releases
  it if the process dies. The file holds the holder's host, pid, job and start time as JSON.

Either way the loser gets :class:`JobLocked`, whose message names the holder.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import socket
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from pathlib import Path

from sqlalchemy import delete, select, text
from sqlalchemy.engine import make_url

from rollup.errors import RollupError
from rollup.store import Store
from rollup.store.schema_jobs import job_locks


@dataclass(frozen=True)
class LockHolder:
    """Who runs a job: host, process id, job name and start time (UTC ISO 8601)."""

    host: str
    pid: int
    job: str
    started: str

    @classmethod
    def me(cls, job: str) -> LockHolder:
        """This process, now."""
        return cls(socket.gethostname(), os.getpid(), job, datetime.now(timezone.utc).isoformat(timespec="seconds"))

    def describe(self) -> str:
        """``host web-1, pid 4242, since 2026-11-30T07:00:01+00:00``."""
        return f"host {self.host}, pid {self.pid}, since {self.started}"


class JobLocked(RollupError):
    """Another process is running the job; nothing was run."""

    def __init__(self, job: str, holder: LockHolder | None, where: str):
        self.job = job
        self.holder = holder
        who = holder.describe() if holder else "a process that has not yet recorded itself"
        super().__init__(f"job '{job}' is already running ({who}; lock: {where}); this run was skipped")


def lock_key(job: str) -> int:
    """A stable signed 64-bit advisory lock key for ``job``."""
    digest = hashlib.sha256(f"rollup.job:{job}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


def lock_dir(store: Store) -> Path:
    """Where SQLite lock files live: ``locks/`` beside the database file."""
    url = make_url(store.url)
    database = url.database or ""
    if not database or database == ":memory:" or database.startswith("file:"):
        return Path(tempfile.gettempdir()) / "rollup-locks"
    return Path(database).resolve().parent / "locks"


@contextmanager
def job_lock(store: Store, job: str) -> Iterator[LockHolder]:
    """Hold the job's lock for the ``with`` block; raise :class:`JobLocked` when another process has it."""
    if store.dialect == "postgresql":
        with _advisory_lock(store, job) as holder:
            yield holder
    else:
        with _file_lock(lock_dir(store) / f"{job}.lock", job) as holder:
            yield holder


@contextmanager
def _file_lock(path: Path, job: str) -> Iterator[LockHolder]:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise JobLocked(job, _read_holder(fd), str(path)) from None
        holder = LockHolder.me(job)
        os.ftruncate(fd, 0)
        os.pwrite(fd, json.dumps(asdict(holder)).encode(), 0)
        os.fsync(fd)
        try:
            yield holder
        finally:
            os.ftruncate(fd, 0)
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


def _read_holder(fd: int, attempts: int = 20) -> LockHolder | None:
    # The holder writes its details right after taking the lock: give it a moment.
    for _ in range(attempts):
        raw = os.pread(fd, 4096, 0)
        if raw:
            try:
                return LockHolder(**json.loads(raw))
            except (ValueError, TypeError):
                pass
        time.sleep(0.05)
    return None


@contextmanager
def _advisory_lock(store: Store, job: str) -> Iterator[LockHolder]:
    key = lock_key(job)
    conn = store.connect(autocommit=True)
    try:
        if not conn.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": key}).scalar_one():
            raise JobLocked(job, _pg_holder(store, job), f"PostgreSQL advisory lock {key}")
        holder = LockHolder.me(job)
        # The sync lock is taken before the schema exists: a new store has no job_locks table yet.
        store.ensure_table(job_locks)
        try:
            with store.begin() as write:
                write.execute(delete(job_locks).where(job_locks.c.job == job))
                write.execute(job_locks.insert().values(
                    job=job, host=holder.host, pid=holder.pid,
                    started=datetime.fromisoformat(holder.started)))
            yield holder
        finally:
            with store.begin() as write:
                write.execute(delete(job_locks).where(job_locks.c.job == job, job_locks.c.pid == holder.pid,
                                                      job_locks.c.host == holder.host))
            conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": key})
    finally:
        conn.close()


def _pg_holder(store: Store, job: str, attempts: int = 20) -> LockHolder | None:
    for _ in range(attempts):
        with store.connect() as conn:
            row = conn.execute(select(job_locks).where(job_locks.c.job == job)).mappings().first()
        if row:
            started = row["started"].astimezone(timezone.utc).isoformat(timespec="seconds")
            return LockHolder(row["host"], row["pid"], job, started)
        time.sleep(0.05)
    return None
