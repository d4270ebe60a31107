"""The report pipeline: mapped issues → every view → workbook and charts → the week's snapshot.

:func:`build_views` is pure (frames in, frames out); :func:`write_outputs` is the only step
that writes files; :func:`run_portfolio` reads the store, maps the issues, runs both and
stores the as-of week's epic snapshot for next week's week-over-week view.

>>> # result = run_portfolio(Store.open(), load_config("mappings.yaml"), out_dir="outputs")
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Any

import pandas as pd

from rollup.config.models import ALLOCATION_WINDOW_DAYS, RollupConfig
from rollup.errors import EmptyStoreError, RollupError
from rollup.frames import SNAPSHOT_COLUMNS, Frames, load_frames
from rollup.jobs.forked import ForkedCall
from rollup.lint import history as lint_history
from rollup.lint.history import StoredRun
from rollup.lint.result import LintResult
from rollup.mapping import apply
from rollup.mapping.engine import CONFLICT_COLUMNS, RULE_COLUMNS, Mapped
from rollup.store import STATE_SERVER_BASE_URL, Store
from rollup.store.sites import JiraBase, links_for
from rollup.views import REGISTRY
from rollup.views import epics as epics_view
from rollup.views import forecast as forecast_view
from rollup.views._common import report_options, require_team
from rollup.views._lint import FINDING_COLUMNS, LintRun
from rollup.views.changes import is_past_week

#: Columns the views need from the mapped issues frame (checked before any view runs).
REQUIRED_COLUMNS = (
    "id", "key", "hierarchy_level", "status", "status_category", "assignee_name", "resolved", "story_points",
    "start_date", "target_date", "summary", "changelog_complete", "parent_key", "epic_key", "epic", "initiative",
    "pillar", "okr", "key_result", "bucket", "team_id",
)


@dataclass
class ReportResult:
    """What a report run produced."""

    workbook: Path
    charts: dict[str, list[Path]]
    views: dict[str, pd.DataFrame] = field(repr=False)
    snapshots_stored: int = 0

    @property
    def paths(self) -> list[Path]:
        """Every file written: the workbook first, then the charts."""
        return [self.workbook, *(p for paths in self.charts.values() for p in paths)]


def check_mapped(mapped_issues: pd.DataFrame) -> None:
    """The frame contract at the views' door: raise naming the missing columns."""
    missing = [c for c in REQUIRED_COLUMNS if c not in mapped_issues.columns]
    if missing:
        raise RollupError(
            f"the mapped issues frame lacks column(s) {', '.join(missing)}; the views need the columns listed "
            "in docs/architecture.md, 'Frames and mapping'"
        )


def filter_team(mapped_issues: pd.DataFrame, mappings: RollupConfig, team: str) -> tuple[pd.DataFrame, str]:
    """The rows of one team (by id or name) and its id; an unknown team is a ConfigError.

    Initiatives belong to no team: the initiatives above the team's epics are kept with its rows, so
    the Roadmap keeps their summaries and none of them reads as not visible.
    """
    team_id = require_team(team, mappings, mapped_issues)
    own = mapped_issues["team_id"].astype("object").eq(team_id)
    above = mapped_issues["hierarchy_level"].ge(2) & mapped_issues["key"].isin(mapped_issues.loc[own, "initiative"])
    return mapped_issues[own | above], team_id


