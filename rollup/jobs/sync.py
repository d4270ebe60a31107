"""One sync from Jira into the store — the one module that knows the order of the stages.

1. server info and field discovery (configured overrides and extra fields) → ``fields``;
2. the cursor ``issues.updated_hwm``: none (or ``full``) means a full sync; otherwise the
   sweep is narrowed to ``updated >= (cursor − overlap)``, written in the Jira *user's* time
   zone because that is how Jira reads JQL dates (``since`` overrides the cursor);
3. a cheap id sweep (``ORDER BY id ASC``) compared with what the store holds: only new or
   changed issues, or issues whose changelog was incomplete, are fetched — so a resumed sync
   skips everything the failed run already committed;
4. fetch those issues with full changelogs, each batch committed in its own transaction.
   A full sync of a Data Center site into a store holding none of its issues yet (or whose
   issues must all be read again) skips the sweep: its search pages hold whole issues with their
   changelogs, so the pages are read directly (in parallel after the first) and are the sweep; a
   read that cannot prove itself whole (the count fell, a page kept failing) is followed by an id
   sweep that fetches whatever it missed and proves the scope as in 3. With issues stored, the
   sweep of 3. is cheaper (a page of 1,000 ids against ten pages of 100 whole issues) and skips
   what is unchanged, so a resumed or ``--full`` sync sweeps;
5. worklogs updated since the worklog cursor (minus overlap), deletions applied, cursor moved;
6. a deletion sweep when ``full`` or when the last one is older than ``deletion_sweep_hours``:
   stored ids no longer in scope are marked deleted (soft delete: ``deleted_at``) — but only
   after a sweep proven complete (what it read agrees with the server's own count), only ids the
   server confirms are gone from the scope, and only up to ``max_delete_share`` of the stored
   scope unless ``allow_mass_delete``;
7. only after every batch is committed, and only when the sweep is proven complete, does
   ``issues.updated_hwm`` advance to the largest ``updated`` seen.

Nothing a server says is believed unchecked (see :mod:`connectors.jira.checks`): a sweep that
cannot be proven complete stores what it read (every row true), deletes nothing, leaves the
cursor where it was and fails (exit 1) with the counts; issues the server kept failing to serve
fail the run the same way. When the field map changes between syncs (a role now resolves to
another field, or to none), every issue is read again rather than skipped as unchanged.

One sync at a time per store: :func:`run_sync` holds the ``store-sync`` lock (the jobs' lock
mechanism) from before the schema is created to the end. A ``sync_runs`` row is written as
``running`` at the start and finished whatever happens; a row still ``running`` when the next
sync starts (its process was killed) is recorded as ``abandoned``.

A crash mid-sync therefore loses nothing (the cursor did not move) and doubles nothing
(issues are upserted by id, transitions replaced per issue).
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field, replace
from datetime import datetime, timedelta, timezone, tzinfo
from typing import TYPE_CHECKING, Any, Protocol
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from rollup.config import RollupConfig
from rollup.config.models import Site
from rollup.errors import ConfigError, StoreError, SyncError, describe_error
from rollup.store import (
    STATE_DELETION_SWEEP_AT,
    STATE_ISSUES_HWM,
    STATE_SERVER_BASE_URL,
    STATE_SERVER_DEPLOYMENT,
    STATE_WORKLOGS_SINCE,
    Store,
    field_roles_of,
)
from rollup.store.sites import SiteStore, assign_slots, stored_slots

if TYPE_CHECKING:  # pragma: no cover
    from connectors.jira import JiraSettings

log = logging.getLogger(__name__)

#: The first worklog sync reads everything updated since this instant.
EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)

#: How Jira wants dates in JQL (read in the user's time zone, minute precision).
JQL_DATE_FORMAT = "%Y/%m/%d %H:%M"


class Connector(Protocol):
    """What sync needs from a connector (``connectors.jira.JiraConnector`` provides it)."""

    @property
    def stats(self) -> Any:
        """Requests, retries and throttled answers so far."""
        ...

    def server_info(self) -> Any:
        """Deployment, version, time zone and signed-in user of the site."""
        ...

    def discover_fields(self, overrides: dict[str, str] | None = None, extra: list[str] | None = None,
                        project_overrides: dict[str, dict[str, str]] | None = None) -> Any:
        """The field map: which field id holds each role (team, story points, …)."""
        ...

    def sweep(self, jql: str) -> Iterable[list[Any]]:
        """Pages of the ids and update times of the issues matching ``jql``."""
        ...

    def fetch(self, ids: Iterable[int], fmap: Any) -> Iterable[Any]:
        """Batches of the full issues (fields, changelogs) with the given ids."""
        ...

    def worklogs_since(self, since: datetime) -> Iterable[Any]:
        """Worklogs updated or deleted since ``since``."""
        ...


@dataclass(frozen=True)
class SyncScope:
    """What to sync and how: the scope JQL plus the ``sync:`` options of ``mappings.yaml``."""

    jql: str
    overlap: timedelta = timedelta(minutes=15)
    deletion_sweep_every: timedelta = timedelta(hours=24)
    field_overrides: dict[str, str] = field(default_factory=dict)
    extra_fields: list[str] = field(default_factory=list)
    project_field_overrides: dict[str, dict[str, str]] = field(default_factory=dict)
    #: A deletion sweep deleting more than this share of the stored scope stops instead.
    max_delete_share: float = 0.05
    allow_mass_delete: bool = False

    @classmethod
    def from_config(cls, config: RollupConfig, site: Site | None = None) -> SyncScope:
        """The scope described by a parsed ``mappings.yaml`` (``site``: for that one of its ``sites:``)."""
        jira = config.scope_for(site)
        return cls(
            jql=jira.scope_jql(),
            overlap=timedelta(minutes=config.sync.overlap_minutes),
            deletion_sweep_every=timedelta(hours=config.sync.deletion_sweep_hours),
            field_overrides=dict(jira.fields),
            extra_fields=list(jira.extra_fields),
            project_field_overrides={p: dict(roles) for p, roles in jira.project_fields.items()},
            max_delete_share=config.sync.max_delete_share,
            allow_mass_delete=config.sync.allow_mass_delete,
        )


@dataclass(frozen=True)
class SyncProgress:
    """One progress report: ``stage`` is sweep, fetch, worklogs or deletions; ``total`` may be unknown."""

    stage: str
    done: int
    total: int | None = None


@dataclass
class SyncResult:
    """What one sync did (also what a failed sync had done when it stopped: ``SyncError.result``)."""

    mode: str
    new: int = 0
    changed: int = 0
    unchanged: int = 0
    deleted: int = 0
    worklogs: int = 0
    worklogs_deleted: int = 0
    #: Issues the server kept failing to serve; they are retried by the next sync.
    failed: int = 0
    requests: int = 0
    retries: int = 0
    throttled: int = 0
    elapsed: float = 0.0
    store: str = ""
    jql: str = ""
    deletion_sweep: bool = False
    cursor: datetime | None = None
    run_id: int | None = None
    #: Issues the sweep read, and the server's own count for the sweep's JQL (None: not asked).
    swept: int = 0
    server_count: int | None = None
    #: Field roles whose field changed since the last sync ("epic_link: customfield_1 → none").
    fields_changed: list[str] = field(default_factory=list)
    #: Roles that found no field although the site has fields of their kind (``FieldMap.warnings``).
    field_warnings: list[str] = field(default_factory=list)
    #: The site this sync read (a name in ``sites:``); None for a store of one site.
    site: str | None = None
    #: A sync of several sites: each site's own result (the figures above are their sums).
    sites: list[SyncResult] = field(default_factory=list)
    #: A site of several that failed: what stopped it (its result is in ``sites`` all the same).
    error: str | None = None
    #: How the sites of a sync of several ran at once: ``processes`` (one forked process each) or ``threads``.
    parallel: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (datetimes as ISO 8601)."""
        out = asdict(self)
        out["cursor"] = self.cursor.isoformat() if self.cursor else None
        out["sites"] = [s.to_dict() for s in self.sites]
        return out


