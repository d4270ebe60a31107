"""Lint run history: each recorded run, its findings and its team scores, and the score trend.

A run is stored in ONE transaction as a ``lint_runs`` row (as-of date, the config hash, the
latest sync run id, the rule codes that ran, counts), its ``lint_findings`` and its
``lint_team_scores``; a failure leaves nothing behind. The functions that turn a
:class:`~rollup.lint.result.LintResult` into rows, and stored rows into the trend, are pure
(frames in, frames out); only :func:`record_run` and the ``read_*`` functions touch the store.

The trend (:func:`trend_frame`) has one row per team and one column per as-of date: the team's
score (share of its epics with no finding) on the last run recorded for that date. Only
comparable runs are recorded: :func:`rollup.jobs.lint.run_lint_report` does not store a run
narrowed to some rules or one team.

>>> # run_id = record_run(store, result, config=config)
>>> # trend = trend_frame(read_scores(store))
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, datetime, timezone
from typing import Any

import pandas as pd
from sqlalchemy import func, select

from rollup.config.hashing import config_hash
from rollup.config.models import RollupConfig
from rollup.lint.result import UNASSIGNED, LintResult
from rollup.store import Store
from rollup.store.schema_lint import lint_findings, lint_runs, lint_team_scores

#: Columns of :func:`read_runs`.
RUN_COLUMNS = ("id", "started", "as_of", "sync_run_id", "config_hash", "rules", "epics", "findings", "errors",
               "warnings", "infos")
#: Columns of :func:`read_scores` and :func:`scores_frame`: one row per run × team.
SCORE_COLUMNS = ("run_id", "as_of", "started", "team_id", "team", "epics", "clean", "score", "errors", "warnings",
                 "infos", "stories_without_epic")
#: Columns of :func:`read_findings`.
STORED_FINDING_COLUMNS = ("run_id", "key", "issue_id", "team_id", "owner", "rule", "severity", "message")
#: Columns of :func:`top_rules`.
TOP_RULE_COLUMNS = ("rule", "findings", "epics", "teams")

#: How many dates the trend keeps by default (half a year of weekly runs, or 26 days of daily ones).
TREND_POINTS = 26

# ``lint_team_scores.team_id`` is NOT NULL: the team of unmapped epics is stored under this id.
_NO_TEAM = ""


@dataclass
class StoredRun:
    """One recorded run read back: its ``lint_runs`` row, its team scores and its findings."""

    run: dict[str, Any]
    teams: pd.DataFrame
    findings: pd.DataFrame

    @property
    def id(self) -> int:
        """The run id."""
        return int(self.run["id"])

    @property
    def score(self) -> float:
        """Share of all linted epics with no finding (NaN when no epic was linted)."""
        epics = int(self.teams["epics"].sum()) if len(self.teams) else 0
        return float(self.teams["clean"].sum()) / epics if epics else float("nan")


# ---------------------------------------------------------------------------------------- pure


def _none(value: Any) -> Any:
    """NA / NaN → None; numpy scalars → Python."""
    if value is None:
        return None
    try:
        if pd.isna(value):
            return None
    except (TypeError, ValueError):
        return value
    return value.item() if hasattr(value, "item") else value


def _int(value: Any, default: int = 0) -> int:
    value = _none(value)
    return default if value is None else int(value)


def rule_codes(result: LintResult) -> list[str]:
    """The codes of the rules that ran, sorted."""
    return sorted(str(c) for c in result.rules["rule"].dropna()) if len(result.rules) else []


def run_values(result: LintResult, *, config_hash: str, sync_run_id: int | None,
               started: datetime | None = None) -> dict[str, Any]:
    """The ``lint_runs`` row for ``result`` (without its id)."""
    return {
        "started": started or datetime.now(timezone.utc),
        "as_of": result.as_of,
        "sync_run_id": sync_run_id,
        "config_hash": config_hash,
        "rules": rule_codes(result),
        "epics": int(result.epics),
        "findings": int(len(result.findings)),
        "errors": result.count("error"),
        "warnings": result.count("warning"),
        "infos": result.count("info"),
    }


def finding_values(result: LintResult) -> list[dict[str, Any]]:
    """The ``lint_findings`` rows for ``result`` (without the run id)."""
    frame = result.findings
    if not len(frame):
        return []
    columns = ("key", "issue_id", "team_id", "owner", "rule", "severity", "message")
    data = {c: frame[c].astype("object").tolist() for c in columns}
    rows = []
    for i in range(len(frame)):
        issue_id = _none(data["issue_id"][i])
        rows.append({
            "key": str(data["key"][i]),
            "issue_id": None if issue_id is None else int(issue_id),
            "team_id": _none(data["team_id"][i]),
            "owner": _none(data["owner"][i]),
            "rule": str(data["rule"][i]),
            "severity": str(data["severity"][i]),
            "message": str(_none(data["message"][i]) or ""),
        })
    return rows


def team_score_values(result: LintResult) -> list[dict[str, Any]]:
    """The ``lint_team_scores`` rows for ``result`` (without the run id)."""
    rows = []
    for team in result.teams.to_dict(orient="records"):
        score = _none(team.get("score"))
        rows.append({
            "team_id": _none(team.get("team_id")) or _NO_TEAM,
            "team": str(_none(team.get("team")) or UNASSIGNED),
            "epics": _int(team.get("epics")),
            "clean": _int(team.get("clean")),
            "score": None if score is None or math.isnan(float(score)) else float(score),
            "errors": _int(team.get("errors")),
            "warnings": _int(team.get("warnings")),
            "infos": _int(team.get("infos")),
            "stories_without_epic": _int(team.get("stories_without_epic")),
        })
    return rows


def scores_frame(result: LintResult, *, run_id: int | None = None,
                 started: datetime | None = None) -> pd.DataFrame:
    """``result``'s team scores shaped like :func:`read_scores`, to add a run not (yet) stored to a trend."""
    rows = [{"run_id": run_id, "as_of": result.as_of, "started": started or datetime.now(timezone.utc), **row}
            for row in team_score_values(result)]
    return _score_frame(rows)


