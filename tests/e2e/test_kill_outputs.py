"""``rollup report portfolio``, ``rollup finance close`` and a scheduled job (``rollup run JOB``) as real
processes, SIGKILLed at seeded random points, then run again: after each kill the store passes
SQLite's integrity check and every output is the previous complete one or the new complete one;
the rerun completes, and no temp file or staging folder is left.

Each trial starts from a copy of one project folder (mappings.yaml, a rates CSV, a schedule, a store
holding the sample organisation, and the outputs of an earlier run: the "old" ones); "new" is what
the same command writes from that state when nothing kills it. Each kill lands at a seeded random
point between the end of the process's imports and a little past the length of a whole run (a kill
that comes after the process ended is counted as such). ``ROLLUP_KILL_TRIALS``
(trials per command; default 2 or 3) and ``ROLLUP_KILL_SEED`` choose the trials;
``ROLLUP_KILL_RESULTS=path.json`` writes the figures of ``docs/reliability.md`` (*Crash safety*).
"""

from __future__ import annotations

import email
import hashlib
import io
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import time
import zipfile
from dataclasses import dataclass, field
from datetime import date
from email import policy
from pathlib import Path

import pytest
from click.testing import CliRunner
from e2e_helpers import REPO, integrity, rollup_process
from openpyxl import load_workbook

from rollup.cli import cli
from rollup.config import load_config
from rollup.finance.ledger import Ledger
from rollup.jobs.demo import sync_sample_org
from rollup.jobs.sample_rates import write_sample_rates
from rollup.localjira import SampleOrg
from rollup.schedule import history
from rollup.store import Store
from rollup.writers.safe import SET_MANIFEST, TEMP_NAME

#: Trials per command: a few by default, to keep this test near half a minute; more with ROLLUP_KILL_TRIALS.
DEFAULT_TRIALS = {"report portfolio": 2, "finance close": 3, "run JOB": 2}
TRIALS = {command: int(os.environ.get("ROLLUP_KILL_TRIALS", default)) for command, default in DEFAULT_TRIALS.items()}
SEED = int(os.environ.get("ROLLUP_KILL_SEED", "20261123"))
AS_OF = "2026-11-23"  # the sample organisation's today
MONTH = "2026-10"  # the last month the sample organisation's data runs past
SCHEDULE = f"""\
jobs:
  - name: weekly
    cron: "0 7 * * mon"
    timezone: Europe/London
    as_of: {AS_OF}
    max_data_age: null
    steps: [portfolio]
    deliver:
      email:
        to: [ceo@clinicloud.example]
        outbox: outputs/outbox
"""
#: What each killed process runs.
COMMANDS = {
    "report portfolio": ["report", "portfolio", "--as-of", AS_OF, "--out", "outputs"],
    "finance close": ["finance", "close", MONTH, "--rates", "rates.csv"],
    "run JOB": ["run", "weekly", "--schedules", "schedules"],
}
#: Kills land up to this many times a whole run's length: a run may take longer than the one measured,
#: and the last moments (the commit, the swap) are the ones that matter most.
LATE = 1.25
FIGURES: dict[str, dict] = {}


# ---------------------------------------------------------------------------------------- what is on disk


def fingerprint(path: Path) -> str:
    """What a file holds, the same for the same content: for a workbook, one that openpyxl opens (raises for
    half a file), its parts but the one holding the time it was saved; a message, its subject and attachments;
    a run folder's manifest, the files it lists (each must be there); any other file, its bytes."""
    if path.name == ".rollup-run.json":
        files = json.loads(path.read_text())["files"]
        assert all((path.parent / name).is_file() for name in files)
        return "manifest:" + repr(sorted(files))
    if path.suffix == ".eml":
        message = email.message_from_bytes(path.read_bytes(), policy=policy.default)
        parts = [(a.get_filename(), content_print(a.get_filename(), a.get_content()))
                 for a in message.iter_attachments()]
        return "eml:" + repr((message["Subject"], parts))
    return content_print(path.name, path.read_bytes())


def content_print(name: str, data: bytes) -> str:
    if not name.endswith(".xlsx"):
        return hashlib.sha256(data).hexdigest()
    load_workbook(io.BytesIO(data), read_only=True).close()
    digest = hashlib.sha256()
    with zipfile.ZipFile(io.BytesIO(data)) as book:
        for member in sorted(n for n in book.namelist() if n != "docProps/core.xml"):  # core.xml: saved at
            digest.update(member.encode() + b"\0" + book.read(member))
    return "xlsx:" + digest.hexdigest()


def outputs(project: Path) -> dict[str, frozenset[str]]:
    """Every output file under ``outputs/`` → its fingerprints (the files of every dated run folder are
    under ``weekly/<run>/``, every message under ``outbox/weekly-run<id>.eml``)."""
    out = {}
    root = project / "outputs"
    for path in sorted(p for p in root.rglob("*") if p.is_file()) if root.is_dir() else []:
        relative = path.relative_to(root)
        if any(TEMP_NAME.match(part) or part.startswith(".partial-") for part in relative.parts):
            continue  # work in progress, never a reader's file
        parts = relative.parts
        if len(parts) > 2 and parts[0] == "weekly" and parts[1] != "latest":
            relative = Path("weekly", "<run>", *parts[2:])  # a dated run folder: its name is the run's time
        if relative.name.endswith(".eml"):
            relative = relative.with_name("weekly-run<id>.eml")
        out.setdefault(str(relative), set()).add(fingerprint(path))
    return {name: frozenset(prints) for name, prints in out.items()}


