"""Field discovery: resolve the roles this tool needs to a site's field ids, by name, else by type.

Custom field ids differ per site (``customfield_10016`` here, ``customfield_10106`` there) and
so, sometimes, do names. Each role lists the names it accepts, most preferred first; a field
answers to its display name, its ``untranslatedName`` (Cloud keeps the English name of a translated
field there) and its JQL ``clauseNames`` (which often keep the original name on a translated Data
Center site). A role no name finds takes the site's only field of its custom type where that type
is the role's own (:data:`ROLE_TYPES`: Epic Link, Epic Name, Sprint, Parent Link, …) — never a
shared type such as a number; a role still without a field while the site has custom fields of its
kind is a warning (:attr:`FieldMap.warnings`). A role may be configured explicitly (``overrides``:
role → field id or name) — which is how a site with two fields of the same name chooses one.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from .errors import JiraFieldError
from .rows import FieldRow

#: Role → accepted field names, most preferred first. Several names may resolve at once
#: (a site with both "Story Points" and "Story point estimate"); the first that is set wins.
ROLE_NAMES: dict[str, tuple[str, ...]] = {
    "story_points": ("Story Points", "Story point estimate"),
    "epic_link": ("Epic Link",),
    "parent_link": ("Parent Link",),
    "epic_name": ("Epic Name",),
    "team": ("Team",),
    "start_date": ("Start date",),
    "target_date": ("Target end", "Target date"),
    "sprint": ("Sprint",),
}

#: Custom field types decisive for a role: a field of such a type is that role's field when the site
#: has exactly one (a translated site names it in its own language). Types shared by many fields — a
#: number, a date picker — are never decisive: they only raise a warning when the role finds no field.
ROLE_TYPES: dict[str, tuple[str, ...]] = {
    "epic_link": ("com.pyxis.greenhopper.jira:gh-epic-link",),
    "epic_name": ("com.pyxis.greenhopper.jira:gh-epic-label",),
    "sprint": ("com.pyxis.greenhopper.jira:gh-sprint",),
    "parent_link": ("com.atlassian.jpo:jpo-custom-field-parent",),
    "story_points": ("com.pyxis.greenhopper.jira:jsw-story-points",),
    "team": ("com.atlassian.jira.plugin.system.customfieldtypes:atlassian-team",
             "com.atlassian.teams:rm-teams-custom-field-team"),
    "target_date": ("com.atlassian.jpo:jpo-custom-field-baseline-end",),
    "start_date": ("com.atlassian.jpo:jpo-custom-field-baseline-start",),
}
#: The schema types a role's field usually has: a role that finds no field on a site with fields of
#: these types is warned about (its field may be there under another name).
ROLE_SCHEMA_TYPES: dict[str, tuple[str, ...]] = {
    "story_points": ("number",), "start_date": ("date",), "target_date": ("date",),
    "epic_link": ("any",), "parent_link": ("any",), "epic_name": ("string",), "sprint": ("array",),
    "team": ("team", "any", "option"),
}

#: Roles whose changes the changelog keeps, and the ``field`` they are stored under: the scope
#: ledger reads a child moving between epics, story points and target dates from them.
CHANGELOG_ROLES: dict[str, str] = {
    "story_points": "story_points",
    "epic_link": "epic",
    "parent_link": "parent",
    "target_date": "target_date",
}

#: System fields always requested.
SYSTEM_FIELDS: tuple[str, ...] = (
    "summary",
    "description",
    "issuetype",
    "status",
    "project",
    "parent",
    "assignee",
    "created",
    "updated",
    "resolutiondate",
    "duedate",
    "labels",
    "components",
    "fixVersions",
)


@dataclass
class FieldMap:
    """The site's fields and which of them play which role.

    ``roles`` maps a role to the field ids that may hold it, in order of preference;
    ``extra`` maps each further configured field *name* to its id.
    """

    fields: list[dict[str, Any]]
    roles: dict[str, list[str]] = field(default_factory=dict)
    extra: dict[str, str] = field(default_factory=dict)
    #: Per-project choices: project key → role → field ids, used before ``roles`` for that project.
    project_roles: dict[str, dict[str, list[str]]] = field(default_factory=dict)
    #: How each resolved role was found: ``configured``, ``name`` (display, untranslated or JQL name) or
    #: ``type`` (the only field of the role's custom type).
    how: dict[str, str] = field(default_factory=dict)
    #: Roles that found no field although the site has fields of their kind (said in the sync summary and
    #: by ``rollup doctor``).
    warnings: list[str] = field(default_factory=list)

    def ids(self, role: str, project: str | None = None) -> list[str]:
        """Field ids for ``role`` in ``project`` (empty when the site has no such field)."""
        if project is not None:
            chosen = self.project_roles.get(project, {}).get(role)
            if chosen is not None:
                return chosen
        return self.roles.get(role, [])

    def first(self, role: str, project: str | None = None) -> str | None:
        """The preferred field id for ``role`` (in ``project``), or None."""
        ids = self.ids(role, project)
        return ids[0] if ids else None

    @property
    def request_fields(self) -> list[str]:
        """The explicit ``fields`` list to request on every issue read."""
        out: list[str] = list(SYSTEM_FIELDS)
        for ids in self.roles.values():
            out.extend(ids)
        for roles in self.project_roles.values():
            for ids in roles.values():
                out.extend(ids)
        out.extend(self.extra.values())
        return list(dict.fromkeys(out))

    def changelog_fields(self) -> dict[str, str]:
        """Field id → the changelog ``field`` this tool keeps for it (see :data:`CHANGELOG_ROLES`)."""
        out = {"status": "status", "assignee": "assignee", "parent": "parent"}
        for role, kept in CHANGELOG_ROLES.items():
            for fid in self.roles.get(role, []):
                out.setdefault(fid, kept)
            for roles in self.project_roles.values():
                for fid in roles.get(role, []):
                    out.setdefault(fid, kept)
        return out

    @property
    def rows(self) -> list[FieldRow]:
        """Every field of the site as a :class:`FieldRow`, with its role where it has one."""
        role_of: dict[str, str] = {}
        for role, ids in self.roles.items():
            for fid in ids:
                role_of.setdefault(fid, role)
        for roles in self.project_roles.values():
            for role, ids in roles.items():
                for fid in ids:
                    role_of.setdefault(fid, role)
        for name, fid in self.extra.items():
            role_of.setdefault(fid, f"extra:{name}")
        rows = []
        for f in self.fields:
            schema = f.get("schema") or {}
            rows.append(
                FieldRow(
                    id=str(f["id"]),
                    name=str(f.get("name") or f["id"]),
                    custom=bool(f.get("custom", str(f["id"]).startswith("customfield_"))),
                    schema_type=schema.get("custom") or schema.get("type"),
                    role=role_of.get(str(f["id"])),
                )
            )
        return rows

    @classmethod
    def discover(
        cls,
        fields: Iterable[Mapping[str, Any]],
        overrides: Mapping[str, str] | None = None,
        extra: Iterable[str] | None = None,
        project_overrides: Mapping[str, Mapping[str, str]] | None = None,
    ) -> "FieldMap":
        """Resolve roles and extra fields from the ``GET /rest/api/2/field`` list.

        ``project_overrides`` (project key → role → field id or name) choose a field for one
        project, e.g. the team-managed project whose points live in "Story point estimate".
        Raises :class:`JiraFieldError` when a role's name matches several fields and no
        override chooses one, when an override names an unknown role or field, or when an
        extra field name does not exist (the message lists the closest names).
        """
        rows = [dict(f) for f in fields]
        by_id = {str(f["id"]): f for f in rows}
        # A field answers to its display name, its untranslated name (Cloud keeps the English name of a
        # translated field there) and its JQL clause names (often the original name on Data Center).
        by_name: dict[str, list[str]] = {}
        for f in rows:
            for alias in _aliases(f):
                ids_ = by_name.setdefault(alias.casefold(), [])
                if str(f["id"]) not in ids_:
                    ids_.append(str(f["id"]))
        overrides = dict(overrides or {})

        project_overrides = {str(k): dict(v) for k, v in (project_overrides or {}).items()}
        unknown_roles = sorted(
            (set(overrides) | {r for roles in project_overrides.values() for r in roles}) - set(ROLE_NAMES)
        )
        if unknown_roles:
            close = {r: difflib.get_close_matches(r, ROLE_NAMES, n=1) for r in unknown_roles}
            hints = ", ".join(f"{r!r}" + (f" (did you mean {c[0]!r}?)" if c else "") for r, c in close.items())
            message = f"Unknown field role(s) in overrides: {hints}. Known roles: {', '.join(ROLE_NAMES)}."
            raise JiraFieldError(message)

        fmap = cls(fields=rows)
        for role, names in ROLE_NAMES.items():
            if role in overrides:
                fmap.roles[role] = [_resolve_one(overrides[role], by_id, by_name, rows,
                                                 what=f"override for {role!r}")]
                fmap.how[role] = "configured"
                continue
            ids: list[str] = []
            for name in names:
                candidates = by_name.get(name.casefold(), [])
                if len(candidates) > 1:
                    # Several fields answer to the name: a real choice (a legacy select may be the one the
                    # site fills), so it is asked for, with each field's type to choose by.
                    listing = ", ".join(f"{fid} ({_custom_type(by_id[fid]) or 'system'})" for fid in candidates)
                    message = (
                        f"Several Jira fields are named {name!r} ({listing}); cannot tell which holds {role}. "
                        f"Choose one in the configuration, e.g. under jira: fields: {{{role}: {candidates[0]}}}."
                    )
                    raise JiraFieldError(message)
                ids.extend(fid for fid in candidates if fid not in ids)
            if ids:
                fmap.roles[role] = ids
                fmap.how[role] = "name"
                continue
            typed = [str(f["id"]) for f in rows if _custom_type(f) in ROLE_TYPES.get(role, ())]
            if len(typed) == 1:
                fmap.roles[role] = typed
                fmap.how[role] = "type"
            elif len(typed) > 1:
                listing = ", ".join(f"{fid} {by_id[fid].get('name')!r}" for fid in typed)
                message = (f"No field is named {' or '.join(repr(n) for n in names)} and several have the type of "
                           f"{role} ({listing}); cannot tell which holds it. Choose one in the configuration, e.g. "
                           f"under jira: fields: {{{role}: {typed[0]}}}.")
                raise JiraFieldError(message)
        fmap.warnings = _unfound_warnings(fmap, rows, {r: ROLE_NAMES[r] for r in ROLE_NAMES if r not in fmap.roles})
        for project, roles in project_overrides.items():
            fmap.project_roles[project] = {
                role: [_resolve_one(wanted, by_id, by_name, rows, what=f"override for {role!r} in project {project}")]
                for role, wanted in roles.items()
            }
        for name in extra or []:
            fmap.extra[name] = _resolve_one(name, by_id, by_name, rows, what="extra field")
        return fmap


def _unfound_warnings(fmap: "FieldMap", rows: list[dict[str, Any]],
                      unfound: Mapping[str, tuple[str, ...]]) -> list[str]:
    """A warning per role that found no field while the site has custom fields of its kind that no role took."""
    taken = {fid for ids in fmap.roles.values() for fid in ids}
    out = []
    for role, names in unfound.items():
        alike = [f for f in rows if f.get("custom") and str(f["id"]) not in taken
                 and (f.get("schema") or {}).get("type") in ROLE_SCHEMA_TYPES.get(role, ())]
        if not alike:
            continue
        kinds = "/".join(ROLE_SCHEMA_TYPES[role])
        shown = ", ".join(f"{f['id']} {f.get('name')!r}" for f in alike[:3])
        more = f" and {len(alike) - 3} more" if len(alike) > 3 else ""
        out.append(f"{role}: no field is named {' or '.join(repr(n) for n in names)} (display, untranslated or JQL "
                   f"name), though the site has {len(alike)} custom {kinds} field(s) no role took: {shown}{more}. If "
                   f"one of them holds {role}, set jira: fields: {{{role}: <its id>}}; until then it is not synced.")
    return out


def _aliases(f: Mapping[str, Any]) -> list[str]:
    """The names a field answers to: display name, untranslated name and JQL clause names (not ``cf[…]``)."""
    names = [f.get("name"), f.get("untranslatedName"), *(f.get("clauseNames") or [])]
    return [str(n) for n in dict.fromkeys(names) if n and not str(n).startswith("cf[")]


def _custom_type(f: Mapping[str, Any]) -> str | None:
    return (f.get("schema") or {}).get("custom")


def _resolve_one(
    wanted: str,
    by_id: Mapping[str, Mapping[str, Any]],
    by_name: Mapping[str, list[str]],
    fields: list[dict[str, Any]],
    *,
    what: str,
) -> str:
    """One field id from an id or a name; errors say what exists instead."""
    if wanted in by_id:
        return wanted
    candidates = by_name.get(wanted.casefold(), [])
    if len(candidates) == 1:
        return candidates[0]
    if len(candidates) > 1:
        message = (
            f"The {what} {wanted!r} matches several Jira fields ({', '.join(candidates)}); "
            "configure the field id instead of the name."
        )
        raise JiraFieldError(message)
    names = sorted({str(f.get("name")) for f in fields if f.get("name")})
    close = difflib.get_close_matches(wanted, names, n=5, cutoff=0.5)
    if not close:
        lowered = {n.casefold(): n for n in names}
        close = [lowered[n] for n in difflib.get_close_matches(wanted.casefold(), list(lowered), n=5, cutoff=0.5)]
    hint = f" Closest names: {', '.join(repr(c) for c in close)}." if close else " No field has a similar name."
    message = f"The {what} {wanted!r} is not a field on this Jira site.{hint}"
    raise JiraFieldError(message)