def build_views(mapped_issues: pd.DataFrame, mappings: RollupConfig, *, as_of: date, lint: LintRun | None = None,
                lint_previous: LintRun | None = None, snapshots: Any = None, sync_runs: Any = None,
                now: datetime | None = None,
                scope_growth_threshold: float | None = None, allocation_window_days: int | None = None,
                team: str | None = None, transitions: pd.DataFrame | None = None) -> dict[str, pd.DataFrame]:
    """Run every view of :data:`rollup.views.REGISTRY` in order, each given exactly what it requires.

    ``lint``: the findings the hygiene score reads (:func:`lint_for_report`); without it the epics are
    linted here, from ``mapped_issues`` alone (no transitions, no mapping conflicts). ``lint_previous``:
    an earlier run, for each team's hygiene change. ``snapshots`` (stored epic snapshots), ``sync_runs``,
    ``now``, ``scope_growth_threshold``, ``allocation_window_days``: the other report
    inputs (:data:`rollup.views.registry.INPUTS`); ``team`` (a team report's team id, with ``mapped_issues``
    from :func:`filter_team`: the views that read more than the team's rows — OKRs, snapshots,
    sentences — keep to the team).
    """
    check_mapped(mapped_issues)
    if lint is None:
        lint = lint_mapped(as_mapped(mapped_issues), mappings, as_of=as_of)
    known: dict[str, Any] = {
        "snapshots": snapshots, "sync_runs": sync_runs, "now": now, "lint": lint,
        "lint_previous": lint_previous, "scope_growth_threshold": scope_growth_threshold,
        "allocation_window_days": allocation_window_days, "team": team, "transitions": transitions,
    }
    views: dict[str, pd.DataFrame] = {}
    for view in REGISTRY:
        views[view.name] = known[view.name] = view.compute(mapped_issues, mappings, as_of=as_of,
                                                           **{need: known[need] for need in view.requires})
    return views


def write_outputs(views: dict[str, pd.DataFrame], out_dir: str | Path, *, as_of: date, base_url: JiraBase | None,
                  team: str | None = None, title: str = "R&D portfolio",
                  allocation_window_days: int = ALLOCATION_WINDOW_DAYS) -> tuple[Path, dict[str, list[Path]]]:
    """The charts folder ``out_dir/charts`` (or ``charts-<team>``) and the workbook, as one set; their paths.

    Both are built in a staging folder and swapped in together (:func:`rollup.writers.safe.atomic_set`):
    a reader, or a report killed half way, never leaves this week's workbook beside last week's charts.
    """
    from rollup.writers import charts as charts_writer
    from rollup.writers.portfolio import WorkbookInfo, iso_week, write_portfolio
    from rollup.writers.safe import atomic_set

    out_dir = Path(out_dir)
    slug = _slug(team) if team else None
    chart_dir = f"charts-{slug}" if slug else "charts"
    name = f"team-{slug}-{iso_week(as_of)}.xlsx" if slug else f"portfolio-{iso_week(as_of)}.xlsx"
    info = WorkbookInfo(as_of=as_of, base_url=base_url, title=title, team=team,
                        allocation_window_days=allocation_window_days)
    with atomic_set(out_dir, name) as staging:
        staged = charts_writer.write_all(views, staging / chart_dir, as_of=as_of)
        write_portfolio(views, staging / name, info, staged)
    charts = {chart: [out_dir / path.relative_to(staging) for path in paths] for chart, paths in staged.items()}
    return out_dir / name, charts


# ---------------------------------------------------------------------------------------- lint


def as_mapped(mapped_issues: pd.DataFrame) -> Mapped:
    """Mapped issues without the mapping's conflicts and rule counts (what lint needs of a :class:`Mapped`)."""
    def none(columns: tuple[str, ...]) -> pd.DataFrame:
        return pd.DataFrame({c: pd.Series(dtype="object") for c in columns})

    return Mapped(issues=mapped_issues, conflicts=none(CONFLICT_COLUMNS), rules=none(RULE_COLUMNS))


def lint_mapped(mapped: Mapped, config: RollupConfig, *, as_of: date,
                transitions: pd.DataFrame | None = None, result: LintResult | None = None) -> LintRun:
    """Lint ``mapped`` now (pure; ``result``: linted already) and hand the findings over as the views read them."""
    from rollup.lint import run_lint

    if result is None:
        result = run_lint(mapped, config, as_of=as_of, transitions=transitions)
    return LintRun(label=f"lint run with this report, as of {as_of.isoformat()}", as_of=as_of,
                   findings=result.findings[list(FINDING_COLUMNS)], teams=result.teams[["team_id", "epics"]])


