"""The sync fault matrix: fault kinds × flavours × starting states, each trial judged against a clean sync.

A trial syncs the sample organisation from a local Jira injecting one kind of fault, then judges:

* exit 0 → the store must equal a clean sync of the same organisation, table by table;
* a failure → the store must hold only true rows (every stored issue, transition and worklog row is
  the clean sync's own; over a complete store, the store is unchanged), nothing it held before may be
  lost, and the next plain sync, without faults, must converge to the clean sync exactly.

Used by ``tests/e2e/test_fault_matrix.py`` (a reduced, seeded set in CI) and by
``bench/fault_matrix.py`` (the full set, writing the figures in docs/reliability.md).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

from e2e_helpers import FLAVOURS, TEST_BACKOFF_BASE, content, scope, serve, settings

from connectors.jira import JiraConnector, Transport
from connectors.jira.errors import JiraError
from rollup.errors import RollupError
from rollup.jobs.sync import sync
from rollup.localjira import Faults, SampleOrg
from rollup.store import Store

#: Each fault kind: the local Jira's fault settings, and whether the client's timeout is short.
FAULT_KINDS: dict[str, dict[str, Any]] = {
    "5xx-resets-truncated": dict(error_5xx_rate=0.1, reset_rate=0.03, truncate_rate=0.03),
    "rate-limit-429": dict(rate_limit_per_s=2),
    "short-pages": dict(max_page_size=60, short_page_rate=0.3),
    "empty-200-body": dict(empty_body_rate=0.25),
    "stale-answers": dict(stale_rate=0.15),
    "empty-field-list-once": dict(empty_fields_rate=0.6),
    "empty-field-list-always": dict(empty_fields_rate=1.0),
    "slow-answers": dict(slow_rate=0.15, slow_ms=2500),
    "huge-retry-after": dict(huge_retry_after_rate=0.1, huge_retry_after_s=3600),
    "repeated-token": dict(repeat_token=True),
    "count-lags": dict(count_offset=40),
}
#: Every kind pages its searches 100 issues at a time (unless it says otherwise), so that even a sync
#: over a complete store, which fetches nothing, sends enough requests to meet its faults.
BASE_FAULTS: dict[str, Any] = dict(max_page_size=100)
#: Kinds that must fail loudly once met: the server never stops answering wrongly, asks to wait an hour, or
#: counts more issues than it serves.
MUST_FAIL = frozenset({"empty-field-list-always", "repeated-token", "count-lags", "huge-retry-after"})
#: Client settings per kind (the rest as shipped): a short timeout makes slow answers time out.
CLIENT_TIMEOUT = {"slow-answers": 1}
#: Starting states: an empty store (a first sync); a store that already holds a clean sync (then ``--full``);
#: a store synced a week ago, the organisation a week on (then a plain, incremental sync).
STARTS = ("empty", "full-over-complete", "incremental-after-week")
#: How far the organisation moves for "incremental-after-week" (new, edited, moved and deleted issues).
WEEK_DAYS, WEEK_SEED = 7, 5


def organisation(seed: int, issues: int, *, week_on: bool) -> SampleOrg:
    """The sample organisation of a trial, a week on when ``week_on``."""
    org = SampleOrg.generate(seed=seed, issues=issues)
    if week_on:
        org.advance(days=WEEK_DAYS, seed=WEEK_SEED)
    return org


#: Fault kinds only one flavour can have: Data Center has no approximate count (its pages carry total) and no
#: page tokens.
ONLY_ON = {"count-lags": "cloud", "repeated-token": "cloud"}


def matrix() -> list[tuple[str, str, str]]:
    """Every (flavour, kind, start) the matrix runs."""
    return [(flavour, kind, start) for flavour in FLAVOURS for kind in sorted(FAULT_KINDS) for start in STARTS
            if ONLY_ON.get(kind, flavour) == flavour]


@dataclass
class Trial:
    """One trial's outcome."""

    kind: str
    flavour: str
    start: str
    seed: int
    outcome: str = ""  # "identical", "failed loudly", or "WRONG: …"
    error: str = ""
    retries: int = 0
    #: Faults the server injected during the trial's sync (a trial that met none proves nothing).
    injected: int = 0
    seconds: float = 0.0
    clean_seconds: float = 0.0
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.outcome.startswith("WRONG")


def canonical(store: Store) -> dict[str, Any]:
    """The store's content, table by table: issues, transitions, worklogs and the field catalogue."""
    out = content(store)
    out["fields"] = sorted(tuple(sorted(r.items())) for r in store.field_rows())
    return out


def _connector(url: str, flavour: str, kind: str) -> JiraConnector:
    s = settings(url, flavour)
    if kind in CLIENT_TIMEOUT:
        s = s.model_copy(update={"timeout": CLIENT_TIMEOUT[kind]})
    transport = Transport(s, max_concurrency=4, backoff_base=TEST_BACKOFF_BASE)
    return JiraConnector(s, max_workers=4, transport=transport)


#: The scope every trial syncs; the deletion sweep runs on every sync, so a week's deletions are seen.
SCOPES = {flavour: scope(flavour, deletion_sweep_every=timedelta(0)) for flavour in FLAVOURS}


def _injected(server: Any) -> int:
    """Faults the local Jira injected: odd answers, errors and 429s."""
    seen = server.stats_snapshot()
    return sum(seen["errors"].values()) + seen["throttled_total"]


