"""Every bad input is a clear error: exit code 2, a message naming the file and line, the variable or
the option, no traceback, nothing created or changed, and an answer within :data:`TIME_CAP` seconds.

The cases are the data table in ``badinput_cases.py``. Each runs the real ``rollup`` command line
in a folder of its own: in this process through click's ``CliRunner``, or — for the inputs that
used to hang (catastrophic regexes, alias bombs, deep nesting) — as ``python -m rollup.cli`` in a
child process that is killed at the time cap.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import pytest
from badinput_cases import FAMILIES, GOOD_RATES, RESULTS, TESTS, Case, Outcome, all_cases
from click.testing import CliRunner

from rollup.cli import cli

#: No case may take longer than this (seconds); a child process still running then has hung.
TIME_CAP = 20
#: Variables cleared before every case, so the machine's own settings never leak in.
AMBIENT = ("JIRA_", "ROLLUP_", "CONFLUENCE_")

CASES = all_cases()


@dataclass
class Run:
    exit_code: int | None
    output: str
    seconds: float
    crashed: bool = False
    hung: bool = False


def _prepare(case: Case, folder: Path, stores: dict[str, Path]) -> dict[str, str]:
    """The case folder with its files and store; return the placeholder values."""
    folder.mkdir()
    (folder / "mappings.yaml").write_text((TESTS.parent / "mappings.yaml").read_text())
    (folder / "rates.csv").write_text(GOOD_RATES)
    if case.store != "none":
        shutil.copy(stores[case.store], folder / "rollup.db")
    for name, content in case.files.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content)
    return {"dir": str(folder), "config": str(folder / "mappings.yaml"), "rates": str(folder / "rates.csv"),
            "store": f"sqlite:///{folder / 'rollup.db'}", "schedule": str(folder / "schedule.yaml")}


def _snapshot(folder: Path) -> dict[str, str]:
    """Every file under ``folder`` with its content hash: nothing may be added, removed or changed."""
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def _environment(case: Case, values: dict[str, str]) -> dict[str, str]:
    env = {"ROLLUP_DATABASE_URL": values["store"]}
    env.update({name: value.format(**values) for name, value in case.env.items()})
    return env


def _in_process(args: list[str], env: dict[str, str], folder: Path, monkeypatch) -> Run:
    monkeypatch.chdir(folder)
    for name in list(os.environ):
        if name.startswith(AMBIENT):
            monkeypatch.delenv(name)
    started = time.perf_counter()
    result = CliRunner().invoke(cli, args, env=env, prog_name="rollup")
    seconds = time.perf_counter() - started
    crashed = result.exception is not None and not isinstance(result.exception, SystemExit)
    return Run(result.exit_code, result.output, seconds, crashed=crashed)


def _child_process(args: list[str], env: dict[str, str], folder: Path) -> Run:
    child_env = {k: v for k, v in os.environ.items() if not k.startswith(AMBIENT)} | env
    started = time.perf_counter()
    try:
        done = subprocess.run([sys.executable, "-m", "rollup.cli", *args], cwd=folder, env=child_env,
                              capture_output=True, text=True, timeout=TIME_CAP)
    except subprocess.TimeoutExpired as exc:
        output = (exc.stdout or b"").decode(errors="replace") + (exc.stderr or b"").decode(errors="replace")
        return Run(None, output, time.perf_counter() - started, hung=True)
    return Run(done.returncode, done.stdout + done.stderr, time.perf_counter() - started)


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_bad_input_is_a_clear_error_and_writes_nothing(case, stores, tmp_path, monkeypatch):
    folder = tmp_path / "case"
    values = _prepare(case, folder, stores)
    args = [part.format(**values) for part in case.args]
    env = _environment(case, values)
    before = _snapshot(folder)
    run = _child_process(args, env, folder) if case.subprocess else _in_process(args, env, folder, monkeypatch)
    RESULTS.append(Outcome(case.id, case.family, run.seconds, run.exit_code == case.exit_code,
                           "Traceback" in run.output or run.crashed, run.hung, case.subprocess))

    assert not run.hung, f"still running after {TIME_CAP} s: {run.output[-500:]}"
    assert not run.crashed and "Traceback" not in run.output, run.output
    assert run.exit_code == case.exit_code, run.output
    assert "unexpected" not in run.output.lower(), run.output
    for part in case.expect:
        assert part.format(**values) in run.output, run.output
    for secret in case.forbid:
        assert secret.format(**values) not in run.output
    assert _snapshot(folder) == before, "the case created, removed or changed a file"
    assert run.seconds < TIME_CAP


def test_the_corpus_spans_every_kind_of_input():
    families = Counter(c.family for c in CASES)
    assert len(CASES) >= 60
    assert set(families) == set(FAMILIES) and min(families.values()) >= 10, families
    assert sum(c.subprocess for c in CASES) >= 5  # the inputs that used to hang run with a hard time cap
