"""Each effort model on a case small enough to compute by hand (October 2026: 22 working days)."""

from __future__ import annotations

from datetime import date

import pytest
from finance_helpers import (
    NOV,
    OCT,
    RATES,
    at,
    config,
    effort,
    frames,
    hours_by,
    issue,
    transition,
    worklog,
)

from rollup.finance.allocation import build_tables, detail_rows, person_names
from rollup.finance.calendar import WorkCalendar
from rollup.finance.rates import load_rates


def test_october_2026_has_22_working_days_and_holidays_count():
    cfg = config()
    assert WorkCalendar(cfg.finance.calendar).working_days(OCT) == 22
    holiday = config().finance.calendar.model_copy(update={"holidays": [date(2026, 10, 5)]})
    assert WorkCalendar(holiday).working_days(OCT) == 21


def test_worklogs_hours_per_person_issue_month():
    """2 h + 1.5 h on Monday 5 Oct, 1 h on Saturday 31 Oct (logged hours count on any day), 3 h in November."""
    a1 = issue("A-1", id=1, assignee_id="w")
    logs = [worklog(1, "w", "2026-10-05 09:00", 2), worklog(1, "w", "2026-10-05 14:00", 1.5),
            worklog(1, "w", "2026-10-31 10:00", 1), worklog(1, "w", "2026-11-01 10:00", 3),
            worklog(1, "v", "2026-10-20 10:00", 4)]
    result, mapped = effort(frames([a1], worklogs=logs), config(), [OCT])
    assert hours_by(result.rows, mapped, "person_id", "method", "window") == {
        ("A-1", "v", "worklogs", "no-epic"): 4.0,
        ("A-1", "w", "worklogs", "no-epic"): 4.5,
    }


def test_person_days_split_equally_across_in_progress_issues():
    """P works B-1 from Thu 1 Oct to Wed 7 Oct and B-2 from Mon 5 Oct on.

    1-2 Oct: B-1 alone (2 × 8 h); 5-7 Oct: both (3 × 4 h each); 8-30 Oct: B-2 alone (17 × 8 h).
    B-1 = 16 + 12 = 28 h, B-2 = 12 + 136 = 148 h, together 176 h = 1 FTE.
    """
    b1 = issue("B-1", id=1, status="Done", status_category="done", assignee_id="p", resolved=at("2026-10-07 10:00"))
    b2 = issue("B-2", id=2, assignee_id="p")
    moves = [
        transition(1, "2026-10-01 09:00", "status", "To Do", "In Progress"),
        transition(1, "2026-10-07 10:00", "status", "In Progress", "Done"),
        transition(2, "2026-10-05 09:00", "status", "To Do", "In Progress"),
    ]
    result, mapped = effort(frames([b1, b2], moves), config(), [OCT])
    assert hours_by(result.rows, mapped, "person_id") == {("B-1", "p"): 28.0, ("B-2", "p"): 148.0}
    days = result.person_days.set_index("person_id")
    assert days.loc["p", "allocated_days"] == 22 and days.loc["p", "unallocated_days"] == 0


def test_person_days_follow_the_assignee_and_report_unallocated_days():
    """Q has B-3 in progress 1-2 Oct and 26-30 Oct (7 days) and B-4 on 19-21 Oct (3 days) until R takes it over.

    Q's span is 1-30 Oct: 22 working days, 10 allocated, the other 12 reported as unallocated.
    """
    b3 = issue("B-3", id=3, status="Done", status_category="done", assignee_id="q", resolved=at("2026-10-30 17:00"))
    b4 = issue("B-4", id=4, assignee_id="r", created=at("2026-10-19 08:00"))
    moves = [
        transition(3, "2026-10-01 09:00", "status", "To Do", "In Progress"),
        transition(3, "2026-10-02 17:00", "status", "In Progress", "To Do"),
        transition(3, "2026-10-26 09:00", "status", "To Do", "In Progress"),
        transition(3, "2026-10-30 17:00", "status", "In Progress", "Done"),
        transition(4, "2026-10-19 09:00", "status", "To Do", "In Progress"),
        transition(4, "2026-10-21 12:00", "assignee", "q", "r"),
    ]
    result, mapped = effort(frames([b3, b4], moves), config(), [OCT])
    got = hours_by(result.rows, mapped, "person_id", "window")
    # Q: B-3 on 1, 2, 26-30 Oct; B-4 on 19-21 Oct (21 Oct shared with nothing else of Q's).
    assert got[("B-3", "q", "no-epic")] == 7 * 8
    assert got[("B-4", "q", "no-epic")] == 3 * 8
    # R: B-4 from 21 Oct (the hand-over day counts for both people) to the as-of day.
    assert got[("B-4", "r", "no-epic")] == 8 * 8
    # Q's span is 1-30 Oct: 22 working days, 10 allocated, 12 unallocated.
    assert got[("-", "q", "unallocated")] == 12 * 8
    days = result.person_days.set_index("person_id")
    assert (days.loc["q", "allocated_days"], days.loc["q", "unallocated_days"]) == (10, 12)


