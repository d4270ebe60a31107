"""What you should know this week: a handful of plain sentences, each citing the epics behind it.

Deterministic rules over the other views — no language model. Each rule below writes at most one
sentence, with the figure it cites and the epic keys behind it; the sentences are ranked by the
size of their effect (``weight``, a share between 0 and 1), the first :data:`MAX_RANKED` are kept,
and one last line says what the page could not see (naming the epics not visible when their own
sentence did not make the list). The Summary prints them (linking each key to Jira) and the weekly
email can reuse them.

=======================  ===================================================  =======================
kind                     when                                                 weight (size of effect)
=======================  ===================================================  =======================
``at_risk``              epics are at risk or off track (the biggest three)  their size / open size
``newly_at_risk``        epics became at risk since last week's snapshot      their size / open size
``slip``                 target dates moved later this week (largest first)   their size / open size
``scope_added``          children or points added inside started epics this   their size / open size
                         week (the scope ledger; most children first)
``pillar_gap``           a pillar is more than 5 pp from its target share     the gap (share)
                         (at most two, furthest first; with last week's gap
                         when a snapshot a week old exists)
``key_results_behind``   key results behind the calendar                      their share of all KRs
``key_results_no_work``  key results no epic contributes to                   their share of all KRs
``key_results_missed``   key results whose quarter ended below 100 %         half their share of all
                                                                              KRs (:data:`MISSED_WEIGHT`)
``hygiene_drop``         teams whose hygiene fell since the previous lint run  the largest drop
``epics_not_visible``    issues whose epic the store does not hold            their share of stories
``missing_data``         always, last: what the figures could not see         (not ranked)
=======================  ===================================================  =======================

"Size" is an epic's ``size`` (its points, else its issue count); "open size" sums it over the
epics not done. Ties keep the order of the table. A missed key result weighs half as much as one
behind or with no work: its quarter is over and nothing done this week saves it, while the key
results of this quarter and the epics that slip still can be — so the page leads with what a
decision can still change, and the misses follow them.

A team report (``team``) says the team's own sentences: every view behind them already holds
only the team's epics, effort and key results (the OKR view keeps the key results the team's epics
contribute to), and ``pillar_gap`` is left out — the target shares are the portfolio's mix, not each
team's, so a team that works mostly on one pillar is not off target; the portfolio report says the gaps.

Columns: ``rank`` (1 first), ``sentence``, ``keys`` (list of the issue keys it cites, in the order
cited), ``figure`` (the number it is about), ``unit`` (of that figure), ``kind``, ``weight``.

Requires the views ``epics``, ``decisions``, ``changes``, ``scope``, ``pillars``, ``okrs``, ``hygiene``,
``missing_parents``, ``completeness``, ``effort``; and ``snapshots`` (for the week-ago checks),
``allocation_window_days``, ``team``.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any, cast

import numpy as np
import pandas as pd

from rollup.config.models import RollupConfig
from rollup.views import allocation
from rollup.views import scope as scope_view
from rollup.views._baseline import baseline_day
from rollup.views._common import UNMAPPED, empty, team_scope
from rollup.views.okrs import KEY_RESULT
from rollup.views.pillars import ALLOCATION_WINDOW_DAYS, GAP_TOLERANCE
from rollup.views.registry import View

COLUMNS = ["rank", "sentence", "keys", "figure", "unit", "kind", "weight"]

#: Sentence kinds in tie-break order (see the module docstring).
KINDS = ("at_risk", "newly_at_risk", "slip", "scope_added", "pillar_gap", "key_results_behind", "key_results_no_work",
         "key_results_missed", "hygiene_drop", "epics_not_visible", "missing_data")

#: A missed key result's weight, as a share of its share of all key results: its quarter has ended,
#: so it ranks below the things this week can still change (see the module docstring).
MISSED_WEIGHT = 0.5

#: Ranked sentences kept (the "what the page could not see" line comes after them).
MAX_RANKED = 7

#: Items named in one sentence.
NAMED = 3


def compute(
    mapped_issues: pd.DataFrame, mappings: RollupConfig, *,
    as_of: date, epics: pd.DataFrame, decisions: pd.DataFrame, changes: pd.DataFrame, scope: pd.DataFrame,
    pillars: pd.DataFrame,
    okrs: pd.DataFrame, hygiene: pd.DataFrame, missing_parents: pd.DataFrame, completeness: pd.DataFrame,
    effort: pd.DataFrame, snapshots: Any, allocation_window_days: int | None, team: str | None,
) -> pd.DataFrame:
    """The ranked sentences, then the missing-data line."""
    if mapped_issues.empty or epics is None or epics.empty:
        return empty(COLUMNS)
    open_size = float(epics.loc[epics["rag"].ne("done"), "size"].sum())
    window = int(allocation_window_days or ALLOCATION_WINDOW_DAYS)
    found: list[dict[str, Any]] = []
    found += _at_risk(decisions, open_size)
    found += _slips(changes, open_size)
    found += _scope_added(scope, epics, as_of, open_size)
    if team_scope(mappings, mapped_issues, team) is None:
        found += _pillar_gaps(pillars, epics,
                              allocation.window_effort(mapped_issues, mappings, start=as_of - timedelta(days=window),
                                                       end=as_of, work=effort), mapped_issues)
    found += _key_results(okrs)
    found += _hygiene(hygiene)
    found += _not_visible(missing_parents, mapped_issues)
    ranked = sorted(found, key=lambda r: (-r["weight"], KINDS.index(r["kind"])))[:MAX_RANKED]
    unseen = next((r for r in found if r["kind"] == "epics_not_visible" and r not in ranked), None)
    ranked.append(_missing_data(completeness, baseline_day(as_of, snapshots) is not None, unseen))
    out = pd.DataFrame(ranked, columns=COLUMNS[1:])
    out.insert(0, "rank", range(1, len(out) + 1))
    return out[COLUMNS]


# ---------------------------------------------------------------------------------------- words


def listing(items: list[str], total: int | None = None) -> str:
    """``A``, ``A and B``, ``A, B and C``; ``A, B, C and 4 more`` when ``total`` counts more than are named."""
    items = [str(i) for i in items]
    more = (total or 0) - len(items)
    if more > 0:
        return ", ".join(items) + f" and {more} more"
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def _size(row: pd.Series) -> str:
    size = float(row["size"]) if not pd.isna(row["size"]) else 0.0
    unit = "points" if row.get("unit", "points") == "points" else "issues"
    return f"{size:g} {unit[:-1] if size == 1 else unit}"


def _pct(share: float) -> str:
    return f"{share:.0%}"


def _row(kind: str, sentence: str, keys: list[str], figure: float, unit: str, weight: float) -> dict[str, Any]:
    return {"sentence": sentence, "keys": list(keys), "figure": float(figure), "unit": unit, "kind": kind,
            "weight": float(weight) if not pd.isna(weight) else 0.0}


def _share_of(size: float, total: float) -> float:
    return size / total if total else 0.0


# ---------------------------------------------------------------------------------------- rules


def _at_risk(decisions: pd.DataFrame, open_size: float) -> list[dict[str, Any]]:
    """The biggest epics at risk or off track; then those that became so this week."""
    if decisions is None or decisions.empty:
        return []
    out = []
    risky = decisions[decisions["rag"].isin(["at risk", "off track"])]
    if len(risky):
        top = risky.head(NAMED)
        named = [f"{r.key} ({_size(r)}; {r.why})" for _, r in _with_unit(top).iterrows()]
        n = len(risky)
        verb = "epic is" if n == 1 else "epics are"
        out.append(_row("at_risk", f"{n} {verb} at risk or off track; the biggest: {listing(named, n)}.",
                        list(top["key"]), n, "epics",
                        _share_of(float(risky["size"].sum()), open_size)))
    new = decisions[decisions["new_this_week"].astype(bool)]
    if len(new):
        top = new.head(NAMED)
        n = len(new)
        named = [f"{r.key} ({r.rag})" for r in top.itertuples()]
        verb = "epic became" if n == 1 else "epics became"
        out.append(_row("newly_at_risk", f"{n} {verb} at risk or off track this week: {listing(named, n)}.",
                        list(top["key"]), n, "epics",
                        _share_of(float(new["size"].sum()), open_size)))
    return out


def _with_unit(frame: pd.DataFrame) -> pd.DataFrame:
    return frame if "unit" in frame else frame.assign(unit="points")


def _slips(changes: pd.DataFrame, open_size: float) -> list[dict[str, Any]]:
    """Target dates that moved later since last week's snapshot, largest slip first."""
    if changes is None or changes.empty:
        return []
    slips = changes[changes["change"].astype(str).eq("target date slipped")]
    if slips.empty:
        return []
    slips = slips.sort_values(["days_slipped", "size", "key"], ascending=[False, False, True], kind="stable")
    slips = slips.drop_duplicates("key")
    top = slips.head(NAMED)
    days = int(slips["days_slipped"].sum())
    if len(slips) == 1:
        r = slips.iloc[0]
        text = (f"{r['key']} slipped {int(cast(float, r['days_slipped']))} days this week: its target date moved from "
                f"{r['before']} to {r['after']}.")
    else:
        named = [f"{r.key} by {int(cast(float, r.days_slipped))} days (to {r.after})" for r in top.itertuples()]
        text = (f"{len(slips)} epics slipped this week, {days} days in all: {listing(named, len(slips))}.")
    return [_row("slip", text, list(top["key"]), days, "days", _share_of(float(slips["size"].sum()), open_size))]


