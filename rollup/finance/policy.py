"""The capex/opex policy: each epic's capitalization window and the clauses of every basis.

Pure functions over frames; the policy itself is ``finance.window`` and ``finance.bases`` (see
:mod:`rollup.config.finance`).

* :func:`epic_windows` gives every issue its epic's window: ``window_kind`` (``window`` when the
  epic is authorized and probable to complete, else ``not-authorized`` / ``not-probable`` /
  ``no-epic``), ``window_start`` (first capitalizable day) and ``window_end`` (the day after
  release; open when not released).
* :func:`position` places a day inside, before or after that window.
* :func:`classify` runs every basis's clauses, first match wins, over the distinct combinations of
  what clauses can test, and returns ``<basis>_treatment`` and ``<basis>_clause``.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping
from datetime import date
from typing import Any

import numpy as np
import pandas as pd

from rollup.config.finance import Clause, FinanceOptions
from rollup.finance.calendar import WorkCalendar, day_number

#: Day number used for an open end.
OPEN_END = np.iinfo(np.int32).max
NO_DAY = np.iinfo(np.int64).min
#: What clauses may test, per detail row.
CLAUSE_INPUTS = ("bucket", "bucket_treatment", "issue_type", "status", "window", "team_id", "method", "location")
UNALLOCATED_CLAUSE = "unallocated"


def epic_windows(mapped_issues: pd.DataFrame, finance: FinanceOptions, calendar: WorkCalendar,
                 per_epic: pd.DataFrame | None = None) -> pd.DataFrame:
    """One row per issue of ``mapped`` (same index): window_kind, window_start, window_end, window_evidence
    (``per_epic``: :func:`epic_evidence` of the same issues, when already worked out)."""
    if per_epic is None:
        per_epic = epic_evidence(mapped_issues, finance, calendar)
    epic_of = mapped_issues["epic"].astype("object")
    joined = per_epic.reindex(epic_of.where(epic_of.notna(), "").to_numpy())
    out = pd.DataFrame({
        "window_kind": joined["window_kind"].fillna("no-epic").to_numpy(),
        "window_start": joined["window_start"].fillna(NO_DAY).astype(np.int64).to_numpy(),
        "window_end": joined["window_end"].fillna(OPEN_END).astype(np.int64).to_numpy(),
        "window_evidence": joined["window_evidence"].fillna("").to_numpy(),
    }, index=mapped_issues.index)
    return out


def epic_evidence(mapped_issues: pd.DataFrame, finance: FinanceOptions, calendar: WorkCalendar) -> pd.DataFrame:
    """One row per epic (index: its key): its window and the evidence behind each edge of it.

    ``window_kind``, ``window_start`` / ``window_end`` (day numbers, :data:`NO_DAY` / :data:`OPEN_END` when
    none); ``window_evidence`` (where the authorization date came from: ``field start_date``, ``label
    capex-approved``, ``config finance.window.authorized.epics``); ``probable_basis`` (what the probable test
    saw) and ``probable`` (its outcome); ``abandoned`` (the status is one of ``probable.exclude_statuses``);
    ``release_source`` (what ended the window: the epic's resolution or a fix version's release).
    """
    epics = mapped_issues[mapped_issues["hierarchy_level"] == 1]
    authorized = finance.window.authorized
    probable = finance.window.probable
    release = finance.window.release
    n = len(epics)
    auth = np.full(n, NO_DAY, dtype=np.int64)
    evidence = np.full(n, "", dtype=object)
    keys = epics["key"].astype(str).to_numpy()
    field_days = _field_days(epics, authorized.date_field, calendar) if authorized.date_field else None
    created_days = calendar.days_of(epics["created"])
    if authorized.label:
        has_label = np.fromiter((authorized.label in (labels or ()) for labels in epics["labels"]), bool, n)
        base = field_days if field_days is not None else created_days
        from_field = (base != NO_DAY) if field_days is not None else np.zeros(n, dtype=bool)
        base = np.where(base == NO_DAY, created_days, base)
        auth = np.where(has_label, base, NO_DAY)
        source = np.where(from_field, f" (date: field {authorized.date_field})", " (date: created)")
        evidence = np.where(has_label, np.char.add(f"label {authorized.label}", source.astype(str)).astype(object),
                            evidence)
    elif field_days is not None:
        auth = field_days
        evidence = np.where(auth != NO_DAY, f"field {authorized.date_field}", evidence)
    for index, key in enumerate(keys):
        if key in authorized.epics:
            auth[index] = day_number(authorized.epics[key])
            evidence[index] = "config finance.window.authorized.epics"
    kind = np.where(auth == NO_DAY, "not-authorized", "window").astype(object)
    looked_at = (f"label {authorized.label}" if authorized.label else
                 f"date in field {authorized.date_field}" if authorized.date_field else "date")
    evidence = np.where(auth == NO_DAY, f"none: no {looked_at} and no entry in finance.window.authorized.epics",
                        evidence)
    status = epics["status"].astype(str).to_numpy()
    no_target = epics["target_date"].isna().to_numpy()
    abandoned = np.isin(status, list(probable.exclude_statuses)) if probable.exclude_statuses else np.zeros(n, bool)
    not_probable = abandoned.copy()
    if probable.require_target_date:
        not_probable |= no_target
    kind = np.where((kind == "window") & not_probable, "not-probable", kind)
    targets = [None if missing else pd.Timestamp(t).date().isoformat()
               for missing, t in zip(no_target, epics["target_date"])]
    probable_basis = np.array([_probable_basis(probable, t, s, a) for t, s, a in zip(targets, status, abandoned)],
                              dtype=object)
    end = np.full(n, OPEN_END, dtype=np.int64)
    release_source = np.full(n, "", dtype=object)
    if release.epic_done:
        done = (epics["status_category"].astype(str) == "done").to_numpy() & epics["resolved"].notna().to_numpy()
        resolved = calendar.days_of(epics["resolved"])
        end = np.where(done, resolved + 1, end)
        release_source = np.where(done, "epic resolved (status " + epics["status"].astype(str) + ")", release_source)
    if release.fix_versions:
        released = {name: day_number(d) + 1 for name, d in release.fix_versions.items()}
        for index, versions in enumerate(epics["fix_versions"]):
            dated = [(released[v], v) for v in (versions or ()) if v in released]
            if dated and min(dated)[0] < end[index]:
                end[index], name = min(dated)
                release_source[index] = f"fix version {name} released (config finance.window.release.fix_versions)"
    per_epic = pd.DataFrame({"window_kind": kind, "window_start": auth, "window_end": end,
                             "window_evidence": evidence, "probable": ~not_probable, "probable_basis": probable_basis,
                             "abandoned": abandoned, "release_source": release_source}, index=keys)
    return per_epic[~per_epic.index.duplicated()]


def _probable_basis(probable: Any, target: str | None, status: str, abandoned: bool) -> str:
    """What the probable-to-complete test saw for one epic, in words."""
    parts = []
    if probable.require_target_date:
        parts.append(f"target date {target}" if target else "no target date (required)")
    if probable.exclude_statuses:
        parts.append(f"status {status} " + ("is" if abandoned else "is not") + " an abandoned status ("
                     + ", ".join(probable.exclude_statuses) + ")")
    return "; ".join(parts) or "always probable (no test configured)"


def _field_days(epics: pd.DataFrame, name: str, calendar: WorkCalendar) -> np.ndarray:
    if name == "created":
        return calendar.days_of(epics["created"])
    if name in epics.columns:
        values = pd.to_datetime(epics[name])
    else:
        values = pd.to_datetime(pd.Series([_as_date((c or {}).get(name)) for c in epics["custom"]],
                                          index=epics.index, dtype="object"), errors="coerce")
    days = values.dt.normalize().to_numpy().astype("datetime64[D]").astype(np.int64)
    return np.where(values.isna().to_numpy(), NO_DAY, days)


def _as_date(value: Any) -> Any:
    if isinstance(value, dict):
        value = value.get("value")
    if isinstance(value, (date, str)):
        return value
    return None


def position(kind: np.ndarray, start: np.ndarray, end: np.ndarray, day: np.ndarray) -> np.ndarray:
    """Where each day sits: ``before``, ``inside``, ``after`` its window, or the window's kind."""
    where = np.where(day < start, "before", np.where(day >= end, "after", "inside")).astype(object)
    return np.where(kind == "window", where, kind)


