"""Row builders for the store, sync and CLI tests (plain functions, importable by name)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from connectors.jira.rows import IssueRow, TransitionRow, WorklogRow

T0 = datetime(2025, 1, 6, 9, 0, tzinfo=timezone.utc)


def make_issue(issue_id: int, key: str | None = None, *, updated: datetime | None = None, **overrides) -> IssueRow:
    """An IssueRow with plausible defaults; ``overrides`` set any field."""
    key = key or f"PAY-{issue_id}"
    values = dict(
        id=issue_id,
        key=key,
        project_key=key.split("-")[0],
        issue_type="Story",
        hierarchy_level=0,
        status="In Progress",
        status_category="indeterminate",
        created=T0,
        updated=updated or T0 + timedelta(hours=issue_id),
        summary=f"Issue {key}",
        epic_key="PAY-1" if issue_id != 1 else None,
        labels=["pillar-enterprise"],
        components=["Billing"],
        story_points=3.0,
        description="Make hospitals pay.",
        custom={"Investment": "New capability"},
    )
    values.update(overrides)
    return IssueRow(**values)


def make_transitions(issue: IssueRow, count: int = 2) -> list[TransitionRow]:
    """``count`` status transitions for ``issue``, one hour apart after creation."""
    statuses = ["To Do", "In Progress", "In Review", "Done"]
    return [
        TransitionRow(
            issue_id=issue.id,
            history_id=issue.id * 100 + n,
            at=issue.created + timedelta(hours=n + 1),
            field="status",
            from_value=statuses[n % 4],
            to_value=statuses[(n + 1) % 4],
            to_category="indeterminate",
            author_id="u1",
        )
        for n in range(count)
    ]


def make_worklog(worklog_id: int, issue_id: int, *, seconds: int = 3600, updated: datetime | None = None) -> WorklogRow:
    """A WorklogRow on ``issue_id``."""
    return WorklogRow(
        id=worklog_id,
        issue_id=issue_id,
        author_id="u1",
        author_name="Ada Lovelace",
        started=T0 + timedelta(days=1),
        seconds=seconds,
        updated=updated or T0 + timedelta(days=1),
    )
