"""Forecast: Monte Carlo completion dates for every open epic, initiative and key result, and each team's inputs.

One long frame (docs/forecasting.md has the model), in this order: the teams (what their trials draw
on), then the initiatives and key results, then the epics in each team's backlog order. It reads the
mapped issues and last week's snapshot only, so the epic view can rate each epic by it.
``snapshots``: the stored weekly snapshots (:mod:`rollup.views.changes`); an epic's P50, P85, items
left and its team's items per week are in each week's snapshot, so this week's forecast is set
against last week's.

Columns:

====================  ==========================================================================
``level``             ``team``, ``initiative``, ``key result`` or ``epic``
``key``               the epic's or initiative's key (NA for a team or key result)
``name``              its summary, the key result's name or the team's name
``team``              the team's name (epics; for a team, itself)
``target_date``       the epic's or initiative's target date (NaT without one; key results none)
``p50``, ``p85``, ``p95``  the date by which 50 / 85 / 95 % of trials are done (NaT: not forecast, or
                      beyond the horizon — ``note`` says which)
``chance``            share of trials done by the target date (NaN without a target date)
``remaining``         epic: items left after the allowance and growth; team: the sum over its open epics
``allowance``         epic: items added because it has fewer children than ``forecast.min_children``
``growth``            epic: items added by the team's split rate
``wip``               epics the team works on at once (epics: their team's)
``per_week``          mean items finished per week over the throughput weeks (epics: their team's)
``split_rate``        team: children added after an epic started ÷ children by then
``epics``             team: open epics forecast; initiative / key result: epics under it
``note``              why there is no date, where the WIP came from, or empty
``p85_last_week``     epic: its P85 in last week's snapshot (NaT without one)
``p85_move_days``     epic: this week's P85 − last week's, in days (later is positive)
``cause``             epic: the main cause of a move of a week or more — "scope added (+N items)",
                      "work finished (-N items)", "throughput dropped (A → B items a week)",
                      "throughput rose (…)", else "the work ahead of it changed" — or empty
====================  ==========================================================================
"""

from __future__ import annotations

from datetime import date
from typing import Any

import numpy as np
import pandas as pd

from rollup.config.models import RollupConfig
from rollup.forecast import forecast
from rollup.forecast.engine import NO_THROUGHPUT
from rollup.views._baseline import baseline
from rollup.views._common import contributions, empty, key_order, names
from rollup.views.registry import View

COLUMNS = ["level", "key", "name", "team", "target_date", "p50", "p85", "p95", "chance", "remaining", "allowance",
           "growth", "wip", "per_week", "split_rate", "epics", "note", "p85_last_week", "p85_move_days", "cause"]

#: A P85 that moved less than this many days has not moved (the forecast counts in weeks).
MOVE_DAYS = 7
#: A change of the team's items per week by this share or more counts as a cause.
THROUGHPUT_CHANGE = 0.1

#: The forecast rule, in the words printed on the Forecast sheet.
RULE = ("Forecast — each team's future weeks are drawn at random from its own finished items per week over the "
        "last {weeks} weeks ({trials:,} trials per team, seed {seed}); the team works on WIP epics at once in "
        "backlog order (target date, then key), each getting an equal share. An epic with fewer than "
        "{min_children} children counts as at least {to_do} items ({in_progress} in progress); an epic not started "
        "grows by the team's split rate{split}. P50 / P85 / P95: the date by which that share of trials is done; "
        "the chance is the share done by the target date. An initiative or key result is done when its last "
        "epic is. See docs/forecasting.md.")


def rule(mappings: RollupConfig) -> str:
    """:data:`RULE` with the settings in force."""
    options = mappings.forecast
    return RULE.format(weeks=options.throughput_weeks, trials=options.trials, seed=options.seed,
                       min_children=options.min_children, to_do=options.default_size.to_do,
                       in_progress=options.default_size.in_progress,
                       split="" if options.split_rate else " (off: forecast.split_rate is false)")


