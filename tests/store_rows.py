"""Every table later layers read from a store, as lists of dicts: for comparing two stores in tests."""

from __future__ import annotations

from typing import Any


def store_rows(store: Any) -> dict[str, list[dict[str, Any]]]:
    """Issues, transitions, worklogs and fields of ``store``, each in the store's order."""
    return {
        "issues": store.issue_rows(),
        "transitions": store.transition_rows(),
        "worklogs": store.worklog_rows(),
        "fields": store.field_rows(),
    }
