"""The Monday job end to end at N issues (default 100,000) after a week of changes; target <= 30 s.

Setup, not timed: the local Jira (``--flavour``, the speed-run settings: 100 ms latency, 5 ms per full
issue, 20 requests/s per endpoint) serving N issues; a scratch project holding the repository's
mappings.yaml (eight teams) and one schedule, the Monday job; a full sync into a SQLite store; then a
week passes in the local Jira (``POST /_local/advance {"days": 7}``).

Timed: ``rollup run monday`` in its own process, as cron runs it — the incremental sync, the portfolio
workbook with its charts, a team workbook for each of the eight teams, the lint report, and the email
with the portfolio attached, sent to a local SMTP server (aiosmtpd on loopback). Each step's time comes
from the run's own JSON. Checked after each run: exit 0, the message arrived with the workbook, one
workbook per team, the lint report written, the sync incremental.

``--runs K`` times K Mondays, a week passing before each; the result is the median.

``--baseline TREE`` also runs, each Monday, the code of another checkout (``git worktree add TREE COMMIT``;
its ``rollup`` package first on ``PYTHONPATH``) on a copy of the same store after the same week, alternating
which goes first; the result adds its median and the ratio of the medians (this machine is shared: only a
ratio measured in one invocation compares two versions).

    .venv/bin/python bench/monday_job.py [--issues 100000] [--runs 3] [--flavour cloud|datacenter] [--baseline TREE]
"""

from __future__ import annotations

import argparse
import email
import json
import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

from _common import (
    ROLLUP,
    SPEED,
    free_port,
    http,
    local_jira,
    mappings_text,
    median,
    server_stats,
    stats_delta,
    write_result,
)

from rollup.localjira.credentials import demo_environment

SCHEDULE = """\
jobs:
  - name: monday
    title: Monday portfolio
    cron: "0 7 * * mon"
    timezone: Europe/London
    output: outputs/monday
    steps:
      - step: sync
        max_age: 0s
      - portfolio
      - step: team_reports
        teams: all
      - lint
    deliver:
      email:
        to: [ceo@clinicloud.example, cpo@clinicloud.example]
        subject: "Weekly portfolio {week}"
        attach: ["portfolio*.xlsx"]
"""


class Inbox:
    """A loopback SMTP server (aiosmtpd) keeping every message it receives."""

    def __init__(self) -> None:
        from aiosmtpd.controller import Controller

        self.messages: list[email.message.Message] = []
        inbox = self

        class Handler:
            async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's name
                inbox.messages.append(email.message_from_bytes(envelope.content))
                return "250 OK"

        self.port = free_port()
        self.controller = Controller(Handler(), hostname="127.0.0.1", port=self.port)

    def __enter__(self) -> "Inbox":
        self.controller.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.controller.stop()


def rollup(args: list[str], project: Path, env: dict[str, str], timeout: float = 3600) -> tuple[float, dict | None]:
    """``rollup ARGS`` in ``project``; (elapsed seconds, its JSON when it printed one)."""
    t0 = time.monotonic()
    proc = subprocess.run([ROLLUP, *args], cwd=project, env=env, capture_output=True, text=True, timeout=timeout)
    elapsed = time.monotonic() - t0
    if proc.returncode != 0:
        raise RuntimeError(f"rollup {' '.join(args)} exited {proc.returncode}:\n{proc.stdout[-3000:]}\n"
                           f"{proc.stderr[-3000:]}")
    try:
        return elapsed, json.loads(proc.stdout)
    except ValueError:
        return elapsed, None


def check_outputs(project: Path, inbox: Inbox, sent_before: int, report: dict) -> dict:
    """What the run wrote and sent, checked; a summary for the results."""
    latest = project / "outputs" / "monday" / "latest"
    files = sorted(p.name for p in latest.iterdir())
    teams = [f for f in files if f.startswith("team-") and f.endswith(".xlsx")]
    portfolio = [f for f in files if f.startswith("portfolio") and f.endswith(".xlsx")]
    lint = [f for f in files if f.startswith("lint") and f.endswith(".xlsx")]
    assert len(teams) == 8, f"expected eight team workbooks, got {teams}"
    assert report.get("status") == "ok", report.get("status")
    sync = next(s for s in report["steps"] if s["name"] == "sync")
    assert sync["summary"].startswith("incremental sync"), sync["summary"]
    assert portfolio and lint, files
    new = inbox.messages[sent_before:]
    assert len(new) == 1, f"expected one message, got {len(new)}"
    attached = [part.get_filename() for part in new[0].walk() if part.get_filename()]
    assert len(attached) == 1 and attached[0].startswith("portfolio") and attached[0].endswith(".xlsx"), attached
    return {"files": len(files), "team_workbooks": len(teams), "attached": attached,
            "subject": new[0]["Subject"]}


