"""The epic-quality rules, one per module; :func:`rollup.lint.all_rules` finds them here.

Add a rule by adding a module with one :class:`rollup.lint.base.Rule` subclass, a case file
``tests/lint/cases/<CODE>-<name>.yaml`` and a regenerated ``docs/lint-rules.md``.
"""
