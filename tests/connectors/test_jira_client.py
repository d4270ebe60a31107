"""JiraConnector against mocked endpoints: the flows and the odd shapes of both flavours."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from urllib.parse import parse_qs, urlparse

import pytest
import responses
from jira_helpers import CLOUD_URL, DC_URL, sample

from connectors.jira import FieldMap
from connectors.jira.errors import JiraAnswerError

UTC = timezone.utc
STATUSES = [
    {"id": "1", "name": "To Do", "statusCategory": {"key": "new"}},
    {"id": "3", "name": "In Progress", "statusCategory": {"key": "indeterminate"}},
    {"id": "5", "name": "Done", "statusCategory": {"key": "done"}},
]


def issue(i, **fields):
    f = {
        "summary": f"Issue {i}", "issuetype": {"name": "Story", "subtask": False},
        "status": {"id": "3", "name": "In Progress"},
        "project": {"key": "P"}, "created": "2026-01-01T00:00:00.000+0000", "updated": "2026-01-02T00:00:00.000+0000",
    }
    f.update(fields)
    return {"id": str(i), "key": f"P-{i}", "fields": f}


def history(hid, to="5"):
    return {"id": str(hid), "created": f"2026-01-01T00:00:{hid % 60:02d}.000+0000", "author": {"accountId": "a"},
            "items": [{"field": "status", "fieldId": "status", "from": "1", "fromString": "To Do", "to": to,
                       "toString": {"5": "Done", "3": "In Progress"}[to]}]}


def qs(call):
    return {k: v[0] for k, v in parse_qs(urlparse(call.request.url).query).items()}


@responses.activate
def test_cloud_server_info_and_sweep(cloud):
    responses.get(f"{CLOUD_URL}/rest/api/2/serverInfo",
                  json={"deploymentType": "Cloud", "version": "1001.0.0", "baseUrl": CLOUD_URL})
    responses.get(f"{CLOUD_URL}/rest/api/2/myself", json={"timeZone": "Europe/Berlin"})
    responses.get(f"{CLOUD_URL}/rest/api/2/status", json=STATUSES)
    fields = [{"id": f, "name": f.title()} for f in ("summary", "status", "issuetype", "project", "created", "updated")]
    responses.get(f"{CLOUD_URL}/rest/api/2/field", json=fields)
    info = cloud.server_info()
    assert (info.deployment, info.time_zone) == ("cloud", "Europe/Berlin")
    # The status map and the field list are read alongside, so fetching needs no further start-up call.
    cloud.discover_fields()
    assert cloud._statuses is not None and len(responses.calls) == 4

    def search(request):
        q = qs(type("C", (), {"request": request}))
        assert q["fields"] == "updated" and q["maxResults"] == "5000" and "ORDER BY id" in q["jql"]
        if "nextPageToken" not in q:
            return 200, {}, json.dumps({"issues": [issue(1), issue(2)], "nextPageToken": "t1", "isLast": False})
        return 200, {}, json.dumps({"issues": [issue(3)], "isLast": True})

    responses.add_callback(responses.GET, f"{CLOUD_URL}/rest/api/3/search/jql", callback=search)
    responses.post(f"{CLOUD_URL}/rest/api/3/search/approximate-count", json={"count": 3})
    sweep = cloud.sweep("project = P ORDER BY id")
    pages = list(sweep)
    assert [[r.id for r in p] for p in pages] == [[1, 2], [3]]
    assert pages[0][0].updated == datetime(2026, 1, 2, tzinfo=UTC)
    # The read agrees with the server's own count (asked without the ORDER BY).
    assert sweep.complete and sweep.server_count == 3
    count_call = [c for c in responses.calls if c.request.url.endswith("approximate-count")][0]
    assert json.loads(count_call.request.body) == {"jql": "project = P"}


@responses.activate
def test_cloud_fetch_pages_changelog_and_drops_missing_ids(cloud):
    responses.get(f"{CLOUD_URL}/rest/api/2/status", json=STATUSES)

    def bulk(request):
        body = json.loads(request.body)
        assert "summary" in body["fields"]
        found = [issue(int(i)) for i in body["issueIdsOrKeys"] if i != "99"]
        return 200, {}, json.dumps({"issues": found, "issueErrors": []})

    def changelog(request):
        body = json.loads(request.body)
        assert body["fieldIds"] == ["status", "assignee", "parent"] and len(body["issueIdsOrKeys"]) <= 1000
        if "nextPageToken" not in body:
            logs = [{"issueId": "1", "changeHistories": [history(10)]},
                    {"issueId": "2", "changeHistories": [history(20)]}]
            return 200, {}, json.dumps({"issueChangeLogs": logs, "nextPageToken": "p2"})
        logs = [{"issueId": "1", "changeHistories": [history(11, to="3")]}]
        return 200, {}, json.dumps({"issueChangeLogs": logs})

    responses.add_callback(responses.POST, f"{CLOUD_URL}/rest/api/3/issue/bulkfetch", callback=bulk)
    responses.add_callback(responses.POST, f"{CLOUD_URL}/rest/api/3/changelog/bulkfetch", callback=changelog)
    # Left out without an issue error: asked alone, it answers 404 — proven gone, not a failure.
    responses.get(f"{CLOUD_URL}/rest/api/3/issue/99", status=404, json={"errorMessages": ["Issue does not exist"]})
    batches = list(cloud.fetch([1, 2, 99], FieldMap.discover([])))
    assert len(batches) == 1
    b = batches[0]
    assert sorted(r.id for r in b.issues) == [1, 2] and b.changelog_complete == {1, 2}
    assert b.failed_ids == set()
    assert [t.history_id for t in b.transitions[1]] == [10, 11]  # the second page was read
    assert b.transitions[1][0].to_category == "done"
    assert not any("/rest/api/3/search" == urlparse(c.request.url).path for c in responses.calls)


@responses.activate
def test_dc_fetch_reads_full_changelog_beyond_embedded_cap(dc):
    responses.get(f"{DC_URL}/rest/api/2/status", json=STATUSES)
    embedded = [history(h) for h in range(1, 101)]
    full = [history(h) for h in range(1, 131)]

    def search(request):
        q = qs(type("C", (), {"request": request}))
        assert q["expand"] == "changelog" and q["jql"].startswith("id in (")
        i1 = issue(1)
        i1["changelog"] = {"startAt": 0, "maxResults": 100, "total": 130, "histories": embedded}
        i2 = issue(2)
        i2["changelog"] = {"startAt": 0, "maxResults": 1, "total": 1, "histories": [history(500)]}
        return 200, {}, json.dumps({"startAt": 0, "maxResults": 100, "total": 2, "issues": [i1, i2]})

    responses.add_callback(responses.GET, f"{DC_URL}/rest/api/2/search", callback=search)
    responses.get(f"{DC_URL}/rest/api/2/issue/1",
                  json={**issue(1), "changelog": {"startAt": 0, "maxResults": 130, "total": 130, "histories": full}})
    (b,) = list(dc.fetch([1, 2], FieldMap.discover([])))
    assert b.changelog_complete == {1, 2}
    assert len(b.transitions[1]) == 130 and len(b.transitions[2]) == 1
    assert sum(1 for c in responses.calls if "/rest/api/2/issue/" in c.request.url) == 1


@responses.activate
def test_dc_sweep_reads_page_size_back(dc):
    calls = []

    def search(request):
        q = qs(type("C", (), {"request": request}))
        calls.append((int(q["startAt"]), int(q["maxResults"])))
        start = int(q["startAt"])
        ids = list(range(start + 1, min(start + 50, 120) + 1))
        return 200, {}, json.dumps({"startAt": start, "maxResults": 50, "total": 120,
                                    "issues": [issue(i) for i in ids]})

    responses.add_callback(responses.GET, f"{DC_URL}/rest/api/2/search", callback=search)
    refs = [r.id for page in dc.sweep("project = P ORDER BY id") for r in page]
    assert refs == list(range(1, 121))
    assert calls == [(0, 1000), (50, 50), (100, 50)]


@responses.activate
def test_dc_batch_that_keeps_failing_is_halved_down_to_the_bad_id(dc):
    responses.get(f"{DC_URL}/rest/api/2/status", json=STATUSES)

    def search(request):
        q = qs(type("C", (), {"request": request}))
        ids = [int(x) for x in q["jql"].split("(")[1].split(")")[0].split(",")]
        if 3 in ids:
            return 500, {}, "boom"
        return 200, {}, json.dumps({"startAt": 0, "maxResults": 100, "total": len(ids),
                                    "issues": [issue(i) for i in ids]})

    responses.add_callback(responses.GET, f"{DC_URL}/rest/api/2/search", callback=search)
    batches = list(dc.fetch([1, 2, 3, 4], FieldMap.discover([])))
    got = sorted(r.id for b in batches for r in b.issues)
    assert got == [1, 2, 4]
    assert set().union(*(b.failed_ids for b in batches)) == {3}


@responses.activate
def test_worklogs_since(dc):
    def updated(request):
        q = qs(type("C", (), {"request": request}))
        if q["since"] == "1000":
            return 200, {}, json.dumps({"values": [{"worklogId": 7, "updatedTime": 1500}], "since": 1000, "until": 1500,
                                        "lastPage": False})
        return 200, {}, json.dumps({"values": [{"worklogId": 8, "updatedTime": 2000}], "since": 1500, "until": 2000,
                                    "lastPage": True})

    responses.add_callback(responses.GET, f"{DC_URL}/rest/api/2/worklog/updated", callback=updated)

    def wl_list(request):
        ids = json.loads(request.body)["ids"]
        return 200, {}, json.dumps([
            {"id": str(i), "issueId": "1", "author": {"key": "ann", "displayName": "Ann"},
             "started": "2026-01-05T09:00:00.000+0000",
             "timeSpentSeconds": 3600, "updated": "2026-01-05T10:00:00.000+0000"} for i in ids
        ])

    responses.add_callback(responses.POST, f"{DC_URL}/rest/api/2/worklog/list", callback=wl_list)
    responses.get(f"{DC_URL}/rest/api/2/worklog/deleted",
                  json={"values": [{"worklogId": 5, "updatedTime": 1800}], "since": 1000, "until": 1800,
                        "lastPage": True})
    pages = list(dc.worklogs_since(datetime.fromtimestamp(1, tz=UTC)))
    assert [[w.id for w in p.rows] for p in pages] == [[7], [8], []]
    assert pages[-1].deleted_ids == [5]
    assert pages[1].until == datetime.fromtimestamp(2, tz=UTC)
    assert pages[0].rows[0].author_id == "ann" and pages[0].rows[0].seconds == 3600


@responses.activate
def test_cloud_truncated_changelogs_are_grouped_while_ids_flow_and_completed_inline_at_the_end(cloud_settings):
    """Early batches' truncated changelogs wait for a fuller group; once every id is out, each completes its own."""
    from connectors.jira import JiraConnector

    responses.get(f"{CLOUD_URL}/rest/api/2/status", json=STATUSES)
    changelog_calls: list[list[str]] = []

    def bulk(request):
        body = json.loads(request.body)
        found = [dict(issue(int(i)), changelog={"histories": [history(int(i) * 10)], "total": 2})
                 for i in body["issueIdsOrKeys"]]
        return 200, {}, json.dumps({"issues": found, "issueErrors": []})

    def changelog(request):
        ids = json.loads(request.body)["issueIdsOrKeys"]
        changelog_calls.append(ids)
        logs = [{"issueId": i, "changeHistories": [history(int(i) * 10), history(int(i) * 10 + 1, to="3")]}
                for i in ids]
        return 200, {}, json.dumps({"issueChangeLogs": logs})

    responses.add_callback(responses.POST, f"{CLOUD_URL}/rest/api/3/issue/bulkfetch", callback=bulk)
    responses.add_callback(responses.POST, f"{CLOUD_URL}/rest/api/3/changelog/bulkfetch", callback=changelog)
    ids = list(range(1, 1201))  # 12 batches of 100; one worker keeps 2 in flight, so ids flow for a while
    with JiraConnector(cloud_settings, max_workers=1) as connector:
        batches = list(connector.fetch(ids, FieldMap.discover([])))
    seen = [row.id for b in batches for row in b.issues]
    assert sorted(seen) == ids  # every issue once, none lost or doubled
    assert all(b.changelog_complete == {r.id for r in b.issues} for b in batches)
    assert all([t.history_id for t in b.transitions[r.id]] == [r.id * 10, r.id * 10 + 1]
               for b in batches for r in b.issues)
    grouped = [c for c in changelog_calls if len(c) > 100]
    inline = [c for c in changelog_calls if len(c) <= 100]
    assert grouped and inline  # both paths ran
    assert sum(len(c) for c in changelog_calls) == len(ids)


