"""docs/scheduling.md works as written on a fresh Debian machine: the set-up makes the service user,
the folders, the virtual environment and the environment file that the systemd unit and the crontab
line use; their commands parse with the real CLI and name a job that exists; a config error (exit 2)
does not restart the unit; the unit passes ``systemd-analyze verify``; and the crontab line, run by
``/bin/sh`` with a cron-like environment, reads the environment file and runs the weekly job."""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import click
import pytest
from aiosmtpd.controller import Controller
from click.testing import CliRunner
from schedule_helpers import free_port

from rollup.cli import cli
from rollup.errors import EXIT_BAD_INPUT
from rollup.schedule.models import load_schedules
from rollup.schedule.triggers import local_cron

ROOT = Path(__file__).resolve().parents[2]
DOC = (ROOT / "docs" / "scheduling.md").read_text()


def block(language: str, after: str | None = None) -> str:
    """The one ```language block of the docs, or the first one after the heading ``after``."""
    if after is not None:
        return re.search(rf"```{language}\n(.*?)```", DOC.split(after, 1)[1], re.S).group(1)
    found = re.findall(rf"```{language}\n(.*?)```", DOC, re.S)
    assert len(found) == 1, f"expected one ```{language} block in docs/scheduling.md"
    return found[0]


def unit_settings() -> dict[str, str]:
    unit = block("ini")
    return dict(line.split("=", 1) for line in unit.splitlines() if "=" in line and not line.startswith("#"))


def crontab_command() -> str:
    """The crontab line's command (what cron hands to /bin/sh)."""
    return block("crontab").strip().split(None, 5)[5]


def set_up_commands() -> list[list[str]]:
    """The Debian set-up block, one argv per command (pipelines split at ``|``)."""
    script = block("sh", after="### Install on a server (Debian 12)")
    return [shlex.split(part) for line in script.splitlines() if line.strip() for part in line.split("|")]


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
    settings = unit_settings()
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


def test_the_debian_set_up_makes_what_the_unit_and_the_crontab_line_use():
    script = block("sh", after="### Install on a server (Debian 12)")
    assert subprocess.run(["sh", "-n", "-c", script]).returncode == 0  # dash, Debian's /bin/sh, parses it
    commands = {argv[0]: argv for argv in set_up_commands()}
    unit = unit_settings()
    user, home = unit["User"], Path(unit["WorkingDirectory"])
    env_file = Path(unit["EnvironmentFile"])
    log_dir = Path(shlex.split(crontab_command().split(">>", 1)[1])[0]).parent
    venv = Path(shlex.split(unit["ExecStart"])[0]).parents[1]

    assert {"python3-venv", "cron"} <= set(commands["apt-get"][2:]) and commands["apt-get"][1:3] == ["install", "-y"]
    useradd = commands["useradd"]
    assert useradd[-1] == user and "--system" in useradd
    assert useradd[useradd.index("--home-dir") + 1] == str(home)
    assert useradd[useradd.index("--shell") + 1] == "/usr/sbin/nologin"  # a service account nobody logs in as
    assert commands["mkdir"][1] == "-p" and {str(home), str(env_file.parent), str(log_dir)} <= set(commands["mkdir"])
    assert commands["python3"] == ["python3", "-m", "venv", str(venv)]
    assert commands[str(venv / "bin" / "pip")] == [str(venv / "bin" / "pip"), "install", str(home)]
    chown = commands["chown"]
    assert chown[1:3] == ["-R", f"{user}:{user}"] and {str(home), str(log_dir)} <= set(chown[3:])
    assert commands["install"] == ["install", "-m", "600", "-o", user, "-g", user, "/dev/null", str(env_file)]
    tars = [argv for argv in set_up_commands() if argv[0] == "tar"]
    assert tars[-1][-2:] == ["-C", str(home)] and "--exclude=./.venv" in tars[0]


