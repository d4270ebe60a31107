"""Lint results and the rule reference as text, JSON, CSV or Markdown: each renderer returns a string.

``text`` is for people reading a terminal or a mail: a summary line, then every finding grouped
by team and then by epic, with the owner, a link to the epic and how to fix it, then the team
scores and the ignores that need attention. It uses no terminal styling, so it reads the same
in a log file.

``json`` is for machines: ``{"as_of", "epics", "summary", "findings", "suppressed", "teams",
"ignores", "rules"}`` where ``summary`` holds ``findings``, ``errors``, ``warnings``, ``infos``,
``suppressed``, ``clean`` (epics with no finding) and ``score`` (clean / epics, null without epics).
Dates are ``YYYY-MM-DD``; missing values are ``null``.

``csv`` has one row per finding with the columns of :data:`rollup.lint.result.FINDING_COLUMNS`.
A text value a spreadsheet could read as a formula (starting with ``=``, ``+``, ``-``, ``@``)
gets a leading apostrophe, so opening the file in Excel never runs one.

The rule reference (:func:`render_rules`) is built from the rule classes' attributes
(``code``, ``name``, ``groups``, ``severity``, ``config_keys``, ``summary``, ``why``,
``how_to_fix``).
"""

from __future__ import annotations

import csv
import io
import json
import math
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from typing import Any

import pandas as pd

from rollup.lint.result import FINDING_COLUMNS, SEVERITY_RANK, UNASSIGNED, LintResult
from rollup.writers.safe import looks_like_formula

#: Formats :func:`render` knows.
FORMATS = ("text", "json", "csv")
#: Formats :func:`render_rules` knows.
RULE_FORMATS = ("text", "json", "markdown")


def _value(value: Any) -> Any:
    """A JSON-ready value: NA → None, numpy → Python, dates → ISO text."""
    if value is None:
        return None
    if isinstance(value, (list, tuple)):
        return [_value(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _value(v) for k, v in value.items()}
    try:
        if pd.isna(value):
            return None
    except (TypeError, ValueError):
        pass
    if hasattr(value, "item") and not isinstance(value, (str, bytes)):
        value = value.item()
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, pd.Timestamp):
        value = value.to_pydatetime()
    if isinstance(value, datetime):
        return value.date().isoformat() if (value.hour, value.minute, value.second) == (0, 0, 0) else value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return value


def records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """A frame as a list of JSON-ready dicts."""
    if frame is None or not len(frame):
        return []
    columns = list(frame.columns)
    data = {c: frame[c].astype("object").tolist() for c in columns}
    return [{c: _value(data[c][i]) for c in columns} for i in range(len(frame))]


def summary(result: LintResult) -> dict[str, Any]:
    """Counts over the whole result: findings by severity, suppressed, clean epics and the score."""
    epics = int(result.epics)
    clean = epics - result.flagged_epics()
    return {
        "epics": epics,
        "findings": int(len(result.findings)),
        "errors": result.count("error"),
        "warnings": result.count("warning"),
        "infos": result.count("info"),
        "suppressed": int(len(result.suppressed)),
        "clean": clean,
        "score": clean / epics if epics else None,
        "ignores_expired": _count(result.ignores, "expired"),
        "ignores_unused": _count(result.ignores, "unused"),
    }


def team_totals(result: LintResult, counts: pd.DataFrame) -> dict[str, Any]:
    """The Summary sheet's "All teams" row: the whole result's counts and score (:func:`summary`), stories
    without an epic summed over the teams, and each rule's findings summed over ``counts`` (team × rule)."""
    s = summary(result)
    teams = result.teams
    stray = pd.to_numeric(teams["stories_without_epic"], errors="coerce").fillna(0).sum() if len(teams) else 0
    out: dict[str, Any] = {"team": "All teams", "epics": s["epics"], "clean": s["clean"], "score": s["score"],
                           "errors": s["errors"], "warnings": s["warnings"], "infos": s["infos"],
                           "stories_without_epic": int(stray)}
    out.update({str(code): int(counts[code].sum()) for code in counts.columns})
    return out


def _count(ignores: pd.DataFrame, status: str) -> int:
    return int(ignores["status"].eq(status).sum()) if len(ignores) else 0