def user_timezone(server_info: Any) -> tzinfo:
    """The Jira user's time zone from ``server_info.time_zone`` (a name or a tzinfo); UTC if unknown."""
    tz = getattr(server_info, "time_zone", None)
    if isinstance(tz, tzinfo):
        return tz
    if tz:
        try:
            return ZoneInfo(str(tz))
        except (ZoneInfoNotFoundError, ValueError):
            pass
    return timezone.utc


def jql_date(instant: datetime, tz: tzinfo) -> str:
    """``instant`` as a JQL date in ``tz``, rounded down to the minute (never later than asked)."""
    return instant.astimezone(tz).strftime(JQL_DATE_FORMAT)


def incremental_jql(scope_jql: str, window_start: datetime | None, tz: tzinfo) -> str:
    """The sweep JQL: the scope, narrowed to ``updated >= window_start`` when given, ordered by id."""
    if window_start is None:
        return f"{scope_jql} ORDER BY id ASC"
    return f'({scope_jql}) AND updated >= "{jql_date(window_start, tz)}" ORDER BY id ASC'


def _stats(connector: Any) -> tuple[int, int, int]:
    stats = getattr(connector, "stats", None)
    return (
        int(getattr(stats, "requests", 0) or 0),
        int(getattr(stats, "retries", 0) or 0),
        int(getattr(stats, "throttled", 0) or 0),
    )


#: The lock every sync of one store holds (one sync at a time per store).
SYNC_LOCK = "store-sync"


#: Deleting up to this many issues is never held back as a mass deletion (a small store's normal churn).
MASS_DELETE_FLOOR = 10


class SyncIncomplete(SyncError):
    """The sweep could not be proven complete: nothing was deleted and the cursor did not move."""


class MassDeleteRefused(SyncError):
    """The deletion sweep would delete more than ``max_delete_share`` of the stored scope."""


