"""The report pipeline: mapped issues → every view → workbook and charts → the week's snapshot.

:func:`build_views` is pure (frames in, frames out); :func:`write_outputs` is the only step
that writes files; :func:`run_portfolio` reads the store, maps the issues, runs both and
stores the as-of week's epic snapshot for next week's week-over-week view.

>>> # result = run_portfolio(Store.open(), load_config("mappings.yaml"), out_dir="outputs")
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Any

import pandas as pd

from rollup.config import ReportOptions
from rollup.errors import ConfigError, EmptyStoreError, RollupError
from rollup.frames import SNAPSHOT_COLUMNS, load_frames
from rollup.lint.history import latest_run
from rollup.mapping import apply
from rollup.store import STATE_SERVER_BASE_URL
from rollup.views import MODULES, ORDER
from rollup.views import epics as epics_view
from rollup.views.changes import is_past_week
from rollup.views.teams import resolve_team

#: Columns the views need from the mapped issues frame (checked before any view runs).
REQUIRED_COLUMNS = (
    "id", "key", "hierarchy_level", "status", "status_category", "assignee_name", "resolved", "story_points",
    "start_date", "target_date", "summary", "changelog_complete", "epic", "initiative", "pillar", "okr",
    "key_result", "bucket", "team_id",
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


def filter_team(mapped_issues: pd.DataFrame, mappings: Any, team: str) -> tuple[pd.DataFrame, str]:
    """The rows of one team (by id or name) and its id; an unknown team is a ConfigError."""
    team_id = resolve_team(team, mappings, mapped_issues)
    if team_id is None:
        known = sorted({str(t) for t in mapped_issues["team_id"].dropna().unique()})
        raise ConfigError(f"unknown team {team!r}; known teams: {', '.join(known) or 'none mapped'}")
    return mapped_issues[mapped_issues["team_id"].astype("object") == team_id], team_id


def build_views(mapped_issues: pd.DataFrame, mappings: Any, *, as_of: date, **ctx: Any) -> dict[str, pd.DataFrame]:
    """Run every view in :data:`rollup.views.ORDER`; each later view sees the earlier ones in ctx.

    ctx: ``snapshots`` (stored epic snapshots), ``sync_runs``, ``current_run_id``, ``now``,
    ``scope_growth_threshold``, ``allocation_window_days``.
    """
    check_mapped(mapped_issues)
    views: dict[str, pd.DataFrame] = {}
    for name in ORDER:
        views[name] = MODULES[name].compute(mapped_issues, mappings, as_of=as_of, **ctx, **views)
    return views


def write_outputs(views: dict[str, pd.DataFrame], out_dir: str | Path, *, as_of: date, base_url: str | None,
                  team: str | None = None, title: str = "R&D portfolio",
                  allocation_window_days: int = 91, lint: Any = None) -> tuple[Path, dict[str, list[Path]]]:
    """The charts folder ``out_dir/charts`` (or ``charts-<team>``) and the workbook, as one set; their paths.

    Both are built in a staging folder and swapped in together (:func:`rollup.writers.safe.atomic_set`):
    a reader, or a report killed half way, never leaves this week's workbook beside last week's charts.
    ``lint``: the latest stored lint run (:func:`rollup.lint.history.latest_run`) for the Data quality sheet.
    """
    from rollup.writers import charts as charts_writer
    from rollup.writers.portfolio import WorkbookInfo, iso_week, write_portfolio
    from rollup.writers.safe import atomic_set

    out_dir = Path(out_dir)
    slug = _slug(team) if team else None
    chart_dir = f"charts-{slug}" if slug else "charts"
    name = f"team-{slug}-{iso_week(as_of)}.xlsx" if slug else f"portfolio-{iso_week(as_of)}.xlsx"
    info = WorkbookInfo(as_of=as_of, base_url=base_url, title=title, team=team,
                        allocation_window_days=allocation_window_days, lint=lint)
    with atomic_set(out_dir, name) as staging:
        staged = charts_writer.write_all(views, staging / chart_dir, as_of=as_of)
        write_portfolio(views, staging / name, info, staged)
    charts = {chart: [out_dir / path.relative_to(staging) for path in paths] for chart, paths in staged.items()}
    return out_dir / name, charts


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", str(text)).strip("-").lower() or "team"


# ---------------------------------------------------------------------------------------- store


def read_snapshots(store: Any) -> pd.DataFrame:
    """The stored weekly epic snapshots: week, as_of, run_id, taken_at, issue_id, key, payload."""
    return pd.DataFrame(store.snapshot_rows(), columns=list(SNAPSHOT_COLUMNS))


def store_snapshot(store: Any, epics: pd.DataFrame, sync_runs: list[dict[str, Any]], *, as_of: date,
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


def load_mapped(store: Any, mappings: Any) -> pd.DataFrame:
    """Read the store into frames and apply the mapping rules; a store without issues is an EmptyStoreError."""
    issues = load_frames(store).issues
    if issues.empty:
        raise EmptyStoreError(store.location)
    return apply(issues, mappings).issues


def snapshot_week(store: Any, mappings: Any, *, as_of: date, mapped_issues: pd.DataFrame | None = None,
                  now: datetime | None = None) -> int:
    """Store the snapshot a portfolio report of ``as_of`` would store, without writing its workbook.

    For catching up on history (the demo's earlier weeks): the same epic view and the same rule
    as :func:`run_portfolio` — a past week is left as stored. Returns the rows stored.
    """
    mapped = load_mapped(store, mappings) if mapped_issues is None else mapped_issues
    check_mapped(mapped)
    if is_past_week(read_snapshots(store), as_of=as_of):
        return 0
    epics = epics_view.compute(mapped, mappings, as_of=as_of)
    return store_snapshot(store, epics, store.sync_run_rows(), as_of=as_of, now=now)[1]


def run_portfolio(store: Any, mappings: Any, *, as_of: date | None = None, team: str | None = None,
                  out_dir: str | Path = "outputs", base_url: str | None = None,
                  mapped_issues: pd.DataFrame | None = None, now: datetime | None = None,
                  save_snapshot: bool = True) -> ReportResult:
    """The whole report: views first, then the writers, then (once the files exist) the week's snapshot.

    The snapshot is stored under the ISO week of ``as_of`` (replacing that week's, if any) unless a
    later week's snapshot exists: a past week's report reproduces its Changes and trend from the
    stored snapshots and changes none.

    ``team`` narrows every view to one team and names the workbook ``team-<id>-<week>.xlsx``
    (no snapshot is stored for a team report: snapshots cover the whole portfolio).
    ``base_url`` overrides ``sync_state['server.base_url']`` for links to Jira. A store that holds
    no issues is an :class:`~rollup.errors.EmptyStoreError` (exit code 2): nothing is written.
    """
    as_of = as_of or date.today()
    mapped = load_mapped(store, mappings) if mapped_issues is None else mapped_issues
    check_mapped(mapped)
    sync_runs = store.sync_run_rows()
    snaps = read_snapshots(store)
    base_url = base_url or store.get_state(STATE_SERVER_BASE_URL)
    current_run = int(sync_runs[-1]["id"]) if sync_runs else 0
    team_id = None
    if team:
        mapped, team_id = filter_team(mapped, mappings, team)
    options = getattr(mappings, "report", None) or ReportOptions()
    views = build_views(mapped, mappings, as_of=as_of, snapshots=snaps, sync_runs=sync_runs,
                        current_run_id=current_run, now=now,
                        scope_growth_threshold=options.scope_growth_threshold,
                        allocation_window_days=options.allocation_window_days)
    workbook, charts = write_outputs(views, out_dir, as_of=as_of, base_url=base_url, team=team_id,
                                     allocation_window_days=options.allocation_window_days,
                                     lint=latest_run(store))
    # Only once the files are written: a failed report must not move next week's baseline. A past
    # week (a later week's snapshot is stored) is only read: its snapshot is history.
    stored = 0
    if save_snapshot and not team and not is_past_week(snaps, as_of=as_of):
        _, stored = store_snapshot(store, views["epics"], sync_runs, as_of=as_of, now=now)
    return ReportResult(workbook=workbook, charts=charts, views=views, snapshots_stored=stored)
