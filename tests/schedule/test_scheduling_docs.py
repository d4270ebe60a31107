"""docs/scheduling.md: the systemd unit and the crontab line work as written — their commands parse
with the real CLI, name a job that exists, and the crontab schedule is valid."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import click

from rollup.cli import cli
from rollup.schedule.models import load_schedules
from rollup.schedule.triggers import local_cron

ROOT = Path(__file__).resolve().parents[2]
DOC = (ROOT / "docs" / "scheduling.md").read_text()


def block(language: str) -> str:
    found = re.findall(rf"```{language}\n(.*?)```", DOC, re.S)
    assert len(found) == 1, f"expected one ```{language} block in docs/scheduling.md"
    return found[0]


def parse(args: list[str]) -> tuple[click.Command, dict]:
    """Parse ``args`` as the real ``rollup`` would, down to the leaf command; return it and its parameters."""
    ctx = cli.make_context("rollup", list(args))
    command: click.Command = cli
    rest = ctx._protected_args + ctx.args
    while isinstance(command, click.Group):
        name, command, rest = command.resolve_command(ctx, rest)
        ctx = command.make_context(name, rest, parent=ctx)
        rest = getattr(ctx, "_protected_args", []) + ctx.args
    return command, ctx.params


def test_the_systemd_unit_runs_the_scheduler():
    unit = block("ini")
    settings = dict(line.split("=", 1) for line in unit.splitlines() if "=" in line and not line.startswith("#"))
    assert settings["Type"] == "simple" and settings["WorkingDirectory"] == "/srv/rollup"
    assert settings["EnvironmentFile"].startswith("/etc/rollup/")
    argv = shlex.split(settings["ExecStart"])
    assert argv[0] == "/srv/rollup/.venv/bin/rollup"
    command, params = parse(argv[1:])
    assert command.name == "run" and params["once"] is False
    assert params["schedules_path"] == Path("schedules")
    assert load_schedules(ROOT / params["schedules_path"]).jobs  # the folder the unit names has jobs


def test_the_crontab_line_runs_the_weekly_job():
    line = block("crontab").strip()
    fields = line.split(None, 5)
    local_cron(" ".join(fields[:5]), "Europe/London")  # a valid schedule
    assert fields[:5] == ["0", "7", "*", "*", "1"]
    command_line = fields[5]
    steps = [part.strip() for part in command_line.split("&&")]
    assert steps[0] == "cd /srv/rollup"
    run = next(s for s in steps if s.startswith(".venv/bin/rollup "))
    argv = shlex.split(run.split(">>", 1)[0])
    command, params = parse(argv[1:])
    assert command.name == "run"
    jobs = load_schedules(ROOT / params["schedules_path"]).jobs
    assert params["job_name"] in jobs
    weekly = jobs[params["job_name"]]
    assert weekly.cron == "0 7 * * mon"  # the crontab line and the schedule file agree


def test_the_demo_command_in_the_docs_names_the_demo_schedule():
    assert "rollup schedule run --once --schedules schedules/demo" in DOC
    command, params = parse(["schedule", "run", "--once", "--schedules", "schedules/demo"])
    assert params["once"] and load_schedules(ROOT / "schedules" / "demo").jobs