def test_person_days_stop_at_the_as_of_day():
    b2 = issue("B-2", id=2, assignee_id="p")
    moves = [transition(2, "2026-11-02 09:00", "status", "To Do", "In Progress")]
    result, mapped = effort(frames([b2], moves), config(), [NOV], as_of=date(2026, 11, 10))
    # 2-6 and 9-10 November: 7 working days.
    assert hours_by(result.rows, mapped, "person_id") == {("B-2", "p"): 56.0}


def test_points_scale_completed_points_to_team_capacity():
    """Gamma has 2 FTE = 352 h in October; G-1 (5 points) and G-2 (3 points) were completed then."""
    done = {"status": "Done", "status_category": "done"}
    rows = [issue("G-1", id=1, story_points=5, resolved=at("2026-10-10 12:00"), assignee_id="g", **done),
            issue("G-2", id=2, story_points=3, resolved=at("2026-10-20 12:00"), **done),
            issue("G-3", id=3, story_points=8, resolved=at("2026-11-02 12:00"), **done),
            issue("G-4", id=4, story_points=2)]
    result, mapped = effort(frames(rows), config(), [OCT])
    assert hours_by(result.rows, mapped, "person_id", "method") == {
        ("G-1", "g", "points"): 220.0, ("G-2", "", "points"): 132.0}


def test_points_out_of_range_take_no_share_of_the_capacity():
    """As in the portfolio (report.max_story_points, 100 here): G-5's 999 points and G-6's −3 are not an
    estimate. G-1 and G-2 share Gamma's 352 h as if the two were not there; both are listed as left out."""
    done = {"status": "Done", "status_category": "done"}
    rows = [issue("G-1", id=1, story_points=5, resolved=at("2026-10-10 12:00"), assignee_id="g", **done),
            issue("G-2", id=2, story_points=3, resolved=at("2026-10-20 12:00"), **done),
            issue("G-5", id=5, story_points=999, resolved=at("2026-10-21 12:00"), **done),
            issue("G-6", id=6, story_points=-3, resolved=at("2026-10-22 12:00"), **done),
            issue("G-7", id=7, story_points=500, resolved=at("2026-11-02 12:00"), **done)]
    result, mapped = effort(frames(rows), config(), [OCT])
    assert hours_by(result.rows, mapped, "person_id", "method") == {
        ("G-1", "g", "points"): 220.0, ("G-2", "", "points"): 132.0}
    left = result.points_left_out
    assert list(zip(mapped["key"].to_numpy()[left["pos"]], left["story_points"], left["team_id"])) == [
        ("G-5", 999.0, "gamma"), ("G-6", -3.0, "gamma")]
    # The threshold is the portfolio's setting, not a second one.
    result, mapped = effort(frames(rows), config("report: {max_story_points: 1000}\n"), [OCT])
    assert hours_by(result.rows, mapped, "method")[("G-5", "points")] == pytest.approx(999 / 1007 * 352)


