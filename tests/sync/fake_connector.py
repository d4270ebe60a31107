"""An in-memory connector implementing the JiraConnector API over rows a test builds."""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from connectors.jira.rows import FieldRow, IssueRef, IssueRow, TransitionRow, WorklogRow


@dataclass
class FakeServerInfo:
    deployment: str = "cloud"
    version: str = "1001.0.0"
    base_url: str = "https://fake.atlassian.net"
    time_zone: str = "UTC"


@dataclass
class FakeFieldMap:
    rows: list[FieldRow]
    warnings: list[str] = field(default_factory=list)


@dataclass
class FakeBatch:
    issues: list[IssueRow]
    transitions: dict[int, list[TransitionRow]]
    changelog_complete: set[int]
    failed_ids: set[int] = field(default_factory=set)


@dataclass
class FakeWorklogPage:
    rows: list[WorklogRow]
    deleted_ids: list[int]
    until: datetime | None


@dataclass
class FakeStats:
    requests: int = 0
    retries: int = 0
    throttled: int = 0
    by_endpoint: dict = field(default_factory=dict)


class FakeCrash(RuntimeError):
    """Raised by the fake to simulate a crash mid-sync."""


class FakeConnector:
    """Answers sweep/fetch/worklogs from ``issues`` (id → IssueRow) and friends, recording JQL."""

    def __init__(self, issues=(), transitions=None, worklogs=(), *, time_zone="UTC", batch_size=2, now=None):
        self.issues: dict[int, IssueRow] = {i.id: i for i in issues}
        self.transitions: dict[int, list[TransitionRow]] = dict(transitions or {})
        self.worklogs: dict[int, WorklogRow] = {w.id: w for w in worklogs}
        self.deleted_worklogs: dict[int, datetime] = {}
        self.info = FakeServerInfo(time_zone=time_zone)
        self.batch_size = batch_size
        self.now = now or datetime(2025, 3, 1, tzinfo=timezone.utc)
        self.stats = FakeStats()
        self.jqls: list[str] = []
        self.fetched: list[list[int]] = []
        self.fail_on_batch: int | None = None
        self.incomplete_changelog: set[int] = set()
        self.failing: set[int] = set()

    # -- the connector API ------------------------------------------------------------------

    def server_info(self):
        self.stats.requests += 1
        return self.info

    def discover_fields(self, overrides=None, extra=None, project_overrides=None):
        self.stats.requests += 1
        rows = [FieldRow("summary", "Summary", False, "string"),
                FieldRow("customfield_1", "Story Points", True, "number", "story_points")]
        rows += [FieldRow(f"customfield_9{n}", name, True, "string", f"extra:{name}")
                 for n, name in enumerate(extra or [])]
        return FakeFieldMap(rows)

    def sweep(self, jql):
        self.jqls.append(jql)
        matching = sorted((i for i in self.issues.values() if self._matches(i, jql)), key=lambda i: i.id)
        for start in range(0, len(matching), 3):
            self.stats.requests += 1
            yield [IssueRef(i.id, i.key, i.updated) for i in matching[start:start + 3]]

    def fetch(self, ids, fmap):
        ids = list(ids)
        for number, start in enumerate(range(0, len(ids), self.batch_size)):
            if self.fail_on_batch is not None and number == self.fail_on_batch:
                raise FakeCrash(f"connection lost on batch {number}")
            chunk = [i for i in ids[start:start + self.batch_size] if i in self.issues]
            failing = {i for i in chunk if i in self.failing}
            chunk = [i for i in chunk if i not in failing]
            self.stats.requests += 1
            self.fetched.append(chunk)
            yield FakeBatch(
                issues=[self.issues[i] for i in chunk],
                transitions={i: list(self.transitions.get(i, [])) for i in chunk},
                changelog_complete={i for i in chunk if i not in self.incomplete_changelog},
                failed_ids=failing,
            )

    def worklogs_since(self, since):
        self.stats.requests += 1
        rows = sorted((w for w in self.worklogs.values() if w.updated >= since), key=lambda w: w.id)
        deleted = sorted(i for i, at in self.deleted_worklogs.items() if at >= since)
        yield FakeWorklogPage(rows, deleted, self.now)

    # -- editing the fake Jira ---------------------------------------------------------------

    def edit(self, issue_id, **changes):
        """Change an issue the way Jira would: fields change and ``updated`` moves to now."""
        self.now += timedelta(minutes=5)
        self.issues[issue_id] = replace(self.issues[issue_id], updated=self.now, **changes)

    def delete(self, issue_id):
        del self.issues[issue_id]
        self.transitions.pop(issue_id, None)

    # -- a tiny JQL reader --------------------------------------------------------------------

    def _matches(self, issue, jql):
        projects = re.search(r"project in \(([^)]*)\)", jql)
        if projects and issue.project_key not in [p.strip().strip('"') for p in projects.group(1).split(",")]:
            return False
        since = re.search(r'updated >= "([^"]+)"', jql)
        if since:
            start = datetime.strptime(since.group(1), "%Y/%m/%d %H:%M").replace(tzinfo=ZoneInfo(self.info.time_zone))
            if issue.updated < start:
                return False
        return True

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return None


class FakeFullRead:
    """A Data Center style full read over the fake's issues: pages of whole issues, then a verdict.

    ``drop`` are ids the pages skip (as pages shifted by a deletion would); ``complete`` is what the
    read says about itself afterwards (a real read compares its count with the server's).
    """

    def __init__(self, fake, jql, *, drop=(), complete=True):
        self.fake, self.jql, self.drop, self._complete = fake, jql, set(drop), complete
        self.read = 0
        self.server_count = None
        self.finished = False

    def __iter__(self):
        matching = sorted((i for i in self.fake.issues.values() if self.fake._matches(i, self.jql)),
                          key=lambda i: i.id)
        self.server_count = len(matching)
        shown = [i for i in matching if i.id not in self.drop]
        for start in range(0, len(shown), self.fake.batch_size):
            chunk = [i.id for i in shown[start:start + self.fake.batch_size]]
            self.fake.stats.requests += 1
            self.read += len(chunk)
            yield FakeBatch(issues=[self.fake.issues[i] for i in chunk],
                            transitions={i: list(self.fake.transitions.get(i, [])) for i in chunk},
                            changelog_complete=set(chunk))
        self.finished = True

    @property
    def complete(self):
        return self.finished and self._complete

    def describe(self):
        return f"read {self.read} issues in full; the server counts {self.server_count}"


class FakeFullReadConnector(FakeConnector):
    """A fake whose full syncs read whole pages (``reads_full_pages``), like a Data Center site."""

    reads_full_pages = True

    def __init__(self, *args, drop=(), complete=True, **kwargs):
        super().__init__(*args, **kwargs)
        self.drop, self.read_complete = drop, complete
        self.full_reads: list[str] = []

    def read_full(self, jql, fmap):
        self.full_reads.append(jql)
        return FakeFullRead(self, jql, drop=self.drop, complete=self.read_complete)
