"""The finance pipeline: store → frames → mapping → effort → detail → tables → writers.

:func:`run_export` is the one entry point the CLI and the scheduler call. For an open month it
computes the detail from today's data (and, in the first open month, the adjustments to closed
months); for a closed month it reads the frozen rows back, hash-checked, so the figures are the
ones booked. :func:`close_month` freezes a month; :func:`reopen_month` undoes that with a logged
reason. Every input is validated (config, rates, every person's rate) before anything is written.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from rollup.config import RollupConfig, config_hash
from rollup.errors import ConfigError, EmptyStoreError, RollupError
from rollup.finance.adjustments import compute_adjustments
from rollup.finance.allocation import (
    OVER_COLUMNS,
    FinanceTables,
    build_tables,
    canonical,
    content_hash,
    detail_columns,
    detail_rows,
    files_hash,
    over_allocation,
    person_names,
)
from rollup.finance.calendar import Month, WorkCalendar, day_date, parse_month
from rollup.finance.effort import Effort, compute_effort, month_of_day
from rollup.finance.evidence import evidence_columns, evidence_table
from rollup.finance.ledger import Ledger
from rollup.finance.policy import epic_evidence, epic_windows, policy_document
from rollup.finance.rates import load_rates, rates_path
from rollup.frames import Frames, load_frames
from rollup.mapping import apply
from rollup.store import STATE_SERVER_BASE_URL, Store
from rollup.store.sites import JiraBase, last_ok_finished, links_for


@dataclass
class MonthFigures:
    """One month's detail and everything needed to write and explain it."""

    month: Month
    status: str  # open | closed
    detail: pd.DataFrame
    bases: list[str]
    sources: dict[str, Any]
    meta: dict[str, Any]
    digest: str

    @property
    def adjustments(self) -> int:
        """Adjustment rows booked in this month."""
        return int((self.detail["row_type"] == "adjustment").sum()) if len(self.detail) else 0


@dataclass
class ExportResult:
    """What an export wrote."""

    month: str
    status: str
    folder: Path
    paths: list[Path]
    content_hash: str
    rows: int
    adjustments: int
    totals: dict[str, float] = field(default_factory=dict)
    #: The last day of data when the month is not over in it (a partial month), else None.
    data_runs_to: str | None = None
    #: The content hash of every data file (:func:`rollup.finance.allocation.files_hash`); ``content_hash`` is
    #: detail.csv's alone.
    files_hash: str = ""
    #: A closed month: whether its data files are those of the close (None when the close kept no files hash).
    matches_close: bool | None = None
    #: A closed month whose files differ from the close's: which.
    changed_since_close: list[str] = field(default_factory=list)
    #: Capitalized epics on the Evidence sheet.
    evidence: int = 0
    #: False for a month closed before evidence was recorded (its Evidence sheet is empty for that reason).
    evidence_kept: bool = True

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return {"month": self.month, "status": self.status, "folder": str(self.folder),
                "paths": [str(p) for p in self.paths], "content_hash": self.content_hash,
                "files_hash": self.files_hash, "matches_close": self.matches_close,
                "changed_since_close": self.changed_since_close, "rows": self.rows,
                "adjustments": self.adjustments, "evidence": self.evidence, "evidence_kept": self.evidence_kept,
                "totals": self.totals,
                "data_runs_to": self.data_runs_to}


# ---------------------------------------------------------------------------------------- inputs


def data_hash(frames: Frames) -> str:
    """SHA-256 over every issue's id and update time, every worklog and every transition."""
    digest = hashlib.sha256()
    for frame, columns in ((frames.issues, ["id", "updated"]), (frames.worklogs, ["id", "updated", "seconds"]),
                           (frames.transitions, ["issue_id", "history_id", "at"])):
        part = frame[columns] if len(frame) else pd.DataFrame(columns=columns)
        digest.update(pd.util.hash_pandas_object(part, index=False).to_numpy().tobytes())
    return digest.hexdigest()


def data_as_of(store: Store, frames: Frames, now: datetime | None = None) -> datetime:
    """When the data was read from Jira: the last finished sync, else the latest update, else now."""
    finished = last_ok_finished(store.sync_run_rows())  # with several sites: the oldest site's
    if finished is not None:
        return finished
    if len(frames.issues):
        return frames.issues["updated"].max().to_pydatetime()
    return now or datetime.now(timezone.utc)


