"""The feed's tables, built from what the portfolio already computes (pure: frames in, frames out).

:func:`build_tables` takes the mapped issues, the effort view, the lint result's findings, the stored
snapshots and the forecast view, and returns one frame per table of :data:`rollup.feed.dictionary.TABLES`,
each passed through :func:`conform`: exactly the dictionary's columns in its order, one dtype per column
(see :mod:`rollup.feed.dictionary`), empty text as null, a plain ``RangeIndex``. No figure is computed
here that a view computes already: allocation is :func:`rollup.views.allocation.by_team_month` (the
Allocation sheet's months, split by team), forecasts are the forecast view's rows, and snapshots are the
stored payloads as the epics view wrote them.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

import pandas as pd
import pyarrow as pa

from rollup.config.models import RollupConfig
from rollup.feed.dictionary import BY_NAME, TABLES, FeedTable
from rollup.views.allocation import by_team_month

#: The pandas dtype of each column type.
DTYPES: dict[str, Any] = {
    "string": pd.StringDtype(),
    "integer": pd.Int64Dtype(),
    "number": pd.Float64Dtype(),
    "boolean": pd.BooleanDtype(),
    "date": pd.ArrowDtype(pa.date32()),
    "timestamp": pd.DatetimeTZDtype("us", "UTC"),
}


def conform(frame: pd.DataFrame, table: FeedTable) -> pd.DataFrame:
    """``frame`` as the table's contract: its columns in order, each cast to its type's dtype.

    A column the table declares that ``frame`` lacks is an error (a builder out of step with the
    dictionary); so is a value that does not fit its type.
    """
    missing = [c for c in table.column_names if c not in frame.columns]
    if missing:
        raise ValueError(f"the feed's {table.name} frame lacks columns: {', '.join(missing)}")
    out = {c.name: cast(frame[c.name], c.type) for c in table.columns}
    return pd.DataFrame(out, columns=table.column_names).reset_index(drop=True)


def cast(values: pd.Series, kind: str) -> pd.Series:
    """``values`` as the dtype of the column type ``kind`` (NA, NaN, NaT and None all become null)."""
    values = values.reset_index(drop=True)
    if kind == "string":
        text = values.astype("object")
        text = text.where(text.notna(), None).map(lambda v: None if v is None else str(v))
        strings = text.astype(DTYPES["string"])
        return strings.mask(strings.eq(""))
    if kind == "integer":
        return pd.to_numeric(values.astype("object").where(values.notna(), None)).astype(DTYPES["integer"])
    if kind == "number":
        return pd.to_numeric(values.astype("object").where(values.notna(), None)).astype(DTYPES["number"])
    if kind == "boolean":
        return values.astype("object").where(values.notna(), None).astype(DTYPES["boolean"])
    if kind == "date":
        days = _naive(values).dt.normalize().to_numpy(dtype="datetime64[D]")
        return pd.Series(pd.arrays.ArrowExtensionArray(pa.array(days, type=pa.date32(), from_pandas=True)))
    if kind == "timestamp":
        return pd.to_datetime(values, utc=True).astype(DTYPES["timestamp"])
    raise ValueError(f"unknown feed column type {kind!r}")


def _naive(values: pd.Series) -> pd.Series:
    """Dates, datetimes (aware: taken in UTC) or ISO text → naive datetime64 (NaT where missing)."""
    if isinstance(values.dtype, pd.ArrowDtype):
        values = values.astype("object")
    parsed = pd.to_datetime(values.astype("object").where(values.notna(), None), errors="coerce")
    if isinstance(parsed.dtype, pd.DatetimeTZDtype):
        parsed = parsed.dt.tz_convert("UTC").dt.tz_localize(None)
    return parsed


def empty_table(name: str) -> pd.DataFrame:
    """The table ``name`` with its columns and dtypes and no rows."""
    return conform(pd.DataFrame(columns=BY_NAME[name].column_names), BY_NAME[name])


# ---------------------------------------------------------------------------------------- tables


def issues_table(mapped_issues: pd.DataFrame) -> pd.DataFrame:
    """One row per issue: the store's columns and what the mapping added (ordered by id)."""
    return conform(mapped_issues.sort_values("id", kind="stable"), BY_NAME["issues"])


