"""Every Summary figure and chart title of the workbook agrees with the detail sheets behind it.

The hand-built organisation's workbook is read back and recomputed by
:func:`workbook_checks.check_workbook`; its results are compared with the figures worked out by
hand in portfolio_org's docstring. ``tests/report/test_demo_workbook.py`` runs the same check on
the demo workbook.
"""

from __future__ import annotations

import pandas as pd
import pytest
from openpyxl import load_workbook
from portfolio_org import AS_OF, BASE_URL, MAPPINGS, SYNC_RUNS, mapped_issues, snapshots
from sheets import table
from workbook_checks import check_workbook, placeholder_cells, row_of

from rollup.jobs.report import build_views, write_outputs
from rollup.views.allocation import ktlo_buckets, strategy_buckets

NAMES = {b.id: b.name for b in MAPPINGS.buckets}
KTLO = {NAMES[b] for b in ktlo_buckets(MAPPINGS)}
CAPEX = {NAMES[b] for b in strategy_buckets(MAPPINGS)}


def write(tmp_path, frame=None):
    views = build_views(mapped_issues() if frame is None else frame, MAPPINGS, as_of=AS_OF, snapshots=snapshots(),
                        sync_runs=SYNC_RUNS, now=pd.Timestamp("2026-11-26T09:00Z"))
    workbook, charts = write_outputs(views, tmp_path, as_of=AS_OF, base_url=BASE_URL)
    return load_workbook(workbook), charts["okr-progress"][1].parent


def test_summary_and_chart_titles_agree_with_the_sheets_behind_them(tmp_path):
    wb, chart_dir = write(tmp_path)
    got = check_workbook(wb, chart_dir, ktlo_buckets=KTLO, capex_buckets=CAPEX)
    assert (got["active"], got["at_risk"], got["slipped"]) == (7, 3, 1)
    assert got["hygiene"] == 0.5 and got["strategy"] == pytest.approx(0.72)
    assert got["key_results"] == {"done": 0, "on track": 2, "behind": 1, "no work planned": 1, "missed": 1}
    assert got["pillar_title"] == "Win enterprise hospitals: 21 pp over its 35% target share"
    assert got["decisions"] == (4, 4)
    assert len(got["insights"]) == 8
    # Eight of the nine open epics have a target date: the roadmap draws them all, and says so.
    roadmap = got["roadmap"]
    assert (len(roadmap["shown"]), roadmap["dated"], roadmap["listed"], roadmap["late"]) == (8, 8, 9, 3)
    assert roadmap["subtitle"].startswith("All 8 open epics with a target date; the Roadmap sheet lists all 9 open "
                                          "epics, 1 without a target date.")
    assert got["trend_title"] == "Epics at risk unchanged (3 → 3) over 2 weeks since 2026-11-12"


def test_each_cited_key_links_to_jira(tmp_path):
    wb, _ = write(tmp_path)
    ws = wb["Summary"]
    first = row_of(ws, "What you should know this week", exact=True) + 1
    cells = [c for c in ws[first] if c.value and c.column > 1]   # beside the sentence, one per key
    assert [c.value for c in cells] == ["ENT-1", "PLAT-2", "RET-1"]
    assert [c.hyperlink.target for c in cells] == [f"{BASE_URL}/browse/{k}" for k in ("ENT-1", "PLAT-2", "RET-1")]


def test_a_hidden_epic_is_on_data_quality_and_its_work_stays_on_the_epics_sheet(tmp_path):
    present, _ = write(tmp_path / "present")
    hidden, chart_dir = write(tmp_path / "hidden", mapped_issues(hidden=("PLAT-2",)))
    check_workbook(hidden, chart_dir, ktlo_buckets=KTLO, capex_buckets=CAPEX)
    quality = hidden["Data quality"]
    rows = table(quality, header_row=row_of(quality, "Issues whose epic, parent or initiative", exact=False) + 1)
    assert [(r["Missing key"], r["Missing"], r["Team"], r["Issues under it"], r["Issues"]) for r in rows] == [
        ("PLAT-2", "epic", "Payments", 2, "PLAT-2-S1, PLAT-2-S2")]
    measures = {r["Measure"]: r["Value"] for r in table(quality)}
    assert measures["Stories, tasks and bugs whose epic is not visible"] == 2
    epics_present, epics_hidden = table(present["Epics"]), table(hidden["Epics"])
    for column in ("Points total", "Points done", "Issues", "Issues done"):
        assert sum(r[column] or 0 for r in epics_present) == sum(r[column] or 0 for r in epics_hidden), column
    not_visible = [r for r in epics_hidden if r["Epic"] is None]
    assert [(r["Summary"], r["Team"], r["RAG"], r["Points total"]) for r in not_visible] == [
        ("Epic not visible: PLAT-2 (1 epic key)", "Payments", "epic not visible", 10)]
    for sheet in ("Allocation",):
        total = [sum(r["Effort"] for r in table(wb[sheet]) if r["Period type"] == "window") for wb in (present, hidden)]
        assert total[0] == total[1] == 50
    teams = [sum(r["Effort"] for r in table(wb["Teams"])) for wb in (present, hidden)]
    assert teams[0] == teams[1] == 50


def test_no_ids_where_names_belong_and_no_placeholder_text(tmp_path):
    wb, _ = write(tmp_path)
    assert placeholder_cells(wb) == []
    ids = ({p.id for p in MAPPINGS.pillars} | {b.id for b in MAPPINGS.buckets} | {t.id for t in MAPPINGS.teams}
           | {o.id for o in MAPPINGS.okrs} | {k.id for o in MAPPINGS.okrs for k in o.key_results})
    ids -= {"new", "done"}                 # also Jira's status categories, which the Category columns show
    shown = [(ws.title, c.coordinate, c.value) for ws in wb.worksheets
             for row in ws.iter_rows() for c in row if isinstance(c.value, str) and c.value in ids]
    assert shown == []
    # Headers name buckets too: the Trend sheet's allocation mix is headed by bucket names.
    mix = [c.value for c in wb["Trend"][1] if str(c.value).startswith("Bucket")]
    assert mix == [f"Bucket: {b.name}" for b in MAPPINGS.buckets]
