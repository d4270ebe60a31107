"""Jira JSON → rows. Cloud v3 (ADF descriptions, accountIds, ``parent`` everywhere) and
Data Center v2 (wiki text, user key/name, *Epic Link* / *Parent Link* custom fields)."""

from __future__ import annotations

import dataclasses
import functools
import re
from collections.abc import Iterable, Mapping
from datetime import date, datetime, timezone
from typing import Any

from .fields import FieldMap
from .rows import IssueRow, SprintRow, TransitionRow, WorklogRow

_TZ_NO_COLON = re.compile(r"([+-]\d{2})(\d{2})$")
_SPRINT_NAME = re.compile(r"[\[,]name=([^,\]]*)")
_DURATION = re.compile(r"(\d+(?:\.\d+)?)\s*([wdhm])")
#: Jira's defaults for "1w 2d 3h": 5-day weeks of 8-hour days.
_DURATION_SECONDS = {"w": 5 * 8 * 3600, "d": 8 * 3600, "h": 3600, "m": 60}


class StatusMap:
    """Status id / name → status category key, from ``GET /rest/api/2/status``."""

    def __init__(self, statuses: Iterable[Mapping[str, Any]] = ()) -> None:
        self.by_id: dict[str, str] = {}
        self.by_name: dict[str, str] = {}
        for s in statuses:
            cat = (s.get("statusCategory") or {}).get("key")
            if not cat:
                continue
            if s.get("id") is not None:
                self.by_id[str(s["id"])] = cat
            if s.get("name"):
                self.by_name[str(s["name"]).casefold()] = cat

    def category(self, status_id: Any = None, name: str | None = None) -> str | None:
        """The category key of a status, by id first, then by name; None when unknown."""
        if status_id is not None and str(status_id) in self.by_id:
            return self.by_id[str(status_id)]
        if name:
            return self.by_name.get(name.casefold())
        return None


# -- scalar parsing ---------------------------------------------------------------------------
_fromisoformat = datetime.fromisoformat
_TRAILING_BLANKS = re.compile(r"[ \t]+\n")
_BLANK_LINES = re.compile(r"\n{3,}")


def parse_datetime(value: Any) -> datetime | None:
    """A Jira timestamp ("2026-10-01T09:12:00.000+0000", epoch ms, ...) → aware UTC datetime."""
    if type(value) is str:
        # Fast path: Python 3.11's fromisoformat reads Jira's "…T09:12:00.000+0000" and "…Z" as
        # they are (a hot spot: several timestamps per issue and per history). Anything it
        # rejects (blanks, padding, odd forms) takes the general path below.
        try:
            dt = _fromisoformat(value)
        except ValueError:
            pass
        else:
            if dt.tzinfo is None:
                return dt.replace(tzinfo=timezone.utc)
            return dt.astimezone(timezone.utc)
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        dt = value
    elif isinstance(value, (int, float)):
        return datetime.fromtimestamp(value / 1000, tz=timezone.utc)
    else:
        text = str(value).strip()
        if text.endswith("Z"):
            text = text[:-1] + "+00:00"
        text = _TZ_NO_COLON.sub(r"\1:\2", text)
        dt = datetime.fromisoformat(text)
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=timezone.utc)
    return dt.astimezone(timezone.utc)


def required_datetime(value: Any, what: str) -> datetime:
    """:func:`parse_datetime` of a timestamp Jira always sends; ValueError naming ``what`` when there is none."""
    parsed = parse_datetime(value)
    if parsed is None:
        message = f"{what} carries no timestamp"
        raise ValueError(message)
    return parsed


def parse_date(value: Any) -> date | None:
    """A Jira date ("2026-10-01") or timestamp → date (a timestamp keeps its own calendar day)."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    text = str(value).strip()
    if len(text) >= 10 and text[4] == "-" and text[7] == "-":
        return date.fromisoformat(text[:10])
    return None


def parse_duration(text: str | None) -> int:
    """Jira's "1w 2d 3h 30m" → seconds (5-day weeks, 8-hour days)."""
    if not text:
        return 0
    return int(sum(float(n) * _DURATION_SECONDS[u] for n, u in _DURATION.findall(text)))


def adf_to_text(node: Any) -> str:
    """Atlassian Document Format (Cloud v3 rich text) → plain text; blocks on their own lines."""
    if node is None:
        return ""
    if isinstance(node, str):
        return node
    lines: list[str] = []
    _adf_walk(node, lines)
    text = "".join(lines)
    text = _TRAILING_BLANKS.sub("\n", text)
    return _BLANK_LINES.sub("\n\n", text).strip()


