"""Properties that hold for any history (hypothesis).

* Person-days: every (person, issue, month) gets exactly what a day-by-day brute force gives, so a
  person-day is allocated at most once and a person's FTE in a month never exceeds 1.
* Detail sums to summary, to the pillar and initiative tables and to People, for every basis.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime, timedelta, timezone

from finance_helpers import NOV, OCT, RATES, config, effort, frames, issue, transition, worklog
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from rollup.finance.allocation import build_tables, detail_rows, person_names
from rollup.finance.calendar import WorkCalendar, day_number
from rollup.finance.rates import load_rates

START = datetime(2026, 9, 28, tzinfo=timezone.utc)
PEOPLE = ("p", "q", "r")
STATUSES = ("To Do", "In Progress", "In Review", "Done")
CATEGORY = {"To Do": "new", "In Progress": "indeterminate", "In Review": "indeterminate", "Done": "done"}

changes = st.lists(
    st.tuples(st.integers(0, 70 * 24 - 1), st.sampled_from(["status", "assignee"]),
              st.sampled_from(STATUSES), st.sampled_from(PEOPLE + (None,))),
    max_size=8)
histories = st.lists(st.tuples(st.sampled_from(PEOPLE + (None,)), changes), min_size=1, max_size=6)


def _build(history):
    """Issues in project B (person-days) with status and assignee changes at hour offsets from 28 Sep."""
    issues, moves = [], []
    for n, (first_assignee, events) in enumerate(history, start=1):
        status, assignee = "To Do", first_assignee
        for hour, field, new_status, new_assignee in sorted(events, key=lambda e: (e[0], e[1])):
            when = (START + timedelta(hours=hour)).strftime("%Y-%m-%d %H:%M")
            if field == "status" and new_status != status:
                moves.append(transition(n, when, "status", status, new_status))
                status = new_status
            elif field == "assignee" and new_assignee != assignee:
                moves.append(transition(n, when, "assignee", assignee, new_assignee))
                assignee = new_assignee
        issues.append(issue(f"B-{n}", id=n, created=START, status=status, status_category=CATEGORY[status],
                            assignee_id=assignee))
    return issues, moves


def _brute_force(issues, moves, as_of: date):
    """Hours per (person, issue key, month) computed day by day from the raw changes."""
    calendar = WorkCalendar(config().finance.calendar)
    by_issue = defaultdict(list)
    for m in moves:
        by_issue[m["issue_id"]].append(m)
    spans = defaultdict(list)  # person → [(key, start, end)]
    end_of_data = datetime(2026, 12, 3, tzinfo=timezone.utc)
    for row in issues:
        status, assignee, since = "To Do", None, START
        ms = sorted(by_issue[row["id"]], key=lambda m: (m["at"], m["history_id"]))
        first_asg = [m for m in ms if m["field"] == "assignee"]
        assignee = first_asg[0]["from_value"] if first_asg else row["assignee_id"]
        for m in ms + [None]:
            until = m["at"] if m else end_of_data
            if CATEGORY[status] == "indeterminate" and assignee and since < until:
                spans[assignee].append((row["key"], since, until))
            if m is None:
                break
            if m["field"] == "status":
                status = m["to_value"]
            else:
                assignee = m["to_value"]
            since = m["at"]
    out = defaultdict(float)
    for person, items in spans.items():
        for d in range(day_number(date(2026, 10, 1)), min(day_number(date(2026, 12, 1)), day_number(as_of) + 1)):
            if not calendar.working([d])[0]:
                continue
            lo = datetime(1970, 1, 1, tzinfo=timezone.utc) + timedelta(days=d)
            hi = lo + timedelta(days=1)
            keys = sorted({k for k, s, e in items if s < hi and e > lo})
            for k in keys:
                month = (lo.year, lo.month)
                out[(person, k, month)] += 8 / len(keys)
    return {k: round(v, 6) for k, v in out.items() if v}


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(history=histories)
# In Progress → In Review on a Monday: two in-progress spells of one issue share that day.
@example(history=[("p", [(130, "status", "In Progress", None), (170, "status", "In Review", None)]),
                  ("p", [(100, "status", "In Progress", None)])])
def test_person_days_match_a_day_by_day_count_and_never_exceed_one_fte(history):
    issues, moves = _build(history)
    as_of = date(2026, 11, 25)
    result, mapped = effort(frames(issues, moves), config(), [OCT, NOV], as_of=as_of)
    rows = result.rows
    keys = mapped["key"].astype(str).to_numpy()
    got = defaultdict(float)
    for person, pos, month, hours in rows[["person_id", "pos", "month", "hours"]].itertuples(index=False):
        if pos >= 0:
            got[(person, keys[pos], (month // 12, month % 12 + 1))] += hours
    got = {k: round(v, 6) for k, v in got.items() if v}
    assert got == _brute_force(issues, moves, as_of)
    calendar = WorkCalendar(config().finance.calendar)
    capacity = {OCT.index: calendar.capacity_hours(OCT),
                NOV.index: 8 * int(calendar.working(range(NOV.start_day, day_number(as_of) + 1)).sum())}
    per_person = rows.groupby(["person_id", "month"])["hours"].sum()
    for (person, month), hours in per_person.items():
        assert hours <= capacity[month] + 1e-6, (person, month, hours)
        assert hours / calendar.capacity_hours(OCT if month == OCT.index else NOV) <= 1 + 1e-9
    days = result.person_days
    assert ((days["allocated_days"] + days["unallocated_days"]) * 8
            <= days["month"].map(capacity) + 1e-9).all()


worklog_sets = st.lists(
    st.tuples(st.sampled_from(["A-1", "A-2", "A-3"]), st.sampled_from(["w", "v", "u"]),
              st.integers(0, 30), st.integers(1, 16)),
    min_size=1, max_size=25)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(logs=worklog_sets, tagged_new=st.sets(st.sampled_from(["A-1", "A-2", "A-3"])))
def test_detail_sums_to_every_table(logs, tagged_new, tmp_path_factory):
    epic = issue("A-9", id=9, issue_type="Epic", hierarchy_level=1, labels=["new"], start_date="2026-10-10",
                 target_date="2026-12-31")
    rows = [epic] + [issue(key, id=n, parent_key="A-9" if key in tagged_new else None,
                           epic_key="A-9" if key in tagged_new else None)
                     for n, key in enumerate(["A-1", "A-2", "A-3"], start=1)]
    ids = {"A-1": 1, "A-2": 2, "A-3": 3}
    entries = [worklog(ids[k], who, f"2026-10-{1 + day:02d} 10:00", half / 2) for k, who, day, half in logs]
    cfg = config("""  bases:
    gaap:
      - {id: g-dev, when: {bucket_treatment: [capex], window: [inside]}, treatment: capex}
      - {id: g-rest, treatment: opex}
    tax:
      - {id: t-new, when: {buckets: [new]}, treatment: capex}
      - {id: t-rest, treatment: opex}
