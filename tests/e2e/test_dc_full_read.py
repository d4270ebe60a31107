"""Data Center at full speed over real HTTP: a full sync reads whole pages in parallel (no id sweep),
changelogs the search cut short are read per issue in parallel, the incremental sweep pages in
parallel — and a read that cannot prove itself whole is completed by a sweep, losing nothing."""

from __future__ import annotations

import math
from datetime import timedelta

from e2e_helpers import (
    TEST_BACKOFF_BASE,
    assert_same_content,
    live_ids,
    run_sync,
    scope,
    serve,
    settings,
    transition_counts,
)

from connectors.jira import JiraConnector, Transport
from connectors.jira.client import DC_FULL_PAGE
from rollup.jobs.sync import sync
from rollup.localjira import Faults, SampleOrg
from rollup.localjira.sampledata import T_EPIC, T_SUB
from rollup.store import Store

SEARCH = "GET /rest/api/2/search"
ISSUE = "GET /rest/api/2/issue/{idOrKey}"


class SweepingConnector(JiraConnector):
    """The connector reading a full sync the other way — id sweep, then ``id in (…)`` fetches."""

    reads_full_pages = False  # type: ignore[assignment]


def _sweep_and_fetch_sync(store, server):
    s = settings(server.url, "datacenter")
    transport = Transport(s, max_concurrency=4, backoff_base=TEST_BACKOFF_BASE)
    with SweepingConnector(s, max_workers=4, transport=transport) as conn:
        return sync(store, conn, scope("datacenter"))


def _stored_transition_counts(store):
    counts: dict[int, int] = {}
    for row in store.transition_rows():
        counts[row["issue_id"]] = counts.get(row["issue_id"], 0) + 1
    return counts


def test_full_sync_reads_whole_pages_in_parallel_without_a_sweep(tmp_path):
    org = SampleOrg.generate(seed=31, issues=900)
    live = live_ids(org)
    with serve(org, "datacenter", Faults(latency_ms=30)) as server:
        with Store.open(f"sqlite:///{tmp_path / 'pages.db'}") as store:
            result = run_sync(store, server, "datacenter")
            stats = server.stats_snapshot()
            assert {r["id"] for r in store.issue_rows()} == live
            assert (result.new, result.swept, result.server_count, result.failed) == (len(live),) * 3 + (0,)
            # Every search was a page of whole issues: no id sweep, no ``id in (…)`` fetch after it.
            assert stats["by_endpoint"][SEARCH] == math.ceil(len(live) / DC_FULL_PAGE)
            assert stats["peak_in_flight"][SEARCH] > 1, "the pages after the first were read one at a time"
            assert ISSUE not in stats["by_endpoint"]
            with Store.open(f"sqlite:///{tmp_path / 'sweep.db'}") as reference:
                _sweep_and_fetch_sync(reference, server)
                assert_same_content(store, reference)
        assert _stored_transition_counts(store) == {i: n for i, n in transition_counts(org).items() if n}


def test_changelogs_cut_short_by_the_search_are_read_per_issue_in_parallel(tmp_path):
    org = SampleOrg.generate(seed=32, issues=400)
    with serve(org, "datacenter", Faults(latency_ms=30, embedded_changelog_cap=1)) as server:
        with Store.open(f"sqlite:///{tmp_path / 'capped.db'}") as store:
            run_sync(store, server, "datacenter")
            stats = server.stats_snapshot()
            longer = [i for i, n in transition_counts(org).items() if n > 1]
            assert longer
            assert stats["by_endpoint"][ISSUE] >= len(longer)
            assert stats["peak_in_flight"][ISSUE] > 1, "the per-issue changelog reads ran one at a time"
            assert _stored_transition_counts(store) == {i: n for i, n in transition_counts(org).items() if n}
            assert all(r["changelog_complete"] for r in store.issue_rows())


def test_a_count_that_falls_during_the_full_read_is_completed_by_a_sweep(tmp_path):
    """An issue deleted while the pages are read shifts the later pages past one issue: the read says
    so (the count fell), a sweep finds the skipped issue, and it is fetched — nothing is lost."""
    org = SampleOrg.generate(seed=33, issues=600)
    with serve(org, "datacenter", Faults(max_page_size=50)) as server:
        search = server.dc_search
        parents = {org.parent[p] for p in range(org.size) if org.parent[p] >= 0}
        victim = min(p for p in range(org.size) if org.live(p) and p > 5 and p not in parents
                     and org.itype[p] not in (T_EPIC, T_SUB))
        calls = []

        def deleting(p):
            calls.append(p)
            if len(calls) == 3:
                org.deleted[victim] = 1  # under the server's lock, as a real deletion
                org.edits += 1  # the organisation changed: the next pages match afresh
            return search(p)

        server.dc_search = deleting
        with Store.open(f"sqlite:///{tmp_path / 'shift.db'}") as store:
            result = run_sync(store, server, "datacenter")
            # The deleted issue, read before it went, is marked deleted: the sweep is the scope's proof.
            assert {r["id"] for r in store.issue_rows() if r["deleted_at"] is None} == live_ids(org)
            assert result.deleted == 1 and org.issue_id(victim) not in live_ids(org)
            assert result.failed == 0 and result.server_count == result.swept == len(live_ids(org))
            # The sweep that proved the scope ran (ids only, pages of the server's cap).
            assert len(calls) > math.ceil(len(live_ids(org)) / 50) + 1


def test_incremental_sweep_pages_in_parallel_and_equals_a_fresh_sync(tmp_path):
    org = SampleOrg.generate(seed=34, issues=800)
    with serve(org, "datacenter", Faults(max_page_size=25, latency_ms=20)) as server:
        with Store.open(f"sqlite:///{tmp_path / 'inc.db'}") as store:
            every_sync = scope("datacenter", deletion_sweep_every=timedelta(0))
            run_sync(store, server, "datacenter", sync_scope=every_sync)
            changes = org.advance(days=20, seed=3)
            assert changes["deleted"] and changes["created"]
            server.peak_in_flight.clear()
            result = run_sync(store, server, "datacenter", sync_scope=every_sync)
            assert result.mode == "incremental" and result.swept > 25 * 3
            assert server.stats_snapshot()["peak_in_flight"][SEARCH] > 1, "the sweep pages ran one at a time"
            with Store.open(f"sqlite:///{tmp_path / 'fresh.db'}") as fresh:
                run_sync(fresh, server, "datacenter")
                kept = {r["id"]: r["updated"] for r in store.issue_rows() if r["deleted_at"] is None}
                assert kept == {r["id"]: r["updated"] for r in fresh.issue_rows()}
                assert set(kept) == live_ids(org)
