"""``JiraConnector``: the connector's public API (see docs/architecture.md)."""

from __future__ import annotations

import itertools
import logging
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from . import checks
from .errors import (
    JiraAnswerError,
    JiraHTTPError,
    JiraNotFoundError,
    JiraPaginationError,
    JiraServerError,
    JiraThrottledError,
)
from .fields import FieldMap
from .normalize import (
    StatusMap,
    normalize_histories,
    normalize_issue,
    normalize_worklog,
    parse_datetime,
    required_datetime,
)
from .paginators import OffsetPaginator, TokenPaginator, search_pager
from .rows import IssueRef, IssueRow, ProjectRef, TransitionRow, WorklogRow
from .settings import JiraSettings
from .transport import RequestStats, Transport

log = logging.getLogger(__name__)

ProgressCallback = Callable[[str, int], None]

CLOUD_SWEEP_PAGE = 5000
DC_SWEEP_PAGE = 1000
CLOUD_ISSUE_BATCH = 100
CLOUD_CHANGELOG_PAGE = 1000
#: The most ``fieldIds`` one ``changelog/bulkfetch`` request may name.
CLOUD_CHANGELOG_FIELD_IDS = 10
CLOUD_CHANGELOG_IDS = 1000
DC_ISSUE_BATCH = 100
#: Issues per page of a Data Center full read: full issues with their changelogs, like an id batch.
DC_FULL_PAGE = 100
WORKLOG_LIST_CHUNK = 1000
#: Default requests in flight. Pacing (per-endpoint AIMD), not the thread count, keeps the
#: connector under a site's rate limit; but to *reach* a limit of r requests/s on an endpoint
#: whose answers take t seconds, r x t requests must be in flight (Little's law): 20/s x 0.6 s
#: for a 100-issue bulk fetch is 12, plus the changelog requests running alongside.
DEFAULT_MAX_WORKERS = 24


@dataclass(frozen=True)
class ServerInfo:
    """What the site is: ``deployment`` is "cloud" or "datacenter"; ``time_zone`` is the API user's (JQL dates).

    ``user`` is the API user's display name as ``myself`` reports it (who the credentials sign in as).
    """

    deployment: str
    version: str
    base_url: str
    time_zone: str | None
    user: str | None = None


@dataclass
class FetchedBatch:
    """One batch of fully fetched issues.

    ``transitions`` holds each issue's status/assignee transitions, by issue id;
    ``changelog_complete`` the ids whose whole changelog was read; ``failed_ids`` the ids
    that kept failing on the server even when fetched alone (absent from ``issues``).
    Ids that no longer exist are simply absent.
    """

    issues: list[IssueRow]
    transitions: dict[int, list[TransitionRow]]
    changelog_complete: set[int]
    failed_ids: set[int] = field(default_factory=set)
    #: Cloud only, internal to :meth:`JiraConnector.fetch`: issues read whose embedded changelog
    #: was truncated, with the histories embedded so far; fetch() completes them through
    #: ``changelog/bulkfetch`` in groups and yields them in a later batch (never in this one).
    truncated: dict[int, tuple[IssueRow, list[dict[str, Any]]]] = field(default_factory=dict)


@dataclass
class WorklogPage:
    """Worklogs changed (``rows``) or deleted (``deleted_ids``) up to ``until`` (UTC)."""

    rows: list[WorklogRow]
    deleted_ids: list[int]
    until: datetime | None


