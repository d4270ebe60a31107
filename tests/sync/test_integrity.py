"""Sync integrity over the fake connector: soft deletes, the mass-delete guard, deletion proof,
field-map changes, incomplete sweeps, abandoned runs, the sync lock, NULs and error text."""

from __future__ import annotations

import dataclasses
import os
import subprocess
import sys
from datetime import datetime, timedelta, timezone

import pytest
from fake_connector import FakeConnector, FakeFieldMap
from rollup_rows import make_issue, make_transitions

from connectors.jira import FieldMap, normalize_issue
from connectors.jira.rows import FieldRow
from rollup.errors import describe_error
from rollup.frames import load_frames
from rollup.jobs.sync import SYNC_LOCK, MassDeleteRefused, SyncIncomplete, SyncScope, sync
from rollup.schedule.locks import JobLocked, job_lock
from rollup.store import Store

SCOPE = SyncScope(jql="project in (PAY, SCH)")
NOW = datetime(2025, 3, 1, 12, 0, tzinfo=timezone.utc)


def big_org(count: int = 40) -> FakeConnector:
    issues = [make_issue(i, f"{'PAY' if i % 2 else 'SCH'}-{i}") for i in range(1, count + 1)]
    return FakeConnector(issues, {i.id: make_transitions(i, 2) for i in issues}, batch_size=10)


def test_a_deleted_issue_is_kept_with_deleted_at_hidden_from_views_and_restored_when_seen_again(store):
    fake = big_org()
    sync(store, fake, SCOPE, now=NOW)
    gone = fake.issues[7]
    fake.delete(7)
    result = sync(store, fake, SCOPE, full=True, now=NOW + timedelta(hours=1))
    assert result.deleted == 1 and 7 not in store.all_issue_ids()
    [row] = store.deleted_issue_rows()
    assert row["key"] == "PAY-7" and row["deleted_at"] == NOW + timedelta(hours=1)
    frames = load_frames(store)
    assert 7 not in set(frames.issues["id"]) and 7 not in set(frames.transitions["issue_id"])
    assert store.counts()["deleted_issues"] == 1
    # Jira shows it again (a wrong deletion, or moved back into scope): the next sync restores it.
    fake.issues[7] = gone
    result = sync(store, fake, SCOPE, full=True, now=NOW + timedelta(hours=2))
    assert 7 in store.all_issue_ids() and store.deleted_issue_rows() == []
    assert result.changed == 1


def test_a_deletion_beyond_the_share_stops_with_the_counts_and_deletes_nothing(store):
    fake = big_org(40)
    sync(store, fake, SCOPE, now=NOW)
    for i in range(1, 13):  # 12 of 40 = 30 %
        fake.delete(i)
    with pytest.raises(MassDeleteRefused, match=r"delete 12 of the 40 stored issues \(30.0%\).*--allow-mass-delete"):
        sync(store, fake, SCOPE, full=True, now=NOW + timedelta(hours=1))
    assert len(store.all_issue_ids()) == 40
    assert store.sync_run_rows()[-1]["status"] == "incomplete"
    allowed = dataclasses.replace(SCOPE, allow_mass_delete=True)
    assert sync(store, fake, allowed, full=True, now=NOW + timedelta(hours=2)).deleted == 12
    assert len(store.all_issue_ids()) == 28


class MissedSweep(FakeConnector):
    """A server whose sweep leaves out issue 5 while it still lists it when asked by id."""

    def sweep(self, jql):
        for page in super().sweep(jql):
            yield [r for r in page if r.id != 5]

    def in_scope(self, jql, ids):
        return {i for i in ids if i in self.issues}


def test_deletion_needs_the_server_to_confirm_each_issue_gone(store):
    fake = big_org()
    sync(store, fake, SCOPE, now=NOW)
    missed = MissedSweep(list(fake.issues.values()), fake.transitions, batch_size=10)
    with pytest.raises(SyncIncomplete, match="missed 1 issue"):
        sync(store, missed, SCOPE, full=True, now=NOW + timedelta(hours=1))
    assert 5 in store.all_issue_ids()


class CountedSweep(list):
    """Sweep pages with the server's count (what the real connector's Sweep reports)."""

    def __init__(self, pages, read, count):
        super().__init__(pages)
        self.server_count, self.read = count, read
        self.complete = read == count

    def describe(self):
        return f"read {self.read} issues; the server counts {self.server_count}"


class ShortSweep(FakeConnector):
    def sweep(self, jql):
        pages = list(super().sweep(jql))[:-2]  # the last two pages never arrive
        read = sum(len(p) for p in pages)
        return CountedSweep(pages, read, read + 6)


def test_an_incomplete_sweep_stores_what_it_read_deletes_nothing_and_holds_the_cursor(store):
    fake = big_org(40)
    sync(store, fake, SCOPE, now=NOW)
    cursor = store.get_datetime("issues.updated_hwm")
    short = ShortSweep(list(fake.issues.values()), fake.transitions, batch_size=10)
    with pytest.raises(SyncIncomplete, match=r"read \d+ issues; the server counts \d+") as err:
        sync(store, short, SCOPE, full=True, now=NOW + timedelta(hours=1))
    assert err.value.result.swept < err.value.result.server_count
    assert len(store.all_issue_ids()) == 40  # nothing deleted
    assert store.get_datetime("issues.updated_hwm") == cursor


