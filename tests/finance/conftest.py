"""Finance fixtures: the sample organisation synced over HTTP once, and its generated rates CSV."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import pytest  # noqa: E402
from finance_helpers import ORG_ISSUES, ORG_SEED, served, sync_over_http  # noqa: E402


@pytest.fixture(scope="session")
def sample_store(tmp_path_factory) -> str:
    """A store of the sample organisation synced over HTTP, shared read-only (its database URL)."""
    from rollup.localjira.sampleorg import SampleOrg

    org = SampleOrg.generate(seed=ORG_SEED, issues=ORG_ISSUES)
    url = f"sqlite:///{tmp_path_factory.mktemp('finance-store') / 'rollup.db'}"
    with served(org) as server:
        sync_over_http(org, server, url, full=True)
    return url


@pytest.fixture(scope="session")
def sample_rates(tmp_path_factory) -> Path:
    """The sample organisation's rates CSV, generated from code."""
    from rollup.jobs.sample_rates import write_sample_rates
    from rollup.localjira.sampleorg import SampleOrg

    return write_sample_rates(SampleOrg.generate(seed=ORG_SEED, issues=300),
                              tmp_path_factory.mktemp("rates") / "rates.csv")