class JiraConnector:
    """Reads one Jira Cloud or Data Center site into normalized rows.

    ``max_workers`` bounds the fetch threads and the requests in flight (default
    :data:`DEFAULT_MAX_WORKERS`): the per-endpoint pacing in the transport is what keeps the site
    below its rate limit, and too few requests in flight cannot reach it.
    ``on_progress(event, n)`` is called from the calling thread with events
    "swept" (refs in a sweep page), "fetched" (issues in a batch) and "worklogs".
    """

    def __init__(
        self,
        settings: JiraSettings,
        max_workers: int = DEFAULT_MAX_WORKERS,
        *,
        on_progress: ProgressCallback | None = None,
        transport: Transport | None = None,
        max_retry_after: float | None = None,
    ) -> None:
        self.settings = settings
        self.max_workers = max(1, max_workers)
        self.on_progress = on_progress
        extra: dict[str, Any] = {} if max_retry_after is None else {"max_retry_after": max_retry_after}
        self.transport = transport or Transport(settings, max_concurrency=self.max_workers, **extra)
        self._info: ServerInfo | None = None
        self._statuses: StatusMap | None = None
        self._pool: ThreadPoolExecutor | None = None
        self._changelog_pool: ThreadPoolExecutor | None = None
        self._fields_call: Future[Any] | None = None

    def __repr__(self) -> str:
        return f"JiraConnector(url={self.settings.url!r}, max_workers={self.max_workers})"

    @property
    def stats(self) -> RequestStats:
        """Request counters of this connector, overall and per endpoint."""
        return self.transport.stats

    def close(self) -> None:
        """Stop the fetch threads and release HTTP sessions."""
        for pool in (self._pool, self._changelog_pool):
            if pool is not None:
                pool.shutdown(wait=True, cancel_futures=True)
        self._pool = self._changelog_pool = None
        self.transport.close()

    def __enter__(self) -> "JiraConnector":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _progress(self, event: str, n: int) -> None:
        if self.on_progress is not None:
            self.on_progress(event, n)

    # -- site facts -----------------------------------------------------------------------------
    def server_info(self) -> ServerInfo:
        """Deployment type and version (``serverInfo``) and the API user's time zone (``myself``).

        The status map is read at the same time, and the field list for :meth:`discover_fields` is
        requested too: the calls are independent, so they go out together instead of costing
        round trips in a row.
        """
        pool = self._executor()
        info_call = pool.submit(self.transport.get, "/rest/api/2/serverInfo", check=checks.json_object)
        me_call = pool.submit(self.transport.get, "/rest/api/2/myself", check=checks.json_object)
        statuses_call = pool.submit(self.statuses)
        if self._fields_call is None:
            # Field discovery comes next in every sync: its request goes out with these.
            self._fields_call = pool.submit(self.transport.get, "/rest/api/2/field", check=checks.field_list)
        raw = info_call.result() or {}
        me = me_call.result() or {}
        statuses_call.result()
        kind = str(raw.get("deploymentType") or "").casefold()
        deployment = self.settings.deployment or ("cloud" if kind == "cloud" else "datacenter")
        self._info = ServerInfo(
            deployment=deployment,
            version=str(raw.get("version") or ""),
            base_url=str(raw.get("baseUrl") or self.settings.url),
            time_zone=me.get("timeZone"),
            user=me.get("displayName") or me.get("name") or me.get("emailAddress"),
        )
        return self._info

    @property
    def deployment(self) -> str:
        """"cloud" or "datacenter" (asks the server once unless the settings say)."""
        if self.settings.deployment:
            return self.settings.deployment
        info = self._info if self._info is not None else self.server_info()
        return info.deployment

    @property
    def is_cloud(self) -> bool:
        """True when the site is Jira Cloud rather than Data Center."""
        return self.deployment == "cloud"

    def statuses(self) -> StatusMap:
        """Status → category map from ``GET /rest/api/2/status`` (read once)."""
        if self._statuses is None:
            self._statuses = StatusMap(self.transport.get("/rest/api/2/status", check=checks.status_list))
        return self._statuses

    def projects(self) -> list[ProjectRef]:
        """The projects the API user can see (``GET /rest/api/2/project``: every project with Browse permission)."""
        raw = self.transport.get("/rest/api/2/project", check=checks.project_list)
        return [ProjectRef(id=str(p["id"]), key=str(p["key"]), name=str(p.get("name") or "")) for p in raw]

    def discover_fields(
        self,
        overrides: Mapping[str, str] | None = None,
        extra: Iterable[str] | None = None,
        project_overrides: Mapping[str, Mapping[str, str]] | None = None,
    ) -> FieldMap:
        """Read ``/rest/api/2/field`` and resolve roles by name (see :class:`FieldMap`).

        The list requested alongside :meth:`server_info` is used when there is one.
        """
        call, self._fields_call = self._fields_call, None
        raw = call.result() if call is not None else self.transport.get("/rest/api/2/field", check=checks.field_list)
        return FieldMap.discover(raw, overrides=overrides, extra=extra, project_overrides=project_overrides)

    # -- id sweep -------------------------------------------------------------------------------
    def sweep(self, jql: str) -> Sweep:
        """Pages of :class:`IssueRef` for ``jql`` (which should end ``ORDER BY id``), each issue once.

        The returned :class:`Sweep` also says, once read, whether the read agrees with the server's
        own count for the JQL (Data Center ``total``; Cloud ``search/approximate-count``, asked
        alongside the first page).
        """
        return Sweep(self, jql)

    def count(self, jql: str) -> int:
        """The server's own count of issues matching ``jql`` (``ORDER BY`` dropped).

        Cloud: ``POST /rest/api/3/search/approximate-count`` (approximate: recent changes may not
        show yet); Data Center: ``total`` of a ``/rest/api/2/search`` asking for no issues.
        """
        where = checks.without_order_by(jql)
        if self.is_cloud:
            raw = self.transport.post("/rest/api/3/search/approximate-count", {"jql": where}, check=checks.count_answer)
            return int(raw["count"])
        raw = self.transport.get("/rest/api/2/search", params={"jql": where, "maxResults": 0, "fields": "id"},
                                 check=checks.total_answer)
        return int(raw["total"])

    def in_scope(self, jql: str, ids: Iterable[int]) -> set[int]:
        """Which of ``ids`` the server still lists under ``jql`` — the proof asked before deleting.

        One ``id in (…)`` search per 100 ids; each answer must name only ids asked.
        """
        found: set[int] = set()
        wanted = sorted(set(int(i) for i in ids))
        for start in range(0, len(wanted), DC_ISSUE_BATCH):
            chunk = wanted[start:start + DC_ISSUE_BATCH]
            query = f"({checks.without_order_by(jql)}) AND id in ({','.join(map(str, chunk))}) ORDER BY id ASC"
            # An answer naming other ids than asked (a stale one) is refused and asked again.
            pager = search_pager(self._get_unvalidated_query, query, "id", cloud=self.is_cloud, page_size=len(chunk),
                                 check_items=checks.only_ids(chunk))
            for page in pager:
                found |= {int(i["id"]) for i in page}
        return found

    def _get_unvalidated_query(self, path: str, params: dict[str, Any], check: Any = None) -> Any:
        if not self.is_cloud:
            params = {**params, "validateQuery": "false"}
        return self.transport.get(path, params=params, check=check)

    def missing(self, ids: Iterable[int]) -> tuple[set[int], set[int]]:
        """(gone, still there) for ids a fetch did not return: gone when ``GET issue`` answers 404."""
        gone: set[int] = set()
        there: set[int] = set()
        api = 3 if self.is_cloud else 2
        for issue_id in ids:
            try:
                self.transport.get(f"/rest/api/{api}/issue/{issue_id}", params={"fields": "id"},
                                   check=checks.json_object)
            except JiraNotFoundError:
                gone.add(issue_id)
            else:
                there.add(issue_id)
        return gone, there

    # -- full fetch -----------------------------------------------------------------------------
    def fetch(self, ids: Iterable[int], fmap: FieldMap) -> Iterator[FetchedBatch]:
        """Full issues and complete status/assignee changelogs for ``ids``, in parallel batches.

        Batches come back as they complete (not in id order). A batch that keeps failing with
        5xx is halved and retried down to single ids; ids that no longer exist are absent.
        ``ids`` is read lazily, so it may be a generator fed by :meth:`sweep`: fetching starts
        with the first page of ids instead of after the last.
        """
        size = CLOUD_ISSUE_BATCH if self.is_cloud else DC_ISSUE_BATCH
        queue = _unique_batches(ids, size)
        first = next(queue, None)
        if first is None:
            return
        statuses = self.statuses()
        one = self._fetch_cloud if self.is_cloud else self._fetch_dc
        pool = self._executor()
        pending: set[Future[FetchedBatch]] = set()
        queue = itertools.chain([first], queue)
        # Cloud: issues whose embedded changelog was cut short, waiting to be completed together.
        truncated: dict[int, tuple[IssueRow, list[dict[str, Any]]]] = {}
        truncated_histories = 0

        # Once every id has been handed out, a batch completes its own truncated changelogs in
        # the worker that fetched it: no fuller group is coming, and waiting for the calling
        # thread (busy writing earlier batches) would only put the requests at the end.
        ids_exhausted = threading.Event()

        def fetch_batch(batch: list[int]) -> FetchedBatch:
            result = self._fetch_splitting(one, batch, fmap, statuses)
            if result.truncated and ids_exhausted.is_set():
                group, result.truncated = result.truncated, {}
                done = self._fetch_splitting(self._changelogs_completer(group), list(group), fmap, statuses)
                result = FetchedBatch(
                    result.issues + done.issues,
                    {**result.transitions, **done.transitions},
                    result.changelog_complete | done.changelog_complete,
                    result.failed_ids | done.failed_ids,
                )
            return result

        def complete_truncated() -> None:
            nonlocal truncated, truncated_histories
            group, truncated, truncated_histories = truncated, {}, 0
            finish = self._changelogs_completer(group)
            pending.add(pool.submit(self._fetch_splitting, finish, list(group), fmap, statuses))

        try:
            # Keep a bounded number of batches in flight so memory stays flat on big syncs.
            exhausted = True
            for batch in queue:
                pending.add(pool.submit(fetch_batch, batch))
                if len(pending) >= self.max_workers * 2:
                    exhausted = False
                    break
            if exhausted:
                ids_exhausted.set()
            while pending:
                done, pending = wait(pending, return_when=FIRST_COMPLETED)
                for fut in done:
                    result = fut.result()
                    deferred = bool(result.truncated)
                    if result.truncated:
                        truncated.update(result.truncated)
                        truncated_histories += sum(len(h) for _, h in result.truncated.values())
                        result.truncated = {}
                    nxt = None if exhausted else next(queue, None)
                    if nxt is not None:
                        pending.add(pool.submit(fetch_batch, nxt))
                    else:
                        exhausted = True
                        ids_exhausted.set()
                    # A group fills about one changelog page (the embedded histories alone are at
                    # least that many), or the id limit; the rest goes once the ids run out.
                    if truncated and (
                        exhausted
                        or truncated_histories >= CLOUD_CHANGELOG_PAGE
                        or len(truncated) >= CLOUD_CHANGELOG_IDS
                    ):
                        complete_truncated()
                    if deferred and not result.issues and not result.failed_ids:
                        continue  # everything in it comes later, completed
                    self._progress("fetched", len(result.issues))
                    yield result
        finally:
            for fut in pending:
                fut.cancel()

    def _executor(self) -> ThreadPoolExecutor:
        # One long-lived pool: its threads keep their HTTP sessions (one per thread) across calls.
        if self._pool is None:
            self._pool = ThreadPoolExecutor(max_workers=self.max_workers, thread_name_prefix="jira-fetch")
        return self._pool

    def _fetch_splitting(self, one, batch: list[int], fmap: FieldMap, statuses: StatusMap) -> FetchedBatch:
        reason: JiraHTTPError
        try:
            return one(batch, fmap, statuses)
        except (JiraThrottledError, JiraAnswerError):
            raise  # the server asked to stop, or keeps answering wrongly: smaller batches would not help
        except JiraServerError as exc:
            if len(batch) == 1:
                log.warning("Issue %s could not be fetched: %s", batch[0], exc)
                return FetchedBatch([], {}, set(), {batch[0]})
            reason = exc
        except JiraHTTPError as exc:
            # Data Center answers 400 for "id in (…)" naming a deleted issue: narrow it down.
            if exc.status != 400 or self.is_cloud:
                raise
            if len(batch) == 1:
                return FetchedBatch([], {}, set())
            reason = exc
        half = len(batch) // 2
        log.info("Batch of %d ids failed (%s); retrying as two halves", len(batch), reason)
        left = self._fetch_splitting(one, batch[:half], fmap, statuses)
        right = self._fetch_splitting(one, batch[half:], fmap, statuses)
        return FetchedBatch(
            left.issues + right.issues,
            {**left.transitions, **right.transitions},
            left.changelog_complete | right.changelog_complete,
            left.failed_ids | right.failed_ids,
            {**left.truncated, **right.truncated},
        )

    def _fetch_cloud(self, batch: list[int], fmap: FieldMap, statuses: StatusMap) -> FetchedBatch:
        # The changelog comes embedded (the newest 40 histories, with the total): complete for
        # almost every issue, which saves a changelog/bulkfetch request per batch. Issues with more
        # histories are handed back as ``truncated``; fetch() completes them in groups.
        body = {
            "issueIdsOrKeys": [str(i) for i in batch],
            "fields": fmap.request_fields,
            "fieldsByKeys": False,
            "expand": ["changelog"],
        }
        raw = self.transport.post("/rest/api/3/issue/bulkfetch", body, check=checks.bulk_issues(batch))
        issues: list[IssueRow] = []
        transitions: dict[int, list[TransitionRow]] = {}
        truncated: dict[int, tuple[IssueRow, list[dict[str, Any]]]] = {}
        for item in raw.get("issues") or []:
            row = normalize_issue(item, fmap, statuses)
            changelog = item.get("changelog")
            histories = (changelog or {}).get("histories") or []
            total = (changelog or {}).get("total")
            if changelog is not None and isinstance(total, int) and len(histories) >= total:
                issues.append(row)
                transitions[row.id] = normalize_histories(row.id, histories, statuses, fmap)
            else:
                truncated[row.id] = (row, histories)
        returned = {int(i["id"]) for i in raw.get("issues") or []}
        errors = {int(e["id"]) for e in raw.get("issueErrors") or [] if str(e.get("id", "")).isdigit()}
        failed = self._account_for(set(batch) - returned - errors) | (errors - returned)
        return FetchedBatch(issues, transitions, set(transitions), failed_ids=failed, truncated=truncated)

    def _account_for(self, absent: set[int]) -> set[int]:
        """Ids a fetch did not return and did not list as errors: proven gone (404) or failed.

        Jira leaves out issues that no longer exist or that the user may not see; anything else a
        server leaves out is a fault, so each absent id is asked for alone: 404 proves it gone
        (dropped from the batch silently, as Jira does), an answer means the batch lost it — it is
        counted as failed, so the sync says so and the cursor stays behind it.
        """
        if not absent:
            return set()
        _gone, there = self.missing(sorted(absent))
        if there:
            log.warning("%d issue(s) exist but were missing from a batch answer: %s", len(there), sorted(there)[:10])
        return there

    def _changelogs_completer(self, group: Mapping[int, tuple[IssueRow, list[dict[str, Any]]]]):
        """A fetch function (ids → :class:`FetchedBatch`) reading the full changelogs of ``group``."""

        def complete(ids: list[int], fmap: FieldMap, statuses: StatusMap) -> FetchedBatch:
            histories = self._cloud_changelogs(ids, fmap)
            transitions: dict[int, list[TransitionRow]] = {}
            for i in ids:
                merged = {int(h["id"]): h for h in group[i][1]}
                merged.update(histories.get(i, {}))
                transitions[i] = normalize_histories(i, merged.values(), statuses, fmap)
            return FetchedBatch([group[i][0] for i in ids], transitions, set(ids))

        return complete

    def _cloud_changelogs(self, ids: list[int], fmap: FieldMap) -> dict[int, dict[int, dict[str, Any]]]:
        """Full changelogs of ``ids`` (≤ 1000) from ``changelog/bulkfetch``, by issue and history id.

        Only the fields kept (status, assignee, parent, and the scope ledger's custom fields) are asked for.
        """
        histories: dict[int, dict[int, dict[str, Any]]] = {}
        field_ids = list(fmap.changelog_fields())
        # Jira takes at most 10 fieldIds; with more (many per-project overrides) it is asked for all.
        filtered = len(field_ids) <= CLOUD_CHANGELOG_FIELD_IDS

        def fetch(token: str | None, check: Any = None) -> dict[str, Any]:
            req: dict[str, Any] = {
                "issueIdsOrKeys": [str(i) for i in ids],
                "maxResults": CLOUD_CHANGELOG_PAGE,
            }
            if filtered:
                req["fieldIds"] = field_ids
            if token:
                req["nextPageToken"] = token
            return self.transport.post("/rest/api/3/changelog/bulkfetch", req,
                                       check=checks.both(check, checks.changelog_ids(ids)))

        pager = TokenPaginator(fetch, items_key="issueChangeLogs", key=None,
                               endpoint="POST /rest/api/3/changelog/bulkfetch")
        for page in pager:
            for log_ in page:
                bucket = histories.setdefault(int(log_["issueId"]), {})
                for h in log_.get("changeHistories") or []:
                    bucket[int(h["id"])] = h
        return histories

    def _fetch_dc(self, batch: list[int], fmap: FieldMap, statuses: StatusMap) -> FetchedBatch:
        jql = f"id in ({','.join(str(i) for i in batch)}) ORDER BY id"
        fields = ",".join(fmap.request_fields)

        def fetch(start_at: int, max_results: int, check: Any = None) -> dict[str, Any]:
            params = {
                "jql": jql,
                "fields": fields,
                "expand": "changelog",
                "startAt": start_at,
                "maxResults": max_results,
                "validateQuery": "false",
            }
            return self.transport.get("/rest/api/2/search", params=params, check=check)

        issues: list[IssueRow] = []
        transitions: dict[int, list[TransitionRow]] = {}
        complete: set[int] = set()
        pager = OffsetPaginator(fetch, page_size=len(batch), endpoint="GET /rest/api/2/search",
                                check_items=checks.only_ids(batch))
        returned: set[int] = set()
        for page in pager:
            returned.update(int(i["id"]) for i in page)
            done = self._dc_issues(page, fmap, statuses)
            issues.extend(done.issues)
            transitions.update(done.transitions)
            complete |= done.changelog_complete
        return FetchedBatch(issues, transitions, complete, failed_ids=self._account_for(set(batch) - returned))

    def _dc_issues(self, page: list[dict[str, Any]], fmap: FieldMap, statuses: StatusMap) -> FetchedBatch:
        """A Data Center search page of full issues as rows; changelogs the search cut short are read
        whole, one request per issue, in parallel. An issue deleted before its changelog could be read
        is left out."""
        rows: list[tuple[IssueRow, list[dict[str, Any]]]] = []
        short: dict[int, tuple[IssueRow, list[dict[str, Any]]]] = {}
        complete: set[int] = set()
        for raw in page:
            row = normalize_issue(raw, fmap, statuses)
            changelog = raw.get("changelog") or {}
            histories = changelog.get("histories") or []
            total = changelog.get("total", len(histories))
            if len(histories) >= total:
                complete.add(row.id)
                rows.append((row, histories))
            else:
                short[row.id] = (row, histories)
        if short:
            pool = self._changelog_executor()
            calls = {i: pool.submit(self._dc_full_changelog, i, embedded) for i, (_row, embedded) in short.items()}
            for issue_id, call in calls.items():
                histories, ok = call.result()
                if histories is None:  # deleted between the search and this read
                    continue
                if ok:
                    complete.add(issue_id)
                rows.append((short[issue_id][0], histories))
        transitions = {row.id: normalize_histories(row.id, histories, statuses, fmap) for row, histories in rows}
        return FetchedBatch([row for row, _ in rows], transitions, complete)

    def _changelog_executor(self) -> ThreadPoolExecutor:
        # Its own pool: a fetch worker waits on these reads, so they cannot queue behind fetch batches.
        if self._changelog_pool is None:
            self._changelog_pool = ThreadPoolExecutor(max_workers=self.max_workers, thread_name_prefix="jira-changelog")
        return self._changelog_pool

    def _dc_full_changelog(self, issue_id: int,
                           embedded: list[dict[str, Any]]) -> tuple[list[dict[str, Any]] | None, bool]:
        try:
            raw = self.transport.get(f"/rest/api/2/issue/{issue_id}",
                                     params={"expand": "changelog", "fields": "status"},
                                     check=checks.json_object)
        except JiraNotFoundError:
            return None, False
        changelog = (raw or {}).get("changelog") or {}
        histories = changelog.get("histories") or []
        merged = {int(h["id"]): h for h in [*embedded, *histories]}
        total = changelog.get("total", len(histories))
        return list(merged.values()), len(merged) >= total

    # -- full read (Data Center) ----------------------------------------------------------------
    @property
    def reads_full_pages(self) -> bool:
        """Whether a full sync reads whole issues page by page (:meth:`read_full`) instead of sweep + fetch.

        Data Center: its search returns full issues with their changelogs by offset, so the pages
        themselves are the read; Cloud's search gives ids to bulk-fetch.
        """
        return not self.is_cloud

    def read_full(self, jql: str, fmap: FieldMap) -> FullRead:
        """Every issue matching ``jql`` (ending ``ORDER BY id``) in full, page by page (Data Center).

        Iterate it for :class:`FetchedBatch` es; afterwards :attr:`FullRead.complete` says whether the
        read is proven whole (see :class:`FullRead`).
        """
        return FullRead(self, jql, fmap)

    # -- worklogs -------------------------------------------------------------------------------
    def worklogs_since(self, since: datetime) -> Iterator[WorklogPage]:
        """Worklogs changed since ``since`` (``worklog/updated`` → ``worklog/list``), then deletions.

        Each page's ``until`` is the cursor to store once the page is committed.
        """
        since_ms = int(_as_utc(since).timestamp() * 1000)
        for values, until in self._changed_pages("/rest/api/2/worklog/updated", since_ms):
            ids = [int(v["worklogId"]) for v in values]
            rows: list[WorklogRow] = []
            for i in range(0, len(ids), WORKLOG_LIST_CHUNK):
                chunk = ids[i : i + WORKLOG_LIST_CHUNK]
                raw = self.transport.post("/rest/api/2/worklog/list", {"ids": chunk}, check=checks.worklog_list(chunk))
                rows.extend(normalize_worklog(w) for w in raw)
            self._progress("worklogs", len(rows))
            yield WorklogPage(rows, [], until)
        for values, until in self._changed_pages("/rest/api/2/worklog/deleted", since_ms):
            yield WorklogPage([], [int(v["worklogId"]) for v in values], until)

    def _changed_pages(self, path: str, since_ms: int) -> Iterator[tuple[list[dict[str, Any]], datetime | None]]:
        seen: set[int] = set()
        while True:
            page = self.transport.get(path, params={"since": since_ms}, check=checks.worklog_changes)
            values = page.get("values") or []
            until_ms = page.get("until")
            until = parse_datetime(int(until_ms)) if until_ms is not None else None
            yield values, until
            if page.get("lastPage", True) or not values or until_ms is None:
                return
            if int(until_ms) in seen or int(until_ms) < since_ms:
                message = f"loop detected: {path} returned until={until_ms} again; stopping."
                raise JiraPaginationError(message)
            seen.add(int(until_ms))
            since_ms = int(until_ms)


