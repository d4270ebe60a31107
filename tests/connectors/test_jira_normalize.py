"""Normalization against real recorded Jira responses (and the odd shapes they do not cover)."""

from __future__ import annotations

import copy
from datetime import date, datetime, timezone

from jira_helpers import sample

from connectors.jira import (
    FieldMap,
    StatusMap,
    adf_to_text,
    normalize_histories,
    normalize_issue,
    normalize_worklog,
    parse_datetime,
)

UTC = timezone.utc


def cloud_statuses():
    return StatusMap(sample("cloud-jirametrics/complete_sample/sample_statuses.json"))


def test_parse_datetime_jira_offsets():
    assert parse_datetime("2026-10-01T09:12:00.000+0000") == datetime(2026, 10, 1, 9, 12, tzinfo=UTC)
    assert parse_datetime("2011-12-14T10:26:06.030+1300") == datetime(2011, 12, 13, 21, 26, 6, 30000, tzinfo=UTC)
    assert parse_datetime(0) == datetime(1970, 1, 1, tzinfo=UTC)


def test_cloud_issue_with_changelog():
    raw = sample("cloud-jirametrics/complete_sample/sample_issues/SP-5.json")
    statuses = cloud_statuses()
    row = normalize_issue(raw, FieldMap.discover([]), statuses)
    assert (row.id, row.key, row.project_key, row.issue_type, row.hierarchy_level) == (10012, "SP-5", "SP", "Story", 0)
    assert (row.status, row.status_category) == ("Done", "done")
    assert row.created == datetime(2021, 6, 18, 18, 41, 58, 333000, tzinfo=UTC)
    assert row.resolved == datetime(2021, 10, 11, 12, 49, 7, 227000, tzinfo=UTC)
    assert row.summary == "Purchase ticket with visa" and row.description == ""
    assert row.parent_key is None and row.epic_key is None and row.assignee_id is None

    tr = normalize_histories(row.id, raw["changelog"]["histories"], statuses)
    assert [t.history_id for t in tr] == [10040, 10043, 10066, 10067, 10070, 10071, 10072]  # oldest first
    first, last = tr[0], tr[-1]
    assert (first.from_value, first.to_value,
            first.to_category) == ("Backlog", "Selected for Development", "indeterminate")
    assert (last.field, last.to_value, last.to_category) == ("status", "Done", "done")
    assert last.at == datetime(2021, 10, 11, 12, 49, 7, 261000, tzinfo=UTC)
    assert last.author_id.startswith("557058:")
    assert {t.field for t in tr} == {"status"}  # Flagged, Rank, ... are dropped


def test_every_cloud_sample_normalizes():
    import glob

    from jira_helpers import SAMPLES

    paths = sorted(glob.glob(str(SAMPLES / "cloud-jirametrics/**/SP-*.json"), recursive=True))
    assert len(paths) >= 10
    for p in paths:
        raw = __import__("json").load(open(p))
        row = normalize_issue(raw, FieldMap.discover([]), cloud_statuses())
        assert row.status_category in ("new", "indeterminate", "done")
        tr = normalize_histories(row.id, raw["changelog"]["histories"], cloud_statuses())
        assert all(t.to_category for t in tr if t.field == "status")


def test_server_issue():
    raw = sample("server-jira-ruby/issue/10002.json")
    statuses = StatusMap(sample("server-jira-ruby/status.json"))
    row = normalize_issue(raw, FieldMap.discover([]), statuses)
    assert (row.id, row.key, row.project_key, row.issue_type,
            row.hierarchy_level) == (10002, "SAMPLEPROJECT-1", "SAMPLEPROJECT", "Task", 0)
    # Server status objects carry no category: it comes from /rest/api/2/status.
    assert (row.status, row.status_category) == ("Open", "new")
    assert (row.assignee_id, row.assignee_name, row.assignee_active) == ("admin", "admin", True)
    assert row.due_date == date(2011, 12, 14)
    assert row.created == datetime(2011, 12, 13, 21, 26, 6, 30000, tzinfo=UTC)
    assert row.components == ["Jamflam", "Jammy"]


