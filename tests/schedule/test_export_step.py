"""The export step plugs into a job through the step registry and writes what `rollup export` writes: the feed's
files in the run folder and latest/, and the store's feed, from the job's one read and lint of the store."""

from __future__ import annotations

from datetime import date

import pandas as pd
import pytest
from schedule_helpers import job_yaml, load_job, write_schedule

from rollup.config import load_config
from rollup.errors import ConfigError
from rollup.feed.dictionary import TABLES
from rollup.jobs.feed import run_feed_export
from rollup.schedule.runner import run_job
from rollup.store import Store
from rollup.store.feed import read_view

FEED_FILES = sorted([f"{t.name}.{ext}" for t in TABLES for ext in ("csv", "parquet")] + ["dictionary.csv",
                                                                                          "feed.json"])


def test_the_export_step_writes_the_feed_into_the_run_and_the_store(project):
    write_schedule(project, job_yaml("bi-feed", steps="[portfolio, export]", extra="max_data_age: 1d"))
    run = run_job(load_job(project, "bi-feed"))
    assert run.status == "ok", run.steps
    assert [(s["name"], s["status"]) for s in run.steps][-2:] == [("portfolio", "ok"), ("export", "ok")]
    feed_files = sorted(f.split("/", 1)[1] for f in run.files if f.startswith("feed/"))
    assert feed_files == FEED_FILES
    with Store.open() as store:
        reference = run_feed_export(store, load_config("mappings.yaml"), out_dir=project / "reference",
                                    as_of=date(2026, 11, 23), to_store=False)
        assert reference.rows["snapshots"] > 0 and not reference.views
        views = {t.name: read_view(store, t.name) for t in TABLES}
    for feed in TABLES:
        ours = pd.read_parquet(run.run_dir / "feed" / f"{feed.name}.parquet")
        theirs = pd.read_parquet(project / "reference" / f"{feed.name}.parquet")
        pd.testing.assert_frame_equal(ours, theirs)  # the job's export is the command's
        assert len(views[feed.name]) == len(ours)
        assert f"{feed.name} {len(ours):,}" in run.steps[-1]["summary"]
    # The portfolio step stored this week's snapshot before the export read the snapshots.
    snapshots = pd.read_parquet(run.run_dir / "feed" / "snapshots.parquet")
    assert "2026-W48" in set(snapshots["week"])
    latest = project / "outputs" / "bi-feed" / "latest" / "feed"
    assert sorted(p.name for p in latest.iterdir()) == FEED_FILES


def test_the_export_step_can_leave_the_store_alone(project):
    write_schedule(project, job_yaml("files-only", steps="[{step: export, folder: bi, store: false}]",
                                     extra="max_data_age: 1d"))
    run = run_job(load_job(project, "files-only"))
    assert run.status == "ok", run.steps
    assert sorted(f.split("/", 1)[1] for f in run.files if f.startswith("bi/")) == FEED_FILES
    with Store.open() as store:
        assert all(len(read_view(store, t.name)) == 0 for t in TABLES)


def test_an_unknown_export_key_is_refused_with_the_file_and_line(project):
    write_schedule(project, job_yaml("typo", steps="[{step: export, foldr: bi}]"))
    with pytest.raises(ConfigError, match=r"jobs\.yaml.*foldr"):
        load_job(project, "typo")


def test_after_a_portfolio_step_the_feed_reports_the_portfolios_own_forecast_and_effort(project, monkeypatch):
    """The feed's forecasts and allocation are the rows the job's portfolio showed (its views), not worked out
    again; a job without a portfolio step works them out itself."""
    from rollup.schedule import runner
    from rollup.views import effort as effort_view
    from rollup.views import forecast as forecast_view

    calls = {"forecast": 0, "effort": 0}
    for name, module in (("forecast", forecast_view), ("effort", effort_view)):
        real = module.compute

        def counted(*args, _real=real, _name=name, **kwargs):
            calls[_name] += 1
            return _real(*args, **kwargs)

        monkeypatch.setattr(module, "compute", counted)
    monkeypatch.setattr(runner, "can_fork", lambda: False)  # the portfolio's views in this process
    write_schedule(project, job_yaml("with-portfolio", steps="[portfolio, export]", extra="max_data_age: 1d"))
    run = run_job(load_job(project, "with-portfolio"))
    assert run.status == "ok", run.steps
    assert calls == {"forecast": 0, "effort": 0}
    write_schedule(project, job_yaml("feed-only", steps="[export]", extra="max_data_age: 1d"))
    alone = run_job(load_job(project, "feed-only"))
    assert alone.status == "ok", alone.steps
    assert calls == {"forecast": 1, "effort": 1}
    for name in ("forecasts", "allocation"):
        pd.testing.assert_frame_equal(pd.read_parquet(run.run_dir / "feed" / f"{name}.parquet"),
                                      pd.read_parquet(alone.run_dir / "feed" / f"{name}.parquet"))
