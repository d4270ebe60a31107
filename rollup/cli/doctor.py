"""``rollup doctor``: a thin command over :func:`rollup.doctor.run_checks`."""

from __future__ import annotations

import json
import sys
from datetime import timedelta
from pathlib import Path

import click

from rollup.cli.errors import handle_errors
from rollup.cli.options import config_option, database_option, format_option
from rollup.schedule.values import format_duration, parse_duration

_DEFAULT_MAX_AGE = "8d"


class DurationType(click.ParamType):
    """A duration as the schedule files write them: ``90s``, ``30m``, ``12h``, ``8d``, ``2w``."""

    name = "DURATION"

    def convert(self, value, param, ctx) -> timedelta:
        """Parse ``90s``/``30m``/``12h``/``8d``/``2w`` into a timedelta, refusing other forms."""
        try:
            return parse_duration(value)
        except ValueError as exc:
            self.fail(str(exc), param, ctx)


@click.command("doctor")
@config_option("The mappings.yaml to check.")
@click.option("--schedules", "schedules_path", type=click.Path(path_type=Path), default=None,
              help="A schedule file or folder (default: schedules/, which may be absent).")
@database_option("never created")
@click.option("--rates", "rates_path", type=click.Path(path_type=Path, dir_okay=False), default=None,
              help="The rates CSV (else ROLLUP_RATES, else finance.rates_file; none: not checked).")
@click.option("--max-age", type=DurationType(), default=_DEFAULT_MAX_AGE, show_default=True,
              help="Warn when the last successful sync is older than this (90m, 12h, 8d, 2w).")
@format_option("json", help="json prints one JSON object to stdout.")
@handle_errors
def doctor_command(config_path: Path, schedules_path: Path | None, database: str | None,
                   rates_path: Path | None, max_age: timedelta, fmt: str) -> None:
    """Check the installation, one line per check: ok, or what to do. Exit 1 when any check fails.

    Checks mappings.yaml, the schedule files and the rates file; Jira (JIRA_* as rollup sync reads
    them): connection and credentials, TLS, the projects the token can see, the field chosen for
    each role and why; the store (never created): integrity, schema version, the last sync's status
    and age, its issue count against the server's; each job's next run; the SMTP server when
    ROLLUP_SMTP_HOST is set (EHLO only: no login, no mail). Warnings and skipped checks exit 0.

    \b
    Example:
      rollup doctor
      rollup doctor --max-age 2d --format json
    """
    from rollup.doctor import DoctorOptions, exit_code, report_dict, run_checks, summary_line

    options = DoctorOptions(config_path=config_path, schedules_path=schedules_path, database_url=database,
                            rates_path=rates_path, max_age=max_age)
    checks = run_checks(options)
    if fmt == "json":
        click.echo(json.dumps({**report_dict(checks), "max_age": format_duration(max_age)}))
    else:
        for line in (*(c.line() for c in checks), summary_line(checks)):
            click.echo(line)
    sys.exit(exit_code(checks))
