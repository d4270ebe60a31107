"""The steps a job can run, one class each, listed in :data:`STEPS` (the step registry).

A step declares, as class attributes, its ``name`` (what ``schedules/*.yaml`` writes after
``step:``), whether it ``reads_store`` (so the job syncs first when the data is older than
``max_data_age``) and its ``Params`` model (the step's keys in the YAML, validated with
``extra="forbid"`` like every other model). ``run(ctx, params)`` does the work through the same
library functions the CLI commands call, writes only under ``ctx.out_dir`` (a folder of its own
that the runner publishes once the step has finished) and returns a :class:`StepOutcome`.

Steps whose library lives in another package (``lint``, ``finance``, ``export``) import it when they run,
so a schedule that does not use them never needs them.
"""

from __future__ import annotations

import calendar
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from rollup.errors import RollupError
from rollup.schedule.values import Duration, format_duration

if TYPE_CHECKING:  # pragma: no cover

    from rollup.config import RollupConfig
    from rollup.jobs.report import MappedStore
    from rollup.lint.result import LintResult
    from rollup.schedule.models import Job
    from rollup.store import Store
    from rollup.views._lint import LintRun


class StepError(RollupError):
    """A step could not do its work; the message says why and what to do."""


@dataclass
class StepContext:
    """What a step gets: the job, the parsed mappings.yaml, the open store, its own output folder."""

    job: Job
    config: RollupConfig
    store: Store
    out_dir: Path
    as_of: date
    now: datetime
    database_url: str | None = None
    log: logging.Logger = field(default_factory=lambda: logging.getLogger("rollup.schedule"))
    _mapped: MappedStore | None = field(default=None, repr=False)
    _lint: LintRun | None = field(default=None, repr=False)
    _linted: LintResult | None = field(default=None, repr=False)
    #: The views of the portfolio a portfolio step of this job wrote (for the job's as-of date, from the store as
    #: read then), for a later step that reports the same figures (the BI feed's forecast and effort).
    portfolio_views: dict[str, Any] | None = field(default=None, repr=False)
    #: Set by the runner: the step may leave its work running in another process and return a pending
    #: outcome (:attr:`StepOutcome.pending`), because the next step can run meanwhile (:attr:`Step.runs_beside`).
    may_defer: bool = False

    def mapped_store(self) -> MappedStore:
        """The store read and mapped once per job (until a sync changes it), for every report step."""
        if self._mapped is None:
            from rollup.jobs.report import read_mapped

            self._mapped = read_mapped(self.store, self.config)
        return self._mapped

    def report_lint(self) -> LintRun:
        """The findings behind the report steps' hygiene score: one lint of the portfolio per job (until a sync
        changes the store), read by the portfolio and every team workbook alike."""
        if self._lint is None:
            from rollup.jobs.report import lint_for_report

            data = self.mapped_store()
            self._lint = lint_for_report(self.store, self.config, data.issues, as_of=self.as_of, mapped_store=data,
                                         linted=self.linted)
        return self._lint

    def linted(self) -> LintResult:
        """The whole store linted as ``rollup lint`` lints it, once per job (until a sync changes the store):
        what the report steps' hygiene reads when no run of the day is recorded, and what the lint step writes."""
        if self._linted is None:
            from rollup.jobs.lint import lint_store

            self._linted = lint_store(self.store, self.config, self.mapped_store(), as_of=self.as_of)
        return self._linted

    def store_changed(self) -> None:
        """Forget what was read from the store (a sync wrote to it)."""
        self._mapped = None
        self._lint = None
        self._linted = None
        self.portfolio_views = None


@dataclass
class StepOutcome:
    """What a step did: the files it wrote (under its ``out_dir``), a one-line summary, ok or skipped."""

    paths: list[Path]
    summary: str
    status: Literal["ok", "skipped"] = "ok"
    #: What delivery may tell the reader, JSON-ready and kept in the run history: the portfolio step's
    #: ``headline`` (the headline view's rows: label, value, kind, detail) and ``insights`` (sentences).
    facts: dict[str, Any] = field(default_factory=dict)
    #: Work still under way in another process: the runner lets the next steps run, then waits for it
    #: (:meth:`Pending.wait` gives the step's real outcome or raises its error).
    pending: Pending | None = None


@dataclass
class Pending:
    """A step's work left running: ``wait()`` → its :class:`StepOutcome` (or its error); ``cancel()`` ends it."""

    wait: Callable[[], StepOutcome]
    cancel: Callable[[], None]