def stored_lint(run: StoredRun) -> LintRun:
    """A recorded lint run (:class:`rollup.lint.history.StoredRun`) as the views read it."""
    as_of = run.run["as_of"]
    return LintRun(label=f"lint run {run.id} of {as_of.isoformat()}", as_of=as_of,
                   findings=run.findings[list(FINDING_COLUMNS)], teams=run.teams[["team_id", "epics"]])


def lint_for_report(store: Store, config: RollupConfig, mapped_issues: pd.DataFrame, *, as_of: date,
                    mapped_store: MappedStore | None = None,
                    linted: Callable[[], LintResult] | None = None) -> LintRun:
    """The findings behind the report's hygiene score: the lint run of ``as_of``, or a run made now.

    The recorded run counts when it linted the same data under the same configuration (the store's
    latest sync, the same mappings.yaml: :func:`rollup.lint.history.run_for`). Otherwise the store is
    linted now, as ``rollup lint`` would (transitions and mapping conflicts included), without
    recording the run: from ``mapped_store`` when the caller has read the store already
    (:func:`read_mapped`), else read here; a store without issues (issues handed in already mapped)
    lints those. ``linted`` gives that lint of ``mapped_store`` made (or to be made) for other uses too
    (a job's lint step), so it is made once.
    """
    stored = lint_history.run_for(store, as_of=as_of, config=config)
    if stored is not None:
        return stored_lint(stored)
    if mapped_store is not None:
        return lint_mapped(mapped_store.mapped, config, as_of=as_of, transitions=mapped_store.transitions,
                           result=linted() if linted is not None else None)
    frames = load_frames(store)
    if frames.issues.empty:
        return lint_mapped(as_mapped(mapped_issues), config, as_of=as_of)
    return lint_mapped(apply(frames.issues, config), config, as_of=as_of, transitions=frames.transitions)


def previous_lint(store: Store, as_of: date) -> LintRun | None:
    """The lint run to compare this week's hygiene with (about a week earlier), or None."""
    run = lint_history.run_before(store, as_of)
    return stored_lint(run) if run is not None else None


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", str(text)).strip("-").lower() or "team"


# ---------------------------------------------------------------------------------------- store


def read_snapshots(store: Store) -> pd.DataFrame:
    """The stored weekly epic snapshots: week, as_of, run_id, taken_at, issue_id, key, payload."""
    return pd.DataFrame(store.snapshot_rows(), columns=list(SNAPSHOT_COLUMNS))


def store_snapshot(store: Store, epics: pd.DataFrame, sync_runs: list[dict[str, Any]], *, as_of: date,
                   now: datetime | None = None) -> tuple[int, int]:
    """Store ``epics`` as the snapshot of ``as_of``'s ISO week; return (sync run id, rows stored).

    The snapshot belongs to the report's week, not to the wall clock: re-running a week's report
    replaces that week's snapshot, and next week's report compares with it. It names the sync run
    whose data it holds (the latest) and is stamped with the time it was written.
    """
    last = sync_runs[-1] if sync_runs else None
    run_id = int(last["id"]) if last else 0
    taken_at = now or datetime.now(timezone.utc)
    return run_id, store.replace_snapshot(as_of, run_id, taken_at, epics_view.snapshot_payload(epics))


@dataclass(frozen=True)
class MappedStore:
    """The store read once and mapped (:func:`read_mapped`): what the views and the lint both read.

    ``mapped``: the mapped issues with the mapping's conflicts and rule counts; ``frames``: the store as
    read (:func:`rollup.frames.load_frames`; None when the issues were handed in already mapped).
    """

    mapped: Mapped
    frames: Frames | None = None

    @property
    def issues(self) -> pd.DataFrame:
        """The mapped issues frame the views read."""
        return self.mapped.issues

    @property
    def transitions(self) -> pd.DataFrame | None:
        """The issues' status and field changes, which the lint's rules on stale epics read (None: not known)."""
        return self.frames.transitions if self.frames is not None else None


