"""``rollup demo``: the sample organisation, served by a local Jira, synced and reported.

No Jira account needed: :func:`run_demo` generates the sample organisation, starts the local
Jira on 127.0.0.1 (a random free port) inside this process, points a real
:class:`~connectors.jira.JiraConnector` at it with the local Jira's demo credentials, syncs the
scope of ``mappings.yaml`` into the store (``.rollup/rollup.db`` or ``ROLLUP_DATABASE_URL``),
lints the epics (the lint workbook, and the run recorded so the portfolio's Data quality sheet
shows each team's score), writes the portfolio workbook and charts, and stops the server.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Iterator

from rollup.config import RollupConfig
from rollup.lint.job import LintReport, run_lint_report
from rollup.localjira.credentials import demo_environment
from rollup.localjira.render import CLOUD_FIELDS, DC_FIELDS
from rollup.localjira.sampleorg import PROJECTS, SampleOrg
from rollup.report import ReportResult, run_portfolio
from rollup.store import Store
from rollup.sync import SyncProgress, SyncResult, SyncScope, sync

#: The sample organisation's seed: the same seed always gives the same organisation.
DEMO_SEED = 7
#: Every project of the sample organisation.
DEMO_PROJECTS = tuple(key for key, _name, _tagging in PROJECTS)
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

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        out: dict[str, Any] = {"issues_in_org": self.issues_in_org, "jira_url": self.jira_url,
                               "flavour": self.flavour, "sync": self.sync.to_dict()}
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

    ``sync_options`` go to :func:`rollup.sync.sync` (``full``, ``progress``, …).
    """
    from connectors.jira import JiraConnector

    with local_jira(org, flavour) as server:
        with JiraConnector(demo_settings(server.url, flavour), max_workers=max_workers) as connector:
            return sync(store, connector, demo_scope(flavour, config), **sync_options)


def run_demo(
    config: RollupConfig | None = None,
    database_url: str | None = None,
    *,
    seed: int = DEMO_SEED,
    issues: int = 3000,
    flavour: str = "cloud",
    out_dir: str | Path = "outputs",
    progress: Callable[[SyncProgress], None] | None = None,
) -> DemoResult:
    """Generate the sample organisation, serve it locally, sync it, and (given ``config``) write the workbook.

    The workbook is dated by the sample organisation's own "now", so the demo reads the same on any day.
    """
    from connectors.jira import JiraConnector

    org = SampleOrg.generate(seed=seed, issues=issues)
    with local_jira(org, flavour) as server:
        with Store.open(database_url) as store, JiraConnector(demo_settings(server.url, flavour)) as connector:
            result = sync(store, connector, demo_scope(flavour, config), full=True, progress=progress)
            report = lint = None
            if config is not None:
                # Lint first: the portfolio's Data quality sheet shows the latest recorded lint run.
                lint = run_lint_report(store, config, out_dir=out_dir, as_of=org.now.date(), dry_run=False)
                report = run_portfolio(store, config, as_of=org.now.date(), out_dir=out_dir)
    return DemoResult(sync=result, issues_in_org=live_issue_count(org), jira_url=server.url, flavour=flavour,
                      report=report, lint=lint)


def live_issue_count(org: Any) -> int:
    """Issues of the sample organisation that exist now (deleted ones excluded)."""
    return sum(1 for pos in range(org.size) if org.live(pos))