# ---------------------------------------------------------------------------------------- figures


def month_figures(store: Store, config: RollupConfig, month: str | Month, *, rates_path_option: str | Path | None
                  = None, now: datetime | None = None, frames: Frames | None = None) -> MonthFigures:
    """The month's detail: frozen when closed, else computed (with adjustments in the first open month)."""
    month = parse_month(month)
    ledger = Ledger(store)
    closed = ledger.closed()
    if month.label in closed:
        record = closed[month.label]
        detail = ledger.month_detail(month.label)
        return MonthFigures(month, "closed", detail, list(record.meta["bases"]), dict(record.meta["sources"]),
                            record.meta, record.content_hash)
    finance = config.finance
    rates = load_rates(rates_path(rates_path_option, finance), finance)
    calendar = WorkCalendar(finance.calendar)
    frames = frames if frames is not None else load_frames(store)
    if frames.issues.empty:  # a month of zeros must never replace real figures
        raise EmptyStoreError(store.location)
    as_of = data_as_of(store, frames, now)
    as_of_day = calendar.days_of(pd.DatetimeIndex([pd.Timestamp(as_of)]))[0]
    if as_of_day < month.start_day:
        raise ConfigError(f"{month} has not started in the store's data, which runs to {day_date(as_of_day)} (the "
                          "last sync); export an ended month, or the current one as a preview")
    mapped_issues = apply(frames.issues, config).issues.reset_index(drop=True)
    latest = max(closed) if closed else None
    first_open = parse_month(latest).next() if latest else None
    adjust = [parse_month(m) for m in closed] if first_open == month else []
    per_epic = epic_evidence(mapped_issues, finance, calendar)
    windows = epic_windows(mapped_issues, finance, calendar, per_epic)
    effort = compute_effort(mapped_issues, frames.transitions, frames.worklogs, windows, finance, calendar,
                            [month, *adjust], as_of_day, max_story_points=config.report.max_story_points)
    names = person_names(mapped_issues, frames.worklogs)
    detail_all = detail_rows(effort.rows, mapped_issues, config, calendar, rates, names)
    bases = list(finance.bases)
    detail_all, over = over_allocation(detail_all, calendar, finance.over_allocation, bases)
    detail = detail_all[detail_all["effort_month"] == month.label]
    sources = _sources(effort, frames, mapped_issues, calendar, month, finance)
    # People above the month's working hours (flagged or scaled, per finance.over_allocation).
    sources["over_allocation"] = over[over["effort_month"] == month.label].to_dict(orient="records")
    sources.update(_points_left_out(effort, mapped_issues, month, config.report.max_story_points))
    if adjust:
        labels = [m.label for m in adjust]
        fresh = detail_all[detail_all["effort_month"].isin(labels)]
        booked = ledger.frozen(effort_months=labels)
        booked = booked.reindex(columns=detail_columns(bases)) if len(booked) else fresh.iloc[0:0]
        adjustments = compute_adjustments(
            fresh, booked, period=month.label, bases=bases,
            closed_at={m: r.closed_at for m, r in closed.items()},
            worklogs=_worklog_evidence(frames, mapped_issues, calendar),
            issue_updated=dict(zip(mapped_issues["key"].astype(str), mapped_issues["updated"])))
        sources["adjustment_cost"] = round(float(fresh["cost"].sum()) - float(booked["cost"].sum()), 2)
        detail = pd.concat([detail, adjustments], ignore_index=True)
    if not len(detail):
        # Zero rows with exit 0 would read as a month without R&D cost; it is a month without data.
        first = pd.to_datetime(mapped_issues["created"], utc=True).min()
        raise ConfigError(f"{month} has no effort in the store's data: no worklog, completed issue or work in "
                          f"progress counts in it (the earliest issue was created "
                          f"{first.date().isoformat() if pd.notna(first) else 'later'}); nothing written")
    detail = canonical(detail, bases)
    mappings_sha256 = config_hash(config)
    evidence = evidence_table(month.label, detail, per_epic, mapped_issues, bases, mappings_sha256=mappings_sha256,
                              as_of=pd.Timestamp(as_of).date().isoformat())
    meta = {
        "month": month.label,
        "bases": bases,
        "columns": detail_columns(bases),
        "policy": policy_document(finance),
        "mappings_sha256": mappings_sha256,
        "mappings_source": config.source,
        "rates_sha256": rates.sha256,
        "rates_file": str(rates.path),
        "data_sha256": data_hash(frames),
        "data_as_of": pd.Timestamp(as_of).isoformat(),
        # The month is partial until the data (the last sync) is past its end, as for closing.
        "data_runs_to": day_date(as_of_day).isoformat() if as_of_day < month.end_day else None,
        "sources": sources,
        "adjusted_months": [m.label for m in adjust],
        # The names shown beside bucket and pillar ids; a closed month keeps those it was closed with.
        "names": display_names(config),
        # Each capitalized epic's evidence (dates, their sources, clauses, the JQL of its issues), kept at close.
        "evidence": evidence.to_dict(orient="records"),
    }
    return MonthFigures(month, "open", detail, bases, sources, meta, content_hash(detail, bases))


