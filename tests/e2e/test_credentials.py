"""The local Jira requires the demo credentials: the README's walk-through, run as written in real
processes, syncs with the right token and exits 3 with the wrong one; so does Data Center's PAT."""

from __future__ import annotations

import os
import re
import shlex
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner
from e2e_helpers import serve

from rollup.cli import cli
from rollup.localjira import SampleOrg
from rollup.localjira.credentials import DEMO_PAT, demo_environment

REPO = Path(__file__).resolve().parents[2]
README = (REPO / "README.md").read_text()
#: The port the README uses; the test swaps in a free one (other processes on the machine may hold 8089).
README_PORT = "8089"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def walkthrough() -> list[tuple[str, str]]:
    """The README's local Jira walk-through: (command, its trailing comment) per command line."""
    section = README.split("Try the sync against the local Jira by hand", 1)[1]
    block = re.search(r"```sh\n(.*?)```", section, re.S).group(1)
    commands = []
    for line in block.replace("\\\n", " ").splitlines():
        command, _, comment = line.partition("  #")
        commands.append((" ".join(command.split()), comment.strip()))
    return commands


def clean_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("JIRA_", "ROLLUP_"))}
    env["PYTHONPATH"] = str(REPO) + os.pathsep + env.get("PYTHONPATH", "")
    return env


def test_the_readme_walkthrough_works_as_written(tmp_path):
    commands = walkthrough()
    (serve_line, serve_note), *syncs = commands
    assert serve_line.endswith(" &") and "prints the JIRA_* variables" in serve_note
    assert [note.split(":")[0] for _, note in syncs] == ["exit 0", "exit 3"]
    # The project folder as the README assumes it: mappings.yaml and .venv (this interpreter's).
    shutil.copy(REPO / "mappings.yaml", tmp_path / "mappings.yaml")
    venv = Path(sys.prefix)
    assert (venv / "bin" / "rollup").exists(), f"run the tests from the project's virtual environment, not {venv}"
    (tmp_path / ".venv").symlink_to(venv)
    port = str(free_port())
    server = subprocess.Popen(["bash", "-c", "exec " + serve_line[:-2].replace(README_PORT, port)], cwd=tmp_path,
                              env=clean_env(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        printed: dict[str, str] = {}
        deadline = time.monotonic() + 120
        while "JIRA_DEPLOYMENT" not in printed:
            line = server.stdout.readline()
            assert line or server.poll() is None, f"the local Jira exited with {server.returncode}"
            assert time.monotonic() < deadline, "the local Jira printed no JIRA_* variables in 120 s"
            if m := re.match(r"\s+export (JIRA_\w+)=(\S+)$", line):
                printed[m.group(1)] = m.group(2)
        right, wrong = (line.replace(README_PORT, port) for line, _ in syncs)
        # The variables the README sends are the ones the server printed (the deployment is detected).
        sent = dict(word.split("=", 1) for word in shlex.split(right) if re.match(r"JIRA_\w+=", word))
        assert {**sent, "JIRA_DEPLOYMENT": "cloud"} == printed == demo_environment(f"http://127.0.0.1:{port}",
                                                                                   "cloud")
        ok = subprocess.run(["bash", "-c", right], cwd=tmp_path, env=clean_env(), capture_output=True, text=True,
                            timeout=300)
        assert ok.returncode == 0, ok.stderr
        assert (tmp_path / ".rollup" / "rollup.db").exists()
        refused = subprocess.run(["bash", "-c", wrong], cwd=tmp_path, env=clean_env(), capture_output=True,
                                 text=True, timeout=120)
    finally:
        server.terminate()
        server.wait(timeout=10)
    assert refused.returncode == 3, refused.stderr
    assert "401 Unauthorized" in refused.stderr
    assert "check JIRA_EMAIL and JIRA_API_TOKEN" in refused.stderr
    assert "wrong-token" not in refused.stderr + refused.stdout


@pytest.mark.parametrize("flavour", ["cloud", "datacenter"])
def test_a_wrong_token_is_exit_3_naming_the_variables(flavour, tmp_path, monkeypatch):
    shutil.copy(REPO / "mappings.yaml", tmp_path / "mappings.yaml")
    monkeypatch.chdir(tmp_path)
    for name in ("JIRA_URL", "JIRA_EMAIL", "JIRA_API_TOKEN", "JIRA_PAT", "JIRA_DEPLOYMENT", "ROLLUP_DATABASE_URL"):
        monkeypatch.delenv(name, raising=False)
    org = SampleOrg.generate(seed=7, issues=300)
    with serve(org, flavour) as server:
        for name, value in demo_environment(server.url, flavour).items():
            monkeypatch.setenv(name, value)
        wrong = "not-the-demo-secret"
        monkeypatch.setenv("JIRA_API_TOKEN" if flavour == "cloud" else "JIRA_PAT", wrong)
        result = CliRunner().invoke(cli, ["sync", "--format", "json"])
        asked = server.stats_snapshot()["by_endpoint"]
    assert result.exit_code == 3, result.output
    variables = "JIRA_EMAIL and JIRA_API_TOKEN" if flavour == "cloud" else "JIRA_PAT"
    assert f"Jira at {server.url} rejected the credentials (401 Unauthorized" in result.stderr
    assert variables in result.stderr.split("rejected the credentials", 1)[1]
    assert '"exit_code": 3' in result.stdout
    assert wrong not in result.output and DEMO_PAT not in result.output
    assert asked and set(asked.values()) == {1}, asked  # refused at the start-up requests, none retried