class StepParams(BaseModel):
    """Keys every step takes."""

    model_config = ConfigDict(extra="forbid")

    if TYPE_CHECKING:
        #: Which step: each step's own keys declare it as the one ``Literal`` its name is.
        step: str

    on_failure: Literal["stop", "continue"] = Field(
        "stop",
        description="`stop`: a failure skips the remaining steps, the run is `failed` and nothing is "
                    "delivered. `continue`: the next steps run, the run is `partial`, and what was "
                    "written is published and delivered with the failure named.")


class Step:
    """Base of every step: subclasses set the class attributes and implement :meth:`run`."""

    #: The name ``schedules/*.yaml`` uses after ``step:``.
    name: ClassVar[str]
    #: The step reads the store, so the data should be fresh (the job syncs first when it is not).
    reads_store: ClassVar[bool] = True
    #: The step's keys in the YAML.
    Params: ClassVar[type[StepParams]]
    #: The step may run while an earlier step's work is still under way in another process: it reads only what
    #: the job has read already and writes only its own folder (and its own rows).
    runs_beside: ClassVar[bool] = False

    @classmethod
    def run(cls, ctx: StepContext, params: Any) -> StepOutcome:  # pragma: no cover - abstract
        """Carry out the step for one run and say what it wrote."""
        raise NotImplementedError


# ---------------------------------------------------------------------------------------- sync


class SyncParams(StepParams):
    """``step: sync`` — bring the store up to date with Jira (JIRA_* variables, as ``rollup sync``)."""

    step: Literal["sync"]
    source: Literal["jira", "local-demo"] = Field(
        "jira", description="`jira`: the site in JIRA_URL. `local-demo`: the built-in local Jira serving "
                            "the sample organisation (demos and tests; no account needed).")
    full: bool = Field(False, description="Re-read the whole scope and sweep for deleted issues.")
    max_age: Duration | None = Field(
        None, description="Skip the sync when the last successful one finished less than this long ago; "
                          "default: the job's `max_data_age`; `0s` always syncs.")
    issues: int = Field(3000, ge=300, description="`local-demo` only: size of the sample organisation.")
    flavour: Literal["cloud", "datacenter"] = Field("cloud", description="`local-demo` only: which Jira to imitate.")


def last_successful_sync(store: Store) -> datetime | None:
    """When the last sync that ended ``ok`` finished (aware UTC), or None; with several sites, the oldest of
    each site's last one (a site that keeps failing does not hide behind another's fresh data)."""
    from rollup.store.sites import last_ok_finished

    return last_ok_finished(store.sync_run_rows(), latest=True)


class SyncStep(Step):
    """Sync Jira into the store, unless the data is newer than the configured age."""

    name = "sync"
    reads_store = False
    Params = SyncParams

    @classmethod
    def run(cls, ctx: StepContext, params: SyncParams) -> StepOutcome:
        """Sync the store unless its last successful sync is newer than the step's or job's maximum age."""
        limit = params.max_age if params.max_age is not None else ctx.job.max_data_age
        last = last_successful_sync(ctx.store)
        if not params.full and limit is not None and last is not None:
            age = ctx.now - last
            if age < limit:
                return StepOutcome([], f"data synced {format_duration(_round(age))} ago, newer than "
                                       f"{format_duration(limit)}: not synced", status="skipped")
        if params.source == "local-demo":
            result = _sync_local_demo(ctx, params)
        else:
            from rollup.jobs.sync import run_sync

            result = run_sync(ctx.config, database_url=ctx.database_url, full=params.full)
        ctx.store_changed()
        return StepOutcome([], f"{result.mode} sync: {result.new} new, {result.changed} changed, "
                               f"{result.deleted} deleted issues, {result.requests} requests")


def _round(age: timedelta) -> timedelta:
    return timedelta(seconds=max(int(age.total_seconds()), 1))


def _sync_local_demo(ctx: StepContext, params: SyncParams) -> Any:
    from rollup.jobs.demo import sync_demo_org

    return sync_demo_org(ctx.store, ctx.config, issues=params.issues, flavour=params.flavour, full=params.full)


# ---------------------------------------------------------------------------------------- reports


class PortfolioParams(StepParams):
    """``step: portfolio`` — the weekly portfolio workbook and its charts, as ``rollup report portfolio``."""

    step: Literal["portfolio"]


