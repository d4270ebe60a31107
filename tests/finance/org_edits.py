"""Changes made to the in-process local Jira's sample organisation, as a user would make them in Jira.

Each edit moves the issue's ``updated`` past the last sync so an incremental sync over HTTP picks it
up, and bumps the organisation's version (the server's caches key on it).
"""

from __future__ import annotations

from datetime import datetime, timezone

from rollup.localjira.sampledata import ISSUE_TYPES, LOGGING_TEAMS, PROJECTS, S_PROG, S_TODO
from rollup.localjira.sampleorg import SampleOrg


def _ts(text: str) -> int:
    return int(datetime.fromisoformat(text).replace(tzinfo=timezone.utc).timestamp())


def _touch(org: SampleOrg, pos: int, seconds_after_now: int) -> None:
    org.updated[pos] = max(org.updated[pos], org.now_ts + seconds_after_now)
    org.version += 1


def late_worklog(org: SampleOrg, started: str, hours: float) -> tuple[str, str, int]:
    """A worklog for a past day, logged now, on the first assigned story of a team that logs work.

    Returns (issue key, author account id, worklog id).
    """
    with org.lock:
        pos = next(p for p in range(org.size) if org.live(p) and ISSUE_TYPES[org.itype[p]].level == 0
                   and PROJECTS[org.proj[p]].key in LOGGING_TEAMS and org.assignee[p] >= 0
                   and org.users[org.assignee[p]].active)
        author = org.assignee[pos]
        wpos = org._add_worklog(pos, author, _ts(started), int(hours * 3600), org.now_ts + 60)
        org._finish_worklog_order()
        _touch(org, pos, 60)
        return org.key(pos), org.users[author].account_id, org.WL_BASE + wpos


def add_label(org: SampleOrg, key: str, label: str) -> None:
    """Add a label to an issue (e.g. ``tech-debt`` on an epic, which re-buckets it and its stories)."""
    with org.lock:
        pos = org.position(key)
        org.labels[pos] = org._intern(tuple(org.tuples[org.labels[pos]]) + (label,))
        _touch(org, pos, 120)


def backdated_progress(org: SampleOrg, start: str, end: str, *, teams: frozenset[str]) -> tuple[str, str]:
    """An unstarted, assigned story of one of ``teams`` gets a past In Progress spell from ``start`` to ``end``.

    Its current status stays To Do (the spell ends back in To Do). Returns (issue key, assignee account id).
    """
    with org.lock:
        pos = next(p for p in range(org.size) if org.live(p) and ISSUE_TYPES[org.itype[p]].level == 0
                   and PROJECTS[org.proj[p]].key in teams and org.status[p] == S_TODO and org.assignee[p] >= 0
                   and org.created[p] < _ts(start))
        author = org.assignee[pos]
        org._add_history(pos, _ts(start), 0, S_TODO, S_PROG, author, appended=True)
        org._add_history(pos, _ts(end), 0, S_PROG, S_TODO, author, appended=True)
        _touch(org, pos, 180)
        return org.key(pos), org.users[author].account_id
