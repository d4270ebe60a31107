"""Detail rows and the tables derived from them: pure functions, no I/O.

The **detail** frame is the audit trail: one row per person × issue × effort month × window
position (× classification), with the effort model, the epic and initiative the issue rolls up
to, the mapped team, bucket and pillar with their provenance, the rate, the cost, and for every
reporting basis the treatment, the clause that decided it and the capex / opex amounts. Every
other table (:func:`build_tables`) is a grouping of the detail, so each total ties to it; the
Reconciliation table shows that instead of assuming it.

Rounding happens once, on the detail (hours and FTE to 6 decimals, money to 2); the grouped
tables add the rounded detail, so detail sums to summary exactly.
"""

from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from rollup.config.models import RollupConfig
from rollup.finance.calendar import Month, WorkCalendar
from rollup.finance.effort import CONFIDENCE, UNALLOCATED
from rollup.finance.policy import classify
from rollup.finance.rates import Rates, RatesError

NONE, UNMAPPED = "(none)", "(unmapped)"
ROW_TYPES = ("effort", UNALLOCATED, "adjustment")
BASE_COLUMNS = (
    "period", "effort_month", "row_type", "person_id", "person", "team_id", "team", "issue_key", "issue_type",
    "epic", "initiative", "bucket", "pillar", "bucket_source", "pillar_source", "team_source", "method",
    "confidence", "window", "work_location", "location", "location_source", "hours", "fte", "rate_source",
    "hourly_rate", "currency", "cost",
)
HOURS_COLUMNS = ("hours", "fte")
#: Decimals kept for hours and FTE (a person-day split seven ways stays exact enough to add up).
HOURS_DP = 6
#: Attributes that identify a detail row when a closed month is compared with today's data.
KEY_COLUMNS = ("effort_month", "person_id", "team_id", "issue_key", "issue_type", "epic", "initiative", "bucket",
               "pillar", "method", "window")


def basis_columns(bases: list[str]) -> list[str]:
    """The per-basis detail columns, in order."""
    return [f"{b}_{c}" for b in bases for c in ("treatment", "clause", "capex", "opex")]


def detail_columns(bases: list[str]) -> list[str]:
    """Every detail column, in order."""
    return [*BASE_COLUMNS, *basis_columns(bases), "cause"]


def money_columns(bases: list[str]) -> list[str]:
    """The money columns of the detail (cost and every basis's capex and opex)."""
    return ["cost", *(f"{b}_{c}" for b in bases for c in ("capex", "opex"))]


def key_columns(bases: list[str]) -> list[str]:
    """:data:`KEY_COLUMNS` plus every basis's treatment and clause."""
    return [*KEY_COLUMNS, *(f"{b}_{c}" for b in bases for c in ("treatment", "clause"))]


def person_names(mapped_issues: pd.DataFrame, worklogs: pd.DataFrame) -> dict[str, str]:
    """Person id → display name, from assignees and worklog authors."""
    names: dict[str, str] = {}
    for ids, shown in ((worklogs.get("author_id"), worklogs.get("author_name")),
                       (mapped_issues["assignee_id"], mapped_issues["assignee_name"])):
        if ids is None or shown is None:
            continue
        pairs = pd.DataFrame({"id": ids.astype("object"), "name": shown.astype("object")}).dropna()
        names.update(dict(zip(pairs["id"], pairs["name"])))
    return names


