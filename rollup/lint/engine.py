"""Run the selected rules over the mapped epics and assemble a :class:`~rollup.lint.result.LintResult`.

:func:`run_lint` is pure: it reads the mapped frame, the configuration and the transitions it is
given, and returns frames (columns per :mod:`rollup.lint.result`). Order of work:

1. :func:`selected_rules` — the rules ``lint.select`` picks, minus ``lint.ignore``, narrowed by the
   caller's ``select`` (a CLI ``--select``), each with its configured thresholds and severity;
2. :func:`rollup.lint.context.build_context` — epics and child aggregates, once;
3. every rule's vectorised ``check`` → (epic row, rule, message) rows;
4. ignores (:mod:`rollup.lint.ignores`) split the findings into kept and suppressed;
5. the per-team and per-rule summaries.
"""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from rollup.config.lint import LintOptions
from rollup.config.models import RollupConfig
from rollup.config.names import did_you_mean
from rollup.errors import ConfigError
from rollup.lint import ignores as ignores_module
from rollup.lint.base import GROUPS, Rule, all_rules, expand_selector, find_rule, rule_lookup
from rollup.lint.context import LintContext, build_context
from rollup.lint.result import (
    FINDING_COLUMNS,
    RULE_COLUMNS,
    SEVERITY_RANK,
    TEAM_COLUMNS,
    UNASSIGNED,
    LintResult,
    empty_frame,
)
from rollup.store.sites import JiraBase, browse_url

if TYPE_CHECKING:
    from rollup.mapping.engine import Mapped


def run_lint(mapped: Mapped, config: RollupConfig, *, as_of: date, transitions: pd.DataFrame | None = None,
             base_url: JiraBase | None = None, select: list[str] | None = None) -> LintResult:
    """Lint every epic of ``mapped`` (``rollup.mapping.apply(...)``) as of ``as_of``; see the module docstring."""
    rules = selected_rules(config.lint, select)
    ctx = build_context(mapped, config, as_of=as_of, transitions=transitions)
    raw = _raw_findings(rules, ctx)
    findings = _finding_frame(raw, ctx, rules, base_url)
    declared = ignores_module.declared(ctx.epics, config.lint)
    findings, suppressed, ignores = ignores_module.apply(findings, declared, as_of=as_of,
                                                         ran={r.code for r in rules})
    findings = _ordered(findings, config)
    return LintResult(
        as_of=as_of,
        findings=findings,
        suppressed=_ordered(suppressed, config) if len(suppressed) else suppressed,
        ignores=ignores,
        teams=_teams(ctx, findings, config),
        rules=_rules(rules, findings),
        epics=len(ctx.epics),
    )


def selected_rules(options: LintOptions, select: list[str] | None = None) -> list[Rule]:
    """Instances of the rules to run, configured; an unknown ``select`` entry is a :class:`ConfigError`."""
    chosen = _expand(options.select or ["ALL"], "lint.select")
    chosen -= _expand(options.ignore, "lint.ignore")
    if select:
        chosen &= _expand(select, "--select")
    settings = {}
    for name, value in options.rules.items():
        rule = find_rule(name)
        assert rule is not None, "the names under lint.rules are checked when mappings.yaml is read"
        settings[rule.code] = value
    out = []
    for cls in all_rules():
        if cls.code in chosen:
            entry = settings.get(cls.code)
            out.append(cls(entry.thresholds() if entry else None, entry.severity if entry else None))
    return out


def _expand(selectors: list[str], where: str) -> set[str]:
    codes: set[str] = set()
    for selector in selectors:
        rules = expand_selector(selector)
        if rules is None:
            known = ["ALL", *GROUPS, *rule_lookup()]
            hint = did_you_mean(selector, known) or "`rollup lint rules` lists the rules and groups"
            raise ConfigError(f"{where}: unknown rule or group '{selector}'; {hint}")
        codes.update(r.code for r in rules)
    return codes


def _raw_findings(rules: list[Rule], ctx: LintContext) -> pd.DataFrame:
    """(target, row, rule, message) for every failing row of every rule."""
    parts = []
    for rule in rules:
        if not len(ctx.frame(rule.target)):
            continue
        messages = rule.check(ctx)
        if len(messages):
            parts.append(pd.DataFrame({"target": rule.target, "row": messages.index.to_numpy(), "rule": rule.code,
                                       "message": messages.astype(str).to_numpy()}))
    if not parts:
        return pd.DataFrame({"target": pd.Series(dtype="object"), "row": pd.Series(dtype="int64"),
                             "rule": pd.Series(dtype="object"), "message": pd.Series(dtype="object")})
    return pd.concat(parts, ignore_index=True)


def _finding_frame(raw: pd.DataFrame, ctx: LintContext, rules: list[Rule], base_url: JiraBase | None) -> pd.DataFrame:
    if not len(raw):
        return empty_frame(FINDING_COLUMNS)
    parts = [_findings_of(part, ctx.frame(str(target)), rules, base_url)
             for target, part in raw.groupby("target", sort=False)]
    return pd.concat(parts, ignore_index=True) if len(parts) > 1 else parts[0]


