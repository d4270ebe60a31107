"""Flow metrics worked out by hand: epic start, age in progress, cycle time, in progress against finished."""

from __future__ import annotations

from datetime import timedelta

import pandas as pd
from portfolio_org import _row
from test_forecast import AS_OF, Org, at

from rollup.config import parse_config
from rollup.views import flow

CONFIG = parse_config("jira: {projects: [PAY]}\n"
                      "teams:\n  - {id: pay, name: Payments, recognised_by: {projects: [PAY]}}\n")


def frame(org: Org) -> pd.DataFrame:
    rows = [_row(project_key="PAY", summary=f"Epic {r['key']}", id=n, **r) for n, r in enumerate(org.rows, start=1)]
    return pd.DataFrame(rows)


def test_start_age_cycle_time_and_pace():
    org = Org()
    day = lambda n: AS_OF - timedelta(days=n)  # noqa: E731
    # DONE-1: started 40 days ago (start date), done 10 days ago → cycle 30 days.
    org.epic("DONE-1", "pay", status="done", start=day(40))
    org.rows[-1]["resolved"] = at(day(10))
    org.children("DONE-1", "pay", done_on=[day(12)])
    # DONE-2: no start date; its first child was done 70 days ago; the epic done 20 days ago → 50 days.
    org.epic("DONE-2", "pay", status="done")
    org.rows[-1]["resolved"] = at(day(20))
    org.children("DONE-2", "pay", done_on=[day(70), day(25)])
    # PAY-1 in progress since its first child moved to In Progress 15 days ago (a transition): age 15.
    org.epic("PAY-1", "pay")
    org.children("PAY-1", "pay", open_=2)
    # PAY-2 in progress, start date 30 days ago: age 30, listed first.
    org.epic("PAY-2", "pay", start=day(30))
    issues = frame(org)
    child = int(issues.loc[issues["key"].eq("PAY-1-S1"), "id"].iloc[0])
    transitions = pd.DataFrame([{"issue_id": child, "history_id": 1, "field": "status", "at": at(day(15)),
                                 "from_value": "To Do", "to_value": "In Progress", "to_category": "indeterminate",
                                 "author_id": "x"}])
    out = flow.compute(issues, CONFIG, as_of=AS_OF, transitions=transitions)
    team = out[out["level"].eq("team") & out["team_id"].eq("pay")].iloc[0]
    assert (team["in_progress"], team["done_in_window"]) == (2, 2)
    assert team["cycle_p50_days"] == 40  # the median of 30 and 50
    assert team["done_per_4_weeks"] == 2 / (flow.WINDOW_DAYS / 28)
    assert team["weeks_of_wip"] == 2 / team["done_per_4_weeks"] * 4
    epics = out[out["level"].eq("epic")]
    assert epics["key"].tolist() == ["PAY-2", "PAY-1"] and epics["age_days"].tolist() == [30, 15]
    # Without the transition PAY-1 has not started: nothing of it is done, and it has no start date.
    without = flow.compute(issues, CONFIG, as_of=AS_OF, transitions=None)
    assert without[without["level"].eq("epic")]["key"].tolist() == ["PAY-2", "PAY-1"]
    assert pd.isna(without.set_index("key").loc["PAY-1", "age_days"])