_ADF_BLOCKS = {
    "paragraph", "heading", "blockquote", "codeBlock", "listItem", "panel", "rule",
    "tableRow", "mediaSingle", "mediaGroup", "decisionItem", "taskItem", "expand", "nestedExpand",
}


def _adf_walk(node: Any, out: list[str]) -> None:
    if isinstance(node, list):
        for child in node:
            _adf_walk(child, out)
        return
    if type(node) is not dict and not isinstance(node, Mapping):  # dict first: the ABC check is slow
        return
    kind = node.get("type")
    attrs = node.get("attrs") or {}
    if kind == "text":
        out.append(str(node.get("text", "")))
    elif kind == "hardBreak":
        out.append("\n")
    elif kind == "mention":
        out.append(str(attrs.get("text") or ""))
    elif kind == "emoji":
        out.append(str(attrs.get("text") or attrs.get("shortName") or ""))
    elif kind in ("inlineCard", "blockCard"):
        out.append(str(attrs.get("url") or ""))
    elif kind == "date" and attrs.get("timestamp"):
        out.append(required_datetime(int(attrs["timestamp"]), "a date node").date().isoformat())
    elif kind == "status":
        out.append(str(attrs.get("text") or ""))
    elif kind == "tableCell" or kind == "tableHeader":
        _adf_walk(node.get("content"), out)
        out.append("\t")
    else:
        _adf_walk(node.get("content"), out)
    if kind in _ADF_BLOCKS:
        out.append("\n")


def plain_value(value: Any) -> Any:
    """A custom field value as a plain Python value: options → their ``value``, users → names, ..."""
    if isinstance(value, list):
        return [plain_value(v) for v in value]
    if isinstance(value, Mapping):
        if value.get("type") == "doc":
            return adf_to_text(value)
        if "value" in value:
            child = value.get("child")
            if isinstance(child, Mapping) and "value" in child:
                return f"{value['value']} / {child['value']}"
            return value["value"]
        for key in ("displayName", "name", "title", "key"):
            if key in value:
                return value[key]
        return dict(value)
    return value


def _user_id(user: Mapping[str, Any] | None) -> str | None:
    if not user:
        return None
    return user.get("accountId") or user.get("key") or user.get("name")


def _link_key(value: Any) -> str | None:
    """Epic Link / Parent Link values: a key string, ``{"key": ..}`` or ``{"data": {"key": ..}}``."""
    if isinstance(value, str):
        return value or None
    if isinstance(value, Mapping):
        if isinstance(value.get("data"), Mapping):
            return value["data"].get("key")
        return value.get("key")
    return None


def _sprint_name(value: Any) -> str | None:
    """The last sprint of a Sprint field: Cloud objects or Data Center "…[id=1,…,name=Sprint 1,…]" strings."""
    if not value:
        return None
    items = value if isinstance(value, list) else [value]
    last = items[-1]
    if isinstance(last, Mapping):
        return last.get("name")
    match = _SPRINT_NAME.search(str(last))
    return match.group(1) if match else str(last)


#: One ``key=value`` of a Data Center sprint string; a value runs to the next ``,key=`` (names may hold commas).
_SPRINT_PART = re.compile(r"(\w+)=(.*?)(?=,\w+=|\]$)")


def _sprints(value: Any) -> list[SprintRow]:
    """Every sprint a Sprint field lists; a value without a numeric id is skipped (it names no sprint)."""
    if not value:
        return []
    out = []
    for item in value if isinstance(value, list) else [value]:
        if isinstance(item, Mapping):
            parts = {k: item.get(k) for k in ("id", "name", "state", "boardId", "startDate", "endDate", "completeDate")}
        else:
            text = str(item)
            raw = dict(_SPRINT_PART.findall(text[text.find("[") + 1:] if "[" in text else text))
            parts = {"id": raw.get("id"), "name": raw.get("name"), "state": raw.get("state"),
                     "boardId": raw.get("rapidViewId"), "startDate": raw.get("startDate"),
                     "endDate": raw.get("endDate"), "completeDate": raw.get("completeDate")}
        try:
            sprint_id = int(str(parts["id"]))
        except ValueError:
            continue
        board = str(parts["boardId"]) if parts["boardId"] is not None else ""
        state = str(parts["state"]).lower() if parts["state"] not in (None, "", "<null>") else None
        out.append(SprintRow(
            id=sprint_id, name=storable(str(parts["name"] or sprint_id)), state=state,
            board_id=int(board) if board.isdigit() else None,
            start=_sprint_time(parts["startDate"]), end=_sprint_time(parts["endDate"]),
            complete=_sprint_time(parts["completeDate"])))
    return out


