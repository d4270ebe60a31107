"""The lint and finance steps plug into jobs through the step registry and run the same library
functions as `rollup lint` and `rollup finance export`."""

from __future__ import annotations

import csv
from datetime import date

from click.testing import CliRunner
from openpyxl import load_workbook
from schedule_helpers import job_yaml, load_job, write_schedule
from sqlalchemy import func, select

from rollup.cli import cli
from rollup.config import load_config
from rollup.jobs.finance import run_export
from rollup.jobs.lint import run_lint_report
from rollup.jobs.sample_rates import write_sample_rates
from rollup.localjira import SampleOrg
from rollup.schedule import history
from rollup.schedule.runner import run_job
from rollup.schedule.steps import resolve_month
from rollup.store import Store
from rollup.store.schema_lint import lint_runs


def test_the_lint_step_writes_the_lint_workbook_and_records_the_run(project):
    write_schedule(project, job_yaml("daily-lint", steps="[{step: lint, formats: [xlsx, csv]}]",
                                     cron="30 6 * * mon-fri", extra="max_data_age: 1d"))
    with Store.open() as store, store.connect() as conn:
        before = conn.execute(select(func.count()).select_from(lint_runs)).scalar_one()
    run = run_job(load_job(project, "daily-lint"))
    assert run.status == "ok", run.steps
    assert sorted(run.files) == ["lint-2026-11-23.csv", "lint-2026-11-23.xlsx"]
    with Store.open() as store:
        reference = run_lint_report(store, load_config("mappings.yaml"), out_dir=project / "reference",
                                    as_of=date(2026, 11, 23), formats=("csv",), record=False, dry_run=False)
        with store.connect() as conn:
            after = conn.execute(select(func.count()).select_from(lint_runs)).scalar_one()
    assert after == before + 1
    findings = len(reference.result.findings)
    assert run.steps[1]["summary"].startswith(f"{findings} findings on {reference.result.epics} epics")
    with open(run.run_dir / "lint-2026-11-23.csv", newline="") as handle:
        assert len(list(csv.DictReader(handle))) == findings
    assert load_workbook(project / "outputs" / "daily-lint" / "latest" / "lint.xlsx", read_only=True).sheetnames


def test_the_finance_step_exports_the_previous_month(project):
    write_sample_rates(SampleOrg.generate(seed=7, issues=600), project / "rates.csv")
    write_schedule(project, job_yaml("monthly-finance", steps="[{step: finance, rates: rates.csv}]",
                                     cron="0 6 2 * *", extra="max_data_age: 1d"))
    run = run_job(load_job(project, "monthly-finance"))
    assert run.status == "ok", run.steps
    assert resolve_month("previous", date(2026, 11, 23)) == "2026-10"
    assert run.files and all(f.startswith("finance-2026-10/") for f in run.files)
    with Store.open() as store:
        reference = run_export(store, load_config("mappings.yaml"), month="2026-10", out_dir=project / "reference",
                               rates_path=project / "rates.csv")
    assert sorted(f.split("/", 1)[1] for f in run.files) == sorted(p.name for p in reference.paths)
    detail = next(p for p in reference.paths if p.suffix == ".csv" and "detail" in p.name)
    ours = run.run_dir / "finance-2026-10" / detail.name
    assert ours.read_text() == detail.read_text()
    assert f"{reference.rows} detail rows" in run.steps[1]["summary"]
    latest = project / "outputs" / "monthly-finance" / "latest" / "finance"
    assert latest.is_dir() and any(p.suffix == ".xlsx" for p in latest.iterdir())


def test_months():
    assert resolve_month("previous", date(2027, 1, 4)) == "2026-12"
    assert resolve_month("current", date(2027, 1, 4)) == "2027-01"
    assert resolve_month("2026-07", date(2027, 1, 4)) == "2026-07"


def test_a_finance_job_without_a_usable_rates_file_is_bad_input_before_anything_runs(project, monkeypatch):
    """The rates file is checked at the door (as `rollup finance export` does), not on the second working day."""
    monkeypatch.delenv("ROLLUP_RATES", raising=False)
    write_schedule(project, job_yaml("monthly-finance", steps="[finance]", cron="0 6 2 * *",
                                     extra="max_data_age: 1d"))
    for args in (["run", "monthly-finance"], ["schedule", "run", "--once"]):
        result = CliRunner().invoke(cli, args)
        assert result.exit_code == 2, result.output
        assert "job 'monthly-finance' runs the finance export: no rates file" in result.output
        assert "set ROLLUP_RATES" in result.output

    (project / "rates.csv").write_text("level,id,currency,valid_from\nteam,payments,XYZ,2026-01-01\n")
    monkeypatch.setenv("ROLLUP_RATES", "rates.csv")
    result = CliRunner().invoke(cli, ["run", "monthly-finance"])
    assert result.exit_code == 2, result.output
    assert "rates.csv, line 2: no rate" in result.output

    assert not (project / "outputs").exists()
    with Store.open() as store:
        assert history.list_runs(store) == []


def test_a_job_lints_the_store_once_for_its_reports_and_its_lint_step(project, monkeypatch):
    """Portfolio, team workbook and lint report read one lint of the store; the lint step's files are the
    same findings `rollup lint` writes."""
    import rollup.lint

    calls = []
    real = rollup.lint.run_lint

    def counting(*args, **kwargs):
        calls.append(kwargs.get("select"))
        return real(*args, **kwargs)

    monkeypatch.setattr(rollup.lint, "run_lint", counting)
    write_schedule(project, job_yaml("weekly-all", extra="max_data_age: 1d", steps=(
        "[portfolio, {step: team_reports, teams: [payments]}, {step: lint, formats: [csv]}]")))
    run = run_job(load_job(project, "weekly-all"))
    assert run.status == "ok", run.steps
    assert calls == [None]
    monkeypatch.setattr(rollup.lint, "run_lint", real)
    with Store.open() as store:
        reference = run_lint_report(store, load_config("mappings.yaml"), out_dir=project / "reference",
                                    as_of=date(2026, 11, 23), formats=("csv",), record=False, dry_run=False)
    assert (run.run_dir / "lint-2026-11-23.csv").read_bytes() == reference.paths[0].read_bytes()
    assert run.steps[-1]["summary"].startswith(f"{len(reference.result.findings)} findings")