class RenamedField(FakeConnector):
    def discover_fields(self, overrides=None, extra=None, project_overrides=None):
        rows = [FieldRow("summary", "Summary", False, "string"),
                FieldRow("customfield_2", "Story Points", True, "number",
                                                                          "story_points")]
        return FakeFieldMap(rows)


def test_a_changed_field_map_reads_every_issue_again(store):
    fake = big_org(12)
    sync(store, fake, SCOPE, now=NOW)
    again = sync(store, fake, SCOPE, now=NOW + timedelta(hours=1))
    assert again.new + again.changed == 0  # nothing changed: nothing read
    renamed = RenamedField(list(fake.issues.values()), fake.transitions, batch_size=10)
    result = sync(store, renamed, SCOPE, now=NOW + timedelta(hours=2))
    assert result.fields_changed == ["story_points: customfield_1 → customfield_2"]
    assert result.changed == 12 and result.unchanged == 0


def test_a_sync_killed_earlier_is_recorded_as_abandoned(store):
    run = store.record_run(started=NOW, mode="full", status="running")
    sync(store, big_org(3), SCOPE, now=NOW)
    rows = {r["id"]: r for r in store.sync_run_rows()}
    assert rows[run]["status"] == "abandoned" and "killed or crashed" in rows[run]["error"]
    assert [r["status"] for r in rows.values()] == ["abandoned", "ok"]


def test_a_second_sync_on_the_same_store_refuses_naming_the_holder(tmp_path):
    db = tmp_path / "new" / "rollup.db"  # does not exist yet: the lock comes before the schema
    (tmp_path / "mappings.yaml").write_text("jira:\n  projects: [PAY]\n")
    with Store.open(f"sqlite:///{db}", create=False) as store, job_lock(store, SYNC_LOCK):
        assert not db.exists()
        env = {"ROLLUP_DATABASE_URL": f"sqlite:///{db}", "JIRA_URL": "http://127.0.0.1:9", "JIRA_PAT": "x",
               "PATH": "/usr/bin:/bin"}
        done = subprocess.run([sys.executable, "-m", "rollup.cli", "sync"], env=env, capture_output=True, text=True,
                              timeout=60, cwd=tmp_path)
        assert done.returncode == 1, done.stderr
        assert "another sync of the store" in done.stderr and f"pid {os.getpid()}" in done.stderr
        assert "Traceback" not in done.stderr
        with pytest.raises(JobLocked):
            with job_lock(store, SYNC_LOCK):
                pass


def test_nul_in_jira_text_is_replaced_the_same_way_for_every_store(store):
    raw = {"id": "5", "key": "PAY-5", "fields": {"summary": "bad\x00byte", "labels": ["a\x00b"],
                                                 "project": {"key": "PAY"}, "issuetype": {"name": "Story"},
                                                 "status": {"name": "Done"}, "created": "2025-01-01T00:00:00.000+0000",
                                                 "updated": "2025-01-02T00:00:00.000+0000",
                                                 "assignee": {"displayName": "Ann\x00e", "accountId": "a1"}}}
    row = normalize_issue(raw, FieldMap.discover([]))
    assert row.summary == "bad\ufffdbyte" and row.labels == ["a\ufffdb"] and row.assignee_name == "Ann\ufffde"
    # PostgreSQL refuses NUL in text; replaced at normalization, both stores hold the same row.
    store.upsert_batch([row], {5: []}, True)
    [stored] = store.issue_rows()
    assert (stored["summary"], stored["labels"],
            stored["assignee_name"]) == ("bad\ufffdbyte", ["a\ufffdb"], "Ann\ufffde")


def test_database_errors_are_described_without_sql_or_row_values(store):
    import sqlite3

    from sqlalchemy.exc import IntegrityError

    orig = sqlite3.IntegrityError("UNIQUE constraint failed: issues.key (PAY-1, 'Secret plan')")
    exc = IntegrityError("INSERT INTO issues (id, key, summary) VALUES (?, ?, ?)", (1, "PAY-1", "Secret plan"), orig)
    text = describe_error(exc)
    assert "IntegrityError" in text
    assert "INSERT" not in text and "Secret plan" not in text and "PAY-1" not in text


def test_worklogs_of_an_issue_that_failed_are_read_again_with_it(store):
    """The worklog cursor stays while an issue is unread, so its worklogs come with it next time."""
    from fake_connector import FakeConnector as Fake
    from rollup_rows import make_worklog

    from rollup.jobs.sync import IssuesNotRead

    issues = [make_issue(i, f"PAY-{i}") for i in range(1, 6)]
    fake = Fake(issues, {}, [make_worklog(500 + i, i) for i in range(1, 6)], batch_size=2)
    fake.failing = {3}
    with pytest.raises(IssuesNotRead):
        sync(store, fake, SCOPE, now=NOW)
    assert {w["issue_id"] for w in store.worklog_rows()} == {1, 2, 4, 5}
    fake.failing = set()
    sync(store, fake, SCOPE, now=NOW + timedelta(hours=1))
    assert {w["issue_id"] for w in store.worklog_rows()} == {1, 2, 3, 4, 5}