def test_server_worklog():
    raw = sample("server-jira-ruby/issue/10002/worklog.json")["worklogs"][0]
    w = normalize_worklog(raw)
    assert (w.id, w.issue_id, w.author_id) == (10000, 10002, "admin")
    assert w.seconds == 18 * 5 * 8 * 3600 + 2 * 8 * 3600  # "18w 2d"
    assert w.started == datetime(2012, 1, 11, 0, 33, tzinfo=UTC)


SITE_FIELDS = [
    {"id": "customfield_1", "name": "Story Points"},
    {"id": "customfield_2", "name": "Story point estimate"},
    {"id": "customfield_3", "name": "Epic Link"},
    {"id": "customfield_4", "name": "Parent Link"},
    {"id": "customfield_5", "name": "Sprint"},
    {"id": "customfield_6", "name": "Team"},
    {"id": "customfield_7", "name": "Target end"},
    {"id": "customfield_8", "name": "Investment"},
]


def test_cloud_v3_story_under_epic_with_adf_and_custom_values():
    raw = copy.deepcopy(sample("cloud-jirametrics/testdata/SP-1.json"))
    f = raw["fields"]
    f["parent"] = {"id": "1", "key": "SP-100", "fields": {"issuetype": {"name": "Epic", "hierarchyLevel": 1}}}
    f["description"] = {
        "type": "doc", "version": 1,
        "content": [
            {"type": "paragraph",
             "content": [{"type": "text", "text": "Hello "}, {"type": "mention", "attrs": {"text": "@Ann"}}]},
            {"type": "bulletList",
             "content": [{"type": "listItem",
                          "content": [{"type": "paragraph", "content": [{"type": "text", "text": "one"}]}]}]},
        ],
    }
    f["assignee"] = {"accountId": "abc", "displayName": "Ann", "active": False}
    f["customfield_2"] = 5  # only "Story point estimate" is set
    f["customfield_5"] = [{"id": 1, "name": "Sprint 1"}, {"id": 2, "name": "Sprint 2"}]
    f["customfield_6"] = {"id": "uuid", "name": "Payments"}
    f["customfield_7"] = "2026-03-31"
    f["customfield_8"] = {"self": "x", "value": "Win enterprise", "id": "10"}
    fmap = FieldMap.discover(SITE_FIELDS, extra=["Investment"])
    row = normalize_issue(raw, fmap, cloud_statuses())
    assert (row.parent_key, row.epic_key) == ("SP-100", "SP-100")
    assert row.description == "Hello @Ann\none"
    assert (row.assignee_id, row.assignee_active) == ("abc", False)
    assert row.story_points == 5.0 and row.sprint == "Sprint 2" and row.team == "Payments"
    assert row.target_date == date(2026, 3, 31) and row.custom == {"Investment": "Win enterprise"}


def test_cloud_subtask_and_story_under_non_epic_parent():
    raw = copy.deepcopy(sample("cloud-jirametrics/testdata/SP-1.json"))
    raw["fields"]["issuetype"] = {"name": "Sub-task", "subtask": True, "hierarchyLevel": -1}
    raw["fields"]["parent"] = {"key": "SP-7", "fields": {"issuetype": {"name": "Story", "hierarchyLevel": 0}}}
    row = normalize_issue(raw, FieldMap.discover([]))
    assert (row.hierarchy_level, row.parent_key, row.epic_key) == (-1, "SP-7", None)


def dc_issue(issuetype, **fields):
    base = copy.deepcopy(sample("server-jira-ruby/issue/10002.json"))
    base["fields"]["issuetype"] = issuetype
    base["fields"].update(fields)
    return base


