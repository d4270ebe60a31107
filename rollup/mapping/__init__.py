"""Mapping: decide each issue's pillar, OKR, key result, bucket and team from ``mappings.yaml``.

>>> from rollup.mapping import apply
>>> mapped = apply(frames.issues, config)          # doctest: +SKIP
>>> mapped.issues[["key", "pillar", "pillar_source"]]  # doctest: +SKIP

:func:`apply` is the engine (see :mod:`rollup.mapping.engine` for precedence), :func:`check`
audits a configuration against the data, :func:`diff` compares two configurations.
"""

from rollup.mapping.check import CheckReport, check
from rollup.mapping.diff import MappingDiff, diff
from rollup.mapping.engine import CONFLICT_COLUMNS, INHERITED, RULE_COLUMNS, UNMAPPED, Mapped, apply
from rollup.mapping.models import ATTRIBUTES

__all__ = ["ATTRIBUTES", "CONFLICT_COLUMNS", "INHERITED", "RULE_COLUMNS", "UNMAPPED", "CheckReport", "Mapped",
           "MappingDiff", "apply", "check", "diff"]