def test_effort_flows_up_and_windows_split_the_month():
    """B-2's epic B-9 is authorized from 12 Oct (its Start date): 28 h before, 120 h inside the window.

    Costed at beta's 17,600 EUR a month (100 EUR/h): the inside part is capex under GAAP.
    """
    epic = issue("B-9", id=9, issue_type="Epic", hierarchy_level=1, labels=["new"], start_date="2026-10-12",
                 target_date="2026-12-31")
    b1 = issue("B-1", id=1, status="Done", status_category="done", assignee_id="p", resolved=at("2026-10-07 10:00"))
    b2 = issue("B-2", id=2, assignee_id="p", parent_key="B-9", epic_key="B-9")
    moves = [
        transition(1, "2026-10-01 09:00", "status", "To Do", "In Progress"),
        transition(1, "2026-10-07 10:00", "status", "In Progress", "Done"),
        transition(2, "2026-10-05 09:00", "status", "To Do", "In Progress"),
    ]
    cfg = config()
    f = frames([epic, b1, b2], moves)
    result, mapped = effort(f, cfg, [OCT])
    assert hours_by(result.rows, mapped, "window") == {
        ("B-1", "no-epic"): 28.0, ("B-2", "before"): 28.0, ("B-2", "inside"): 120.0}
    rates = load_rates(_rates_file(), cfg.finance)
    detail = detail_rows(result.rows, mapped, cfg, WorkCalendar(cfg.finance.calendar), rates,
                         person_names(mapped, f.worklogs))
    inside = detail[detail["window"] == "inside"].iloc[0]
    assert (inside["epic"], inside["bucket"], inside["bucket_source"]) == ("B-9", "new", "inherited from B-9")
    assert (inside["gaap_clause"], inside["gaap_capex"], inside["cost"]) == ("gaap-capex-in-window", 12000.0,
                                                                              12000.0)
    before = detail[(detail["issue_key"] == "B-2") & (detail["window"] == "before")].iloc[0]
    assert (before["gaap_clause"], before["gaap_opex"]) == ("gaap-expensed", 2800.0)
    tables = build_tables("2026-10", detail, ["gaap"], sources={}, policy_rows=[], info={},
                          capacity_hours=176)
    assert tables.people.set_index("person_id").loc["p", "fte"] == 1.0
    summary = tables.summary.set_index(["team_id", "bucket"])
    assert summary.loc[("beta", "new"), "gaap_capex"] == 12000.0
    assert summary.loc[("beta", "new"), "cost"] == 14800.0
    assert summary.loc[("beta", "(unmapped)"), "cost"] == 2800.0
    assert tables.reconciliation["ok"].all()


def test_fx_and_person_rates_win_over_team_rates():
    """Wanda's own 50 USD/h at 0.9 EUR per USD = 45 EUR/h; Victor has only alpha's 100 EUR/h."""
    a1 = issue("A-1", id=1, assignee_id="w")
    logs = [worklog(1, "w", "2026-10-05 09:00", 4.5), worklog(1, "v", "2026-10-06 09:00", 2)]
    cfg = config()
    f = frames([a1], worklogs=logs)
    result, mapped = effort(f, cfg, [OCT])
    rates = load_rates(_rates_file(), cfg.finance)
    detail = detail_rows(result.rows, mapped, cfg, WorkCalendar(cfg.finance.calendar), rates,
                         person_names(mapped, f.worklogs)).set_index("person_id")
    assert detail.loc["w", "cost"] == pytest.approx(202.5) and detail.loc["w", "rate_source"].startswith("person w")
    assert detail.loc["v", "cost"] == 200.0 and detail.loc["v", "rate_source"].startswith("team alpha")
    assert detail.loc["w", "person"] == "W"  # the worklog author's display name


def _rates_file():
    import tempfile
    from pathlib import Path

    path = Path(tempfile.mkdtemp()) / "rates.csv"
    path.write_text(RATES)
    return path


