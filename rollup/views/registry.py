"""What a view declares, and the check that one ordered registry of them can run.

A view is declared once, at the end of its module, as a :class:`View`: its ``name`` (the key of its
frame among the report's views), the names it ``requires`` — earlier views (``epics``, ``effort``,
``changes``, …) or the report's :data:`INPUTS` — and its ``compute``, called as
``compute(mapped_issues, mappings, as_of=…, <each requirement>=…)`` with exactly what it requires.

>>> VIEW = View("okr_summary", requires=("okrs",), compute=compute)  # doctest: +SKIP
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import pandas as pd

#: What a report hands the views besides the mapped issues, the mappings and ``as_of``.
INPUTS = ("snapshots", "sync_runs", "now", "lint", "lint_previous", "scope_growth_threshold",
          "allocation_window_days", "team", "transitions")


@dataclass(frozen=True)
class View:
    """One view: its name, what it requires (earlier views or :data:`INPUTS`) and the function computing it."""

    name: str
    requires: tuple[str, ...]
    compute: Callable[..., pd.DataFrame]

    @property
    def doc(self) -> str:
        """The docstring of the view's module, which names the frame's columns."""
        module = inspect.getmodule(self.compute)
        return (module.__doc__ if module else None) or ""


def check_registry(views: Iterable[View], inputs: Iterable[str] = INPUTS) -> tuple[View, ...]:
    """The views, once each is known to be runnable in order; a TypeError naming the view otherwise.

    Every name is unique and no input's; every requirement is an input or an earlier view; ``compute``
    takes exactly the requirements as keyword-only parameters (after ``mapped_issues``, ``mappings``, ``as_of``).
    """
    views, available, names = tuple(views), set(inputs), [v.name for v in views]
    for position, view in enumerate(views):
        if view.name in available:
            raise TypeError(f"view {view.name!r} is declared twice or shadows a report input")
        for need in view.requires:
            if need in available:
                continue
            if need in names[position + 1:]:
                message = (f"view {view.name!r} requires {need!r}, which runs after it: "
                           f"move {need!r} before {view.name!r}")
            else:
                message = f"view {view.name!r} requires {need!r}, which is neither a report input nor a view"
            raise TypeError(message)
        keywords = [p.name for p in inspect.signature(view.compute).parameters.values()
                    if p.kind is inspect.Parameter.KEYWORD_ONLY and p.name != "as_of"]
        if sorted(keywords) != sorted(view.requires):
            raise TypeError(f"view {view.name!r} requires {', '.join(view.requires) or 'nothing'} but its compute "
                            f"takes {', '.join(keywords) or 'nothing'}")
        available.add(view.name)
    return views


__all__ = ["View", "INPUTS", "check_registry"]