class IssuesNotRead(SyncError):
    """Some issues could not be read; the cursor stays behind them so the next sync reads them again."""


def sync(
    store: Store | SiteStore,
    connector: Connector,
    scope: SyncScope | RollupConfig,
    *,
    full: bool = False,
    since: datetime | None = None,
    now: datetime | None = None,
    progress: Callable[[SyncProgress], None] | None = None,
    lock: bool = True,
) -> SyncResult:
    """Bring ``store`` up to date with Jira; see the module docstring for the stages.

    ``lock`` takes the store's sync lock for the run (pass False when the caller holds it).
    Raises :class:`SyncError` subclasses (exit 1) when the run cannot be proven complete; what it
    stored is true and kept, and the run is recorded.
    """
    if lock:
        with _sync_lock(store.store if isinstance(store, SiteStore) else store):
            return sync(store, connector, scope, full=full, since=since, now=now, progress=progress, lock=False)
    if isinstance(scope, RollupConfig):
        scope = SyncScope.from_config(scope)
    report = progress or (lambda _event: None)
    started_clock = time.monotonic()
    started = (now or datetime.now(timezone.utc)).astimezone(timezone.utc)
    stats_before = _stats(connector)
    cursor = store.get_datetime(STATE_ISSUES_HWM)
    mode = "full" if (full or (cursor is None and since is None)) else ("since" if since else "incremental")
    result = SyncResult(mode=mode, store=store.location,
                        site=store.site.name if isinstance(store, SiteStore) else None)
    # Under the lock no other sync runs: a row still "running" is a sync whose process died.
    store.abandon_running_runs(datetime.now(timezone.utc))
    run_id = result.run_id = store.record_run(started=started, mode=mode, status="running")

    def finish(status: str, error: str | None) -> None:
        after = _stats(connector)
        result.requests, result.retries, result.throttled = (a - b for a, b in zip(after, stats_before))
        result.elapsed = round(time.monotonic() - started_clock, 3)
        store.update_run(
            run_id,
            finished=datetime.now(timezone.utc),
            status=status,
            issues_new=result.new,
            issues_changed=result.changed,
            issues_deleted=result.deleted,
            requests=result.requests,
            retries=result.retries,
            throttled=result.throttled,
            elapsed_s=result.elapsed,
            error=error,
        )

    try:
        _run(store, connector, scope, result, cursor=cursor, full=mode == "full", since=since, now=started,
             report=report)
    except BaseException as exc:
        if isinstance(exc, SyncError):
            exc.result = result
        status = "incomplete" if isinstance(exc, (SyncIncomplete, MassDeleteRefused, IssuesNotRead)) else "failed"
        finish(status, describe_error(exc))
        raise
    finish("ok", None)
    return result


def role_changes(before: dict[str, str], after: dict[str, str]) -> list[str]:
    """``role: old → new`` for every field role that resolves differently now (extra fields included)."""
    roles = sorted(set(before) | set(after))
    return [f"{role}: {before.get(role, 'none')} → {after.get(role, 'none')}"
            for role in roles if before.get(role) != after.get(role)]