def _scope_added(scope: pd.DataFrame, epics: pd.DataFrame, as_of: date, open_size: float) -> list[dict[str, Any]]:
    """Children and points added inside epics that had started, this week (the scope ledger's entries)."""
    if scope is None or scope.empty:
        return []
    week = scope_view.entries(scope, since=scope_view.week_start(as_of))
    added = week[week["change"].eq(scope_view.ADDED)].groupby("key").size()
    points = week[week["change"].eq(scope_view.POINTS)].groupby("key")["points"].sum()
    points = points.add(week[week["change"].eq(scope_view.ADDED)].groupby("key")["points"].sum(min_count=1),
                        fill_value=0)
    grew = pd.DataFrame({"children": added, "points": points}).fillna(0)
    grew = grew[grew["children"].gt(0) | grew["points"].gt(0)]
    if grew.empty:
        return []
    grew = (grew.rename_axis("key").reset_index()
            .sort_values(["children", "points", "key"], ascending=[False, False, True], kind="stable")
            .set_index("key"))
    top = grew.head(NAMED)

    def part(key: str) -> str:
        n, p = int(cast(float, grew.loc[key, "children"])), float(cast(float, grew.loc[key, "points"]))
        bits = [f"+{n} {'child' if n == 1 else 'children'}"] if n else []
        bits += [f"{p:+g} {'point' if abs(p) == 1 else 'points'}"] if p else []
        return f"{key} ({', '.join(bits)})"

    n = len(grew)
    children = int(grew["children"].sum())
    size = float(epics.loc[epics["key"].isin(grew.index), "size"].sum())
    text = (f"Scope grew inside {n} started {'epic' if n == 1 else 'epics'} this week, {children} "
            f"{'child' if children == 1 else 'children'} added in all: {listing([part(k) for k in top.index], n)} "
            "(the scope ledger on the Changes sheet says who and when).")
    return [_row("scope_added", text, list(top.index), children, "children", _share_of(size, open_size))]


