"""Separate processes: two runs of one job started together (one runs, the other names the lock
holder), SIGTERM in the middle of a step (abandoned cleanly, no half-written file), and the
scheduler daemon stopping on SIGTERM."""

from __future__ import annotations

import os
import queue
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from datetime import datetime, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from schedule_helpers import job_yaml, temp_files, write_schedule
from sqlalchemy import text

from rollup.schedule import history
from rollup.schedule.locks import JobLocked, job_lock
from rollup.store import Store


def rollup(*args: str, cwd: Path, env: dict | None = None, **kwargs) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "rollup.cli", *args], cwd=cwd, env=env or os.environ.copy(),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **kwargs)


def lines_of(stream) -> queue.Queue:
    """The lines of a process's stream as they come, read on a thread."""
    out: queue.Queue = queue.Queue()

    def read() -> None:
        for line in stream:
            out.put(line)
        out.put(None)

    threading.Thread(target=read, daemon=True).start()
    return out


def wait_for(lines: queue.Queue, pattern: str, seen: list[str], timeout: float = 60) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            line = lines.get(timeout=0.2)
        except queue.Empty:
            continue
        if line is None:
            break
        seen.append(line)
        if re.search(pattern, line):
            return line
    raise AssertionError(f"no line matching {pattern!r}; got:\n{''.join(seen)}")


def two_runs_together(project: Path, env: dict | None = None) -> list[tuple[subprocess.Popen, str, str]]:
    processes = [rollup("run", "weekly", cwd=project, env=env) for _ in range(2)]
    return [(p, *p.communicate(timeout=180)) for p in processes]


def check_one_ran_and_the_other_named_it(results, lock_hint: str) -> None:
    codes = sorted(p.returncode for p, _, _ in results)
    assert codes == [0, 1], [(p.returncode, err[-2000:]) for p, _, err in results]
    winner = next(p for p, _, _ in results if p.returncode == 0)
    _, _, loser_err = next(r for r in results if r[0].returncode == 1)
    assert (f"Error: job 'weekly' is already running (host {socket.gethostname()}, pid {winner.pid}, since "
            in loser_err), loser_err
    assert lock_hint in loser_err


def test_two_processes_started_together_one_runs_the_other_names_the_holder(project):
    write_schedule(project, job_yaml(steps="[portfolio]", extra="max_data_age: 1d"))
    results = two_runs_together(project)
    check_one_ran_and_the_other_named_it(results, str(project / ".rollup" / "locks" / "weekly.lock"))
    with Store.open() as store:
        runs = history.list_runs(store, job="weekly")
    assert sorted(r["status"] for r in runs) == ["locked", "ok"]
    locked = next(r for r in runs if r["status"] == "locked")
    assert "already running" in locked["error"]


@pytest.mark.postgres
def test_two_processes_on_postgresql_use_an_advisory_lock(project, postgres_url):
    from sqlalchemy import MetaData, create_engine, inspect, text

    engine = create_engine(postgres_url)
    with engine.begin() as conn:  # the store's views first: they keep their tables from being dropped
        for view in inspect(conn).get_view_names():
            conn.execute(text(f'DROP VIEW IF EXISTS "{view}"'))
    tables = MetaData()
    tables.reflect(engine)
    tables.drop_all(engine)  # the session's database may hold other tests' tables
    engine.dispose()
    Store.open(postgres_url).close()  # the schema exists before the two processes start
    write_schedule(project, job_yaml(steps="[{step: sync, source: local-demo, issues: 300}, portfolio]"))
    env = {**os.environ, "ROLLUP_DATABASE_URL": postgres_url}
    results = two_runs_together(project, env)
    check_one_ran_and_the_other_named_it(results, "PostgreSQL advisory lock")
    with Store.open(postgres_url) as store:
        runs = history.list_runs(store, job="weekly")
        assert sorted(r["status"] for r in runs) == ["locked", "ok"]
        with store.connect() as conn:
            assert conn.execute(text("SELECT count(*) FROM job_locks")).scalar_one() == 0


def test_the_lock_names_its_holder_in_process(project):
    with Store.open() as store:
        with job_lock(store, "weekly") as holder:
            with pytest.raises(JobLocked) as caught:
                with job_lock(store, "weekly"):
                    pass
            assert caught.value.holder == holder and holder.pid == os.getpid()
            with job_lock(store, "daily"):  # another job is not blocked
                pass
        with job_lock(store, "weekly"):  # released
            pass


def stop_once_written(process, out, pattern: str) -> str:
    """SIGTERM ``process`` as soon as a file matching ``pattern`` is being written under ``out``; its stderr."""
    deadline = time.monotonic() + 60
    while not list(out.glob(pattern)):
        assert process.poll() is None and time.monotonic() < deadline, process.communicate()
        time.sleep(0.02)
    process.send_signal(signal.SIGTERM)
    return process.communicate(timeout=60)[1]