def _run(
    store: Store | SiteStore,
    connector: Connector,
    scope: SyncScope,
    result: SyncResult,
    *,
    cursor: datetime | None,
    full: bool,
    since: datetime | None,
    now: datetime,
    report: Callable[[SyncProgress], None],
) -> None:
    # 1. Server and fields.
    info = connector.server_info()
    deployment = getattr(info, "deployment", None)
    if deployment:
        store.set_state(STATE_SERVER_DEPLOYMENT, str(deployment))
    base_url = getattr(info, "base_url", None)
    if base_url:
        store.set_state(STATE_SERVER_BASE_URL, str(base_url).rstrip("/"))
    tz = user_timezone(info)
    fmap = connector.discover_fields(
        overrides=dict(scope.field_overrides),
        extra=list(scope.extra_fields),
        project_overrides={p: dict(roles) for p, roles in scope.project_field_overrides.items()},
    )
    before = store.field_roles()
    after = field_roles_of((r.role, r.id) for r in fmap.rows)
    changed_fields = role_changes(before, after) if before else []
    result.fields_changed = changed_fields
    result.field_warnings = list(fmap.warnings)
    # A role that now reads another field changes what every issue holds: read them all again.
    reread_all = bool(changed_fields) and bool(store.all_issue_ids())
    store.replace_fields(fmap.rows)

    # 2. The window.
    if since is not None and not reread_all:
        window_start: datetime | None = since.astimezone(timezone.utc)
    elif full or cursor is None or reread_all:
        window_start = None
    else:
        window_start = cursor - scope.overlap
    result.jql = incremental_jql(scope.jql, window_start, tz)

    # 3. Sweep ids; keep those new, changed, or with an incomplete changelog. The sweep feeds the
    #    fetch directly, so fetching starts with the first sweep page rather than after the last.
    #    A full sweep compares with every stored issue, read once; an incremental one looks up
    #    only the ids each page names, so its cost does not grow with the store.
    if reread_all:
        stored_before = store.stored_updated()
        stored: dict[int, datetime | None] = {}
    else:
        stored = store.stored_updated(require_complete_changelog=True) if window_start is None else {}
        stored_before = stored
    to_fetch: dict[int, datetime] = {}
    swept_ids: set[int] = set()
    max_updated: datetime | None = None
    # Data Center, full sync with nothing stored to skip: the search pages hold whole issues, so they
    # are the read itself — no id sweep first. A read that cannot prove itself whole is followed by a
    # sweep below.
    full_read = None
    if window_start is None and (reread_all or not stored) and getattr(connector, "reads_full_pages", False):
        full_read = connector.read_full(result.jql, fmap)  # type: ignore[attr-defined]
    read_in_full: set[int] = set()
    sweep: Any = None

    def changed_ids() -> Iterator[int]:
        nonlocal max_updated
        for refs in sweep:
            if window_start is not None:
                stored.update(store.stored_updated((r.id for r in refs), require_complete_changelog=True))
            for ref in refs:
                swept_ids.add(ref.id)
                if max_updated is None or ref.updated > max_updated:
                    max_updated = ref.updated
                if ref.id in read_in_full:
                    continue  # read by the full read before this sweep
                if ref.id in stored and stored[ref.id] == ref.updated:
                    result.unchanged += 1
                else:
                    to_fetch[ref.id] = ref.updated
                    yield ref.id
            report(SyncProgress("sweep", len(swept_ids)))

    # 4. Fetch and commit batch by batch — while 5. worklogs are read alongside (different endpoints,
    #    so they share no rate limit). A worklog is written once its issue is in the store.
    worklogs = _WorklogStage(store, connector, scope, result, full=full, report=report)
    worklogs.start()
    failed_ids: set[int] = set()
    done = 0
    failed_updated: list[datetime] = []

    def commit(batch: Any, *, counted: bool) -> None:
        nonlocal done, max_updated
        if not counted:  # a full read (nothing stored to skip): its issues are the sweep, unless one must prove it
            for issue in batch.issues:
                read_in_full.add(issue.id)
                if max_updated is None or issue.updated > max_updated:
                    max_updated = issue.updated
        store.upsert_batch(batch.issues, batch.transitions, batch.changelog_complete)
        failed = batch.failed_ids
        failed_ids.update(failed)
        result.failed += len(failed)
        failed_updated.extend(to_fetch[i] for i in failed if i in to_fetch)
        for issue in batch.issues:
            if issue.id in stored or issue.id in stored_before:
                result.changed += 1
            else:
                result.new += 1
        done += len(batch.issues)
        expected = len(to_fetch) if counted else getattr(full_read, "server_count", None)
        report(SyncProgress("fetch", done, expected))
        worklogs.issues_stored(issue.id for issue in batch.issues)
        worklogs.drain(block=False)

    try:
        if full_read is not None:
            for batch in full_read:
                commit(batch, counted=False)
        if full_read is None or not full_read.complete:
            if full_read is not None:
                log.warning("The full read could not be proven whole (%s); sweeping ids to find what it missed",
                            full_read.describe())
            sweep = connector.sweep(result.jql)
            for batch in connector.fetch(changed_ids(), fmap):
                commit(batch, counted=True)
        else:
            sweep = full_read
            swept_ids.update(read_in_full)
        # The worklog cursor moves only when every issue was read: a worklog of an issue that failed
        # (or that an incomplete sweep missed) is dropped now and must be read again next time.
        worklogs.finish(move_cursor=not failed_ids and _complete(sweep))
    finally:
        worklogs.stop()
    result.swept, result.server_count = len(swept_ids), _server_count(sweep)
    if not _complete(sweep):
        message = (f"the sweep could not be proven complete: it {_describe_sweep(sweep, len(swept_ids))}. "
                   f"What it read is stored; nothing was deleted and the cursor did not move, so the next "
                   "sync reads the same window again. If this persists, run `rollup doctor`.")
        raise SyncIncomplete(message)

    # 6. Deletion sweep.
    last_sweep = store.get_datetime(STATE_DELETION_SWEEP_AT)
    pending_error: SyncError | None = None
    if full or last_sweep is None or now - last_sweep >= scope.deletion_sweep_every:
        result.deletion_sweep = True
        if window_start is None:
            in_scope = swept_ids  # the sweep above already covered the whole scope
        else:
            in_scope = set()
            scope_sweep = connector.sweep(incremental_jql(scope.jql, None, tz))
            for refs in scope_sweep:
                in_scope.update(ref.id for ref in refs)
                report(SyncProgress("deletions", len(in_scope)))
            if not _complete(scope_sweep):
                message = (f"the deletion sweep could not be proven complete: it "
                           f"{_describe_sweep(scope_sweep, len(in_scope))}; nothing was deleted. "
                           "The next sync sweeps again.")
                raise SyncIncomplete(message)
        live = store.all_issue_ids()
        gone = live - in_scope
        if gone:
            pending_error = _delete(store, connector, scope, result, gone, live, now)
        if pending_error is None:
            store.set_datetime(STATE_DELETION_SWEEP_AT, now)

    # 7. Only now, with every batch committed, advance the cursor — but never past an issue
    #    the server kept failing to serve, so the next sync's window still covers it.
    if failed_updated and max_updated is not None:
        max_updated = min(max_updated, min(failed_updated))
    if max_updated is not None and (cursor is None or max_updated > cursor):
        store.set_datetime(STATE_ISSUES_HWM, max_updated)
        result.cursor = max_updated
    else:
        result.cursor = cursor
    if failed_ids:
        shown = ", ".join(str(i) for i in sorted(failed_ids)[:10])
        more = f" and {len(failed_ids) - 10} more" if len(failed_ids) > 10 else ""
        raise IssuesNotRead(f"{len(failed_ids)} issue(s) could not be read from Jira (ids {shown}{more}); everything "
                            "else is stored and the cursor stays behind them, so the next sync reads them again")
    if pending_error is not None:
        raise pending_error