class PortfolioStep(Step):
    """The portfolio workbook ``portfolio-<ISO week>.xlsx`` and its charts."""

    name = "portfolio"
    Params = PortfolioParams

    @classmethod
    def run(cls, ctx: StepContext, params: PortfolioParams) -> StepOutcome:
        """Write the portfolio workbook and its charts for the run's as-of date."""
        from rollup.jobs.report import ReportResult, run_portfolio, start_portfolio

        def outcome(result: ReportResult) -> StepOutcome:
            ctx.portfolio_views = result.views
            return StepOutcome(result.paths, f"{result.workbook.name} and {len(result.paths) - 1} chart files",
                               facts=report_facts(result.views))

        if ctx.may_defer:
            # Written in a process of its own while the next steps (team workbooks, lint) use the other cores.
            pending = start_portfolio(ctx.store, ctx.config, as_of=ctx.as_of, out_dir=ctx.out_dir,
                                      mapped_store=ctx.mapped_store(), lint=ctx.report_lint(), now=ctx.now)
            return StepOutcome([], "", pending=Pending(wait=lambda: outcome(pending.result()), cancel=pending.cancel))
        return outcome(run_portfolio(ctx.store, ctx.config, as_of=ctx.as_of, out_dir=ctx.out_dir,
                                     mapped_store=ctx.mapped_store(), lint=ctx.report_lint(), now=ctx.now))


def report_facts(views: dict[str, Any]) -> dict[str, Any]:
    """The report's figures for the email, as computed by its views (nothing is computed here).

    ``headline``: the headline view's rows. ``insights``: the ``sentence`` column of an ``insights``
    view when the report has one — sentences that lead the email.
    """
    import pandas as pd

    headline = views.get("headline")
    rows = [] if headline is None else [
        {"measure": str(r["measure"]), "label": str(r["label"]), "kind": str(r["kind"]),
         "value": None if pd.isna(r["value"]) else float(r["value"]), "detail": str(r["detail"] or "")}
        for r in headline.to_dict(orient="records")]
    insights = views.get("insights")
    sentences = [] if insights is None or "sentence" not in insights else [str(t) for t in insights["sentence"]]
    return {"headline": rows, "insights": sentences}


class TeamReportsParams(StepParams):
    """``step: team_reports`` — one workbook per team, as ``rollup report team``."""

    step: Literal["team_reports"]
    teams: Literal["all"] | list[str] = Field(
        "all", description="`all` (every team in mappings.yaml) or a list of team ids.")


class TeamReportsStep(Step):
    """``team-<id>-<ISO week>.xlsx`` for each team, with its charts in ``charts-<id>/``."""

    name = "team_reports"
    Params = TeamReportsParams
    runs_beside = True

    @classmethod
    def run(cls, ctx: StepContext, params: TeamReportsParams) -> StepOutcome:
        """Write one team workbook per team, all from a single lint of the portfolio."""
        from rollup.jobs.report import run_team_reports

        teams = team_ids(params, ctx.config)
        # One lint of the whole portfolio for every team's report (the portfolio's own): each shows its epics' part.
        paths = run_team_reports(ctx.store, ctx.config, teams, as_of=ctx.as_of, out_dir=ctx.out_dir,
                                 mapped_store=ctx.mapped_store(), lint=ctx.report_lint(), now=ctx.now)
        return StepOutcome(paths, f"{len(teams)} team workbook{'' if len(teams) == 1 else 's'}")


def team_ids(params: TeamReportsParams, config: RollupConfig) -> list[str]:
    """The team ids a team_reports step writes."""
    return [t.id for t in config.teams] if params.teams == "all" else list(params.teams)


# ---------------------------------------------------------------------------------------- lint


LintFormat = Literal["xlsx", "json", "csv", "text"]


def _workbook_only() -> list[LintFormat]:
    return ["xlsx"]


class LintParams(StepParams):
    """``step: lint`` — the epic-quality lint report, as ``rollup lint`` (``rollup.jobs.lint.run_lint_report``)."""

    step: Literal["lint"]
    formats: list[LintFormat] = Field(
        default_factory=_workbook_only, min_length=1, description="Files to write: `xlsx`, `json`, `csv`, `text`.")


class LintStep(Step):
    """The epic-quality lint report, by team and owner; the run is recorded for the trend.

    Nothing is written back to Jira from a scheduled job (``rollup lint --apply`` does that).
    """

    name = "lint"
    Params = LintParams
    runs_beside = True

    @classmethod
    def run(cls, ctx: StepContext, params: LintParams) -> StepOutcome:
        """Lint the store's epics and write the lint outputs in the step's formats."""
        run_lint_report = _import("rollup.jobs.lint", "run_lint_report", cls.name)
        # The store as the job's report steps read and mapped it: not read again.
        report = run_lint_report(ctx.store, ctx.config, out_dir=ctx.out_dir, as_of=ctx.as_of,
                                 formats=tuple(params.formats), apply=False, dry_run=False, now=ctx.now,
                                 mapped_store=ctx.mapped_store(), result=ctx.linted())
        paths = [Path(p) for p in report.paths]
        findings = len(report.result.findings)
        return StepOutcome(paths, f"{findings} findings on {report.result.epics} epics; {paths[0].name}"
                           if paths else f"{findings} findings on {report.result.epics} epics")


