"""Fixtures for the lint tests: the sample organisation synced over real HTTP from the local Jira."""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pytest
from lint_helpers import REPO_ROOT


@dataclass
class SyncedSample:
    """The sample organisation, and what a sync of it from one flavour of the local Jira gives."""

    org: object
    flavour: str
    issues: pd.DataFrame
    transitions: pd.DataFrame


def synced_sample(flavour: str, issues: int = 3000, seed: int = 7) -> SyncedSample:
    """Generate the sample organisation, serve it, sync it with the real connector, load the frames."""
    from rollup.frames import load_frames
    from rollup.jobs.demo import sync_sample_org
    from rollup.localjira.sampleorg import SampleOrg
    from rollup.store import Store

    org = SampleOrg.generate(seed=seed, issues=issues)
    with tempfile.TemporaryDirectory() as tmp:
        with Store.open(f"sqlite:///{Path(tmp) / 'sample.db'}") as store:
            sync_sample_org(store, org, flavour, max_workers=4)
            frames = load_frames(store)
    return SyncedSample(org=org, flavour=flavour, issues=frames.issues, transitions=frames.transitions)


@pytest.fixture(scope="session", params=["cloud", "datacenter"])
def sample(request) -> SyncedSample:
    """The sample organisation (seed 7, 3,000 issues) synced from each flavour of the local Jira."""
    return synced_sample(request.param)


@pytest.fixture(scope="session")
def shipped_config():
    """The repository's mappings.yaml, parsed."""
    from rollup.config import load_config

    return load_config(REPO_ROOT / "mappings.yaml")