def _server_count(sweep: Any) -> int | None:
    return getattr(sweep, "server_count", None)


def _complete(sweep: Any) -> bool:
    """Whether a sweep proved itself complete; a connector without counts (a test double) is believed."""
    return bool(getattr(sweep, "complete", True))


def _describe_sweep(sweep: Any, read: int) -> str:
    describe = getattr(sweep, "describe", None)
    return describe() if callable(describe) else f"read {read:,} issues"


def _delete(store: Store | SiteStore, connector: Connector, scope: SyncScope, result: SyncResult, gone: set[int],
            live: set[int], now: datetime) -> SyncError | None:
    """Mark ``gone`` deleted once the server confirms it; the error to raise after the cursor moves, if any."""
    limit = max(scope.max_delete_share * len(live), MASS_DELETE_FLOOR)
    if len(gone) > limit and not scope.allow_mass_delete:
        return MassDeleteRefused(
            f"the deletion sweep would delete {len(gone):,} of the {len(live):,} stored issues "
            f"({len(gone) / max(len(live), 1):.1%}), more than sync.max_delete_share "
            f"({scope.max_delete_share:.0%}); nothing was deleted. If the scope really shrank, run "
            "`rollup sync --allow-mass-delete` (or set sync.allow_mass_delete: true); otherwise check the "
            "JQL in mappings.yaml and the token's permissions.")
    confirm = getattr(connector, "in_scope", None)
    still = confirm(scope.jql, gone) if callable(confirm) else set()
    if still:
        return SyncIncomplete(
            f"the sweep missed {len(still)} issue(s) the server still lists in the scope (e.g. id "
            f"{min(still)}); nothing was deleted. The next sync sweeps again.")
    result.deleted = store.delete_issues(sorted(gone), at=now)
    return None