@pytest.mark.parametrize("policy", ["flag", "scale"])
def test_a_person_above_the_months_working_hours_is_flagged_or_scaled(tmp_path, monkeypatch, policy):
    """Victor (alpha, worklogs, 100 EUR/h) logs 120 h on A-1 and 100 h on A-2 in October: 220 h against its
    22 × 8 = 176 working hours, 44 h over (1.25 FTE).

    flag: costed as logged, 22,000 EUR; People shows 44 h over; the Reconciliation ties it to the detail.
    scale: each row × 176/220 = 0.8 — A-1 96 h / 9,600 EUR, A-2 80 h / 8,000 EUR, 17,600 EUR in all (one
    month's full cost); People shows 220 h logged, 176 h costed, 44 h over.
    """
    from rollup.jobs.finance import export_tables, month_figures
    from rollup.store import Store

    monkeypatch.delenv("ROLLUP_RATES", raising=False)
    a1, a2 = issue("A-1", id=1, assignee_id="v"), issue("A-2", id=2, assignee_id="v")
    logs = [worklog(1, "v", f"2026-10-{day:02d} 09:00", 10) for day in range(1, 13)]  # 12 × 10 h = 120 h
    logs += [worklog(2, "v", f"2026-10-{day:02d} 09:00", 10) for day in range(13, 23)]  # 10 × 10 h = 100 h
    f = frames([a1, a2], worklogs=logs)
    rates = tmp_path / "rates.csv"
    rates.write_text(RATES)
    cfg = config(f"  over_allocation: {policy}\n")
    assert cfg.finance.over_allocation == policy
    with Store.open(f"sqlite:///{tmp_path / 'small.db'}") as store:
        figures = month_figures(store, cfg, "2026-10", rates_path_option=rates, frames=f)
    tables = export_tables(figures, cfg, closed_at=None)
    rows = figures.detail[figures.detail["person_id"] == "v"].set_index("issue_key")
    person = tables.people.set_index("person_id").loc["v"]
    assert person["logged_hours"] == 220 and person["over_hours"] == 44
    if policy == "flag":
        assert (rows.loc["A-1", "hours"], rows.loc["A-2", "hours"]) == (120, 100)
        assert rows["cost"].sum() == 22_000 and person["hours"] == 220 and person["fte"] == pytest.approx(1.25)
    else:
        assert (rows.loc["A-1", "hours"], rows.loc["A-2", "hours"]) == (96, 80)
        assert (rows.loc["A-1", "cost"], rows.loc["A-2", "cost"]) == (9_600, 8_000)
        assert (rows["gaap_capex"] + rows["gaap_opex"]).sum() == 17_600
        assert person["hours"] == 176 and person["fte"] == 1.0 and person["cost"] == 17_600
    checks = tables.reconciliation.set_index("check")
    over_checks = [c for c in checks.index if "working hours" in c]
    assert over_checks and checks.loc[over_checks, "ok"].all()
    assert tables.reconciliation["ok"].all(), tables.reconciliation[~tables.reconciliation["ok"]].to_dict("records")
    assert f"policy {policy}" in " ".join(over_checks)
    policy_sheet = dict(tables.policy.itertuples(index=False))
    assert policy_sheet["over-allocation policy"].startswith(policy + ":")
    assert policy_sheet["people over their working hours"].startswith("1: ")
    assert "220 h of 176 h" in policy_sheet["people over their working hours"]


