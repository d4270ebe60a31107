"""The scope ledger worked out by hand: children created and moved after an epic started, points changed
while a child was under it, target dates moved — with who and when — and nothing counted before the start."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pandas as pd
from portfolio_org import _row
from test_forecast import AS_OF

from rollup.config import parse_config
from rollup.views import scope

CONFIG = parse_config("jira: {projects: [PAY]}\n"
                      "teams:\n  - {id: pay, name: Payments, recognised_by: {projects: [PAY]}}\n")


def when(days_ago: int, hour: int = 10) -> datetime:
    d = AS_OF - timedelta(days=days_ago)
    return datetime(d.year, d.month, d.day, hour, tzinfo=timezone.utc)


def issues() -> pd.DataFrame:
    started = AS_OF - timedelta(days=30)
    rows = [
        # PAY-1 started 30 days ago (start date); PAY-2 started 20 days ago; PAY-3 not started.
        _row(id=1, key="PAY-1", hierarchy_level=1, epic="PAY-1", team_id="pay", summary="Checkout",
             status_category="indeterminate", start_date=started),
        _row(id=2, key="PAY-2", hierarchy_level=1, epic="PAY-2", team_id="pay", summary="Refunds",
             status_category="indeterminate", start_date=AS_OF - timedelta(days=20)),
        _row(id=3, key="PAY-3", hierarchy_level=1, epic="PAY-3", team_id="pay", summary="Wallets"),
        # Created before PAY-1 started: not an addition.
        _row(id=10, key="PAY-10", epic="PAY-1", created=when(40), story_points=3),
        # Created 10 days after the start: added (5 points).
        _row(id=11, key="PAY-11", epic="PAY-1", created=when(20), story_points=5),
        # Created in PAY-1 before its start, moved to PAY-2 5 days ago (Cloud: by id): removed from PAY-1,
        # added to PAY-2; its points went 2 → 8 while under PAY-1 (12 days ago), 8 → 13 under PAY-2.
        _row(id=12, key="PAY-12", epic="PAY-2", created=when(45), story_points=13),
        # Created in PAY-2 after it started, then taken out of any epic 2 days ago (Data Center: by key).
        _row(id=13, key="PAY-13", epic=None, created=when(15), story_points=1),
        # Created under PAY-3, which has not started: nothing.
        _row(id=14, key="PAY-14", epic="PAY-3", created=when(3), story_points=8),
        # After the as-of date: left out.
        _row(id=15, key="PAY-15", epic="PAY-1", created=when(-2), story_points=2),
    ]
    return pd.DataFrame(rows)


def history(hid, issue_id, field, days_ago, frm, to, who="Ann A"):
    return {"issue_id": issue_id, "history_id": hid, "field": field, "at": when(days_ago), "from_value": frm,
            "to_value": to, "to_category": None, "author_id": who.lower()[:3], "author_name": who}


def transitions() -> pd.DataFrame:
    return pd.DataFrame([
        history(1, 12, "story_points", 12, "2", "8"),
        history(2, 12, "parent", 5, "1", "2", who="Bo B"),
        history(3, 12, "story_points", 4, "8", "13"),
        history(4, 13, "epic", 2, "PAY-2", None, who="Cy C"),
        history(5, 1, "target_date", 9, "2026-12-21", "2027-01-04"),
        history(6, 3, "target_date", 1, "2027-02-01", "2027-01-25", who="Bo B"),
        history(7, 3, "target_date", -1, "2027-01-25", "2027-03-01"),  # after the as-of date
        history(8, 10, "story_points", 35, None, "3"),  # before PAY-1 started
    ])


def test_the_ledger_by_hand():
    out = scope.compute(issues(), CONFIG, as_of=AS_OF, transitions=transitions())
    events = out[out["level"].eq("event")]
    got = {(r.key, r.change, r.item, r.who, r.before, r.after, None if pd.isna(r.points) else r.points,
            None if pd.isna(r.days) else r.days) for r in events.itertuples()}
    assert got == {
        ("PAY-1", "child added", "PAY-11", None, None, "created in the epic", 5.0, None),
        ("PAY-1", "points changed", "PAY-12", "Ann A", "2", "8", 6.0, None),
        ("PAY-1", "child removed", "PAY-12", "Bo B", "PAY-1", "PAY-2", None, None),
        ("PAY-2", "child added", "PAY-12", "Bo B", "PAY-1", "PAY-2", None, None),
        ("PAY-2", "points changed", "PAY-12", "Ann A", "8", "13", 5.0, None),
        ("PAY-2", "child added", "PAY-13", None, None, "created in the epic", 1.0, None),
        ("PAY-2", "child removed", "PAY-13", "Cy C", "PAY-2", "no epic", None, None),
        ("PAY-1", "target date moved", None, "Ann A", "2026-12-21", "2027-01-04", None, 14.0),
        ("PAY-3", "target date moved", None, "Bo B", "2027-02-01", "2027-01-25", None, -7.0),
    }
    # Newest first, with the time of each change.
    assert events["at"].tolist() == sorted(events["at"].tolist(), reverse=True)
    per = out[out["level"].eq("epic")].set_index("key")
    assert per.loc["PAY-1", ["children_added", "children_removed", "points_changes", "points_delta",
                             "target_moves", "target_days"]].tolist() == [1, 1, 1, 6.0, 1, 14.0]
    assert per.loc["PAY-2", ["children_added", "children_removed", "points_delta"]].tolist() == [2, 1, 5.0]
    assert per.loc["PAY-3", ["children_added", "target_moves", "target_days"]].tolist() == [0, 1, -7.0]
    assert per.loc["PAY-2", "team"] == "Payments" and per.loc["PAY-1", "summary"] == "Checkout"
    # The epic rows sum their entries: every figure recomputes from the event rows.
    for key, row in per.iterrows():
        mine = events[events["key"].eq(key)]
        assert row["children_added"] == mine["change"].eq("child added").sum()
        assert row["points_delta"] == mine.loc[mine["change"].eq("points changed"), "points"].sum()


def test_a_past_week_sees_what_was_known_then_and_no_history_means_no_ledger():
    earlier = scope.compute(issues(), CONFIG, as_of=AS_OF - timedelta(days=7), transitions=transitions())
    events = earlier[earlier["level"].eq("event")]
    # The move of PAY-12 (5 days ago) had not happened: its points change 12 days ago still counts for PAY-1.
    assert not events["change"].eq("child removed").any()
    assert set(events["key"]) == {"PAY-1", "PAY-2"}
    assert scope.compute(issues(), CONFIG, as_of=AS_OF, transitions=None)["change"].isin(
        ["points changed", "child removed", "target date moved"]).sum() == 0


def test_entries_since():
    out = scope.compute(issues(), CONFIG, as_of=AS_OF, transitions=transitions())
    week = scope.entries(out, since=scope.week_start(AS_OF))
    assert set(week["change"]) == {"child removed", "child added", "points changed", "target date moved"}
    assert week["at"].min() >= pd.Timestamp(AS_OF - timedelta(days=6))
    assert date.fromisoformat("2026-11-17") == scope.week_start(AS_OF)


def test_the_weeks_scope_sentence():
    from rollup.views import insights

    out = scope.compute(issues(), CONFIG, as_of=AS_OF, transitions=transitions())
    epics = pd.DataFrame({"key": ["PAY-1", "PAY-2", "PAY-3"], "size": [10.0, 30.0, 60.0]})
    (row,) = insights._scope_added(out, epics, AS_OF, open_size=100.0)
    # This week PAY-12 moved into PAY-2 (5 days ago) and went 8 → 13 points there (4 days ago).
    assert row["sentence"] == ("Scope grew inside 1 started epic this week, 1 child added in all: PAY-2 (+1 child, "
                               "+5 points) (the scope ledger on the Changes sheet says who and when).")
    assert (row["keys"], row["figure"], row["weight"]) == (["PAY-2"], 1.0, 0.3)
    # A week with no entry says nothing.
    assert insights._scope_added(out, epics, AS_OF + timedelta(days=30), open_size=100.0) == []


def test_a_child_from_an_epic_outside_the_frame_is_added_here_and_counted_nowhere_else():
    # A team report holds only its own epics: PAY-12 came from another team's epic (id 999, not in the frame).
    moved = pd.DataFrame([history(1, 12, "parent", 5, "999", "1")])
    out = scope.compute(issues(), CONFIG, as_of=AS_OF, transitions=moved)
    events = out[out["level"].eq("event") & out["item"].eq("PAY-12")]
    assert [(r.key, r.change, r.before, r.after) for r in events.itertuples()] == [
        ("PAY-1", "child added", "999", "PAY-1")]


def test_a_past_week_puts_a_child_in_the_epic_it_was_in_then_and_one_move_is_counted_once():
    # PAY-11 (created under PAY-1 twenty days before the as-of date) moves to PAY-2 three days after it.
    later = pd.DataFrame([history(1, 11, "story_points", 10, "5", "8"),
                          history(2, 11, "parent", -3, "1", "2"), history(2, 11, "epic", -3, "PAY-1", "PAY-2")])
    issues_now = issues().assign(epic=lambda f: f["epic"].where(f["key"].ne("PAY-11"), "PAY-2"))
    then = scope.compute(issues_now, CONFIG, as_of=AS_OF, transitions=later)
    events = then[then["level"].eq("event") & then["item"].eq("PAY-11")]
    assert {(r.key, r.change) for r in events.itertuples()} == {("PAY-1", "child added"), ("PAY-1", "points changed")}
    # A week later the move is known, once, though the history carries it as two items.
    after = scope.compute(issues_now, CONFIG, as_of=AS_OF + timedelta(days=7), transitions=later)
    moved = after[after["level"].eq("event") & after["item"].eq("PAY-11")]
    assert sorted(moved["change"]) == ["child added", "child added", "child removed", "points changed"]
    assert sorted(moved.loc[moved["change"].eq("child added"), "key"]) == ["PAY-1", "PAY-2"]