def detail_rows(effort: pd.DataFrame, mapped_issues: pd.DataFrame, config: RollupConfig, calendar: WorkCalendar,
                rates: Rates, names: dict[str, str]) -> pd.DataFrame:
    """Effort rows → detail rows (period = effort month), classified and costed.

    Raises :class:`RatesError` listing every person with effort and no rate.
    """
    finance = config.finance
    bases = list(finance.bases)
    mapped_issues = mapped_issues.reset_index(drop=True)
    if effort.empty:
        return pd.DataFrame(columns=detail_columns(bases))
    pos = effort["pos"].to_numpy()
    issue = pos >= 0
    take = np.where(issue, pos, 0)

    def attr(column: str, blank: str, unmapped: str = UNMAPPED) -> np.ndarray:
        values = mapped_issues[column].astype("object").to_numpy()[take]
        values = np.where(pd.isna(values), unmapped, values)
        return np.where(issue, values, blank)

    team_names = {t.id: t.name for t in config.teams}
    treatment = {b.id: b.treatment for b in config.buckets}
    team_id = effort["team_id"].astype("object").where(effort["team_id"].notna(), UNMAPPED).to_numpy()
    months = effort["month"].to_numpy()
    month_labels = {mi: Month.from_index(mi).label for mi in np.unique(months)}
    label = pd.Series(months).map(month_labels).to_numpy()
    person_id = effort["person_id"].astype("object").fillna("").to_numpy()
    method = effort["method"].to_numpy()
    window = effort["window"].to_numpy()
    frame = pd.DataFrame({
        "period": label,
        "effort_month": label,
        "row_type": np.where(issue, "effort", UNALLOCATED),
        "person_id": person_id,
        "person": [names.get(p, p or "(unassigned)") for p in person_id],
        "team_id": team_id,
        "team": [team_names.get(t, t) for t in team_id],
        "issue_key": attr("key", ""),
        "issue_type": attr("issue_type", ""),
        "epic": attr("epic", "", NONE),
        "initiative": attr("initiative", "", NONE),
        "bucket": attr("bucket", "(unallocated)"),
        "pillar": attr("pillar", "(unallocated)"),
        "bucket_source": attr("bucket_source", ""),
        "pillar_source": attr("pillar_source", ""),
        "team_source": attr("team_id_source", "home team of the person (most of their person-days)"),
        "method": method,
        "confidence": [CONFIDENCE[m] for m in method],
        "window": window,
        "hours": effort["hours"].to_numpy(dtype=np.float64),
    })
    status = attr("status", "")
    clause_inputs = pd.DataFrame({
        "bucket": frame["bucket"], "issue_type": frame["issue_type"], "status": status,
        "window": frame["window"], "team_id": frame["team_id"], "method": frame["method"],
        "bucket_treatment": [treatment.get(b, "unmapped") for b in frame["bucket"]],
    })
    _locate(frame, rates, finance.domestic_locations)
    clause_inputs["location"] = frame["location"].to_numpy()
    classes = classify(clause_inputs, finance)
    del clause_inputs, status
    try:
        _cost(frame, rates, calendar)
    except RatesError as exc:
        # A misspelt team id in the rates file is the likely cause; say so next to the people.
        typos = rates.unknown_teams([t.id for t in config.teams])
        if not typos:
            raise
        raise RatesError(f"{exc}\n  rows of the rates file that name no team of mappings.yaml, so no effort is "
                         "costed at them:\n    " + "\n    ".join(typos)) from None
    for column in classes.columns:
        frame[column] = classes[column].to_numpy()
    del classes
    for b in bases:
        capex = frame[f"{b}_treatment"].to_numpy() == "capex"
        frame[f"{b}_capex"] = np.where(capex, frame["cost"], 0.0)
        frame[f"{b}_opex"] = np.where(capex, 0.0, frame["cost"])
    frame["cause"] = ""
    return canonical(frame, bases)


def _locate(frame: pd.DataFrame, rates: Rates, domestic: list[str]) -> None:
    """Add ``work_location`` (country code of the person, else of the team, from the rates file), ``location``
    (``domestic`` / ``foreign`` per ``domestic``, else ``unknown``) and ``location_source`` to ``frame``."""
    combos = frame[["person_id", "team_id", "effort_month"]].drop_duplicates()
    found: dict[tuple[Any, Any, Any], tuple[str, str, str]] = {}
    for person_id, team_id, month in combos.itertuples(index=False):
        place = rates.location(person_id or None, team_id, Month(int(month[:4]), int(month[5:])))
        if place is None:
            found[(person_id, team_id, month)] = ("", "unknown", "")
        else:
            kind = ("domestic" if place.country in domestic else "foreign") if domestic else "unknown"
            found[(person_id, team_id, month)] = (place.country, kind, place.source)
    codes, uniques = pd.MultiIndex.from_arrays(
        [frame["person_id"], frame["team_id"], frame["effort_month"]]).factorize()
    for i, column in enumerate(("work_location", "location", "location_source")):
        frame[column] = np.array([found[k][i] for k in uniques], dtype=object)[codes]