@responses.activate
def test_cloud_bulk_fetch_refuses_a_stale_answer_and_counts_a_silently_dropped_issue(cloud):
    """A proxy replaying another batch's answer is retried; an issue left out that exists is failed, not lost."""
    responses.get(f"{CLOUD_URL}/rest/api/2/status", json=STATUSES)
    answers = iter([[issue(7), issue(8)], [issue(1)]])  # first: another batch's answer

    def bulk(request):
        return 200, {}, json.dumps({"issues": next(answers), "issueErrors": []})

    responses.add_callback(responses.POST, f"{CLOUD_URL}/rest/api/3/issue/bulkfetch", callback=bulk)
    responses.get(f"{CLOUD_URL}/rest/api/3/issue/2", json={"id": "2", "key": "P-2"})
    responses.post(f"{CLOUD_URL}/rest/api/3/changelog/bulkfetch", json={"issueChangeLogs": []})
    cloud.transport.backoff_base = 0.001
    # Issue 1 comes without its changelog, so it may arrive in a later batch, completed: read them all.
    batches = list(cloud.fetch([1, 2], FieldMap.discover([])))
    assert [r.id for b in batches for r in b.issues] == [1]
    assert set().union(*(b.failed_ids for b in batches)) == {2}
    assert cloud.stats.by_endpoint["POST /rest/api/3/issue/bulkfetch"].retries == 1


@responses.activate
def test_projects_reads_the_recorded_server_project_list_and_refuses_entries_without_a_key(dc):
    responses.get(f"{DC_URL}/rest/api/2/project", json=sample("server-jira-ruby/project.json"))
    projects = dc.projects()
    assert [(p.id, p.key, p.name) for p in projects] == [
        ("10001", "SAMPLEPROJECT", "Sample Project for Developing RoR RESTful API")]

    responses.replace(responses.GET, f"{DC_URL}/rest/api/2/project", json=[{"id": "10001", "name": "No key"}])
    with pytest.raises(JiraAnswerError, match="no id or key"):
        dc.projects()