class _WorklogStage:
    """Worklogs updated since the worklog cursor (minus overlap), read in a background thread.

    The reader thread follows ``worklog/updated`` → ``worklog/list`` while the issue fetch runs;
    the calling thread writes the pages (SQLite has one writer) between issue batches. Jira reports
    worklogs of the whole site, so only those of issues in the store are kept; a worklog whose
    issue this sync has not written yet waits in memory (at most ``max_pending`` rows — beyond
    that the reader is left to block on its bounded queue) until the issue is written. After the
    fetch, :meth:`finish` writes the rest, drops worklogs of issues not in the store, and moves
    the worklog cursor.
    """

    max_pending = 200_000
    queue_pages = 8

    def __init__(self, store: Store | SiteStore, connector: Connector, scope: SyncScope, result: SyncResult, *,
                 full: bool, report: Callable[[SyncProgress], None]) -> None:
        self.store, self.connector, self.result, self.report = store, connector, result, report
        self.cursor = None if full else store.get_datetime(STATE_WORKLOGS_SINCE)
        self.since = EPOCH if self.cursor is None else self.cursor - scope.overlap
        # The stored issue ids are read by the reader thread, so the sweep's first request need not
        # wait for them (0.1 s at 100,000 issues); :attr:`known` waits until they are there.
        self._known: set[int] | None = None
        self._known_ready = threading.Event()
        self.until: datetime | None = None
        self.pending: dict[int, list[Any]] = {}
        self.pending_rows = 0
        self.deleted: set[int] = set()
        self._queue: queue.Queue = queue.Queue(maxsize=self.queue_pages)
        self._stop = threading.Event()
        self._done = False
        self._fetch_done = False
        self._thread = threading.Thread(target=self._read, name="rollup-worklogs", daemon=True)

    _END = object()

    def start(self) -> None:
        self._thread.start()

    def _put(self, item: Any) -> bool:
        while not self._stop.is_set():
            try:
                self._queue.put(item, timeout=0.2)
                return True
            except queue.Full:
                continue
        return False

    @property
    def known(self) -> set[int]:
        """Ids of the issues in the store (those written by this sync included)."""
        self._known_ready.wait()
        if self._known is None:
            raise StoreError("the stored issue ids could not be read")
        return self._known

    def _read(self) -> None:
        try:
            try:
                self._known = self.store.all_issue_ids()
            finally:
                self._known_ready.set()
            for page in self.connector.worklogs_since(self.since):
                if not self._put(page):
                    return
        except BaseException as exc:  # handed to the writing thread, which raises it
            self._put(exc)
            return
        self._put(self._END)

    def issues_stored(self, ids: Iterable[int]) -> None:
        """Issues just written: their waiting worklogs can be written too."""
        ready: list[Any] = []
        for issue_id in ids:
            self.known.add(issue_id)
            rows = self.pending.pop(issue_id, None)
            if rows:
                self.pending_rows -= len(rows)
                ready.extend(w for w in rows if w.id not in self.deleted)
        if ready:
            self.result.worklogs += self.store.upsert_worklogs(ready)

    def drain(self, *, block: bool) -> None:
        """Write the pages read so far (``block``: until the reader is done)."""
        while not self._done:
            if not block and self.pending_rows >= self.max_pending:
                return
            try:
                page = self._queue.get(block=block, timeout=None)
            except queue.Empty:
                return
            if page is self._END:
                self._done = True
                return
            if isinstance(page, BaseException):
                self._done = True
                raise page
            self._apply(page)

    def _apply(self, page: Any) -> None:
        rows = []
        for w in page.rows:
            if w.issue_id in self.known:
                rows.append(w)
            elif not self._fetch_done:  # its issue may still be written by this sync
                self.pending.setdefault(w.issue_id, []).append(w)
                self.pending_rows += 1
        if rows:
            self.result.worklogs += self.store.upsert_worklogs(rows)
        if page.deleted_ids:
            self.deleted.update(page.deleted_ids)
            self.result.worklogs_deleted += self.store.delete_worklogs(page.deleted_ids)
        if page.until is not None and (self.until is None or page.until > self.until):
            self.until = page.until
        self.report(SyncProgress("worklogs", self.result.worklogs))

    def finish(self, *, move_cursor: bool = True) -> None:
        """Write everything left, drop worklogs of issues not in the store, move the cursor (``move_cursor``)."""
        self._fetch_done = True
        self.pending.clear()  # every issue of this sync is written: these belong to none of them
        self.pending_rows = 0
        self.drain(block=True)
        self._thread.join()
        if move_cursor and self.until is not None and (self.cursor is None or self.until > self.cursor):
            self.store.set_datetime(STATE_WORKLOGS_SINCE, self.until)

    def stop(self) -> None:
        """Stop the reader (after a failure elsewhere); a no-op once finished."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=30)


def run_sync(
    config: RollupConfig,
    settings: JiraSettings | None = None,
    *,
    database_url: str | None = None,
    full: bool = False,
    since: datetime | None = None,
    progress: Callable[[SyncProgress], None] | None = None,
    allow_mass_delete: bool = False,
    env: Mapping[str, str] | None = None,
) -> SyncResult:
    """Sync with everything built from configuration: what ``rollup sync`` runs.

    ``settings`` defaults to ``JiraSettings.from_env()``; ``mappings.yaml``'s
    ``jira.deployment``, when set, overrides what the server reports; the store is
    ``database_url``, ``ROLLUP_DATABASE_URL`` or ``.rollup/rollup.db``. The store's sync lock is
    taken before its schema is created, so two syncs started together on a new store cannot race.

    With ``sites:`` in ``mappings.yaml`` every site is synced, in parallel, into the one store
    (:func:`sync_sites`); ``env`` is where their credential variables are read (the environment).
    """
    from connectors.jira import JiraConnector, JiraSettings

    if config.sites:
        return sync_sites(config, database_url=database_url, full=full, since=since, progress=progress,
                          allow_mass_delete=allow_mass_delete, env=env)
    settings = settings or JiraSettings.from_env(env)
    if config.jira.deployment and settings.deployment is None:
        settings = settings.model_copy(update={"deployment": config.jira.deployment})
    scope = SyncScope.from_config(config)
    if allow_mass_delete:
        scope = replace(scope, allow_mass_delete=True)
    with Store.open(database_url, create=False) as store, _sync_lock(store):
        store.prepare()
        _refuse_one_site_of_several(store)
        with JiraConnector(settings, max_workers=config.sync.max_workers,
                           max_retry_after=config.sync.max_retry_after_seconds) as connector:
            return sync(store, connector, scope, full=full, since=since, progress=progress, lock=False)


def _refuse_one_site_of_several(store: Store) -> None:
    """A store of several sites synced as one site would see the other sites' issues as deleted."""
    slots = stored_slots(store)
    if len(slots) > 1:
        names = ", ".join(sorted(slots, key=slots.__getitem__))
        raise ConfigError(f"mappings.yaml: the store at {store.location} holds the issues of several Jira sites "
                          f"({names}) but mappings.yaml has no sites: list; list them under sites: (the first "
                          "one first) so each is synced as itself")


