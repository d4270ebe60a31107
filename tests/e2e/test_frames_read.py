"""The store read into frames: SQLite's direct read gives exactly the frames SQLAlchemy's typed read gives."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pandas as pd
from e2e_helpers import run_sync, scope, serve

from rollup import frames
from rollup.config import load_config
from rollup.frames import load_frames
from rollup.jobs.report import snapshot_week
from rollup.localjira import SampleOrg
from rollup.store import Store

SAMPLE = load_config(Path(__file__).resolve().parents[2] / "mappings.yaml")


def test_sqlite_direct_read_equals_the_typed_read(tmp_path, monkeypatch):
    org = SampleOrg.generate(seed=41, issues=500)
    every_sync = scope("cloud", deletion_sweep_every=timedelta(0))
    with Store.open(f"sqlite:///{tmp_path / 'read.db'}") as store, serve(org, "cloud") as server:
        run_sync(store, server, "cloud", sync_scope=every_sync)
        changes = org.advance(days=4, seed=2)
        run_sync(store, server, "cloud", sync_scope=every_sync)
        assert changes["deleted"] and store.counts()["deleted_issues"], "some stored issues must be deleted"
        snapshot_week(store, SAMPLE, as_of=date(2026, 11, 23))
        direct = load_frames(store)
        # The same read through SQLAlchemy's result processing, as PostgreSQL is read.
        monkeypatch.setattr(frames, "_read_sqlite", lambda conn, table, query: frames._read_rows(conn, query))
        typed = load_frames(store)
    for name in ("issues", "transitions", "worklogs", "snapshots"):
        got, want = getattr(direct, name), getattr(typed, name)
        assert len(want), f"no {name} to compare"
        pd.testing.assert_frame_equal(got, want, check_exact=True, obj=name)
    # The columns a direct read converts itself hold what the typed read holds, value for value.
    issues = direct.issues
    assert issues["target_date"].notna().any() and issues["assignee_active"].isna().any()
    assert issues["labels"].map(len).gt(0).any() and issues["custom"].map(len).gt(0).any()
    assert direct.snapshots["as_of"].map(type).eq(date).all()