def _score_frame(rows: list[dict[str, Any]]) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=list(SCORE_COLUMNS))
    frame["team_id"] = frame["team_id"].astype("object").where(frame["team_id"].ne(_NO_TEAM), None)
    frame["score"] = pd.to_numeric(frame["score"], errors="coerce").astype(float)
    return frame


def trend_frame(scores: pd.DataFrame, *, points: int = TREND_POINTS) -> pd.DataFrame:
    """Each team's score across runs: one row per team, one column per as-of date (oldest first).

    ``scores`` has :data:`SCORE_COLUMNS` (from :func:`read_scores`, plus :func:`scores_frame` for
    a run not stored). When several runs share an as-of date, the one started last stands for
    that date. Only the last ``points`` dates are kept. Columns: ``team_id``, ``team``, then one
    per date (``YYYY-MM-DD``) holding the score (NaN when the team had no epics then or did not
    exist). Rows: teams by name, ``Unassigned`` last.
    """
    if scores is None or not len(scores):
        return pd.DataFrame(columns=["team_id", "team"])
    frame = scores.assign(as_of=pd.to_datetime(scores["as_of"]).dt.date,
                          started=pd.to_datetime(scores["started"], utc=True),
                          run_order=scores["run_id"].fillna(float("inf")))
    runs = (frame[["run_id", "as_of", "started", "run_order"]]
            .drop_duplicates(subset=["run_order"])
            .sort_values(["as_of", "started", "run_order"], kind="stable")
            .drop_duplicates(subset=["as_of"], keep="last")
            .tail(points))
    kept = frame[frame["run_order"].isin(runs["run_order"])]
    kept = kept.assign(team_key=kept["team_id"].astype("object").fillna(_NO_TEAM),
                       column=kept["as_of"].map(date.isoformat))
    wide = kept.pivot_table(index="team_key", columns="column", values="score", aggfunc="last", dropna=False)
    columns = [d.isoformat() for d in runs["as_of"]]
    wide = wide.reindex(columns=columns)
    latest = kept.sort_values(["as_of", "started", "run_order"], kind="stable")
    names = latest.drop_duplicates(subset=["team_key"], keep="last").set_index("team_key")["team"]
    order = sorted((k for k in names.index if k != _NO_TEAM), key=lambda k: (str(names[k]).lower(), k))
    order += [_NO_TEAM] if _NO_TEAM in names.index else []
    out = wide.reindex(order)
    out.columns.name = None
    out.insert(0, "team", [names[k] for k in order])
    out.insert(0, "team_id", [None if k == _NO_TEAM else k for k in order])
    return out.reset_index(drop=True)


def top_rules(findings: pd.DataFrame, n: int = 5) -> pd.DataFrame:
    """The ``n`` rules with the most findings: rule, findings, epics (distinct keys), teams (distinct)."""
    if findings is None or not len(findings):
        return pd.DataFrame(columns=list(TOP_RULE_COLUMNS))
    grouped = (findings.assign(team_key=findings["team_id"].astype("object").fillna(_NO_TEAM))
               .groupby("rule", sort=True)
               .agg(findings=("key", "size"), epics=("key", "nunique"), teams=("team_key", "nunique"))
               .reset_index()
               .sort_values(["findings", "rule"], ascending=[False, True], kind="stable"))
    return grouped.head(n).reset_index(drop=True)[list(TOP_RULE_COLUMNS)]


# ---------------------------------------------------------------------------------------- store


def latest_sync_run_id(store: Store) -> int | None:
    """The id of the last recorded sync run, or None."""
    runs = store.sync_run_rows()
    return int(runs[-1]["id"]) if runs else None


