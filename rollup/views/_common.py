"""Helpers the views share: lookups over the mappings, epics, children, dates.

Views take the *mapped* issues frame (see ``docs/architecture.md``, "Frames and mapping") and
the parsed mappings, a :class:`~rollup.config.models.RollupConfig`: ``.pillars`` (id, name,
target_share), ``.okrs`` (id, objective, quarter, pillar, key_results [id, name, target]),
``.buckets`` (id, name, treatment), ``.teams`` (id, name) and ``.report``.
"""

from __future__ import annotations

import re
from datetime import date, timedelta
from typing import Any, Literal

import numpy as np
import pandas as pd

from rollup.config.models import Bucket, Pillar, ReportOptions, RollupConfig, Team
from rollup.errors import ConfigError

#: The label used wherever an issue has no pillar / bucket / team.
UNMAPPED = "Unmapped"

#: Jira's status category key for finished work.
DONE = "done"

#: Days of completed work that make up "recent throughput" for projections.
THROUGHPUT_DAYS = 28


def report_options(mappings: RollupConfig) -> ReportOptions:
    """The ``report:`` section of the mappings (its defaults when the file has none)."""
    return mappings.report


def pillar_ids(mappings: RollupConfig) -> list[str]:
    """Pillar ids in the order declared in ``mappings.yaml``."""
    return [str(p.id) for p in mappings.pillars]


def bucket_ids(mappings: RollupConfig) -> list[str]:
    """Bucket ids in the order declared in ``mappings.yaml``."""
    return [str(b.id) for b in mappings.buckets]


def names(mappings: RollupConfig, attr: Literal["pillars", "buckets", "teams"]) -> dict[str, str]:
    """``{id: name}`` for pillars, buckets, teams (the name falls back to the id)."""
    declared: list[Pillar] | list[Bucket] | list[Team] = (
        mappings.pillars if attr == "pillars" else mappings.buckets if attr == "buckets" else mappings.teams)
    return {str(x.id): str(x.name or x.id) for x in declared}


def resolve_team(team: str, mappings: RollupConfig, mapped_issues: pd.DataFrame) -> str | None:
    """The team id a user typed (an id or a name, case-insensitive), or None when unknown."""
    wanted = str(team).strip().lower()
    for team_id, name in names(mappings, "teams").items():
        if wanted in {team_id.lower(), name.lower()}:
            return team_id
    known = {str(t).lower(): str(t) for t in mapped_issues.get("team_id", pd.Series(dtype=object)).dropna().unique()}
    return known.get(wanted)


def require_team(team: str, mappings: RollupConfig, mapped_issues: pd.DataFrame, *, option: str = "",
                 also: str = "") -> str:
    """The team id a user typed, or a :class:`~rollup.errors.ConfigError` listing the known teams.

    ``option`` names where it was typed (``--team``); ``also`` is another accepted word, listed last.
    """
    team_id = resolve_team(team, mappings, mapped_issues)
    if team_id is not None:
        return team_id
    known = sorted({str(t) for t in mapped_issues["team_id"].dropna().unique()})
    where = f" ({option})" if option else ""
    listed = ", ".join(known) or "none mapped"
    raise ConfigError(f"unknown team {team!r}{where}; known teams: {listed}" + (f", or {also}" if also else ""))


def team_scope(mappings: RollupConfig, mapped_issues: pd.DataFrame, team: str | None) -> str | None:
    """The team id of a team report (``team``, an id or a name), or None for the whole portfolio."""
    if not team:
        return None
    return resolve_team(team, mappings, mapped_issues) or str(team)


def okr_catalogue(mappings: RollupConfig) -> dict[str, dict[str, str]]:
    """Lookups over the declared OKRs: ``objective`` (OKR id → objective), ``key_result`` (key result id →
    name), ``okr_of`` (key result id → OKR id) and ``implied`` (OKR id → its key result, for OKRs with
    exactly one: an epic that names the OKR but no key result contributes to that key result)."""
    okrs = mappings.okrs
    return {
        "objective": {str(o.id): str(o.objective) for o in okrs},
        "key_result": {str(kr.id): str(kr.name) for o in okrs for kr in o.key_results},
        "okr_of": {str(kr.id): str(o.id) for o in okrs for kr in o.key_results},
        "implied": {str(o.id): str(o.key_results[0].id) for o in okrs if len(o.key_results) == 1},
    }


