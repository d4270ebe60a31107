"""The sync fault matrix, reduced and seeded for CI (``bench/fault_matrix.py`` runs the full set).

Every fault kind, on Cloud and Data Center, from an empty store, as a ``--full`` sync over a complete
store, and as the plain (incremental) sync a week later: each trial ends with exit 0 and a store identical
to a clean sync, or fails loudly with only true rows stored, nothing lost, and the next plain sync converging
to the clean sync.
"""

from __future__ import annotations

import pytest
from fault_matrix import MUST_FAIL, clean_content, matrix, run_trial

pytestmark = pytest.mark.faultmatrix

SEED, ISSUES = 41, 300


@pytest.fixture(scope="module")
def clean_runs(tmp_path_factory):
    cache: dict[str, tuple] = {}
    workdir = tmp_path_factory.mktemp("clean")

    def get(flavour: str, week_on: bool):
        if (flavour, week_on) not in cache:
            cache[flavour, week_on] = clean_content(SEED, ISSUES, flavour, workdir, week_on)
        return cache[flavour, week_on]

    return get


@pytest.mark.parametrize(("flavour", "kind", "start"), list(matrix()))
def test_a_faulty_server_never_makes_the_store_wrong(flavour, kind, start, clean_runs, tmp_path):
    trial = run_trial(kind, flavour, start, seed=SEED, issues=ISSUES, workdir=tmp_path,
                      clean=lambda week_on: clean_runs(flavour, week_on))
    assert trial.ok, (trial.outcome, trial.error)
    assert trial.injected > 0, f"the server injected no {kind} fault: the trial proves nothing"
    if kind in MUST_FAIL:
        assert trial.outcome == "failed loudly", trial
