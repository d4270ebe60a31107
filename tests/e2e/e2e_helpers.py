"""Helpers for the end-to-end tests: the real connector over real HTTP against the local Jira.

What the sample organisation *is* (``SampleOrg``'s columns) is the ground truth the synced
store is compared with; nothing here reads the connector's own output to build expectations.
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from collections import defaultdict
from contextlib import closing, contextmanager
from pathlib import Path
from typing import Iterator

from connectors.jira import JiraConnector, JiraSettings, Transport
from rollup.jobs.demo import demo_settings
from rollup.jobs.sync import SyncScope, sync
from rollup.localjira import Faults, LocalJira, SampleOrg
from rollup.localjira.render import CLOUD_FIELDS, DC_FIELDS
from rollup.localjira.sampledata import ISSUE_TYPES, PROJECTS, T_EPIC, T_SUB
from rollup.localjira.sampleorg import KEPT_HISTORY_KINDS
from rollup.store import Store

REPO = Path(__file__).resolve().parents[2]
FLAVOURS = ["cloud", "datacenter"]
PROJECT_KEYS = tuple(p.key for p in PROJECTS)
SCOPE_JQL = f"project in ({', '.join(PROJECT_KEYS)})"
#: The two fields named "Team" on each flavour: (the real team field, the legacy select).
TEAM_FIELDS = {flavour: (table["team"][0], table["legacy_team"][0])
               for flavour, table in (("cloud", CLOUD_FIELDS), ("datacenter", DC_FIELDS))}
#: History kinds kept by the connector (status, assignee, epic, story points, target date).
TRANSITION_KINDS = KEPT_HISTORY_KINDS


def settings(url: str, flavour: str) -> JiraSettings:
    """The connector's settings for a local Jira: its demo credentials, which it requires."""
    return demo_settings(url, flavour)


def scope(flavour: str, **kwargs) -> SyncScope:
    kwargs.setdefault("extra_fields", ["Investment"])
    kwargs.setdefault("field_overrides", {"team": TEAM_FIELDS[flavour][0]})
    return SyncScope(jql=SCOPE_JQL, **kwargs)


@contextmanager
def serve(org: SampleOrg, flavour: str, faults: Faults | None = None) -> Iterator[LocalJira]:
    with LocalJira(org, flavour=flavour, faults=faults) as server:
        yield server


#: Retry backoff for the end-to-end tests: the real schedule (0.5 s doubling) with a hundredth of the wait.
TEST_BACKOFF_BASE = 0.005


@contextmanager
def connect(server: LocalJira, flavour: str, workers: int = 4, **transport_options) -> Iterator[JiraConnector]:
    s = settings(server.url, flavour)
    transport_options.setdefault("backoff_base", TEST_BACKOFF_BASE)
    transport = Transport(s, max_concurrency=workers, **transport_options)
    with JiraConnector(s, max_workers=workers, transport=transport) as conn:
        yield conn


def run_sync(store: Store, server: LocalJira, flavour: str, *, sync_scope: SyncScope | None = None, **kwargs):
    with connect(server, flavour) as conn:
        return sync(store, conn, sync_scope or scope(flavour), **kwargs)


def clean_sync(org: SampleOrg, flavour: str, url: str) -> Store:
    """A full sync of ``org`` into a new store at ``url``, without faults."""
    store = Store.open(url)
    with serve(org, flavour) as server:
        run_sync(store, server, flavour)
    return store