def epics_table(mapped_issues: pd.DataFrame, mappings: RollupConfig) -> pd.DataFrame:
    """One row per epic: its mapping with the names from mappings.yaml and each value's provenance."""
    level = pd.to_numeric(mapped_issues["hierarchy_level"], errors="coerce")
    epics = mapped_issues[level.eq(1)].sort_values("id", kind="stable")
    above = mapped_issues[level.ge(2)]
    summaries = dict(zip(above["key"].astype(str), above["summary"].astype("object")))
    pillars = {str(p.id): p.name for p in mappings.pillars}
    buckets = {str(b.id): b for b in mappings.buckets}
    teams = {str(t.id): t.name for t in mappings.teams}
    okrs = {str(o.id): o for o in mappings.okrs}
    key_results = {str(kr.id): kr.name for o in mappings.okrs for kr in o.key_results}

    def lookup(column: str, table: Mapping[str, Any], attribute: str | None = None) -> list[Any]:
        out = []
        for value in epics[column].astype("object"):
            found = table.get(str(value)) if isinstance(value, str) else None
            out.append(getattr(found, attribute) if attribute and found is not None else found)
        return out

    frame = epics.assign(
        owner=epics["assignee_name"],
        initiative_summary=pd.Series([summaries.get(k) if isinstance(k, str) else None
                                      for k in epics["initiative"].astype("object")], index=epics.index,
                                     dtype="object"),
        pillar_name=lookup("pillar", pillars),
        objective=lookup("okr", okrs, "objective"),
        okr_quarter=lookup("okr", okrs, "quarter"),
        key_result_name=lookup("key_result", key_results),
        bucket_name=lookup("bucket", buckets, "name"),
        treatment=lookup("bucket", buckets, "treatment"),
        team_name=lookup("team_id", teams),
    )
    return conform(frame, BY_NAME["epics"])


def allocation_table(effort: pd.DataFrame, mappings: RollupConfig, *, as_of: date) -> pd.DataFrame:
    """Effort by month × team × pillar × bucket: :func:`rollup.views.allocation.by_team_month`, as it is."""
    return conform(by_team_month(effort, mappings, as_of=as_of), BY_NAME["allocation"])


def lint_table(findings: pd.DataFrame, *, as_of: date) -> pd.DataFrame:
    """The lint result's findings (:data:`rollup.lint.result.FINDING_COLUMNS`), in the engine's order."""
    frame = findings.rename(columns={"name": "rule_name", "group": "rule_group"})
    return conform(frame.assign(as_of=pd.Series([as_of] * len(frame), index=frame.index, dtype="object")),
                   BY_NAME["lint_findings"])


#: The snapshot table's columns read from each stored payload (the rest are the snapshot row's own).
PAYLOAD_COLUMNS = ("summary", "status", "status_category", "pillar", "okr", "key_result", "bucket", "team_id",
                   "children", "children_done", "points_total", "points_done", "size", "progress", "rag",
                   "hygiene_ok", "target_date", "projected_completion", "p50", "p85", "chance", "forecast_items",
                   "team_per_week")


def snapshots_table(snapshots: pd.DataFrame) -> pd.DataFrame:
    """One row per epic per stored week; a value an older snapshot did not keep is null."""
    snaps = snapshots.sort_values(["week", "issue_id"], kind="stable").reset_index(drop=True)
    payloads = [p if isinstance(p, dict) else {} for p in snaps["payload"]] if len(snaps) else []
    values = {c: [p.get(c) for p in payloads] for c in PAYLOAD_COLUMNS}
    frame = snaps.drop(columns=["payload"]).assign(**{c: pd.Series(v, dtype="object") for c, v in values.items()})
    return conform(frame, BY_NAME["snapshots"])


def forecasts_table(forecast: pd.DataFrame, *, as_of: date) -> pd.DataFrame:
    """The forecast view's rows as of ``as_of`` (the Forecast sheet's), empty notes and causes as null."""
    frame = forecast.assign(as_of=pd.Series([as_of] * len(forecast), index=forecast.index, dtype="object"))
    frame = frame.assign(epics=pd.to_numeric(frame["epics"], errors="coerce").round())
    return conform(frame, BY_NAME["forecasts"])


def build_tables(mapped_issues: pd.DataFrame, mappings: RollupConfig, *, as_of: date, effort: pd.DataFrame,
                 findings: pd.DataFrame, snapshots: pd.DataFrame, forecast: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """Every table of the feed, by name, in :data:`rollup.feed.dictionary.TABLES` order."""
    built = {
        "issues": issues_table(mapped_issues),
        "epics": epics_table(mapped_issues, mappings),
        "allocation": allocation_table(effort, mappings, as_of=as_of),
        "lint_findings": lint_table(findings, as_of=as_of),
        "snapshots": snapshots_table(snapshots),
        "forecasts": forecasts_table(forecast, as_of=as_of),
    }
    return {t.name: built[t.name] for t in TABLES}


def notes(tables: Mapping[str, pd.DataFrame]) -> dict[str, str]:
    """Why a table has no rows, by table name (only the empty ones), in words for the summary and ``feed.json``."""
    why = {
        "issues": "the store holds no issues",
        "epics": "the store holds no epics",
        "allocation": "no completed story-level issue up to the as-of date",
        "lint_findings": "the lint found nothing",
        "snapshots": "no weekly snapshot is stored yet (the portfolio report stores one a week)",
        "forecasts": "nothing to forecast: no open epic with a team, and no team with finished work",
    }
    return {name: why[name] for name, frame in tables.items() if not len(frame)}


def row_counts(tables: Mapping[str, pd.DataFrame]) -> dict[str, int]:
    """Rows per table."""
    return {name: int(len(frame)) for name, frame in tables.items()}


__all__ = ["DTYPES", "PAYLOAD_COLUMNS", "build_tables", "cast", "conform", "empty_table", "notes", "row_counts"]
