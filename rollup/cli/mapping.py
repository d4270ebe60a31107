"""``rollup mapping``: check and diff the mapping sections of ``mappings.yaml`` against the store.

Thin commands over :func:`rollup.mapping.check` and :func:`rollup.mapping.diff`.
"""

from __future__ import annotations

import json
import math
import sys
from datetime import date
from pathlib import Path
from typing import Any

import click
from rich.console import Console
from rich.table import Table

from rollup.cli.errors import handle_errors
from rollup.cli.options import as_of_option, config_option, database_option, format_option
from rollup.config import RollupConfig, load_config
from rollup.errors import EmptyStoreError

_FORMAT = format_option("json", help="json prints one JSON object to stdout.")
_DATABASE = database_option()


def load_issues(database: str | None) -> Any:
    """The ``issues`` frame from the store; an empty store is an error that says what to run."""
    from rollup.frames import load_frames
    from rollup.store import Store

    with Store.open(database, must_exist=True) as store:
        frames = load_frames(store)
        location = store.location
    if frames.issues.empty:
        raise EmptyStoreError(location)
    return frames.issues


@click.group("mapping")
def mapping() -> None:
    """Check and compare the strategy mapping (pillars, OKRs, buckets, teams, rules).

    \b
    Example:
      rollup mapping check
      rollup mapping diff mappings.yaml proposed.yaml
    """


@mapping.command("check")
@config_option("The mappings.yaml to check.")
@_DATABASE
@_FORMAT
@click.option("--strict", is_flag=True,
              help="Exit 1 when a rule never matches, names a value no issue holds, or conflicts.")
@handle_errors
def check_command(config_path: Path, database: str | None, fmt: str, strict: bool) -> None:
    """Audit the mapping against the synced issues.

    Lists rules that never match, labels / components / field values / projects that rules name
    but no issue holds, conflicts between rules of the same priority, the epics left unmapped
    per team and attribute, the epic / parent / initiative keys issues link to that the store does
    not hold (private, deleted or outside the scope: those issues inherit nothing), and story
    points below 0 or above report.max_story_points. A bad mappings.yaml exits with code 2 and
    names the line; with --strict, findings about the rules exit with code 1 (unmapped epics,
    keys not visible and points out of range alone do not).

    \b
    Example:
      rollup mapping check
      rollup mapping check --config mappings.yaml --format json
      rollup mapping check --strict   # in CI, before merging a mappings.yaml change
    """
    from rollup.mapping import check

    config = load_config(config_path)  # first: a bad file fails before the store is touched
    report = check(load_issues(database), config)
    if fmt == "json":
        click.echo(json.dumps(report.to_dict(), indent=2, default=str))
    else:
        _print_check(report, config)
    if strict and (report.never_matched or not report.unknown_values.empty or not report.conflicts.empty):
        sys.exit(1)


@mapping.command("diff")
@click.argument("old", type=click.Path(dir_okay=False, exists=True, path_type=Path))
@click.argument("new", type=click.Path(dir_okay=False, exists=True, path_type=Path))
@_DATABASE
@as_of_option("Date the pillars' actual shares end (YYYY-MM-DD), as the report's --as-of; default today.")
@_FORMAT
@handle_errors
def diff_command(old: Path, new: Path, database: str | None, as_of: date | None, fmt: str) -> None:
    """Show what changing OLD into NEW would move, before anyone commits it.

    Every epic whose pillar, OKR, key result, bucket or team changes (from -> to), and how the
    allocation per pillar and per bucket shifts, by epic count and by story points. Every pillar
    whose target share changes, and how its gap (actual share of completed effort minus target,
    in percentage points, as on the Pillars sheet) moves.

    \b
    Example:
      git show HEAD:mappings.yaml > /tmp/old.yaml
      rollup mapping diff /tmp/old.yaml mappings.yaml
      rollup mapping diff mappings.yaml proposed.yaml --format json
    """
    from rollup.mapping import diff

    old_config, new_config = load_config(old), load_config(new)
    result = diff(load_issues(database), old_config, new_config, as_of=as_of)
    if fmt == "json":
        click.echo(json.dumps(result.to_dict(), indent=2, default=str))
        return
    _print_diff(result)


# ---------------------------------------------------------------------------------------- text


def _console() -> Console:
    return Console(file=sys.stdout, width=160 if not sys.stdout.isatty() else None, soft_wrap=False)


def _pct(value: float) -> str:
    return f"{value * 100:.1f}%"


