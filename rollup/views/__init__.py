"""Views: pure functions from the mapped issues frame to a DataFrame; no I/O.

Each module declares one :class:`~rollup.views.registry.View` (``VIEW``): its name, what it requires
(earlier views such as ``epics``, ``effort``, ``changes``, or the report's inputs in
:data:`~rollup.views.registry.INPUTS`: ``snapshots``, ``sync_runs``, ``lint``, ``lint_previous``, …) and
``compute(mapped_issues, mappings, *, as_of, <each requirement>) -> DataFrame``, whose module docstring
names its columns and which has an empty-frame guard. :func:`rollup.jobs.report.build_views` runs
:data:`REGISTRY` in order and hands each view exactly what it requires.
"""

from rollup.views import (
    allocation,
    changes,
    completeness,
    decisions,
    definitions,
    effort,
    epics,
    epics_not_visible,
    flow,
    forecast,
    forecast_accuracy,
    headline,
    hygiene,
    insights,
    lint_rules,
    missing_parents,
    okr_summary,
    okrs,
    pillars,
    points_out_of_range,
    scope,
    teams,
    titles,
    trend,
)
from rollup.views.registry import INPUTS, View, check_registry

#: Every view in the order it runs; a view requires only report inputs and views listed before it
#: (checked here, at import).
REGISTRY: tuple[View, ...] = check_registry((
    effort.VIEW,
    forecast.VIEW,
    forecast_accuracy.VIEW,
    epics.VIEW,
    missing_parents.VIEW,
    epics_not_visible.VIEW,
    points_out_of_range.VIEW,
    pillars.VIEW,
    okrs.VIEW,
    okr_summary.VIEW,
    allocation.VIEW,
    changes.VIEW,
    trend.VIEW,
    hygiene.VIEW,
    teams.VIEW,
    flow.VIEW,
    scope.VIEW,
    decisions.VIEW,
    lint_rules.VIEW,
    completeness.VIEW,
    headline.VIEW,
    titles.VIEW,
    insights.VIEW,
    definitions.VIEW,
))

__all__ = [
    "REGISTRY", "INPUTS", "View", "check_registry",
    "allocation", "changes", "completeness", "decisions", "definitions", "effort", "epics", "epics_not_visible",
    "flow", "forecast", "forecast_accuracy", "headline", "hygiene", "insights", "lint_rules", "missing_parents",
    "okr_summary", "okrs", "pillars", "points_out_of_range", "scope", "teams", "titles", "trend",
]
