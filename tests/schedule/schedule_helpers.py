"""Helpers for the scheduling tests: writing a schedule, reading outputs back."""

from __future__ import annotations

import socket
import textwrap
from pathlib import Path

from rollup.schedule.models import Job, load_schedules
from rollup.writers.safe import TEMP_NAME

AS_OF = "2026-11-23"


def job_yaml(name: str = "weekly", *, steps: str = "[portfolio]", extra: str = "", cron: str = "0 7 * * mon",
             timezone: str = "Europe/London") -> str:
    """One job as YAML; ``extra`` lines are added to the job (indented for you)."""
    body = textwrap.indent(textwrap.dedent(extra).strip("\n"), "    ") + "\n" if extra.strip() else ""
    return (f"jobs:\n  - name: {name}\n    cron: \"{cron}\"\n    timezone: {timezone}\n    as_of: {AS_OF}\n"
            f"    steps: {steps}\n{body}")


def write_schedule(folder: Path, text: str, name: str = "jobs.yaml") -> Path:
    """Write a schedule file into ``folder/schedules`` and return the folder."""
    schedules = folder / "schedules"
    schedules.mkdir(exist_ok=True)
    (schedules / name).write_text(text)
    return schedules


def load_job(folder: Path, name: str = "weekly") -> Job:
    """The job ``name`` from ``folder/schedules``."""
    return load_schedules(folder / "schedules").get(name)


def temp_files(folder: Path) -> list[Path]:
    """Temp files and staging folders a writer would leave behind if it stopped half way."""
    return [p for p in folder.rglob("*") if TEMP_NAME.match(p.name)
            or (p.is_file() and (p.name.endswith(".tmp") or p.name.startswith(".~")))]


def free_port() -> int:
    """A TCP port nothing listens on at the moment, on loopback."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