def _print_check(report: Any, config: RollupConfig) -> None:
    console = _console()
    console.print(f"Checked {len(report.rules)} rules against {report.issues} issues ({report.epics} epics).")
    never = report.rules[report.rules["matched"].eq(0)]
    if never.empty:
        console.print("Every rule matches at least one issue.")
    else:
        table = Table(title="Rules that never match")
        table.add_column("rule")
        table.add_column("where")
        for row in never.itertuples():
            table.add_row(row.rule, row.provenance)
        console.print(table)
    if report.unknown_values.empty:
        console.print("Every value the rules name exists in the Jira data.")
    else:
        table = Table(title="Values rules name that no issue holds")
        for column in ("rule", "kind", "value"):
            table.add_column(column)
        for row in report.unknown_values.itertuples():
            table.add_row(row.rule, row.kind, row.value)
        console.print(table)
    if report.conflicts.empty:
        console.print("No conflicts between rules of the same priority.")
    else:
        table = Table(title=f"Conflicts ({len(report.conflicts)})")
        for column in ("key", "attribute", "rule", "value", "conflicting_rule", "conflicting_value"):
            table.add_column(column)
        for row in report.conflicts.head(50).itertuples(index=False):
            table.add_row(*(str(v) for v in row))
        console.print(table)
    unmapped = report.unmapped
    attributes = list(dict.fromkeys(unmapped["attribute"]))
    table = Table(title="Epics left unmapped, per team (count and share of the team's epics)")
    table.add_column("team")
    table.add_column("epics", justify="right")
    for attribute in attributes:
        table.add_column(attribute, justify="right")
    for team, rows in unmapped.groupby("team", sort=False):
        by_attr = rows.set_index("attribute")
        cells = [f"{int(by_attr.at[a, 'unmapped'])} ({_pct(by_attr.at[a, 'share'])})" for a in attributes]
        table.add_row(str(team), str(int(rows["epics"].iloc[0])), *cells)
    console.print(table)
    if report.not_visible.empty:
        console.print("Every epic, parent and initiative an issue links to is in the store.")
    else:
        table = Table(title=f"Keys issues link to that the store does not hold ({len(report.not_visible)}; "
                            f"{int(report.not_visible['issues'].sum())} issues inherit nothing from them)")
        for column in ("missing_key", "kind", "issues", "keys"):
            table.add_column(column, justify="right" if column == "issues" else "left")
        for row in report.not_visible.head(50).itertuples(index=False):
            table.add_row(row.missing_key, row.kind, str(row.issues), _clip(row.keys))
        console.print(table)
    if report.points_out_of_range.empty:
        console.print(f"No story points below 0 or above {config.report.max_story_points:g}.")
    else:
        table = Table(title=f"Story points below 0 or above {config.report.max_story_points:g} "
                            f"({len(report.points_out_of_range)}; left out of every sum)")
        for column in ("key", "story_points", "problem"):
            table.add_column(column)
        for row in report.points_out_of_range.head(50).itertuples(index=False):
            table.add_row(row.key, f"{row.story_points:g}", row.problem)
        console.print(table)


def _clip(text: str, n: int = 80) -> str:
    return text if len(text) <= n else text[: n - 1] + "…"


def _points(value: float) -> str:
    return "n/a" if value is None or math.isnan(value) else f"{value * 100:+.1f} pt"


def _share(value: float) -> str:
    return "-" if value is None or math.isnan(value) else _pct(value)


def _print_targets(console: Console, result: Any) -> None:
    """Pillars whose target changes, with the gap (actual − target) before and after."""
    changed = result.changed_targets
    if changed.empty:
        console.print("No pillar target changes.")
        return
    table = Table(title=f"Pillar targets that change ({len(changed)}); gap = actual share of completed effort "
                        f"(last {result.window_days} days to {result.as_of}) minus target")
    for column in ("pillar", "target", "actual", "gap", "gap moves"):
        table.add_column(column, justify="left" if column == "pillar" else "right")
    for row in changed.itertuples(index=False):
        table.add_row(
            f"{row.pillar} ({row.name})", f"{_share(row.target_old)} -> {_share(row.target_new)}",
            f"{_share(row.actual_old)} -> {_share(row.actual_new)}",
            f"{_points(row.gap_old)} -> {_points(row.gap_new)}", _points(row.gap_change))
    console.print(table)
    for row in changed.itertuples(index=False):
        if not math.isnan(row.gap_change):
            way = "closer to" if abs(row.gap_new) < abs(row.gap_old) else "further from"
            console.print(f"{row.name}: target {_share(row.target_old)} -> {_share(row.target_new)}; gap "
                          f"{_points(row.gap_old)} -> {_points(row.gap_new)} ({_points(row.gap_change)}, "
                          f"{way} target).")


def _print_diff(result: Any) -> None:
    console = _console()
    _print_targets(console, result)
    moves = result.moves
    if moves.empty:
        console.print("No epic changes pillar, OKR, key result, bucket or team.")
    else:
        epics = moves["key"].nunique()
        table = Table(title=f"Epics that move ({epics} epics, {len(moves)} changes)")
        for column in ("key", "attribute", "from", "to", "to_source"):
            table.add_column(column)
        for row in moves.itertuples(index=False):
            table.add_row(row.key, row.attribute, getattr(row, "_2"), row.to, row.to_source)
        console.print(table)
    for dimension, rows in result.shares.groupby("dimension", sort=False):
        table = Table(title=f"Allocation by {dimension}: old -> new")
        for column in (dimension, "epics", "epic share", "change", "story points", "point share", "change"):
            table.add_column(column, justify="left" if column == dimension else "right")
        for row in rows.itertuples(index=False):
            table.add_row(
                row.value, f"{row.epics_old} -> {row.epics_new}",
                f"{_pct(row.epic_share_old)} -> {_pct(row.epic_share_new)}", f"{row.epic_share_change * 100:+.1f} pt",
                f"{row.points_old:g} -> {row.points_new:g}",
                f"{_pct(row.point_share_old)} -> {_pct(row.point_share_new)}",
                f"{row.point_share_change * 100:+.1f} pt",
            )
        console.print(table)
