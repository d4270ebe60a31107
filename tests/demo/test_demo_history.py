"""`rollup demo` lives six weeks of the sample organisation: its workbook shows real week-over-week."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest
from openpyxl import load_workbook

from rollup.config import load_config
from rollup.jobs.demo import run_demo
from rollup.jobs.report import read_snapshots
from rollup.store import Store

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    folder = tmp_path_factory.mktemp("demo")
    weeks = []
    result = run_demo(load_config(ROOT / "mappings.yaml"), f"sqlite:///{folder / 'demo.db'}", issues=400,
                      out_dir=folder / "out", on_week=weeks.append)
    return result, weeks, folder


@pytest.mark.slow
def test_the_demo_syncs_and_snapshots_each_of_six_weeks(demo):
    result, weeks, folder = demo
    assert [w.week for w in weeks] == ["2026-W43", "2026-W44", "2026-W45", "2026-W46", "2026-W47", "2026-W48"]
    assert [w.sync.mode for w in weeks] == ["full"] + ["incremental"] * 5
    assert all(w.sync.changed > 0 and w.epic_changes["slipped"] for w in weeks[1:])
    with Store.open(f"sqlite:///{folder / 'demo.db'}") as store:
        snaps = read_snapshots(store)
    assert sorted(snaps["week"].unique()) == [w.week for w in weeks]
    assert result.report.workbook.name == "portfolio-2026-W48.xlsx"
    # Each demo week sweeps for deletions: what Jira deleted during the weeks left the store.
    assert sum(w.sync.deleted for w in weeks) > 0
    assert result.store_counts["issues"] == result.issues_in_org


@pytest.mark.slow
def test_the_demo_workbook_shows_changes_of_many_kinds_and_six_week_trends(demo):
    result, weeks, _ = demo
    wb = load_workbook(result.report.workbook)
    rows = list(wb["Changes"].iter_rows(min_row=2, values_only=True))
    changes = [r for r in rows if r[1]]  # rows naming an epic (the note under the table names none)
    kinds = Counter(r[0] for r in changes)
    assert len(changes) >= 10 and len(kinds) >= 4, kinds
    assert {"new epic", "completed", "target date slipped", "pillar changed", "bucket changed"} <= set(kinds)
    slipped = {r[1]: r[7] for r in changes if r[0] == "target date slipped"}
    assert dict(weeks[-1].epic_changes["slipped"]) == slipped  # by the days the owners moved them
    note = [r[0] for r in rows if not r[1] and r[0]]
    assert note and note[0].startswith("Compared the epics as of 2026-11-23 (2026-W48) with the snapshot of 2026-W47")

    trend = wb["Trend"]
    header = [c.value for c in trend[1]]
    points = [r for r in trend.iter_rows(min_row=2, values_only=True) if r[1]]
    assert [r[header.index("ISO week")] for r in points] == [w.week for w in weeks]
    assert all(r[header.index("Hygiene")] is not None for r in points)
    assert all(r[header.index("Effort on strategy")] is not None for r in points)
    assert [r[header.index("Epics open")] + r[header.index("Epics done")] for r in points] == [
        w.snapshot for w in weeks]
    counts, mix = trend._charts
    assert all(len(list(_points(s))) == 6 for s in counts.series)
    assert len(mix.series) >= 3 and all(len(list(_points(s))) == 6 for s in mix.series)


def _points(series):
    ref = series.val.numRef.f  # e.g. 'Trend'!$C$2:$C$7
    first, last = ref.split("!")[1].replace("$", "").split(":")
    return range(int(first[1:]), int(last[1:]) + 1)
