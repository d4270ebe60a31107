"""``rollup demo``: the sample organisation, served by a local Jira, synced and reported.

No Jira account needed: :func:`run_demo` generates the sample organisation, starts the local
Jira on 127.0.0.1 (a random free port) inside this process, points a real
:class:`~connectors.jira.JiraConnector` at it with the local Jira's demo credentials, and lives
six weeks of it: each week it moves the local Jira's clock a week, syncs the scope of
``mappings.yaml`` into the store (``.rollup/rollup.db`` or ``ROLLUP_DATABASE_URL``) and stores
that week's portfolio snapshot. In the last week it lints the epics (the lint workbook, and the
run recorded so the portfolio's Data quality sheet shows each team's score) and writes the
portfolio workbook and charts, whose Changes sheet and trends come from those weeks; then it
stops the server.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any, Iterator
from urllib.parse import urlsplit

from rollup.config import RollupConfig
from rollup.errors import ConfigError
from rollup.jobs.lint import LintReport, run_lint_report
from rollup.jobs.report import ReportResult, read_mapped, run_portfolio, snapshot_week
from rollup.jobs.sync import SyncProgress, SyncResult, SyncScope, sync
from rollup.localjira.credentials import demo_environment
from rollup.localjira.render import CLOUD_FIELDS, DC_FIELDS
from rollup.localjira.sampledata import PROJECTS
from rollup.localjira.sampleorg import SampleOrg
from rollup.store import STATE_SERVER_BASE_URL, Store

#: The sample organisation's seed: the same seed always gives the same organisation.
DEMO_SEED = 7
#: The sample organisation's "today": the demo's last week, the as-of date of its workbook.
DEMO_NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
#: Weeks of history the demo lives through (the Changes sheet and the trend need at least two).
DEMO_WEEKS = 6
#: Every project of the sample organisation.
DEMO_PROJECTS = tuple(p.key for p in PROJECTS)
#: The sample organisation has two fields named "Team" (the real one and a legacy select);
#: configuration picks the real one, whose id differs per flavour.
DEMO_TEAM_FIELD = {"cloud": CLOUD_FIELDS["team"][0], "datacenter": DC_FIELDS["team"][0]}


@dataclass
class DemoResult:
    """What the demo synced and wrote, and where."""

    sync: SyncResult
    issues_in_org: int
    jira_url: str
    flavour: str
    report: ReportResult | None = None
    lint: LintReport | None = None
    #: Each week the demo lived, oldest first (``sync`` is the first week's, the full sync).
    weeks: list[Any] = field(default_factory=list)
    #: What the store holds once the weeks are lived (:meth:`rollup.store.Store.counts`), and where.
    store_counts: dict[str, int] = field(default_factory=dict)
    store: str = ""

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        out: dict[str, Any] = {"issues_in_org": self.issues_in_org, "jira_url": self.jira_url,
                               "flavour": self.flavour, "sync": self.sync.to_dict(),
                               "weeks": [w.to_dict() for w in self.weeks], "store": self.store,
                               "store_counts": self.store_counts}
        if self.report is not None:
            out["workbook"] = str(self.report.workbook)
            out["charts"] = [str(p) for p in self.report.paths[1:]]
        if self.lint is not None:
            out["lint_workbook"] = str(self.lint.workbook)
            out["lint"] = {"run_id": self.lint.run_id, "epics": self.lint.result.epics,
                           "findings": len(self.lint.result.findings)}
        return out


def demo_scope(flavour: str = "cloud", config: RollupConfig | None = None) -> SyncScope:
    """The sync scope: ``config``'s (``mappings.yaml``) or all sample projects, with the flavour's Team field."""
    if config is None:
        scope = SyncScope(jql=f"project in ({', '.join(DEMO_PROJECTS)})", extra_fields=["Investment"])
    else:
        scope = SyncScope.from_config(config)
    return replace(scope, field_overrides={**scope.field_overrides, "team": DEMO_TEAM_FIELD[flavour]})


def demo_settings(url: str, flavour: str):
    """Connector settings for the local Jira with its demo credentials (the ``JIRA_*`` variables it prints)."""
    from connectors.jira import JiraSettings

    return JiraSettings.from_env(demo_environment(url, flavour), use_keyring=False)


@contextmanager
def local_jira(org: Any, flavour: str = "cloud", **options: Any) -> Iterator[Any]:
    """A running :class:`~rollup.localjira.server.LocalJira` for ``org`` that requires the demo credentials.

    ``options`` go to :class:`~rollup.localjira.server.LocalJira` (``faults``, …).
    """
    from rollup.localjira.server import LocalJira

    with LocalJira(org, flavour=flavour, **options) as server:
        yield server


def sync_sample_org(store: Store, org: Any, flavour: str = "cloud", *, config: RollupConfig | None = None,
                    max_workers: int = 8, **sync_options: Any) -> SyncResult:
    """Serve ``org`` on a local Jira of ``flavour`` for the length of one real sync into ``store``.

    ``sync_options`` go to :func:`rollup.jobs.sync.sync` (``full``, ``progress``, …).
    """
    from connectors.jira import JiraConnector

    with local_jira(org, flavour) as server:
        with JiraConnector(demo_settings(server.url, flavour), max_workers=max_workers) as connector:
            return sync(store, connector, demo_scope(flavour, config), **sync_options)


def sync_demo_org(store: Store, config: RollupConfig | None = None, *, issues: int = 3000, flavour: str = "cloud",
                  seed: int = DEMO_SEED, **sync_options: Any) -> SyncResult:
    """Generate the sample organisation (``seed``, ``issues``) and sync it into ``store`` from a local Jira.

    What ``step: sync`` with ``source: local-demo`` runs; ``sync_options`` as :func:`sync_sample_org`.
    """
    org = SampleOrg.generate(seed=seed, issues=issues)
    return sync_sample_org(store, org, flavour, config=config, **sync_options)


@dataclass
class DemoWeek:
    """One week of the demo's history: its as-of date, its sync and what changed in Jira."""

    as_of: date
    sync: SyncResult
    epic_changes: dict[str, list[Any]] = field(default_factory=dict)
    snapshot: int = 0

    @property
    def week(self) -> str:
        """``2026-W48``."""
        year, week, _ = self.as_of.isocalendar()
        return f"{year}-W{week:02d}"

    def line(self) -> str:
        """One progress line: the week, what the sync read, what the epics' owners did."""
        moved = sum(len(v) for v in self.epic_changes.values())
        what = f"{self.sync.mode} sync: {self.sync.new} new, {self.sync.changed} changed, {self.sync.deleted} deleted"
        edits = f"; {moved} epic edits in Jira" if self.epic_changes else ""
        return f"week {self.week} (as of {self.as_of.isoformat()}): {what}{edits}; snapshot of {self.snapshot} epics"

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return {"week": self.week, "as_of": self.as_of.isoformat(), "sync": self.sync.to_dict(),
                "epic_changes": self.epic_changes, "snapshot": self.snapshot}


