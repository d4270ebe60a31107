"""The ``finance:`` section of mappings.yaml: effort models, rates and the capex/opex policy.

Kept apart from :mod:`rollup.config` so the finance package owns its settings; :mod:`rollup.config`
embeds :class:`FinanceOptions` and calls :func:`cross_check` after the models validate.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict


class FinanceOptions(BaseModel):
    """The ``finance:`` section."""

    model_config = ConfigDict(extra="forbid")


def cross_check(config: Any, where: Any) -> list[str]:
    """Problems between ``finance:`` and the rest of the file; ``where(*path)`` gives 'file, line N'."""
    return []
