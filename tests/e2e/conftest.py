"""Fixtures for the end-to-end tests: a sample organisation synced once per flavour, read-only."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from e2e_helpers import FLAVOURS, clean_sync

from rollup.localjira import SampleOrg
from rollup.store import Store

#: The read-only organisation the module-level fixtures sync (tests that advance time make their own).
ORG_SEED, ORG_ISSUES = 7, 1000


@dataclass
class Synced:
    flavour: str
    org: SampleOrg
    store: Store


@pytest.fixture(scope="session")
def shared_org() -> SampleOrg:
    """Never mutate: tests that call ``advance`` generate their own organisation."""
    return SampleOrg.generate(seed=ORG_SEED, issues=ORG_ISSUES)


@pytest.fixture(scope="session", params=FLAVOURS)
def synced(request, shared_org, tmp_path_factory) -> Synced:
    """``shared_org`` fully synced over HTTP into a SQLite store, once per flavour."""
    flavour = request.param
    path = tmp_path_factory.mktemp(f"e2e-{flavour}") / "rollup.db"
    store = clean_sync(shared_org, flavour, f"sqlite:///{path}")
    yield Synced(flavour, shared_org, store)
    store.close()
