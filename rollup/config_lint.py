"""The ``lint:`` section of mappings.yaml: which epic-quality rules run, their thresholds and ignores.

Kept apart from :mod:`rollup.config` so the lint package owns its settings; :mod:`rollup.config`
embeds :class:`LintOptions` and calls :func:`cross_check` after the models validate.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

Severity = Literal["error", "warning", "info"]


class WritebackOptions(BaseModel):
    """What ``rollup lint --apply`` writes to Jira: the ``lint.writeback:`` section."""

    model_config = ConfigDict(extra="forbid")

    #: Label added to every epic with a finding at or above ``min_severity`` (null: no label).
    label: str | None = Field("rollup-lint", pattern=r"^[^\s]+$")
    #: Keep one comment per such epic listing its problems (edited in place, never duplicated).
    comment: bool = True
    #: Findings below this severity are not written back.
    min_severity: Severity = "warning"


class LintOptions(BaseModel):
    """The ``lint:`` section."""

    model_config = ConfigDict(extra="forbid")

    writeback: WritebackOptions = Field(default_factory=WritebackOptions)


def cross_check(config: Any, where: Any) -> list[str]:
    """Problems between ``lint:`` and the rest of the file; ``where(*path)`` gives 'file, line N'."""
    return []