def test_work_location_splits_the_tax_basis_domestic_and_foreign(tmp_path):
    """US §174A: domestic research expensed, foreign research capitalized (amortized over 15 years).

    Wanda (her own row says Canada), Victor and Xena (rows without a location, on team alpha) each log 10 h on
    the new-capability story A-1. Until alpha's row gives a location, Victor and Xena are ``unknown``; once it
    says US they take it, and with ``domestic_locations: [US]`` the tax basis's clauses split the three;
    without the list every row is ``unknown``.
    """
    rates = tmp_path / "rates.csv"
    rates.write_text("level,id,name,role,hourly_rate,monthly_cost,currency,valid_from,valid_to,work_location\n"
                     "team,alpha,,,100,,EUR,2026-01-01,,\n"
                     "person,w,Wanda,,50,,USD,2026-01-01,2026-12-31,CA\n"
                     "person,v,Victor,,100,,EUR,2026-01-01,2026-12-31,\n"
                     "person,x,Xena,,100,,EUR,2026-01-01,2026-12-31,\n"
                     "team,beta,,,,17600,EUR,2026-01-01,,\nteam,gamma,,,10,,EUR,2026-01-01,,\n")
    a1 = issue("A-1", id=1, labels=["new"])
    logs = [worklog(1, who, "2026-10-05 09:00", 10) for who in ("w", "v", "x")]
    tax = """
  bases:
    tax:
      - {id: tax-domestic, when: {buckets: [new], locations: [domestic]}, treatment: opex}
      - {id: tax-foreign, when: {buckets: [new], locations: [foreign]}, treatment: capex}
      - {id: tax-unknown, when: {buckets: [new], locations: [unknown]}, treatment: capex}
      - {id: tax-other, treatment: opex}
"""
    f = frames([a1], worklogs=logs)

    def detail(extra: str):
        cfg = config(extra + tax)
        result, mapped = effort(f, cfg, [OCT])
        rows = detail_rows(result.rows, mapped, cfg, WorkCalendar(cfg.finance.calendar),
                           load_rates(rates, cfg.finance), person_names(mapped, f.worklogs))
        return rows.set_index("person_id")

    # Victor's own row has no location, nor has alpha's: unknown.
    plain = detail("  domestic_locations: [US, CA]\n")
    assert plain.loc["w", "work_location"] == "CA" and plain.loc["w", "location"] == "domestic"
    assert plain.loc["w", "location_source"].startswith("person w (line 3)")
    assert plain.loc["v", "location"] == "unknown" and plain.loc["v", "tax_clause"] == "tax-unknown"
    # Now alpha works in the US: Victor and Xena take the team's location; Wanda keeps her own.
    rates.write_text(rates.read_text().replace("team,alpha,,,100,,EUR,2026-01-01,,\n",
                                               "team,alpha,,,100,,EUR,2026-01-01,,US\n"))
    split = detail("  domestic_locations: [US]\n")
    assert split.loc["w", "location"] == "foreign" and split.loc["w", "tax_clause"] == "tax-foreign"
    assert split.loc["w", "tax_treatment"] == "capex" and split.loc["w", "tax_capex"] == pytest.approx(450.0)
    for person in ("v", "x"):
        assert split.loc[person, "work_location"] == "US" and split.loc[person, "location"] == "domestic"
        assert split.loc[person, "location_source"].startswith("team alpha (line 2)")
        assert split.loc[person, "tax_clause"] == "tax-domestic" and split.loc[person, "tax_capex"] == 0.0
        assert split.loc[person, "tax_opex"] == pytest.approx(1000.0)
    # No domestic list: the locations stay on the rows, every row's location is unknown.
    none = detail("")
    assert set(none["location"]) == {"unknown"} and set(none["tax_clause"]) == {"tax-unknown"}
    assert none.loc["w", "work_location"] == "CA"


def test_a_location_holds_until_a_later_row_gives_another(tmp_path):
    """alpha works in the US from January; a raise from July (a row without a location) keeps it there, a row of
    its own moves Wanda (costed at the team's rate) to Germany from October, and a person row may give only that."""
    from rollup.finance.calendar import Month

    rates = tmp_path / "rates.csv"
    rates.write_text("level,id,name,role,hourly_rate,monthly_cost,currency,valid_from,valid_to,work_location\n"
                     "team,alpha,,,100,,EUR,2026-01-01,2026-06-30,US\n"
                     "team,alpha,,,110,,EUR,2026-07-01,,\n"
                     "person,w,Wanda,,,,,2026-10-01,,DE\n")
    loaded = load_rates(rates, config().finance)
    september, october = Month(2026, 9), Month(2026, 10)
    assert loaded.location(None, "alpha", october).country == "US"  # the raise did not move the team
    assert loaded.location(None, "alpha", october).source == "team alpha (line 2)"
    assert loaded.location("w", "alpha", september).country == "US"  # before her own row: the team's
    assert loaded.location("w", "alpha", october).country == "DE"
    calendar = WorkCalendar(config().finance.calendar)
    # Her row gives no rate: she is costed at the team's, as before.
    rate = loaded.lookup("w", "alpha", october, calendar)
    assert rate.hourly == 110 and rate.source.startswith("team alpha")