def leftovers(project: Path) -> list[str]:
    """The tool's temp files, staging folders and unfinished run folders anywhere in the project."""
    return sorted(str(p.relative_to(project)) for p in project.rglob("*")
                  if TEMP_NAME.match(p.name) or p.name.startswith(".partial-") or p.name.endswith(".tmp"))


def closed_month(db: Path) -> str | None:
    """The content hash of the closed month (its frozen rows checked against it), or None when it is open."""
    with Store.open(f"sqlite:///{db}") as store:
        ledger = Ledger(store)
        record = ledger.closed().get(MONTH)
        if record is None:
            assert ledger.frozen([MONTH]).empty, "frozen rows of a month that is not closed"
            return None
        ledger.month_detail(MONTH)  # raises unless the rows match their hash
        return record.content_hash


# ---------------------------------------------------------------------------------------- the project


@dataclass
class Project:
    """The folder every trial copies, with the old and new states of each command's outputs."""

    folder: Path
    old: dict[str, dict[str, frozenset]] = field(default_factory=dict)
    new: dict[str, dict[str, frozenset]] = field(default_factory=dict)
    new_month: str | None = None
    #: How long each command's process runs, and how much of that is starting (imports): kills land in between.
    seconds: dict[str, float] = field(default_factory=dict)
    startup: float = 0.0


def in_project(folder: Path, args: list[str], monkeypatch) -> int:
    """Run ``rollup ARGS`` in this process, in ``folder`` (a rerun), and return its exit code."""
    with monkeypatch.context() as m:
        m.chdir(folder)
        m.setenv("ROLLUP_DATABASE_URL", f"sqlite:///{folder / '.rollup' / 'rollup.db'}")
        result = CliRunner().invoke(cli, args)
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    return result.exit_code


def copy_project(source: Path, target: Path) -> Path:
    shutil.copytree(source, target, symlinks=True)
    return target


@pytest.fixture(scope="module")
def project(tmp_path_factory) -> Project:
    """The sample organisation synced, one earlier run of each command (the old outputs), and the new ones."""
    folder = tmp_path_factory.mktemp("project")
    imports = subprocess.Popen([sys.executable, "-c", "import time; t = time.perf_counter(); import rollup.cli; "
                                "print(time.perf_counter() - t)"], stdout=subprocess.PIPE, text=True)
    shutil.copy(REPO / "mappings.yaml", folder / "mappings.yaml")
    (folder / "schedules").mkdir()
    (folder / "schedules" / "weekly.yaml").write_text(SCHEDULE)
    org = SampleOrg.generate(seed=7, issues=300)
    write_sample_rates(org, folder / "rates.csv")
    (folder / ".rollup").mkdir()
    config = load_config(folder / "mappings.yaml")
    with Store.open(f"sqlite:///{folder / '.rollup' / 'rollup.db'}") as store:
        sync_sample_org(store, org, config=config, full=True)
    with pytest.MonkeyPatch.context() as monkeypatch:
        for args in (COMMANDS["report portfolio"], COMMANDS["run JOB"]):
            assert in_project(folder, args, monkeypatch) == 0
        state = Project(folder, old={"report portfolio": outputs(folder), "run JOB": outputs(folder)})
        # A day of work in Jira, synced: the next run's outputs differ from these, so a test can tell them apart.
        org.advance(days=1, seed=1)
        with Store.open(f"sqlite:///{folder / '.rollup' / 'rollup.db'}") as store:
            sync_sample_org(store, org, config=config)
        for command, args in COMMANDS.items():
            # The new outputs, from a run nobody kills: a process like the killed ones, so its length is theirs.
            fresh = copy_project(folder, tmp_path_factory.mktemp("reference") / "project")
            began = time.monotonic()
            proc = rollup_process(args, cwd=fresh, db=fresh / ".rollup" / "rollup.db")
            _, err = proc.communicate(timeout=300)
            assert proc.returncode == 0, err
            state.seconds[command] = time.monotonic() - began
            state.new[command] = outputs(fresh)
            if command == "finance close":
                state.new_month = closed_month(fresh / ".rollup" / "rollup.db")
    assert state.new_month is not None
    state.startup = float(imports.communicate(timeout=120)[0])
    return state


# ---------------------------------------------------------------------------------------- the trials


#: The files a reader takes as the current set, per command (a job's dated run folders pile up; latest/ is its set).
CURRENT = {"run JOB": lambda name: name.startswith("weekly/latest/")}


