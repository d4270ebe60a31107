"""Fixtures for the mapping tests: the synced sample organisation."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def sample():
    """The sample organisation (seed 7, 3,000 issues) served by the local Jira and synced into SQLite.

    Yields ``(org, database_url, issues frame)``.
    """
    import tempfile

    from connectors.jira import JiraConnector
    from rollup.frames import load_frames
    from rollup.jobs.demo import demo_scope, demo_settings, local_jira
    from rollup.jobs.sync import sync
    from rollup.localjira.sampleorg import SampleOrg
    from rollup.store import Store

    org = SampleOrg.generate(seed=7, issues=3000)
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'sample.db'}"
        with Store.open(url) as store:
            with local_jira(org, "cloud") as server:
                with JiraConnector(demo_settings(server.url, "cloud"), max_workers=4) as connector:
                    sync(store, connector, demo_scope("cloud"))
            issues = load_frames(store).issues
        yield org, url, issues
