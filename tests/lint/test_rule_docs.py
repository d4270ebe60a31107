"""Every rule is documented (message, Why, How to fix) and docs/lint-rules.md is current."""

from __future__ import annotations

import importlib
import pkgutil
import re

import pytest
from lint_helpers import REPO_ROOT

from rollup.lint import GROUPS, Rule, all_rules
from rollup.lint import rules as rules_package
from rollup.lint.base import parse_docstring
from rollup.lint.docs import generate

RULES = all_rules()


def test_rules_are_sorted_by_code_and_unique():
    codes = [r.code for r in RULES]
    assert codes == sorted(codes) and len(set(codes)) == len(codes)
    assert len({r.name for r in RULES}) == len(RULES)
    assert len(RULES) >= 20


def test_every_rule_module_is_listed_in_rules_once():
    """A rule module whose class is missing from ``RULES`` would never run: each module has one, listed."""
    listed = {r.__module__: r for r in rules_package.RULES}
    assert len(listed) == len(rules_package.RULES)
    for info in pkgutil.iter_modules(rules_package.__path__):
        module = importlib.import_module(f"{rules_package.__name__}.{info.name}")
        classes = [obj for obj in vars(module).values() if isinstance(obj, type) and issubclass(obj, Rule)
                   and obj is not Rule and obj.__module__ == module.__name__]
        assert classes == [listed.get(module.__name__)], module.__name__


@pytest.mark.parametrize("rule", RULES, ids=[r.code for r in RULES])
def test_rule_is_declared_and_documented(rule):
    assert re.fullmatch(r"EQ\d{3}", rule.code)
    assert re.fullmatch(r"[a-z]+(-[a-z0-9]+)+", rule.name)
    assert rule.groups and set(rule.groups) <= set(GROUPS)
    assert rule.severity in ("error", "warning", "info")
    assert rule.summary and rule.summary == rule.__doc__.strip().splitlines()[0]
    assert len(rule.why.split()) >= 10 and len(rule.how_to_fix.split()) >= 5
    for key in rule.config_keys:
        assert f"`{key}`" in rule.__doc__ or key in rule.how_to_fix, f"{rule.code} does not explain '{key}'"


def test_every_group_has_rules():
    for group in GROUPS:
        assert any(group in r.groups for r in RULES), group


def test_a_rule_without_why_or_how_to_fix_is_refused():
    with pytest.raises(ValueError, match="Why"):
        parse_docstring("Message only.\n\nHow to fix:\nDo it.")
    with pytest.raises(TypeError, match="How to fix"):
        type("Broken", (Rule,), {"__doc__": "Message.\n\nWhy:\nBecause.", "code": "EQ999",
                                  "name": "epic-broken", "groups": ("size",), "__module__": __name__})


def test_committed_reference_is_current():
    committed = (REPO_ROOT / "docs" / "lint-rules.md").read_text()
    assert committed == generate(), "docs/lint-rules.md is stale: run `python -m rollup.lint.docs > docs/lint-rules.md`"


def test_reference_lists_every_rule_with_why_and_fix():
    text = generate()
    for rule in RULES:
        assert f"### {rule.code} `{rule.name}`" in text
        assert rule.why in text and rule.how_to_fix in text
