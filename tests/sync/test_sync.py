"""The sync stages over a fake connector: full, crash and resume, incremental, time zones, worklogs."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from fake_connector import FakeConnector, FakeCrash
from rollup_rows import T0, make_issue, make_transitions, make_worklog
from store_rows import store_rows

from connectors.jira.rows import FieldRow
from rollup.config import parse_config
from rollup.jobs.sync import IssuesNotRead, SyncScope, incremental_jql, jql_date, sync
from rollup.store import Store

SCOPE = SyncScope(jql="project in (PAY, SCH)", extra_fields=["Investment"])
NOW = datetime(2025, 3, 1, 12, 0, tzinfo=timezone.utc)


def org(count=10):
    """``count`` issues across PAY and SCH plus one out-of-scope OTHER issue."""
    issues = [make_issue(i, f"{'PAY' if i % 2 else 'SCH'}-{i}") for i in range(1, count + 1)]
    issues.append(make_issue(99, "OTHER-99"))
    transitions = {i.id: make_transitions(i, 1 + i.id % 3) for i in issues}
    worklogs = [make_worklog(1000 + i, i) for i in (1, 2, 3)] + [make_worklog(1099, 99)]
    return issues, transitions, worklogs


def contents(store: Store):
    """Everything a sync writes that must be identical between two stores."""
    frames = store_rows(store)
    return frames["issues"], frames["transitions"], frames["worklogs"]


def test_full_sync_stores_the_scope(store):
    fake = FakeConnector(*org())
    result = sync(store, fake, SCOPE, now=NOW)
    assert (result.mode, result.new, result.changed, result.unchanged, result.deleted) == ("full", 10, 0, 0, 0)
    assert store.all_issue_ids() == set(range(1, 11))
    assert result.worklogs == 3  # OTHER-99's worklog is outside the scope
    assert fake.jqls == ["project in (PAY, SCH) ORDER BY id ASC"]  # one sweep serves fetch and deletions
    assert store.get_datetime("issues.updated_hwm") == max(i.updated for i in fake.issues.values() if i.id != 99)
    assert store.get_state("server.deployment") == "cloud"
    assert "Investment" in {f["name"] for f in store.field_rows()}
    [run] = store.sync_run_rows()
    assert (run["status"], run["mode"], run["issues_new"]) == ("ok", "full", 10)
    assert run["requests"] == result.requests > 0
    assert result.store == store.location


def test_second_sync_fetches_only_what_changed(store):
    fake = FakeConnector(*org())
    sync(store, fake, SCOPE, now=NOW)
    fake.fetched.clear()
    result = sync(store, fake, SCOPE, now=NOW)
    assert result.mode == "incremental"
    assert (result.new, result.changed, result.deleted) == (0, 0, 0)
    assert fake.fetched == []


def test_crash_mid_sync_then_resume_equals_a_clean_sync(store, tmp_path):
    issues, transitions, worklogs = org(12)
    crashing = FakeConnector(issues, transitions, worklogs)
    crashing.fail_on_batch = 3  # batches 0..2 (6 issues) are committed first
    with pytest.raises(FakeCrash):
        sync(store, crashing, SCOPE, now=NOW)
    assert len(store.all_issue_ids()) == 6
    assert store.get_state("issues.updated_hwm") is None  # the failed run did not move the cursor
    failed = store.sync_run_rows()[-1]
    assert failed["status"] == "failed" and "batch 3" in failed["error"]

    crashing.fail_on_batch = None
    crashing.fetched.clear()
    resumed = sync(store, crashing, SCOPE, now=NOW)
    assert sorted(i for batch in crashing.fetched for i in batch) == list(range(7, 13))  # only the rest
    assert (resumed.new, resumed.unchanged) == (6, 6)

    with Store.open(f"sqlite:///{tmp_path / 'clean.db'}") as clean:
        sync(clean, FakeConnector(issues, transitions, worklogs), SCOPE, now=NOW)
        assert contents(store) == contents(clean)
        assert store.get_state("issues.updated_hwm") == clean.get_state("issues.updated_hwm")


def test_crash_after_cursor_was_set_rereads_from_the_old_cursor(store):
    fake = FakeConnector(*org())
    sync(store, fake, SCOPE, now=NOW)
    cursor = store.get_state("issues.updated_hwm")
    for issue_id in (2, 4, 6, 8):
        fake.edit(issue_id, summary=f"edited {issue_id}")
    fake.fail_on_batch = 1
    with pytest.raises(FakeCrash):
        sync(store, fake, SCOPE, now=NOW)
    assert store.get_state("issues.updated_hwm") == cursor
    fake.fail_on_batch = None
    result = sync(store, fake, SCOPE, now=NOW)
    assert result.changed == 2  # the two committed before the crash are skipped
    assert {r["id"] for r in store.issue_rows() if r["summary"].startswith("edited")} == {2, 4, 6, 8}
    assert len(store.transition_rows()) == sum(len(t) for k, t in fake.transitions.items() if k != 99)


def test_incremental_picks_edits_new_deletions_and_moves(store):
    fake = FakeConnector(*org())
    sync(store, fake, SCOPE, now=NOW)
    fake.edit(3, status="Done", status_category="done")
    fake.now += timedelta(minutes=1)
    fake.issues[11] = make_issue(11, "PAY-11", updated=fake.now)
    fake.edit(5, key="SCH-50", project_key="SCH")  # moved within scope: same id, new key
    fake.edit(7, key="OTHER-7", project_key="OTHER")  # moved out of scope
    fake.delete(9)

    result = sync(store, fake, SCOPE, now=NOW + timedelta(hours=1))
    assert (result.mode, result.new, result.changed, result.deleted) == ("incremental", 1, 2, 0)
    assert not result.deletion_sweep  # the last sweep is only an hour old

    result = sync(store, fake, SCOPE, now=NOW + timedelta(hours=25))
    assert result.deletion_sweep and result.deleted == 2
    stored = {r["id"]: r for r in store.issue_rows()}
    assert set(stored) == {1, 2, 3, 4, 5, 6, 8, 10, 11}
    assert stored[3]["status_category"] == "done"
    assert stored[5]["key"] == "SCH-50"
    assert fake.jqls[-1] == "project in (PAY, SCH) ORDER BY id ASC"  # the deletion sweep


def test_incremental_jql_uses_user_time_zone_and_overlap(store):
    fake = FakeConnector(*org(), time_zone="America/Los_Angeles")
    sync(store, fake, SCOPE, now=NOW)
    cursor = store.get_datetime("issues.updated_hwm")
    assert cursor == T0 + timedelta(hours=10)  # 2025-01-06 19:00 UTC
    fake.jqls.clear()
    sync(store, fake, SCOPE, now=NOW)
    # 19:00 UTC - 15 min overlap = 18:45 UTC = 10:45 in Los Angeles (PST, UTC-8)
    assert fake.jqls[0] == '(project in (PAY, SCH)) AND updated >= "2025/01/06 10:45" ORDER BY id ASC'


def test_since_overrides_the_cursor_and_full_rereads_everything(store):
    fake = FakeConnector(*org(), time_zone="Europe/Berlin")
    sync(store, fake, SCOPE, now=NOW)
    fake.jqls.clear()
    result = sync(store, fake, SCOPE, since=datetime(2025, 1, 6, 14, 0, tzinfo=timezone.utc), now=NOW)
    assert result.mode == "since"
    assert fake.jqls[0] == '(project in (PAY, SCH)) AND updated >= "2025/01/06 15:00" ORDER BY id ASC'
    assert result.unchanged == 6  # ids 5..10 updated at 14:00 UTC or later, all already stored
    fake.fetched.clear()
    result = sync(store, fake, SCOPE, full=True, now=NOW)
    assert result.mode == "full" and result.unchanged == 10 and fake.fetched == []


def test_incomplete_changelog_is_fetched_again(store):
    fake = FakeConnector(*org(4))
    fake.incomplete_changelog = {2}
    sync(store, fake, SCOPE, now=NOW)
    fake.incomplete_changelog = set()
    fake.fetched.clear()
    result = sync(store, fake, SCOPE, full=True, now=NOW)
    assert fake.fetched == [[2]] and result.changed == 1


def test_worklogs_upserted_deleted_and_cursor_moved(store):
    fake = FakeConnector(*org())
    sync(store, fake, SCOPE, now=NOW)
    assert store.get_datetime("worklogs.since") == fake.now
    fake.now += timedelta(hours=1)
    fake.worklogs[1001] = make_worklog(1001, 1, seconds=99, updated=fake.now)
    fake.worklogs.pop(1002)
    fake.deleted_worklogs[1002] = fake.now
    result = sync(store, fake, SCOPE, now=NOW)
    assert (result.worklogs, result.worklogs_deleted) == (1, 1)
    assert {w["id"]: w["seconds"] for w in store.worklog_rows()} == {1001: 99, 1003: 3600}


def test_scope_from_config():
    config = parse_config("jira:\n  projects: [PAY]\n  extra_fields: [Investment]\nsync:\n  overlap_minutes: 30\n")
    scope = SyncScope.from_config(config)
    assert scope.jql == "project in (PAY)"
    assert scope.overlap == timedelta(minutes=30)
    assert scope.extra_fields == ["Investment"]


def test_jql_helpers():
    from zoneinfo import ZoneInfo

    instant = datetime(2025, 7, 1, 0, 59, 59, tzinfo=timezone.utc)
    assert jql_date(instant, ZoneInfo("Asia/Kolkata")) == "2025/07/01 06:29"
    assert incremental_jql("project = X", None, timezone.utc) == "project = X ORDER BY id ASC"


def test_issue_the_server_keeps_failing_holds_the_cursor(store):
    fake = FakeConnector(*org())
    fake.failing = {4}
    # The run says so (exit 1), not "ok" with an issue missing; everything else is stored.
    with pytest.raises(IssuesNotRead, match="1 issue") as failed:
        sync(store, fake, SCOPE, now=NOW)
    assert failed.value.result.failed == 1 and 4 not in store.all_issue_ids()
    assert len(store.all_issue_ids()) == 9
    assert store.get_datetime("issues.updated_hwm") == fake.issues[4].updated
    assert store.sync_run_rows()[-1]["status"] == "incomplete"
    fake.failing = set()
    result = sync(store, fake, SCOPE, now=NOW)
    assert result.new == 1 and 4 in store.all_issue_ids()


# -- Data Center: a full sync reads whole pages, without an id sweep ------------------------------

def test_full_sync_by_full_pages_needs_no_sweep(store):
    from fake_connector import FakeFullReadConnector

    fake = FakeFullReadConnector(*org())
    result = sync(store, fake, SCOPE, now=NOW)
    assert fake.full_reads == ["project in (PAY, SCH) ORDER BY id ASC"]
    assert fake.jqls == [] and fake.fetched == []  # no sweep, no fetch by id
    assert (result.mode, result.new, result.changed, result.unchanged) == ("full", 10, 0, 0)
    assert store.all_issue_ids() == set(range(1, 11))
    assert result.swept == 10 and result.worklogs == 3
    assert store.get_datetime("issues.updated_hwm") == max(i.updated for i in fake.issues.values() if i.id != 99)
    # With the issues stored, a full sync sweeps instead (cheaper) and fetches only what changed.
    fake.edit(3, summary="renamed")
    again = sync(store, fake, SCOPE, now=NOW, full=True)
    assert fake.full_reads == ["project in (PAY, SCH) ORDER BY id ASC"] and fake.fetched == [[3]]
    assert (again.new, again.changed, again.unchanged) == (0, 1, 9)
    assert {r["id"]: r["summary"] for r in store.issue_rows()}[3] == "renamed"


def test_a_field_map_change_reads_every_issue_again_by_full_pages(store):
    from fake_connector import FakeFullReadConnector

    fake = FakeFullReadConnector(*org())
    sync(store, fake, SCOPE, now=NOW)
    # As if the last sync had read the story points from another field: every issue must be read again.
    store.replace_fields([FieldRow("customfield_2", "Story Points", True, "number", "story_points")])
    fake.full_reads.clear()
    result = sync(store, fake, SCOPE, now=NOW)
    assert "story_points: customfield_2 → customfield_1" in result.fields_changed
    assert fake.full_reads and fake.jqls == [] and fake.fetched == []
    assert (result.new, result.changed, result.unchanged) == (0, 10, 0)


def test_full_read_that_cannot_prove_itself_is_followed_by_a_sweep_that_fetches_what_it_missed(store):
    from fake_connector import FakeFullReadConnector

    fake = FakeFullReadConnector(*org(), drop={4, 7}, complete=False)
    result = sync(store, fake, SCOPE, now=NOW)
    assert fake.jqls == ["project in (PAY, SCH) ORDER BY id ASC"]  # the sweep that proves the scope
    assert sorted(i for chunk in fake.fetched for i in chunk) == [4, 7]  # only what the read missed
    assert store.all_issue_ids() == set(range(1, 11))
    assert (result.new, result.changed, result.unchanged, result.swept) == (10, 0, 0, 10)


def test_full_read_missing_issues_deletes_nothing_it_did_not_prove_gone(store):
    from fake_connector import FakeFullReadConnector

    sync(store, FakeConnector(*org()), SCOPE, now=NOW)
    fake = FakeFullReadConnector(*org(), drop={2, 5}, complete=False)
    result = sync(store, fake, SCOPE, now=NOW, full=True)
    assert result.deleted == 0
    assert store.all_issue_ids() == set(range(1, 11))