def read_mapped(store: Store, mappings: RollupConfig) -> MappedStore:
    """Read the store into frames and apply the mapping rules, once; a store without issues is an EmptyStoreError."""
    frames = load_frames(store)
    if frames.issues.empty:
        raise EmptyStoreError(store.location)
    return MappedStore(mapped=apply(frames.issues, mappings), frames=frames)


def load_mapped(store: Store, mappings: RollupConfig) -> pd.DataFrame:
    """Read the store into frames and apply the mapping rules; a store without issues is an EmptyStoreError."""
    return read_mapped(store, mappings).issues


def _report_data(store: Store, mappings: RollupConfig, mapped_issues: pd.DataFrame | None,
                 mapped_store: MappedStore | None) -> tuple[pd.DataFrame, MappedStore | None]:
    """The issues a report reads and the store as read for its lint: each handed in, or read once here."""
    if mapped_issues is not None:
        return mapped_issues, mapped_store
    mapped_store = mapped_store if mapped_store is not None else read_mapped(store, mappings)
    return mapped_store.issues, mapped_store


def snapshot_week(store: Store, mappings: RollupConfig, *, as_of: date, mapped_issues: pd.DataFrame | None = None,
                  now: datetime | None = None, mapped_store: MappedStore | None = None) -> int:
    """Store the snapshot a portfolio report of ``as_of`` would store, without writing its workbook.

    For catching up on history (the demo's earlier weeks): the same epic view and the same rule
    as :func:`run_portfolio` — a past week is left as stored. The store is read once, for the epics
    and their lint alike; ``mapped_store`` and ``mapped_issues`` hand it in as for :func:`run_portfolio`.
    Returns the rows stored.
    """
    mapped, mapped_store = _report_data(store, mappings, mapped_issues, mapped_store)
    check_mapped(mapped)
    snaps = read_snapshots(store)
    if is_past_week(snaps, as_of=as_of):
        return 0
    # The same hygiene the weekly report would give the week: the lint run of ``as_of`` (or one made now).
    lint = lint_for_report(store, mappings, mapped, as_of=as_of, mapped_store=mapped_store)
    forecast = forecast_view.compute(mapped, mappings, as_of=as_of, snapshots=snaps)
    epics = epics_view.compute(mapped, mappings, as_of=as_of, lint=lint, forecast=forecast)
    return store_snapshot(store, epics, store.sync_run_rows(), as_of=as_of, now=now)[1]


@dataclass(frozen=True)
class ReportInputs:
    """What a report reads from the store besides its issues, read once for several reports of the same data."""

    sync_runs: list[dict[str, Any]]
    snapshots: pd.DataFrame
    base_url: JiraBase | None
    lint_previous: LintRun | None


def report_inputs(store: Store, *, as_of: date) -> ReportInputs:
    """The sync runs, weekly snapshots, site URL and last week's lint run a report of ``as_of`` reads."""
    return ReportInputs(sync_runs=store.sync_run_rows(), snapshots=read_snapshots(store),
                        base_url=links_for(store, STATE_SERVER_BASE_URL), lint_previous=previous_lint(store, as_of))