def _cost(frame: pd.DataFrame, rates: Rates, calendar: WorkCalendar) -> None:
    """Add hours (rounded), FTE, rate, currency and cost to ``frame``, in place."""
    combos = frame[["person_id", "team_id", "effort_month", "person", "team"]].drop_duplicates(
        ["person_id", "team_id", "effort_month"])
    hourly, source = {}, {}
    missing: dict[tuple[Any, Any], set[str]] = {}
    for person_id, team_id, month, person, team in combos.itertuples(index=False):
        rate = rates.lookup(person_id or None, team_id, Month(int(month[:4]), int(month[5:])), calendar)
        if rate is None:
            missing.setdefault((person_id, person), set()).add(f"{team} in {month}")
        else:
            hourly[(person_id, team_id, month)] = rate.hourly
            source[(person_id, team_id, month)] = rate.source
    if missing:
        lines = [f"{person} (id {pid or '-'}): {', '.join(sorted(where))}"
                 for (pid, person), where in sorted(missing.items(), key=lambda kv: (kv[0][1], kv[0][0]))]
        raise RatesError(f"{rates.path}: no rate for {len(missing)} person(s) with effort; add a person, role or "
                         "team row in force for these months:\n  " + "\n  ".join(lines))
    # One code per (person, team, month) combination instead of a Python key per row.
    codes, uniques = pd.MultiIndex.from_arrays(
        [frame["person_id"], frame["team_id"], frame["effort_month"]]).factorize()
    combo_rate = np.array([hourly[k] for k in uniques], dtype=np.float64)
    combo_source = np.array([source[k] for k in uniques], dtype=object)
    capacity = {m: calendar.capacity_hours(Month(int(m[:4]), int(m[5:]))) for m in frame["effort_month"].unique()}
    hours = frame["hours"].to_numpy(dtype=np.float64).round(HOURS_DP)
    month_capacity = frame["effort_month"].map(capacity).to_numpy(dtype=np.float64)
    frame["hours"] = hours
    frame["fte"] = np.where(month_capacity > 0, hours / np.where(month_capacity > 0, month_capacity, 1), 0.0
                            ).round(HOURS_DP)
    frame["rate_source"] = combo_source[codes]
    frame["hourly_rate"] = combo_rate[codes].round(4)
    frame["currency"] = rates.currency
    frame["cost"] = (hours * frame["hourly_rate"].to_numpy()).round(2)


#: One row per person and month above the month's working hours (:func:`over_allocation`).
OVER_COLUMNS = ["effort_month", "person_id", "person", "logged_hours", "capacity_hours", "over_hours", "policy",
                "scaled_worklog_hours"]


