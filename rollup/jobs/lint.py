"""One lint run from the store to the user: the single code path ``rollup lint`` and the scheduler call.

:func:`run_lint_report` reads the store into frames, maps them, runs every selected rule
(:func:`rollup.lint.run_lint`, pure), narrows the result to one team when asked, writes the
outputs (the Excel workbook and, on request, JSON / CSV / text files, each atomically), then
records the run in the store's lint history, then — last, and only when asked — writes back to
Jira (:func:`rollup.jobs.writeback.run_writeback`). Nothing is recorded when an output cannot be
written, so a failed run never shows in the trend.

Only comparable runs are recorded: a run narrowed with ``select`` or ``team`` is written out but
not stored (its score would not compare with the full runs around it), and neither is one made
with ``record=False``. Write-back always works on the whole result, so ``apply`` cannot be
combined with ``select`` or ``team`` (an epic outside the narrowed view would look fixed and
lose its label).

>>> # report = run_lint_report(Store.open(), load_config("mappings.yaml"), out_dir="outputs")
>>> # report.paths, report.run_id, report.result.at_or_above("error")
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from rollup.errors import ConfigError, EmptyStoreError
from rollup.lint import history
from rollup.lint.formats import render, rule_frame
from rollup.lint.result import UNASSIGNED, LintResult
from rollup.store import STATE_SERVER_BASE_URL, Store
from rollup.store.sites import JiraBase, links_for, stored_slots
from rollup.writers.safe import atomic_write

if TYPE_CHECKING:  # pragma: no cover
    from connectors.jira.settings import JiraSettings
    from rollup.config.models import RollupConfig
    from rollup.frames import Frames
    from rollup.jobs.report import MappedStore
    from rollup.jobs.writeback import WritebackReport

#: Output files :func:`run_lint_report` can write, by format → file suffix.
FILE_FORMATS = {"xlsx": ".xlsx", "json": ".json", "csv": ".csv", "text": ".txt"}


@dataclass
class LintReport:
    """What one lint run produced."""

    result: LintResult
    #: Every file written, the workbook first.
    paths: list[Path] = field(default_factory=list)
    #: The id of the recorded run, or None when it was not recorded.
    run_id: int | None = None
    #: The write-back report (``--apply`` or a dry run), or None when there was none.
    writeback: WritebackReport | None = None
    #: Each team's score across recorded runs (:func:`rollup.lint.history.trend_frame`).
    trend: pd.DataFrame = field(default_factory=pd.DataFrame, repr=False)
    #: Team id the result was narrowed to (None: every team).
    team_id: str | None = None
    #: Things the user should know that are not findings (why a run was not stored, a skipped preview).
    notes: list[str] = field(default_factory=list)

    @property
    def workbook(self) -> Path | None:
        """The Excel workbook, when one was written."""
        return next((p for p in self.paths if p.suffix == ".xlsx"), None)


# ---------------------------------------------------------------------------------------- pure steps


def narrow_to_team(result: LintResult, team_id: str | None, epic_keys: Iterable[str]) -> LintResult:
    """``result`` limited to one team (``None``: the unassigned epics); ``epic_keys`` are that team's epics."""
    keys = set(epic_keys)

    def of_team(frame: pd.DataFrame) -> pd.DataFrame:
        if not len(frame):
            return frame
        ids = frame["team_id"].astype("object")
        return frame[ids.isna()] if team_id is None else frame[ids.eq(team_id)]

    findings = of_team(result.findings)
    teams = of_team(result.teams)
    ignores = result.ignores[result.ignores["key"].isin(keys)] if len(result.ignores) else result.ignores
    counts = findings["rule"].value_counts() if len(findings) else pd.Series(dtype=int)
    rules = result.rules.assign(findings=result.rules["rule"].map(counts).fillna(0).astype(int)) \
        if len(result.rules) else result.rules
    epics = int(pd.to_numeric(teams["epics"], errors="coerce").fillna(0).sum()) if len(teams) else 0
    return replace(result, findings=findings.reset_index(drop=True), suppressed=of_team(result.suppressed),
                   ignores=ignores.reset_index(drop=True), teams=teams.reset_index(drop=True),
                   rules=rules, epics=epics)