def compute(mapped_issues: pd.DataFrame, mappings: RollupConfig, *, as_of: date, snapshots: Any) -> pd.DataFrame:
    """Forecast the open epics with a team, and roll them up (see the module docstring)."""
    level = pd.to_numeric(mapped_issues["hierarchy_level"], errors="coerce") if len(mapped_issues) else None
    if level is None or not level.eq(1).any():
        return empty(COLUMNS)
    epics = mapped_issues[level.eq(1)]
    krs = contributions(epics["okr"], epics["key_result"], mappings).assign(key=epics["key"].astype(str))
    result = forecast(mapped_issues, mappings.forecast, as_of=as_of,
                      key_results=krs[krs["key_result"].notna()][["key", "key_result"]])
    team_names = names(mappings, "teams")
    summaries = dict(zip(epics["key"].astype(str), epics["summary"]))
    level2 = mapped_issues[level.ge(2)]
    summaries.update(zip(level2["key"].astype(str), level2["summary"]))
    kr_names = {str(kr.id): str(kr.name) for okr in mappings.okrs for kr in okr.key_results}

    teams = result.teams
    team_rows = pd.DataFrame({
        "level": "team", "key": None, "name": teams["team_id"].map(team_names).fillna(teams["team_id"]),
        "remaining": teams["team_id"].map(result.epics.groupby("team_id")["remaining"].sum()).fillna(0),
        "wip": teams["wip"], "per_week": teams["per_week_mean"], "split_rate": teams["split_rate"],
        "epics": teams["forecast_epics"],
        "note": [NO_THROUGHPUT if n == 0 else f"WIP {source}"
                 for n, source in zip(teams["forecast_epics"], teams["wip_source"])],
    })
    team_rows["team"] = team_rows["name"]
    rollups = result.rollups
    rollup_rows = pd.DataFrame({
        "level": rollups["kind"].map({"initiative": "initiative", "key_result": "key result"}),
        "key": rollups["id"].where(rollups["kind"].eq("initiative"), None),
        "name": [summaries.get(i) if k == "initiative" else kr_names.get(i, i)
                 for k, i in zip(rollups["kind"], rollups["id"])],
        "target_date": rollups["target_date"], "p50": rollups["p50"], "p85": rollups["p85"], "p95": rollups["p95"],
        "chance": rollups["chance_by_target"], "epics": rollups["epics"], "note": rollups["note"],
    })
    rows = result.epics
    epic_rows = pd.DataFrame({
        "level": "epic", "key": rows["key"], "name": rows["key"].map(summaries),
        "team": rows["team_id"].map(team_names).fillna(rows["team_id"]), "target_date": rows["target_date"],
        "p50": rows["p50"], "p85": rows["p85"], "p95": rows["p95"], "chance": rows["chance_by_target"],
        "remaining": rows["remaining"], "allowance": rows["allowance"], "growth": rows["growth"], "wip": rows["wip"],
        "per_week": rows["team_id"].map(dict(zip(teams["team_id"], teams["per_week_mean"]))), "note": rows["note"],
    })
    epic_rows = _moves(epic_rows, baseline(as_of, snapshots))
    parts = [frame for frame in (team_rows, rollup_rows, epic_rows) if not frame.empty]
    if not parts:
        return empty(COLUMNS)
    curve = initiative_curve(rollups, rollup_rows, as_of=as_of)
    out = pd.concat(parts, ignore_index=True).reindex(columns=COLUMNS)
    for col in ("target_date", "p50", "p85", "p95", "p85_last_week"):
        out[col] = pd.to_datetime(out[col])
    out["note"] = out["note"].fillna("")
    out["cause"] = out["cause"].fillna("")
    out.attrs["curve"] = curve
    return out


#: Columns of the completion curve drawn for one initiative (``attrs["curve"]`` of this view's frame).
CURVE_COLUMNS = ["key", "name", "week_end", "share_done", "target_date", "p50", "p85", "p95"]


def initiative_curve(rollups: pd.DataFrame, rollup_rows: pd.DataFrame, *, as_of: date) -> pd.DataFrame:
    """The share of trials done by the end of each week for the dated initiative with the most epics
    (ties: the earliest target date, then key); empty when none is dated."""
    dated = rollups[rollups["kind"].eq("initiative") & rollups["p50"].notna()]
    if dated.empty:
        return pd.DataFrame(columns=CURVE_COLUMNS)
    chosen = dated.assign(_order=dated["id"].map(key_order)).sort_values(
        ["epics", "target_date", "_order"], ascending=[False, True, True], na_position="last").iloc[0]
    shares = np.asarray(chosen["share_done"], dtype=float)
    name = rollup_rows.set_index("key")["name"].get(chosen["id"])
    weeks = pd.Timestamp(as_of) + pd.to_timedelta(7 * np.arange(1, len(shares) + 1), unit="D")
    return pd.DataFrame({"key": chosen["id"], "name": name, "week_end": weeks, "share_done": shares,
                         "target_date": chosen["target_date"], "p50": chosen["p50"], "p85": chosen["p85"],
                         "p95": chosen["p95"]})


def _moves(epic_rows: pd.DataFrame, last_week: pd.DataFrame) -> pd.DataFrame:
    """Last week's P85 of each epic, the move, and its main cause (see the module docstring)."""
    if epic_rows.empty or last_week.empty:
        return epic_rows.assign(p85_last_week=pd.Series(pd.NaT, index=epic_rows.index, dtype="datetime64[ns]"),
                                p85_move_days=np.nan, cause="")
    payload = {str(k): p for k, p in zip(last_week["key"], last_week["payload"]) if isinstance(p, dict)}
    before = [payload.get(str(k), {}) for k in epic_rows["key"]]
    p85_then = pd.to_datetime(pd.Series([b.get("p85") for b in before], index=epic_rows.index))
    items_then = pd.Series([b.get("forecast_items") for b in before], index=epic_rows.index, dtype=float)
    rate_then = pd.Series([b.get("team_per_week") for b in before], index=epic_rows.index, dtype=float)
    move = (pd.to_datetime(epic_rows["p85"]) - p85_then).dt.days.astype(float)
    items_now = epic_rows["remaining"].astype(float)
    rate_now = epic_rows["per_week"].astype(float)
    causes = []
    for i in epic_rows.index:
        days = move[i]
        if pd.isna(days) or abs(days) < MOVE_DAYS:
            causes.append("")
            continue
        items = items_now[i] - items_then[i] if not pd.isna(items_then[i]) else 0.0
        rate, was = rate_now[i], rate_then[i]
        change = (rate - was) / was if was and not pd.isna(was) else 0.0
        if days > 0 and items > 0:
            causes.append(f"scope added (+{items:.0f} items)")
        elif days > 0 and change <= -THROUGHPUT_CHANGE:
            causes.append(f"throughput dropped ({was:.1f} → {rate:.1f} items a week)")
        elif days < 0 and items < 0:
            causes.append(f"work finished ({items:.0f} items)")
        elif days < 0 and change >= THROUGHPUT_CHANGE:
            causes.append(f"throughput rose ({was:.1f} → {rate:.1f} items a week)")
        else:
            causes.append("the work ahead of it changed")
    return epic_rows.assign(p85_last_week=p85_then, p85_move_days=move, cause=causes)


#: What the view is called, what it requires and how it is computed (see :mod:`rollup.views.registry`).
VIEW = View("forecast", compute=compute, requires=("snapshots",))