# ---------------------------------------------------------------------------------------- findings


def format_json(result: LintResult, **extra: Any) -> str:
    """The machine-readable document (see the module docstring); ``extra`` keys are added at the top level."""
    payload = {
        "as_of": result.as_of.isoformat(),
        "epics": int(result.epics),
        "summary": summary(result),
        "findings": records(result.findings),
        "suppressed": records(result.suppressed),
        "teams": records(result.teams),
        "ignores": records(result.ignores),
        "rules": records(result.rules),
        **{k: _value(v) for k, v in extra.items()},
    }
    return json.dumps(payload, indent=2, ensure_ascii=False)


def _csv_cell(value: Any) -> Any:
    value = _value(value)
    if isinstance(value, str) and looks_like_formula(value):
        return "'" + value
    return "" if value is None else value


def format_csv(result: LintResult) -> str:
    """One row per finding, header first, columns :data:`FINDING_COLUMNS`."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(FINDING_COLUMNS)
    frame = result.findings
    data = {c: frame[c].astype("object").tolist() if c in frame.columns else [None] * len(frame)
            for c in FINDING_COLUMNS}
    for i in range(len(frame)):
        writer.writerow([_csv_cell(data[c][i]) for c in FINDING_COLUMNS])
    return buffer.getvalue()


def _pct(value: Any) -> str:
    value = _value(value)
    return "n/a" if value is None else f"{float(value):.0%}"


def _team_order(findings: pd.DataFrame, teams: pd.DataFrame) -> list[str]:
    """Team names with findings, in the teams frame's order, then any others by name; ``Unassigned`` last."""
    present = set(findings["team"].astype(str))
    order = [str(t) for t in teams["team"]] if len(teams) else []
    names = [t for t in order if t in present and t != UNASSIGNED]
    names += sorted(present - set(names) - {UNASSIGNED})
    return names + ([UNASSIGNED] if UNASSIGNED in present else [])


def format_text(result: LintResult) -> str:
    """Plain text for people: findings by team, then epic, each with how to fix it (see the module docstring)."""
    s = summary(result)
    lines = [
        f"Epic-quality lint as of {result.as_of.isoformat()}: {s['epics']} epics, {s['clean']} clean "
        f"(score {_pct(s['score'])}); {s['findings']} findings: {s['errors']} errors, {s['warnings']} warnings, "
        f"{s['infos']} infos; {s['suppressed']} ignored.",
    ]
    findings = result.findings
    if len(findings):
        findings = findings.assign(team=findings["team"].fillna(UNASSIGNED),
                                   rank=findings["severity"].map(SEVERITY_RANK))
        for team in _team_order(findings, result.teams):
            rows = findings[findings["team"].astype(str).eq(team)]
            if not len(rows):
                continue
            lines += ["", f"== {team}: {rows['key'].nunique()} epics, {len(rows)} findings"]
            first_seen = rows.groupby("key", sort=False)["rank"].min().sort_values(kind="stable")
            for key in first_seen.index:
                epic = rows[rows["key"].eq(key)].sort_values(["rank", "rule"], kind="stable")
                head = epic.iloc[0]
                owner = _value(head.get("owner")) or "no owner"
                lines.append(f"{key}  {_value(head.get('summary')) or ''}  (owner: {owner})")
                link = _value(head.get("link"))
                if link:
                    lines.append(f"  {link}")
                for row in epic.itertuples(index=False):
                    lines.append(f"  {row.severity:<7} {row.rule} {row.name}: {row.message}")
                    fix = _value(row.how_to_fix)
                    if fix:
                        lines.append(f"          fix: {fix}")
    else:
        lines += ["", "No findings."]
    if len(result.teams):
        lines += ["", "Team scores (share of epics with no finding):"]
        for score in result.teams.to_dict(orient="records"):
            lines.append(f"  {score['team']}: {_pct(score.get('score'))} ({_value(score.get('clean')) or 0} of "
                         f"{_value(score.get('epics')) or 0} epics clean; {_value(score.get('errors')) or 0} errors, "
                         f"{_value(score.get('warnings')) or 0} warnings, {_value(score.get('infos')) or 0} infos; "
                         f"{_value(score.get('stories_without_epic')) or 0} stories without an epic)")
    attention = result.ignores[result.ignores["status"].isin(["expired", "unused"])] if len(result.ignores) else None
    if attention is not None and len(attention):
        lines += ["", "Ignores to review:"]
        for ignore in records(attention):
            lines.append(f"  {ignore['status']}: {ignore['key']} {ignore['rule']} "
                         f"(expires {ignore.get('expires') or 'never'}; "
                         f"{ignore.get('source') or ''}) {ignore.get('reason') or ''}".rstrip())
    return "\n".join(lines) + "\n"


