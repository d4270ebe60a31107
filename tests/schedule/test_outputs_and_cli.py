"""Output folders (dated names, latest, retention of the tool's own files only) and the commands
`rollup schedule list`, `rollup schedule run --once` (the demo cycle) and `rollup runs`."""

from __future__ import annotations

import email
import json
from datetime import datetime, timedelta, timezone
from email import policy
from pathlib import Path
from zoneinfo import ZoneInfo

from click.testing import CliRunner
from schedule_helpers import job_yaml, write_schedule

from rollup.cli import cli
from rollup.schedule import history
from rollup.schedule.outputs import MANIFEST, apply_retention, own_run_dirs, stable_name
from rollup.store import Store

ROOT = Path(__file__).resolve().parents[2]
LONDON = ZoneInfo("Europe/London")


def run_folder(out: Path, name: str, job: str | None) -> Path:
    folder = out / name
    folder.mkdir(parents=True)
    (folder / "portfolio-2026-W48.xlsx").write_bytes(b"xlsx")
    if job is not None:
        (folder / MANIFEST).write_text(json.dumps({"job": job, "run_id": 1, "files": []}))
    return folder


def test_retention_removes_only_the_jobs_own_old_run_folders(tmp_path):
    out = tmp_path / "weekly"
    own = [run_folder(out, f"2026-11-{day:02d}_0700", "weekly") for day in (2, 9, 16, 23, 30)]
    foreign = run_folder(out, "2026-10-26_0700", None)             # same pattern, no manifest
    other_job = run_folder(out, "2026-10-19_0700", "daily-lint")   # another job's manifest
    (out / "notes.txt").write_text("keep me")
    (out / "latest").mkdir()

    removed = apply_retention(out, "weekly", keep_last=2, max_age=None,
                              now_local=datetime(2026, 11, 30, 7, tzinfo=LONDON))
    assert removed == own[:3]
    assert sorted(p.name for p in out.iterdir()) == sorted(
        ["2026-11-23_0700", "2026-11-30_0700", foreign.name, other_job.name, "notes.txt", "latest"])
    assert own_run_dirs(out, "weekly") == own[3:]

    removed = apply_retention(out, "weekly", keep_last=None, max_age=timedelta(days=3),
                              now_local=datetime(2026, 11, 30, 7, tzinfo=LONDON), protect=own[4])
    assert removed == [own[3]] and own[4].exists() and foreign.exists() and other_job.exists()


def test_latest_names_drop_the_date():
    assert stable_name("portfolio-2026-W48.xlsx") == "portfolio.xlsx"
    assert stable_name("team-payments-2026-W48.xlsx") == "team-payments.xlsx"
    assert stable_name("allocation-2026-10.csv") == "allocation.csv"
    assert stable_name("lint-2026-11-23.xlsx") == "lint.xlsx"
    assert stable_name("charts/roadmap.png") == "charts/roadmap.png"


def test_schedule_list_shows_the_next_local_fire_time(project):
    write_schedule(project, job_yaml(steps="[portfolio]"))
    result = CliRunner().invoke(cli, ["schedule", "list", "--format", "json"])
    assert result.exit_code == 0, result.output
    [row] = json.loads(result.output)
    nxt = datetime.fromisoformat(row["next"])
    assert nxt.weekday() == 0 and (nxt.hour, nxt.minute) == (7, 0) and nxt > datetime.now(timezone.utc)
    assert nxt - datetime.now(timezone.utc) <= timedelta(days=7)
    assert datetime.fromisoformat(row["next_utc"]) == nxt
    assert row["steps"] == ["sync", "portfolio"] and row["last_run"] is None
    text = CliRunner().invoke(cli, ["schedule", "list"]).output
    assert text.startswith("weekly: cron '0 7 * * mon' Europe/London; next ") and "never run" in text


def test_one_scheduled_cycle_of_the_demo(project):
    """`rollup schedule run --once --schedules schedules/demo`: the fresh store is not synced again,
    the portfolio and a team view are published, and the email lands in the outbox."""
    result = CliRunner().invoke(cli, ["schedule", "run", "--once", "--schedules", str(ROOT / "schedules" / "demo")])
    assert result.exit_code == 0, result.output
    out = project / "outputs" / "demo-weekly-portfolio"
    assert (out / "latest" / "portfolio.xlsx").exists() and (out / "latest" / "team-payments.xlsx").exists()
    with Store.open() as store:
        [run] = history.list_runs(store, job="demo-weekly-portfolio")
    # An outbox is not an SMTP server: the email is "written to the outbox", never "sent".
    assert run["trigger"] == "schedule" and run["status"] == "ok" and run["delivery_status"] == "outbox"
    assert [(s["name"], s["status"]) for s in run["steps"]] == [("sync", "skipped"), ("portfolio", "ok"),
                                                                ("team_reports", "ok"), ("export", "ok")]
    assert (out / "latest" / "feed" / "feed.json").exists()  # the BI feed beside the workbooks
    [eml] = (project / "outputs" / "outbox").glob("*.eml")
    message = email.message_from_bytes(eml.read_bytes(), policy=policy.default)
    assert message["To"] == "ceo@clinicloud.example, cpo@clinicloud.example"
    assert message["Subject"] == "Weekly portfolio 2026-W48"
    names = sorted(a.get_filename() for a in message.iter_attachments())
    assert names == ["portfolio-2026-W48.xlsx", "team-payments-2026-W48.xlsx"]
    body = message.get_body(preferencelist=("plain",)).get_content()
    figures = {f["label"]: f for f in run["steps"][1]["facts"]["headline"]}
    assert f"  Active epics: {figures['Active epics']['value']:,.0f} (" in body
    assert f"  Epics at risk or off track: {figures['Epics at risk or off track']['value']:,.0f} (" in body
    assert "data synced" not in body  # a reader's message, not a run log

    runs = CliRunner().invoke(cli, ["runs", "--format", "json"])
    assert runs.exit_code == 0
    [row] = json.loads(runs.output)
    text = CliRunner().invoke(cli, ["runs"])
    assert "delivery written to the outbox" in text.output and " sent" not in text.output
    assert row["job"] == "demo-weekly-portfolio" and "portfolio-2026-W48.xlsx" in row["outputs"]
    assert datetime.fromisoformat(row["started"]) == run["started"] and row["started"][10] == "T"