def test_a_config_error_stops_the_unit_instead_of_restarting_it(tmp_path):
    unit = unit_settings()
    assert unit["Restart"] == "on-failure"
    assert unit["RestartPreventExitStatus"] == str(EXIT_BAD_INPUT) == "2"
    bad = tmp_path / "weekly.yaml"
    bad.write_text((ROOT / "schedules" / "weekly.yaml").read_text().replace("max_data_age:", "max_data_ag:"))
    result = CliRunner().invoke(cli, ["schedule", "run", "--schedules", str(bad)])
    assert result.exit_code == 2 and "did you mean 'max_data_age'" in result.output


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="systemd-analyze is not installed")
def test_the_unit_passes_systemd_analyze_verify(tmp_path):
    unit = block("ini")
    settings = unit_settings()
    # The machine running the tests has no /srv/rollup: point the unit at this checkout's rollup instead.
    rollup = Path(sys.prefix) / "bin" / "rollup"
    unit = unit.replace(shlex.split(settings["ExecStart"])[0], str(rollup))
    unit = unit.replace(f"WorkingDirectory={settings['WorkingDirectory']}", f"WorkingDirectory={tmp_path}")
    path = tmp_path / "rollup-scheduler.service"
    path.write_text(unit)
    checked = subprocess.run(["systemd-analyze", "verify", str(path)], capture_output=True, text=True, timeout=60)
    assert checked.returncode == 0 and not (checked.stdout + checked.stderr).strip(), checked.stdout + checked.stderr


def test_rollup_run_help_shows_the_crontab_line_with_the_environment_file():
    shown = CliRunner().invoke(cli, ["run", "--help"]).output
    line = " ".join(block("crontab").split())
    assert line in " ".join(shown.split())
    assert f". {unit_settings()['EnvironmentFile']}" in line


class Outbox:
    """An aiosmtpd handler keeping every message."""

    def __init__(self) -> None:
        self.envelopes: list = []

    async def handle_DATA(self, server, session, envelope):
        self.envelopes.append(envelope)
        return "250 OK"


def test_the_crontab_line_reads_the_environment_file_and_runs_the_job_under_sh(project):
    """The crontab command as cron runs it: /bin/sh, a bare environment, the paths of this test for
    /srv/rollup, /etc/rollup and /var/log/rollup; the store is fresh, so the job syncs nothing."""
    shutil.copytree(ROOT / "schedules", project / "schedules")
    (project / ".venv").symlink_to(sys.prefix)
    etc, log_dir = project / "etc-rollup", project / "var-log-rollup"
    etc.mkdir()
    log_dir.mkdir()
    outbox = Outbox()
    port = free_port()
    smtp = Controller(outbox, hostname="127.0.0.1", port=port)
    smtp.start()
    env_file = etc / "rollup.env"
    env_file.write_text(
        f"ROLLUP_DATABASE_URL=sqlite:///{project / '.rollup' / 'rollup.db'}\n"
        f"ROLLUP_SMTP_HOST=127.0.0.1\nROLLUP_SMTP_PORT={port}\nROLLUP_SMTP_STARTTLS=false\n"
        "ROLLUP_SMTP_FROM='Portfolio rollup <rollup@clinicloud.example>'\n")
    unit = unit_settings()
    command = (crontab_command().replace(unit["WorkingDirectory"], str(project))
               .replace(unit["EnvironmentFile"], str(env_file)).replace("/var/log/rollup", str(log_dir)))
    cron_env = {"HOME": str(project), "LOGNAME": "rollup", "PATH": "/usr/bin:/bin", "SHELL": "/bin/sh",
                "LANG": os.environ.get("LANG", "C.UTF-8")}
    try:
        done = subprocess.run(["/bin/sh", "-c", command], env=cron_env, capture_output=True, text=True, timeout=600)
    finally:
        smtp.stop()
    log = (log_dir / "weekly-portfolio.log").read_text()
    assert done.returncode == 0, log
    assert "event=run.end" in log and "status=ok" in log
    [envelope] = outbox.envelopes
    assert envelope.mail_from == "rollup@clinicloud.example"  # the quoted value, as the shell read it
    assert sorted(envelope.rcpt_tos) == ["ceo@clinicloud.example", "cpo@clinicloud.example"]
    assert (project / "outputs" / "weekly-portfolio" / "latest" / "portfolio.xlsx").exists()