def test_dc_epic_link_parent_link_and_sprint_string():
    fmap = FieldMap.discover(SITE_FIELDS)
    story = normalize_issue(
        dc_issue(
            {"name": "Story", "subtask": False},
            customfield_3="OTHER-9",
            customfield_1=3.0,
            customfield_5=["com.atlassian.greenhopper.service.sprint.Sprint@1"
                           "[id=1,rapidViewId=1,state=CLOSED,name=Sprint 7,startDate=...]"],
        ),
        fmap,
    )
    assert (story.hierarchy_level, story.epic_key, story.parent_key, story.story_points,
            story.sprint) == (0, "OTHER-9", "OTHER-9", 3.0, "Sprint 7")
    epic = normalize_issue(dc_issue({"name": "Epic", "subtask": False}, customfield_4="INIT-1"), fmap)
    assert (epic.hierarchy_level, epic.parent_key, epic.epic_key) == (1, "INIT-1", None)
    init = normalize_issue(dc_issue({"name": "Initiative", "subtask": False},
                                    customfield_4={"data": {"key": "THEME-1"}}), fmap)
    assert (init.hierarchy_level, init.parent_key) == (2, "THEME-1")
    sub = normalize_issue(dc_issue({"name": "Sub-task", "subtask": True}, parent={"id": "5", "key": "SAMPLEPROJECT-5"}),
                          fmap)
    assert (sub.hierarchy_level, sub.parent_key, sub.epic_key) == (-1, "SAMPLEPROJECT-5", None)


def test_cloud_premium_parent_link_placeholder_is_not_a_parent():
    raw = sample("cloud-jirametrics/testdata/SP-1.json")  # customfield_10018 is a Parent Link placeholder object
    fmap = FieldMap.discover([{"id": "customfield_10018", "name": "Parent Link"}])
    row = normalize_issue(raw, fmap)
    assert (row.hierarchy_level, row.parent_key) == (0, None)


def test_adf_plain_string_and_none():
    assert adf_to_text(None) == "" and adf_to_text("h1. wiki") == "h1. wiki"


def test_assignee_transitions_use_ids():
    h = [{"id": "7", "created": "2026-01-02T10:00:00.000+0000", "author": {"name": "bob"},
          "items": [{"field": "assignee", "from": None, "fromString": None, "to": "ann", "toString": "Ann A"}]}]
    (t,) = normalize_histories(1, h)
    assert (t.field, t.from_value, t.to_value, t.to_category, t.author_id) == ("assignee", None, "ann", None, "bob")


def test_story_point_changes_are_kept_by_field_id():
    raw = sample("cloud-jirametrics/testdata/SP-13.json")  # a real "Story Points" change, customfield_10036
    fmap = FieldMap.discover([{"id": "customfield_10036", "name": "Story Points"}])
    points = [t for t in normalize_histories(int(raw["id"]), raw["changelog"]["histories"], cloud_statuses(), fmap)
              if t.field == "story_points"]
    assert [(t.from_value, t.to_value) for t in points] == [(None, "13")]
    assert points[0].author_name  # who changed it, by name
    # A site whose story points live in another field: this item is not that field's change.
    other = FieldMap.discover([{"id": "customfield_20000", "name": "Story Points"}])
    assert not [t for t in normalize_histories(int(raw["id"]), raw["changelog"]["histories"], cloud_statuses(), other)
                if t.field == "story_points"]


def _history(hid, *items, author="Ann A"):
    return {"id": str(hid), "created": "2026-11-02T10:00:00.000+0000",
            "author": {"accountId": "a1", "displayName": author}, "items": list(items)}