""")
    f = frames(rows, worklogs=entries)
    result, mapped = effort(f, cfg, [OCT])
    path = tmp_path_factory.mktemp("rates") / "rates.csv"
    path.write_text(RATES)
    detail = detail_rows(result.rows, mapped, cfg, WorkCalendar(cfg.finance.calendar),
                         load_rates(path, cfg.finance), person_names(mapped, f.worklogs))
    tables = build_tables("2026-10", detail, ["gaap", "tax"], sources={}, policy_rows=[], info={},
                          capacity_hours=176)
    assert abs(detail["hours"].sum() - sum(h / 2 for *_, h in logs)) < 1e-6
    for column in ("hours", "cost", "gaap_capex", "gaap_opex", "tax_capex", "tax_opex"):
        total = detail[column].sum()
        for table in (tables.summary, tables.by_pillar, tables.by_initiative):
            assert abs(table[column].sum() - total) < 1e-6
    for (team, bucket), group in detail.groupby(["team_id", "bucket"]):
        line = tables.summary[(tables.summary["team_id"] == team) & (tables.summary["bucket"] == bucket)]
        assert abs(line["cost"].sum() - group["cost"].sum()) < 1e-6
        assert abs(line["hours"].sum() - group["hours"].sum()) < 1e-6
    for basis in ("gaap", "tax"):
        assert (abs(detail[f"{basis}_capex"] + detail[f"{basis}_opex"] - detail["cost"]) < 1e-9).all()
    assert abs(tables.people["hours"].sum() - detail["hours"].sum()) < 1e-6
    assert tables.reconciliation["ok"].all()