def site_settings(site: Site, env: Mapping[str, str] | None = None) -> JiraSettings:
    """How to reach ``site``: its URL and deployment, credentials from the variables it names."""
    from connectors.jira import JiraSettings

    return JiraSettings.for_site(site.url, email_var=site.email_env, token_var=site.token_env,
                                 pat_var=site.pat_env, deployment=site.deployment, env=env, label=site.name)


def sync_sites(
    config: RollupConfig,
    *,
    database_url: str | None = None,
    full: bool = False,
    since: datetime | None = None,
    progress: Callable[[SyncProgress], None] | None = None,
    allow_mass_delete: bool = False,
    env: Mapping[str, str] | None = None,
    connectors: Mapping[str, Any] | None = None,
) -> SyncResult:
    """Sync every site of ``sites:`` into one store, in parallel; one ``sync_runs`` row per site.

    Each site's sync is the sync of one site (its own cursor, sweep and deletion proof, over its own
    rows only: :class:`~rollup.store.sites.SiteStore`). A site that fails does not stop the others:
    what they read is stored, and the first failure is raised afterwards with its site's name, the
    result of every site attached. ``connectors`` (site name → connector) replaces the connectors
    built from the settings (tests).
    """
    from connectors.jira import JiraConnector

    settings = {site.name: site_settings(site, env) for site in config.sites} if connectors is None else {}
    results: dict[str, SyncResult] = {}
    errors: dict[str, BaseException] = {}
    started = time.monotonic()
    with Store.open(database_url, create=False) as store, _sync_lock(store):
        store.prepare()
        identities = assign_slots(store, [(site.name, site.url) for site in config.sites])
        store.abandon_running_runs(datetime.now(timezone.utc))
        write_lock = threading.Lock()
        report_lock = threading.Lock()

        def report_for(name: str) -> Callable[[SyncProgress], None] | None:
            if progress is None:
                return None

            def report(event: SyncProgress) -> None:
                with report_lock:
                    progress(replace(event, stage=f"{name}: {event.stage}"))
            return report

        def one(site: Site) -> SyncResult:
            scope = SyncScope.from_config(config, site)
            if allow_mass_delete:
                scope = replace(scope, allow_mass_delete=True)
            view = SiteStore(store, identities[site.name], write_lock)
            if connectors is not None:
                return sync(view, connectors[site.name], scope, full=full, since=since,
                            progress=report_for(site.name), lock=False)
            with JiraConnector(settings[site.name], max_workers=config.sync.max_workers,
                               max_retry_after=config.sync.max_retry_after_seconds) as connector:
                return sync(view, connector, scope, full=full, since=since, progress=report_for(site.name),
                            lock=False)

        def run_site(site: Site) -> None:
            try:
                results[site.name] = one(site)
            except Exception as exc:  # every site finishes before the first failure is raised
                _record_failure(site.name, exc, results, errors)

        parallel = "processes" if connectors is None and _can_fork(len(config.sites)) else "threads"
        if parallel == "processes":
            _sync_in_processes(store, config, identities, settings, full=full, since=since,
                               allow_mass_delete=allow_mass_delete, progress=progress, results=results, errors=errors)
        else:
            # Daemon threads, joined a moment at a time: Ctrl-C stops the command at once (exit 130), as it does
            # a sync of one site; what each site committed is kept, its run is recorded abandoned by the next sync.
            threads = [threading.Thread(target=run_site, args=(site,), name=f"rollup-site-{site.name}", daemon=True)
                       for site in config.sites]
            for thread in threads:
                thread.start()
            for thread in threads:
                while thread.is_alive():
                    thread.join(0.2)
        errors = {site.name: errors[site.name] for site in config.sites if site.name in errors}  # in sites: order
        total = combine_results([results[site.name] for site in config.sites], store.location)
        total.parallel = parallel
    total.elapsed = round(time.monotonic() - started, 3)
    if errors:
        name, first = next(iter(errors.items()))
        others = [n for n in errors if n != name]
        more = f" (site{'s' if len(others) > 1 else ''} {', '.join(others)} failed too)" if others else ""
        if isinstance(first, SyncError):
            failure = type(first)(f"site {name}: {first}{more}")
            failure.result = total
            raise failure from first
        if isinstance(first, Exception) and first.args and isinstance(first.args[0], str):
            first.args = (f"site {name}: {first.args[0]}{more}",) + tuple(first.args[1:])
        raise first
    return total


def _record_failure(name: str, exc: Exception, results: dict[str, SyncResult],
                    errors: dict[str, BaseException]) -> None:
    """A site's sync failed: keep its error and what it had done when it stopped."""
    errors[name] = exc
    partial = getattr(exc, "result", None)
    results[name] = partial if isinstance(partial, SyncResult) else SyncResult(mode="failed", site=name)
    results[name].error = describe_error(exc)


def _can_fork(sites: int) -> bool:
    """Whether the sites' syncs can run in forked processes: several sites, ``fork`` available, no other thread
    running (a fork copies threads mid-flight)."""
    import multiprocessing

    return sites > 1 and "fork" in multiprocessing.get_all_start_methods() and threading.active_count() == 1


