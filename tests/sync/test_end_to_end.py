"""End to end over real HTTP: JiraConnector against the local Jira, both flavours, into the store."""

from __future__ import annotations

import pytest
from store_rows import store_rows  # noqa: E402

from connectors.jira import JiraConnector  # noqa: E402
from rollup.jobs.demo import demo_scope, demo_settings, live_issue_count, sync_sample_org  # noqa: E402
from rollup.jobs.sync import sync  # noqa: E402
from rollup.localjira import server as server_module  # noqa: E402
from rollup.localjira.sampleorg import SampleOrg  # noqa: E402
from rollup.store import Store  # noqa: E402

FLAVOURS = ["cloud", "datacenter"]


def run(store, org, flavour, **kwargs):
    return sync_sample_org(store, org, flavour, max_workers=4, **kwargs)


def keys_and_updated(store):
    return sorted((r["id"], r["key"], r["updated"], r["status"]) for r in store.issue_rows())


@pytest.mark.slow
@pytest.mark.parametrize("flavour", FLAVOURS)
def test_sync_then_incremental(flavour, tmp_path):
    org = SampleOrg.generate(seed=7, issues=400)
    with Store.open(f"sqlite:///{tmp_path / 'e2e.db'}") as store:
        result = run(store, org, flavour)
        assert result.mode == "full"
        assert store.counts()["issues"] == live_issue_count(org)
        assert store.counts()["transitions"] > 0

        org.advance(days=2)
        result = run(store, org, flavour, full=False)
        assert result.mode == "incremental"
        assert result.new + result.changed > 0
        result = run(store, org, flavour, full=True)  # the deletion sweep
        assert store.counts()["issues"] == live_issue_count(org)

        with Store.open(f"sqlite:///{tmp_path / 'clean.db'}") as clean:
            run(clean, org, flavour)
            assert keys_and_updated(store) == keys_and_updated(clean)


@pytest.mark.slow
@pytest.mark.parametrize("flavour", FLAVOURS)
def test_sync_under_faults_equals_a_clean_sync(flavour, tmp_path):
    from rollup.localjira.faults import Faults

    org = SampleOrg.generate(seed=7, issues=300)
    faults = Faults(seed=3, rate_limit_per_s=200, error_5xx_rate=0.25, reset_rate=0.05, truncate_rate=0.05)
    with (Store.open(f"sqlite:///{tmp_path / 'faulty.db'}") as faulty,
          Store.open(f"sqlite:///{tmp_path / 'clean.db'}") as clean):
        with server_module.LocalJira(org, flavour=flavour, faults=faults) as server:
            with JiraConnector(demo_settings(server.url, flavour), max_workers=4) as connector:
                result = sync(faulty, connector, demo_scope(flavour))
        assert result.retries > 0, result
        run(clean, org, flavour)
        assert store_rows(faulty) == store_rows(clean)