def contributions(okr: pd.Series, key_result: pd.Series, mappings: RollupConfig) -> pd.DataFrame:
    """Per row: the ``okr`` and ``key_result`` an epic contributes to, and whether the key result is ``implied``.

    A key result named without its OKR brings its OKR; an OKR with a single key result brings that key
    result when none is named.
    """
    lookup = okr_catalogue(mappings)
    kr = key_result.astype("object").where(key_result.notna(), None)
    objective = okr.astype("object").where(okr.notna(), None)
    objective = objective.where(objective.notna(), kr.map(lookup["okr_of"]))
    implied = kr.isna() & objective.map(lookup["implied"]).notna()
    kr = kr.where(~implied, objective.map(lookup["implied"]))
    return pd.DataFrame({"okr": objective.where(objective.notna(), None), "key_result": kr.where(kr.notna(), None),
                         "implied": implied.astype(bool)}, index=okr.index)


def ordered(values: pd.Series, order: list[str]) -> pd.Categorical[str]:
    """An ordered categorical over ``order`` + :data:`UNMAPPED`; NA and unknown ids become Unmapped."""
    text = values.astype("object").where(values.notna(), UNMAPPED)
    extra = sorted({str(v) for v in text.unique()} - set(order) - {UNMAPPED})
    cats = list(order) + extra + [UNMAPPED]
    return pd.Categorical(text.astype(str), categories=cats, ordered=True)


def to_day(values: pd.Series) -> pd.Series:
    """Dates, datetimes (aware or naive) or ISO strings → naive ``datetime64`` at midnight (NaT kept)."""
    if len(values) == 0:
        return pd.Series(pd.to_datetime([]), index=values.index)
    # Typed datetimes (what rollup.frames gives) stay vectorised; the object path parses value by value.
    if isinstance(values.dtype, pd.DatetimeTZDtype):
        return values.dt.tz_convert("UTC").dt.tz_localize(None).dt.normalize()
    if pd.api.types.is_datetime64_dtype(values.dtype):
        return values.dt.normalize()
    out = pd.to_datetime(values.astype("object").where(values.notna(), None), utc=True, errors="coerce", format="mixed")
    return out.dt.tz_localize(None).dt.normalize()


def day(as_of: date) -> pd.Timestamp:
    """``as_of`` as a Timestamp at midnight."""
    return pd.Timestamp(as_of).normalize()


def is_done(frame: pd.DataFrame) -> pd.Series:
    """True where the status category is done."""
    return frame["status_category"].astype("object").eq(DONE).fillna(False).astype(bool)


def epics(mapped_issues: pd.DataFrame) -> pd.DataFrame:
    """The epic rows (hierarchy level 1)."""
    return mapped_issues[mapped_issues["hierarchy_level"].eq(1)]


def children(mapped_issues: pd.DataFrame) -> pd.DataFrame:
    """Story-level rows (level 0) under an epic; sub-tasks are left out so work is not counted twice."""
    return mapped_issues[mapped_issues["hierarchy_level"].eq(0) & mapped_issues["epic"].notna()]


def key_order(key: Any) -> tuple[str, int]:
    """Sort key of an issue key: by project, then number (PAY-9 before PAY-10)."""
    project, _, number = str(key).rpartition("-")
    return (project, int(number) if number.isdigit() else -1)


def quarter_bounds(label: str) -> tuple[date, date] | None:
    """First and last day of a quarter label such as ``2026Q4``, ``2026-Q4`` or ``Q4 2026``."""
    match = re.search(r"(\d{4})\s*-?\s*Q([1-4])", str(label), re.IGNORECASE) or None
    if match:
        year, q = int(match.group(1)), int(match.group(2))
    else:
        match = re.search(r"Q([1-4])\s*-?\s*(\d{4})", str(label), re.IGNORECASE)
        if not match:
            return None
        q, year = int(match.group(1)), int(match.group(2))
    start = date(year, 3 * (q - 1) + 1, 1)
    end = (date(year + (q == 4), (3 * q) % 12 + 1, 1)) - timedelta(days=1)
    return start, end


def safe_ratio(numerator: pd.Series, denominator: pd.Series) -> pd.Series:
    """numerator / denominator with NaN where the denominator is 0."""
    den = denominator.astype(float)
    return numerator.astype(float).div(den.where(den != 0, np.nan))


def empty(columns: list[str]) -> pd.DataFrame:
    """An empty frame with the given columns (the empty-frame guard of every view)."""
    return pd.DataFrame({c: pd.Series(dtype="object") for c in columns})