def trend_for(stored: pd.DataFrame, current: pd.DataFrame | None, team_id: str | None = None,
              narrowed: bool = False) -> pd.DataFrame:
    """The trend of the stored scores plus this run's (``current``, None when not comparable)."""
    frames = [f for f in (stored, current) if f is not None and len(f)]
    scores = pd.concat(frames, ignore_index=True) if frames else stored
    trend = history.trend_frame(scores)
    if narrowed and len(trend):
        ids = trend["team_id"].astype("object")
        trend = trend[ids.isna() if team_id is None else ids.eq(team_id)].reset_index(drop=True)
    return trend


def _check_formats(formats: Sequence[str]) -> list[str]:
    unknown = [f for f in formats if f not in FILE_FORMATS]
    if unknown:
        raise ConfigError(f"unknown lint output format(s) {', '.join(map(repr, unknown))}; "
                          f"use {', '.join(FILE_FORMATS)}")
    return list(dict.fromkeys(formats))


def _resolve_team(team: str, config: RollupConfig, mapped_issues: pd.DataFrame) -> str | None:
    from rollup.views._common import require_team

    if str(team).strip().lower() == UNASSIGNED.lower():
        return None
    return require_team(team, config, mapped_issues, option="--team", also=UNASSIGNED)


# ---------------------------------------------------------------------------------------- the job


def run_lint_report(
    store: Store,
    config: RollupConfig,
    *,
    out_dir: str | Path = "outputs",
    as_of: date | None = None,
    select: Sequence[str] | None = None,
    team: str | None = None,
    by_owner: bool = False,
    formats: Sequence[str] = ("xlsx",),
    apply: bool = False,
    dry_run: bool = True,
    record: bool = True,
    base_url: JiraBase | None = None,
    settings: JiraSettings | None = None,
    progress: Callable | None = None,
    now: datetime | None = None,
    frames: Frames | None = None,
    mapped_store: MappedStore | None = None,
    result: LintResult | None = None,
) -> LintReport:
    """Lint the stored epics, write the outputs, record the run, then (when asked) write back to Jira.

    ``formats``: files to write into ``out_dir`` (``xlsx``, ``json``, ``csv``, ``text``), named
    ``lint-<as_of>.<ext>`` (``lint-<team>-<as_of>.<ext>`` for one team). ``apply`` writes labels
    and comments to Jira; otherwise ``dry_run`` previews what write-back would do, when Jira
    settings are at hand (``settings`` or the ``JIRA_*`` variables; without them the preview is
    skipped with a note). ``record=False`` keeps the run out of the history. ``frames``: the store
    as the caller has just read it (:func:`rollup.frames.load_frames`), so it is not read again;
    ``mapped_store``: the store read and mapped already (a job's earlier report steps), so it is
    neither read nor mapped again; ``result``: the whole store linted already from that
    ``mapped_store`` as of ``as_of`` (:func:`lint_store`; a job lints once for its report steps and
    this one), so it is not linted again (ignored with ``select``).

    Bad input raises :class:`~rollup.errors.ConfigError` (or the connector's ``JiraConfigError``
    for ``apply`` without Jira settings) before any file is written or any run recorded: an
    unknown format, ``apply`` with ``select``/``team``, an unknown team or rule, a store that
    holds no issues (never synced).
    """
    from rollup.frames import load_frames
    from rollup.lint import run_lint
    from rollup.mapping import apply as apply_mapping

    formats = _check_formats(formats)
    narrowed = bool(select) or team is not None
    if apply and narrowed:
        raise ConfigError("--apply writes back the whole lint result; it cannot be combined with --select or "
                          "--team (epics outside the selection would look fixed and lose their label)")
    if apply and settings is None:
        # Missing JIRA_* variables (or a site's credential variables) are bad input: found before anything
        # is written or recorded.
        if config.sites:
            from rollup.jobs.sync import site_settings

            for site in config.sites:
                site_settings(site)
        else:
            settings = _jira_settings()
    as_of = as_of or date.today()
    started = now or datetime.now(timezone.utc)
    if mapped_store is not None and mapped_store.frames is not None:
        frames, mapped = mapped_store.frames, mapped_store.mapped
    else:
        frames = frames if frames is not None else load_frames(store)
        if not len(frames.issues):
            raise EmptyStoreError(store.location)
        mapped = apply_mapping(frames.issues, config)
    base_url = base_url or links_for(store, STATE_SERVER_BASE_URL)
    if result is None or select or result.as_of != as_of:
        result = run_lint(mapped, config, as_of=as_of, transitions=frames.transitions, base_url=base_url,
                          select=list(select) if select else None)
    team_id = None
    if team is not None:
        issues = mapped.issues
        team_id = _resolve_team(team, config, issues)
        ids = issues["team_id"].astype("object")
        epic_keys = issues.loc[issues["hierarchy_level"].eq(1) & (ids.isna() if team_id is None else ids.eq(team_id)),
                               "key"]
        result = narrow_to_team(result, team_id, epic_keys)

    notes: list[str] = []
    will_record = record and not narrowed
    if record and narrowed:
        notes.append("run not recorded in the lint history: narrowed with --select or --team, its score would "
                     "not compare with full runs")
    current = history.scores_frame(result, started=started) if will_record else None
    trend = trend_for(history.read_scores(store), current, team_id, narrowed=team is not None)

    paths = write_files(result, out_dir, formats, trend=trend, by_owner=by_owner,
                        team=None if team is None else (team_id or UNASSIGNED))
    run_id = history.record_run(store, result, config=config, started=started) if will_record else None

    writeback = None
    if apply or (dry_run and not narrowed):
        writeback, note = _writeback(result, config, settings, apply=apply, progress=progress, store=store)
        if note:
            notes.append(note)
    return LintReport(result=result, paths=paths, run_id=run_id, writeback=writeback, trend=trend,
                      team_id=team_id, notes=notes)


