"""Lint run history: one transaction per run, read back, and the trend across runs (SQLite and PostgreSQL)."""

from __future__ import annotations

import math
from datetime import datetime, timezone

import pandas as pd
import pytest
from hand_results import AS_OF, make_result, week_later
from sqlalchemy import func, select

from rollup.config import parse_config
from rollup.lint import history
from rollup.store.schema_lint import lint_findings, lint_runs, lint_team_scores

CONFIG_TEXT = """
jira: {projects: [PAY]}
pillars: [{id: enterprise, name: Enterprise, target_share: 100%}]
lint: {rules: {EQ030: {min_words: 20}}}
"""
CONFIG = parse_config(CONFIG_TEXT)
#: The same content as plain data: the hash must not depend on the order of the keys.
PLAIN = {"pillars": ["enterprise"], "lint": {"rules": {"EQ030": {"min_words": 20}}}}


def _count(store, table) -> int:
    with store.connect() as conn:
        return conn.execute(select(func.count()).select_from(table)).scalar_one()


def test_a_run_is_stored_with_its_findings_scores_and_provenance(store):
    sync_id = store.record_run(started=datetime(2026, 11, 26, 5, tzinfo=timezone.utc), mode="full", status="ok")
    run_id = history.record_run(store, make_result(), config=CONFIG,
                                started=datetime(2026, 11, 26, 6, tzinfo=timezone.utc))
    runs = history.read_runs(store)
    assert list(runs["id"]) == [run_id]
    run = runs.iloc[0]
    assert run["as_of"] == AS_OF and run["sync_run_id"] == sync_id
    assert run["config_hash"] == history.config_hash(CONFIG) and len(run["config_hash"]) == 64
    assert run["rules"] == ["EQ001", "EQ010", "EQ020", "EQ030"]
    assert (run["epics"], run["findings"], run["errors"], run["warnings"], run["infos"]) == (7, 5, 4, 1, 0)

    findings = history.read_findings(store, run_id)
    assert len(findings) == 5
    mob = findings.set_index(["key", "rule"]).loc[("MOB-9", "EQ010")]
    assert pd.isna(mob["team_id"]) and pd.isna(mob["owner"]) and mob["issue_id"] == 901
    assert set(findings.loc[findings["key"] == "PAY-1", "rule"]) == {"EQ001", "EQ020"}

    scores = history.read_scores(store).set_index("team")
    assert scores.loc["Payments", "score"] == pytest.approx(0.5)
    assert scores.loc["Payments", "errors"] == 2 and scores.loc["Payments", "stories_without_epic"] == 2
    assert scores.loc["Unassigned", "team_id"] is None and scores.loc["Unassigned", "score"] == 0.0

    latest = history.latest_run(store)
    assert latest.id == run_id and latest.score == pytest.approx(3 / 7)


def test_config_hash_changes_with_the_config_and_only_then():
    other = {**PLAIN, "lint": {"rules": {"EQ030": {"min_words": 25}}}}
    assert history.config_hash(PLAIN) == history.config_hash(dict(reversed(list(PLAIN.items()))))
    assert history.config_hash(PLAIN) != history.config_hash(other)
    assert history.config_hash(CONFIG) == history.config_hash(parse_config(CONFIG_TEXT))
    assert history.config_hash(CONFIG) != history.config_hash(parse_config(CONFIG_TEXT.replace("20", "25")))


def test_a_failing_run_leaves_nothing_behind(store):
    broken = make_result()
    broken.findings = pd.concat([broken.findings, broken.findings.iloc[[0]]], ignore_index=True)  # duplicate key+rule
    with pytest.raises(Exception):
        history.record_run(store, broken, config=CONFIG)
    assert (_count(store, lint_runs), _count(store, lint_findings), _count(store, lint_team_scores)) == (0, 0, 0)
    assert history.latest_run(store) is None


