"""Views: pure functions from the mapped issues frame to a DataFrame; no I/O.

Each module has ``compute(mapped_issues, mappings, *, as_of, **ctx) -> DataFrame`` with a
docstring naming its columns and an empty-frame guard. :func:`rollup.report.build_views` runs
them in :data:`ORDER` and passes earlier results (``epics``, ``changes``) on in ``ctx``.
"""

from rollup.views import allocation, changes, completeness, epics, headline, okrs, pillars, teams, trend

#: Views in the order they run; later views reuse earlier ones through ``ctx``.
ORDER = ("epics", "pillars", "okrs", "allocation", "changes", "trend", "teams", "completeness", "headline")

MODULES = {
    "epics": epics,
    "pillars": pillars,
    "okrs": okrs,
    "allocation": allocation,
    "changes": changes,
    "trend": trend,
    "teams": teams,
    "completeness": completeness,
    "headline": headline,
}

__all__ = ["ORDER", "MODULES", *MODULES]
