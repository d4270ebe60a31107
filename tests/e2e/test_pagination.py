"""Pagination over real HTTP: capped pages, short pages that are not the last, a repeated token."""

from __future__ import annotations

import pytest
from e2e_helpers import FLAVOURS, SCOPE_JQL, connect, live_ids, run_sync, serve

from connectors.jira.errors import JiraAnswerError
from rollup.localjira import Faults, SampleOrg
from rollup.store import STATE_ISSUES_HWM, Store

PAGE = 97  # the server's cap, far below what the connector asks for (5000 / 1000)


@pytest.mark.parametrize("flavour", FLAVOURS)
def test_sweep_reads_every_issue_once_across_capped_and_short_pages(flavour, shared_org):
    faults = Faults(seed=1, max_page_size=PAGE, short_page_rate=0.4)
    with serve(shared_org, flavour, faults) as server, connect(server, flavour) as conn:
        pages = list(conn.sweep(f"{SCOPE_JQL} ORDER BY id ASC"))
        searches = server.stats_snapshot()["by_endpoint"]
    ids = [ref.id for page in pages for ref in page]
    assert len(ids) == len(set(ids)), "an issue came back twice"
    assert set(ids) == live_ids(shared_org), "issues were skipped"
    if flavour == "cloud":  # Data Center's pages after the first are read in parallel, yielded as they arrive
        assert ids == sorted(ids)
    # The server really paged, and really served short pages before the last one.
    assert all(len(p) <= PAGE for p in pages)
    short = [len(p) for p in pages[:-1] if len(p) < PAGE]
    assert short, [len(p) for p in pages]
    assert len(pages) >= len(ids) // PAGE + 1
    endpoint = "GET /rest/api/3/search/jql" if flavour == "cloud" else "GET /rest/api/2/search"
    assert searches[endpoint] == len(pages)


@pytest.mark.parametrize("flavour", FLAVOURS)
def test_sync_with_short_pages_loses_no_issue(flavour, tmp_path):
    # Data Center's full fetch ("id in (…)" searches of 100 ids) pages too under a cap of 37.
    org = SampleOrg.generate(seed=11, issues=300)
    faults = Faults(seed=2, max_page_size=37, short_page_rate=0.5)
    with Store.open(f"sqlite:///{tmp_path / 'short.db'}") as store, serve(org, flavour, faults) as server:
        result = run_sync(store, server, flavour)
        assert {r["id"] for r in store.issue_rows()} == live_ids(org)
        assert result.new == len(live_ids(org))
        assert result.failed == 0


def test_repeated_next_page_token_raises_loop_detected(tmp_path, shared_org):
    faults = Faults(max_page_size=100, repeat_token=True)
    with serve(shared_org, "cloud", faults) as server, connect(server, "cloud") as conn:
        with pytest.raises(JiraAnswerError, match="loop detected"):
            for _ in conn.sweep(f"{SCOPE_JQL} ORDER BY id ASC"):
                pass
        # Page 1, then page 2 asked six times (each answer handing back its own token), then stop:
        # retried like any bad answer, never spinning.
        assert server.stats_snapshot()["by_endpoint"]["GET /rest/api/3/search/jql"] == 1 + 6

        with Store.open(f"sqlite:///{tmp_path / 'loop.db'}") as store:
            with pytest.raises(JiraAnswerError, match="loop detected"):
                run_sync(store, server, "cloud")
            assert store.get_state(STATE_ISSUES_HWM) is None
            runs = store.sync_run_rows()
            assert [r["status"] for r in runs] == ["failed"] and "loop detected" in runs[0]["error"]
