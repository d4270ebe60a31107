"""`rollup demo --schedules` (what `make demo` runs): the weeks are lived, then the demo schedule's job runs
once in the same process and writes the portfolio workbook — once — and the email to the outbox."""

from __future__ import annotations

import email
import json
import os
import shutil
from email import policy
from pathlib import Path

import pytest
from click.testing import CliRunner
from openpyxl import load_workbook

from rollup.cli import cli
from rollup.feed.dictionary import TABLES
from rollup.jobs.report import read_snapshots
from rollup.schedule import history
from rollup.store import Store
from rollup.store.feed import read_view
from rollup.writers.charts import CHARTS, FORMATS

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def project(tmp_path, monkeypatch):
    """A project folder (the working directory) with mappings.yaml and the demo schedule, and no store yet."""
    shutil.copy(ROOT / "mappings.yaml", tmp_path / "mappings.yaml")
    shutil.copytree(ROOT / "schedules" / "demo", tmp_path / "schedules" / "demo")
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("ROLLUP_DATABASE_URL", raising=False)
    for name in ("JIRA_URL", "JIRA_EMAIL", "JIRA_API_TOKEN", "JIRA_PAT", "ROLLUP_SMTP_HOST"):
        monkeypatch.delenv(name, raising=False)
    return tmp_path


@pytest.mark.slow
def test_the_demo_with_its_schedule_writes_the_portfolio_once_and_the_email(project, monkeypatch):
    import rollup.frames
    import rollup.jobs.report
    import rollup.writers.portfolio as portfolio_writer

    reads = []
    real = portfolio_writer.write_portfolio
    # Recorded in a file: the job writes its portfolio in a forked process, beside its team workbooks.
    log = project / "written.log"

    def recording(views, path, *a, **k):
        with open(log, "a") as handle:
            handle.write(Path(path).name + "\n")
        return real(views, path, *a, **k)

    monkeypatch.setattr(portfolio_writer, "write_portfolio", recording)
    load = rollup.frames.load_frames
    for module in (rollup.frames, rollup.jobs.report):
        monkeypatch.setattr(module, "load_frames", lambda store: reads.append(1) or load(store))
    result = CliRunner().invoke(cli, ["demo", "--issues", "400", "--schedules", "schedules/demo"])
    assert result.exit_code == 0, result.output
    written = log.read_text().split()
    assert sorted(written) == ["portfolio-2026-W48.xlsx", "team-payments-2026-W48.xlsx"]  # each workbook once
    assert len(reads) == 6 + 1  # the store is read once a week (its snapshot, the last week's lint), once by the job

    out = project / "outputs"
    assert not (out / "portfolio-2026-W48.xlsx").exists() and (out / "lint-2026-11-23.xlsx").exists()
    latest = out / "demo-weekly-portfolio" / "latest"
    with Store.open() as store:
        [run] = history.list_runs(store, job="demo-weekly-portfolio")
        weeks = sorted(read_snapshots(store)["week"].unique())
    assert run["status"] == "ok" and run["delivery_status"] == "outbox" and run["trigger"] == "manual"
    assert [(s["name"], s["status"]) for s in run["steps"]] == [("sync", "skipped"), ("portfolio", "ok"),
                                                                ("team_reports", "ok"), ("export", "ok")]
    assert weeks == [f"2026-W{n}" for n in range(43, 49)]
    trend = load_workbook(latest / "portfolio.xlsx")["Trend"]
    header = [c.value for c in trend[1]]
    points = [r for r in trend.iter_rows(min_row=2, values_only=True) if r[1]]
    assert [r[header.index("ISO week")] for r in points] == weeks  # six weeks of history in the job's workbook
    [eml] = (out / "outbox").glob("*.eml")
    message = email.message_from_bytes(eml.read_bytes(), policy=policy.default)
    assert sorted(a.get_filename() for a in message.iter_attachments()) == [
        "portfolio-2026-W48.xlsx", "team-payments-2026-W48.xlsx"]

    # Every file written is printed (the lint workbook, each workbook and chart of the run, the email),
    # and the last line says where to look.
    lines = result.stdout.splitlines()
    printed = {Path(line.strip()) for line in lines}
    run_dir = Path(run["run_dir"])
    assert all(run_dir / name in printed for name in run["outputs"])
    # Two workbooks (portfolio, payments), each with every chart in every format, and the BI feed: each of its
    # tables as CSV and Parquet, its dictionary and feed.json.
    feed = [name for name in run["outputs"] if name.startswith("feed/")]
    assert sorted(Path(name).name for name in feed) == sorted(
        [f"{t.name}.{ext}" for t in TABLES for ext in ("csv", "parquet")] + ["dictionary.csv", "feed.json"])
    assert len(run["outputs"]) - len(feed) == 2 + 2 * len(CHARTS) * len(FORMATS) == 26
    with Store.open() as store:
        assert all(len(read_view(store, t.name)) for t in TABLES)  # the store's views hold the week's feed
    assert f"the BI feed {Path('outputs/demo-weekly-portfolio/latest/feed')}{os.sep}" in lines[-1]
    files = [line.strip() for line in lines if line.startswith(f"  {run_dir}")]
    assert [Path(f).name for f in files[:2]] == ["portfolio-2026-W48.xlsx", "team-payments-2026-W48.xlsx"]
    assert "Wrote the lint workbook: outputs/lint-2026-11-23.xlsx" in lines
    assert any(line.startswith("  email: written to the outbox outputs/outbox/") for line in lines)
    assert lines[-1].startswith(f"Open {Path('outputs/demo-weekly-portfolio/latest/portfolio.xlsx')} first")
    assert "job demo-weekly-portfolio: sync, portfolio, team_reports" in result.stderr
    assert "week 2026-W48 (as of 2026-11-23)" in result.stderr


def test_the_demo_refuses_a_schedule_folder_without_enabled_jobs_before_living_the_weeks(project):
    (project / "empty").mkdir()
    (project / "empty" / "off.yaml").write_text((project / "schedules" / "demo" / "demo.yaml").read_text()
                                                .replace("    title:", "    enabled: false\n    title:", 1))
    result = CliRunner().invoke(cli, ["demo", "--issues", "400", "--schedules", "empty", "--format", "json"])
    assert result.exit_code == 2, result.output
    assert "no enabled jobs in empty" in json.loads(result.stdout)["error"]
    assert not (project / ".rollup").exists()