def _sources(effort: Effort, frames: Frames, mapped_issues: pd.DataFrame, calendar: WorkCalendar, month: Month,
             finance: Any) -> dict[str, Any]:
    """Totals computed straight from the inputs, for the Reconciliation sheet."""
    out: dict[str, Any] = {"hours_per_day": calendar.hours_per_day, "capacity_hours": calendar.capacity_hours(month)}
    wl = frames.worklogs
    if len(wl):
        teams = mapped_issues.set_index("id")["team_id"].astype("object")
        team = wl["issue_id"].map(teams)
        uses = np.array([finance.effort.method_for(t if isinstance(t, str) else None) == "worklogs" for t in team])
        day = calendar.days_of(wl["started"])
        in_month = (day >= month.start_day) & (day < month.end_day) & wl["issue_id"].isin(teams.index).to_numpy()
        out["worklog_hours"] = round(float(wl["seconds"].to_numpy()[uses & in_month].sum()) / 3600.0, 4)
    else:
        out["worklog_hours"] = 0.0
    days = effort.person_days[effort.person_days["month"] == month.index]
    out["allocated_person_days"] = int(days["allocated_days"].sum())
    out["unallocated_person_days"] = int(days["unallocated_days"].sum())
    working = calendar.working_days(month)
    fte = (days["allocated_days"] + days["unallocated_days"]) / working if working and len(days) else pd.Series([0.0])
    out["max_person_days_fte"] = round(float(fte.max()), 6)
    return out


def _points_left_out(effort: Effort, mapped_issues: pd.DataFrame, month: Month, max_points: float) -> dict[str, Any]:
    """The month's completed issues of points teams whose story points are out of range: how many, which."""
    rows = effort.points_left_out[effort.points_left_out["month"] == month.index]
    keys = mapped_issues["key"].astype(str).to_numpy()[rows["pos"].to_numpy()]
    listed = sorted(zip(keys, rows["story_points"]), key=lambda kv: kv[0])
    return {"points_out_of_range": len(rows), "max_story_points": float(max_points),
            "points_out_of_range_issues": ", ".join(f"{k} ({p:g})" for k, p in listed)}


def _worklog_evidence(frames: Frames, mapped_issues: pd.DataFrame, calendar: WorkCalendar) -> pd.DataFrame:
    wl = frames.worklogs
    keys = mapped_issues.set_index("id")["key"].astype("object")
    months = month_of_day(calendar.days_of(wl["started"])) if len(wl) else np.array([], dtype=np.int64)
    return pd.DataFrame({
        "id": wl["id"].to_numpy(), "issue_key": wl["issue_id"].map(keys).to_numpy(),
        "author_id": wl["author_id"].to_numpy(),
        "started_month": [Month.from_index(m).label for m in months],
        "updated": wl["updated"].to_numpy(),
    })


