"""One run of a job through the runner: steps, fresh data, failures, outputs, history, logs."""

from __future__ import annotations

import io
import json
import re
from datetime import datetime, timedelta, timezone

import pytest
from click.testing import CliRunner
from openpyxl import load_workbook
from schedule_helpers import AS_OF, job_yaml, load_job, temp_files, write_schedule

from rollup.cli import cli
from rollup.config import load_config
from rollup.jobs.report import run_portfolio
from rollup.localjira import LocalJira, SampleOrg
from rollup.schedule import history, logs
from rollup.schedule.outputs import MANIFEST, RUN_DIR
from rollup.schedule.runner import run_job
from rollup.store import Store

WORKBOOK = "portfolio-2026-W48.xlsx"


@pytest.fixture
def log_lines():
    stream = io.StringIO()
    logs.configure(stream)
    yield lambda: stream.getvalue().splitlines()
    logs.configure()


def sheet_values(path) -> dict[str, list[tuple]]:
    book = load_workbook(path, read_only=True)
    return {ws.title: [tuple(row) for row in ws.iter_rows(values_only=True)] for ws in book.worksheets}


def test_a_run_writes_the_same_workbook_as_the_report_command_into_a_dated_folder_and_latest(project, log_lines):
    write_schedule(project, job_yaml(steps="[portfolio, {step: team_reports, teams: [payments]}]"))
    run = run_job(load_job(project))

    assert run.status == "ok" and run.exit_code == 0
    assert [(s["name"], s["status"]) for s in run.steps] == [("sync", "skipped"), ("portfolio", "ok"),
                                                              ("team_reports", "ok")]
    assert "newer than 1h: not synced" in run.steps[0]["summary"]
    assert run.steps[2]["summary"] == "1 team workbook"
    out = project / "outputs" / "weekly"
    assert run.run_dir.resolve().parent == out and RUN_DIR.match(run.run_dir.name)
    assert WORKBOOK in run.files and "team-payments-2026-W48.xlsx" in run.files
    assert "charts/allocation-vs-target.png" in run.files
    manifest = json.loads((run.run_dir / MANIFEST).read_text())
    assert manifest["job"] == "weekly" and manifest["run_id"] == run.run_id and manifest["files"] == run.files

    # The job runs the same pipeline as `rollup report portfolio`: the same numbers, sheet by sheet.
    with Store.open() as store:
        started = history.get_run(store, run.run_id)["started"]
        reference = run_portfolio(store, load_config("mappings.yaml"), as_of=datetime.fromisoformat(AS_OF).date(),
                                  out_dir=project / "reference", save_snapshot=False, now=started)
    assert sheet_values(run.run_dir / WORKBOOK) == sheet_values(reference.workbook)
    pillars = sheet_values(run.run_dir / WORKBOOK)["Pillars"]
    assert len(pillars) > 4  # header plus the four pillars of the sample organisation

    latest = out / "latest"
    assert (latest / "portfolio.xlsx").read_bytes() == (run.run_dir / WORKBOOK).read_bytes()
    assert (latest / "team-payments.xlsx").exists() and (latest / "charts-payments" / "roadmap.png").exists()
    assert not temp_files(project / "outputs") and not list(out.glob(".partial-*"))

    with Store.open() as store:
        row = history.get_run(store, run.run_id)
    assert row["status"] == "ok" and row["trigger"] == "manual" and row["outputs"] == run.files
    assert row["run_dir"] == str(run.run_dir) and row["finished"] >= row["started"]
    assert [s["name"] for s in row["steps"]] == ["sync", "portfolio", "team_reports"]
    assert all(s["seconds"] >= 0 for s in row["steps"])

    step_lines = [line for line in log_lines() if " event=step " in line]
    assert len(step_lines) == 3
    assert all(" seconds=" in line and f" run={run.run_id} " in line for line in step_lines)
    assert " step=portfolio status=ok " in step_lines[1]


