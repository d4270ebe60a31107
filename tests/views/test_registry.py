"""The view registry: every requirement is a report input or an earlier view, and each view gets exactly that."""

from __future__ import annotations

import inspect

import pandas as pd
import pytest
from portfolio_org import AS_OF, MAPPINGS, mapped_issues

from rollup.jobs import report
from rollup.views import INPUTS, REGISTRY, View, check_registry


def _view(name: str, *requires: str) -> View:
    def compute(mapped_issues, mappings, *, as_of, **given):
        return pd.DataFrame({"view": [name], "given": [sorted(given)]})

    compute.__signature__ = inspect.Signature([  # type: ignore[attr-defined]
        inspect.Parameter("mapped_issues", inspect.Parameter.POSITIONAL_OR_KEYWORD),
        inspect.Parameter("mappings", inspect.Parameter.POSITIONAL_OR_KEYWORD),
        inspect.Parameter("as_of", inspect.Parameter.KEYWORD_ONLY),
        *(inspect.Parameter(r, inspect.Parameter.KEYWORD_ONLY) for r in requires),
    ])
    return View(name, requires=requires, compute=compute)


def test_the_registry_runs_each_view_once_in_order():
    names = [v.name for v in REGISTRY]
    assert len(set(names)) == len(names)
    assert names[:4] == ["effort", "forecast", "forecast_accuracy", "epics"] and names[-1] == "definitions"
    assert check_registry(REGISTRY) == REGISTRY


def test_a_view_that_requires_a_later_view_is_refused_naming_both():
    with pytest.raises(TypeError, match="view 'totals' requires 'epics', which runs after it"):
        check_registry((_view("totals", "epics"), _view("epics", "lint")))


def test_a_requirement_that_is_neither_an_input_nor_a_view_is_refused():
    with pytest.raises(TypeError, match="view 'epics' requires 'lnt', which is neither a report input nor a view"):
        check_registry((_view("epics", "lnt"),))


def test_a_view_declared_twice_is_refused():
    with pytest.raises(TypeError, match="view 'epics' is declared twice"):
        check_registry((_view("epics"), _view("epics")))


def test_compute_takes_exactly_what_the_view_requires():
    def compute(mapped_issues, mappings, *, as_of, epics, team):
        return pd.DataFrame()

    with pytest.raises(TypeError, match="view 'okrs' requires epics but its compute takes epics, team"):
        check_registry((_view("epics"), View("okrs", requires=("epics",), compute=compute)))


def test_build_views_takes_every_report_input():
    keywords = [p.name for p in inspect.signature(report.build_views).parameters.values()
                if p.kind is inspect.Parameter.KEYWORD_ONLY and p.name != "as_of"]
    assert sorted(keywords) == sorted(INPUTS)


def test_build_views_hands_each_view_exactly_what_it_requires(monkeypatch):
    registry = check_registry((_view("first", "snapshots", "team"), _view("second", "first", "lint"),
                               _view("third")))
    monkeypatch.setattr(report, "REGISTRY", registry)
    views = report.build_views(mapped_issues(), MAPPINGS, as_of=AS_OF, snapshots=pd.DataFrame(), team="pay",
                               now=pd.Timestamp("2026-11-26T09:00Z"))
    assert {name: frame["given"].iloc[0] for name, frame in views.items()} == {
        "first": ["snapshots", "team"], "second": ["first", "lint"], "third": []}


def test_no_view_module_reads_a_grab_bag():
    for view in REGISTRY:
        kinds = {p.kind for p in inspect.signature(view.compute).parameters.values()}
        assert inspect.Parameter.VAR_KEYWORD not in kinds, view.name
