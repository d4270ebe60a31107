"""The store: it exists (the doctor never creates one), is intact, has the current schema; the last sync.

The store is the one every command opens: ``--database``, else ``ROLLUP_DATABASE_URL``, else
``.rollup/rollup.db``. SQLite runs ``PRAGMA integrity_check``; PostgreSQL answers a query
(connecting with a short ``connect_timeout``). Messages never carry SQL or row values.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from sqlalchemy import text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, SQLAlchemyError

from rollup.doctor.model import Check, Context, check, fail, ok, skip, warn
from rollup.errors import StoreError, describe_error
from rollup.jobs.sync import role_changes
from rollup.schedule.values import format_duration
from rollup.store import DATABASE_URL_ENV, DEFAULT_PATH, SCHEMA_VERSION, Store, field_roles_of, mask_url, normalize_url
from rollup.store.sites import runs_by_site

#: Seconds PostgreSQL may take to accept the connection.
POSTGRES_CONNECT_TIMEOUT_S = 5
#: Problems of ``integrity_check`` shown in the line.
SHOWN_PROBLEMS = 3


def store_url(ctx: Context) -> str:
    """The SQLAlchemy URL of the store the other commands would open."""
    raw = ctx.options.database_url or ctx.options.env.get(DATABASE_URL_ENV) or ""
    return normalize_url(raw) if raw else f"sqlite:///{DEFAULT_PATH.resolve()}"


def _with_connect_timeout(url: URL) -> URL:
    if url.get_backend_name() == "postgresql" and "connect_timeout" not in url.query:
        return url.update_query_dict({"connect_timeout": str(POSTGRES_CONNECT_TIMEOUT_S)})
    return url


def _open(url: URL, where: str) -> tuple[Store | None, list[Check]]:
    """The store at ``url`` opened without creating anything, or the line saying why not."""
    rerun = "then run rollup doctor again"
    try:
        opened = Store.open(url.render_as_string(hide_password=False), create=False)
    except StoreError as exc:
        return None, [fail("store", str(exc), f"fix --database or {DATABASE_URL_ENV}, {rerun}")]
    try:
        version = opened.schema_version()
        with opened.connect() as conn:
            if opened.dialect == "sqlite":
                problems = [str(row[0]) for row in conn.exec_driver_sql("PRAGMA integrity_check")]
                how = "PRAGMA integrity_check ok"
            else:
                problems = [] if conn.execute(text("SELECT 1")).scalar_one() == 1 else ["SELECT 1 answered wrongly"]
                how = "the server answers"
    except SQLAlchemyError as exc:
        opened.close()
        todo = ("restore it from a backup, or move it aside and run rollup sync --full to rebuild it from Jira"
                if url.get_backend_name() == "sqlite" else
                f"check that the database server is up and that {DATABASE_URL_ENV} names it, {rerun}")
        return None, [fail("store", f"cannot read the store at {where}: {describe_error(exc)}", todo)]
    if problems not in ([], ["ok"]):
        opened.close()
        shown = "; ".join(problems[:SHOWN_PROBLEMS]) + (f" (and {len(problems) - SHOWN_PROBLEMS} more)"
                                                        if len(problems) > SHOWN_PROBLEMS else "")
        return None, [fail("store", f"the store at {where} is damaged: {shown}",
                           "restore it from a backup, or move it aside and run rollup sync --full to rebuild it "
                           "from Jira")]
    if version is None:
        opened.close()
        return None, [fail("store", f"no store yet at {where} (the database holds no rollup schema)",
                           "run rollup sync")]
    if version > SCHEMA_VERSION:
        opened.close()
        return None, [fail("store", f"the store at {where} has schema version {version}, newer than this release "
                                    f"understands ({SCHEMA_VERSION})",
                           f"upgrade jira-portfolio-rollup, or point {DATABASE_URL_ENV} at another store")]
    if version < SCHEMA_VERSION:
        opened.close()
        return None, [warn("store", f"{where}: {how}; schema version {version}, older than this release's "
                                    f"{SCHEMA_VERSION}: it will be upgraded on the next sync",
                           "run rollup sync (the checks of the store's content wait for it)")]
    return opened, [ok("store", f"{where}: {how}; schema version {version} (current)")]


@check("store", provides=("store",), seconds=120)  # integrity_check reads every page
def store(ctx: Context) -> list[Check]:
    """The store opens without being created, passes its integrity check, and has the current schema."""
    try:
        url = make_url(store_url(ctx))
    except ArgumentError:
        return [fail("store", f"{DATABASE_URL_ENV} or --database is not a database URL",
                     "use sqlite:///PATH or postgresql://USER:PASSWORD@HOST/DB")]
    if url.get_backend_name() == "sqlite":
        database = url.database or ""
        if not database or database == ":memory:" or database.startswith("file:"):
            return [fail("store", f"{mask_url(str(url))} is not a store file: an in-memory database holds nothing",
                         f"point {DATABASE_URL_ENV} at the store file, e.g. sqlite:///.rollup/rollup.db")]
        path = Path(database).resolve()
        if not path.is_file():
            return [fail("store", f"no store yet at {path}",
                         f"run rollup sync (or point --database / {DATABASE_URL_ENV} at the store)")]
        where = str(path)
    else:
        where = mask_url(url.render_as_string(hide_password=False))
    opened, lines = _open(_with_connect_timeout(url), where)
    ctx.store = opened
    return lines


@check("field roles", requires=("fields", "store"))
def stored_field_roles(ctx: Context) -> list[Check]:
    """The roles discovery resolves now against those the last sync stored; a change re-reads every issue."""
    assert ctx.fields is not None and ctx.store is not None  # guaranteed by requires=
    before = ctx.store.field_roles(site=ctx.site_identity())
    now = field_roles_of((row.role, row.id) for row in ctx.fields.rows)
    if not before:
        return [skip("field roles", "no field roles stored yet: no sync has got past field discovery")]
    changes = role_changes(before, now)
    if changes:
        return [warn("field roles", f"{len(changes)} role(s) resolve differently from the last sync: "
                                    + "; ".join(changes),
                     "nothing to fix if the change is intended: the next sync re-reads every issue")]
    extra = sum(1 for role in now if role.startswith("extra:"))
    return [ok("field roles", f"the same fields as the last sync stored ({len(now) - extra} roles, {extra} extra "
                              f"field{'' if extra == 1 else 's'})")]


def _ago(delta: timedelta) -> str:
    seconds = max(0, int(delta.total_seconds()))
    if seconds < 120:
        return f"{seconds} s ago"
    if seconds < 2 * 3600:
        return f"{seconds // 60} min ago"
    if seconds < 2 * 86400:
        return f"{seconds // 3600} h ago"
    return f"{seconds // 86400} days ago"


def _run(row: dict, now: datetime) -> str:
    """``run 7 (full, finished 2026-11-23 07:02 UTC, 3 h ago)``."""
    when = row["finished"] or row["started"]
    verb = "finished" if row["finished"] else "started"
    return f"run {row['id']} ({row['mode']}, {verb} {when:%Y-%m-%d %H:%M} UTC, {_ago(now - when)})"


@check("last sync", requires=("store",))
def last_sync(ctx: Context) -> list[Check]:
    """The last sync finished ok, and recently enough (``--max-age``)."""
    assert ctx.store is not None  # guaranteed by requires=
    runs = ctx.store.sync_run_rows()
    if not runs:
        return [fail("last sync", "no sync recorded in the store", "run rollup sync")]
    groups = runs_by_site(runs)
    if len(groups) > 1 or None not in groups:  # several sites: each one's own last sync
        return [line for site, site_runs in groups.items()
                for line in _last_sync(ctx, list(site_runs), name=f"last sync ({site})")]
    return _last_sync(ctx, runs)


def _last_sync(ctx: Context, runs: list[Any], name: str = "last sync") -> list[Check]:
    now = (ctx.options.now or datetime.now(timezone.utc)).astimezone(timezone.utc)
    max_age = ctx.options.max_age
    last = runs[-1]
    good = next((r for r in reversed(runs) if r["status"] == "ok"), None)
    since_good = (f"the last complete sync was {_run(good, now)}" if good is not None
                  else "no sync has ever finished ok")
    status = last["status"]
    error = last["error"] or "no error recorded"
    if status == "ok":
        age = now - last["finished"]
        if age > max_age:
            return [warn(name, f"{_run(last, now)} ok, older than --max-age {format_duration(max_age)}",
                         "run rollup sync, and check that the job that syncs is scheduled (rollup schedule list)")]
        return [ok(name, f"{_run(last, now)} ok: {last['issues_new']:,} new, {last['issues_changed']:,} "
                                f"changed, {last['issues_deleted']:,} deleted")]
    if status == "running":
        return [warn(name, f"{_run(last, now)} is still running; {since_good}",
                     "wait for it; if no sync process is running, it was killed, and the next sync records it "
                     "abandoned and carries on from the last cursor")]
    if status in ("incomplete", "abandoned"):
        return [warn(name, f"{_run(last, now)} ended {status}: {error}; {since_good}",
                     "run rollup sync again (it resumes from the last cursor); if it keeps ending "
                     f"{status}, look at the cause named")]
    return [fail(name, f"{_run(last, now)} failed: {error}; {since_good}",
                 "fix the cause named, then run rollup sync")]