@pytest.mark.parametrize(("after", "then"), [
    # The next step cannot run beside the portfolio: the portfolio runs alone, the sync is skipped (and not run).
    ("{step: sync, source: local-demo}", "skipped"),
    # Team workbooks are written while the portfolio is (in a process of its own): both are abandoned.
    ("{step: team_reports, teams: [payments]}", "abandoned"),
])
def test_sigterm_abandons_the_running_step_and_leaves_no_half_written_file(project, after, then):
    write_schedule(project, job_yaml(steps=f"[portfolio, {after}]", extra="max_data_age: null"))
    process = rollup("run", "weekly", cwd=project)
    out = project / "outputs" / "weekly"
    # Once the portfolio step has begun writing (its charts, staged with the workbook, come first).
    stderr = stop_once_written(process, out, ".partial-*/00-portfolio/.portfolio-*.set/charts/*.png")
    name = after.split(",")[0].removeprefix("{step: ")

    assert process.returncode == 130, stderr
    assert re.search(r"event=step job=weekly run=\d+ step=portfolio status=abandoned", stderr)
    # Skipped steps are not run, so not logged; a step abandoned beside the portfolio is logged after it.
    logged = re.findall(r"event=step job=weekly run=\d+ step=(\w+) status=(\w+)", stderr)
    assert logged == ([("portfolio", "abandoned")] if then == "skipped"
                      else [("portfolio", "abandoned"), (name, "abandoned")])
    assert not list(out.glob(".partial-*")) and not temp_files(project)
    assert not (out / "latest").exists()
    assert not out.exists() or list(out.iterdir()) == []  # nothing was finished, so nothing is published
    with Store.open() as store:
        run = history.list_runs(store, job="weekly")[0]
        assert run["status"] == "interrupted" and run["error"] == "stopped by SIGTERM during step 'portfolio'"
        assert [(s["name"], s["status"]) for s in run["steps"]] == [("portfolio", "abandoned"), (name, then)]
        with job_lock(store, "weekly"):  # the lock went with the process
            pass


def test_the_scheduler_daemon_stores_its_jobs_and_stops_cleanly_on_sigterm(project):
    write_schedule(project, job_yaml(steps="[portfolio]", extra="max_data_age: 1d"))
    # The daemon checks at start that the job could sync from Jira; it does not call Jira until then.
    env = {**os.environ, "JIRA_URL": "https://clinicloud.atlassian.net", "JIRA_EMAIL": "ops@clinicloud.example",
           "JIRA_API_TOKEN": "not-used-before-07:00"}
    process = rollup("schedule", "run", cwd=project, env=env)
    lines, seen = lines_of(process.stderr), []
    wait_for(lines, r"event=scheduler\.job job=weekly change=added next=", seen)
    wait_for(lines, r"event=scheduler\.start jobs=1", seen)
    process.send_signal(signal.SIGTERM)
    wait_for(lines, r"event=scheduler\.exit", seen)
    assert process.wait(timeout=30) == 0
    with Store.open() as store, store.connect() as conn:
        row = conn.execute(text("SELECT id, next_run_time FROM apscheduler_jobs")).one()
    next_run = datetime.fromtimestamp(row[1], timezone.utc).astimezone(ZoneInfo("Europe/London"))
    assert row[0] == "weekly" and next_run.weekday() == 0 and (next_run.hour, next_run.minute) == (7, 0)
    assert next_run > datetime.now(timezone.utc)


def test_sigterm_to_schedule_run_once_stops_its_running_job_and_the_jobs_after_it(project):
    """The job runs in a child process: stopping `rollup schedule run --once` stops it too (none runs on alone)."""
    # Eight team workbooks: a step long enough to be stopped in the middle.
    write_schedule(project, job_yaml(steps="[team_reports]", extra="max_data_age: null")
                   + job_yaml("later", steps="[portfolio]", extra="max_data_age: null")[5:])
    process = rollup("schedule", "run", "--once", cwd=project)
    out = project / "outputs" / "weekly"
    stderr = stop_once_written(process, out, ".partial-*/00-team_reports/charts-*/*.png")

    assert process.returncode == 130, stderr
    assert re.search(r"event=step job=weekly run=\d+ step=team_reports status=abandoned", stderr)
    assert "event=job.skipped job=later" in stderr
    with Store.open() as store:
        runs = history.list_runs(store)
    # When the command has exited its job has finished too: nothing is left running, `later` never started.
    assert [(r["job"], r["status"]) for r in runs] == [("weekly", "interrupted")]
    assert not list(out.glob(".partial-*")) and not temp_files(project)
    assert not (project / "outputs" / "later").exists()