# ---------------------------------------------------------------------------------------- finance

_MONTH = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")


class FinanceParams(StepParams):
    """``step: finance`` — the monthly allocation export (``rollup.jobs.finance.run_export``)."""

    step: Literal["finance"]
    month: str = Field("previous", description="`previous` (the month before the run), `current`, or `YYYY-MM`.")
    rates: str | None = Field(None, description="The rates CSV (default: ROLLUP_RATES or finance.rates_file).")

    @field_validator("month", mode="before")
    @classmethod
    def _month(cls, value: Any) -> Any:
        if value in ("previous", "current") or (isinstance(value, str) and _MONTH.match(value)):
            return value
        raise ValueError(f"{value!r} is not a month: write previous, current or YYYY-MM, e.g. 2026-10")


def resolve_month(month: str, today: date) -> str:
    """``previous`` / ``current`` / ``YYYY-MM`` → ``YYYY-MM`` relative to ``today``."""
    if month == "current":
        return f"{today:%Y-%m}"
    if month == "previous":
        year, number = (today.year - 1, 12) if today.month == 1 else (today.year, today.month - 1)
        return f"{year:04d}-{number:02d}"
    calendar.monthrange(int(month[:4]), int(month[5:]))  # validates
    return month


class FinanceStep(Step):
    """The allocation export (Excel + CSV) for one month."""

    name = "finance"
    Params = FinanceParams

    @classmethod
    def run(cls, ctx: StepContext, params: FinanceParams) -> StepOutcome:
        """Export the month's finance allocation (by default the one before the as-of date)."""
        run_export = _import("rollup.jobs.finance", "run_export", cls.name)
        month = resolve_month(params.month, ctx.as_of)
        result = run_export(ctx.store, ctx.config, month=month, out_dir=ctx.out_dir,
                            rates_path=Path(params.rates) if params.rates else None, now=ctx.now)
        paths = [Path(p) for p in result.paths]
        return StepOutcome(paths, f"finance export for {result.month} ({result.status}): {len(paths)} files, "
                                  f"{result.rows} detail rows")


# ---------------------------------------------------------------------------------------- BI feed


class ExportParams(StepParams):
    """``step: export`` — the BI feed, as ``rollup export`` (``rollup.jobs.feed.run_feed_export``)."""

    step: Literal["export"]
    folder: str = Field(
        "feed", pattern=r"^[A-Za-z0-9_.-]+$",
        description="The feed's folder inside the run folder (and `latest/`): `<run folder>/feed/` by default.")
    store: bool = Field(
        True, description="Also refresh the store's `feed_*` tables (one transaction), which the `rollup_*` views "
                          "that BI tools query read; `false` writes the files only.")


class ExportStep(Step):
    """The BI feed: every table as CSV and Parquet with its data dictionary, and the store's feed refreshed."""

    name = "export"
    Params = ExportParams

    @classmethod
    def run(cls, ctx: StepContext, params: ExportParams) -> StepOutcome:
        """Write the feed for the run's as-of date from the store as the job read it, linted once per job."""
        run_feed_export = _import("rollup.jobs.feed", "run_feed_export", cls.name)
        result = run_feed_export(ctx.store, ctx.config, out_dir=ctx.out_dir / params.folder, as_of=ctx.as_of,
                                 now=ctx.now, to_store=params.store, mapped_store=ctx.mapped_store(),
                                 linted=ctx.linted(), views=ctx.portfolio_views)
        rows = ", ".join(f"{name} {count:,}" for name, count in result.rows.items())
        return StepOutcome([Path(p) for p in result.paths], f"BI feed: {rows} rows"
                           + ("; store views refreshed" if result.views else ""))


def _import(module: str, name: str, step: str) -> Any:
    import importlib

    try:
        return getattr(importlib.import_module(module), name)
    except (ImportError, AttributeError) as exc:
        raise StepError(f"the '{step}' step needs {module}.{name}, which this installation cannot load "
                        f"({exc}); remove the step from the schedule or install a release that has it") from None


# ---------------------------------------------------------------------------------------- registry

#: Every step, in the order the reference lists them.
STEPS: tuple[type[Step], ...] = (SyncStep, PortfolioStep, TeamReportsStep, LintStep, FinanceStep, ExportStep)

#: Step name → step class.
REGISTRY: dict[str, type[Step]] = {s.name: s for s in STEPS}


def step_for(params: StepParams) -> type[Step]:
    """The step class that runs ``params``."""
    return REGISTRY[params.step]