def _findings_of(raw: pd.DataFrame, rows: pd.DataFrame, rules: list[Rule], base_url: JiraBase | None) -> pd.DataFrame:
    """The finding rows of ``raw`` (one target), whose ``row`` positions index ``rows``."""
    epics = rows.iloc[raw["row"].to_numpy()]
    by_code = {r.code: r for r in rules}
    code = raw["rule"].reset_index(drop=True)
    keys = epics["key"].astype(str).to_numpy()
    link: Any
    if isinstance(base_url, str) and base_url:
        link = (base_url.rstrip("/") + "/browse/" + pd.Series(keys)).to_numpy()
    else:
        link = np.array([browse_url(base_url, k) for k in keys], dtype=object) if base_url else None
    team_id = epics["team_id"].astype("object")
    frame = pd.DataFrame({
        "key": keys,
        "issue_id": epics["id"].to_numpy(),
        "summary": epics["summary"].astype("object").to_numpy(),
        "team_id": team_id.where(team_id.notna(), None).to_numpy(),
        "team": epics["team"].to_numpy(),
        "owner": epics["owner"].to_numpy(),
        "owner_id": epics["owner_id"].to_numpy(),
        "rule": code.to_numpy(),
        "name": code.map({c: r.name for c, r in by_code.items()}).to_numpy(),
        "group": code.map({c: r.group for c, r in by_code.items()}).to_numpy(),
        "severity": code.map({c: r.severity for c, r in by_code.items()}).to_numpy(),
        "message": raw["message"].to_numpy(),
        "how_to_fix": code.map({c: r.how_to_fix for c, r in by_code.items()}).to_numpy(),
        "link": link,
    })
    return frame[list(FINDING_COLUMNS)]


def _team_order(config: RollupConfig) -> dict[str, int]:
    return {t.id: i for i, t in enumerate(config.teams)}


def _ordered(frame: pd.DataFrame, config: RollupConfig) -> pd.DataFrame:
    """Team (declared order, Unassigned last), severity (error first), rule, key (PAY-9 before PAY-10)."""
    if not len(frame):
        return frame.reset_index(drop=True)
    order = _team_order(config)
    team_rank = frame["team_id"].map(order).astype("float64").fillna(len(order))
    team_rank = team_rank.where(frame["team_id"].notna(), len(order) + 1)
    keys = frame["key"].astype("object").to_numpy()
    split = [k.rpartition("-") for k in keys]
    sort = pd.DataFrame({
        "team": team_rank.to_numpy(), "team_name": frame["team"].astype("object").to_numpy(),
        "severity": frame["severity"].map(SEVERITY_RANK).to_numpy(), "rule": frame["rule"].to_numpy(),
        "project": [p for p, _, _ in split],
        "number": [int(n) if n.isdigit() else -1 for _, _, n in split],
    })
    index = sort.sort_values(list(sort.columns), kind="stable").index.to_numpy()
    return frame.iloc[index].reset_index(drop=True)


def _teams(ctx: LintContext, findings: pd.DataFrame, config: RollupConfig) -> pd.DataFrame:
    """One row per declared team, then other team ids, then Unassigned (when it has epics or orphans)."""
    epics = ctx.epics
    team_key = epics["team_id"].astype("object").where(epics["team_id"].notna(), None)
    flagged = set(findings["key"]) if len(findings) else set()
    per_epic = pd.DataFrame({"team_id": team_key.fillna(UNASSIGNED).to_numpy(),
                             "clean": ~epics["key"].astype(str).isin(flagged).to_numpy()})
    counts = per_epic.groupby("team_id", sort=False).agg(epics=("clean", "size"), clean=("clean", "sum"))
    if len(findings):
        team_of = findings["team_id"].astype("object").fillna(UNASSIGNED)
        severities = pd.crosstab(team_of.to_numpy(), findings["severity"].to_numpy())
    else:
        severities = pd.DataFrame()
    orphans = ctx.stories_without_epic.copy()
    orphans.index = [UNASSIGNED if k is None or k != k else k for k in orphans.index]
    orphans = orphans.groupby(level=0).sum()
    declared = [t.id for t in config.teams]
    names = {t.id: t.name for t in config.teams}
    others = sorted((set(counts.index) | set(orphans.index)) - set(declared) - {UNASSIGNED})
    ids = declared + others
    if counts["epics"].get(UNASSIGNED, 0) or orphans.get(UNASSIGNED, 0):
        ids.append(UNASSIGNED)
    rows = pd.DataFrame(index=pd.Index(ids, name="team_id"))
    rows["epics"] = counts["epics"].reindex(ids).fillna(0).astype("int64")
    rows["clean"] = counts["clean"].reindex(ids).fillna(0).astype("int64")
    rows["score"] = rows["clean"] / rows["epics"].where(rows["epics"].gt(0))
    for severity, column in (("error", "errors"), ("warning", "warnings"), ("info", "infos")):
        source = severities[severity] if severity in severities.columns else pd.Series(dtype="int64")
        rows[column] = source.reindex(ids).fillna(0).astype("int64")
    rows["stories_without_epic"] = orphans.reindex(ids).fillna(0).astype("int64")
    out = rows.reset_index()
    out["team"] = [names.get(i, UNASSIGNED if i == UNASSIGNED else i) for i in out["team_id"]]
    out["team_id"] = pd.Series([None if i == UNASSIGNED else i for i in out["team_id"]], dtype="object")
    return out[list(TEAM_COLUMNS)]


def _rules(rules: list[Rule], findings: pd.DataFrame) -> pd.DataFrame:
    counts = findings["rule"].value_counts() if len(findings) else pd.Series(dtype="int64")
    frame = pd.DataFrame({
        "rule": [r.code for r in rules], "name": [r.name for r in rules], "group": [r.group for r in rules],
        "severity": [r.severity for r in rules],
        "findings": [int(counts.get(r.code, 0)) for r in rules],
    }, columns=list(RULE_COLUMNS))
    return frame
