"""The rollup CLI through click's CliRunner: help, exit codes, sync output."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import click
import pytest
from click.testing import CliRunner
from fake_connector import FakeConnector  # noqa: E402
from openpyxl import load_workbook
from rollup_rows import make_issue  # noqa: E402

import connectors.jira  # noqa: E402
from connectors.jira.errors import JiraAuthError  # noqa: E402
from rollup.cli import cli  # noqa: E402

SECRET = "tok-SUPER-SECRET-123"
CONFIG = "jira:\n  projects: [PAY]\nsync:\n  overlap_minutes: 15\n"


def all_commands(group: click.Group, prefix=()):
    for name, command in group.commands.items():
        yield prefix + (name,), command
        if isinstance(command, click.Group):
            yield from all_commands(command, prefix + (name,))


def test_every_command_has_help_with_an_example():
    runner = CliRunner()
    commands = [((), cli)] + list(all_commands(cli))
    assert {("sync",), ("demo",)} <= {path for path, _ in commands}
    for path, command in commands:
        result = runner.invoke(cli, [*path, "--help"])
        assert result.exit_code == 0, path
        assert command.help, f"rollup {' '.join(path)} has no help text"
        assert "Example" in result.output, f"rollup {' '.join(path)} --help shows no example"


@pytest.fixture
def workdir(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("ROLLUP_DATABASE_URL", raising=False)
    for name in ("JIRA_URL", "JIRA_EMAIL", "JIRA_API_TOKEN", "JIRA_PAT", "JIRA_DEPLOYMENT"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr("connectors.jira.settings._from_keyring", lambda username: None)
    (tmp_path / "mappings.yaml").write_text(CONFIG)
    return tmp_path


@pytest.fixture
def jira_env(monkeypatch):
    monkeypatch.setenv("JIRA_URL", "https://acme.atlassian.net")
    monkeypatch.setenv("JIRA_EMAIL", "me@acme.com")
    monkeypatch.setenv("JIRA_API_TOKEN", SECRET)


def use_connector(monkeypatch, factory):
    monkeypatch.setattr(connectors.jira, "JiraConnector", factory)


def test_sync_text_and_json(workdir, jira_env, monkeypatch):
    fake = FakeConnector([make_issue(i) for i in range(1, 6)])
    use_connector(monkeypatch, lambda settings, max_workers=8, **_: fake)
    result = CliRunner().invoke(cli, ["sync"])
    assert result.exit_code == 0, result.output
    assert "5 new, 0 changed, 0 deleted" in result.output
    assert ".rollup/rollup.db" in result.output
    result = CliRunner().invoke(cli, ["sync", "--format", "json", "--since", "2025-01-01"])
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    assert payload["mode"] == "since" and payload["unchanged"] == 5
    assert payload["store"].endswith(".rollup/rollup.db")


def test_bad_config_exits_2_with_line_and_suggestion(workdir, jira_env):
    (workdir / "mappings.yaml").write_text("jira:\n  projects: [PAY]\n  extra_feilds: [Investment]\n")
    result = CliRunner().invoke(cli, ["sync"])
    assert result.exit_code == 2
    assert "mappings.yaml, line 3" in result.output
    assert "did you mean 'extra_fields'?" in result.output
    assert "Traceback" not in result.output


def test_missing_config_and_missing_variables_exit_2(workdir):
    result = CliRunner().invoke(cli, ["sync", "--config", "nope.yaml"])
    assert result.exit_code == 2 and "nope.yaml: file not found" in result.output
    result = CliRunner().invoke(cli, ["sync"])
    assert result.exit_code == 2 and "JIRA_URL" in result.output


def test_auth_error_exits_3_naming_the_variables_without_the_token(workdir, jira_env, monkeypatch):
    class Refusing(FakeConnector):
        def server_info(self):
            raise JiraAuthError("Jira answered 401 Unauthorized for /rest/api/2/serverInfo", status=401)

    use_connector(monkeypatch, lambda settings, max_workers=8, **_: Refusing())
    result = CliRunner().invoke(cli, ["sync"])
    assert result.exit_code == 3
    assert "JIRA_API_TOKEN" in result.output
    assert SECRET not in result.output and "Traceback" not in result.output


def test_json_format_prints_a_json_error_on_failure(workdir, jira_env, monkeypatch):
    class Refusing(FakeConnector):
        def server_info(self):
            raise JiraAuthError("Jira answered 401 Unauthorized for /rest/api/2/serverInfo", status=401)

    use_connector(monkeypatch, lambda settings, max_workers=8, **_: Refusing())
    result = CliRunner().invoke(cli, ["sync", "--format", "json"])
    assert result.exit_code == 3
    payload = json.loads(result.stdout)
    assert payload["status"] == "error" and payload["exit_code"] == 3
    assert "JIRA_API_TOKEN" in payload["error"] and SECRET not in result.stdout
    result = CliRunner().invoke(cli, ["sync", "--format", "json", "--config", "nope.yaml"])
    assert result.exit_code == 2 and json.loads(result.stdout)["exit_code"] == 2


def test_bad_option_exits_2(workdir):
    result = CliRunner().invoke(cli, ["sync", "--since", "yesterday"])
    assert result.exit_code == 2


@pytest.mark.slow
def test_demo_syncs_the_sample_org_and_writes_the_workbook(workdir):
    shutil.copy(Path(__file__).resolve().parent.parent / "mappings.yaml", workdir / "mappings.yaml")
    result = CliRunner().invoke(cli, ["demo", "--issues", "400", "--format", "json"])
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    # Six weeks lived: the first a full sync of the organisation as generated, then a week at a time.
    weeks = payload["weeks"]
    assert payload["sync"]["new"] == weeks[0]["sync"]["new"] == 400 and payload["sync"]["mode"] == "full"
    assert [w["week"] for w in weeks] == [f"2026-W{n}" for n in range(43, 49)]
    assert all(w["sync"]["mode"] == "incremental" and w["epic_changes"]["new"] for w in weeks[1:])
    assert payload["issues_in_org"] > 400
    assert "week 2026-W48 (as of 2026-11-23)" in result.stderr
    assert (workdir / ".rollup" / "rollup.db").exists()
    workbook = workdir / payload["workbook"]
    assert workbook.name == "portfolio-2026-W48.xlsx"  # dated by the sample organisation's own week
    sheets = load_workbook(workbook, read_only=True).sheetnames
    assert sheets[0] == "Summary" and {"Pillars", "Epics", "Data quality"} <= set(sheets)
    assert payload["charts"] and all((workdir / p).stat().st_size > 0 for p in payload["charts"])


def test_the_demos_closing_lines_say_what_the_store_holds_and_what_the_last_weeks_sync_did():
    from datetime import date, timedelta

    from rollup.cli.main import demo_sync_lines
    from rollup.jobs.demo import DemoResult, DemoWeek
    from rollup.jobs.sync import SyncResult

    full = SyncResult(mode="full", new=3000, requests=40, elapsed=2.5)
    weekly = [SyncResult(mode="incremental", new=100 + n, changed=150, unchanged=9, requests=11, elapsed=0.25)
              for n in range(5)]
    weeks = [DemoWeek(as_of=date(2026, 10, 19) + timedelta(days=7 * n), sync=s, snapshot=120 + n)
             for n, s in enumerate([full, *weekly])]
    demo = DemoResult(sync=full, issues_in_org=3473, jira_url="http://127.0.0.1:1", flavour="cloud", weeks=weeks,
                      store_counts={"issues": 3495, "transitions": 8233, "worklogs": 2109}, store="sqlite:///r.db")
    assert demo_sync_lines(demo) == [
        "Synced the sample organisation (3,473 issues) from a local Jira (cloud) at http://127.0.0.1:1, "
        "once a week for 6 weeks (2026-W43 to 2026-W48)",
        "  store: 3,495 issues, 8,233 transitions, 2,109 worklogs and 6 weekly epic snapshots in sqlite:///r.db",
        "  syncs: the first full (3,000 new), then 5 more (510 new, 750 changed, 0 deleted); 95 requests in 3.8s",
        "  last week's sync (2026-W48, incremental): 104 new, 150 changed, 0 deleted, 9 unchanged; "
        "11 requests in 0.2s",
    ]


def test_since_in_the_future_is_bad_input(workdir, jira_env):
    result = CliRunner().invoke(cli, ["sync", "--since", "2999-01-01"])
    assert result.exit_code == 2 and "in the future" in result.output


def test_unusable_database_url_is_bad_input_and_masks_the_password(workdir, jira_env, monkeypatch):
    monkeypatch.setenv("ROLLUP_DATABASE_URL", "mysql://u:hunter2@db.example/rollup")
    result = CliRunner().invoke(cli, ["sync"])
    assert result.exit_code == 2, result.output
    assert "sqlite:///" in result.output and "hunter2" not in result.output


def test_an_unwritable_output_is_a_message_not_a_traceback():
    from rollup.cli.errors import handle_errors

    @click.command()
    @handle_errors
    def write_somewhere() -> None:
        open("/proc/nope/out.xlsx", "wb")

    result = CliRunner().invoke(write_somewhere, [])
    assert result.exit_code == 1
    assert "cannot read or write /proc/nope/out.xlsx" in result.output and "Traceback" not in result.output


def test_a_database_error_never_shows_the_sql_or_the_row(tmp_path):
    import sqlite3

    from sqlalchemy.exc import IntegrityError

    from rollup.cli.errors import handle_errors

    @click.command()
    @handle_errors
    def insert_twice() -> None:
        raise IntegrityError("INSERT INTO issues (key, summary) VALUES (?, ?)", ("PAY-1", "Secret plan"),
                             sqlite3.IntegrityError("UNIQUE constraint failed: issues.key"))

    result = CliRunner().invoke(insert_twice, [])
    assert result.exit_code == 1
    assert "the store refused an operation (IntegrityError" in result.output
    assert "INSERT" not in result.output and "Secret plan" not in result.output and "unexpected" not in result.output
