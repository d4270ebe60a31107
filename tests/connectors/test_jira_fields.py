"""Field discovery by name: both story point fields, duplicates, overrides, unknown names."""

from __future__ import annotations

import pytest
from jira_helpers import sample

from connectors.jira import FieldMap, JiraFieldError


def fld(fid, name, custom=True, type_="number"):
    return {"id": fid, "name": name, "custom": custom, "schema": {"type": type_}}


SITE = [
    fld("summary", "Summary", False, "string"),
    fld("customfield_10016", "Story point estimate"),
    fld("customfield_10026", "Story Points"),
    fld("customfield_10014", "Epic Link", type_="any"),
    fld("customfield_10015", "Start date", type_="date"),
    fld("customfield_10022", "Target end", type_="date"),
    fld("customfield_10020", "Sprint", type_="array"),
    fld("customfield_10001", "Team", type_="team"),
    fld("customfield_10100", "Investment", type_="option"),
]


def test_both_story_point_fields_are_kept_preferred_first():
    fmap = FieldMap.discover(SITE)
    assert fmap.ids("story_points") == ["customfield_10026", "customfield_10016"]
    assert fmap.first("epic_link") == "customfield_10014"
    assert "parent_link" not in fmap.roles  # absent on this site: not an error
    req = fmap.request_fields
    assert {"summary", "duedate", "fixVersions", "parent", "customfield_10016", "customfield_10026"} <= set(req)
    assert len(req) == len(set(req))
    roles = {r.id: r.role for r in fmap.rows}
    assert roles["customfield_10016"] == "story_points" and roles["summary"] is None


def test_duplicate_names_need_an_override():
    site = SITE + [fld("customfield_10099", "Story Points")]
    with pytest.raises(JiraFieldError) as exc:
        FieldMap.discover(site)
    msg = str(exc.value)
    assert "customfield_10026" in msg and "customfield_10099" in msg
    assert "jira: fields: {story_points: customfield_10026}" in msg
    fmap = FieldMap.discover(site, overrides={"story_points": "customfield_10099"})
    assert fmap.ids("story_points") == ["customfield_10099"]


def test_extra_fields_by_name():
    fmap = FieldMap.discover(SITE, extra=["Investment"])
    assert fmap.extra == {"Investment": "customfield_10100"}
    assert "customfield_10100" in fmap.request_fields


def test_unknown_extra_name_lists_closest_names():
    with pytest.raises(JiraFieldError) as exc:
        FieldMap.discover(SITE, extra=["Investmnt"])
    assert "'Investment'" in str(exc.value) and "Closest names" in str(exc.value)


def test_unknown_override_role_and_field():
    with pytest.raises(JiraFieldError, match="story_points"):
        FieldMap.discover(SITE, overrides={"story_point": "Story Points"})
    with pytest.raises(JiraFieldError, match="Story Points"):
        FieldMap.discover(SITE, overrides={"story_points": "Story Pionts"})


def test_real_server_field_json():
    fmap = FieldMap.discover(sample("server-jira-ruby/field.json"))
    assert fmap.roles == {}
    assert [(r.id, r.name, r.custom, r.schema_type) for r in fmap.rows] == [
        ("1", "Description", False, "string"),
        ("2", "Summary", False, "string"),
    ]