def test_scope_changes_cloud_and_data_center_shapes():
    fmap = FieldMap.discover([{"id": "customfield_10014", "name": "Epic Link"},
                              {"id": "customfield_10023", "name": "Target end"},
                              {"id": "customfield_10016", "name": "Story point estimate"}])
    histories = [
        # Cloud: a parent change names ids only, and carries no fieldId.
        _history(1, {"field": "IssueParentAssociation", "fieldtype": "jira", "from": "10012", "fromString": None,
                     "to": "10040", "toString": None}),
        # Data Center: Epic Link with keys.
        _history(2, {"field": "Epic Link", "fieldtype": "custom", "fieldId": "customfield_10014",
                     "from": "10040", "fromString": "PAY-9", "to": None, "toString": None}),
        # A date field: ISO in from/to; a display format only in the strings.
        _history(3, {"field": "Target end", "fieldtype": "custom", "fieldId": "customfield_10023",
                     "from": "2026-12-21", "fromString": "21/Dec/26", "to": None, "toString": "18/Jan/27"}),
        _history(4, {"field": "Story point estimate", "fieldtype": "custom", "fieldId": "customfield_10016",
                     "from": None, "fromString": "5.0", "to": None, "toString": "8"},
                 {"field": "Flagged", "fieldtype": "custom", "fieldId": "customfield_10021",
                  "from": None, "fromString": None, "to": "1", "toString": "Impediment"}),
    ]
    rows = normalize_histories(7, histories, None, fmap)
    assert [(t.field, t.from_value, t.to_value) for t in rows] == [
        ("parent", "10012", "10040"), ("epic", "PAY-9", None), ("target_date", "2026-12-21", "2027-01-18"),
        ("story_points", "5.0", "8")]
    assert {t.author_name for t in rows} == {"Ann A"} and all(t.to_category is None for t in rows)


def test_scope_changes_without_field_ids_are_told_by_name():
    h = [_history(1, {"field": "Epic Link", "fieldtype": "custom", "from": None, "fromString": None,
                      "to": "10040", "toString": "PAY-9"}),
         _history(2, {"field": "Kundenwert", "fieldtype": "custom", "from": None, "fromString": "1", "to": None,
                      "toString": "2"})]
    assert [(t.field, t.to_value) for t in normalize_histories(1, h, None, FieldMap.discover([]))] == [
        ("epic", "PAY-9")]


def test_an_item_without_a_field_id_is_told_by_the_sites_own_field_name():
    # An older Data Center site whose story points field is called "Punkte".
    fmap = FieldMap.discover([{"id": "customfield_10002", "name": "Punkte"}], overrides={"story_points": "Punkte"})
    h = [_history(1, {"field": "Punkte", "fieldtype": "custom", "from": None, "fromString": "3", "to": None,
                      "toString": "5"})]
    assert [(t.field, t.from_value, t.to_value) for t in normalize_histories(1, h, None, fmap)] == [
        ("story_points", "3", "5")]


def test_sprints_from_a_real_cloud_issue_and_data_center_strings():
    raw = sample("cloud-jirametrics/testdata/SP-13.json")
    fmap = FieldMap.discover([{"id": "customfield_10020", "name": "Sprint"}])
    (sprint,) = normalize_issue(raw, fmap).sprints
    assert (sprint.id, sprint.name, sprint.state, sprint.board_id) == (3, "Scrum Sprint 3", "active", 2)
    assert sprint.start == datetime(2022, 4, 15, 0, 55, 17, 688000, tzinfo=UTC) and sprint.complete is None
    # Data Center: one string per sprint the issue was in; a name may hold commas; <null> is no date.
    dc = copy.deepcopy(raw)
    dc["fields"]["customfield_10020"] = [
        "com.atlassian.greenhopper.service.sprint.Sprint@1f2e[id=7,rapidViewId=4,state=CLOSED,name=Sprint 7, "
        "hardening,startDate=2026-10-05T09:00:00.000+02:00,endDate=2026-10-19T09:00:00.000+02:00,"
        "completeDate=2026-10-19T10:00:00.000+02:00,sequence=7,goal=]",
        "com.atlassian.greenhopper.service.sprint.Sprint@1f2f[id=8,rapidViewId=4,state=FUTURE,name=Sprint 8,"
        "startDate=<null>,endDate=<null>,completeDate=<null>,sequence=8,goal=]",
    ]
    row = normalize_issue(dc, fmap)
    first, second = row.sprints
    assert (first.id, first.name, first.state, first.board_id) == (7, "Sprint 7, hardening", "closed", 4)
    assert first.complete == datetime(2026, 10, 19, 8, 0, tzinfo=UTC)
    assert (second.id, second.state, second.start, second.end) == (8, "future", None, None)
    assert row.sprint == "Sprint 8"  # the last one, as before
