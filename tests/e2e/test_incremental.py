"""Incremental sync after time moves on in the local Jira: equal to a fresh full sync, far cheaper."""

from __future__ import annotations

from datetime import timedelta

import pytest
from e2e_helpers import (
    FLAVOURS,
    assert_same_content,
    clean_sync,
    live_ids,
    run_sync,
    scope,
    serve,
    stored_worklog_totals,
    worklog_totals,
)

from rollup.localjira import SampleOrg
from rollup.store import STATE_ISSUES_HWM, Store


@pytest.mark.parametrize("flavour", FLAVOURS)
def test_incremental_sync_equals_a_fresh_full_sync(flavour, database_url, tmp_path):
    """Runs on SQLite and on PostgreSQL (``database_url``), compared with a fresh SQLite sync."""
    org = SampleOrg.generate(seed=23, issues=400)
    # The deletion sweep runs on every sync here, so deletions are seen by the incremental run.
    every_sync = scope(flavour, deletion_sweep_every=timedelta(0))
    with Store.open(database_url) as store:
        with serve(org, flavour) as server:
            first = run_sync(store, server, flavour, sync_scope=every_sync)
            hwm_before = store.get_datetime(STATE_ISSUES_HWM)
            changes = org.advance(days=3, seed=1)
            assert changes["created"] and changes["deleted"] and changes["moved"] and changes["worklogs_deleted"]
            gone_worklogs = set(changes["worklogs_deleted"])
            assert gone_worklogs & {w["id"] for w in store.worklog_rows()}, \
                "pick an org whose deleted worklogs were synced"
            second = run_sync(store, server, flavour, sync_scope=every_sync)

        assert second.mode == "incremental"
        assert second.new == len(changes["created"])
        assert second.deleted == len(changes["deleted"])
        fetched = second.new + second.changed
        assert 0 < fetched <= first.new // 5, (fetched, first.new)
        assert store.get_datetime(STATE_ISSUES_HWM) > hwm_before

        by_key = {r["key"]: r for r in store.issue_rows()}
        for old, new in changes["moved"]:
            assert new in by_key and old not in by_key
        assert not set(changes["deleted"]) & set(by_key)
        assert not gone_worklogs & {w["id"] for w in store.worklog_rows()}
        assert {r["id"] for r in store.issue_rows()} == live_ids(org)
        assert stored_worklog_totals(store) == worklog_totals(org)

        with clean_sync(org, flavour, f"sqlite:///{tmp_path / 'fresh.db'}") as fresh:
            assert_same_content(store, fresh)


@pytest.mark.parametrize("flavour", FLAVOURS)
def test_incremental_sync_without_changes_fetches_nothing(flavour, tmp_path):
    org = SampleOrg.generate(seed=23, issues=300)
    with Store.open(f"sqlite:///{tmp_path / 'noop.db'}") as store, serve(org, flavour) as server:
        run_sync(store, server, flavour)
        before = server.stats_snapshot()["by_endpoint"]
        again = run_sync(store, server, flavour)
        after = server.stats_snapshot()["by_endpoint"]
    assert (again.mode, again.new, again.changed, again.deleted) == ("incremental", 0, 0, 0)
    fetch_endpoints = ("POST /rest/api/3/issue/bulkfetch", "POST /rest/api/3/changelog/bulkfetch")
    for ep in fetch_endpoints:
        assert after.get(ep, 0) == before.get(ep, 0)