def run_portfolio(store: Store, mappings: RollupConfig, *, as_of: date | None = None, team: str | None = None,
                  out_dir: str | Path = "outputs", base_url: JiraBase | None = None,
                  mapped_issues: pd.DataFrame | None = None, now: datetime | None = None,
                  save_snapshot: bool = True, lint: LintRun | None = None,
                  mapped_store: MappedStore | None = None, inputs: ReportInputs | None = None) -> ReportResult:
    """The whole report: views first, then the writers, then (once the files exist) the week's snapshot.

    The snapshot is stored under the ISO week of ``as_of`` (replacing that week's, if any) unless a
    later week's snapshot exists: a past week's report reproduces its Changes and trend from the
    stored snapshots and changes none.

    ``team`` narrows every view to one team and names the workbook ``team-<id>-<week>.xlsx``
    (no snapshot is stored for a team report: snapshots cover the whole portfolio).
    ``base_url`` overrides ``sync_state['server.base_url']`` for links to Jira. A store that holds
    no issues is an :class:`~rollup.errors.EmptyStoreError` (exit code 2): nothing is written.
    The hygiene score reads the lint run of ``as_of`` (:func:`lint_for_report`; the whole portfolio is
    linted, a team report shows its own epics' part) and compares it with the run about a week earlier;
    ``lint`` hands in that run instead (e.g. one lint for several team reports of the same data).

    The store is read and mapped once (:func:`read_mapped`), for the views and, when no lint run of
    ``as_of`` is recorded, the lint made now. ``mapped_store`` hands in the store so read (several
    reports of the same data); ``mapped_issues`` hands in the issues already mapped instead; ``inputs``
    what else the report reads from the store (:func:`report_inputs`).
    """
    as_of = as_of or date.today()
    mapped, mapped_store = _report_data(store, mappings, mapped_issues, mapped_store)
    check_mapped(mapped)
    inputs = inputs if inputs is not None else report_inputs(store, as_of=as_of)
    sync_runs = inputs.sync_runs
    snaps = inputs.snapshots
    base_url = base_url or inputs.base_url
    team_id = None
    full = mapped
    if team:
        mapped, team_id = filter_team(mapped, mappings, team)
    options = report_options(mappings)
    lint = lint if lint is not None else lint_for_report(store, mappings, full, as_of=as_of,
                                                         mapped_store=mapped_store)
    views = build_views(mapped, mappings, as_of=as_of, snapshots=snaps, sync_runs=sync_runs,
                        now=now,
                        scope_growth_threshold=options.scope_growth_threshold,
                        allocation_window_days=options.allocation_window_days,
                        lint=lint, lint_previous=inputs.lint_previous, team=team_id,
                        transitions=mapped_store.transitions if mapped_store is not None else None)
    workbook, charts = write_outputs(views, out_dir, as_of=as_of, base_url=base_url, team=team_id,
                                     allocation_window_days=options.allocation_window_days)
    # Only once the files are written: a failed report must not move next week's baseline.
    stored = store_week(store, views, inputs, as_of=as_of, now=now) if save_snapshot and not team else 0
    return ReportResult(workbook=workbook, charts=charts, views=views, snapshots_stored=stored)


def store_week(store: Store, views: dict[str, pd.DataFrame], inputs: ReportInputs, *, as_of: date,
               now: datetime | None) -> int:
    """Store the week's epic snapshot from a written portfolio's views; how many rows were stored. A past week
    (a later week's snapshot is stored) is only read: its snapshot is history, and nothing is stored."""
    if is_past_week(inputs.snapshots, as_of=as_of):
        return 0
    return store_snapshot(store, views["epics"], inputs.sync_runs, as_of=as_of, now=now)[1]


@dataclass
class PendingReport:
    """The portfolio being written in a forked process (:func:`start_portfolio`)."""

    call: ForkedCall
    store: Store
    inputs: ReportInputs
    as_of: date
    now: datetime | None

    def result(self) -> ReportResult:
        """Wait for the workbook and charts, then store the week's snapshot here (the child never writes the store)."""
        result: ReportResult = self.call.result()
        stored = store_week(self.store, result.views, self.inputs, as_of=self.as_of, now=self.now)
        return ReportResult(workbook=result.workbook, charts=result.charts, views=result.views,
                            snapshots_stored=stored)

    def cancel(self) -> None:
        """Stop writing (the caller discards the folder); no snapshot is stored."""
        self.call.cancel()


