"""The portfolio forecast from mapped issues: allowances, WIP, split rate, roll-ups — checked by hand."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pandas as pd
import pytest

from rollup.config.forecast import ForecastOptions
from rollup.forecast import forecast
from rollup.forecast.plan import team_plans

AS_OF = date(2026, 11, 23)


def at(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, 12, tzinfo=timezone.utc)


class Org:
    """A hand-built mapped issues frame: epics under initiatives, children finished on given days."""

    def __init__(self) -> None:
        self.rows: list[dict] = []

    def add(self, key, level, **values):
        row = {"key": key, "hierarchy_level": level, "epic": None, "initiative": None, "team_id": None,
               "status_category": "new", "resolved": None, "created": at(date(2026, 9, 1)), "start_date": None,
               "target_date": None}
        row.update(values)
        self.rows.append(row)

    def epic(self, key, team, *, status="indeterminate", target=None, initiative=None, start=None):
        self.add(key, 1, epic=key, team_id=team, status_category=status, target_date=target, initiative=initiative,
                 start_date=start)

    def children(self, epic, team, *, open_=0, done_on=(), created=date(2026, 9, 1), prefix="S"):
        n = sum(1 for r in self.rows if r["epic"] == epic and r["hierarchy_level"] == 0)
        for day in done_on:
            n += 1
            self.add(f"{epic}-{prefix}{n}", 0, epic=epic, team_id=team, status_category="done", resolved=at(day),
                     created=at(created))
        for _ in range(open_):
            n += 1
            self.add(f"{epic}-{prefix}{n}", 0, epic=epic, team_id=team, status_category="indeterminate",
                     created=at(created))

    def frame(self) -> pd.DataFrame:
        return pd.DataFrame(self.rows)


def weekly(days_before: list[int]) -> list[date]:
    return [AS_OF - timedelta(days=d) for d in days_before]


def steady_team(org: Org, team: str = "pay", per_week: int = 2, weeks: int = 4, epic: str = "DONE-1") -> None:
    """A done epic whose children finished ``per_week`` in each of the last ``weeks`` weeks."""
    org.epic(epic, team, status="done")
    days = [7 * w + d for w in range(weeks) for d in range(per_week)]
    org.children(epic, team, done_on=weekly(days))


OPTIONS = ForecastOptions(trials=2000, throughput_weeks=4, split_rate=False, wip=1)


def test_constant_throughput_gives_one_date():
    # 2 items a week; 6 open items: 3 weeks, in every trial.
    org = Org()
    steady_team(org)
    org.epic("PAY-1", "pay", target=AS_OF + timedelta(days=21))
    org.children("PAY-1", "pay", open_=6)
    row = forecast(org.frame(), OPTIONS, as_of=AS_OF).epics.set_index("key").loc["PAY-1"]
    expected = pd.Timestamp(AS_OF + timedelta(days=21))
    assert row["p50"] == row["p85"] == row["p95"] == expected
    assert row["remaining"] == 6 and row["allowance"] == 0
    assert row["chance_by_target"] == 1.0


def test_a_day_short_of_the_week_is_no_chance():
    org = Org()
    steady_team(org)
    org.epic("PAY-1", "pay", target=AS_OF + timedelta(days=20))
    org.children("PAY-1", "pay", open_=6)
    assert forecast(org.frame(), OPTIONS, as_of=AS_OF).epics.set_index("key").loc["PAY-1", "chance_by_target"] == 0


def test_an_epic_with_one_child_gets_the_default_size():
    # One open child, fewer than min_children 3: at least the default size of an epic in progress (5).
    org = Org()
    steady_team(org)
    org.epic("PAY-1", "pay")
    org.children("PAY-1", "pay", open_=1)
    org.epic("PAY-2", "pay", status="new")
    row = forecast(org.frame(), OPTIONS, as_of=AS_OF).epics.set_index("key")
    assert row.loc["PAY-1", ["open_children", "allowance", "remaining"]].tolist() == [1, 4, 5]
    assert row.loc["PAY-2", ["open_children", "allowance", "remaining"]].tolist() == [0, 8, 8]
    # WIP 1, 2 a week, backlog order by key: PAY-1's 5 items end in week 3, PAY-2's 8 more in week 7.
    assert row.loc["PAY-1", "p50"] == pd.Timestamp(AS_OF + timedelta(days=21))
    assert row.loc["PAY-2", "p50"] == pd.Timestamp(AS_OF + timedelta(days=49))


def test_doubling_wip_pushes_the_first_epic_out():
    org = Org()
    steady_team(org, per_week=4)
    for key in ("PAY-1", "PAY-2"):
        org.epic(key, "pay")
        org.children(key, "pay", open_=8)
    one = forecast(org.frame(), OPTIONS, as_of=AS_OF).epics.set_index("key")["p50"]
    two = forecast(org.frame(), OPTIONS.model_copy(update={"wip": 2}), as_of=AS_OF).epics.set_index("key")["p50"]
    week = pd.Timedelta(days=7)
    assert ((one - pd.Timestamp(AS_OF)) / week).tolist() == [2, 4]
    assert ((two - pd.Timestamp(AS_OF)) / week).tolist() == [4, 4]


def test_backlog_order_is_target_date_then_key():
    org = Org()
    steady_team(org)
    org.epic("PAY-9", "pay", target=AS_OF + timedelta(days=60))
    org.children("PAY-9", "pay", open_=4)
    org.epic("PAY-10", "pay")
    org.children("PAY-10", "pay", open_=4)
    org.epic("PAY-2", "pay")
    org.children("PAY-2", "pay", open_=4)
    epics = forecast(org.frame(), OPTIONS, as_of=AS_OF).epics
    assert epics["key"].tolist() == ["PAY-9", "PAY-2", "PAY-10"]
    assert ((epics["p50"] - pd.Timestamp(AS_OF)).dt.days // 7).tolist() == [2, 4, 6]


def test_observed_wip_is_the_median_of_epics_finishing_items_per_week():
    org = Org()
    for key in ("DONE-1", "DONE-2", "DONE-3"):
        org.epic(key, "pay", status="done")
    org.children("DONE-1", "pay", done_on=weekly([0, 7, 14, 21]))
    org.children("DONE-2", "pay", done_on=weekly([1, 8, 15]))
    org.children("DONE-3", "pay", done_on=weekly([2]))
    org.epic("PAY-1", "pay")
    org.children("PAY-1", "pay", open_=3)
    plan = team_plans(org.frame(), ForecastOptions(throughput_weeks=4), as_of=AS_OF)[0]
    # Epics finishing items, week by week (oldest first): 1, 2, 2, 3 → median 2.
    assert plan.throughput.tolist() == [1, 2, 2, 3]
    assert (plan.wip, plan.wip_source) == (2, "observed")
    configured = team_plans(org.frame(), ForecastOptions(throughput_weeks=4, team_wip={"pay": 3}), as_of=AS_OF)[0]
    assert (configured.wip, configured.wip_source) == (3, "forecast.team_wip")


def test_split_rate_is_children_added_after_start_over_children_before():
    org = Org()
    org.epic("DONE-1", "pay", status="done", start=date(2026, 10, 1))
    org.children("DONE-1", "pay", done_on=weekly([3, 10, 17, 24]), created=date(2026, 9, 20))
    org.children("DONE-1", "pay", done_on=weekly([2, 9]), created=date(2026, 10, 5), prefix="L")
    org.epic("DONE-2", "pay", status="done", start=date(2026, 10, 1))  # no child at its start: says nothing
    org.children("DONE-2", "pay", done_on=weekly([5]), created=date(2026, 10, 9))
    org.epic("PAY-1", "pay", status="new")
    org.children("PAY-1", "pay", open_=3)
    org.epic("PAY-2", "pay", status="indeterminate", start=date(2026, 11, 1))
    org.children("PAY-2", "pay", open_=3, created=date(2026, 11, 10))
    options = ForecastOptions(throughput_weeks=4, trials=500, wip=1)
    plan = team_plans(org.frame(), options, as_of=AS_OF)[0]
    # DONE-1: 4 children created before it started, 2 after → 0.5. Open epics do not count (their
    # lives are not over).
    assert plan.split_rate == 0.5
    rows = plan.backlog.set_index("key")
    assert rows.loc["PAY-1", ["open_children", "growth", "remaining"]].tolist() == [3, 2, 5]  # ceil(3 × 0.5)
    # An epic in progress is not grown: what was added since it started is among its open children.
    assert rows.loc["PAY-2", ["open_children", "growth", "remaining"]].tolist() == [3, 0, 3]


def test_initiatives_take_the_latest_epic_in_each_trial():
    org = Org()
    steady_team(org, "pay")
    steady_team(org, "sch", per_week=1, epic="DONE-2")
    org.epic("PAY-1", "pay", initiative="INIT-1")
    org.children("PAY-1", "pay", open_=4)
    org.epic("SCH-1", "sch", initiative="INIT-1")
    org.children("SCH-1", "sch", open_=6)
    org.add("INIT-1", 2, initiative="INIT-1", target_date=AS_OF + timedelta(days=42))
    result = forecast(org.frame(), OPTIONS, as_of=AS_OF)
    rollup = result.rollups.set_index("id").loc["INIT-1"]
    # pay: 4 items at 2 a week → week 2; sch: 6 items at 1 a week → week 6; the initiative: week 6.
    assert rollup["p50"] == rollup["p95"] == pd.Timestamp(AS_OF + timedelta(days=42))
    assert rollup["chance_by_target"] == 1.0 and rollup["forecast_epics"] == 2


def test_key_results_roll_up_over_their_contributing_epics():
    org = Org()
    steady_team(org)
    for key, size in (("PAY-1", 3), ("PAY-2", 3)):
        org.epic(key, "pay")
        org.children(key, "pay", open_=size)
    contributions = pd.DataFrame({"key": ["PAY-1", "PAY-2"], "key_result": ["KR1", "KR1"]})
    row = forecast(org.frame(), OPTIONS, as_of=AS_OF, key_results=contributions).rollups.set_index("id").loc["KR1"]
    # 3 + 3 items at 2 a week: the later epic, PAY-2, ends in week 3.
    assert row["kind"] == "key_result" and row["p50"] == pd.Timestamp(AS_OF + timedelta(days=21))


def test_a_team_without_throughput_is_named_not_dated():
    org = Org()
    org.epic("PAY-1", "pay", initiative="INIT-1")
    org.children("PAY-1", "pay", open_=3)
    org.add("INIT-1", 2, initiative="INIT-1")
    result = forecast(org.frame(), OPTIONS, as_of=AS_OF)
    row = result.epics.set_index("key").loc["PAY-1"]
    assert pd.isna(row["p50"]) and "no finished items" in row["note"]
    assert result.teams.set_index("team_id").loc["pay", "forecast_epics"] == 0
    assert "not forecast" in result.rollups.set_index("id").loc["INIT-1", "note"]


def test_seeds_reproduce():
    org = Org()
    org.epic("DONE-1", "pay", status="done")
    org.children("DONE-1", "pay", done_on=weekly([0, 1, 2, 9, 20, 22, 23, 24, 25]))
    org.epic("PAY-1", "pay", target=AS_OF + timedelta(days=35))
    org.children("PAY-1", "pay", open_=9)
    frame = org.frame()
    a = forecast(frame, ForecastOptions(throughput_weeks=4, seed=3), as_of=AS_OF).epics
    b = forecast(frame, ForecastOptions(throughput_weeks=4, seed=3), as_of=AS_OF).epics
    pd.testing.assert_frame_equal(a, b)
    many = {forecast(frame, ForecastOptions(throughput_weeks=4, seed=s, trials=200), as_of=AS_OF)
            .epics["chance_by_target"].iloc[0] for s in range(6)}
    assert len(many) > 1  # the seed matters when the history varies


@pytest.mark.parametrize("yaml_text, message", [
    ("forecast: {trials: 5}", "greater than or equal to 100"),
    ("forecast: {wip: lots}", "wip"),
    ("forecast: {team_wip: {paymnts: 2}}", "unknown team 'paymnts'; did you mean 'payments'?"),
    ("forecast: {default_size: {todo: 3}}", "did you mean 'to_do'"),
])
def test_the_forecast_section_is_checked_at_the_door(yaml_text, message):
    from rollup.config import parse_config
    from rollup.errors import ConfigError

    base = "jira: {projects: [PAY]}\nteams:\n  - {id: payments, name: Payments, recognised_by: {projects: [PAY]}}\n"
    with pytest.raises(ConfigError) as caught:
        parse_config(base + yaml_text)
    assert message in str(caught.value) and "line 4" in str(caught.value)


def test_an_open_epic_without_a_team_is_listed_not_dropped():
    org = Org()
    steady_team(org)
    org.epic("LOST-1", None, initiative="INIT-1")
    org.children("LOST-1", None, open_=2)
    org.add("INIT-1", 2, initiative="INIT-1")
    result = forecast(org.frame(), OPTIONS, as_of=AS_OF)
    row = result.epics.set_index("key").loc["LOST-1"]
    assert pd.isna(row["p50"]) and row["note"] == "no team mapped: not forecast"
    assert "not forecast (no team mapped" in result.rollups.set_index("id").loc["INIT-1", "note"]


def test_a_target_date_already_past_has_no_chance():
    org = Org()
    steady_team(org)
    org.epic("PAY-1", "pay", target=AS_OF - timedelta(days=10), initiative="INIT-1")
    org.children("PAY-1", "pay", open_=4)
    org.add("INIT-1", 2, initiative="INIT-1", target_date=AS_OF - timedelta(days=3))
    result = forecast(org.frame(), OPTIONS, as_of=AS_OF)
    assert result.epics.set_index("key").loc["PAY-1", "chance_by_target"] == 0.0
    assert result.rollups.set_index("id").loc["INIT-1", "chance_by_target"] == 0.0
