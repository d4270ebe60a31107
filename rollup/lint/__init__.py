"""Epic-quality lint: every epic that cannot roll up properly, and exactly how to fix it.

>>> from rollup.lint import run_lint
>>> result = run_lint(mapped, config, as_of=date(2026, 11, 23), transitions=frames.transitions)  # doctest: +SKIP
>>> result.findings[["key", "rule", "severity", "message"]]  # doctest: +SKIP

:func:`run_lint` is pure (no I/O): mapped frame + configuration in, :class:`LintResult` out
(columns in :mod:`rollup.lint.result`). Rules live one per module in :mod:`rollup.lint.rules`
and are found by :func:`all_rules`; :mod:`rollup.lint.docs` generates docs/lint-rules.md from them.
"""

from rollup.lint.base import GROUPS, Rule, all_rules, expand_selector, find_rule
from rollup.lint.engine import run_lint, selected_rules
from rollup.lint.result import LintResult

__all__ = ["GROUPS", "LintResult", "Rule", "all_rules", "expand_selector", "find_rule", "run_lint",
           "selected_rules"]