def test_reports_run_on_fresh_data_a_stale_store_is_synced_first(project):
    write_schedule(project, job_yaml(steps="[{step: sync, source: local-demo, issues: 600}, portfolio]"))
    job = load_job(project)
    with Store.open() as store:
        before = len(store.sync_run_rows())
    fresh = run_job(job)
    assert fresh.steps[0]["status"] == "skipped"
    later = run_job(job, now=datetime.now(timezone.utc) + timedelta(hours=2))  # the data is now 2 h old
    assert later.steps[0]["status"] == "ok" and "incremental sync" in later.steps[0]["summary"]
    with Store.open() as store:
        rows = store.sync_run_rows()
    assert len(rows) == before + 1 and rows[-1]["status"] == "ok"


def test_no_sync_step_and_no_max_data_age_means_no_sync(project):
    write_schedule(project, job_yaml(steps="[portfolio]", extra="max_data_age: null"))
    run = run_job(load_job(project))
    assert [s["name"] for s in run.steps] == ["portfolio"]


@pytest.fixture
def refusing_jira(monkeypatch):
    """A local Jira that refuses the credentials the environment gives (an expired token)."""
    org = SampleOrg.generate(seed=7, issues=300)
    with LocalJira(org, flavour="cloud", credentials=("ops@clinicloud.example", "the-right-token")) as server:
        monkeypatch.setenv("JIRA_URL", server.url)
        monkeypatch.setenv("JIRA_EMAIL", "ops@clinicloud.example")
        monkeypatch.setenv("JIRA_API_TOKEN", "expired-token-s3cr3t")
        monkeypatch.setenv("JIRA_DEPLOYMENT", "cloud")
        yield server


def test_a_failed_step_with_on_failure_continue_lets_the_next_steps_run(project, refusing_jira, log_lines):
    write_schedule(project, job_yaml(steps="[{step: sync, max_age: 0s, on_failure: continue}, portfolio]"))
    run = run_job(load_job(project))

    assert run.status == "partial" and run.exit_code == 1
    sync, portfolio = run.steps
    assert sync["status"] == "failed" and "rejected the credentials" in sync["error"]
    assert portfolio["status"] == "ok" and WORKBOOK in run.files
    assert (project / "outputs" / "weekly" / "latest" / "portfolio.xlsx").exists()
    with Store.open() as store:
        row = history.get_run(store, run.run_id)
    assert row["status"] == "partial" and "step 'sync' failed" in row["error"]
    assert "expired-token-s3cr3t" not in json.dumps(row, default=str)
    assert not any("expired-token-s3cr3t" in line for line in log_lines())
    assert any(" step=sync status=failed " in line for line in log_lines())


def test_a_failed_step_with_on_failure_stop_skips_the_rest_and_keeps_latest(project, refusing_jira, monkeypatch):
    write_schedule(project, job_yaml(steps="[portfolio]", extra="max_data_age: 1d"))
    good = run_job(load_job(project))
    latest = project / "outputs" / "weekly" / "latest" / "portfolio.xlsx"
    before = latest.read_bytes()

    write_schedule(project, job_yaml(steps="[{step: sync, max_age: 0s}, portfolio]"))
    run = run_job(load_job(project))
    assert run.status == "failed" and run.exit_code == 1
    assert [(s["name"], s["status"]) for s in run.steps] == [("sync", "failed"), ("portfolio", "skipped")]
    assert run.steps[1]["summary"] == "not run: step 'sync' failed"
    assert run.run_dir is None and run.files == []
    assert [p.name for p in (project / "outputs" / "weekly").iterdir() if p.name != "latest"] == [good.run_dir.name]
    assert latest.read_bytes() == before