def _pillar_gaps(pillars: pd.DataFrame, epics: pd.DataFrame, work: pd.DataFrame,
                 mapped_issues: pd.DataFrame) -> list[dict[str, Any]]:
    """The (at most two) pillars furthest from their target share, beyond the tolerance."""
    if pillars is None or pillars.empty:
        return []
    off = pillars[pillars["gap"].abs().gt(GAP_TOLERANCE + 1e-9) & pillars["pillar"].ne(UNMAPPED)]
    off = off.reindex(off["gap"].abs().sort_values(ascending=False, kind="stable").index).head(2)
    epic_of = mapped_issues.set_index(mapped_issues["key"].astype(str))["epic"].astype("object")
    effort = ((work.assign(epic=work["key"].astype(str).map(epic_of), pillar=work["pillar"].astype("object"))
               .dropna(subset=["epic"]).groupby(["pillar", "epic"])["effort"].sum())
              if len(work) else pd.Series(dtype=float))
    out = []
    for _, p in off.iterrows():
        direction = "over" if p["gap"] > 0 else "under"
        moved = ""
        if not pd.isna(p["gap_previous_pp"]):
            was = p["gap_previous_pp"]
            moved = (f" ({abs(was):.0f} pp {'over' if was > 0 else 'under'} a week ago, "
                     f"on {pd.Timestamp(p['previous_as_of']).date().isoformat()})")
        keys = _pillar_keys(str(p["pillar"]), effort, epics)
        cited = f"; most of its effort: {listing(keys)}" if keys and p["effort"] > 0 else (
            f"; its open epics: {listing(keys)}" if keys else "; it has no open epic")
        text = (f"{p['pillar_name']} took {_pct(p['actual_share'])} of effort against its "
                f"{_pct(p['target_share'])} target: {abs(p['gap_pp']):.0f} pp {direction}{moved}{cited}.")
        out.append(_row("pillar_gap", text, keys, round(abs(p["gap_pp"])), "pp", abs(p["gap"])))
    return out


