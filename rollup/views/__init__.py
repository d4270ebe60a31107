"""Views: pure functions from the mapped issues frame to a DataFrame; no I/O.

Each module has ``compute(mapped_issues, mappings, *, as_of, **ctx) -> DataFrame`` with a
docstring naming its columns and an empty-frame guard. :func:`rollup.report.build_views` runs
them in :data:`ORDER` and passes earlier results (``epics``, ``changes``, …) on in ``ctx``, with the
report's inputs (``snapshots``, ``sync_runs``, ``lint``, ``lint_previous``, …).
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
    headline,
    hygiene,
    insights,
    lint_rules,
    missing_parents,
    okr_summary,
    okrs,
    pillars,
    points_out_of_range,
    teams,
    titles,
    trend,
)

#: Views in the order they run; later views reuse earlier ones through ``ctx``.
ORDER = ("effort", "epics", "missing_parents", "epics_not_visible", "points_out_of_range", "pillars", "okrs",
         "okr_summary",
         "allocation", "changes", "trend", "hygiene", "teams", "decisions", "lint_rules", "completeness", "headline",
         "titles", "insights", "definitions")

MODULES = {
    "effort": effort,
    "epics": epics,
    "missing_parents": missing_parents,
    "epics_not_visible": epics_not_visible,
    "points_out_of_range": points_out_of_range,
    "pillars": pillars,
    "okrs": okrs,
    "okr_summary": okr_summary,
    "allocation": allocation,
    "changes": changes,
    "trend": trend,
    "hygiene": hygiene,
    "teams": teams,
    "decisions": decisions,
    "lint_rules": lint_rules,
    "completeness": completeness,
    "headline": headline,
    "titles": titles,
    "insights": insights,
    "definitions": definitions,
}

__all__ = ["ORDER", "MODULES", *MODULES]