def test_a_run_left_running_by_a_dead_process_is_marked_died(project):
    write_schedule(project, job_yaml(steps="[portfolio]", extra="max_data_age: null"))
    with Store.open() as store:
        dead = history.start_run(store, "weekly", "schedule")
    partial = project / "outputs" / "weekly" / f".partial-{dead}" / "00-portfolio"
    partial.mkdir(parents=True)
    (partial / "half.png").write_bytes(b"\x89PNG")
    run = run_job(load_job(project))
    with Store.open() as store:
        row = history.get_run(store, dead)
    assert row["status"] == "died" and "ended before the run finished" in row["error"]
    assert run.status == "ok" and not partial.parent.exists()


def test_bad_team_in_a_step_is_bad_input_before_anything_runs(project):
    from rollup.errors import ConfigError

    write_schedule(project, job_yaml(steps="[{step: team_reports, teams: [paymnets]}]"))
    with pytest.raises(ConfigError, match="reports on team\\(s\\) paymnets, not declared in mappings.yaml"):
        run_job(load_job(project))
    assert not (project / "outputs").exists()
    with Store.open() as store:
        assert history.list_runs(store) == []


@pytest.mark.parametrize("after", ["{step: sync, source: local-demo}", "{step: team_reports, teams: [payments]}"])
def test_a_stop_between_steps_skips_the_rest_and_neither_publishes_latest_nor_delivers(project, monkeypatch, after):
    from rollup.schedule import steps as steps_module
    from rollup.schedule.runner import StopFlag

    write_schedule(project, job_yaml(steps=f"[portfolio, {after}]",
                                     extra="max_data_age: null\ndeliver: {email: {to: [ceo@clinicloud.example], "
                                           "outbox: outputs/outbox}}"))
    stop = StopFlag()
    original = steps_module.PortfolioStep.run

    def portfolio_then_sigterm(ctx, params):
        outcome = original(ctx, params)
        stop.requested = "SIGTERM"  # arrives while the runner records the finished step
        return outcome

    monkeypatch.setattr(steps_module.PortfolioStep, "run", staticmethod(portfolio_then_sigterm))
    _portfolio_starts(monkeypatch)  # the portfolio is forked wherever it may be (see there)
    run = run_job(load_job(project), stop=stop)
    name = after.split(",")[0].removeprefix("{step: ")
    assert run.status == "interrupted" and run.exit_code == 130
    assert not (project / "outputs" / "weekly" / "latest").exists()
    assert run.delivery_status == "skipped" and not (project / "outputs" / "outbox").exists()
    if name == "sync":
        assert [(s["name"], s["status"]) for s in run.steps] == [("portfolio", "ok"), ("sync", "skipped")]
        assert WORKBOOK in run.files  # the finished step's workbook is kept in its dated folder
    else:
        # The portfolio was still being written beside the next step (in a process of its own): stopped with it.
        assert [(s["name"], s["status"]) for s in run.steps] == [("portfolio", "abandoned"),
                                                                 ("team_reports", "skipped")]
        assert run.error == "stopped by SIGTERM during step 'portfolio'" and not run.files
        assert not list((project / "outputs").rglob("*.xlsx"))


def test_what_a_job_lacks_at_the_door_is_named_with_the_job(project):
    """A missing mappings file or missing JIRA_* variables: exit 2 naming the schedule file, line and job."""
    write_schedule(project, job_yaml(steps="[portfolio]", extra="config: finance/mappings.yaml"))
    result = CliRunner().invoke(cli, ["run", "weekly"])
    assert result.exit_code == 2, result.output
    assert re.search(r"jobs\.yaml:\d+: job 'weekly': mappings file finance/mappings\.yaml not found in ", result.output)
    assert "'config:' key" in result.output

    write_schedule(project, job_yaml(steps="[{step: sync, max_age: 0s}, portfolio]"))  # the data is due a sync
    result = CliRunner().invoke(cli, ["run", "weekly"])
    assert result.exit_code == 2, result.output
    assert re.search(r"jobs\.yaml:\d+: job 'weekly' syncs from Jira: .*JIRA_URL is not set", result.output)

    assert not (project / "outputs").exists()
    with Store.open() as store:
        assert history.list_runs(store) == []