def _points_note(sources: dict[str, Any]) -> list[tuple[str, str]]:
    """The Policy row on story points the points model left out (none for months closed before it was kept)."""
    if "points_out_of_range" not in sources:
        return []
    n = int(sources["points_out_of_range"])
    rule = (f"story points below 0 or above report.max_story_points ({sources['max_story_points']:g}) are not an "
            "estimate, as in the portfolio")
    if not n:
        return [("points model: story points out of range", f"none left out ({rule})")]
    issues = "issue" if n == 1 else "issues"
    return [("points model: story points out of range",
             f"{n} completed {issues} of points teams left out, taking no share of the capacity ({rule}): "
             f"{sources['points_out_of_range_issues']}")]


def _over_note(meta: dict[str, Any]) -> list[tuple[str, str]]:
    """The over-allocation policy and whom it touched this month (nothing for a month closed before it was kept)."""
    sources = meta.get("sources", {})
    if "over_allocation" not in sources:
        return []
    policy = meta["policy"].get("over_allocation", "flag")
    rule = ("flag: hours beyond a person's working hours in the month are costed as logged and shown on People "
            "(logged hours, over hours) and the Reconciliation" if policy == "flag" else
            "scale: a person's rows of a month beyond its working hours are scaled down to them, cost with them; "
            "People shows the hours as logged and those scaled away")
    people = sources["over_allocation"]
    who = "; ".join(f"{p['person']} {p['logged_hours']:g} h of {p['capacity_hours']:g} h" for p in people)
    return [("over-allocation policy", rule),
            ("people over their working hours", f"{len(people)}" + (f": {who}" if who else ""))]


def display_names(config: RollupConfig) -> dict[str, dict[str, str]]:
    """Bucket and pillar id → name, from mappings.yaml."""
    return {"buckets": {b.id: b.name for b in config.buckets}, "pillars": {p.id: p.name for p in config.pillars}}


def policy_rows(figures: MonthFigures, *, closed_at: datetime | None) -> list[tuple[str, str]]:
    """The Policy sheet: what was in force and the input hashes (when the export ran is in ``run.json``, so a
    closed month's sheets are the same on every export)."""
    meta = figures.meta
    rows = [
        ("month", figures.month.label),
        ("status", figures.status + (f" (closed {closed_at:%Y-%m-%d %H:%M} UTC; figures are the frozen rows)"
                                     if closed_at else " (figures from today's data)")
         + (f"; partial: the data runs to {meta['data_runs_to']}, before the month ends"
            if meta.get("data_runs_to") else "")),
        ("content sha256 (detail.csv)", figures.digest),
        ("mappings sha256 (the validated settings, as JSON)", meta["mappings_sha256"]),
        ("mappings file", meta.get("mappings_source", "")),
        ("rates sha256", meta["rates_sha256"]),
        ("data snapshot sha256", meta["data_sha256"]),
        ("data as of", meta["data_as_of"]),
        ("adjusted closed months", ", ".join(meta.get("adjusted_months", [])) or "none"),
        *_points_note(meta.get("sources", {})),
        *_over_note(meta),
        # A month closed before evidence was kept has no such row: its Policy sheet stays the bytes it was.
        *([("evidence", f"{len(meta['evidence'])} capitalized epic(s) on the Evidence sheet (evidence.csv): the "
                        "dates of each window, their sources, the clauses, the JQL of the issues")]
          if "evidence" in meta else []),
        ("reporting currency", meta["policy"]["currency"]),
    ]
    policy = meta["policy"]
    rows.append(("calendar", json.dumps(policy["calendar"], sort_keys=True)))
    rows.append(("effort models", json.dumps(policy["effort"], sort_keys=True)))
    rows.append(("capitalization window", json.dumps(policy["window"], sort_keys=True)))
    # In the month's own basis order: a closed month's policy comes back from PostgreSQL's JSONB with its keys
    # re-sorted, and its Policy sheet must be the same bytes on every database.
    for basis in meta["bases"]:
        clauses = policy["bases"][basis]
        for index, clause in enumerate(clauses, start=1):
            when = {k: v for k, v in clause["when"].items() if v}
            rows.append((f"{basis} clause {index}: {clause['id']}",
                         f"{clause['treatment']} when {json.dumps(when, sort_keys=True) if when else 'always'}"
                         + (f" — {clause['description']}" if clause.get("description") else "")))
    return rows


# ---------------------------------------------------------------------------------------- commands