def step_seconds(report: dict | None) -> dict:
    """Seconds per step from ``rollup run --format json`` (each step's ``seconds``)."""
    return {str(step["name"]): round(float(step["seconds"]), 3) for step in (report or {}).get("steps", [])
            if isinstance(step, dict) and step.get("seconds") is not None}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--issues", type=int, default=100_000)
    p.add_argument("--runs", type=int, default=3)
    p.add_argument("--days", type=float, default=7, help="how much time passes before each run")
    p.add_argument("--flavour", choices=["cloud", "datacenter"], default="cloud")
    p.add_argument("--name", default="")
    p.add_argument("--baseline", type=Path, help="a checkout of the code to compare with (see above)")
    args = p.parse_args()
    runs, baseline_runs = [], []
    with tempfile.TemporaryDirectory() as tmp, local_jira(args.issues, flavour=args.flavour, **SPEED) as url, \
            Inbox() as inbox:
        project = Path(tmp)
        (project / "mappings.yaml").write_text(mappings_text(args.flavour))
        (project / "schedules").mkdir()
        (project / "schedules" / "monday.yaml").write_text(SCHEDULE)
        env = {k: v for k, v in os.environ.items() if not k.startswith(("JIRA_", "ROLLUP_"))}
        env.update(demo_environment(url, args.flavour), ROLLUP_DATABASE_URL=f"sqlite:///{project / 'rollup.db'}",
                   ROLLUP_SMTP_HOST="127.0.0.1", ROLLUP_SMTP_PORT=str(inbox.port), ROLLUP_SMTP_STARTTLS="false",
                   ROLLUP_SMTP_FROM="rollup@clinicloud.example")
        full, _ = rollup(["sync", "--full"], project, env)
        print(f"full sync of {args.issues:,} issues: {full:.1f} s", flush=True)
        base = project / "baseline"
        if args.baseline:
            base.mkdir()
            for name in ("mappings.yaml", "schedules"):
                shutil.copytree(project / name, base / name) if (project / name).is_dir() \
                    else shutil.copy(project / name, base / name)
        base_env = {**env, "ROLLUP_DATABASE_URL": f"sqlite:///{base / 'rollup.db'}",
                    "PYTHONPATH": str(args.baseline.resolve()) if args.baseline else ""}

        def monday(folder: Path, run_env: dict[str, str], touched: dict) -> dict:
            before = server_stats(url)
            sent = len(inbox.messages)
            elapsed, report = rollup(["run", "monday", "--schedules", "schedules", "--format", "json"], folder,
                                     run_env)
            checked = check_outputs(folder, inbox, sent, report or {})
            return {"elapsed": round(elapsed, 3), "steps": step_seconds(report), "week": touched,
                    "server": stats_delta(server_stats(url), before), **checked}

        for n in range(args.runs):
            changed = http(url + "/_local/advance", {"days": args.days, "seed": 100 + n})
            touched = {k: len(v) for k, v in changed.items() if isinstance(v, list)}
            if not args.baseline:
                runs.append(monday(project, env, touched))
                print(json.dumps(runs[-1]), flush=True)
                continue
            # The same store after the same week for both; the code measured keeps its store for next week.
            shutil.copy(project / "rollup.db", base / "rollup.db")
            order = [("current", project, env), ("baseline", base, base_env)]
            for which, folder, run_env in order if n % 2 == 0 else order[::-1]:
                run = monday(folder, run_env, touched)
                (runs if which == "current" else baseline_runs).append(run)
                print(which, json.dumps(run), flush=True)
    elapsed_median = median([r["elapsed"] for r in runs])
    result = {
        "issues": args.issues, "flavour": args.flavour, "server": SPEED, "days": args.days,
        "full_sync_s": round(full, 2), "runs": runs, "elapsed_median": elapsed_median, "target": 30.0,
        "met": elapsed_median <= 30.0,
    }
    if baseline_runs:
        base_median = median([r["elapsed"] for r in baseline_runs])
        result.update(baseline=str(args.baseline), baseline_runs=baseline_runs, baseline_median=base_median,
                      ratio_to_baseline=round(elapsed_median / base_median, 3))
        print(f"median {elapsed_median:.1f} s against {base_median:.1f} s for {args.baseline}: "
              f"{elapsed_median / base_median:.2f} x", flush=True)
    write_result(args.name or f"monday_job_{args.flavour}", result)


if __name__ == "__main__":
    main()