def test_a_job_syncing_several_sites_names_the_site_whose_variables_are_missing(project, monkeypatch):
    text = (project / "mappings.yaml").read_text()
    sites = ("sites:\n  - {name: cloud, url: 'https://acme.atlassian.net', email_env: ACME_EMAIL, "
             "token_env: ACME_TOKEN}\n  - {name: dc, url: 'https://jira.acme.internal', pat_env: ACME_DC_PAT}\n")
    (project / "mappings.yaml").write_text(text.replace("\nsync:\n", "\n" + sites + "\nsync:\n", 1))
    monkeypatch.setenv("ACME_EMAIL", "me@acme.example")
    monkeypatch.setenv("ACME_TOKEN", "not-shown-anywhere")
    write_schedule(project, job_yaml(steps="[{step: sync, max_age: 0s}, portfolio]"))
    result = CliRunner().invoke(cli, ["run", "weekly"])
    assert result.exit_code == 2, result.output
    assert re.search(r"jobs\.yaml:\d+: job 'weekly' syncs from Jira: Jira site 'dc' is not configured: .*ACME_DC_PAT",
                     result.output)
    assert "JIRA_URL" not in result.output and "not-shown-anywhere" not in result.output
    assert not (project / "outputs").exists()


def test_a_fire_time_already_run_by_another_scheduler_is_skipped_not_run_twice(project):
    write_schedule(project, job_yaml(steps="[portfolio]", extra="max_data_age: null"))
    job = load_job(project)
    fire = datetime(2026, 11, 23, 7, 0, tzinfo=timezone.utc)  # Monday 07:00 in London (GMT)
    first = run_job(job, trigger="schedule", now=fire + timedelta(seconds=5))
    assert first.status == "ok" and first.exit_code == 0
    # A second daemon on the same database fires the same 07:00 after the first run has finished.
    second = run_job(job, trigger="schedule", now=fire + timedelta(minutes=2))
    assert second.status == "skipped" and second.exit_code == 0
    assert f"already run by run {first.run_id}" in second.error and "2026-11-23T07:00:00+00:00" in second.error
    assert second.run_dir is None and not second.files
    # A manual run is never held back, and the next fire time runs again.
    assert run_job(job, trigger="manual", now=fire + timedelta(minutes=3)).status == "ok"
    next_week = run_job(job, trigger="schedule", now=fire + timedelta(days=7, seconds=5))
    assert next_week.status == "ok"
    with Store.open() as store:
        statuses = [(r["trigger"], r["status"]) for r in reversed(history.list_runs(store, job="weekly"))]
    assert statuses == [("schedule", "ok"), ("schedule", "skipped"), ("manual", "ok"), ("schedule", "ok")]


def test_only_runs_still_running_are_marked_died(tmp_path):
    # A locked run is written as running and closed a moment later; marking died never reopens it.
    from rollup.schedule import history
    from rollup.store import Store

    with Store.open(f"sqlite:///{tmp_path / 'r.db'}") as store:
        mine = history.start_run(store, "weekly", "manual")
        other = history.start_run(store, "weekly", "manual")
        locked = history.record_run(store, "weekly", "manual", "locked", error="already running")
        assert history.mark_died(store, "weekly", keep=mine) == [other]
        status = {r["id"]: r["status"] for r in history.list_runs(store, job="weekly")}
    assert status == {mine: "running", other: "died", locked: "locked"}


def _portfolio_starts(monkeypatch) -> list[int]:
    """Record the process that starts a forked portfolio (none when the portfolio is written in-process).

    The runner forks only in a process running no other thread; a test session may have left some (servers
    of earlier tests), so the check is made to say yes here: what is tested is what the runner does then.
    """
    import os

    from rollup.jobs import report
    from rollup.schedule import runner

    monkeypatch.setattr(runner, "can_fork", lambda: True)

    started: list[int] = []
    original = report.start_portfolio

    def recording(*args, **kwargs):
        started.append(os.getpid())
        return original(*args, **kwargs)

    monkeypatch.setattr(report, "start_portfolio", recording)
    return started