def over_allocation(detail: pd.DataFrame, calendar: WorkCalendar, policy: str,
                    bases: list[str]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """People with more hours in a month than its working hours: (detail, one row each — :data:`OVER_COLUMNS`).

    ``flag``: the detail is unchanged (costed as logged). ``scale``: each of that person's rows of the month is
    scaled by working hours / logged hours — hours, FTE and cost, and every basis's capex or opex with its cost
    (a row is all capex or all opex) — so the person's month is exactly full. Rows without a person are left.
    """
    own = detail[(detail["row_type"] != "adjustment") & detail["person_id"].astype(str).ne("")]
    if own.empty:
        return detail, pd.DataFrame(columns=OVER_COLUMNS)
    logged = own.groupby(["effort_month", "person_id"], sort=True)["hours"].sum()
    months = logged.index.get_level_values(0)
    capacity = pd.Series([calendar.capacity_hours(Month(int(m[:4]), int(m[5:]))) for m in months],
                         index=logged.index, dtype=np.float64)
    above = logged > capacity + 10 ** -HOURS_DP * 10
    if not above.any():
        return detail, pd.DataFrame(columns=OVER_COLUMNS)
    names = own.groupby(["effort_month", "person_id"], sort=True)["person"].first()
    over = pd.DataFrame({"logged_hours": logged[above].round(HOURS_DP), "capacity_hours": capacity[above],
                         "person": names[above]}).reset_index()
    over["over_hours"] = (over["logged_hours"] - over["capacity_hours"]).round(HOURS_DP)
    over["policy"] = policy
    over["scaled_worklog_hours"] = 0.0
    if policy == "scale":
        factor = (capacity[above] / logged[above]).rename("factor")
        keys = pd.MultiIndex.from_arrays([detail["effort_month"], detail["person_id"]])
        row_factor = factor.reindex(keys).to_numpy()
        scaled = ~np.isnan(row_factor) & (detail["row_type"] != "adjustment").to_numpy()
        if scaled.any():
            detail = detail.copy()
            f = np.where(scaled, row_factor, 1.0)
            before = detail["hours"].to_numpy(dtype=np.float64)
            for column in ("hours", "fte"):
                values = detail[column].to_numpy(dtype=np.float64)
                detail[column] = np.where(scaled, (values * f).round(HOURS_DP), values)
            cost = detail["cost"].to_numpy(dtype=np.float64)
            new_cost = np.where(scaled, (detail["hours"].to_numpy(dtype=np.float64)
                                         * detail["hourly_rate"].to_numpy(dtype=np.float64)).round(2), cost)
            detail["cost"] = new_cost
            for b in bases:
                capex = detail[f"{b}_treatment"].to_numpy() == "capex"
                detail[f"{b}_capex"] = np.where(scaled, np.where(capex, new_cost, 0.0), detail[f"{b}_capex"])
                detail[f"{b}_opex"] = np.where(scaled, np.where(capex, 0.0, new_cost), detail[f"{b}_opex"])
            # The worklog hours scaled away, which the store's worklogs still hold (for the reconciliation).
            removed = pd.Series(np.where(scaled & (detail["method"] == "worklogs").to_numpy(),
                                         before - detail["hours"].to_numpy(dtype=np.float64), 0.0), index=keys)
            by_person = removed.groupby(level=[0, 1]).sum()
            over["scaled_worklog_hours"] = by_person.reindex(
                pd.MultiIndex.from_arrays([over["effort_month"], over["person_id"]])).fillna(0.0).round(HOURS_DP
                                                                                                   ).to_numpy()
    return detail, over[OVER_COLUMNS]


def canonical(detail: pd.DataFrame, bases: list[str]) -> pd.DataFrame:
    """The detail in its one order and column set (what is hashed, written and frozen)."""
    columns = detail_columns(bases)
    numbers = ("hours", "fte", "hourly_rate", *money_columns(bases))
    out = detail.reindex(columns=columns)
    for column in columns:
        values = out[column]
        if column in numbers:
            if values.dtype != np.float64 or values.isna().any():
                out[column] = pd.to_numeric(values).astype(np.float64).fillna(0.0)
        else:
            out[column] = _text_categorical(values)
    ranks = {t: i for i, t in enumerate(ROW_TYPES)}
    sort = ["period", "row_type", "effort_month", "team_id", "person_id", "issue_key", "window", "method",
            *(f"{b}_clause" for b in bases), "bucket", "pillar", "epic", "initiative", "hours", "cost"]
    keys = []
    for column in sort:
        if column == "row_type":
            keys.append(out[column].map(ranks).to_numpy())
        elif column in numbers:
            keys.append(out[column].to_numpy())
        else:
            keys.append(out[column].cat.codes.to_numpy())
    order = np.lexsort(keys[::-1])
    return out.take(order).reset_index(drop=True)


def _text_categorical(values: pd.Series) -> pd.Series:
    """Text as a categorical with sorted categories: a byte or two per row, and codes that sort like the text.

    Most detail columns repeat a handful of values (teams, buckets, clauses, provenance) over a
    million rows; as categoricals the detail of a year fits in memory beside the frames.
    """
    if isinstance(values.dtype, pd.CategoricalDtype):
        categories = values.cat.categories
        if values.isna().any() or not categories.is_monotonic_increasing or categories.dtype.kind not in "OUT":
            values = values.astype(object)
        else:
            return values
    values = values.astype(object)
    if values.isna().any():
        values = values.fillna("")
    codes, uniques = pd.factorize(values, sort=True)
    uniques = pd.Index([u if isinstance(u, str) else str(u) for u in uniques], dtype=object)
    if not uniques.is_unique:  # non-text values that print alike
        return _text_categorical(values.map(str))
    return pd.Series(pd.Categorical.from_codes(codes, categories=uniques), index=values.index, name=values.name)



def to_csv_bytes(frame: pd.DataFrame, *, decimals: dict[str, int] | None = None) -> bytes:
    """A frame as CSV bytes with fixed decimals per column, so the same figures give the same bytes."""
    out = frame.copy()
    for column, places in (decimals or {}).items():
        if column in out.columns:
            out[column] = [f"{v:.{places}f}" for v in out[column].to_numpy(dtype=np.float64)]
    buffer = io.StringIO()
    out.to_csv(buffer, index=False, lineterminator="\n")
    return buffer.getvalue().encode("utf-8")


def decimals_for(columns: list[str], bases: list[str]) -> dict[str, int]:
    """Fixed decimals: 6 for hours and FTE, 4 for rates, 2 for money."""
    places = {c: HOURS_DP for c in ("hours", "fte", "allocated_hours", "unallocated_hours", "logged_hours",
                                     "over_hours")}
    places["hourly_rate"] = 4
    places.update({c: 2 for c in money_columns(bases)})
    return {c: places[c] for c in columns if c in places}


def content_hash(detail: pd.DataFrame, bases: list[str]) -> str:
    """SHA-256 of the detail CSV exactly as written (``detail.csv``)."""
    return hashlib.sha256(to_csv_bytes(detail, decimals=decimals_for(list(detail.columns), bases))).hexdigest()


# ---------------------------------------------------------------------------------------- tables


@dataclass
class FinanceTables:
    """Everything the writers need: the detail, its groupings and the reconciliation."""

    month: str
    bases: list[str]
    detail: pd.DataFrame
    summary: pd.DataFrame
    by_pillar: pd.DataFrame
    by_initiative: pd.DataFrame
    people: pd.DataFrame
    reconciliation: pd.DataFrame
    policy: pd.DataFrame
    info: dict[str, Any] = field(default_factory=dict)
    #: One row per capitalized epic: its window's evidence (:func:`rollup.finance.evidence.evidence_table`).
    evidence: pd.DataFrame = field(default_factory=pd.DataFrame)
    #: False for a month closed before evidence was kept (its Evidence sheet is empty: nothing was recorded).
    evidence_kept: bool = True
    #: Sheet → its totals row (the label column says "Total"; each figure the sum of the table's rows, as
    #: the reconciliation sums them): the Summary, By pillar, By initiative and People sheets end with it.
    totals: dict[str, dict[str, Any]] = field(default_factory=dict)

    def csv_tables(self) -> dict[str, pd.DataFrame]:
        """File stem → table, for the CSV set (the ledger import reads these)."""
        return {"summary": self.summary, "by-pillar": self.by_pillar, "by-initiative": self.by_initiative,
                "detail": self.detail, "people": self.people, "reconciliation": self.reconciliation,
                "policy": self.policy, "evidence": self.evidence}

    def csv_files(self) -> dict[str, bytes]:
        """File name → the bytes of each data CSV, as written (fixed decimals: the same figures, the same bytes)."""
        return {f"{stem}.csv": to_csv_bytes(frame, decimals=decimals_for(list(frame.columns), self.bases))
                for stem, frame in self.csv_tables().items()}


def files_hash(files: dict[str, bytes]) -> tuple[str, dict[str, str]]:
    """The content hash of a set of data files and each file's SHA-256: SHA-256 over ``<sha256>  <name>`` lines
    in name order (what ``sha256sum`` prints for the files), so it changes when any file does."""
    each = {name: hashlib.sha256(data).hexdigest() for name, data in sorted(files.items())}
    manifest = "".join(f"{digest}  {name}\n" for name, digest in each.items())
    return hashlib.sha256(manifest.encode("utf-8")).hexdigest(), each


def group_totals(detail: pd.DataFrame, by: list[str], bases: list[str]) -> pd.DataFrame:
    """Hours, FTE, cost and every basis's capex/opex, summed over ``by``."""
    numbers = ["hours", "fte", *money_columns(bases)]
    if detail.empty:
        return pd.DataFrame(columns=[*by, *numbers])
    out = detail.groupby(by, sort=True, dropna=False, observed=True)[numbers].sum().reset_index()
    for column in numbers:
        out[column] = out[column].round(HOURS_DP if column in HOURS_COLUMNS else 2)
    return out


def people_table(detail: pd.DataFrame, bases: list[str], capacity_hours: float | None = None,
                 over: pd.DataFrame | None = None) -> pd.DataFrame:
    """FTE per person per month (the period's own effort and unallocated time; adjustments left out).

    ``fte`` is the person's hours over ``capacity_hours`` (the month's working hours) when given,
    else the sum of the rows' FTE. ``over`` (:func:`over_allocation`): ``logged_hours`` and ``over_hours`` —
    hours as logged and how far above the month's working hours (0 for everyone within them); with the
    ``scale`` policy ``hours`` is then the scaled figure.
    """
    own = detail[detail["row_type"] != "adjustment"]
    columns = ["period", "person_id", "person", "hours", "allocated_hours", "unallocated_hours", "fte", "cost",
               "methods", "logged_hours", "over_hours"]
    if own.empty:
        return pd.DataFrame(columns=columns)
    own = own.assign(allocated_hours=np.where(own["row_type"] == "effort", own["hours"], 0.0),
                     unallocated_hours=np.where(own["row_type"] == "unallocated", own["hours"], 0.0))
    out = (own.groupby(["period", "person_id"], sort=True, observed=True)
           .agg(person=("person", "first"), hours=("hours", "sum"), allocated_hours=("allocated_hours", "sum"),
                unallocated_hours=("unallocated_hours", "sum"), fte=("fte", "sum"), cost=("cost", "sum"),
                methods=("method", lambda m: ", ".join(sorted(set(m)))))
           .reset_index())
    if capacity_hours:
        out["fte"] = out["hours"] / capacity_hours
    for column in ("hours", "allocated_hours", "unallocated_hours", "fte"):
        out[column] = out[column].round(HOURS_DP)
    out["cost"] = out["cost"].round(2)
    flagged = (over.set_index(["effort_month", "person_id"])[["logged_hours", "over_hours"]]
               if over is not None and len(over) else None)
    keys = pd.MultiIndex.from_arrays([out["period"], out["person_id"]])
    if flagged is not None:
        found = flagged.reindex(keys)
        out["logged_hours"] = found["logged_hours"].fillna(pd.Series(out["hours"].to_numpy(), index=keys)).to_numpy()
        out["over_hours"] = found["over_hours"].fillna(0.0).to_numpy()
    else:
        out["logged_hours"], out["over_hours"] = out["hours"], 0.0
    return out[columns]


def column_total(frame: pd.DataFrame, column: str) -> float:
    """A table's total of one column: the sum of its rows (what a totals row shows and a check compares)."""
    return float(frame[column].sum()) if len(frame) else 0.0


def totals_row(frame: pd.DataFrame, label: str, numbers: list[str]) -> dict[str, Any]:
    """``{label: "Total", column: total, …}`` for ``numbers`` (rounded as the rows are)."""
    row: dict[str, Any] = {label: "Total"}
    for column in numbers:
        if column in frame.columns:
            money = column == "cost" or column.endswith(("_capex", "_opex"))
            row[column] = round(column_total(frame, column), 2 if money else HOURS_DP)
    return row


def _named(frame: pd.DataFrame, column: str, names: dict[str, str]) -> pd.DataFrame:
    """``frame`` with ``<column>_name`` (the display name from mappings.yaml; an id without one is itself) after
    ``column``."""
    out = frame.copy()
    ids = out[column].astype("object")
    out.insert(list(out.columns).index(column) + 1, f"{column}_name",
               [names.get(str(i), str(i)) if isinstance(i, str) else i for i in ids])
    return out


def build_tables(month: str, detail: pd.DataFrame, bases: list[str], *, sources: dict[str, Any],
                 policy_rows: list[tuple[str, str]], info: dict[str, Any],
                 capacity_hours: float | None = None,
                 names: dict[str, dict[str, str]] | None = None,
                 over: pd.DataFrame | None = None, evidence: pd.DataFrame | None = None,
                 evidence_kept: bool = True) -> FinanceTables:
    """Every table of the export from the detail (plus the independent totals in ``sources``).

    ``names``: ``{"buckets": {id: name}, "pillars": {id: name}}`` — the Summary gains ``bucket_name``, the
    pillar and initiative tables ``pillar_name`` (the ids stay: the ledger import reads them). ``evidence``: the
    Evidence table (:func:`rollup.finance.evidence.evidence_table`), tied to the detail on the Reconciliation
    unless ``evidence_kept`` is False (a month closed before evidence was recorded).
    """
    names = names or {}
    summary = _named(group_totals(detail, ["period", "team_id", "team", "bucket", "row_type"], bases), "bucket",
                     names.get("buckets", {}))
    by_pillar = _named(group_totals(detail, ["period", "pillar", "row_type"], bases), "pillar",
                       names.get("pillars", {}))
    by_initiative = _named(group_totals(detail, ["period", "initiative", "pillar", "row_type"], bases), "pillar",
                           names.get("pillars", {}))
    if over is not None:
        over = over[over["effort_month"].astype(str).eq(month)] if len(over) else pd.DataFrame(columns=OVER_COLUMNS)
    people = people_table(detail, bases, capacity_hours, over)
    reconciliation = reconcile(detail, summary, by_pillar, by_initiative, people, bases, sources,
                               capacity_hours=capacity_hours, over=over,
                               evidence=evidence if evidence_kept else None)
    policy = pd.DataFrame(policy_rows, columns=["item", "value"])
    numbers = ["hours", "fte", *money_columns(bases)]
    totals = {"Summary": totals_row(summary, "period", numbers),
              "By pillar": totals_row(by_pillar, "period", numbers),
              "By initiative": totals_row(by_initiative, "period", numbers),
              "People": totals_row(people, "period", ["hours", "allocated_hours", "unallocated_hours", "cost",
                                                      "logged_hours", "over_hours"])}
    return FinanceTables(month=month, bases=bases, detail=detail, summary=summary, by_pillar=by_pillar,
                         by_initiative=by_initiative, people=people, reconciliation=reconciliation, policy=policy,
                         info=info, totals=totals,
                         evidence=evidence if evidence is not None else pd.DataFrame(columns=["period", "epic"]),
                         evidence_kept=evidence is not None and evidence_kept)


def reconcile(detail: pd.DataFrame, summary: pd.DataFrame, by_pillar: pd.DataFrame, by_initiative: pd.DataFrame,
              people: pd.DataFrame, bases: list[str], sources: dict[str, Any], *,
              capacity_hours: float | None = None, over: pd.DataFrame | None = None,
              evidence: pd.DataFrame | None = None) -> pd.DataFrame:
    """Every total against the detail, computed both ways: check, left, right, difference, tolerance, ok."""
    rows: list[tuple[str, float, float, float]] = []
    n = max(len(detail), 1)
    hours_tol, money_tol = 1e-6 + 5e-7 * n, 1e-6 + 5e-3 * n

    def add(check: str, left: float, right: float, tolerance: float) -> None:
        rows.append((check, round(float(left), HOURS_DP), round(float(right), HOURS_DP), tolerance))

    total = column_total
    add("Summary hours = detail hours", total(summary, "hours"), total(detail, "hours"), 0.005)
    add("Summary cost = detail cost", total(summary, "cost"), total(detail, "cost"), 0.005)
    add("By pillar cost = detail cost", total(by_pillar, "cost"), total(detail, "cost"), 0.005)
    add("By initiative cost = detail cost", total(by_initiative, "cost"), total(detail, "cost"), 0.005)
    own = detail[detail["row_type"] != "adjustment"]
    add("People hours = detail hours of the period (effort + unallocated)", total(people, "hours"),
        total(own, "hours"), 0.005)
    for b in bases:
        add(f"{b}: detail capex + opex = detail cost", total(detail, f"{b}_capex") + total(detail, f"{b}_opex"),
            total(detail, "cost"), 0.005)
        add(f"{b}: summary capex = detail capex", total(summary, f"{b}_capex"), total(detail, f"{b}_capex"), 0.005)
    if evidence is not None:
        # Every capitalized row is on the Evidence sheet through its epic, or has no epic to give evidence for.
        no_epic = detail[detail["epic"].astype(str) == NONE] if len(detail) else detail
        for b in bases:
            add(f"{b}: Evidence capex (capitalized epics) + capex of rows without an epic = detail capex",
                total(evidence, f"{b}_capex") + total(no_epic, f"{b}_capex"), total(detail, f"{b}_capex"), 0.005)
    effort = own[own["row_type"] == "effort"]
    if "worklog_hours" in sources:
        scaled_away = total(over, "scaled_worklog_hours") if over is not None and "scaled_worklog_hours" in over else 0
        if scaled_away:
            add("Worklog hours in the store (worklog teams, this month) − hours scaled to the working hours "
                "(policy scale) = detail worklog hours", sources["worklog_hours"] - scaled_away,
                total(effort[effort["method"] == "worklogs"], "hours"), hours_tol)
        else:
            add("Worklog hours in the store (worklog teams, this month) = detail worklog hours",
                sources["worklog_hours"], total(effort[effort["method"] == "worklogs"], "hours"), hours_tol)
    if "allocated_person_days" in sources:
        add("Allocated person-days × hours per day = detail person-days hours",
            sources["allocated_person_days"] * sources["hours_per_day"],
            total(effort[effort["method"] == "person-days"], "hours"), hours_tol)
        add("Unallocated person-days × hours per day = unallocated hours",
            sources["unallocated_person_days"] * sources["hours_per_day"],
            total(own[own["row_type"] == "unallocated"], "hours"), hours_tol)
    if "max_person_days_fte" in sources:
        add("Largest person-days FTE of one person (must not exceed 1)", sources["max_person_days_fte"], 1.0, 0.0)
    if capacity_hours and len(people) and over is not None:
        # Hours above the month's working hours, person by person: the People sheet's figure against the
        # detail's (flag), or none left once scaled (scale). Not for a month closed before they were counted.
        policy = str(over["policy"].iloc[0]) if len(over) else None
        shown = total(people, "over_hours")
        if policy == "scale":
            above = (people["hours"] - capacity_hours).clip(lower=0)
            add(f"Hours above the month's {capacity_hours:g} working hours after scaling {len(over)} person(s) "
                "(policy scale) = 0", float(above.sum()), 0.0, hours_tol)
            add("People: hours as logged − hours costed = hours scaled away", total(people, "logged_hours")
                - total(people, "hours"), shown, hours_tol)
        else:
            per_person = own.groupby("person_id")["hours"].sum() if len(own) else pd.Series(dtype=float)
            from_detail = float((per_person[per_person.index.astype(str) != ""] - capacity_hours).clip(lower=0).sum())
            count = int((people["over_hours"] > 0).sum())
            add(f"Hours above the month's {capacity_hours:g} working hours, {count} person(s), costed as logged "
                "(policy flag): People = detail", shown, from_detail, hours_tol)
    if "adjustment_cost" in sources:
        add("Adjustments: today's figures − booked figures of closed months = adjustment cost",
            sources["adjustment_cost"], total(detail[detail["row_type"] == "adjustment"], "cost"), money_tol)
    frame = pd.DataFrame(rows, columns=["check", "left", "right", "tolerance"])
    frame["difference"] = (frame["left"] - frame["right"]).round(HOURS_DP)
    fte_check = frame["check"].str.startswith("Largest person-days FTE")
    frame["ok"] = np.where(fte_check, frame["left"] <= frame["right"] + 1e-9,
                           frame["difference"].abs() <= frame["tolerance"])
    frame["tolerance"] = frame["tolerance"].round(6)
    return frame[["check", "left", "right", "difference", "tolerance", "ok"]]