def _as_utc(dt: datetime) -> datetime:
    return dt.replace(tzinfo=timezone.utc) if dt.tzinfo is None else dt.astimezone(timezone.utc)


def _unique_batches(ids: Iterable[int], size: int) -> Iterator[list[int]]:
    """``ids`` in batches of ``size``, each id once, read lazily."""
    seen: set[int] = set()
    batch: list[int] = []
    for raw in ids:
        issue_id = int(raw)
        if issue_id in seen:
            continue
        seen.add(issue_id)
        batch.append(issue_id)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


#: How far below Cloud's approximate count a sweep may read and still count as complete: the count
#: may lag recent deletions. The larger of :data:`COUNT_TOLERANCE_ISSUES` issues and this share.
COUNT_TOLERANCE_SHARE = 0.001
COUNT_TOLERANCE_ISSUES = 2


def count_tolerance(count: int) -> int:
    """Issues a Cloud sweep may read fewer than ``count`` (the approximate count) and be complete."""
    return max(COUNT_TOLERANCE_ISSUES, int(count * COUNT_TOLERANCE_SHARE))


class Sweep:
    """One id sweep: iterate it for pages of :class:`IssueRef`; afterwards, is it complete?

    ``read`` is the number of distinct issues read; ``server_count`` the server's own count (Data
    Center: ``total`` of the last page; Cloud: ``search/approximate-count``, asked alongside the
    first page). :attr:`complete` is True only when every page was read and the two agree —
    exactly on Data Center, within :func:`count_tolerance` below the count on Cloud (reading more
    than the count is fine: issues created during the sweep).
    """

    def __init__(self, connector: JiraConnector, jql: str) -> None:
        self.connector = connector
        self.jql = jql
        self.read = 0
        self.server_count: int | None = None
        self.finished = False
        self._pager: TokenPaginator | OffsetPaginator | None = None

    @property
    def shrank(self) -> bool:
        """Data Center: whether the server's count fell during the read (pages may have shifted)."""
        return isinstance(self._pager, OffsetPaginator) and self._pager.shrank

    def __iter__(self) -> Iterator[list[IssueRef]]:
        conn = self.connector
        cloud = conn.is_cloud
        count_call = conn._executor().submit(conn.count, self.jql) if cloud else None
        page_size = CLOUD_SWEEP_PAGE if cloud else DC_SWEEP_PAGE
        # Data Center: once the first page gives the count, the other pages are read in parallel.
        pager = search_pager(conn.transport.get, self.jql, "updated", cloud=cloud, page_size=page_size,
                             submit=conn._executor().submit, in_flight=conn.max_workers)
        self._pager = pager
        for page in pager:
            refs = [
                IssueRef(id=int(i["id"]), key=str(i.get("key") or ""),
                         updated=required_datetime((i.get("fields") or {}).get("updated"), f"issue {i['id']}: updated"))
                for i in page
            ]
            self.read += len(refs)
            conn._progress("swept", len(refs))
            yield refs
        if count_call is not None:
            self.server_count = count_call.result()
        else:
            assert isinstance(pager, OffsetPaginator), "Data Center pages by offset"
            self.server_count = pager.total
        self.finished = True

    @property
    def complete(self) -> bool:
        """Whether the read is proven complete (see the class docstring)."""
        if not self.finished or self.server_count is None:
            return False
        if self.connector.is_cloud:
            return self.read >= self.server_count - count_tolerance(self.server_count)
        return self.read == self.server_count and not self.shrank

    def describe(self) -> str:
        """``read 1,115 issues; the server counts 1,115``, for messages."""
        counted = "no count" if self.server_count is None else f"{self.server_count:,}"
        how = " (approximate)" if self.connector.is_cloud else ""
        shrank = " and counted fewer during the read (issues left the scope as it was read)" if self.shrank else ""
        return f"read {self.read:,} issues; the server counts {counted}{how}{shrank}"


