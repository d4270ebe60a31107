"""``rollup sync`` as a real process, SIGKILLed mid-way, then run again: nothing lost, nothing doubled."""

from __future__ import annotations

import json
import random
import signal
import sqlite3
import subprocess
import time
from pathlib import Path

import pytest
from e2e_helpers import (
    FLAVOURS,
    PROJECT_KEYS,
    TEAM_FIELDS,
    assert_same_content,
    clean_sync,
    integrity,
    live_ids,
    rollup_process,
    serve,
    transition_counts,
)

from rollup.localjira import Faults, SampleOrg
from rollup.localjira.credentials import demo_environment
from rollup.store import STATE_ISSUES_HWM, Store

KILL_AFTER = 200  # issues committed (two batches of 100) before the kill


def write_config(path: Path, flavour: str) -> Path:
    path.write_text(
        "jira:\n"
        f"  projects: [{', '.join(PROJECT_KEYS)}]\n"
        f"  fields: {{team: {TEAM_FIELDS[flavour][0]}}}\n"
        "  extra_fields: [Investment]\n"
        f"  deployment: {flavour}\n"
        "sync:\n"
        "  max_workers: 1\n"
    )
    return path


def sync_process(config: Path, url: str, db: Path, flavour: str, cwd: Path) -> subprocess.Popen:
    return rollup_process(["sync", "--config", str(config), "--format", "json"], cwd=cwd, db=db,
                          env=demo_environment(url, flavour))


def stored_issue_count(db: Path) -> int:
    if not db.exists():
        return 0
    try:
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=1) as conn:
            return conn.execute("SELECT count(*) FROM issues").fetchone()[0]
    except sqlite3.OperationalError:  # schema not created yet
        return 0


@pytest.mark.parametrize("flavour", FLAVOURS)
def test_killed_sync_resumes_to_a_clean_store(flavour, tmp_path):
    org = SampleOrg.generate(seed=41, issues=600)
    total = len(live_ids(org))
    db = tmp_path / "rollup.db"
    config = write_config(tmp_path / "mappings.yaml", flavour)
    # ~0.5 s of server time per batch of 100 issues: the killed run commits batches one by one.
    faults = Faults(latency_ms=10, per_issue_ms=5)
    with serve(org, flavour, faults) as server:
        proc = sync_process(config, server.url, db, flavour, tmp_path)
        try:
            deadline = time.monotonic() + 60
            while stored_issue_count(db) < KILL_AFTER:
                assert proc.poll() is None, proc.communicate()
                assert time.monotonic() < deadline, "the sync committed nothing in 60 s"
                time.sleep(0.02)
            proc.send_signal(signal.SIGKILL)
        finally:
            proc.kill()
            proc.wait(timeout=10)
        assert proc.returncode == -signal.SIGKILL

        assert integrity(db) == "ok"
        with Store.open(f"sqlite:///{db}") as store:
            killed_count = store.counts()["issues"]
            assert KILL_AFTER <= killed_count < total, "the kill came too late to test anything"
            assert store.get_state(STATE_ISSUES_HWM) is None, "the cursor moved during the killed run"
            # Each committed batch is whole: every stored issue has its full changelog.
            want = transition_counts(org)
            got: dict[int, int] = {}
            for t in store.transition_rows():
                got[t["issue_id"]] = got.get(t["issue_id"], 0) + 1
            assert all(got.get(r["id"], 0) == want[r["id"]] for r in store.issue_rows())

        faults.update(latency_ms=0, per_issue_ms=0)
        proc = sync_process(config, server.url, db, flavour, tmp_path)
        out, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err
    result = json.loads(out)
    assert result["unchanged"] >= killed_count, result  # the committed batches were not fetched again
    assert result["new"] == total - result["unchanged"]

    with Store.open(f"sqlite:///{db}") as store:
        assert store.counts()["issues"] == total
        assert store.get_state(STATE_ISSUES_HWM) is not None
        # The killed run is in the history as abandoned, not left "running" for ever.
        assert [r["status"] for r in store.sync_run_rows()] == ["abandoned", "ok"]
        with clean_sync(org, flavour, f"sqlite:///{tmp_path / 'clean.db'}") as clean:
            assert_same_content(store, clean)


#: Kill points (seconds after start) drawn by seed: before the schema exists, mid-sweep, mid-fetch, near the end.
KILL_SEED, KILL_TRIALS = 20261201, 3


@pytest.mark.parametrize("flavour", FLAVOURS)
def test_sync_killed_at_random_points_always_resumes_to_a_clean_store(flavour, tmp_path):
    rng = random.Random(KILL_SEED + len(flavour))
    org = SampleOrg.generate(seed=43, issues=400)
    config = write_config(tmp_path / "mappings.yaml", flavour)
    faults = Faults(latency_ms=10, per_issue_ms=3)
    with serve(org, flavour, faults) as server, clean_sync(org, flavour, f"sqlite:///{tmp_path / 'clean.db'}") as clean:
        for trial in range(KILL_TRIALS):
            db = tmp_path / f"kill-{trial}.db"
            delay = rng.uniform(0.05, 1.5)
            proc = sync_process(config, server.url, db, flavour, tmp_path)
            time.sleep(delay)
            proc.send_signal(signal.SIGKILL)
            proc.wait(timeout=10)
            if db.exists():
                with sqlite3.connect(db) as conn:
                    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok", (trial, delay)
            rerun = sync_process(config, server.url, db, flavour, tmp_path)
            _out, err = rerun.communicate(timeout=120)
            assert rerun.returncode == 0, (trial, delay, err)
            with Store.open(f"sqlite:///{db}") as store:
                assert_same_content(store, clean)
                statuses = [r["status"] for r in store.sync_run_rows()]
                # A run the kill reached is abandoned; one that beat the kill finished ok.
                assert statuses[-1] == "ok" and set(statuses[:-1]) <= {"abandoned", "ok"}, (trial, delay, statuses)
