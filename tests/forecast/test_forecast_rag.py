"""RAG by the forecast: on track, at risk and off track by the chance of making the target date, worked out by hand."""

from __future__ import annotations

from datetime import timedelta

import pandas as pd
from portfolio_org import _row
from test_forecast import AS_OF, Org

from rollup.config import parse_config
from rollup.views import epics as epics_view
from rollup.views import forecast as forecast_view

CONFIG = parse_config("jira: {projects: [PAY]}\n"
                      "teams:\n  - {id: pay, name: Payments, recognised_by: {projects: [PAY]}}\n"
                      "forecast: {trials: 4000, throughput_weeks: 4, wip: 1, split_rate: false, min_children: 0}\n")


def rated(org: Org) -> pd.DataFrame:
    frame = pd.DataFrame([_row(project_key="PAY", summary=f"Epic {r['key']}", **r) for r in org.rows])
    forecast = forecast_view.compute(frame, CONFIG, as_of=AS_OF, snapshots=None)
    return epics_view.compute(frame, CONFIG, as_of=AS_OF, lint=None, forecast=forecast).set_index("key")


def chance(rows: pd.DataFrame, key: str) -> float:
    return float(rows.loc[key, "rag_reason"].split("%")[0]) / 100


def test_the_chance_of_the_target_date_rates_the_epic():
    # In two of the last four weeks the team finished 4 items, in the other two none: each future
    # week is 4 or 0 items at even odds. Four epics of 4 items, WIP 1, in backlog order (target date,
    # then key): PAY-4 is done at 4 items, PAY-3 at 8, PAY-1 at 12, PAY-2 at 16.
    org = Org()
    org.epic("DONE-1", "pay", status="done")
    org.children("DONE-1", "pay", done_on=[AS_OF - timedelta(days=d) for d in (1, 1, 1, 1, 15, 15, 15, 15)])
    for key, days in (("PAY-1", 90), ("PAY-2", 90), ("PAY-3", 21), ("PAY-4", 20)):
        org.epic(key, "pay", target=AS_OF + timedelta(days=days))
        org.children(key, "pay", open_=4)
    rows = rated(org)
    # PAY-4: 2 whole weeks to its target; done unless both weeks are 0: 1 - 1/4 = 75 % → at risk.
    assert abs(chance(rows, "PAY-4") - 0.75) < 0.03 and rows.loc["PAY-4", "rag"] == "at risk"
    # PAY-3: 3 weeks, needs two weeks of 4 of three: 4 of the 8 outcomes = 50 % → at risk.
    assert abs(chance(rows, "PAY-3") - 0.5) < 0.03 and rows.loc["PAY-3", "rag"] == "at risk"
    # PAY-1: 12 weeks, needs 3 of 12: 1 - (1 + 12 + 66) / 4096 = 98 % → on track; PAY-2 needs 4 of 12:
    # 1 - (1 + 12 + 66 + 220) / 4096 = 93 % → on track.
    assert abs(chance(rows, "PAY-1") - 0.981) < 0.01 and rows.loc["PAY-1", "rag"] == "on track"
    assert abs(chance(rows, "PAY-2") - 0.927) < 0.015 and rows.loc["PAY-2", "rag"] == "on track"
    target = (AS_OF + timedelta(days=21)).isoformat()
    assert rows.loc["PAY-3", "rag_reason"].split("% ")[1].startswith(f"chance of making {target} (P85 20")


def test_no_chance_is_off_track_and_an_undated_epic_keeps_the_linear_rule():
    org = Org()
    org.epic("DONE-1", "pay", status="done")
    org.children("DONE-1", "pay", done_on=[AS_OF - timedelta(days=d) for d in (1, 8, 15, 22)])  # 1 a week
    org.epic("PAY-1", "pay", target=AS_OF + timedelta(days=14))  # 10 items at 1 a week: no chance in 2 weeks
    org.children("PAY-1", "pay", open_=10)
    org.epic("LOST-1", None, target=AS_OF + timedelta(days=14))
    org.children("LOST-1", None, open_=2)
    rows = rated(org)
    assert rows.loc["PAY-1", "rag"] == "off track"
    assert rows.loc["PAY-1", "rag_reason"].startswith(f"0% chance of making {(AS_OF + timedelta(days=14)).isoformat()}")
    assert rows.loc["LOST-1", "rag_reason"].endswith("(linear: no team mapped)")


def test_the_rule_printed_is_the_rule_in_force():
    assert epics_view.rag_rule(CONFIG).startswith("RAG rule — done")
    assert "chance of making it" in epics_view.rag_rule(CONFIG)
    linear = CONFIG.model_copy(update={"forecast": CONFIG.forecast.model_copy(update={"rag": False})})
    assert epics_view.rag_rule(linear) == epics_view.RAG_RULE


def snapshot(payloads: dict[str, dict], day) -> pd.DataFrame:
    """A stored snapshot of ``day`` holding ``payloads`` (key → payload)."""
    when = pd.Timestamp(day, tz="UTC")
    return pd.DataFrame([{"run_id": 1, "taken_at": when, "issue_id": n, "key": key, "payload": payload}
                         for n, (key, payload) in enumerate(payloads.items(), start=1)])


def test_the_p85_move_against_last_week_and_its_cause():
    # 2 items a week, constant: 4 items are P85 in week 2, 8 items in week 4.
    org = Org()
    org.epic("DONE-1", "pay", status="done")
    org.children("DONE-1", "pay", done_on=[AS_OF - timedelta(days=d) for d in (1, 2, 8, 9, 15, 16, 22, 23)])
    for key in ("PAY-1", "PAY-2", "PAY-3", "PAY-4"):
        org.epic(key, "pay", target=AS_OF + timedelta(days=90))
    org.children("PAY-1", "pay", open_=4)  # lane total 4: P85 = week 2
    org.children("PAY-2", "pay", open_=4)  # 8: week 4
    org.children("PAY-3", "pay", open_=4)  # 12: week 6
    org.children("PAY-4", "pay", open_=4)  # 16: week 8
    frame = pd.DataFrame([_row(project_key="PAY", summary=f"Epic {r['key']}", **r) for r in org.rows])
    week = timedelta(days=7)
    last = AS_OF - week

    def was(p85_weeks_from_now: int, items: float, per_week: float) -> dict:
        return {"p85": (AS_OF + p85_weeks_from_now * week).isoformat(), "forecast_items": items,
                "team_per_week": per_week}

    snaps = snapshot({
        "PAY-1": was(2, 4, 2.0),   # same date: no move
        "PAY-2": was(2, 2, 2.0),   # two items more now, two weeks later: scope added
        "PAY-3": was(3, 4, 2.8),   # same items, fewer a week now (2.0 from 2.8), later: throughput dropped
        "PAY-4": was(10, 6, 2.0),  # two items fewer, two weeks earlier: work finished
    }, last)
    rows = forecast_view.compute(frame, CONFIG, as_of=AS_OF, snapshots=snaps).set_index("key")
    assert rows.loc["PAY-1", "cause"] == "" and rows.loc["PAY-1", "p85_move_days"] == 0
    assert rows.loc["PAY-2", ["p85_move_days", "cause"]].tolist() == [14, "scope added (+2 items)"]
    assert rows.loc["PAY-3", ["p85_move_days", "cause"]].tolist() == [
        21, "throughput dropped (2.8 → 2.0 items a week)"]
    assert rows.loc["PAY-4", ["p85_move_days", "cause"]].tolist() == [-14, "work finished (-2 items)"]
    assert rows.loc["PAY-4", "p85_last_week"] == pd.Timestamp(AS_OF + 10 * week)