def _sprint_time(value: Any) -> datetime | None:
    if value in (None, "", "<null>"):
        return None
    try:
        return parse_datetime(value)
    except ValueError:
        return None


def _team_name(value: Any) -> str | None:
    if value is None or value == "":
        return None
    if isinstance(value, Mapping):
        for key in ("name", "title", "value"):
            if value.get(key):
                return str(value[key])
        return str(value.get("id")) if value.get("id") is not None else None
    return str(value)


def _first_set(fields: Mapping[str, Any], ids: Iterable[str]) -> Any:
    for fid in ids:
        value = fields.get(fid)
        if value not in (None, "", []):
            return value
    return None


def _hierarchy_level(fields: Mapping[str, Any], fmap: FieldMap, project: str | None = None) -> int:
    itype = fields.get("issuetype") or {}
    level = itype.get("hierarchyLevel")
    if isinstance(level, int):
        return level
    if itype.get("subtask"):
        return -1
    name = str(itype.get("name") or "").casefold()
    if name == "epic" or _first_set(fields, fmap.ids("epic_name", project)) is not None:
        return 1
    if name == "initiative":
        return 2
    # On Data Center only epics and levels above carry a Parent Link.
    if _link_key(_first_set(fields, fmap.ids("parent_link", project))):
        return 1
    return 0


#: What a NUL character in Jira text becomes: PostgreSQL text cannot hold NUL, and both stores must
#: hold identical rows, so it is replaced the same way whatever the store.
NUL_REPLACEMENT = "\ufffd"


def storable(value: Any) -> Any:
    """``value`` with every NUL character in its text (nested in lists and dicts too) replaced."""
    if isinstance(value, str):
        return value.replace("\x00", NUL_REPLACEMENT) if "\x00" in value else value
    if isinstance(value, list):
        return [storable(v) for v in value]
    if isinstance(value, tuple):
        return tuple(storable(v) for v in value)
    if isinstance(value, dict):
        return {storable(k): storable(v) for k, v in value.items()}
    return value


def _has_nul(value: Any) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, (list, tuple, dict)):
        if not value:
            return False
        if not isinstance(value, dict) and dataclasses.is_dataclass(value[0]):
            return False  # rows (an issue's sprints) are made NUL-free where they are built
        # repr writes a NUL inside any nested string as the four characters \x00 — one C-speed scan
        # instead of a walk in Python; text that merely spells \x00 is scrubbed for nothing, harmlessly.
        return "\\x00" in repr(value)
    return False


@functools.cache
def _field_names(kind: type) -> tuple[str, ...]:
    return tuple(f.name for f in dataclasses.fields(kind))


def _storable_row(row: Any) -> Any:
    """A row dataclass with NULs replaced in every text attribute (the row itself when it has none)."""
    changes = {}
    kind: type = type(row)
    for name in _field_names(kind):
        value = getattr(row, name)
        if _has_nul(value):
            changes[name] = storable(value)
    return dataclasses.replace(row, **changes) if changes else row


def normalize_issue(raw: Mapping[str, Any], fmap: FieldMap, statuses: StatusMap | None = None) -> IssueRow:
    """One issue's JSON (Cloud v3 or Data Center v2) → :class:`IssueRow` (NUL-free, see :func:`storable`)."""
    return _storable_row(_normalize_issue(raw, fmap, statuses))