def _pillar_keys(pillar: str, effort: pd.Series, epics: pd.DataFrame) -> list[str]:
    """The pillar's epics with the most effort in the window; else its biggest open epics."""
    if len(effort) and pillar in effort.index.get_level_values(0):
        part = effort.loc[pillar]
        part = part[part.gt(0)]
        order = pd.DataFrame({"epic": part.index, "effort": part.to_numpy()})
        order = order.sort_values(["effort", "epic"], ascending=[False, True], kind="stable")
        if len(order):
            return list(order["epic"].head(NAMED))
    mine = epics[epics["pillar"].astype(str).eq(pillar) & epics["rag"].ne("done")]
    return list(mine.sort_values(["size", "key"], ascending=[False, True], kind="stable")["key"].head(NAMED))


def _key_results(okrs: pd.DataFrame) -> list[dict[str, Any]]:
    """Key results missed, behind the calendar, and with no work planned: one sentence each."""
    if okrs is None or okrs.empty:
        return []
    krs = okrs[okrs["level"].eq(KEY_RESULT)]
    total = len(krs)
    out = []

    def epics_of(rows: pd.DataFrame) -> list[str]:
        keys = [k for text in rows["epics"] for k in str(text).split(", ") if k]
        return list(dict.fromkeys(keys))[:NAMED]

    missed = krs[krs["status"].eq("missed")]
    if len(missed):
        top = missed.sort_values(["progress", "key_result"], kind="stable").head(NAMED)
        named = [f"{r.key_result_name} ({r.quarter} ended at {_pct(cast(float, r.progress))})" if r.epic_count else
                 f"{r.key_result_name} ({r.quarter} ended with no work planned)" for r in top.itertuples()]
        lead = "1 key result was missed" if len(missed) == 1 else f"{len(missed)} key results were missed"
        out.append(_row("key_results_missed", f"{lead}: {listing(named, len(missed))}.",
                        epics_of(top), len(missed), "key results", MISSED_WEIGHT * len(missed) / total))
    behind = krs[krs["status"].eq("behind")]
    if len(behind):
        top = behind.sort_values(["behind_by", "key_result"], ascending=[False, True], kind="stable").head(NAMED)
        named = [f"{r.key_result_name} ({_pct(cast(float, r.progress))} done with {_pct(cast(float, r.expected))} "
                 "of the quarter gone)"
                 for r in top.itertuples()]
        lead = ("1 key result is behind the calendar" if len(behind) == 1
                else f"{len(behind)} key results are behind the calendar")
        out.append(_row("key_results_behind", f"{lead}: {listing(named, len(behind))}.",
                        epics_of(top), len(behind), "key results", len(behind) / total))
    none = krs[krs["status"].eq("no work planned")]
    if len(none):
        top = none.head(NAMED)
        named = [f"{r.key_result_name} ({r.objective}, {r.quarter})" for r in top.itertuples()]
        lead = ("1 key result has no work planned" if len(none) == 1
                else f"{len(none)} key results have no work planned")
        them = "it" if len(none) == 1 else "them"
        out.append(_row("key_results_no_work", f"{lead} — no epic contributes to {them}: {listing(named, len(none))}.",
                        [], len(none), "key results", len(none) / total))
    return out


def _hygiene(hygiene: pd.DataFrame) -> list[dict[str, Any]]:
    """Teams whose hygiene score fell since the previous lint run, largest drop first."""
    if hygiene is None or hygiene.empty:
        return []
    teams = hygiene[~hygiene["total"] & hygiene["change"].lt(-1e-9)]
    if teams.empty:
        return []
    teams = teams.sort_values(["change", "team"], kind="stable")
    top = teams.head(NAMED)
    since = pd.Timestamp(top["previous_as_of"].iloc[0]).date().isoformat()
    named = [f"{r.team} ({_pct(cast(float, r.previous))} → {_pct(cast(float, r.hygiene))})" for r in top.itertuples()]
    keys = [k for text in top["newly_failing"] for k in str(text).split(", ") if k][:NAMED]
    cited = f"; newly failing lint: {listing(keys)}" if keys else ""
    lead = "Hygiene fell for " + listing(named, len(teams))
    drop = float(-teams["change"].min())
    return [_row("hygiene_drop", f"{lead} since the lint run of {since}{cited}.", keys, round(drop * 100), "pp",
                 drop)]


