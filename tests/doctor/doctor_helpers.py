"""Running ``rollup doctor`` through click's CliRunner and reading its report."""

from __future__ import annotations

import json
import re
import socket
import time
from dataclasses import dataclass
from pathlib import Path

from click.testing import CliRunner

from connectors.jira import JiraConnector
from rollup.cli import cli
from rollup.config import parse_config
from rollup.jobs.demo import DEMO_TEAM_FIELD, demo_settings
from rollup.jobs.sync import SyncScope, sync
from rollup.localjira import LocalJira
from rollup.localjira.credentials import DEMO_EMAIL, DEMO_PAT, DEMO_TOKEN
from rollup.store import Store

ROOT = Path(__file__).resolve().parents[2]


@dataclass
class Report:
    """One ``rollup doctor --format json`` run: exit code, the parsed document, the checks by name."""

    exit_code: int
    output: str
    document: dict
    seconds: float

    @property
    def checks(self) -> dict[str, dict]:
        return {c["name"]: c for c in self.document["checks"]}

    def status(self, name: str) -> str:
        return self.checks[name]["status"]

    def detail(self, name: str) -> str:
        return self.checks[name]["detail"]

    def not_ok(self) -> dict[str, str]:
        """Every check that is not ok: name → its line, for assertion messages."""
        return {c["name"]: f"{c['status']}: {c['detail']} — {c['todo']}" for c in self.document["checks"]
                if c["status"] != "ok"}


def doctor(*args: str) -> Report:
    """``rollup doctor --format json ARGS``, parsed."""
    started = time.monotonic()
    result = CliRunner().invoke(cli, ["doctor", "--format", "json", *args])
    seconds = time.monotonic() - started
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    return Report(result.exit_code, result.output, json.loads(result.stdout), seconds)


def doctor_text(*args: str) -> tuple[int, list[str]]:
    """``rollup doctor ARGS`` in text: the exit code and the lines."""
    result = CliRunner().invoke(cli, ["doctor", *args])
    return result.exit_code, result.stdout.splitlines()


def steady(line: str) -> str:
    """A line with its clock readings (``12 s ago``) masked, so two runs a moment apart compare equal."""
    return re.sub(r"\d+ (s|min|h|days) ago", "… ago", line)


def free_port() -> int:
    """A loopback port nothing listens on."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def mappings_for(flavour: str) -> str:
    """The shipped mappings.yaml with the flavour's real Team field chosen (the sample org has two named Team)."""
    text = (ROOT / "mappings.yaml").read_text()
    return text.replace("team: customfield_10001", f"team: {DEMO_TEAM_FIELD[flavour]}")


def jira_env(flavour: str, url: str) -> dict[str, str]:
    """The ``JIRA_*`` variables of the local Jira's demo credentials."""
    if flavour == "cloud":
        return {"JIRA_URL": url, "JIRA_EMAIL": DEMO_EMAIL, "JIRA_API_TOKEN": DEMO_TOKEN}
    return {"JIRA_URL": url, "JIRA_PAT": DEMO_PAT}


def sync_into(url: str, server: LocalJira, flavour: str, config_text: str, **options) -> None:
    """One sync of ``server`` into the store at ``url``, as ``rollup sync`` runs it."""
    config = parse_config(config_text)
    with Store.open(url) as store, \
            JiraConnector(demo_settings(server.url, flavour), max_workers=4) as connector:
        sync(store, connector, SyncScope.from_config(config), **options)