#: What a forked site sync reads: set in the parent just before the processes are forked, cleared after.
_SITE_JOB: dict[str, Any] = {}


def _sync_in_processes(store: Store, config: RollupConfig, identities: Mapping[str, Any],
                       settings: Mapping[str, Any], *, full: bool, since: datetime | None, allow_mass_delete: bool,
                       progress: Callable[[SyncProgress], None] | None, results: dict[str, SyncResult],
                       errors: dict[str, BaseException]) -> None:
    """Each site's sync in its own forked process, so the sites' parsing and writing use every core.

    A site's sync is CPU work as much as waiting on Jira (decoding and normalizing answers, writing
    rows), and one Python process runs that on one core at a time; in processes of their own the sites'
    work spreads over every core (bench/sync_sites.py measures it). Each process opens the store anew;
    writes are taken in turn through one lock shared by the processes. Progress comes back through a queue.
    """
    import multiprocessing
    import queue as queue_module
    from concurrent.futures import ProcessPoolExecutor

    context = multiprocessing.get_context("fork")
    events = context.Queue()
    _SITE_JOB.update(parent=store, url=store.url, config=config, identities=identities, settings=settings, full=full,
                     since=since, allow_mass_delete=allow_mass_delete, lock=context.Lock(),
                     events=events if progress is not None else None)
    try:
        with ProcessPoolExecutor(max_workers=len(config.sites), mp_context=context) as pool:
            futures = {site.name: pool.submit(_site_in_child, site.name) for site in config.sites}
            while not all(f.done() for f in futures.values()):
                try:
                    event = events.get(timeout=0.2)
                except queue_module.Empty:
                    continue
                if progress is not None:
                    progress(event)
            for name, future in futures.items():
                try:
                    results[name] = future.result()
                except Exception as exc:  # every site has finished: the first failure is raised by the caller
                    _record_failure(name, exc, results, errors)
    finally:
        _SITE_JOB.clear()


def _site_in_child(name: str) -> SyncResult:
    """One site's sync, in a forked process (see :func:`_sync_in_processes`)."""
    import pickle

    from connectors.jira import JiraConnector

    job = _SITE_JOB
    # The parent's pooled connections came along with the fork: this process must never use or close them.
    job["parent"].after_fork()
    config: RollupConfig = job["config"]
    site = next(s for s in config.sites if s.name == name)
    events = job["events"]

    def report(event: SyncProgress) -> None:
        events.put(replace(event, stage=f"{name}: {event.stage}"))

    scope = SyncScope.from_config(config, site)
    if job["allow_mass_delete"]:
        scope = replace(scope, allow_mass_delete=True)
    try:
        with Store.open(job["url"], create=False) as store, \
                JiraConnector(job["settings"][name], max_workers=config.sync.max_workers,
                              max_retry_after=config.sync.max_retry_after_seconds) as connector:
            view = SiteStore(store, job["identities"][name], job["lock"])
            return sync(view, connector, scope, full=job["full"], since=job["since"],
                        progress=report if events is not None else None, lock=False)
    except Exception as exc:
        try:
            pickle.loads(pickle.dumps(exc))
        except Exception:  # noqa: BLE001 - an error that cannot travel back is sent as its message
            failure = SyncError(describe_error(exc))
            failure.result = getattr(exc, "result", None)
            raise failure from None
        raise


def combine_results(results: list[SyncResult], location: str) -> SyncResult:
    """One result for a sync of several sites: each site's figures summed, each site's result kept."""
    modes = {r.mode for r in results}
    total = SyncResult(mode=modes.pop() if len(modes) == 1 else "mixed", store=location, sites=results)
    for name in ("new", "changed", "unchanged", "deleted", "worklogs", "worklogs_deleted", "failed", "requests",
                 "retries", "throttled", "swept"):
        setattr(total, name, sum(getattr(r, name) for r in results))
    counts = [r.server_count for r in results]
    total.server_count = None if any(c is None for c in counts) else sum(c for c in counts if c is not None)
    total.deletion_sweep = any(r.deletion_sweep for r in results)
    total.fields_changed = [f"{r.site}: {c}" for r in results for c in r.fields_changed]
    total.field_warnings = [f"{r.site}: {w}" for r in results for w in r.field_warnings]
    total.jql = "; ".join(f"{r.site}: {r.jql}" for r in results)
    return total


@contextmanager
def _sync_lock(store: Store) -> Iterator[None]:
    """The store's sync lock, or :class:`SyncError` naming the sync that holds it."""
    from rollup.schedule.locks import JobLocked, job_lock

    try:
        with job_lock(store, SYNC_LOCK):
            yield
    except JobLocked as exc:
        who = exc.holder.describe() if exc.holder else "a process that has not yet recorded itself"
        raise SyncError(f"another sync of the store at {store.location} is running ({who}); this one did "
                        "nothing. Wait for it to finish, or run again later.") from None
