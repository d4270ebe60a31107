"""Render the sample organisation as Jira JSON, per flavour ("cloud" or "datacenter") and API version.

Field ids are real-looking and differ per flavour (see :data:`CLOUD_FIELDS` / :data:`DC_FIELDS`). Both
flavours also carry a second, legacy field named "Team" so duplicate field names can be tested.
Timestamps are rendered in the Jira user's time zone, as real Jira does (e.g. ``...000-0800``).
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any, Callable
from zoneinfo import ZoneInfo

from rollup.localjira.sampledata import (
    INVESTMENT_OPTIONS,
    ISSUE_TYPES,
    LEGACY_TEAM_NAMES,
    PROJECTS,
    STATUS_CATEGORIES,
    STATUSES,
    T_EPIC,
    T_SUB,
    TEAM_MANAGED,
)
from rollup.localjira.sampleorg import (
    API_USER,
    H_ASSIGNEE,
    H_EPIC,
    H_LABELS,
    H_POINTS,
    H_STATUS,
    H_TARGET,
    IssueComment,
    SampleOrg,
)

_GH = "com.pyxis.greenhopper.jira:"
_CF = "com.atlassian.jira.plugin.system.customfieldtypes:"

#: Field catalogue entries: (id, name, schema type, custom type or system name, items)
_SYSTEM = (
    ("summary", "Summary", "string", "summary", None),
    ("description", "Description", "string", "description", None),
    ("issuetype", "Issue Type", "issuetype", "issuetype", None),
    ("project", "Project", "project", "project", None),
    ("status", "Status", "status", "status", None),
    ("priority", "Priority", "priority", "priority", None),
    ("created", "Created", "datetime", "created", None),
    ("updated", "Updated", "datetime", "updated", None),
    ("resolutiondate", "Resolved", "datetime", "resolutiondate", None),
    ("resolution", "Resolution", "resolution", "resolution", None),
    ("assignee", "Assignee", "user", "assignee", None),
    ("reporter", "Reporter", "user", "reporter", None),
    ("labels", "Labels", "array", "labels", "string"),
    ("components", "Components", "array", "components", "component"),
    ("fixVersions", "Fix versions", "array", "fixVersions", "version"),
    ("duedate", "Due date", "date", "duedate", None),
    ("parent", "Parent", "issuelink", "parent", None),
    ("subtasks", "Sub-tasks", "array", "subtasks", "issuelinks"),
)

#: Cloud custom fields: role -> (id, name, schema type, custom type)
CLOUD_FIELDS = {
    "story_points_team_managed": ("customfield_10016", "Story point estimate", "number", _GH + "jsw-story-points"),
    "story_points": ("customfield_10028", "Story Points", "number", _CF + "float"),
    "epic_link": ("customfield_10014", "Epic Link", "any", _GH + "gh-epic-link"),
    "epic_name": ("customfield_10011", "Epic Name", "string", _GH + "gh-epic-label"),
    "sprint": ("customfield_10020", "Sprint", "array", _GH + "gh-sprint"),
    "start_date": ("customfield_10015", "Start date", "date", _CF + "datepicker"),
    "team": ("customfield_10001", "Team", "team", "com.atlassian.jira.plugin.system.customfieldtypes:atlassian-team"),
    "target_date": ("customfield_10023", "Target end", "date", "com.atlassian.jpo:jpo-custom-field-baseline-end"),
    "investment": ("customfield_10050", "Investment", "option", _CF + "select"),
    "legacy_team": ("customfield_10100", "Team", "option", _CF + "select"),
}
#: Data Center custom fields: role -> (id, name, schema type, custom type)
DC_FIELDS = {
    "story_points": ("customfield_10002", "Story Points", "number", _CF + "float"),
    "epic_link": ("customfield_10100", "Epic Link", "any", _GH + "gh-epic-link"),
    "epic_name": ("customfield_10101", "Epic Name", "string", _GH + "gh-epic-label"),
    "start_date": ("customfield_10102", "Start date", "date", _CF + "datepicker"),
    "target_date": ("customfield_10103", "Target end", "date", "com.atlassian.jpo:jpo-custom-field-baseline-end"),
    "sprint": ("customfield_10104", "Sprint", "array", _GH + "gh-sprint"),
    "investment": ("customfield_10105", "Investment", "option", _CF + "select"),
    "parent_link": ("customfield_10200", "Parent Link", "any", "com.atlassian.jpo:jpo-custom-field-parent"),
    "team": ("customfield_10300", "Team", "any", "com.atlassian.teams:rm-teams-custom-field-team"),
    "legacy_team": ("customfield_10301", "Team", "option", _CF + "select"),
}
_PRIORITIES = (("3", "Medium"), ("2", "High"), ("4", "Low"))

#: Custom field names as a site in another language shows them (``LocalJira(language=…)``).
FIELD_LANGUAGES: dict[str, dict[str, str]] = {
    "en": {},
    "de": {"Story point estimate": "Story-Point-Schätzung", "Story Points": "Story-Punkte",
           "Epic Link": "Epic-Verknüpfung", "Epic Name": "Epic-Name", "Sprint": "Sprint", "Start date": "Startdatum",
           "Team": "Team", "Target end": "Geplantes Ende", "Investment": "Investition",
           "Parent Link": "Übergeordneter Link"},
    "zh": {"Story point estimate": "故事点估算", "Story Points": "故事点", "Epic Link": "长篇故事链接",
           "Epic Name": "长篇故事名称", "Sprint": "冲刺", "Start date": "开始日期", "Team": "团队",
           "Target end": "目标结束", "Investment": "投资", "Parent Link": "父链接"},
}

#: The account API clients act as (``/myself``; author of their edits).
BOT_ACCOUNT_ID = "5b10ac8d82e05b22cc7d0bot"
BOT_NAME, BOT_KEY, BOT_DISPLAY_NAME = "rollup-bot", "JIRAUSER10001", "Rollup Bot"
BOT_EMAIL = "rollup-bot@clinicloud.example"


class Renderer:
    """Turns organisation rows into Jira JSON for one flavour, base URL and user time zone."""

    def __init__(self, org: SampleOrg, flavour: str, base_url: str, time_zone: str, language: str = "en",
                 field_names: dict[str, str] | None = None) -> None:
        if flavour not in ("cloud", "datacenter"):
            raise ValueError(f"flavour must be 'cloud' or 'datacenter', not {flavour!r}")
        self.org = org
        self.flavour = flavour
        self.cloud = flavour == "cloud"
        self.base = base_url.rstrip("/")
        self.tz = ZoneInfo(time_zone)
        self.custom = CLOUD_FIELDS if self.cloud else DC_FIELDS
        self.ids = {role: spec[0] for role, spec in self.custom.items()}
        if language not in FIELD_LANGUAGES:
            raise ValueError(f"language must be one of {', '.join(sorted(FIELD_LANGUAGES))}, not {language!r}")
        #: Display names of the custom fields by role: translated (the English name kept where Jira keeps
        #: it: Cloud's untranslatedName, Data Center's clause names), or renamed with no trace of it.
        self.translated = {role: FIELD_LANGUAGES[language].get(spec[1], spec[1]) for role, spec in self.custom.items()}
        self.renamed = dict(field_names or {})

    # ------------------------------------------------------------------ small values
    def ts(self, epoch: int, ms: int = 0) -> str:
        """A Jira timestamp in the user's time zone, e.g. ``2026-11-02T09:30:00.000-0800``."""
        d = datetime.fromtimestamp(epoch, self.tz)
        return d.strftime("%Y-%m-%dT%H:%M:%S.") + f"{ms:03d}" + d.strftime("%z")

    @staticmethod
    def day(ordinal: int) -> str | None:
        """An ISO date from a day ordinal; 0 (no date) renders as None."""
        return date.fromordinal(ordinal).isoformat() if ordinal else None

    def user(self, ix: int) -> dict | None:
        """The user object of a sample user (the API user is the bot); a negative index is nobody."""
        if ix == API_USER:
            return self.bot()
        if ix < 0:
            return None
        u = self.org.users[ix]
        avatars = {s: f"{self.base}/secure/useravatar?size={s}&ownerId={u.key}" for s in
                   ("48x48", "24x24", "16x16", "32x32")}
        if self.cloud:
            return {"self": f"{self.base}/rest/api/2/user?accountId={u.account_id}", "accountId": u.account_id,
                    "emailAddress": u.email, "avatarUrls": avatars, "displayName": u.display_name,
                    "active": u.active, "timeZone": str(self.tz), "accountType": "atlassian"}
        return {"self": f"{self.base}/rest/api/2/user?username={u.name}", "name": u.name, "key": u.key,
                "emailAddress": u.email, "avatarUrls": avatars, "displayName": u.display_name,
                "active": u.active, "timeZone": str(self.tz)}

    def bot(self) -> dict:
        """The API user as an issue, history or comment field shows it."""
        avatars = {s: f"{self.base}/secure/useravatar?size={s}&ownerId={BOT_KEY}" for s in
                   ("48x48", "24x24", "16x16", "32x32")}
        if self.cloud:
            return {"self": f"{self.base}/rest/api/2/user?accountId={BOT_ACCOUNT_ID}", "accountId": BOT_ACCOUNT_ID,
                    "emailAddress": BOT_EMAIL, "avatarUrls": avatars, "displayName": BOT_DISPLAY_NAME,
                    "active": True, "timeZone": str(self.tz), "accountType": "atlassian"}
        return {"self": f"{self.base}/rest/api/2/user?username={BOT_NAME}", "name": BOT_NAME, "key": BOT_KEY,
                "emailAddress": BOT_EMAIL, "avatarUrls": avatars, "displayName": BOT_DISPLAY_NAME,
                "active": True, "timeZone": str(self.tz)}

    def status(self, st: int) -> dict:
        """The status object, with its status category, as the issue's ``status`` field holds it."""
        status = STATUSES[st]
        cat = STATUS_CATEGORIES[status.category]
        return {"self": f"{self.base}/rest/api/2/status/{status.id}", "description": "",
                "iconUrl": f"{self.base}/images/icons/statuses/generic.png", "name": status.name, "id": status.id,
                "statusCategory": {"self": f"{self.base}/rest/api/2/statuscategory/{cat.id}", "id": cat.id,
                                   "key": status.category, "colorName": cat.color, "name": cat.name}}

    def statuses(self) -> list[dict]:
        """Every status, as ``GET /rest/api/2/status`` answers."""
        return [self.status(i) for i in range(len(STATUSES))]

    def issuetype(self, t: int, proj: int) -> dict:
        """The issue type object; team-managed Cloud projects get their own type ids."""
        itype = ISSUE_TYPES[t]
        name, level, sub = itype.name, itype.level, itype.subtask
        tm = self.cloud and PROJECTS[proj].key in TEAM_MANAGED
        tid = str((10200 if tm else 10000) + t)
        out = {"self": f"{self.base}/rest/api/2/issuetype/{tid}", "id": tid, "description": f"A {name.lower()}.",
               "iconUrl": f"{self.base}/images/icons/issuetypes/{name.lower()}.svg", "name": name,
               "subtask": sub, "avatarId": 10300 + t}
        if self.cloud:
            out["hierarchyLevel"] = level
            if tm:
                out["entityId"] = f"9a6d4c1e-{proj:04d}-4a1b-8c2d-{t:012d}"
                out["scope"] = {"type": "PROJECT", "project": {"id": str(10000 + proj)}}
        return out

    def project(self, proj: int) -> dict:
        """The project object as the issue's ``project`` field holds it."""
        key, name = PROJECTS[proj].key, PROJECTS[proj].name
        out: dict[str, Any] = {"self": f"{self.base}/rest/api/2/project/{10000 + proj}", "id": str(10000 + proj),
               "key": key,
               "name": name, "projectTypeKey": "software",
               "avatarUrls": {"48x48": f"{self.base}/secure/projectavatar?pid={10000 + proj}"}}
        if self.cloud:
            out["simplified"] = key in TEAM_MANAGED
        return out

    def project_list(self) -> list[dict]:
        """``GET /rest/api/{2|3}/project``: every project of the organisation, as each flavour lists them."""
        out = []
        for proj, project in enumerate(PROJECTS):
            key, name = project.key, project.name
            pid = str(10000 + proj)
            sizes = (("16x16", "xsmall"), ("24x24", "small"), ("32x32", "medium"), ("48x48", "large"))
            item: dict[str, Any] = {"expand": "description,lead,issueTypes,url,projectKeys,permissions,insight",
                    "self": f"{self.base}/rest/api/2/project/{pid}", "id": pid, "key": key, "name": name,
                    "avatarUrls": {px: f"{self.base}/secure/projectavatar?size={size}&pid={pid}"
                                   for px, size in sizes},
                    "projectTypeKey": "software"}
            if self.cloud:
                managed = key in TEAM_MANAGED
                item.update(simplified=managed, style="next-gen" if managed else "classic", isPrivate=False,
                            properties={})
            else:
                item["archived"] = False
            out.append(item)
        return out

    def description(self, pos: int, api: int) -> Any:
        """The issue's description: ADF for API 3, wiki text for API 2, None when it has none."""
        blocks = self.org.description_text(pos)
        if not blocks:
            return None
        if api == 3:
            content = []
            for kind, text in blocks:
                node = {"type": "text", "text": text}
                if kind == "h":
                    content.append({"type": "heading", "attrs": {"level": 3}, "content": [node]})
                else:
                    content.append({"type": "paragraph", "content": [node]})
            return {"type": "doc", "version": 1, "content": content}
        return "\n\n".join(f"h3. {t}" if k == "h" else t for k, t in blocks)

    def sprint(self, ix: int, created: int | None = None) -> Any:
        """The Sprint field in the flavour's shape (Cloud objects, Data Center strings), or None.

        It lists every sprint the issue has been in, as Jira does: its own (``ix``) and, carried over, the
        earlier sprints of the same board that ran after it was ``created`` (at most two).
        """
        if ix < 0:
            return None
        sprints = self.org.sprints
        own = sprints[ix]
        earlier = [j for j in (ix - 2, ix - 1) if j >= 0 and sprints[j].board_id == own.board_id
                   and created is not None and sprints[j].end > created]
        out: list[Any] = []
        for s in (sprints[j] for j in [*earlier, ix]):
            if self.cloud:
                item = {"id": s.id, "name": s.name, "state": s.state, "boardId": s.board_id, "goal": "",
                        "startDate": self.iso(s.start), "endDate": self.iso(s.end)}
                if s.state == "closed":
                    item["completeDate"] = self.iso(s.end)
                out.append(item)
            else:
                out.append(f"com.atlassian.greenhopper.service.sprint.Sprint@{s.id:x}[id={s.id},"
                           f"rapidViewId={s.board_id},state={s.state.upper()},name={s.name},"
                           f"startDate={self.iso(s.start)},endDate={self.iso(s.end)},sequence={s.id},goal=]")
        return out

    @staticmethod
    def iso(epoch: int) -> str:
        """A UTC timestamp with milliseconds and ``Z``, as the changelog bulk fetch writes them."""
        return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")

    def option(self, field_id: str, value: str, ix: int) -> dict:
        """A select-list option object."""
        oid = str(10400 + ix)
        return {"self": f"{self.base}/rest/api/2/customFieldOption/{oid}", "value": value, "id": oid}

    def ref(self, pos: int) -> dict:
        """The small issue object used for ``parent`` and ``subtasks``."""
        o = self.org
        return {"id": str(o.issue_id(pos)), "key": o.key(pos),
                "self": f"{self.base}/rest/api/2/issue/{o.issue_id(pos)}",
                "fields": {"summary": o.summary(pos), "status": self.status(o.status[pos]),
                           "priority": {"id": "3", "name": "Medium"},
                           "issuetype": self.issuetype(o.itype[pos], o.proj[pos])}}

    # ------------------------------------------------------------------ fields
    def field_catalogue(self) -> list[dict]:
        """``GET /rest/api/2/field``: system and custom fields with schema and clause names."""
        out = []
        for fid, name, typ, system, items in _SYSTEM:
            if fid == "parent" and not self.cloud:
                continue
            schema: dict[str, Any] = {"type": typ, "system": system}
            if items:
                schema["items"] = items
            entry = {"id": fid, "name": name, "custom": False, "orderable": True, "navigable": True,
                     "searchable": True, "clauseNames": [fid], "schema": schema}
            if self.cloud:
                entry["key"] = fid
            out.append(entry)
        for role, (fid, name, typ, custom) in self.custom.items():
            cid = int(fid.rsplit("_", 1)[1])
            schema = {"type": typ, "custom": custom, "customId": cid}
            if typ == "array":
                schema["items"] = "json" if self.cloud else "string"
            shown = self.renamed.get(role, self.translated[role])
            # Data Center's clause names keep the original name of a translated field; a renamed one has none.
            clause = shown if role in self.renamed or self.cloud else name
            entry = {"id": fid, "name": shown, "custom": True, "orderable": True, "navigable": True,
                     "searchable": True, "clauseNames": [f"cf[{cid}]", clause], "schema": schema}
            if self.cloud:
                entry["key"] = fid
                entry["untranslatedName"] = shown if role in self.renamed else name
            out.append(entry)
        return out

    def field_ids(self) -> list[str]:
        """Every field id an issue can carry, ``worklog`` included."""
        return [f["id"] for f in self.field_catalogue()] + ["worklog"]

    def field_values(self, pos: int, api: int, wanted: set[str] | None) -> dict:
        """The ``fields`` object of one issue; ``wanted`` None means every navigable field."""
        o = self.org
        t = o.itype[pos]
        proj = o.proj[pos]
        tm = PROJECTS[proj].key in TEAM_MANAGED
        ids = self.ids
        getters: dict[str, Callable[[], Any]] = {
            "summary": lambda: o.summary(pos),
            "description": lambda: self.description(pos, api),
            "issuetype": lambda: self.issuetype(t, proj),
            "project": lambda: self.project(proj),
            "status": lambda: self.status(o.status[pos]),
            "priority": lambda: dict(zip(("id", "name"), _PRIORITIES[pos % 3]),
                                     self=f"{self.base}/rest/api/2/priority/{_PRIORITIES[pos % 3][0]}"),
            "created": lambda: self.ts(o.created[pos]),
            "updated": lambda: self.ts(o.updated[pos]),
            "resolutiondate": lambda: self.ts(o.resolved[pos]) if o.resolved[pos] else None,
            "resolution": lambda: ({"self": f"{self.base}/rest/api/2/resolution/10000", "id": "10000",
                                    "name": "Done", "description": "Work has been completed."}
                                   if o.resolved[pos] else None),
            "assignee": lambda: self.user(o.assignee[pos]),
            "reporter": lambda: self.user(o.reporter[pos]),
            "labels": lambda: list(o.tuples[o.labels[pos]]),
            "components": lambda: [{"self": f"{self.base}/rest/api/2/component/{10500 + i}", "id": str(10500 + i),
                                    "name": c} for i, c in enumerate(o.tuples[o.comps[pos]])],
            "fixVersions": lambda: [{"self": f"{self.base}/rest/api/2/version/{10600 + o.fixv[pos]}",
                                     "id": str(10600 + o.fixv[pos]), "name": v, "archived": False,
                                     "released": True} for v in o.tuples[o.fixv[pos]]],
            "duedate": lambda: self.day(o.due[pos]),
            "subtasks": lambda: [],
        }
        epic = o.epic_of(pos)
        p = o.parent[pos]
        if self.cloud:
            getters["parent"] = lambda: self.ref(p) if p >= 0 and not o.deleted[p] else None
            sp_id = ids["story_points_team_managed"] if tm else ids["story_points"]
            other_sp = ids["story_points"] if tm else ids["story_points_team_managed"]
            getters[sp_id] = lambda: float(o.sp[pos]) if o.sp[pos] >= 0 else None
            getters[other_sp] = lambda: None
            getters[ids["team"]] = lambda: {"id": f"7d1c0e4a-5b2f-4c8e-9a31-{proj:012d}",
                                            "name": PROJECTS[proj].name, "title": PROJECTS[proj].name,
                                            "isShared": True, "isVisible": True}
        else:
            # Data Center links only sub-tasks through ``parent``; epics use Parent Link, stories Epic Link.
            if t == T_SUB:
                getters["parent"] = lambda: self.ref(p) if p >= 0 and not o.deleted[p] else None
            getters[ids["story_points"]] = lambda: float(o.sp[pos]) if o.sp[pos] >= 0 else None
            getters[ids["parent_link"]] = lambda: (o.key(p) if t == T_EPIC and p >= 0 and not o.deleted[p]
                                                   else None)
            getters[ids["team"]] = lambda: {"id": proj, "title": PROJECTS[proj].name, "name": PROJECTS[proj].name,
                                            "shareable": True}
        # Epic Link: Cloud still fills it on company-managed projects; DC always uses it.
        dangling = o.dangling_epic.get(pos)
        getters[ids["epic_link"]] = lambda: (None if (self.cloud and tm) else
                                             o.key(epic) if epic >= 0 and not o.deleted[epic] else dangling)
        getters[ids["epic_name"]] = lambda: o.summary(pos).split(" (")[0] if t == T_EPIC else None
        getters[ids["sprint"]] = lambda: self.sprint(o.sprint[pos], o.created[pos])
        getters[ids["start_date"]] = lambda: self.day(o.start[pos])
        getters[ids["target_date"]] = lambda: self.day(o.target[pos])
        getters[ids["investment"]] = lambda: (self.option(ids["investment"], INVESTMENT_OPTIONS[o.invest[pos]],
                                                          o.invest[pos]) if o.invest[pos] >= 0 else None)
        getters[ids["legacy_team"]] = lambda: (self.option(ids["legacy_team"], LEGACY_TEAM_NAMES[proj - 1], 10 + proj)
                                               if proj > 0 and pos % 2 == 0 else None)
        if wanted is None:
            return {k: g() for k, g in getters.items()}
        return {k: getters[k]() for k in wanted if k in getters}

    # ------------------------------------------------------------------ changelog
    def history(self, h: int) -> dict:
        """One changelog history: who, when, and the single item it changed."""
        o = self.org
        kind = o.h_kind[h]
        frm, to = o.h_from[h], o.h_to[h]
        item: dict[str, Any]
        if kind == H_STATUS:
            item = {"field": "status", "fieldtype": "jira", "fieldId": "status",
                    "from": STATUSES[frm].id, "fromString": STATUSES[frm].name,
                    "to": STATUSES[to].id, "toString": STATUSES[to].name}
        elif kind == H_ASSIGNEE:
            def ident(u: int) -> str | None:
                if u < 0:
                    return None
                return o.users[u].account_id if self.cloud else o.users[u].key
            item = {"field": "assignee", "fieldtype": "jira", "fieldId": "assignee",
                    "from": ident(frm), "fromString": o.users[frm].display_name if frm >= 0 else None,
                    "to": ident(to), "toString": o.users[to].display_name if to >= 0 else None}
        elif kind == H_POINTS:
            fid, name = (self.ids["story_points"], "Story Points")
            item = {"field": name, "fieldtype": "custom", "fieldId": fid,
                    "from": None, "fromString": str(frm) if frm >= 0 else None,
                    "to": None, "toString": str(to)}
        elif kind == H_EPIC:
            # Cloud writes a parent change as IssueParentAssociation (ids, no fieldId, often no keys);
            # Data Center as an Epic Link change (ids and keys).
            def ref(p: int) -> tuple[str | None, str | None]:
                return (str(o.issue_id(p)), o.key(p)) if p >= 0 else (None, None)
            (fid_, fkey), (tid, tkey) = ref(frm), ref(to)
            if self.cloud:
                item = {"field": "IssueParentAssociation", "fieldtype": "jira",
                        "from": fid_, "fromString": None, "to": tid, "toString": None}
            else:
                item = {"field": "Epic Link", "fieldtype": "custom", "fieldId": self.ids["epic_link"],
                        "from": fid_, "fromString": fkey, "to": tid, "toString": tkey}
        elif kind == H_TARGET:
            def shown(ordinal: int) -> tuple[str | None, str | None]:
                if not ordinal:
                    return None, None
                d = date.fromordinal(ordinal)
                return d.isoformat(), d.strftime("%d/%b/%y")
            (fval, fstr), (tval, tstr) = shown(frm), shown(to)
            item = {"field": "Target end", "fieldtype": "custom", "fieldId": self.ids["target_date"],
                    "from": fval, "fromString": fstr, "to": tval, "toString": tstr}
        elif kind == H_LABELS:
            # Jira writes a labels change as the old and new label sets, space-separated.
            item = {"field": "labels", "fieldtype": "jira", "fieldId": "labels",
                    "from": None, "fromString": " ".join(o.tuples[frm]), "to": None, "toString": " ".join(o.tuples[to])}
        else:
            old, new = o.h_keys[h]
            item = {"field": "Key", "fieldtype": "jira", "fieldId": "issuekey",
                    "from": None, "fromString": old, "to": None, "toString": new}
        return {"id": str(o.HIST_BASE + h), "author": self.user(o.h_author[h]) or self.user(0),
                "created": self.ts(o.h_ts[h]), "items": [item]}

    def history_field(self, h: int) -> str:
        """The field id a history changed, as the changelog bulk fetch filters on it."""
        kind = self.org.h_kind[h]
        return ("status", "assignee", self.ids["story_points"], "issuekey", "labels",
                "parent" if self.cloud else self.ids["epic_link"], self.ids["target_date"])[kind]

    def embedded_changelog(self, pos: int) -> dict:
        """Cloud: the newest 100 histories, newest first. Data Center: every history, oldest first."""
        hs = self.org.histories(pos)
        if self.cloud:
            page = list(reversed(hs))[:100]
            return {"startAt": 0, "maxResults": 100, "total": len(hs),
                    "histories": [self.history(h) for h in page]}
        return {"startAt": 0, "maxResults": len(hs), "total": len(hs), "histories": [self.history(h) for h in hs]}

    # ------------------------------------------------------------------ issue
    def issue(self, pos: int, api: int, wanted: set[str] | None, *, changelog: bool = False,
              changelog_cap: int | None = None) -> dict:
        """The issue object, with only the ``wanted`` fields and, when asked, its changelog."""
        o = self.org
        iid = str(o.issue_id(pos))
        out: dict[str, Any] = {"expand": "operations,versionedRepresentations,editmeta,changelog,renderedFields",
                               "id": iid, "self": f"{self.base}/rest/api/{api}/issue/{iid}", "key": o.key(pos)}
        if changelog:
            cl = self.embedded_changelog(pos)
            if changelog_cap is not None and len(cl["histories"]) > changelog_cap:
                cl["histories"] = cl["histories"][:changelog_cap]
                cl["maxResults"] = changelog_cap
            out["changelog"] = cl
        out["fields"] = self.field_values(pos, api, wanted)
        return out

    # ------------------------------------------------------------------ comments
    @staticmethod
    def comment_text(body: Any) -> str:
        """A stored comment body as wiki text (what API v2 shows for an ADF body)."""
        if isinstance(body, str):
            return body
        lines: list[str] = []

        def walk(node: Any, prefix: str = "") -> None:
            if isinstance(node, list):
                for child in node:
                    walk(child, prefix)
                return
            if not isinstance(node, dict):
                return
            kind = node.get("type")
            if kind in ("paragraph", "heading"):
                text = "".join(c.get("text", "") for c in node.get("content") or [] if isinstance(c, dict))
                lines.append(prefix + text)
            elif kind == "bulletList":
                for item in node.get("content") or []:
                    walk(item.get("content") if isinstance(item, dict) else None, "* ")
            else:
                walk(node.get("content"), prefix)

        walk(body)
        return "\n".join(lines)

    @staticmethod
    def comment_adf(body: Any) -> dict:
        """A stored comment body as ADF (what API v3 shows for a wiki-text body): one paragraph per line."""
        if isinstance(body, dict):
            return body
        content = [{"type": "paragraph", "content": [{"type": "text", "text": line}]} if line
                   else {"type": "paragraph", "content": []} for line in str(body).split("\n")]
        return {"type": "doc", "version": 1, "content": content}

    def comment(self, pos: int, c: IssueComment, api: int) -> dict:
        """One comment as ``GET /rest/api/{api}/issue/{id}/comment`` lists it."""
        iid = self.org.issue_id(pos)
        out: dict[str, Any] = {"self": f"{self.base}/rest/api/{api}/issue/{iid}/comment/{c.id}", "id": str(c.id),
               "author": self.user(c.author),
               "body": self.comment_adf(c.body) if api == 3 else self.comment_text(c.body),
               "updateAuthor": self.user(c.author), "created": self.ts(c.created), "updated": self.ts(c.updated)}
        if self.cloud:
            out["jsdPublic"] = True
        return out

    def worklog(self, w: int, api: int) -> dict:
        """One worklog, its comment as ADF for API 3 and as text for API 2."""
        o = self.org
        pos = o.wl_issue[w]
        wid = str(o.WL_BASE + w)
        comment: Any = "Worked on it."
        if api == 3:
            comment = {"type": "doc", "version": 1,
                       "content": [{"type": "paragraph", "content": [{"type": "text", "text": "Worked on it."}]}]}
        secs = o.wl_seconds[w]
        hours, rem = divmod(secs // 60, 60)
        spent = (f"{hours}h" if hours else "") + (f" {rem}m" if rem else "")
        updated_s, updated_ms = divmod(o.wl_updated_ms[w], 1000)
        return {"self": f"{self.base}/rest/api/{api}/issue/{o.issue_id(pos)}/worklog/{wid}",
                "author": self.user(o.wl_author[w]), "updateAuthor": self.user(o.wl_author[w]),
                "comment": comment, "created": self.ts(o.wl_created[w]), "updated": self.ts(updated_s, updated_ms),
                "started": self.ts(o.wl_started[w]), "timeSpent": spent.strip() or "0m",
                "timeSpentSeconds": secs, "id": wid, "issueId": str(o.issue_id(pos))}
