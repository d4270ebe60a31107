"""Views against the hand-built organisation: every figure here is worked out in portfolio_org's docstring."""

from __future__ import annotations

from datetime import date

import pandas as pd
import pytest
from portfolio_org import AS_OF, MAPPINGS, SYNC_RUNS, mapped_issues, snapshots

from rollup.jobs.report import build_views, filter_team
from rollup.views import INPUTS, REGISTRY
from rollup.views import epics as epics_view
from rollup.views import okrs as okrs_view
from rollup.views import teams as teams_view
from rollup.views.allocation import effort, ktlo_buckets, strategy_buckets


@pytest.fixture(scope="module")
def views():
    return build_views(mapped_issues(), MAPPINGS, as_of=AS_OF, snapshots=snapshots(), sync_runs=SYNC_RUNS,
                       now=pd.Timestamp("2026-11-26T09:00Z"))


def test_epic_progress_projection_and_rag(views):
    e = views["epics"].set_index("key")
    assert e.loc["ENT-1", "progress"] == pytest.approx(12 / 22)
    assert e.loc["ENT-1", "progress_count"] == pytest.approx(3 / 5)
    assert e.loc["ENT-1", "projected_completion"] == pd.Timestamp("2027-01-05")
    assert e.loc["ENT-1", "days_late"] == 5
    assert e.loc["ENT-2", "projected_completion"] == pd.Timestamp("2026-12-08")
    assert e.loc["PLAT-1", "projected_completion"] == pd.Timestamp("2027-03-18")
    assert e.loc["GROW-1", "unit"] == "issues"
    assert e["rag"].to_dict() == {
        "ENT-1": "at risk", "ENT-2": "on track", "ENT-3": "on track", "RET-1": "off track", "RET-2": "done",
        "GROW-1": "not rated", "PLAT-1": "on track", "PLAT-2": "at risk", "PLAT-3": "on track", "UNM-1": "on track",
    }
    assert e.loc["ENT-1", "initiative_summary"] == "Hospital readiness"
    assert list(views["epics"]["pillar"].astype(str).unique()) == ["ENT", "RET", "GROW", "PLAT", "Unmapped"]


def test_pillar_shares_and_gaps(views):
    p = views["pillars"].set_index("pillar")
    assert p["effort"].to_dict() == {"ENT": 28, "RET": 8, "GROW": 0, "PLAT": 12, "Unmapped": 2}
    assert p["actual_share"].round(4).to_dict() == {"ENT": 0.56, "RET": 0.16, "GROW": 0.0, "PLAT": 0.24,
                                                    "Unmapped": 0.04}
    assert p.loc["ENT", "gap"] == pytest.approx(0.21)
    assert p.loc["GROW", "gap"] == pytest.approx(-0.15)
    assert p.loc["RET", "epics_done"] == 1 and p.loc["PLAT", "epics_open"] == 3


def test_allocation_rows_sum_to_total_effort(views):
    a = views["allocation"]
    total = effort(mapped_issues())["effort"].sum()
    for kind in ("month", "quarter"):
        assert a.loc[a["period_type"] == kind, "effort"].sum() == pytest.approx(total)
    month = a[(a["period_type"] == "month") & (a["period"] == "2026-11")]
    assert month["share"].sum() == pytest.approx(1.0)
    assert month.loc[month["pillar"] == "ENT", "effort"].sum() == 23


def test_okr_progress(views):
    okrs = views["okrs"]
    o = okrs[okrs["level"] == "key result"].set_index("key_result")
    assert o.loc["KR1", "progress"] == pytest.approx(18 / 34)
    assert o.loc["KR2", "progress"] == pytest.approx(10 / 14)
    assert o.loc["KR3", "progress"] == pytest.approx(8 / 13)
    assert o.loc["KR1", "epics"] == "ENT-1, ENT-3"
    assert o.loc["KR1", "expected"] == pytest.approx(57 / 92)


def test_week_over_week(views):
    c = views["changes"]
    got = {(str(k), key) for k, key in zip(c["change"], c["key"])}
    assert got == {("new epic", "UNM-1"), ("completed", "RET-2"), ("target date slipped", "ENT-3"),
                   ("scope growth", "PLAT-1"), ("pillar changed", "PLAT-3")}
    slipped = c[c["change"] == "target date slipped"].iloc[0]
    assert slipped["days_slipped"] == 15 and slipped["before"] == "2027-01-31"
    grew = c[c["change"] == "scope growth"].iloc[0]
    assert grew["scope_growth"] == pytest.approx(0.5) and (grew["before"], grew["after"]) == ("20", "30")
    assert set(c["baseline"]) == {"2026-11-19"}
    # Names where the reader looks, ids kept beside them; a pillar move reads as names.
    moved = c[c["change"] == "pillar changed"].iloc[0]
    assert (moved["pillar"], moved["pillar_name"], moved["team_id"], moved["team"]) == (
        "PLAT", "Platform reliability and compliance", "sch", "Scheduling")
    assert (moved["before"], moved["after"]) == ("Win enterprise hospitals", "Platform reliability and compliance")
    new = c[c["change"] == "new epic"].iloc[0]
    assert (new["pillar_name"], new["team"]) == ("Unmapped", "Unmapped")