# ---------------------------------------------------------------------------------- rollup as a process
def rollup_process(args: list[str], *, cwd: Path, db: Path, env: dict[str, str] | None = None) -> subprocess.Popen:
    """``rollup ARGS`` in its own process (to be killed), on the SQLite store ``db``, working in ``cwd``.

    The test's own ``JIRA_*`` and ``ROLLUP_*`` variables are left out; ``env`` adds others.
    """
    environment = {k: v for k, v in os.environ.items() if not k.startswith(("JIRA_", "ROLLUP_"))}
    environment.update(env or {}, ROLLUP_DATABASE_URL=f"sqlite:///{db}")
    environment["PYTHONPATH"] = str(REPO) + os.pathsep + environment.get("PYTHONPATH", "")
    return subprocess.Popen([sys.executable, "-m", "rollup.cli", *args], cwd=cwd, env=environment,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def integrity(db: Path) -> str:
    """SQLite's ``PRAGMA integrity_check`` of the store at ``db``: ``ok`` or what is wrong."""
    with closing(sqlite3.connect(db)) as conn:
        return "; ".join(row[0] for row in conn.execute("PRAGMA integrity_check"))


# ---------------------------------------------------------------------------------- the store's content
def content(store: Store) -> dict:
    """What a sync is judged by: issues, transitions and worklogs (sync bookkeeping left out)."""
    return {
        "issues": sorted((dict(r) for r in store.issue_rows()), key=lambda r: r["id"]),
        "transitions": sorted(
            (tuple(sorted(r.items())) for r in store.transition_rows()),
        ),
        "worklogs": sorted((tuple(sorted(r.items())) for r in store.worklog_rows())),
    }


def assert_same_content(actual: Store, expected: Store) -> None:
    got, want = content(actual), content(expected)
    got_ids = {r["id"] for r in got["issues"]}
    want_ids = {r["id"] for r in want["issues"]}
    assert got_ids == want_ids, f"missing {sorted(want_ids - got_ids)[:10]}, extra {sorted(got_ids - want_ids)[:10]}"
    diffs = [(g["key"], k, g[k], w[k]) for g, w in zip(got["issues"], want["issues"]) for k in w if g[k] != w[k]]
    assert not diffs, diffs[:10]
    assert len(got["transitions"]) == len(want["transitions"])
    assert got["transitions"] == want["transitions"]
    assert got["worklogs"] == want["worklogs"]


# ---------------------------------------------------------------------------------- the org's own truth
def live_positions(org: SampleOrg) -> list[int]:
    return [pos for pos in range(org.size) if org.live(pos)]


def live_ids(org: SampleOrg) -> set[int]:
    return {org.issue_id(pos) for pos in live_positions(org)}


def transition_counts(org: SampleOrg) -> dict[int, int]:
    """Issue id -> number of histories the connector keeps, in the org."""
    return {
        org.issue_id(pos): sum(1 for h in org.histories(pos) if org.h_kind[h] in TRANSITION_KINDS)
        for pos in live_positions(org)
    }


def worklog_totals(org: SampleOrg) -> dict[int, tuple[int, int]]:
    """Issue id -> (worklog count, total seconds) over the org's live worklogs of live issues."""
    out: dict[int, list[int]] = defaultdict(lambda: [0, 0])
    for w in range(len(org.wl_issue)):
        pos = org.wl_issue[w]
        if w in org.wl_deleted or not org.live(pos):
            continue
        out[org.issue_id(pos)][0] += 1
        out[org.issue_id(pos)][1] += org.wl_seconds[w]
    return {k: tuple(v) for k, v in out.items()}


def stored_worklog_totals(store: Store) -> dict[int, tuple[int, int]]:
    out: dict[int, list[int]] = defaultdict(lambda: [0, 0])
    for r in store.worklog_rows():
        out[r["issue_id"]][0] += 1
        out[r["issue_id"]][1] += r["seconds"]
    return {k: tuple(v) for k, v in out.items()}


def expected_links(org: SampleOrg, pos: int) -> tuple[int, str | None, str | None]:
    """(hierarchy level, parent key, epic key) of a live issue, from the org's own columns."""
    level = ISSUE_TYPES[org.itype[pos]].level
    p = org.parent[pos]
    parent = org.key(p) if p >= 0 and org.live(p) else None
    epic = None
    if level == 0 and p >= 0 and org.itype[p] == T_EPIC and org.live(p):
        epic = parent
    if org.itype[pos] == T_SUB:
        epic = None
    return level, parent, epic
