"""Apply the mapping rules to every issue, vectorised.

Each rule is evaluated once as a boolean mask over all rows. Every test works on the *distinct*
values of a column (a handful of projects, labels, field values) and is then spread to the rows
through integer codes, so the cost per rule is a few numpy operations on arrays of row length;
there is no Python loop over rows. Labels, components and list-valued fields are flattened once
into (row position, value code) pairs.

Precedence, per attribute:

1. A rule that matches the issue itself. Rules run by ``priority`` (highest first), then in file
   order; the first match sets the attribute. A later match *of the same priority* that would
   set a different value is a conflict: the first value stays and the disagreement is listed in
   :attr:`Mapped.conflicts`. A match of lower priority is a fallback and never conflicts.
2. A team's ``recognised_by`` (for ``team_id`` only), after every explicit rule; a row recognised
   by two teams is a conflict too, and the first team declared wins.
3. Inheritance: an epic takes its initiative's value, a story-level issue its epic's, a sub-task
   its parent's (or its epic's when the parent is not in the frame). The provenance names the
   issue whose own rule decided the value — ``inherited from STRAT-9`` for a story under an
   INT epic that itself inherits from initiative STRAT-9 — so one look at that issue shows the rule.
4. Otherwise ``unmapped``.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from operator import methodcaller
from typing import Any

import numpy as np
import pandas as pd

from rollup.config.models import FieldMatch, RollupConfig, ValueMatch
from rollup.frames import check_columns
from rollup.mapping.models import ATTRIBUTES, CompiledRule, compile_rules, declared_ids
from rollup.saferegex import search_values

#: Columns :func:`apply` reads from the issues frame.
REQUIRED_COLUMNS = ("key", "project_key", "issue_type", "hierarchy_level", "parent_key", "epic_key",
                    "labels", "components", "team", "sprint", "custom")

UNMAPPED = "unmapped"
INHERITED = "inherited from "

#: Columns of :attr:`Mapped.conflicts`.
CONFLICT_COLUMNS = ("key", "attribute", "rule", "value", "conflicting_rule", "conflicting_value")
#: Columns of :attr:`Mapped.rules`.
RULE_COLUMNS = ("rule", "provenance", "matched", "decided", "matched_epics")


@dataclass
class Mapped:
    """The result of :func:`apply`.

    ``issues``: the input frame plus ``epic``, ``initiative``, the mapped attributes ``pillar``,
    ``okr``, ``key_result``, ``bucket``, ``team_id`` (categoricals over the declared ids; pillar
    and bucket ordered as declared; NA when unmapped) and, for each, ``<attribute>_source``
    (categorical: ``rule <id> (mappings.yaml:<line>)``, ``inherited from <KEY>`` or ``unmapped``).

    ``conflicts``: one row per disagreement — ``key``, ``attribute``, ``rule`` and ``value`` (the
    provenance and value that were kept), ``conflicting_rule`` and ``conflicting_value``.

    ``rules``: one row per rule in run order — ``rule`` id, ``provenance``, ``matched`` (rows the
    rule's tests matched), ``decided`` (rows where it set at least one attribute) and
    ``matched_epics``.
    """

    issues: pd.DataFrame
    conflicts: pd.DataFrame
    rules: pd.DataFrame


def apply(issues: pd.DataFrame, mappings: RollupConfig) -> Mapped:
    """Map every issue row to pillar, OKR, key result, bucket and team, with provenance."""
    check_columns(issues, REQUIRED_COLUMNS, "issues")
    issues = issues.reset_index(drop=True)
    n = len(issues)
    ctx = _Context(issues)
    hierarchy = _hierarchy(issues, ctx.keys)
    rules = compile_rules(mappings)
    ids = declared_ids(mappings)
    masks = [ctx.mask(rule, hierarchy["initiative_pos"]) for rule in rules]
    level = hierarchy["level"]

    columns: dict[str, Any] = {
        "epic": _take_keys(ctx.keys, hierarchy["epic_pos"]),
        "initiative": _take_keys(ctx.keys, hierarchy["initiative_pos"]),
    }
    conflicts: list[pd.DataFrame] = []
    decided = np.zeros((len(rules), n), dtype=bool) if n * len(rules) <= 50_000_000 else None
    decided_counts = np.zeros(len(rules), dtype=np.int64)
    provenance = [r.provenance for r in rules]
    for attribute in ATTRIBUTES:
        codes_of = {value: i for i, value in enumerate(ids[attribute])}
        value = np.full(n, -1, dtype=np.int32)
        source = np.full(n, -1, dtype=np.int32)
        tier = np.full(n, -1, dtype=np.int32)
        tiers: dict[tuple, int] = {}
        for r, rule in enumerate(rules):
            if attribute not in rule.sets:
                continue
            code = codes_of[rule.sets[attribute]]
            t = tiers.setdefault(rule.tier, len(tiers))
            mask = masks[r]
            fresh = mask & (value < 0)
            clash = mask & (tier == t) & (value >= 0) & (value != code)
            if clash.any():
                rows = np.flatnonzero(clash)
                conflicts.append(pd.DataFrame({
                    "key": ctx.keys[rows],
                    "attribute": attribute,
                    "rule": [provenance[s] for s in source[rows]],
                    "value": [ids[attribute][v] for v in value[rows]],
                    "conflicting_rule": rule.provenance,
                    "conflicting_value": rule.sets[attribute],
                }))
            value[fresh] = code
            source[fresh] = r
            tier[fresh] = t
            if decided is not None:
                decided[r] |= fresh
            else:
                decided_counts[r] += int(fresh.sum())
        value, source_col = _inherit(value, source, hierarchy, ctx.keys, provenance)
        ordered = attribute in ("pillar", "bucket")
        columns[attribute] = pd.Categorical.from_codes(value, categories=pd.Index(ids[attribute]), ordered=ordered) \
            if ids[attribute] else pd.Categorical([None] * n, categories=[])
        columns[f"{attribute}_source"] = source_col

    if decided is not None:
        decided_counts = decided.sum(axis=1)
    is_epic = level == 1
    rule_stats = pd.DataFrame({
        "rule": [r.id for r in rules],
        "provenance": provenance,
        "matched": [int(m.sum()) for m in masks],
        "decided": [int(c) for c in decided_counts],
        "matched_epics": [int((m & is_epic).sum()) for m in masks],
    }, columns=list(RULE_COLUMNS))
    conflict_frame = (pd.concat(conflicts, ignore_index=True) if conflicts
                      else pd.DataFrame({c: pd.Series(dtype=object) for c in CONFLICT_COLUMNS}))
    mapped = issues.assign(**columns)
    return Mapped(issues=mapped, conflicts=conflict_frame, rules=rule_stats)


# ---------------------------------------------------------------------------------------- hierarchy


def _hierarchy(issues: pd.DataFrame, keys: np.ndarray) -> dict[str, np.ndarray]:
    """Row positions of each issue's parent, epic and initiative (-1 where none is in the frame)."""
    index = pd.Index(keys, dtype=object)
    level = issues["hierarchy_level"].to_numpy(dtype=np.int64)
    n = len(issues)
    rows = np.arange(n)
    story = level == 0
    # Look keys up only where they are used: epic links of story-level issues, parents of the rest.
    epic_link = _lookup(index, issues["epic_key"], story)
    parent = _lookup(index, issues["parent_key"], (level != 0) | (epic_link < 0))

    def level_at(pos: np.ndarray) -> np.ndarray:
        return np.where(pos >= 0, level[np.maximum(pos, 0)], -99) if n else pos

    epic = np.full(n, -1, dtype=np.int64)
    epic[level == 1] = rows[level == 1]
    via_link = story & (level_at(epic_link) == 1)
    epic[via_link] = epic_link[via_link]
    parent_level = level_at(parent)
    via_parent = story & ~via_link & (parent_level == 1)
    epic[via_parent] = parent[via_parent]
    sub = level < 0
    sub_story = sub & (parent_level == 0)
    epic[sub_story] = epic[parent[sub_story]]
    sub_epic = sub & (parent_level == 1)
    epic[sub_epic] = parent[sub_epic]

    initiative = np.full(n, -1, dtype=np.int64)
    own = level == 2
    initiative[own] = rows[own]
    epics = (level == 1) & (parent_level >= 2)
    initiative[epics] = parent[epics]
    below = (level < 1) & (epic >= 0)
    initiative[below] = initiative[epic[below]]
    return {"level": level, "parent_pos": parent, "parent_level": parent_level, "epic_pos": epic,
            "initiative_pos": initiative}


def _lookup(index: pd.Index, column: pd.Series, where: np.ndarray) -> np.ndarray:
    """Row position of the key in ``column`` for the rows in ``where`` that have one; else -1."""
    out = np.full(len(column), -1, dtype=np.int64)
    wanted = where & column.notna().to_numpy(dtype=bool)
    if wanted.any():
        out[wanted] = index.get_indexer(pd.Index(column.to_numpy(dtype=object)[wanted]))
    return out


def _inherit(value: np.ndarray, source: np.ndarray, hierarchy: dict[str, np.ndarray], keys: np.ndarray,
             provenance: list[str]) -> tuple[np.ndarray, pd.Categorical]:
    """Fill unset values top-down: epics from initiatives, stories from epics, sub-tasks from parents."""
    level = hierarchy["level"]
    # ``origin``: the row whose own rule decided the value (a chain of inheritance cites its start).
    origin = np.where(value >= 0, np.arange(len(value)), -1)
    donor = np.full(len(value), -1, dtype=np.int64)
    steps = (
        (level == 1, hierarchy["initiative_pos"]),
        (level == 0, hierarchy["epic_pos"]),
        (level < 0, np.where(hierarchy["parent_level"] == 0, hierarchy["parent_pos"], hierarchy["epic_pos"])),
    )
    for rows, up in steps:
        take = rows & (value < 0) & (up >= 0)
        take[take] &= value[up[take]] >= 0
        value[take] = value[up[take]]
        origin[take] = origin[up[take]]
        donor[take] = origin[take]
    inherited = donor >= 0
    donors, inverse = np.unique(donor[inherited], return_inverse=True)
    categories = provenance + [UNMAPPED] + (INHERITED + keys[donors].astype(str)).tolist()
    codes = np.where(source >= 0, source, len(provenance))
    codes[inherited] = len(provenance) + 1 + inverse
    if len(set(categories)) != len(categories):
        return value, _dedupe_categorical(codes, categories)
    return value, pd.Categorical.from_codes(codes, categories=categories)


def _dedupe_categorical(codes: np.ndarray, categories: list[str]) -> pd.Categorical:
    """Two rules could share a provenance text only through odd ids; fold duplicates together."""
    uniques, remap = np.unique(np.array(categories, dtype=object), return_inverse=True)
    return pd.Categorical.from_codes(remap[codes], categories=pd.Index(list(uniques)))


def _take_keys(keys: np.ndarray, positions: np.ndarray) -> pd.Series:
    out = keys[np.maximum(positions, 0)] if len(keys) else keys
    # numpy's stubs refuse None as a choice of np.where; an object array takes it.
    return pd.Series(np.where(positions >= 0, out, None) if len(keys) else out,  # type: ignore[arg-type]
                     dtype="string")


def _objects(values: pd.Series) -> np.ndarray:
    """A string column as an object array with None for NA (fast hashing in pandas indexes)."""
    return values.astype(object).to_numpy(dtype=object, na_value=None)  # type: ignore[call-overload]  # pandas-stubs refuse na_value=None, which pandas takes


# ---------------------------------------------------------------------------------------- matching


class _Context:
    """The issues frame, prepared once for fast rule tests (codes over distinct values)."""

    def __init__(self, issues: pd.DataFrame) -> None:
        self.issues = issues
        self.n = len(issues)
        self.keys = _objects(issues["key"])
        self._codes: dict[str, tuple[np.ndarray, pd.Index]] = {}
        self._long: dict[str, tuple[np.ndarray, np.ndarray, pd.Index]] = {}

    # -- columns as codes over distinct values
    def codes(self, column: str) -> tuple[np.ndarray, pd.Index]:
        if column not in self._codes:
            series = self.issues[column]
            if isinstance(series.dtype, pd.CategoricalDtype):
                self._codes[column] = (series.cat.codes.to_numpy(), pd.Index(series.cat.categories.astype(str)))
            else:
                codes, uniques = pd.factorize(series.astype(object))
                self._codes[column] = (codes, pd.Index(uniques.astype(str)))
        return self._codes[column]

    def long(self, column: str) -> tuple[np.ndarray, np.ndarray, pd.Index]:
        """A list column (or a custom field) flattened: (row positions, value codes, distinct values).

        Flattening runs in C (``map``/``chain``) over the column once per column or field name;
        everything after works on the distinct values.
        """
        if column not in self._long:
            if column.startswith("field:"):
                dicts = self.issues["custom"].to_numpy(dtype=object)
                try:
                    cells = list(map(methodcaller("get", column[len("field:"):]), dicts))
                except (AttributeError, TypeError):  # a hand-made frame with NA instead of {}
                    name = column[len("field:"):]
                    cells = [d.get(name) if isinstance(d, dict) else None for d in dicts]
                lists = [c if isinstance(c, list) else [c] for c in cells] if any(
                    isinstance(c, list) for c in cells[:1000]) else None
                if lists is None:
                    values = pd.Series(cells, dtype=object)
                    valid = values.notna().to_numpy(dtype=bool)
                    positions = np.flatnonzero(valid)
                    flat = values.to_numpy(dtype=object)[valid]
                else:
                    positions, flat = _flatten(lists, self.n)
            else:
                positions, flat = _flatten(self.issues[column].to_numpy(dtype=object), self.n)
            raw_codes, raw_uniques = pd.factorize(flat, use_na_sentinel=True)
            keep = raw_codes >= 0
            positions, raw_codes = positions[keep], raw_codes[keep]
            text_codes, uniques = pd.factorize(np.array([_text(u) for u in raw_uniques], dtype=object))
            codes = text_codes[raw_codes] if len(raw_codes) else raw_codes.astype(np.int64)
            self._long[column] = (positions.astype(np.int64), codes, pd.Index(uniques, dtype=object))
        return self._long[column]

    def distinct(self, column: str) -> set[str]:
        """The distinct values of a column, list column or ``field:<name>`` seen in the data."""
        if column in ("labels", "components") or column.startswith("field:"):
            positions, codes, uniques = self.long(column)
            return set(uniques[np.unique(codes)]) if len(codes) else set()
        codes, uniques = self.codes(column)
        return set(uniques[np.unique(codes[codes >= 0])]) if len(codes) else set()

    # -- tests
    def isin(self, column: str, wanted: list[str]) -> np.ndarray:
        codes, uniques = self.codes(column)
        hit = np.append(uniques.isin([str(w) for w in wanted]), False)
        return hit[codes]  # code -1 (NA) reads the trailing False

    def values(self, column: str, test: ValueMatch) -> np.ndarray:
        positions, codes, uniques = self.long(column)
        mask = np.ones(self.n, dtype=bool)
        if test.any:
            mask &= self._any(positions, codes, uniques, test.any)
        if test.all:
            mask &= self._count(positions, codes, uniques, test.all) >= len(set(test.all))
        if test.none:
            mask &= ~self._any(positions, codes, uniques, test.none)
        return mask

    def _any(self, positions: np.ndarray, codes: np.ndarray, uniques: pd.Index, wanted: list[str]) -> np.ndarray:
        """Rows holding at least one wanted value."""
        mask = np.zeros(self.n, dtype=bool)
        hit = uniques.isin(wanted)
        if hit.any():
            mask[positions[hit[codes]]] = True
        return mask

    def _count(self, positions: np.ndarray, codes: np.ndarray, uniques: pd.Index, wanted: list[str]) -> np.ndarray:
        """How many distinct wanted values each row holds."""
        hit = uniques.isin(wanted)
        if not hit.any():
            return np.zeros(self.n, dtype=np.int64)
        sel = hit[codes]
        pairs = np.unique(np.stack([positions[sel], codes[sel].astype(np.int64)]), axis=1)
        return np.bincount(pairs[0], minlength=self.n)

    def field(self, test: FieldMatch, who: str) -> np.ndarray:
        """The rows whose field value passes ``test``; ``who`` names the rule in a slow-regex error."""
        positions, codes, uniques = self.long(f"field:{test.name}")
        if test.regex is not None:
            hit = np.array(search_values(test.regex, list(uniques), who=who, field=test.name), dtype=bool)
        elif test.in_ is not None:
            hit = uniques.isin([_text(v) for v in test.in_])
        else:
            hit = uniques.isin([_text(test.equals)])
        mask = np.zeros(self.n, dtype=bool)
        if len(codes) and hit.any():
            mask[positions[np.asarray(hit)[codes]]] = True
        return mask

    def boards(self, boards: list[str]) -> np.ndarray:
        codes, uniques = self.codes("sprint")
        hit = np.array([any(u.startswith(b + " ") for b in boards) for u in uniques] + [False], dtype=bool)
        return hit[codes]

    def mask(self, rule: CompiledRule, initiative_pos: np.ndarray) -> np.ndarray:
        """The rows ``rule`` matches."""
        if rule.team is not None:
            recognised = rule.team.recognised_by
            mask = np.zeros(self.n, dtype=bool)
            if recognised.team_field:
                mask |= self.isin("team", recognised.team_field)
            if recognised.projects:
                mask |= self.isin("project_key", recognised.projects)
            if recognised.components:
                mask |= self.values("components", ValueMatch(any=recognised.components))
            if recognised.boards:
                mask |= self.boards(recognised.boards)
            return mask
        when = rule.when
        assert when is not None, f"{rule.provenance}: a rule that is not a team's has its tests"
        mask = np.ones(self.n, dtype=bool)
        if when.project:
            mask &= self.isin("project_key", when.project)
        if when.site:
            # A store of one site (no `sites:`) has no site column to match: no issue is on a named site.
            mask &= self.isin("site", when.site) if "site" in self.issues.columns else False
        if when.issue_type:
            mask &= self.isin("issue_type", when.issue_type)
        if when.labels is not None:
            mask &= self.values("labels", when.labels)
        if when.components is not None:
            mask &= self.values("components", when.components)
        if when.field is not None:
            mask &= self.field(when.field, rule.provenance)
        if when.initiative is not None:
            parent = initiative_pos.copy()
            level = self.issues["hierarchy_level"].to_numpy()
            parent[level >= 2] = -1  # an initiative has no parent initiative
            of_initiative = np.ones(self.n, dtype=bool)
            if when.initiative.keys:
                of_initiative &= pd.Index(self.keys, dtype=object).isin(when.initiative.keys)
            if when.initiative.labels is not None:
                of_initiative &= self.values("labels", when.initiative.labels)
            has = parent >= 0
            inherited = np.zeros(self.n, dtype=bool)
            inherited[has] = of_initiative[parent[has]]
            mask &= inherited
        return mask


def _flatten(lists: Any, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Row positions and the flattened values of a column of lists (non-lists count as empty)."""
    try:
        lengths = np.fromiter(map(len, lists), dtype=np.int64, count=n)
        flat = list(itertools.chain.from_iterable(lists))
    except TypeError:  # NA or a scalar where a list was expected
        lists = [v if isinstance(v, (list, tuple)) else [] for v in lists]
        lengths = np.fromiter(map(len, lists), dtype=np.int64, count=n)
        flat = list(itertools.chain.from_iterable(lists))
    out = np.empty(len(flat), dtype=object)
    out[:] = flat
    return np.repeat(np.arange(n, dtype=np.int64), lengths), out


def _text(value: Any) -> str:
    """Field values compare as text: ``3`` and ``3.0`` read ``3``; options already are their value."""
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, dict):
        return str(value.get("value") or value.get("name") or value)
    return str(value)