def test_headline_and_decisions(views):
    h = views["headline"].set_index("measure")["value"]
    assert h["active_epics"] == 7
    assert h["strategy_share"] == pytest.approx(0.72)
    assert h["ktlo_share"] == pytest.approx(0.24)
    assert h["epics_at_risk"] == 3
    assert h["slipped_this_week"] == 1
    assert h["hygiene"] == pytest.approx(0.5)
    picks = views["decisions"]
    assert list(picks["key"]) == ["ENT-1", "ENT-3", "PLAT-2", "RET-1"] and picks["shown"].all()
    assert list(picks["rank"]) == [1, 2, 3, 4] and not picks["new_this_week"].any()
    assert ktlo_buckets(MAPPINGS) == {"ktlo", "support"}
    assert strategy_buckets(MAPPINGS) == {"new", "enh"}


def test_completeness(views):
    c = views["completeness"].set_index("measure")["value"]
    assert c["epics_unmapped"] == pytest.approx(0.1)
    assert c["changelogs_incomplete"] == pytest.approx(1 / 34)
    assert c["issues_without_estimate"] == pytest.approx(2 / 23)
    assert c["sync_age_hours"] == pytest.approx(10 + 55 / 60)
    assert c["retries_seen"] == 3


def test_teams(views):
    t = views["teams"].set_index("team_id")
    assert list(t.index) == ["pay", "sch", "clin", "Unmapped"]
    assert t.loc["pay", "effort"] == 20 and t.loc["pay", "epics_at_risk"] == 2
    given = {name: views[name] for name in ("epics", "effort", "missing_parents", "hygiene")}
    one = teams_view.compute(mapped_issues(), MAPPINGS, as_of=AS_OF, **given, allocation_window_days=None,
                             team="Payments")
    assert list(one["team_id"]) == ["pay"]


def test_a_team_s_okrs_are_the_key_results_its_epics_contribute_to():
    frame, team = filter_team(mapped_issues(), MAPPINGS, "Clinical records")
    def okrs_of(frame):
        epics = epics_view.compute(frame, MAPPINGS, as_of=AS_OF, lint=None, forecast=None)
        return okrs_view.compute(frame, MAPPINGS, as_of=AS_OF, epics=epics, team=team)

    okrs = okrs_of(frame)
    assert list(zip(okrs["level"], okrs["name"])) == [("objective", "Land 5 hospital systems"),
                                                      ("key result", "HL7 integration certified")]
    assert okrs_view.headline(okrs_view.summarise(okrs)) == "Key results: all 1 on track or done"
    frame.loc[frame["okr"].notna(), ["okr", "key_result"]] = None
    none = okrs_view.summarise(okrs_of(frame))
    assert okrs_view.headline(none) == "Key results: none that this team's epics contribute to"


def test_a_past_week_of_a_team_shows_the_team_s_changes_only():
    """W47 against W46 (a W48 snapshot is stored, so W47 reads its own snapshot): ENT-1's slip is Payments'."""
    def changes(team):
        frame, team_id = filter_team(mapped_issues(), MAPPINGS, team)
        return build_views(frame, MAPPINGS, as_of=date(2026, 11, 19), snapshots=snapshots(), sync_runs=SYNC_RUNS,
                           team=team_id)["changes"]

    assert list(changes("pay")["key"]) == ["ENT-1"]
    assert changes("sch").empty


@pytest.fixture(scope="module")
def empty_views():
    return build_views(mapped_issues().iloc[0:0], MAPPINGS, as_of=AS_OF)


@pytest.mark.parametrize("view", REGISTRY, ids=[v.name for v in REGISTRY])
def test_every_view_survives_an_empty_frame(view, empty_views):
    """Each view on an empty frame, given the earlier views of that frame and no report inputs."""
    given = dict.fromkeys(INPUTS) | empty_views
    out = view.compute(mapped_issues().iloc[0:0], MAPPINGS, as_of=AS_OF, **{n: given[n] for n in view.requires})
    assert isinstance(out, pd.DataFrame)
    assert isinstance(empty_views[view.name], pd.DataFrame)


@pytest.mark.parametrize("view", REGISTRY, ids=[v.name for v in REGISTRY])
def test_every_view_documents_its_columns(view):
    assert "olumns" in view.doc