def _matches(clause: Clause, row: Mapping[Hashable, Any]) -> bool:
    when = clause.when
    tests = (
        (when.buckets, row["bucket"]), (when.bucket_treatment, row["bucket_treatment"]),
        (when.issue_types, row["issue_type"]), (when.statuses, row["status"]), (when.window, row["window"]),
        (when.teams, row["team_id"]), (when.methods, row["method"]), (when.locations, row["location"]),
    )
    return all(not wanted or value in wanted for wanted, value in tests)


def classify(rows: pd.DataFrame, finance: FinanceOptions) -> pd.DataFrame:
    """``<basis>_treatment`` and ``<basis>_clause`` for every row (the first matching clause)."""
    combos = rows[list(CLAUSE_INPUTS)].astype("object").fillna("").drop_duplicates()
    results = []
    for record in combos.to_dict("records"):
        out = dict(record)
        for basis, clauses in finance.bases.items():
            clause = next((c for c in clauses if _matches(c, record)), None)
            if record["window"] == UNALLOCATED_CLAUSE or clause is None:
                out[f"{basis}_treatment"], out[f"{basis}_clause"] = "opex", UNALLOCATED_CLAUSE
            else:
                out[f"{basis}_treatment"], out[f"{basis}_clause"] = clause.treatment, clause.id
        results.append(out)
    table = pd.DataFrame(results, columns=[*CLAUSE_INPUTS, *(f"{b}_{c}" for b in finance.bases
                                                             for c in ("treatment", "clause"))])
    keyed = rows[list(CLAUSE_INPUTS)].astype("object").fillna("")
    merged = keyed.merge(table, on=list(CLAUSE_INPUTS), how="left")
    merged.index = rows.index
    return merged.drop(columns=list(CLAUSE_INPUTS))


def policy_document(finance: FinanceOptions) -> dict[str, Any]:
    """The policy in force as plain data (for the Policy sheet and the close record)."""
    return finance.model_dump(mode="json", exclude={"rates_file"})
