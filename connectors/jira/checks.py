"""Answer checks: what each Jira answer must look like before it is believed.

Each check takes a decoded JSON body and raises :class:`~connectors.jira.errors.BadAnswer` when the
answer cannot be believed — an empty or wrongly shaped body, ids other than those asked, a field list
without the fields every Jira has. The transport retries such an answer like a 5xx and fails loudly
when it keeps coming (see :meth:`connectors.jira.transport.Transport.request`). Messages summarise
ids and counts, never issue content.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from typing import Any

from .errors import BadAnswer

Check = Callable[[Any], None]

#: Fields every Jira site lists in ``/rest/api/2/field``; a list without them is not the site's field list.
REQUIRED_FIELDS = ("summary", "status", "issuetype", "project", "created", "updated")

_ORDER_BY = re.compile(r"\s+ORDER\s+BY\s+.*$", re.IGNORECASE | re.DOTALL)


def without_order_by(jql: str) -> str:
    """``jql`` without a trailing ``ORDER BY`` clause (counts and ``id in`` checks take none)."""
    return _ORDER_BY.sub("", jql).strip()


def _ids(ids: Iterable[Any], limit: int = 5) -> str:
    ids = sorted(ids, key=str)
    shown = ", ".join(str(i) for i in ids[:limit])
    return f"{len(ids)} id(s): {shown}" + (f" and {len(ids) - limit} more" if len(ids) > limit else "")


def json_object(body: Any) -> None:
    """The answer is a JSON object."""
    if not isinstance(body, dict):
        raise BadAnswer(f"a JSON {type(body).__name__} where an object was expected")


def _list_of_objects(body: Any, what: str) -> list[dict[str, Any]]:
    if not isinstance(body, list) or not all(isinstance(i, dict) for i in body):
        raise BadAnswer(f"something other than a list of {what}", got=f"a JSON {type(body).__name__}")
    return body


def status_list(body: Any) -> None:
    """``/status``: a non-empty list of statuses, each with a name."""
    items = _list_of_objects(body, "statuses")
    if not items:
        raise BadAnswer("an empty status list (every Jira has statuses)", got="[]")


def field_list(body: Any) -> None:
    """``/field``: a list of fields with ids, holding the system fields every Jira has."""
    items = _list_of_objects(body, "fields")
    if any("id" not in f for f in items):
        raise BadAnswer("a field list with entries that carry no id")
    present = {str(f["id"]) for f in items}
    missing = [f for f in REQUIRED_FIELDS if f not in present]
    if missing:
        raise BadAnswer(f"a field list of {len(items)} fields without {', '.join(missing)} (every Jira has them)",
                        asked="GET /rest/api/2/field", got=f"{len(items)} fields")


def project_list(body: Any) -> None:
    """``/project``: a list of projects, each with an id and a key (it may be empty: no project visible)."""
    items = _list_of_objects(body, "projects")
    if any(not item.get("key") or "id" not in item for item in items):
        raise BadAnswer("a project list with entries that carry no id or key",
                        asked="GET /rest/api/2/project", got=f"{len(items)} entries")


def count_answer(body: Any) -> None:
    """``search/approximate-count``: ``{"count": n}`` with n a whole number ≥ 0."""
    json_object(body)
    count = body.get("count")
    if not isinstance(count, int) or isinstance(count, bool) or count < 0:
        raise BadAnswer(f"count={count!r}, not a count of issues")


def total_answer(body: Any) -> None:
    """A Data Center search page: ``total`` is a whole number ≥ 0."""
    json_object(body)
    total = body.get("total")
    if not isinstance(total, int) or isinstance(total, bool) or total < 0:
        raise BadAnswer(f"total={total!r}, not a count of issues")


def only_ids(asked: Iterable[int]) -> Callable[[list[dict[str, Any]]], None]:
    """Issue items must name only ids among ``asked`` (a stale answer names others)."""
    wanted = {int(i) for i in asked}

    def check(items: list[dict[str, Any]]) -> None:
        try:
            got = {int(i["id"]) for i in items}
        except (KeyError, TypeError, ValueError):
            raise BadAnswer("issues without a numeric id") from None
        other = got - wanted
        if other:
            raise BadAnswer(f"issues other than those asked ({_ids(other)})", asked=_ids(wanted),
                            got=_ids(got))

    return check


def bulk_issues(asked: Iterable[int]) -> Check:
    """``issue/bulkfetch``: issues (only ids asked) and ``issueErrors`` (only ids asked)."""
    ids = list(asked)
    items_check = only_ids(ids)

    def check(body: Any) -> None:
        json_object(body)
        issues = body.get("issues")
        errors = body.get("issueErrors", [])
        if not isinstance(issues, list) or not all(isinstance(i, dict) for i in issues):
            raise BadAnswer("a bulk fetch answer without an 'issues' list", asked=_ids(ids))
        if not isinstance(errors, list):
            raise BadAnswer("a bulk fetch answer whose 'issueErrors' is not a list", asked=_ids(ids))
        items_check(issues)
        wanted = {str(i) for i in ids}
        other = {str(e.get("id")) for e in errors if isinstance(e, dict)} - wanted
        if other:
            raise BadAnswer(f"issue errors for ids not asked ({_ids(other)})", asked=_ids(ids))

    return check


def changelog_ids(asked: Iterable[int]) -> Check:
    """``changelog/bulkfetch``: every ``issueChangeLogs`` entry names an issue asked."""
    wanted = {int(i) for i in asked}

    def check(body: Any) -> None:
        json_object(body)
        logs = body.get("issueChangeLogs") or []
        try:
            got = {int(entry["issueId"]) for entry in logs}
        except (KeyError, TypeError, ValueError):
            raise BadAnswer("changelogs without a numeric issueId") from None
        if not got <= wanted:
            raise BadAnswer(f"changelogs of issues not asked ({_ids(got - wanted)})", asked=_ids(wanted))

    return check


def worklog_list(asked: Iterable[int]) -> Check:
    """``worklog/list``: a list of worklogs, each an id asked and with an issue id."""
    wanted = {int(i) for i in asked}

    def check(body: Any) -> None:
        items = _list_of_objects(body, "worklogs")
        try:
            got = {int(w["id"]) for w in items}
            for w in items:
                int(w["issueId"])
        except (KeyError, TypeError, ValueError):
            raise BadAnswer("worklogs without a numeric id or issueId") from None
        if not got <= wanted:
            raise BadAnswer(f"worklogs not asked ({_ids(got - wanted)})", asked=_ids(wanted))

    return check


def worklog_changes(body: Any) -> None:
    """``worklog/updated`` and ``/deleted``: ``values`` with worklog ids, and ``until``."""
    json_object(body)
    values = body.get("values")
    if not isinstance(values, list) or not all(isinstance(v, dict) and "worklogId" in v for v in values):
        raise BadAnswer("a worklog change page without a 'values' list of worklog ids")
    until = body.get("until")
    if until is not None and not isinstance(until, int):
        raise BadAnswer(f"until={until!r}, not a time in milliseconds")


def both(first: Check | None, second: Check) -> Check:
    """A check running ``first`` (when given), then ``second``."""

    def check(body: Any) -> None:
        if first is not None:
            first(body)
        second(body)

    return check
