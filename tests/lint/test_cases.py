"""One YAML case file per rule in ``tests/lint/cases/``, collected automatically.

A case file ``<CODE>-<name>.yaml`` holds ``rule`` (the code), optional ``lint`` (a ``lint:``
section added to the base configuration of :mod:`lint_helpers`) and ``as_of``, the short-form
``issues`` (:func:`lint_helpers.issue_rows`), and ``expect``: epic key → a part of the message.
The epics listed in ``expect`` must be exactly the ones the rule reports; every other epic of
the case passes. A case must have at least one failing and one passing epic, and every rule in
the registry must have a case file. For a rule about epics that are not visible (``target:
missing_epics``) the keys stories link to count as epics of the case too.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
import yaml
from lint_helpers import AS_OF, LEVELS, lint

from rollup.lint import all_rules, find_rule

CASES = Path(__file__).parent / "cases"
FILES = sorted(CASES.glob("*.yaml"))


def load(path: Path) -> dict:
    return yaml.safe_load(path.read_text())


def test_every_rule_has_a_case_file_named_after_it():
    names = {p.stem for p in FILES}
    missing = [f"{r.code}-{r.name}.yaml" for r in all_rules() if f"{r.code}-{r.name}" not in names]
    assert not missing, f"rules without a case file in tests/lint/cases/: {missing}"
    strays = names - {f"{r.code}-{r.name}" for r in all_rules()}
    assert not strays, f"case files that name no rule: {sorted(strays)}"


@pytest.mark.parametrize("path", FILES, ids=[p.stem for p in FILES])
def test_case(path):
    case = load(path)
    code = case["rule"]
    assert path.stem.startswith(code + "-")
    epics = [i["key"] for i in case["issues"] if LEVELS[i.get("type", "Story")] == 1]
    if find_rule(code).target == "missing_epics":
        epics += [i["parent"] for i in case["issues"] if LEVELS[i.get("type", "Story")] == 0 and i.get("parent")]
    expected = case["expect"]
    assert expected and set(expected) < set(epics), "a case needs failing and passing epics"
    as_of = case.get("as_of", AS_OF)
    result = lint(case["issues"], case.get("lint"), as_of=as_of if isinstance(as_of, date) else AS_OF)
    found = result.findings[result.findings["rule"].eq(code)]
    assert sorted(found["key"]) == sorted(expected), found[["key", "message"]].to_string()
    for key, part in expected.items():
        message = found.loc[found["key"].eq(key), "message"].iloc[0]
        assert part in message, f"{key}: {message!r} does not contain {part!r}"
    # Selecting only this rule gives the same findings (rules do not depend on each other).
    alone = lint(case["issues"], case.get("lint"), as_of=as_of if isinstance(as_of, date) else AS_OF,
                 select=[code])
    assert set(alone.findings["rule"]) == {code}
    assert sorted(alone.findings["key"]) == sorted(expected)
