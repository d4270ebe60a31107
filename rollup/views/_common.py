"""Helpers the views share: reading the mappings by duck typing, epics, children, dates.

Views take the *mapped* issues frame (see ``docs/architecture.md``, "Frames and mapping") and
the parsed mappings. The mappings are read only through attributes — ``.pillars`` (id, name,
target_share), ``.okrs`` (id, objective, quarter, pillar, key_results [id, name, target]),
``.buckets`` (id, name, treatment), ``.teams`` (id, name) — so any object with those works.
"""

from __future__ import annotations

import re
from datetime import date, timedelta
from typing import Any

import numpy as np
import pandas as pd

#: The label used wherever an issue has no pillar / bucket / team.
UNMAPPED = "Unmapped"

#: Jira's status category key for finished work.
DONE = "done"

#: Days of completed work that make up "recent throughput" for projections.
THROUGHPUT_DAYS = 28


def listed(mappings: Any, attr: str) -> list[Any]:
    """``mappings.<attr>`` as a list (missing or None gives an empty list)."""
    return list(getattr(mappings, attr, None) or [])


def pillar_ids(mappings: Any) -> list[str]:
    """Pillar ids in the order declared in ``mappings.yaml``."""
    return [str(p.id) for p in listed(mappings, "pillars")]


def bucket_ids(mappings: Any) -> list[str]:
    """Bucket ids in the order declared in ``mappings.yaml``."""
    return [str(b.id) for b in listed(mappings, "buckets")]


def names(mappings: Any, attr: str) -> dict[str, str]:
    """``{id: name}`` for pillars, buckets, teams (the name falls back to the id)."""
    return {str(x.id): str(getattr(x, "name", None) or x.id) for x in listed(mappings, attr)}


def ordered(values: pd.Series, order: list[str]) -> pd.Series:
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


def epics(mapped: pd.DataFrame) -> pd.DataFrame:
    """The epic rows (hierarchy level 1)."""
    return mapped[mapped["hierarchy_level"].eq(1)]


def children(mapped: pd.DataFrame) -> pd.DataFrame:
    """Story-level rows (level 0) under an epic; sub-tasks are left out so work is not counted twice."""
    return mapped[mapped["hierarchy_level"].eq(0) & mapped["epic"].notna()]


def quarter_of(when: date) -> str:
    """``2026Q4`` style label of a date's quarter."""
    return f"{when.year}Q{(when.month - 1) // 3 + 1}"


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