def run_export(store: Store, config: RollupConfig, *, month: str, out_dir: str | Path,
               rates_path: str | Path | None = None, now: datetime | None = None,
               base_url: JiraBase | None = None) -> ExportResult:
    """Write the month's workbook and CSVs into ``out_dir/finance-<month>/``, all or nothing."""
    from rollup.writers.finance import write_finance

    figures = month_figures(store, config, month, rates_path_option=rates_path, now=now)
    generated_at = now or datetime.now(timezone.utc)
    closed = Ledger(store).closed().get(figures.month.label)
    tables = export_tables(figures, config, closed_at=closed.closed_at if closed else None)
    failed = tables.reconciliation[~tables.reconciliation["ok"]]
    if len(failed):
        raise RollupError("the figures do not reconcile, nothing written:\n  "
                          + "\n  ".join(f"{r.check}: {r.left} vs {r.right}" for r in failed.itertuples()))
    base_url = base_url or links_for(store, STATE_SERVER_BASE_URL)
    # The files carry no time of the export (a closed month is the same bytes on every export): the workbook's
    # own dates are those of the figures; when it ran, and the hash of each file, are in run.json.
    figures_at = closed.closed_at if closed else pd.Timestamp(figures.meta["data_as_of"]).to_pydatetime()
    files = tables.csv_files()
    digest, each = files_hash(files)
    at_close = closed.meta.get("files_sha256") if closed else None
    changed = sorted(n for n in set(each) | set(at_close or {}) if each.get(n) != (at_close or {}).get(n))
    matches = None if at_close is None else not changed
    folder, paths = write_finance(tables, out_dir, base_url=base_url, stamp=figures_at, files=files, run={
        "month": figures.month.label, "status": figures.status,
        "exported_at": generated_at.astimezone(timezone.utc).isoformat(timespec="seconds"),
        "closed_at": closed.closed_at.isoformat(timespec="seconds") if closed else None,
        "content_sha256": figures.digest, "data_files_sha256": digest,
        "data_files_sha256_at_close": closed.meta.get("data_files_sha256") if closed else None,
        "matches_close": matches, "changed_since_close": changed if at_close is not None else [],
        "evidence_kept": tables.evidence_kept})
    return ExportResult(month=figures.month.label, status=figures.status, folder=folder, paths=paths,
                        content_hash=figures.digest, rows=len(figures.detail), adjustments=figures.adjustments,
                        totals=_totals(tables), data_runs_to=figures.meta.get("data_runs_to"), files_hash=digest,
                        matches_close=matches, changed_since_close=changed if at_close is not None else [],
                        evidence=len(tables.evidence), evidence_kept=tables.evidence_kept)


def export_tables(figures: MonthFigures, config: RollupConfig, *, closed_at: datetime | None) -> FinanceTables:
    """Every sheet and CSV of the month's export, from its figures (a closed month's own names and sources)."""
    kept = figures.meta.get("evidence")
    evidence = pd.DataFrame(kept if kept is not None else [], columns=evidence_columns(figures.bases))
    return build_tables(figures.month.label, figures.detail, figures.bases, sources=figures.sources,
                        policy_rows=policy_rows(figures, closed_at=closed_at),
                        info={"status": figures.status, "content_hash": figures.digest,
                              "currency": figures.meta["policy"]["currency"]},
                        capacity_hours=figures.sources.get("capacity_hours"),
                        names=figures.meta.get("names") or display_names(config),
                        over=(pd.DataFrame(figures.sources["over_allocation"], columns=OVER_COLUMNS)
                              if "over_allocation" in figures.sources else None),
                        evidence=evidence, evidence_kept=kept is not None)


def _totals(tables: FinanceTables) -> dict[str, float]:
    detail = tables.detail
    out = {"hours": round(float(detail["hours"].sum()), 4), "cost": round(float(detail["cost"].sum()), 2)}
    for b in tables.bases:
        out[f"{b}_capex"] = round(float(detail[f"{b}_capex"].sum()), 2)
        out[f"{b}_opex"] = round(float(detail[f"{b}_opex"].sum()), 2)
    return out


