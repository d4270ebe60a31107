"""Helpers for the mapping tests: hand-built issue frames."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from rollup.frames import issues_frame

REPO_ROOT = Path(__file__).resolve().parents[2]
NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)

LEVELS = {"Initiative": 2, "Epic": 1, "Story": 0, "Task": 0, "Bug": 0, "Sub-task": -1}


def issue(key: str, issue_type: str = "Story", **fields):
    """One issue row with sensible defaults; project from the key."""
    row = {
        "id": 0, "key": key, "project_key": key.split("-")[0], "issue_type": issue_type,
        "hierarchy_level": LEVELS[issue_type], "parent_key": None, "epic_key": None, "status": "To Do",
        "status_category": "new", "created": NOW, "updated": NOW, "labels": [], "components": [],
        "fix_versions": [], "team": None, "sprint": None, "summary": key, "description": "",
        "description_length": 0, "custom": {}, "changelog_complete": True, "story_points": None,
    }
    row.update(fields)
    return row


def frame(*rows):
    """A typed issues frame from :func:`issue` rows (ids numbered in order)."""
    return issues_frame([{**r, "id": 10000 + i} for i, r in enumerate(rows)])
