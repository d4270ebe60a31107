"""The ``lint:`` section of mappings.yaml: which epic-quality rules run, their thresholds and ignores.

Kept apart from :mod:`rollup.config.models` so the lint package owns its settings; that module
embeds :class:`LintOptions` and calls :func:`cross_check` after the models validate.

The models check shapes (``extra="forbid"``, types, required ``reason`` and ``expires`` of an
ignore). :func:`cross_check` checks names against the rule registry (:func:`rollup.lint.all_rules`):
every rule, group or threshold key named in ``select``, ``ignore``, ``rules`` and ``ignores`` must
exist — an unknown one is reported with the file, the line and the closest known name — and every
threshold value must have the type of its default. Nothing downstream re-validates.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from pathlib import PurePath
from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, StringConstraints

from rollup.config.names import unknown_name
from rollup.config.types import StrList

if TYPE_CHECKING:  # pragma: no cover
    from rollup.config.models import RollupConfig

Severity = Literal["error", "warning", "info"]

#: Selector that stands for every rule (``select: [ALL]``).
ALL = "ALL"


class WritebackOptions(BaseModel):
    """What ``rollup lint --apply`` writes to Jira: the ``lint.writeback:`` section."""

    model_config = ConfigDict(extra="forbid")

    #: Label added to every epic with a finding at or above ``min_severity`` (null: no label).
    label: str | None = Field("rollup-lint", pattern=r"^[^\s]+$")
    #: Keep one comment per such epic listing its problems (edited in place, never duplicated).
    comment: bool = True
    #: Findings below this severity are not written back.
    min_severity: Severity = "warning"


class RuleSettings(BaseModel):
    """One entry of ``lint.rules``: a severity override and/or threshold values.

    Threshold keys are the rule's own (``rollup lint rules`` and docs/lint-rules.md list them);
    they are kept as extra fields here and checked against the rule by :func:`cross_check`.
    """

    model_config = ConfigDict(extra="allow")

    #: Severity of this rule's findings, replacing the rule's default.
    severity: Severity | None = None

    def thresholds(self) -> dict[str, Any]:
        """The threshold values given (everything but ``severity``)."""
        return dict(self.model_extra or {})


class IgnoreEntry(BaseModel):
    """One epic excused from one rule, with why and until when (``lint.ignores`` items)."""

    model_config = ConfigDict(extra="forbid")

    #: The epic's issue key, e.g. ``PAY-12``.
    epic: Annotated[str, StringConstraints(pattern=r"^[A-Za-z][A-Za-z0-9_]*-\d+$")]
    #: The rule, by code (``EQ005``) or name.
    rule: str
    #: Why this epic is excused; shown next to every finding it silences.
    reason: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]
    #: Last day the ignore holds; after it the finding shows again and the ignore is reported as expired.
    expires: date
    _source: str = PrivateAttr("mappings.yaml")

    @property
    def source(self) -> str:
        """Where the ignore is declared: ``mappings.yaml:<line>``."""
        return self._source


class LintOptions(BaseModel):
    """The ``lint:`` section."""

    model_config = ConfigDict(extra="forbid")

    #: Rules to run, by code, name or group (``ALL``: every rule). Empty means every rule.
    select: StrList = Field(default_factory=list)
    #: Rules not to run, by code, name or group; wins over ``select``.
    ignore: StrList = Field(default_factory=list)
    #: Per-rule settings by code or name: ``{EQ023: {weeks: 26, severity: info}}``.
    rules: dict[str, RuleSettings] = Field(default_factory=dict)
    #: A custom field (listed in ``jira.extra_fields``) that names the epic's owner; the assignee
    #: stands in when the field is empty. Null: the owner is the assignee.
    owner_field: str | None = None
    #: Headings every epic description must contain, e.g. ``[Why, Success metric]`` (empty: not checked).
    description_sections: StrList = Field(default_factory=list)
    #: Every epic must sit under an initiative (rule EQ054 reports the ones that do not).
    require_initiative: bool = False
    #: A Jira label ``<prefix><code or name>`` on an epic silences that rule for that epic.
    ignore_label_prefix: Annotated[str, StringConstraints(pattern=r"^[^\s]+$")] = "lint-ignore-"
    #: Epics excused from a rule, each with a reason and an expiry date.
    ignores: list[IgnoreEntry] = Field(default_factory=list)
    writeback: WritebackOptions = Field(default_factory=WritebackOptions)


def cross_check(config: RollupConfig, where: Callable[..., str]) -> list[str]:
    """Problems between ``lint:`` and the rest of the file; ``where(*path)`` gives 'file, line N'.

    Also records where each ignore is declared (``mappings.yaml:<line>``), which results show.
    """
    from rollup.lint.base import GROUPS, expand_selector, find_rule, rule_lookup

    lint: LintOptions = config.lint
    rule_names = list(rule_lookup())
    problems: list[str] = []
    for key in ("select", "ignore"):
        for index, selector in enumerate(getattr(lint, key)):
            if expand_selector(selector) is None:
                problems.append(_unknown(where("lint", key, index), f"lint.{key}.{index}",
                                         "rule, group or 'ALL'", selector, [ALL, *GROUPS, *rule_names]))
    for name, settings in lint.rules.items():
        rule = find_rule(name)
        if rule is None:
            problems.append(_unknown(where("lint", "rules", name), f"lint.rules.{name}", "rule", name, rule_names))
            continue
        for key, value in settings.thresholds().items():
            path = ("lint", "rules", name, key)
            if key not in rule.config_keys:
                problems.append(_unknown(where(*path), f"lint.rules.{name}.{key}", f"setting of {rule.code}",
                                         key, ["severity", *rule.config_keys]))
                continue
            problem = threshold_problem(value, rule.config_keys[key], rule.config_ranges.get(key))
            if problem:
                problems.append(f"{where(*path)}: 'lint.rules.{name}.{key}': {problem}")
    for index, entry in enumerate(lint.ignores):
        if find_rule(entry.rule) is None:
            problems.append(_unknown(where("lint", "ignores", index, "rule"), f"lint.ignores.{index}.rule",
                                     "rule", entry.rule, rule_names))
        entry._source = _source_of(where("lint", "ignores", index))
    if lint.owner_field is not None and lint.owner_field not in set(config.jira.extra_fields):
        problems.append(f"{where('lint', 'owner_field')}: 'lint.owner_field' reads field '{lint.owner_field}', "
                        f"which is not synced; add it to jira.extra_fields "
                        f"(now: {', '.join(sorted(config.jira.extra_fields)) or 'empty'})")
    return problems


def _source_of(where: str) -> str:
    """'path/to/mappings.yaml, line 12' → 'mappings.yaml:12'."""
    path, _, line = where.rpartition(", line ")
    if not path:
        return PurePath(where).name
    return f"{PurePath(path).name}:{line}"


def threshold_problem(value: Any, default: Any, bounds: tuple[float, float] | None = None) -> str | None:
    """Why ``value`` cannot stand in for a threshold whose default is ``default`` (None when it can).

    ``bounds`` (lowest, highest), when the rule declares them, limit a number further: a share is
    a fraction from 0 to 1, so ``max_share: 50`` is refused rather than silently never matching.
    """
    problem = _type_problem(value, default)
    if problem is None and bounds is not None and isinstance(value, (int, float)) and not isinstance(value, bool):
        low, high = bounds
        if not low <= value <= high:
            hint = " (a share: write 0.5 for 50 %)" if (low, high) == (0.0, 1.0) else ""
            return f"expected a number from {low:g} to {high:g}{hint}, got {value!r}"
    return problem


def _type_problem(value: Any, default: Any) -> str | None:
    if isinstance(default, bool):
        return None if isinstance(value, bool) else f"expected true or false, got {value!r}"
    if isinstance(default, int):
        if isinstance(value, bool) or not isinstance(value, int):
            return f"expected a whole number, got {value!r}"
        return None if value >= 0 else f"expected 0 or more, got {value}"
    if isinstance(default, float):
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            return f"expected a number, got {value!r}"
        return None if value >= 0 else f"expected 0 or more, got {value}"
    if isinstance(default, (list, tuple)):
        if isinstance(value, str):
            return None
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            return f"expected a list of strings, got {value!r}"
        return None
    if isinstance(default, str):
        return None if isinstance(value, str) else f"expected a string, got {value!r}"
    return None


def _unknown(where: str, dotted: str, what: str, value: str, known: list[str]) -> str:
    return unknown_name(where, dotted, what, value, known, listed="known")