def test_trend_over_two_stored_runs(store):
    history.record_run(store, make_result(), config=CONFIG, started=datetime(2026, 11, 26, 6, tzinfo=timezone.utc))
    history.record_run(store, week_later(), config=CONFIG, started=datetime(2026, 12, 3, 6, tzinfo=timezone.utc))
    trend = history.trend_frame(history.read_scores(store))
    assert list(trend.columns) == ["team_id", "team", "2026-11-26", "2026-12-03"]
    assert list(trend["team"]) == ["Payments", "Scheduling", "Unassigned"]
    pay = trend.set_index("team").loc["Payments"]
    assert (pay["2026-11-26"], pay["2026-12-03"]) == (0.5, 0.75)
    assert pd.isna(trend.set_index("team").loc["Unassigned", "team_id"])


def test_the_last_run_of_a_date_stands_for_it_and_points_are_capped():
    first = history.scores_frame(make_result(), run_id=1, started=datetime(2026, 11, 26, 6, tzinfo=timezone.utc))
    again = history.scores_frame(make_result(fixed=("PAY-1",)), run_id=2,
                                 started=datetime(2026, 11, 26, 18, tzinfo=timezone.utc))
    later = history.scores_frame(week_later(), run_id=None, started=datetime(2026, 12, 3, 6, tzinfo=timezone.utc))
    trend = history.trend_frame(pd.concat([first, again, later], ignore_index=True))
    assert list(trend.columns[2:]) == ["2026-11-26", "2026-12-03"]
    assert trend.set_index("team").loc["Payments", "2026-11-26"] == 0.75
    capped = history.trend_frame(pd.concat([first, later], ignore_index=True), points=1)
    assert list(capped.columns) == ["team_id", "team", "2026-12-03"]


def test_a_team_missing_from_a_run_has_no_score_there():
    first = history.scores_frame(make_result(), run_id=1)
    second = week_later()
    second.teams = pd.concat([second.teams, pd.DataFrame([{
        "team_id": "mob", "team": "Mobile", "epics": 2, "clean": 2, "score": 1.0, "errors": 0, "warnings": 0,
        "infos": 0, "stories_without_epic": 0}])], ignore_index=True)
    trend = history.trend_frame(pd.concat([first, history.scores_frame(second, run_id=2)], ignore_index=True))
    mobile = trend.set_index("team").loc["Mobile"]
    assert math.isnan(mobile["2026-11-26"]) and mobile["2026-12-03"] == 1.0
    assert list(trend["team"])[-1] == "Unassigned"


def test_top_rules_counts_findings_epics_and_teams():
    top = history.top_rules(make_result().findings, n=2)
    assert top.to_dict(orient="records") == [
        {"rule": "EQ001", "findings": 2, "epics": 2, "teams": 2},
        {"rule": "EQ010", "findings": 1, "epics": 1, "teams": 1},
    ]
    assert history.top_rules(make_result().findings.iloc[0:0]).empty


def test_no_runs_gives_an_empty_trend(store):
    assert history.trend_frame(history.read_scores(store)).empty
    assert history.read_runs(store).empty


def test_the_portfolio_finds_the_run_of_its_date_on_its_data_and_the_one_a_week_before(store):
    """``run_for``: same as-of date, latest sync, same configuration; ``run_before``: about a week earlier."""
    from datetime import date, timedelta

    first_sync = store.record_run(started=datetime(2026, 11, 19, 5, tzinfo=timezone.utc), mode="full", status="ok")
    early = history.record_run(store, make_result(as_of=AS_OF - timedelta(days=7)), config=CONFIG)
    middle = history.record_run(store, make_result(as_of=AS_OF - timedelta(days=3)), config=CONFIG)
    assert history.run_for(store, as_of=AS_OF, config=CONFIG) is None              # nothing of that date yet
    today = history.record_run(store, make_result(), config=CONFIG)
    assert history.run_for(store, as_of=AS_OF, config=CONFIG).id == today
    assert history.run_for(store, as_of=AS_OF, config=parse_config(CONFIG_TEXT.replace("enterprise", "other"))) is None
    assert history.run_before(store, AS_OF).id == early                            # 7 days back, not 3
    assert history.run_before(store, AS_OF - timedelta(days=5)).id == early        # none 6 days back: the first
    assert history.run_before(store, date(2000, 1, 1)) is None
    store.record_run(started=datetime(2026, 11, 26, 5, tzinfo=timezone.utc), mode="incremental", status="ok")
    assert history.run_for(store, as_of=AS_OF, config=CONFIG) is None              # linted older data
    assert first_sync and middle