def _sync(store: Store, org: SampleOrg, flavour: str, faults: Faults | None, kind: str, *,
          full: bool) -> tuple[Any, int, int]:
    """One sync: (result, client retries, faults injected); an error carries ``retries`` and ``injected``."""
    with serve(org, flavour, faults) as server, _connector(server.url, flavour, kind) as conn:
        try:
            return sync(store, conn, SCOPES[flavour], full=full), conn.stats.retries, _injected(server)
        except (RollupError, JiraError) as exc:
            exc.retries = conn.stats.retries  # type: ignore[attr-defined]
            exc.injected = _injected(server)  # type: ignore[attr-defined]
            raise


def _subset_problems(got: dict[str, Any], clean: dict[str, Any]) -> list[str]:
    """What in ``got`` is not the clean sync's own row (a wrong row is worse than a missing one)."""
    problems = []
    clean_issues = {r["id"]: r for r in clean["issues"]}
    wrong = [r["key"] for r in got["issues"] if clean_issues.get(r["id"]) != r]
    if wrong:
        problems.append(f"{len(wrong)} stored issue rows differ from a clean sync (e.g. {wrong[:3]})")
    for table in ("transitions", "worklogs"):
        extra = set(got[table]) - set(clean[table])
        if extra:
            problems.append(f"{len(extra)} {table} rows a clean sync does not have")
    return problems


#: A trial whose sync met none of its faults (they are drawn by chance) is run again with another fault
#: seed, this many times at most: every reported trial met its fault.
MAX_DRAWS = 6


def run_trial(kind: str, flavour: str, start: str, *, seed: int, issues: int, workdir: Path,
              clean: Callable[[bool], tuple[dict[str, Any], float]]) -> Trial:
    """Run one trial in ``workdir``; ``clean(week_on)`` gives the clean sync's canonical content and time."""
    for draw in range(MAX_DRAWS):
        trial = _one_trial(kind, flavour, start, seed=seed, fault_seed=seed + 1000 * draw, issues=issues,
                           workdir=workdir, clean=clean)
        if trial.injected:
            break
    return trial


def _one_trial(kind: str, flavour: str, start: str, *, seed: int, fault_seed: int, issues: int, workdir: Path,
               clean: Callable[[bool], tuple[dict[str, Any], float]]) -> Trial:
    trial = Trial(kind, flavour, start, seed)
    week_on = start == "incremental-after-week"
    org = organisation(seed, issues, week_on=False)
    want, trial.clean_seconds = clean(week_on)
    db = workdir / f"{kind}-{flavour}-{start}-{seed}-{fault_seed}.db"
    with Store.open(f"sqlite:///{db}") as store:
        if start != "empty":
            _sync(store, org, flavour, None, kind, full=True)
        if week_on:
            org.advance(days=WEEK_DAYS, seed=WEEK_SEED)
        before = canonical(store)
        faults = Faults(seed=fault_seed, **{**BASE_FAULTS, **FAULT_KINDS[kind]})
        began = time.monotonic()
        try:
            _result, trial.retries, trial.injected = _sync(store, org, flavour, faults, kind, full=not week_on)
        except (RollupError, JiraError) as exc:
            trial.seconds = time.monotonic() - began
            trial.retries = getattr(exc, "retries", 0)
            trial.injected = getattr(exc, "injected", 0)
            trial.error = f"{type(exc).__name__}: {str(exc)[:160]}"
            got = canonical(store)
            # A week on, a stored row may still be last week's (true then); before that, every row is the clean one.
            problems = [] if week_on else _subset_problems(got, want)
            before_ids = {r["id"] for r in before["issues"]}
            lost = before_ids - {r["id"] for r in got["issues"]} - {r["id"] for r in before["issues"]
                                                                    if r["id"] not in {w["id"] for w in want["issues"]}}
            if lost:
                problems.append(f"{len(lost)} issues the store held before are gone")
            if start == "full-over-complete" and got != before:
                problems.append("the store changed")
            # The next plain sync, without faults, converges to the clean sync.
            _sync(store, org, flavour, None, kind, full=False)
            if canonical(store) != want:
                problems.append("the next plain sync did not converge to a clean sync")
            trial.outcome = "WRONG: " + "; ".join(problems) if problems else "failed loudly"
            return trial
        trial.seconds = time.monotonic() - began
        got = canonical(store)
        if kind in MUST_FAIL:
            trial.outcome = f"WRONG: exit 0 although the server's {kind} fault was met"
        elif got == want:
            trial.outcome = "identical"
        else:
            trial.outcome = "WRONG: exit 0 but " + ("; ".join(_subset_problems(got, want))
                                                   or "the store differs from a clean sync (rows missing)")
    return trial


def clean_content(org_seed: int, issues: int, flavour: str, workdir: Path, week_on: bool = False
                  ) -> tuple[dict[str, Any], float]:
    """A clean full sync of the organisation (seed, size; a week on) into a new store: its content and time."""
    org = organisation(org_seed, issues, week_on=week_on)
    db = workdir / f"clean-{flavour}-{org_seed}-{issues}-{int(week_on)}.db"
    began = time.monotonic()
    with Store.open(f"sqlite:///{db}") as store:
        _sync(store, org, flavour, None, "clean", full=True)
        elapsed = time.monotonic() - began
        return canonical(store), elapsed
