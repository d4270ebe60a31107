"""Scoring past forecasts against what happened: the rebuild of a past week, the scores, the command."""

from __future__ import annotations

import json
from datetime import date, timedelta

import pandas as pd
import pytest
from click.testing import CliRunner
from portfolio_org import _row
from test_forecast import AS_OF, Org, at

from rollup.config import parse_config
from rollup.forecast.backtest import as_of_frame, backtest

CONFIG = parse_config("jira: {projects: [PAY]}\n"
                      "teams:\n  - {id: pay, name: Payments, recognised_by: {projects: [PAY]}}\n"
                      "forecast: {trials: 500, throughput_weeks: 4, wip: 1, split_rate: false}\n")


def test_a_past_week_is_rebuilt_from_creation_and_resolution_dates():
    org = Org()
    org.epic("PAY-1", "pay", status="done")
    org.rows[-1]["resolved"] = at(AS_OF - timedelta(days=2))
    org.children("PAY-1", "pay", done_on=[AS_OF - timedelta(days=30), AS_OF - timedelta(days=3)])
    org.children("PAY-1", "pay", open_=1, created=AS_OF - timedelta(days=5), prefix="N")
    then = as_of_frame(org.frame(), AS_OF - timedelta(days=10)).set_index("key")
    # Ten days ago: the epic was open (started: a child was done), one child done, one open, the new one not there.
    assert then.loc["PAY-1", "status_category"] == "indeterminate" and pd.isna(then.loc["PAY-1", "resolved"])
    assert then.loc["PAY-1-S1", "status_category"] == "done"
    assert then.loc["PAY-1-S2", "status_category"] == "indeterminate"
    assert "PAY-1-N3" not in then.index


def _hand_org() -> pd.DataFrame:
    """The team finished 2 items every week for 20 weeks under a done epic; PAY-1's 4 children, created long
    ago, were all done in the last week, and the epic 5 days ago."""
    org = Org()
    org.epic("DONE-1", "pay", status="done")
    org.rows[-1]["resolved"] = at(AS_OF - timedelta(days=150))
    org.children("DONE-1", "pay", done_on=[AS_OF - timedelta(days=7 * w + d) for w in range(20) for d in (1, 3)],
                 created=AS_OF - timedelta(days=200))
    org.epic("PAY-1", "pay", status="done")
    org.rows[-1]["resolved"] = at(AS_OF - timedelta(days=5))
    org.children("PAY-1", "pay", done_on=[AS_OF - timedelta(days=6)] * 4, created=AS_OF - timedelta(days=200))
    return pd.DataFrame([_row(project_key="PAY", id=n, **row) for n, row in enumerate(org.rows, start=1)])


def test_a_forecast_four_weeks_ago_is_scored_by_hand():
    frame = _hand_org()
    result = backtest(frame, CONFIG, as_of=AS_OF, weeks=4, every=4, trials=500)
    assert result.dates == [AS_OF - timedelta(days=28)]
    row = result.epics.set_index("key").loc["PAY-1"]
    # As of four weeks ago: 4 items at 2 a week → P50 = P85 = two weeks later; done 9 days after that.
    assert row["p85"] == pd.Timestamp(AS_OF - timedelta(days=14))
    assert row["done_on"] == pd.Timestamp(AS_OF - timedelta(days=5))
    assert not row["p85_hit"] and row["p50_error_days"] == 9
    # The linear projection had no date: none of PAY-1's children had been finished in the 28 days before.
    assert pd.isna(row["linear"]) and pd.isna(row["linear_hit"])
    everyone = result.teams.set_index("team_id").loc["all"]
    assert (everyone["p85_scored"], everyone["p85_hits"], everyone["linear_scored"]) == (1, 0, 0)


def test_a_week_with_a_stored_snapshot_is_scored_on_the_forecast_made_then():
    from rollup.views.changes import iso_week

    day = AS_OF - timedelta(days=28)
    payload = {"key": "PAY-1", "team_id": "pay", "status_category": "indeterminate", "p50": "2026-11-20",
               "p85": "2026-11-27", "projected_completion": "2026-11-10"}
    snapshots = pd.DataFrame([{"week": iso_week(day), "as_of": day, "run_id": 1, "taken_at": at(day), "issue_id": 2,
                               "key": "PAY-1", "payload": payload},
                              # A done epic's row is not a forecast to score.
                              {"week": iso_week(day), "as_of": day, "run_id": 1, "taken_at": at(day), "issue_id": 1,
                               "key": "DONE-1", "payload": {**payload, "key": "DONE-1", "status_category": "done"}}])
    result = backtest(_hand_org(), CONFIG, as_of=AS_OF, weeks=4, every=4, trials=500, snapshots=snapshots)
    assert result.sources == {day: "stored"}
    row = result.epics.set_index("key").loc["PAY-1"]
    # Done 5 days before the as-of date (2026-11-18): by the stored P85, 2 days from the P50, after the linear date.
    assert (row["p85"], row["linear"]) == (pd.Timestamp("2026-11-27"), pd.Timestamp("2026-11-10"))
    assert row["p85_hit"] and not row["linear_hit"] and row["p50_error_days"] == 2 and row["linear_error_days"] == 8
    assert list(result.epics["key"]) == ["PAY-1"]
    # A snapshot written before the forecast and the linear date were kept is not used: that week is rebuilt.
    old = snapshots.assign(payload=[{k: v for k, v in p.items() if k != "projected_completion"}
                                    for p in snapshots["payload"]])
    rebuilt = backtest(_hand_org(), CONFIG, as_of=AS_OF, weeks=4, every=4, trials=500, snapshots=old)
    assert rebuilt.sources == {day: "rebuilt"}
    assert rebuilt.epics.set_index("key").loc["PAY-1", "p85"] == pd.Timestamp(AS_OF - timedelta(days=14))


@pytest.fixture(scope="module")
def synced(tmp_path_factory):
    from rollup.jobs.demo import sync_sample_org
    from rollup.localjira.sampleorg import SampleOrg
    from rollup.store import Store

    folder = tmp_path_factory.mktemp("backtest")
    url = f"sqlite:///{folder / 'rollup.db'}"
    with Store.open(url) as store:
        sync_sample_org(store, SampleOrg.generate(seed=7, issues=1200), max_workers=4)
    return url


def test_the_command_scores_the_sample_organisation(synced):
    from rollup.cli import cli

    out = CliRunner().invoke(cli, ["forecast", "backtest", "--database", synced, "--as-of", "2026-11-23",
                                   "--format", "json", "--trials", "500"])
    assert out.exit_code == 0, out.output
    figures = json.loads(out.output)
    everyone = next(t for t in figures["teams"] if t["team_id"] == "all")
    assert figures["dates"] == [(date(2026, 11, 23) - timedelta(days=7 * k)).isoformat() for k in (4, 8, 12, 16,
                                                                                                    20, 24)]
    assert everyone["p85_scored"] > 10 and 0 <= everyone["p85_hit_rate"] <= 1
    assert everyone["p85_hits"] == sum(t["p85_hits"] for t in figures["teams"] if t["team_id"] != "all")
    text = CliRunner().invoke(cli, ["forecast", "backtest", "--database", synced, "--as-of", "2026-11-23",
                                    "--trials", "500"])
    assert text.exit_code == 0 and "done by P85" in text.output and "\nall " in text.output


def test_bad_options_exit_2_naming_them(synced):
    from rollup.cli import cli

    out = CliRunner().invoke(cli, ["forecast", "backtest", "--database", synced, "--weeks", "4", "--every", "8"])
    assert out.exit_code == 2 and "--every" in out.output
