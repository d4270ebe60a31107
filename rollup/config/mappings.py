"""Reading ``mappings.yaml``: :func:`load_config` and :func:`parse_config`, with the cross-checks between sections.

The YAML is read by :mod:`rollup.config.loader` (lines of every key, duplicate keys refused,
errors worded ``<file>, line N``) into :class:`~rollup.config.models.RollupConfig`; then the
references between sections are checked here, each problem named with its file and line.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from rollup.config.finance import cross_check as finance_cross_check
from rollup.config.forecast import cross_check as forecast_cross_check
from rollup.config.lint import cross_check as lint_cross_check
from rollup.config.loader import line_for, parse_document, read_config_text
from rollup.config.models import DEFAULT_CONFIG_PATH, SHARE_TOLERANCE, Bucket, Okr, Pillar, RollupConfig, Rule, Team
from rollup.config.names import unknown_name
from rollup.errors import ConfigError
from rollup.saferegex import backtracking_problem


def load_config(path: str | Path = DEFAULT_CONFIG_PATH) -> RollupConfig:
    """Read and validate ``mappings.yaml``; raise :class:`ConfigError` naming file, line and key."""
    path = Path(path)
    text = read_config_text(path, missing="file not found; pass --config PATH or create mappings.yaml (see the one "
                                          "at the repository root)")
    return parse_config(text, source=str(path))


def parse_config(text: str, source: str = "mappings.yaml") -> RollupConfig:
    """Validate YAML text; ``source`` names it in error messages."""
    config, lines = parse_document(text, source, RollupConfig,
                                   empty="the file is empty; it needs at least a 'jira:' section",
                                   not_mapping="expected a mapping of sections (jira:, sync:, …)",
                                   title="invalid configuration")
    problems = _cross_check(config, source, lines)
    if problems:
        raise ConfigError("invalid configuration:\n  " + "\n  ".join(problems))
    name = Path(source).name
    config._source = name
    for index, rule in enumerate(config.rules):
        rule._line = lines.get(("rules", index))
        rule._source = name
    for index, team in enumerate(config.teams):
        team._line = lines.get(("teams", index))
    return config


def _cross_check(config: RollupConfig, source: str, lines: dict[tuple, int]) -> list[str]:
    """References between sections: every id a section names must be declared, ids are unique."""
    problems: list[str] = []

    def where(*path: Any) -> str:
        line = line_for(tuple(path), lines)
        return f"{source}, line {line}" if line else source

    declared: dict[str, dict[str, int]] = {}
    sections: tuple[tuple[str, Sequence[Pillar | Okr | Bucket | Team | Rule]], ...] = (
        ("pillars", config.pillars), ("okrs", config.okrs), ("buckets", config.buckets), ("teams", config.teams),
        ("rules", config.rules))
    for section, items in sections:
        seen: dict[str, int] = {}
        for index, item in enumerate(items):
            if item.id in seen:
                problems.append(f"{where(section, index, 'id')}: duplicate {section[:-1]} id '{item.id}' "
                                f"(first declared on line {line_for((section, seen[item.id], 'id'), lines)}); "
                                "ids must be unique")
            else:
                seen[item.id] = index
        declared[section] = seen
    key_results: dict[str, str] = {}
    for o_index, okr in enumerate(config.okrs):
        for k_index, kr in enumerate(okr.key_results):
            if kr.id in key_results:
                problems.append(f"{where('okrs', o_index, 'key_results', k_index, 'id')}: duplicate key result "
                                f"id '{kr.id}' (also in OKR '{key_results[kr.id]}'); key result ids must be "
                                "unique across OKRs")
            else:
                key_results[kr.id] = okr.id
        if okr.pillar not in declared["pillars"]:
            problems.append(_unknown(where("okrs", o_index, "pillar"), f"okrs.{o_index}.pillar", "pillar",
                                     okr.pillar, declared["pillars"]))
    if config.pillars:
        total = sum(p.target_share for p in config.pillars)
        if abs(total - 1) > SHARE_TOLERANCE:
            problems.append(f"{where('pillars')}: the pillars' target shares add up to {total * 100:g} %, "
                            "not 100 %; adjust target_share so they do")
    okr_of_kr = key_results
    extra_fields = set(config.jira.extra_fields) | {f for site in config.sites for f in site.extra_fields}
    site_names: dict[str, int] = {}
    for s_index, site in enumerate(config.sites):
        if site.name in site_names:
            problems.append(f"{where('sites', s_index, 'name')}: duplicate site name '{site.name}' (first on line "
                            f"{line_for(('sites', site_names[site.name], 'name'), lines)}); names must be unique")
        else:
            site_names[site.name] = s_index
    urls: dict[str, str] = {}
    for s_index, site in enumerate(config.sites):
        if site.url.lower() in urls:
            problems.append(f"{where('sites', s_index, 'url')}: site '{site.name}' has the same url as site "
                            f"'{urls[site.url.lower()]}'; list each Jira site once")
        urls.setdefault(site.url.lower(), site.name)
    for r_index, rule in enumerate(config.rules):
        for attribute, value in rule.set.items():
            named = {"pillar": "pillars", "okr": "okrs", "bucket": "buckets", "team": "teams"}.get(attribute)
            known = declared[named] if named else okr_of_kr
            if value not in known:
                problems.append(_unknown(where("rules", r_index, "set", attribute),
                                         f"rules.{r_index}.set.{attribute}", attribute.replace("_", " "),
                                         value, known, rule=rule.id))
        set_kr, set_okr = rule.set.key_result, rule.set.okr
        if set_kr in okr_of_kr and set_okr is not None and okr_of_kr[set_kr] != set_okr:
            problems.append(f"{where('rules', r_index, 'set', 'key_result')}: rule '{rule.id}' sets key result "
                            f"'{set_kr}', which belongs to OKR '{okr_of_kr[set_kr]}', together with OKR '{set_okr}'")
        for s_index, name in enumerate(rule.when.site):
            if name not in site_names:
                problems.append(unknown_name(where("rules", r_index, "when", "site", s_index),
                                             f"rules.{r_index}.when.site", "site", name, site_names,
                                             who=f"rule '{rule.id}' matches ")
                                + ("" if site_names else "; rules can match on site only when `sites:` lists them"))
        if rule.when.field is not None and rule.when.field.regex is not None:
            slow = backtracking_problem(rule.when.field.regex)
            if slow:
                problems.append(f"{where('rules', r_index, 'when', 'field', 'regex')}: rule '{rule.id}': regex "
                                f"{rule.when.field.regex!r} is refused: {slow}")
        if rule.when.field is not None and rule.when.field.name not in extra_fields:
            problems.append(f"{where('rules', r_index, 'when', 'field', 'name')}: rule '{rule.id}' reads field "
                            f"'{rule.when.field.name}', which is not synced; add it to jira.extra_fields "
                            f"(now: {', '.join(sorted(extra_fields)) or 'empty'})")
    problems.extend(lint_cross_check(config, where))
    problems.extend(finance_cross_check(config, where))
    problems.extend(forecast_cross_check(config, where))
    return problems


def _unknown(where: str, dotted: str, what: str, value: str, known: Any, rule: str | None = None) -> str:
    return unknown_name(where, dotted, what, value, known, who=f"rule '{rule}' sets " if rule else "")