class FullRead:
    """A Data Center full read: iterate it for :class:`FetchedBatch` es, one per search page.

    The first page gives the count; the other pages are asked for in parallel (see
    :class:`~connectors.jira.paginators.OffsetPaginator`), each page's issues normalized as it
    arrives. :attr:`complete` is True only when every page was read, the distinct issues read equal
    the server's count and the count never fell during the read. A page the server keeps failing
    (5xx) ends the read early: :attr:`failed` holds the error and :attr:`complete` is False — the
    caller then proves the scope with a sweep and fetches what the read did not reach.
    """

    def __init__(self, connector: JiraConnector, jql: str, fmap: FieldMap) -> None:
        self.connector = connector
        self.jql = jql
        self.fmap = fmap
        self.read = 0
        self.server_count: int | None = None
        self.finished = False
        self.shrank = False
        self.failed: JiraServerError | None = None

    def __iter__(self) -> Iterator[FetchedBatch]:
        conn = self.connector
        statuses = conn.statuses()
        fields = ",".join(self.fmap.request_fields)
        pager = search_pager(conn.transport.get, self.jql, fields, cloud=False, page_size=DC_FULL_PAGE,
                             submit=conn._executor().submit, in_flight=conn.max_workers,
                             params={"expand": "changelog"})
        assert isinstance(pager, OffsetPaginator), "Data Center pages by offset"
        try:
            for page in pager:
                self.read += len(page)
                self.server_count = pager.total
                batch = conn._dc_issues(page, self.fmap, statuses)
                conn._progress("fetched", len(batch.issues))
                yield batch
        except (JiraThrottledError, JiraAnswerError):
            raise  # the server asked to stop, or answers what cannot be believed: reading by id would not help
        except JiraServerError as exc:
            log.warning("The full read stopped at a page the server kept failing (%s); the rest is read by "
                        "id instead", exc)
            self.failed = exc
            return
        finally:
            self.server_count = pager.total
            self.shrank = pager.shrank
        self.finished = True

    @property
    def complete(self) -> bool:
        """Whether the read is proven whole (see the class docstring)."""
        return (self.finished and self.failed is None and not self.shrank and self.server_count is not None
                and self.read == self.server_count)

    def describe(self) -> str:
        """``read 1,115 issues; the server counts 1,115``, for messages."""
        counted = "no count" if self.server_count is None else f"{self.server_count:,}"
        shrank = " and counted fewer during the read" if self.shrank else ""
        stopped = "; a page kept failing" if self.failed is not None else ""
        return f"read {self.read:,} issues in full; the server counts {counted}{shrank}{stopped}"