def _normalize_issue(raw: Mapping[str, Any], fmap: FieldMap, statuses: StatusMap | None = None) -> IssueRow:
    f = raw.get("fields") or {}
    statuses = statuses or StatusMap()
    project_key = (f.get("project") or {}).get("key") or str(raw.get("key") or "").rsplit("-", 1)[0]
    level = _hierarchy_level(f, fmap, project_key)

    parent = f.get("parent") or {}
    parent_key = parent.get("key")
    epic_key = None
    if parent_key and level == 0:
        ptype = (parent.get("fields") or {}).get("issuetype") or {}
        plevel = ptype.get("hierarchyLevel")
        if plevel == 1 or (plevel is None and str(ptype.get("name", "")).casefold() == "epic"):
            epic_key = parent_key
    epic_link = _link_key(_first_set(f, fmap.ids("epic_link", project_key)))
    if epic_link and level == 0:
        epic_key = epic_link
        parent_key = parent_key or epic_link
    parent_link = _link_key(_first_set(f, fmap.ids("parent_link", project_key)))
    if parent_link and level >= 1 and not parent_key:
        parent_key = parent_link

    sprint_value = _first_set(f, fmap.ids("sprint", project_key))
    sprints = _sprints(sprint_value)
    status = f.get("status") or {}
    category = ((status.get("statusCategory") or {}).get("key")
                or statuses.category(status.get("id"), status.get("name")))
    assignee = f.get("assignee") or None
    points = _first_set(f, fmap.ids("story_points", project_key))
    description = f.get("description")
    key = str(raw.get("key") or "")

    return IssueRow(
        id=int(raw["id"]),
        key=key,
        project_key=project_key,
        issue_type=str((f.get("issuetype") or {}).get("name") or ""),
        hierarchy_level=level,
        status=str(status.get("name") or ""),
        status_category=category or "new",
        created=required_datetime(f.get("created"), f"issue {key}: created"),
        updated=required_datetime(f.get("updated"), f"issue {key}: updated"),
        summary=str(f.get("summary") or ""),
        parent_key=parent_key,
        epic_key=epic_key,
        resolved=parse_datetime(f.get("resolutiondate")),
        assignee_id=_user_id(assignee),
        assignee_name=assignee.get("displayName") if assignee else None,
        assignee_active=assignee.get("active") if assignee else None,
        story_points=float(points) if isinstance(points, (int, float, str)) and str(points).strip() else None,
        start_date=parse_date(_first_set(f, fmap.ids("start_date", project_key))),
        target_date=parse_date(_first_set(f, fmap.ids("target_date", project_key))),
        due_date=parse_date(f.get("duedate")),
        labels=list(f.get("labels") or []),
        components=[c.get("name") for c in f.get("components") or [] if c.get("name")],
        fix_versions=[v.get("name") for v in f.get("fixVersions") or [] if v.get("name")],
        team=_team_name(_first_set(f, fmap.ids("team", project_key))),
        sprint=sprints[-1].name if sprints else _sprint_name(sprint_value),
        sprints=sprints,
        description=adf_to_text(description) if isinstance(description, Mapping) else (description or ""),
        custom={name: plain_value(f.get(fid)) for name, fid in fmap.extra.items()},
    )


def normalize_histories(
    issue_id: int, histories: Iterable[Mapping[str, Any]], statuses: StatusMap | None = None,
    fmap: FieldMap | None = None,
) -> list[TransitionRow]:
    """Changelog histories → :class:`TransitionRow` s, oldest first, one per kept change.

    Kept: status, assignee, and — for the scope ledger — a child's epic or parent (``epic``,
    ``parent``), story points and target date. An item is told by its ``fieldId`` through
    ``fmap`` (the site's custom field ids); an item without one (older Data Center) by its
    ``field`` name. Epic and parent values are the issue key where Jira wrote one, else its id.
    """
    statuses = statuses or StatusMap()
    by_id, names = _changelog_lookup(fmap)
    rows: dict[tuple[int, str], TransitionRow] = {}
    for h in histories:
        at = parse_datetime(h.get("created"))
        author = h.get("author")
        author_id = _user_id(author)
        author_name = author.get("displayName") if isinstance(author, Mapping) else None
        for item in h.get("items") or []:
            name = _changelog_field(item, by_id, names, by_name=fmap is None)
            if name is None:
                continue
            category = None
            if name == "status":
                from_value, to_value = item.get("fromString"), item.get("toString")
                category = statuses.category(item.get("to"), to_value)
            elif name == "assignee":
                from_value = item.get("from") or item.get("fromString")
                to_value = item.get("to") or item.get("toString")
            elif name in ("epic", "parent"):
                from_value, to_value = _issue_ref(item, "from"), _issue_ref(item, "to")
            elif name == "target_date":
                from_value, to_value = _changed_date(item, "from"), _changed_date(item, "to")
            else:
                from_value, to_value = _text(item.get("fromString")), _text(item.get("toString"))
            hid = int(h["id"])
            if at is None:
                message = f"issue {issue_id}: history {hid} carries no timestamp"
                raise ValueError(message)
            rows[(hid, name)] = TransitionRow(
                issue_id=int(issue_id),
                history_id=hid,
                at=at,
                field=name,
                from_value=from_value,
                to_value=to_value,
                to_category=category,
                author_id=author_id,
                author_name=author_name,
            )
    return sorted((_storable_row(r) for r in rows.values()), key=lambda r: (r.at, r.history_id, r.field))