def record_run(store: Store, result: LintResult, *, config: RollupConfig, started: datetime | None = None) -> int:
    """Store ``result`` as one run (run row, findings, team scores) in ONE transaction; return its id."""
    values = run_values(result, config_hash=config_hash(config), sync_run_id=latest_sync_run_id(store),
                        started=started)
    findings = finding_values(result)
    scores = team_score_values(result)
    with store.begin() as conn:
        key = conn.execute(lint_runs.insert().values(**values)).inserted_primary_key
        assert key is not None, "an INSERT of one row returns its key"
        run_id = int(key[0])
        if findings:
            conn.execute(lint_findings.insert(), [{"run_id": run_id, **row} for row in findings])
        if scores:
            conn.execute(lint_team_scores.insert(), [{"run_id": run_id, **row} for row in scores])
    return run_id


def read_runs(store: Store) -> pd.DataFrame:
    """Every recorded run, oldest first, with :data:`RUN_COLUMNS`."""
    with store.connect() as conn:
        rows = [dict(r) for r in conn.execute(select(lint_runs).order_by(lint_runs.c.id)).mappings()]
    return pd.DataFrame(rows, columns=list(RUN_COLUMNS))


def read_scores(store: Store, run_ids: list[int] | None = None) -> pd.DataFrame:
    """Team scores of the recorded runs (all, or ``run_ids``), with :data:`SCORE_COLUMNS`; by run, then team name."""
    query = (select(lint_team_scores, lint_runs.c.as_of, lint_runs.c.started)
             .join(lint_runs, lint_runs.c.id == lint_team_scores.c.run_id)
             .order_by(lint_team_scores.c.run_id, lint_team_scores.c.team))
    if run_ids is not None:
        query = query.where(lint_team_scores.c.run_id.in_(list(run_ids)))
    with store.connect() as conn:
        rows = [dict(r) for r in conn.execute(query).mappings()]
    # Teams by name within a run, the unassigned epics last (the same on every database).
    rows.sort(key=lambda r: (r["run_id"], r["team_id"] == _NO_TEAM, str(r["team"]).lower()))
    return _score_frame(rows)


def read_findings(store: Store, run_id: int) -> pd.DataFrame:
    """The findings of one recorded run, with :data:`STORED_FINDING_COLUMNS`."""
    query = select(lint_findings).where(lint_findings.c.run_id == run_id).order_by(
        lint_findings.c.team_id, lint_findings.c.key, lint_findings.c.rule)
    with store.connect() as conn:
        rows = [dict(r) for r in conn.execute(query).mappings()]
    return pd.DataFrame(rows, columns=list(STORED_FINDING_COLUMNS))


def latest_run(store: Store) -> StoredRun | None:
    """The most recently recorded run with its team scores and findings, or None when there is none."""
    with store.connect() as conn:
        last = conn.execute(select(func.max(lint_runs.c.id))).scalar_one_or_none()
    return None if last is None else read_run(store, int(last))


def read_run(store: Store, run_id: int) -> StoredRun:
    """One recorded run with its team scores and findings."""
    with store.connect() as conn:
        run = dict(conn.execute(select(lint_runs).where(lint_runs.c.id == run_id)).mappings().one())
    return StoredRun(run=run, teams=read_scores(store, [run_id]), findings=read_findings(store, run_id))


def run_for(store: Store, *, as_of: date, config: RollupConfig) -> StoredRun | None:
    """The last recorded run of ``as_of`` made on the store's latest sync under ``config``, or None.

    A run of that date made before the latest sync, or under another configuration, linted other
    data: the portfolio lints again rather than show its findings beside today's epics.
    """
    sync_run = latest_sync_run_id(store)
    query = (select(lint_runs.c.id).where(lint_runs.c.as_of == as_of, lint_runs.c.config_hash == config_hash(config))
             .order_by(lint_runs.c.id.desc()))
    query = query.where(lint_runs.c.sync_run_id.is_(None) if sync_run is None else lint_runs.c.sync_run_id == sync_run)
    with store.connect() as conn:
        found = conn.execute(query.limit(1)).scalar_one_or_none()
    return None if found is None else read_run(store, int(found))


def run_before(store: Store, as_of: date, *, min_days: int = 6) -> StoredRun | None:
    """The run to compare ``as_of`` with: the last one at least ``min_days`` earlier, else the first earlier one."""
    with store.connect() as conn:
        rows = conn.execute(select(lint_runs.c.id, lint_runs.c.as_of).where(lint_runs.c.as_of < as_of)
                            .order_by(lint_runs.c.as_of, lint_runs.c.id)).all()
    if not rows:
        return None
    old_enough = [r for r in rows if (as_of - r.as_of).days >= min_days]
    return read_run(store, int(old_enough[-1].id if old_enough else rows[0].id))
