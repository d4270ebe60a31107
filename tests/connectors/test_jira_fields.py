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


# ---------------------------------------------------------------------------------- other languages, other names
_GH = "com.pyxis.greenhopper.jira:"


def _field(fid, name, custom_type=None, schema_type="any", **extra):
    schema = {"type": schema_type, **({"custom": custom_type} if custom_type else {})}
    return {"id": fid, "name": name, "custom": fid.startswith("customfield_"), "schema": schema, **extra}


def test_untranslated_and_clause_names_find_a_translated_sites_fields():
    fields = [
        # Cloud: the English name kept in untranslatedName.
        _field("customfield_10014", "长篇故事链接", _GH + "gh-epic-link", untranslatedName="Epic Link",
               clauseNames=["cf[10014]", "长篇故事链接"]),
        # Data Center: the English name kept among the clause names.
        _field("customfield_10002", "Story-Punkte", "float", "number", clauseNames=["cf[10002]", "Story Points"]),
    ]
    fmap = FieldMap.discover(fields)
    assert fmap.ids("epic_link") == ["customfield_10014"] and fmap.ids("story_points") == ["customfield_10002"]
    assert fmap.how["epic_link"] == fmap.how["story_points"] == "name" and fmap.warnings == []


def test_a_roles_own_type_finds_its_field_only_when_it_is_alone():
    sprint = _field("customfield_10104", "Iteration", _GH + "gh-sprint", "array", clauseNames=["cf[10104]"])
    fmap = FieldMap.discover([sprint])
    assert fmap.ids("sprint") == ["customfield_10104"] and fmap.how["sprint"] == "type"
    # Two fields of the type and neither named: a choice to make, both named in the message.
    other = _field("customfield_10105", "Old iteration", _GH + "gh-sprint", "array")
    with pytest.raises(JiraFieldError, match="customfield_10104 'Iteration', customfield_10105 'Old iteration'"):
        FieldMap.discover([sprint, other])
    # A shared type (a number) never decides: a warning names the fields of that kind no role took.
    points = _field("customfield_10002", "Punkte", "com.atlassian.jira.plugin.system.customfieldtypes:float", "number")
    fmap = FieldMap.discover([points, sprint])
    assert "story_points" not in fmap.roles
    (warning,) = fmap.warnings
    assert warning.startswith("story_points: no field is named 'Story Points' or 'Story point estimate'")
    assert "customfield_10002 'Punkte'" in warning and "jira: fields: {story_points: <its id>}" in warning
    # A number field that another role took is not offered.
    assert FieldMap.discover([points], overrides={"story_points": "Punkte"}).warnings == []


def test_two_fields_answering_to_one_name_stop_with_their_types():
    fields = [_field("customfield_10001", "Team", "com.atlassian.jira.plugin.system.customfieldtypes:atlassian-team",
                     "team"),
              _field("customfield_10100", "Team", "com.atlassian.jira.plugin.system.customfieldtypes:select",
                     "option")]
    with pytest.raises(JiraFieldError) as err:
        FieldMap.discover(fields)
    assert "customfield_10001 (com.atlassian.jira.plugin.system.customfieldtypes:atlassian-team)" in str(err.value)
    assert "customfield_10100 (com.atlassian.jira.plugin.system.customfieldtypes:select)" in str(err.value)
