"""Forecast: Monte Carlo completion dates for every open epic, initiative and key result, and each team's inputs.

One long frame (docs/forecasting.md has the model), in this order: the teams (what their trials draw
on), then the initiatives and key results, then the epics in each team's backlog order. It reads the
mapped issues only, so the epic view can rate each epic by it.

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
``per_week``          team: mean items finished per week over the throughput weeks
``split_rate``        team: children added after an epic started ÷ children by then
``epics``             team: open epics forecast; initiative / key result: epics under it
``note``              why there is no date, where the WIP came from, or empty
====================  ==========================================================================
"""

from __future__ import annotations

from datetime import date

import pandas as pd

from rollup.config.models import RollupConfig
from rollup.forecast import forecast
from rollup.views._common import contributions, empty, names
from rollup.views.registry import View

COLUMNS = ["level", "key", "name", "team", "target_date", "p50", "p85", "p95", "chance", "remaining", "allowance",
           "growth", "wip", "per_week", "split_rate", "epics", "note"]

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


def compute(mapped_issues: pd.DataFrame, mappings: RollupConfig, *, as_of: date) -> pd.DataFrame:
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
        "note": ["no finished items in the throughput weeks: not forecast" if n == 0 else f"WIP {source}"
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
        "note": rows["note"],
    })
    parts = [frame for frame in (team_rows, rollup_rows, epic_rows) if not frame.empty]
    if not parts:
        return empty(COLUMNS)
    out = pd.concat(parts, ignore_index=True).reindex(columns=COLUMNS)
    for col in ("target_date", "p50", "p85", "p95"):
        out[col] = pd.to_datetime(out[col])
    out["note"] = out["note"].fillna("")
    return out


#: What the view is called, what it requires and how it is computed (see :mod:`rollup.views.registry`).
VIEW = View("forecast", compute=compute, requires=())