def test_the_portfolio_is_written_beside_the_team_workbooks_with_the_same_files_facts_and_snapshot(
        project, monkeypatch, log_lines):
    started = _portfolio_starts(monkeypatch)
    write_schedule(project, job_yaml(steps="[portfolio, {step: team_reports, teams: [payments]}, lint]",
                                     extra="max_data_age: null"))
    now = datetime.now(timezone.utc).replace(microsecond=0)
    with Store.open() as store:
        before = {r["taken_at"] for r in store.snapshot_rows() if r["week"] == "2026-W48"}
        # The same report written in this process, before the job (whose lint step records a lint run).
        reference = run_portfolio(store, load_config("mappings.yaml"), as_of=datetime.fromisoformat(AS_OF).date(),
                                  out_dir=project / "reference", save_snapshot=False, now=now)
    run = run_job(load_job(project), now=now)
    assert started, "the portfolio was written in this process"
    assert run.status == "ok", run.steps
    assert [(s["name"], s["status"]) for s in run.steps] == [("portfolio", "ok"), ("team_reports", "ok"),
                                                              ("lint", "ok")]
    portfolio = run.steps[0]
    assert portfolio["summary"] == f"{WORKBOOK} and 12 chart files" and portfolio["facts"]["headline"]
    assert WORKBOOK in run.files and "charts/roadmap.svg" in run.files and "team-payments-2026-W48.xlsx" in run.files
    # The week's snapshot is stored by the job's own process, once the portfolio is written.
    with Store.open() as store:
        after = {r["taken_at"] for r in store.snapshot_rows() if r["week"] == "2026-W48"}
    assert len(after) == 1 and after != before
    assert sheet_values(run.run_dir / WORKBOOK) == sheet_values(reference.workbook)
    # The log keeps plan order, each step with its own time.
    logged = [re.search(r" step=(\w+) status=(\w+) seconds=([\d.]+)", line).groups()
              for line in log_lines() if " event=step " in line]
    assert [(name, status) for name, status, _ in logged] == [("portfolio", "ok"), ("team_reports", "ok"),
                                                              ("lint", "ok")]
    assert float(logged[0][2]) > 0


@pytest.mark.parametrize("on_failure", ["stop", "continue"])
def test_a_portfolio_failing_beside_later_steps_is_a_failure_of_its_own_step(project, monkeypatch, on_failure):
    from rollup.jobs import report

    started = _portfolio_starts(monkeypatch)

    original = report.run_portfolio

    def broken(*args, **kwargs):
        if kwargs.get("team") is None:
            raise RuntimeError("the writer broke")
        return original(*args, **kwargs)

    monkeypatch.setattr(report, "run_portfolio", broken)  # inherited by the forked process
    write_schedule(project, job_yaml(
        steps=f"[{{step: portfolio, on_failure: {on_failure}}}, {{step: team_reports, teams: [payments]}}]",
        extra="max_data_age: null"))
    with Store.open() as store:
        before = store.snapshot_rows()
    run = run_job(load_job(project))
    assert started
    assert run.steps[0]["status"] == "failed" and "the writer broke" in run.steps[0]["error"]
    assert not any(name.startswith("portfolio") or name.startswith("charts/") for name in run.files)
    with Store.open() as store:
        assert store.snapshot_rows() == before  # a failed portfolio stores no snapshot
    if on_failure == "stop":
        # As if the portfolio had run first and stopped the job: what ran beside it is not kept.
        assert run.status == "failed" and run.exit_code != 0
        assert run.steps[1]["status"] == "skipped" and run.steps[1]["summary"] == "not kept: step 'portfolio' failed"
        assert not run.files and not (project / "outputs" / "weekly" / "latest").exists()
    else:
        assert run.status == "partial"
        assert run.steps[1]["status"] == "ok" and "team-payments-2026-W48.xlsx" in run.files