def _not_visible(missing: pd.DataFrame, mapped_issues: pd.DataFrame) -> list[dict[str, Any]]:
    """Issues whose epic the store does not hold: counted, and the biggest missing keys named."""
    if missing is None or missing.empty:
        return []
    epics = missing[missing["kind"].eq("epic")]
    if epics.empty:
        return []
    per_key = epics.groupby("missing_key")["issues"].sum().sort_values(ascending=False, kind="stable")
    per_key = per_key.reindex(sorted(per_key.index, key=lambda k: (-per_key[k], k)))
    top = per_key.head(NAMED)
    n = int(per_key.sum())
    named = [f"{k} ({int(v)} {'issue' if v == 1 else 'issues'})" for k, v in top.items()]
    stories = int(mapped_issues["hierarchy_level"].eq(0).sum())
    verb = "issue links" if n == 1 else "issues link"
    epic_word = "epic" if len(per_key) == 1 else "epics"
    text = (f"{n} {verb} to {len(per_key)} {epic_word} the page cannot see (private, deleted or outside the synced "
            f"scope): {listing(named, len(per_key))}; their effort still counts, under Unmapped "
            "unless their own rules map them.")
    return [_row("epics_not_visible", text, list(top.index), n, "issues", _share_of(n, stories))]


def _missing_data(completeness: pd.DataFrame, has_baseline: bool, unseen: dict[str, Any] | None) -> dict[str, Any]:
    """The last line: what the figures could not see (with the epics not visible, when their own sentence
    did not make the ranked list)."""
    values = completeness.set_index("measure") if completeness is not None and len(completeness) else None
    parts: list[str] = []
    keys: list[str] = []
    if unseen is not None:
        n = int(unseen["figure"])
        parts.append(f"the epic of {n:,} {'issue' if n == 1 else 'issues'} ({listing(unseen['keys'])}: private, "
                     "deleted or outside the synced scope)")
        keys = list(unseen["keys"])

    def value(measure: str) -> float:
        if values is None or measure not in values.index:
            return float("nan")
        figure = cast(float, values.at[measure, "value"])
        return float(figure) if not pd.isna(figure) else float("nan")

    def detail(measure: str) -> str:
        return str(values.at[measure, "detail"]) if values is not None and measure in values.index else ""

    if value("issues_without_estimate") > 0:
        parts.append(f"story points on {detail('issues_without_estimate')} "
                     f"({_pct(value('issues_without_estimate'))})")
    if value("epics_unmapped") > 0:
        parts.append(f"a pillar for {detail('epics_unmapped')} ({_pct(value('epics_unmapped'))})")
    for measure, words in (("points_out_of_range", "usable story points on {n} issues whose points are out of range"),
                           ("subtasks_parent_not_visible", "the parent of {n} sub-tasks"),
                           ("epics_initiative_not_visible", "the initiative of {n} epics")):
        if value(measure) > 0:
            parts.append(words.format(n=f"{int(value(measure)):,}"))
    if value("changelogs_incomplete") > 0:
        parts.append(f"the full changelog of {detail('changelogs_incomplete')}")
    if value("sync_age_hours") >= 48:
        parts.append(f"anything after the last sync, {value('sync_age_hours') / 24:.0f} days ago")
    if values is not None and "hygiene" in values.index and "no lint run" in detail("hygiene"):
        parts.append("a lint run, so no hygiene score")
    if not has_baseline:
        parts.append("a snapshot from a week ago, so nothing on what moved since last week")
    if parts:
        text = "What this page could not see: " + "; ".join(parts) + "."
    else:
        text = ("Nothing this page needs is missing: every story is estimated, every epic has a pillar and every "
                "epic and parent is visible.")
    return {"sentence": text, "keys": keys, "figure": float(len(parts)), "unit": "gaps", "kind": "missing_data",
            "weight": np.nan}


#: What the view is called, what it requires and how it is computed (see :mod:`rollup.views.registry`).
VIEW = View("insights", compute=compute, requires=(
    "epics", "decisions", "changes", "scope", "pillars", "okrs", "hygiene", "missing_parents", "completeness", "effort",
    "snapshots", "allocation_window_days", "team",
))


__all__ = ["VIEW", "compute", "listing", "COLUMNS", "KINDS", "MAX_RANKED", "MISSED_WEIGHT"]
