"""A tiny hand-made organisation for the finance tests: three teams, one per effort model.

Team ``alpha`` (project A) logs work, ``beta`` (project B) is measured in person-days from the
changelog, ``gamma`` (project G) by completed points with a capacity of 2 FTE. October 2026 has
22 working days (1 October is a Thursday): 176 hours for one full-time person.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Any

import pandas as pd

from rollup.config import parse_config
from rollup.finance.calendar import Month, WorkCalendar, day_number
from rollup.finance.effort import Effort, compute_effort
from rollup.finance.policy import epic_windows
from rollup.frames import TRANSITION_COLUMNS, WORKLOG_COLUMNS, Frames, issues_frame
from rollup.mapping import apply

CONFIG = """
jira: {projects: [A, B, G]}
buckets:
  - {id: new, name: New capability, treatment: capex}
  - {id: ktlo, name: Maintenance, treatment: opex}
teams:
  - {id: alpha, name: Alpha, recognised_by: {projects: [A]}}
  - {id: beta, name: Beta, recognised_by: {projects: [B]}}
  - {id: gamma, name: Gamma, recognised_by: {projects: [G]}}
rules:
  - {id: bucket-new, when: {labels: [new]}, set: {bucket: new}}
  - {id: bucket-default, priority: -10, when: {issue_type: [Epic]}, set: {bucket: ktlo}}
finance:
  currency: EUR
  fx: {USD: 0.9}
  calendar: {timezone: UTC, workdays: [mon, tue, wed, thu, fri], holidays: [], hours_per_day: 8}
  effort:
    default: person-days
    teams: {alpha: worklogs, beta: person-days, gamma: points}
    points_capacity_fte: {gamma: 2}
  window:
    authorized: {date_field: start_date}
    probable: {require_target_date: true}
    release: {epic_done: true}
"""

OCT, NOV = Month(2026, 10), Month(2026, 11)
RATES = """level,id,name,role,hourly_rate,monthly_cost,currency,valid_from,valid_to
team,alpha,,,100,,EUR,2026-01-01,
team,beta,,,,17600,EUR,2026-01-01,
team,gamma,,,10,,EUR,2026-01-01,
person,w,Wanda,,50,,USD,2026-01-01,2026-12-31
"""


def config(extra: str = ""):
    """The small configuration, optionally with more YAML appended."""
    return parse_config(CONFIG + extra, source="small.yaml")


def at(text: str) -> datetime:
    """``"2026-10-01 09:00"`` → aware UTC datetime."""
    return datetime.fromisoformat(text).replace(tzinfo=timezone.utc)


_NEXT_ID = [100]


def issue(key: str, **values: Any) -> dict[str, Any]:
    """An issue row; the project is the key's prefix, a story in progress unless told otherwise."""
    _NEXT_ID[0] += 1
    row = {"id": values.pop("id", _NEXT_ID[0]), "key": key, "project_key": key.split("-")[0],
           "issue_type": "Story", "hierarchy_level": 0, "status": "In Progress",
           "status_category": "indeterminate", "created": at("2026-09-01 08:00"), "updated": at("2026-11-20 08:00"),
           "labels": [], "components": [], "fix_versions": [], "summary": key, "description": "", "custom": {}}
    row.update(values)
    return row


def transition(issue_id: int, when: str, field: str, frm: str | None, to: str | None, n: list[int] = [0]) -> dict:
    """A status or assignee change (status names map to categories: To Do, In Progress, Done)."""
    n[0] += 1
    category = {"To Do": "new", "In Progress": "indeterminate", "In Review": "indeterminate",
                "Done": "done"}.get(to or "") if field == "status" else None
    return {"issue_id": issue_id, "history_id": n[0], "field": field, "at": at(when), "from_value": frm,
            "to_value": to, "to_category": category, "author_id": None}


def worklog(issue_id: int, author: str, when: str, hours: float, n: list[int] = [0]) -> dict:
    n[0] += 1
    return {"id": n[0], "issue_id": issue_id, "author_id": author, "author_name": author.upper(),
            "started": at(when), "seconds": int(hours * 3600), "updated": at(when)}


def frames(issues: list[dict], transitions: list[dict] = (), worklogs: list[dict] = ()) -> Frames:
    """Typed frames like :func:`rollup.frames.load_frames` gives."""
    t = pd.DataFrame(list(transitions), columns=list(TRANSITION_COLUMNS))
    t["at"] = pd.to_datetime(t["at"], utc=True)
    w = pd.DataFrame(list(worklogs), columns=list(WORKLOG_COLUMNS))
    for column in ("started", "updated"):
        w[column] = pd.to_datetime(w[column], utc=True)
    return Frames(issues=issues_frame(issues), transitions=t, worklogs=w,
                  snapshots=pd.DataFrame(columns=["run_id", "taken_at", "issue_id", "key", "payload"]))


def effort(f: Frames, cfg, months: list[Month], as_of: date = date(2026, 11, 20)) -> tuple[Effort, pd.DataFrame]:
    """Map, place in windows and compute every model's effort; return it with the mapped issues."""
    mapped = apply(f.issues, cfg).issues.reset_index(drop=True)
    calendar = WorkCalendar(cfg.finance.calendar)
    windows = epic_windows(mapped, cfg.finance, calendar)
    return compute_effort(mapped, f.transitions, f.worklogs, windows, cfg.finance, calendar, months,
                          day_number(as_of), max_story_points=cfg.report.max_story_points), mapped


def hours_by(rows: pd.DataFrame, mapped: pd.DataFrame, *by: str) -> dict:
    """Effort hours keyed by issue key (``-`` for unallocated) and the given columns."""
    keys = mapped["key"].astype(str).to_numpy()
    frame = rows.assign(key=[keys[p] if p >= 0 else "-" for p in rows["pos"]])
    grouped = frame.groupby(["key", *by])["hours"].sum()
    return {k: round(v, 6) for k, v in grouped.items()}


# ---------------------------------------------------------------------------------------- the sample organisation

ROOT = Path(__file__).resolve().parents[2]
MAPPINGS = ROOT / "mappings.yaml"
ORG_SEED, ORG_ISSUES = 7, 1500


@contextmanager
def served(org) -> Iterator[object]:
    """The local Jira serving ``org`` on loopback (Cloud flavour, the demo credentials)."""
    from rollup.jobs.demo import local_jira

    with local_jira(org, "cloud") as server:
        yield server


def sync_over_http(org, server, database_url: str, *, full: bool = False):
    """One sync of ``org`` through the real connector over HTTP into the store at ``database_url``."""
    from connectors.jira import JiraConnector
    from rollup.config import load_config
    from rollup.jobs.demo import demo_scope, demo_settings
    from rollup.jobs.sync import sync
    from rollup.store import Store

    config = load_config(MAPPINGS)
    with Store.open(database_url) as store, JiraConnector(demo_settings(server.url, "cloud")) as connector:
        return sync(store, connector, demo_scope("cloud", config), full=full)