def run_demo(
    config: RollupConfig | None = None,
    database_url: str | None = None,
    *,
    seed: int = DEMO_SEED,
    issues: int = 3000,
    flavour: str = "cloud",
    out_dir: str | Path = "outputs",
    weeks: int = DEMO_WEEKS,
    progress: Callable[[SyncProgress], None] | None = None,
    on_week: Callable[[DemoWeek], None] | None = None,
    write_portfolio: bool = True,
) -> DemoResult:
    """Generate the sample organisation, serve it locally, and live ``weeks`` weeks of it up to its "today".

    The organisation is generated ``weeks - 1`` weeks before :data:`DEMO_NOW`; the first week is a
    full sync, and each later one moves the local Jira's clock a week (:meth:`SampleOrg.advance`:
    the teams' work; :meth:`SampleOrg.plan_week`: the epics' owners' edits) and syncs what changed.
    Given ``config``, every week stores its portfolio snapshot under its as-of date (the weekly
    report's rule, :func:`rollup.jobs.report.snapshot_week`), and the last week — :data:`DEMO_NOW`, so
    the demo reads the same on any day — writes the lint and portfolio workbooks, whose Changes
    sheet and trend come from that history. ``on_week`` hears of each week as it is done.

    ``write_portfolio=False`` stores the last week's snapshot like the others and writes no portfolio
    workbook: for a caller that has the weekly job write it (``rollup demo --schedules``).
    """
    from connectors.jira import JiraConnector

    weeks = max(1, int(weeks))
    org = SampleOrg.generate(seed=seed, issues=issues, now=DEMO_NOW - timedelta(days=7 * (weeks - 1)))
    history: list[DemoWeek] = []
    with local_jira(org, flavour) as server:
        with Store.open(database_url) as store, JiraConnector(demo_settings(server.url, flavour)) as connector:
            start_afresh(store)
            # A demo week is a week of the local Jira's clock but seconds of the wall clock's: the
            # deletion sweep (daily by default) runs every week, so issues deleted in Jira leave the store.
            scope = replace(demo_scope(flavour, config), deletion_sweep_every=timedelta(0))
            report = lint = None
            for week in range(weeks):
                changes: dict[str, list[Any]] = {}
                if week:
                    org.advance(days=7)
                    changes = org.plan_week()
                result = sync(store, connector, scope, full=week == 0, progress=progress)
                done = DemoWeek(as_of=org.now.date(), sync=result, epic_changes=changes)
                if config is not None and week < weeks - 1:
                    done.snapshot = snapshot_week(store, config, as_of=done.as_of)
                elif config is not None:
                    # Lint first: the portfolio's Data quality sheet shows the latest recorded lint run.
                    # One read of the store serves the lint and the week's report.
                    data = read_mapped(store, config)
                    lint = run_lint_report(store, config, out_dir=out_dir, as_of=done.as_of, dry_run=False,
                                           frames=data.frames)
                    if write_portfolio:
                        report = run_portfolio(store, config, as_of=done.as_of, out_dir=out_dir, mapped_store=data)
                        done.snapshot = report.snapshots_stored
                    else:
                        done.snapshot = snapshot_week(store, config, as_of=done.as_of, mapped_store=data)
                history.append(done)
                if on_week is not None:
                    on_week(done)
            counts, location = store.counts(), store.location
    return DemoResult(sync=history[0].sync, issues_in_org=live_issue_count(org), jira_url=server.url,
                      flavour=flavour, report=report, lint=lint, weeks=history, store_counts=counts,
                      store=location)


def start_afresh(store: Store) -> None:
    """Empty a store that holds an earlier demo's data (or nothing), so the weeks are lived from the first.

    A store synced from any other Jira than a local one is refused: the demo never touches real data.
    """
    source = store.get_state(STATE_SERVER_BASE_URL)
    if source and urlsplit(source).hostname not in ("127.0.0.1", "localhost"):
        raise ConfigError(
            f"the store at {store.location} holds data synced from {source}; the demo replays its sample "
            "organisation's weeks from an empty store and will not touch it: point ROLLUP_DATABASE_URL at "
            "a store of its own (e.g. sqlite:///.rollup/demo.db)")
    store.forget_synced_data()


def live_issue_count(org: Any) -> int:
    """Issues of the sample organisation that exist now (deleted ones excluded)."""
    return sum(1 for pos in range(org.size) if org.live(pos))
