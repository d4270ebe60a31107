"""Normalized rows: what the Jira connector hands to the rest of the tool.

These dataclasses are the contract between ``connectors`` and the store. They hold
plain Python values only (no Jira JSON), in UTC, with Jira's per-site custom field
ids already resolved to meaning (story points, epic link, team, ...).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

#: Jira's three status categories, by their stable ``key``.
STATUS_CATEGORIES = ("new", "indeterminate", "done")


@dataclass(slots=True)
class IssueRow:
    """The current state of one issue.

    ``hierarchy_level`` follows Jira's own numbering: -1 sub-task, 0 story/task/bug,
    1 epic, 2 and above initiative and higher Jira Plans levels.
    ``parent_key`` is the direct parent whatever the mechanism (Cloud ``parent``,
    Data Center sub-task parent or *Parent Link*); ``epic_key`` is the epic a
    story-level issue belongs to (Cloud ``parent`` when the parent is an epic, Data
    Center *Epic Link*); for a sub-task it is left empty and resolved through its parent.
    """

    id: int
    key: str
    project_key: str
    issue_type: str
    hierarchy_level: int
    status: str
    status_category: str
    created: datetime
    updated: datetime
    summary: str
    parent_key: str | None = None
    epic_key: str | None = None
    resolved: datetime | None = None
    assignee_id: str | None = None
    assignee_name: str | None = None
    assignee_active: bool | None = None
    story_points: float | None = None
    start_date: date | None = None
    target_date: date | None = None
    due_date: date | None = None
    labels: list[str] = field(default_factory=list)
    components: list[str] = field(default_factory=list)
    fix_versions: list[str] = field(default_factory=list)
    team: str | None = None
    sprint: str | None = None
    #: Every sprint the issue has been in, as its Sprint field lists them (closed ones included).
    sprints: list[SprintRow] = field(default_factory=list)
    description: str = ""
    #: Values of further fields named in configuration (e.g. "Investment"), by field name.
    custom: dict[str, Any] = field(default_factory=dict)

    @property
    def description_length(self) -> int:
        """Length of the plain-text description, in characters."""
        return len(self.description)


@dataclass(frozen=True, slots=True)
class SprintRow:
    """A sprint, as an issue's Sprint field names it (Cloud objects, Data Center strings)."""

    id: int
    name: str
    state: str | None = None  # future, active, closed
    board_id: int | None = None
    start: datetime | None = None
    end: datetime | None = None
    complete: datetime | None = None


@dataclass(slots=True)
class TransitionRow:
    """One kept change from the issue's full changelog.

    ``field``: ``status``, ``assignee``, ``epic`` (Epic Link), ``parent`` (Cloud parent, Parent
    Link), ``story_points`` or ``target_date`` (values ISO dates). Epic and parent values are keys
    where Jira wrote them, else issue ids.
    """

    issue_id: int
    history_id: int
    at: datetime
    field: str
    from_value: str | None
    to_value: str | None
    #: For status changes: the status category key of ``to_value``; else None.
    to_category: str | None = None
    author_id: str | None = None
    author_name: str | None = None


@dataclass(slots=True)
class WorklogRow:
    """One worklog entry."""

    id: int
    issue_id: int
    author_id: str | None
    author_name: str | None
    started: datetime
    seconds: int
    updated: datetime


@dataclass(slots=True)
class FieldRow:
    """A Jira field and, where it was resolved to one, the role it plays for this tool."""

    id: str
    name: str
    custom: bool
    schema_type: str | None = None
    role: str | None = None


@dataclass(slots=True)
class IssueRef:
    """What a cheap id sweep returns for each issue."""

    id: int
    key: str
    updated: datetime


@dataclass(frozen=True, slots=True)
class ProjectRef:
    """A project the API user can see (``GET /rest/api/2/project``)."""

    id: str
    key: str
    name: str