def lint_store(store: Store, config: RollupConfig, mapped_store: MappedStore, *, as_of: date) -> LintResult:
    """The whole store linted as ``rollup lint`` lints it (transitions, mapping conflicts, links to each
    key's Jira), from the store already read and mapped: what a job's report steps and its lint step share."""
    from rollup.lint import run_lint

    return run_lint(mapped_store.mapped, config, as_of=as_of, transitions=mapped_store.transitions,
                    base_url=links_for(store, STATE_SERVER_BASE_URL))


def write_files(result: LintResult, out_dir: str | Path, formats: Sequence[str], *, trend: pd.DataFrame,
                by_owner: bool = False, team: str | None = None) -> list[Path]:
    """Write each requested format into ``out_dir`` atomically; return the paths, the workbook first."""
    from rollup.writers.lint import workbook_name, write_lint_workbook

    out_dir = Path(out_dir)
    stem = workbook_name(result.as_of, team)[: -len(".xlsx")]
    paths = []
    for fmt in sorted(formats, key=lambda f: f != "xlsx"):
        path = out_dir / (stem + FILE_FORMATS[fmt])
        if fmt == "xlsx":
            paths.append(write_lint_workbook(result, path, trend=trend, by_owner=by_owner,
                                             rule_reference=_rule_reference()))
        else:
            text = render(result, fmt)

            def write(tmp: Path, text: str = text) -> None:
                tmp.write_text(text, encoding="utf-8")

            paths.append(atomic_write(path, write))
    return paths


def _rule_reference() -> pd.DataFrame | None:
    from rollup.lint import all_rules

    return rule_frame(all_rules())


def _jira_settings() -> JiraSettings:
    from connectors.jira.settings import JiraSettings

    return JiraSettings.from_env()