def close_month(store: Store, config: RollupConfig, month: str, *, rates_path: str | Path | None = None,
                now: datetime | None = None) -> MonthFigures:
    """Freeze ``month``: store its detail rows and content hash; later Jira edits become adjustments.

    Months close in order (the first open month after the last closed one), only once the data
    (the last sync) is past the month's end.
    """
    target = parse_month(month)
    ledger = Ledger(store)
    closed = ledger.closed()
    if target.label in closed:
        raise ConfigError(f"{target} is already closed (content hash {closed[target.label].content_hash[:12]}…); "
                          f"reopen it first with: rollup finance reopen {target} --confirm --reason \"…\"")
    later = [m for m in closed if m > target.label]
    if later:
        raise ConfigError(f"{target} cannot be closed: the later month {later[-1]} is already closed; months close "
                          "in order")
    if closed:
        expected = parse_month(max(closed)).next()
        if target != expected:
            raise ConfigError(f"{target} cannot be closed yet: months close in order, and the first open month is "
                              f"{expected}; close {expected} first")
    figures = month_figures(store, config, target, rates_path_option=rates_path, now=now)
    as_of = pd.Timestamp(figures.meta["data_as_of"])
    calendar = WorkCalendar(config.finance.calendar)
    as_of_day = calendar.days_of(pd.DatetimeIndex([as_of]))[0]
    if as_of_day < target.end_day:
        raise ConfigError(f"{target} cannot be closed: the store's data runs to {day_date(as_of_day)} (the last "
                          f"sync), before the month ends; sync after {day_date(target.end_day - 1)} and close then")
    return store_close(ledger, config, figures, now=now)


def store_close(ledger: Ledger, config: RollupConfig, figures: MonthFigures, *, now: datetime | None = None
                ) -> MonthFigures:
    """Close ``figures``' month in ``ledger``: its rows, its content hash and the content hash of the data files
    an export of the closed month writes (worked out here from the figures as the store will give them back)."""
    closed_at = now or datetime.now(timezone.utc)
    meta = _stored_json(figures.meta)
    as_closed = MonthFigures(figures.month, "closed", figures.detail, figures.bases, figures.sources, meta,
                             figures.digest)
    digest, each = files_hash(export_tables(as_closed, config, closed_at=closed_at).csv_files())
    figures.meta = {**meta, "data_files_sha256": digest, "files_sha256": each}
    ledger.close(figures.month.label, figures.detail, figures.digest, figures.meta, now=closed_at)
    return figures


def _stored_json(value: Any) -> Any:
    """``value`` as a JSON column gives it back on every database: a negative zero is zero (PostgreSQL's JSONB
    keeps no sign on it), so the files worked out at the close are those a later export writes."""
    if isinstance(value, float):
        return value + 0.0
    if isinstance(value, dict):
        return {k: _stored_json(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_stored_json(v) for v in value]
    return value


def reopen_month(store: Store, month: str, *, reason: str, confirm: bool, now: datetime | None = None) -> str:
    """Reopen the latest closed month (explicitly confirmed, with a reason, logged); return its old hash."""
    target = parse_month(month)
    if not confirm:
        raise ConfigError(f"reopening {target} changes booked figures; pass --confirm to do it")
    if not reason or not reason.strip():
        raise ConfigError("reopening needs a reason, recorded in the log: --reason \"…\"")
    ledger = Ledger(store)
    closed = ledger.closed()
    if target.label not in closed:
        raise ConfigError(f"{target} is not closed; closed months: {', '.join(closed) or 'none'}")
    latest = max(closed)
    if target.label != latest:
        raise ConfigError(f"{target} cannot be reopened while the later month {latest} is closed; reopen {latest} "
                          "first")
    return ledger.reopen(target.label, reason.strip(), now=now)


def month_status(store: Store) -> dict[str, Any]:
    """Closed months, the first open month and the close/reopen log."""
    ledger = Ledger(store)
    closed = ledger.closed()
    latest = max(closed) if closed else None
    return {
        "closed": [{"month": r.month, "closed_at": r.closed_at.isoformat(), "content_hash": r.content_hash,
                    "data_files_hash": r.meta.get("data_files_sha256"), "rows": r.rows} for r in closed.values()],
        "first_open": parse_month(latest).next().label if latest else None,
        "log": [{**entry, "at": entry["at"].isoformat()} for entry in ledger.log()],
    }