#: The fields kept from a changelog read without a field map.
_DEFAULT_KEPT: dict[str, str] = {"status": "status", "assignee": "assignee", "parent": "parent"}


def _changelog_lookup(fmap: FieldMap | None) -> tuple[dict[str, str], dict[str, str]]:
    """(field id → kept field, field name → kept field) for ``fmap``, worked out once per field map.

    An item without a fieldId names its field: the standard names, and those of the site's own fields.
    """
    if fmap is None:
        return _DEFAULT_KEPT, dict(CHANGELOG_NAMES)
    cached = fmap.__dict__.get("_changelog_lookup")
    if cached is None:
        by_id = fmap.changelog_fields()
        names = dict(CHANGELOG_NAMES)
        names.update({str(f.get("name")): by_id[str(f["id"])] for f in fmap.fields
                      if str(f.get("id")) in by_id and f.get("name")})
        cached = fmap.__dict__["_changelog_lookup"] = (by_id, names)
    return cached


#: Changelog ``field`` names kept when an item carries no ``fieldId`` (older Data Center answers).
CHANGELOG_NAMES = {
    "status": "status", "assignee": "assignee", "IssueParentAssociation": "parent", "Parent": "parent",
    "Parent Link": "parent", "Epic Link": "epic", "Story Points": "story_points",
    "Story point estimate": "story_points", "Target end": "target_date", "Target date": "target_date",
}
_ISSUE_KEY = re.compile(r"^[A-Z][A-Z0-9_]*-\d+$")
_CHANGELOG_DATE_FORMATS = ("%Y-%m-%d", "%Y-%m-%d %H:%M:%S.%f", "%d/%b/%y", "%d/%b/%Y", "%d %b %Y")


def _changelog_field(item: Mapping[str, Any], by_id: Mapping[str, str], names: Mapping[str, str], *,
                     by_name: bool) -> str | None:
    """The kept field an item changed: by ``fieldId`` (the site's resolved fields), else by its name.

    The name is used for items without a ``fieldId`` and, when no field map is known, for all.
    """
    fid = item.get("fieldId")
    if fid and str(fid) in by_id:
        return by_id[str(fid)]
    if fid and not by_name:
        return None
    return names.get(str(item.get("field")))


def _text(value: Any) -> str | None:
    text = str(value).strip() if value is not None else ""
    return text or None


def _issue_ref(item: Mapping[str, Any], side: str) -> str | None:
    """The key Jira wrote for an epic/parent change (``fromString``), else the issue id (``from``)."""
    shown = _text(item.get(f"{side}String"))
    if shown and _ISSUE_KEY.match(shown):
        return shown
    return _text(item.get(side)) or shown


def _changed_date(item: Mapping[str, Any], side: str) -> str | None:
    """A date field's change as ISO ``YYYY-MM-DD`` (``from``, else ``fromString`` in Jira's formats)."""
    for value in (item.get(side), item.get(f"{side}String")):
        text = _text(value)
        if text is None:
            continue
        for fmt in _CHANGELOG_DATE_FORMATS:
            try:
                return datetime.strptime(text, fmt).date().isoformat()
            except ValueError:
                continue
    return _text(item.get(f"{side}String")) or _text(item.get(side))


_WORKLOG_ISSUE = re.compile(r"/issue/(\d+)/worklog/")


def normalize_worklog(raw: Mapping[str, Any], issue_id: int | None = None) -> WorklogRow:
    """One worklog JSON → :class:`WorklogRow` (seconds from ``timeSpentSeconds`` or "1d 2h")."""
    author = raw.get("author") or {}
    iid = raw.get("issueId") or issue_id
    if iid is None:
        match = _WORKLOG_ISSUE.search(str(raw.get("self") or ""))
        iid = match.group(1) if match else None
    if iid is None:
        message = f"Worklog {raw.get('id')} carries no issue id (issueId or self URL)."
        raise ValueError(message)
    seconds = raw.get("timeSpentSeconds")
    return _storable_row(WorklogRow(
        id=int(raw["id"]),
        issue_id=int(iid),
        author_id=_user_id(author),
        author_name=author.get("displayName"),
        started=required_datetime(raw.get("started"), f"worklog {raw.get('id')}: started"),
        seconds=int(seconds) if seconds is not None else parse_duration(raw.get("timeSpent")),
        updated=required_datetime(raw.get("updated") or raw.get("created"), f"worklog {raw.get('id')}: updated"),
    ))