def _writeback(result: LintResult, config: RollupConfig, settings: JiraSettings | None, *, apply: bool,
               progress: Callable | None, store: Store | None = None) -> tuple[WritebackReport | None, str | None]:
    """Run write-back (``apply``) or its preview; a preview without Jira settings is skipped with a note."""
    from connectors.jira.errors import JiraConfigError, JiraError
    from connectors.jira.settings import JiraSettings
    from rollup.jobs.writeback import run_writeback

    if settings is None and config.sites:
        return _writeback_sites(result, config, apply=apply, progress=progress,
                                slots=stored_slots(store) if store is not None else {})
    if settings is None:
        try:
            settings = JiraSettings.from_env()
        except JiraConfigError as exc:
            if apply:
                raise
            return None, f"write-back preview skipped ({exc}); set the JIRA_* variables to see what --apply would do"
    options = config.lint.writeback
    # Keeps the search for labelled epics inside what was linted: epics outside it keep their label.
    scope = config.jira.scope_jql()
    prefix = config.lint.ignore_label_prefix
    if apply:
        return run_writeback(result, options, settings, apply=True, progress=progress, scope=scope,
                             ignore_label_prefix=prefix), None
    try:
        return run_writeback(result, options, settings, apply=False, progress=progress, scope=scope,
                             ignore_label_prefix=prefix), None
    except JiraError as exc:
        # A preview is advice: Jira being unreachable must not fail the lint itself.
        return None, f"write-back preview failed: {exc}"


def _writeback_sites(result: LintResult, config: RollupConfig, *, apply: bool, progress: Callable | None,
                     slots: dict[str, int]) -> tuple[WritebackReport | None, str | None]:
    """Write-back for a store of several sites: each site's findings go to its own Jira, by its own ids and keys.

    Every site's settings are checked before any is written to; a site Jira refuses or cannot reach stops
    the apply (its error names the site) after the sites before it, and a preview notes it and goes on.
    """
    from dataclasses import replace as dc_replace

    from connectors.jira.errors import JiraConfigError, JiraError
    from rollup.jobs.sync import SyncScope, site_settings
    from rollup.jobs.writeback import WritebackReport, run_writeback
    from rollup.store.sites import SiteIdentity, split_key

    try:
        settings = {site.name: site_settings(site) for site in config.sites}
    except JiraConfigError as exc:
        if apply:
            raise
        return None, f"write-back preview skipped ({exc}); set each site's credential variables to see it"
    findings = result.findings
    prefixes = findings["key"].astype(str).map(lambda k: split_key(k)[0]) if len(findings) else findings["key"]
    actions, notes, epics = [], [], 0
    options = config.lint.writeback
    for index, site in enumerate(config.sites):
        mine = prefixes.isna() if index == 0 else prefixes.eq(site.name)
        part = findings[mine.to_numpy()] if len(findings) else findings
        identity = SiteIdentity(site.name, slots.get(site.name, index))
        part = part.assign(key=part["key"].astype(str).map(identity.raw_key),
                           issue_id=part["issue_id"] - identity.offset) if len(part) else part
        try:
            report = run_writeback(dc_replace(result, findings=part), options, settings[site.name], apply=apply,
                                   progress=progress, scope=SyncScope.from_config(config, site).jql,
                                   ignore_label_prefix=config.lint.ignore_label_prefix)
        except JiraError as exc:
            if apply:
                if exc.args and isinstance(exc.args[0], str):
                    exc.args = (f"site {site.name}: {exc.args[0]}",) + tuple(exc.args[1:])
                raise
            notes.append(f"write-back preview of site {site.name} failed: {exc}")
            continue
        epics += report.epics
        actions += [dc_replace(a, key=identity.key(a.key) or a.key,
                               issue_id=None if a.issue_id is None else identity.store_id(a.issue_id))
                    for a in report.actions]
    return WritebackReport(actions, apply, options, epics=epics), "; ".join(notes) or None