def render(result: LintResult, fmt: str, **extra: Any) -> str:
    """``result`` in one of :data:`FORMATS`; ``extra`` goes into the JSON document only."""
    if fmt == "json":
        return format_json(result, **extra)
    if fmt == "csv":
        return format_csv(result)
    if fmt == "text":
        return format_text(result)
    raise ValueError(f"unknown lint output format {fmt!r}; use one of {', '.join(FORMATS)}")


# ---------------------------------------------------------------------------------------- rule reference


def rule_reference(rules: Iterable[Any]) -> list[dict[str, Any]]:
    """One dict per rule class: code, name, groups, severity, config_keys, summary, why, how_to_fix."""
    out = []
    for rule in rules:
        out.append({
            "code": rule.code,
            "name": rule.name,
            "groups": list(rule.groups),
            "severity": rule.severity,
            "config_keys": {str(k): _value(v) for k, v in dict(getattr(rule, "config_keys", {}) or {}).items()},
            "summary": getattr(rule, "summary", "") or "",
            "why": getattr(rule, "why", "") or "",
            "how_to_fix": getattr(rule, "how_to_fix", "") or "",
        })
    return out


def rule_frame(rules: Iterable[Any]) -> pd.DataFrame:
    """The rule reference as a frame (``groups`` joined by commas, ``config_keys`` as ``key=default`` text)."""
    rows = rule_reference(rules)
    for row in rows:
        row["groups"] = ", ".join(row["groups"])
        row["config_keys"] = ", ".join(f"{k}={json.dumps(v)}" for k, v in row["config_keys"].items())
    columns = ["code", "name", "groups", "severity", "config_keys", "summary", "why", "how_to_fix"]
    return pd.DataFrame(rows, columns=columns)


def _keys_text(keys: dict[str, Any]) -> str:
    return ", ".join(f"{k} (default {json.dumps(v)})" for k, v in keys.items()) or "none"


def render_rules(rules: Sequence[Any], fmt: str = "text") -> str:
    """The rule reference in one of :data:`RULE_FORMATS`."""
    ref = rule_reference(rules)
    if fmt == "json":
        return json.dumps(ref, indent=2, ensure_ascii=False)
    if fmt == "markdown":
        lines = ["| code | name | groups | severity | what it finds |", "|---|---|---|---|---|"]
        lines += [f"| {r['code']} | `{r['name']}` | {', '.join(r['groups'])} | {r['severity']} | {r['summary']} |"
                  for r in ref]
        for r in ref:
            lines += ["", f"## {r['code']} `{r['name']}`", "",
                      f"{r['summary']}", "",
                      f"Groups: {', '.join(r['groups'])}. Default severity: {r['severity']}. "
                      f"Settings: {_keys_text(r['config_keys'])}.", ""]
            if r["why"]:
                lines += [f"**Why.** {r['why']}", ""]
            if r["how_to_fix"]:
                lines += [f"**How to fix.** {r['how_to_fix']}"]
        return "\n".join(lines).rstrip() + "\n"
    if fmt == "text":
        lines = []
        for r in ref:
            lines += [f"{r['code']} {r['name']} [{', '.join(r['groups'])}; {r['severity']}]",
                      f"  {r['summary']}"]
            if r["config_keys"]:
                lines.append(f"  settings: {_keys_text(r['config_keys'])}")
            if r["why"]:
                lines.append(f"  why: {r['why']}")
            if r["how_to_fix"]:
                lines.append(f"  how to fix: {r['how_to_fix']}")
            lines.append("")
        return "\n".join(lines)
    raise ValueError(f"unknown rule reference format {fmt!r}; use one of {', '.join(RULE_FORMATS)}")
