"""The demo workbook (``make demo``) read back: its figures agree, it says nothing it cannot back, no placeholders.

The sample organisation is synced from the local Jira, linted and reported as ``rollup demo``
does; then the portfolio workbook and a team workbook built from the same store are checked by
:func:`workbook_checks.check_workbook`, and every cell is scanned for placeholder text and for ids
where names belong.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from openpyxl import load_workbook
from sheets import table
from workbook_checks import check_workbook, placeholder_cells, row_of

from rollup.config import load_config
from rollup.views.allocation import ktlo_buckets, strategy_buckets

ROOT = Path(__file__).resolve().parents[2]
CONFIG = load_config(ROOT / "mappings.yaml")
NAMES = {b.id: b.name for b in CONFIG.buckets}
KTLO = {NAMES[b] for b in ktlo_buckets(CONFIG)}
CAPEX = {NAMES[b] for b in strategy_buckets(CONFIG)}


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    from rollup.jobs.demo import run_demo
    from rollup.jobs.report import run_portfolio
    from rollup.store import Store

    folder = tmp_path_factory.mktemp("demo")
    url = f"sqlite:///{folder / 'rollup.db'}"
    result = run_demo(CONFIG, url, out_dir=folder / "out")
    with Store.open(url) as store:
        team = run_portfolio(store, CONFIG, as_of=date(2026, 11, 23), team="payments", out_dir=folder / "out")
    return result.report, team, result.lint


@pytest.mark.slow
def test_demo_summary_and_chart_titles_agree_with_the_sheets(demo):
    report, _, _ = demo
    wb = load_workbook(report.workbook)
    got = check_workbook(wb, report.charts["okr-progress"][1].parent, ktlo_buckets=KTLO, capex_buckets=CAPEX)
    # The demo's key results: Q3 is over, so its four are missed or done; every key result nothing
    # contributes to is named as such.
    assert sum(got["key_results"].values()) == 12
    okrs = [r for r in table(wb["OKRs"]) if r["Level"] == "key result"]
    for r in okrs:
        if not r["Epics"]:
            assert r["Status"] in ("no work planned", "missed") and r["Status"] != "on track"
        if r["Quarter"] == "2026-Q3":
            assert r["Status"] in ("missed", "done"), r["Key result"]
    # Single-key-result OKRs get their epics: none of those key results is left empty.
    singles = {o.key_results[0].name for o in CONFIG.okrs if len(o.key_results) == 1}
    assert all(r["Epics"] for r in okrs if r["Key result"] in singles)
    assert 5 <= len(got["insights"]) <= 8
    # At least five sentences cite epics, each key linked to Jira beside its sentence.
    summary = wb["Summary"]
    first = row_of(summary, "What you should know this week", exact=True) + 1
    cited = {}
    for r in range(first, first + len(got["insights"])):
        keys = [c for c in summary[r] if c.column > 1 and c.value]
        assert all(c.hyperlink and c.hyperlink.target.endswith(f"/browse/{c.value}") for c in keys)
        if keys:
            cited[r] = [c.value for c in keys]
    assert len(cited) >= 5, cited


@pytest.mark.slow
def test_demo_workbooks_have_no_placeholder_text_and_show_names_not_ids(demo):
    report, team, lint = demo
    assert placeholder_cells(load_workbook(lint.workbook)) == []
    ids = ({p.id for p in CONFIG.pillars} | {b.id for b in CONFIG.buckets} | {t.id for t in CONFIG.teams}
           | {o.id for o in CONFIG.okrs} | {k.id for o in CONFIG.okrs for k in o.key_results})
    for path in (report.workbook, team.workbook):
        wb = load_workbook(path)
        assert placeholder_cells(wb) == [], path.name
        shown = [(ws.title, c.coordinate, c.value) for ws in wb.worksheets
                 for row in ws.iter_rows() for c in row if isinstance(c.value, str) and c.value in ids]
        assert shown == [], path.name


@pytest.mark.slow
def test_the_team_workbook_shows_the_same_hygiene_as_the_portfolio(demo):
    report, team, _ = demo
    portfolio, mine = load_workbook(report.workbook), load_workbook(team.workbook)
    check_workbook(mine, team.charts["okr-progress"][1].parent, ktlo_buckets=KTLO, capex_buckets=CAPEX)
    payments = next(r for r in table(portfolio["Teams"]) if r["Team"] == "Payments")["Hygiene"]
    quality = mine["Data quality"]
    by_team = {r["Team"]: r for r in table(quality, header_row=row_of(quality, "Hygiene by team", exact=True) + 1)}
    assert by_team["Payments"]["Hygiene"] == pytest.approx(payments)
    assert by_team["All teams"]["Hygiene"] == pytest.approx(payments)
    assert [r["Hygiene"] for r in table(mine["Teams"])] == [pytest.approx(payments)]
    summary = mine["Summary"]
    label = row_of(summary, "Active epics", exact=True)
    # The team's pillar shares are set against the portfolio's targets, and the heading says so.
    assert any(str(c.value).startswith("Pillars: the team's effort share vs the portfolio's target shares")
               for c in summary["A"])
    hygiene = next(c for c in summary[label] if c.value == "Hygiene score").column
    assert summary.cell(row=label + 1, column=hygiene).value == pytest.approx(payments)
