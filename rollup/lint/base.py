"""What a lint rule is, and the registry that lists them.

A rule is one class in one module of :mod:`rollup.lint.rules`, declared by class attributes:

=================  =========================================================================
``code``           ``EQ001`` …, unique, sorts the reference
``name``           kebab-case, unique, e.g. ``epic-missing-target-date``
``groups``         a tuple from :data:`GROUPS`; the first is the rule's ``group`` in results
``severity``       the default severity (``error`` / ``warning`` / ``info``)
``config_keys``    threshold key → default, overridable in ``lint.rules.<code or name>``
``config_ranges``  optional: threshold key → (lowest, highest) allowed value, e.g. a share in 0..1
``target``         optional: the frame the rule checks — ``epics`` (default) or ``missing_epics``
                   (epic keys issues link to that the store does not hold)
docstring          first line: the message; then a ``Why:`` and a ``How to fix:`` paragraph
=================  =========================================================================

The docstring is parsed once, when the class is defined, into ``summary``, ``why`` and
``how_to_fix``. :meth:`Rule.check` is vectorised: it receives the :class:`~rollup.lint.context.LintContext`
(the epics frame with per-epic child aggregates, prepared once) and returns the message of every
epic that fails, indexed like ``context.epics`` (or like ``context.missing_epics`` for a rule whose
``target`` is ``missing_epics``). No rule does I/O or loops over epics in Python.

:func:`all_rules` returns :data:`rollup.lint.rules.RULES`, the one ordered tuple every rule is
listed in (by code), after checking that no code or name is used twice.
"""

from __future__ import annotations

import functools
import inspect
import re
from typing import TYPE_CHECKING, Any, ClassVar

import pandas as pd

from rollup.lint.result import SEVERITIES

if TYPE_CHECKING:
    from rollup.lint.context import LintContext

#: Rule groups, in the order the reference lists them.
GROUPS = ("strategy", "ownership", "planning", "description", "size", "consistency")

#: The frames a rule can check (see :class:`rollup.lint.context.LintContext`).
TARGETS = ("epics", "missing_epics")

_CODE = re.compile(r"^EQ\d{3}$")
_NAME = re.compile(r"^[a-z][a-z0-9]*(-[a-z0-9]+)+$")


def parse_docstring(doc: str | None) -> tuple[str, str, str]:
    """``(summary, why, how_to_fix)`` from a rule docstring; raises ``ValueError`` when one is missing."""
    text = inspect.cleandoc(doc or "")
    summary, _, rest = text.partition("\n")
    why_match = re.search(r"^Why:\s*(.*?)(?=^How to fix:|\Z)", rest, re.S | re.M)
    fix_match = re.search(r"^How to fix:\s*(.*)\Z", rest, re.S | re.M)
    if not summary.strip() or why_match is None or fix_match is None:
        raise ValueError("a rule docstring needs a first-line message, a 'Why:' and a 'How to fix:' paragraph")
    why, fix = (" ".join(m.group(1).split()) for m in (why_match, fix_match))
    if not why or not fix:
        raise ValueError("the 'Why:' and 'How to fix:' paragraphs of a rule docstring must not be empty")
    return summary.strip(), why, fix


class Rule:
    """Base class of lint rules; see the module docstring for what a subclass declares."""

    code: ClassVar[str] = ""
    name: ClassVar[str] = ""
    groups: ClassVar[tuple[str, ...]] = ()
    #: The default severity; an instance carries the severity of its run (configuration may override it).
    severity: str = "warning"
    config_keys: ClassVar[dict[str, Any]] = {}
    config_ranges: ClassVar[dict[str, tuple[float, float]]] = {}
    target: ClassVar[str] = "epics"
    summary: ClassVar[str] = ""
    why: ClassVar[str] = ""
    how_to_fix: ClassVar[str] = ""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        where = f"{cls.__module__}.{cls.__qualname__}"
        if not _CODE.match(cls.code):
            raise TypeError(f"{where}: code {cls.code!r} must look like EQ001")
        if not _NAME.match(cls.name):
            raise TypeError(f"{where}: name {cls.name!r} must be kebab-case, e.g. epic-missing-owner")
        if not cls.groups or any(g not in GROUPS for g in cls.groups):
            raise TypeError(f"{where}: groups {cls.groups!r} must be taken from {GROUPS}")
        if cls.severity not in SEVERITIES:
            raise TypeError(f"{where}: severity {cls.severity!r} must be one of {SEVERITIES}")
        if cls.target not in TARGETS:
            raise TypeError(f"{where}: target {cls.target!r} must be one of {TARGETS}")
        try:
            cls.summary, cls.why, cls.how_to_fix = parse_docstring(cls.__doc__)
        except ValueError as exc:
            raise TypeError(f"{where}: {exc}") from None

    def __init__(self, thresholds: dict[str, Any] | None = None, severity: str | None = None) -> None:
        #: Threshold values: the defaults of ``config_keys`` with the configuration's values on top.
        self.settings: dict[str, Any] = {**self.config_keys, **(thresholds or {})}
        #: The effective severity of this run.
        self.severity = severity or type(self).severity

    @property
    def group(self) -> str:
        """The rule's first group (what results show)."""
        return self.groups[0]

    def check(self, ctx: LintContext) -> pd.Series:
        """Messages of the failing rows, indexed like ``ctx.frame(self.target)`` (only failing rows)."""
        raise NotImplementedError

    # -------------------------------------------------------------------------------- helpers

    @staticmethod
    def flag(mask: pd.Series, message: str | pd.Series) -> pd.Series:
        """The rows where ``mask`` holds, each with ``message`` (a text, or a Series aligned to ``mask``)."""
        mask = mask.fillna(False).astype(bool)
        if isinstance(message, pd.Series):
            return message[mask].astype("object")
        return pd.Series(message, index=mask.index[mask], dtype="object")


@functools.cache
def all_rules() -> list[type[Rule]]:
    """Every rule class of :data:`rollup.lint.rules.RULES`, in its order (by code)."""
    from rollup.lint.rules import RULES

    for attr in ("code", "name"):
        seen: dict[str, str] = {}
        for cls in RULES:
            value = getattr(cls, attr)
            if value in seen:
                raise TypeError(f"rule {attr} {value!r} is used by {seen[value]} and {cls.__module__}")
            seen[value] = cls.__module__
    return list(RULES)


def rule_lookup() -> dict[str, type[Rule]]:
    """Code and name → rule class."""
    out: dict[str, type[Rule]] = {}
    for cls in all_rules():
        out[cls.code] = cls
        out[cls.name] = cls
    return out


def find_rule(selector: str) -> type[Rule] | None:
    """The rule a code (any case) or name stands for, or None."""
    lookup = rule_lookup()
    return lookup.get(selector) or lookup.get(selector.upper()) or lookup.get(selector.lower())


def expand_selector(selector: str) -> list[type[Rule]] | None:
    """The rules a selector (code, name, group or ``ALL``) stands for; None when it names nothing."""
    if selector.upper() == "ALL":
        return all_rules()
    if selector.lower() in GROUPS:
        return [cls for cls in all_rules() if selector.lower() in cls.groups]
    rule = find_rule(selector)
    return [rule] if rule is not None else None