def start_portfolio(store: Store, mappings: RollupConfig, *, as_of: date, out_dir: str | Path,
                    mapped_store: MappedStore, lint: LintRun, now: datetime | None = None) -> PendingReport:
    """:func:`run_portfolio` of the whole portfolio in a forked process, so this one can go on (a job's team
    workbooks meanwhile): the same views, files and snapshot. Everything it reads is read here first; call
    only where :func:`rollup.jobs.forked.can_fork`."""
    from functools import partial

    inputs = report_inputs(store, as_of=as_of)
    call = ForkedCall(partial(run_portfolio, store, mappings, as_of=as_of, out_dir=out_dir, now=now, lint=lint,
                              mapped_store=mapped_store, inputs=inputs, save_snapshot=False),
                      what="the portfolio workbook", store=store)
    return PendingReport(call=call, store=store, inputs=inputs, as_of=as_of, now=now)


# ---------------------------------------------------------------------------------------- team reports

#: The most team reports written at once, one process each (each renders its own charts and workbook).
TEAM_REPORT_PROCESSES = 4

#: What a forked team-report process reads: set in the parent just before the processes start.
_TEAM_JOB: dict[str, Any] = {}


def team_report_processes(teams: int) -> int:
    """How many processes write ``teams`` team reports: one per core, at most :data:`TEAM_REPORT_PROCESSES`.

    One (in this process) where processes cannot be forked safely: a platform without ``fork``, or a
    process running other threads (a scheduler's), which a fork would copy mid-flight.
    """
    import multiprocessing
    import os
    import threading

    if teams < 2 or "fork" not in multiprocessing.get_all_start_methods() or threading.active_count() > 1:
        return 1
    return max(1, min(teams, os.cpu_count() or 1, TEAM_REPORT_PROCESSES))


def run_team_reports(store: Store, mappings: RollupConfig, teams: list[str], *, as_of: date,
                     out_dir: str | Path, mapped_store: MappedStore, lint: LintRun, now: datetime | None = None,
                     processes: int | None = None) -> list[Path]:
    """One team workbook (and its charts) per team in ``teams``, several at once in forked processes.

    Everything the reports read — the store as read and mapped, the lint run, the sync runs, snapshots
    and last week's lint — is read here once; each process writes its teams' files (atomically, as
    every writer does) and reads nothing from the store. ``processes`` defaults to
    :func:`team_report_processes`. A team that fails does not stop the others: once all are done, the
    first failure (in ``teams`` order) is raised.
    """
    from concurrent.futures import ProcessPoolExecutor
    from multiprocessing import get_context

    inputs = report_inputs(store, as_of=as_of)
    options: dict[str, Any] = {"as_of": as_of, "out_dir": out_dir, "now": now, "lint": lint, "inputs": inputs,
                               "mapped_store": mapped_store, "save_snapshot": False}
    count = processes if processes is not None else team_report_processes(len(teams))
    if count <= 1:
        return [path for team in teams
                for path in run_portfolio(store, mappings, team=team, **options).paths]
    _TEAM_JOB.update(store=store, mappings=mappings, options=options)
    try:
        with ProcessPoolExecutor(max_workers=count, mp_context=get_context("fork")) as pool:
            calls = [pool.submit(_team_report_in_child, team) for team in teams]
            outcomes = [(call.result(), None) if call.exception() is None else ([], call.exception())
                        for call in calls]
    finally:
        _TEAM_JOB.clear()
    for _paths, error in outcomes:
        if error is not None:
            raise error
    return [path for paths, _ in outcomes for path in paths]


def _team_report_in_child(team: str) -> list[Path]:
    import pickle

    job = _TEAM_JOB
    try:
        return run_portfolio(job["store"], job["mappings"], team=team, **job["options"]).paths
    except Exception as exc:
        try:
            pickle.loads(pickle.dumps(exc))
        except Exception:  # noqa: BLE001 - an error that cannot travel back is sent as its message
            raise RollupError(f"team {team}: {exc}") from None
        raise