def check_outputs(command: str, found: dict[str, frozenset], old: dict[str, frozenset],
                  new: dict[str, frozenset]) -> str:
    """Every file is the old complete one or the new complete one, and none is missing; return what the
    current set is: ``old``, ``new`` or ``mixed`` (both)."""
    assert set(found) in (set(old), set(new), set(old) | set(new)), (sorted(found), sorted(old), sorted(new))
    current = CURRENT.get(command, lambda name: True)
    kinds = set()
    for name, prints in found.items():
        allowed = old.get(name, frozenset()) | new.get(name, frozenset())
        assert prints <= allowed, f"{name} is neither the old nor the new complete file"
        if current(name):  # a file the same in both says nothing about which set this is
            kinds |= {"old" if p in old.get(name, frozenset()) else "new" for p in prints
                      if not (p in old.get(name, frozenset()) and p in new.get(name, frozenset()))}
    return kinds.pop() if len(kinds) == 1 else "mixed" if kinds else "old"


def kill_at_random(command: str, folder: Path, delay: float) -> bool:
    """Start the command in ``folder`` and SIGKILL it after ``delay`` seconds; whether it had finished first."""
    proc = rollup_process(COMMANDS[command], cwd=folder, db=folder / ".rollup" / "rollup.db")
    try:
        deadline = time.monotonic() + delay
        while time.monotonic() < deadline and proc.poll() is None:
            time.sleep(0.01)
        finished = proc.poll() is not None
        if not finished:
            proc.send_signal(signal.SIGKILL)
    finally:
        proc.kill()
        _, err = proc.communicate(timeout=30)
    assert (finished and proc.returncode == 0) or proc.returncode == -signal.SIGKILL, err
    return finished


def state_after_kill(command: str, project: Project, folder: Path) -> str:
    """Check what a kill left (every file old or new, the month closed whole or not at all): old, new or mixed."""
    db = folder / ".rollup" / "rollup.db"
    assert integrity(db) == "ok"
    state = check_outputs(command, outputs(folder), project.old.get(command, {}), project.new[command])
    if command == "finance close":
        closed = closed_month(db)
        assert closed in (None, project.new_month), "the month was closed with other figures"
        return "new" if closed else "old"
    if state == "mixed":
        # A set swap the kill cut short: its staged set is complete, and the next writer swaps it in.
        staged = list((folder / "outputs").glob("*.set"))
        assert staged and all((p / SET_MANIFEST).is_file() for p in staged), "a mixed set with nothing to finish it"
    return state


def check_rerun(command: str, project: Project, folder: Path, code: int, state: str) -> None:
    """The rerun completed, and left the new outputs, the month closed with the new figures, and no leftovers."""
    db = folder / ".rollup" / "rollup.db"
    assert integrity(db) == "ok"
    after = outputs(folder)
    current = check_outputs(command, after, project.old.get(command, {}), project.new[command])
    if command == "finance close":
        assert code == (2 if state == "new" else 0)  # a closed month is not closed twice: "already closed"
        assert closed_month(db) == project.new_month
    elif command == "report portfolio":
        assert code == 0 and current == "new" and after == project.new[command]
    else:
        assert code == 0 and current == "new"
        latest = {name: prints for name, prints in after.items() if name.startswith("weekly/latest/")}
        assert latest and latest == {n: p for n, p in project.new[command].items() if n.startswith("weekly/latest/")}
        with Store.open(f"sqlite:///{db}") as store:
            assert "running" not in {run["status"] for run in history.list_runs(store, job="weekly")}
    assert leftovers(folder) == []


def empty_figures() -> dict:
    return {"trials": 0, "killed_mid_run": 0, "finished_before_kill": 0,
            "after_kill": {"old": 0, "new": 0, "mixed": 0}, "leftovers_after_kill": 0, "leftovers_after_rerun": 0,
            "passed": 0}


@pytest.mark.parametrize("command", list(COMMANDS))
def test_a_kill_at_any_point_leaves_the_old_outputs_or_the_new_ones(command, project, tmp_path, monkeypatch):
    rng = random.Random(f"{SEED}:{command}")
    figures = FIGURES.setdefault(command, empty_figures())
    for trial in range(TRIALS[command]):
        folder = copy_project(project.folder, tmp_path / f"trial-{trial}")
        delay = rng.uniform(min(project.startup, project.seconds[command] / 2), LATE * project.seconds[command])
        figures["trials"] += 1
        finished = kill_at_random(command, folder, delay)
        figures["finished_before_kill" if finished else "killed_mid_run"] += 1
        state = state_after_kill(command, project, folder)
        figures["after_kill"][state] += 1
        figures["leftovers_after_kill"] += len(leftovers(folder))

        check_rerun(command, project, folder, in_project(folder, COMMANDS[command], monkeypatch), state)
        figures["leftovers_after_rerun"] += len(leftovers(folder))
        figures["passed"] += 1
        shutil.rmtree(folder)


@pytest.fixture(scope="module", autouse=True)
def record_figures():
    """Write the figures to ``ROLLUP_KILL_RESULTS`` when it names a file."""
    yield
    target = os.environ.get("ROLLUP_KILL_RESULTS")
    if target and FIGURES:
        Path(target).parent.mkdir(parents=True, exist_ok=True)
        Path(target).write_text(json.dumps({"seed": SEED, "commands": FIGURES,
                                            "when": date.today().isoformat()}, indent=2) + "\n")
