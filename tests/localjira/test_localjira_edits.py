"""The local Jira's edit endpoints: labels through ``PUT /issue``, comments, their status codes and
errors, what a change does to search results, ``updated`` and the changelog, and the ``fail_issues`` fault."""

from __future__ import annotations

import pytest
from localjira_helpers import serve

from rollup.localjira import SampleOrg
from rollup.localjira.sampledata import T_EPIC

FLAVOURS = ("cloud", "datacenter")


@pytest.fixture(scope="module")
def org() -> SampleOrg:
    """An organisation these tests may change (the session ones are read-only)."""
    return SampleOrg.generate(seed=11, issues=400)


@pytest.fixture(scope="module", params=FLAVOURS)
def jira(request, org):
    with serve(org, flavour=request.param) as server:
        yield server


def _api(jira) -> int:
    return 3 if jira.cloud else 2


def _epics(org: SampleOrg) -> list[int]:
    return [p for p in range(org.size) if org.itype[p] == T_EPIC and not org.deleted[p]]


def _search(jira, http, jql: str, fields: str = "labels") -> list[dict]:
    if jira.cloud:
        body = http.get(jira.url + "/rest/api/3/search/jql", params={"jql": jql, "fields": fields, "maxResults": 100})
    else:
        body = http.get(jira.url + "/rest/api/2/search", params={"jql": jql, "fields": fields, "maxResults": 1000})
    assert body.status_code == 200, body.text
    return body.json()["issues"]


def _body(jira, text: str):
    if jira.cloud:
        return {"type": "doc", "version": 1, "content": [{"type": "paragraph", "content": [{"type": "text", "text": t}]}
                                                         for t in text.split("\n")]}
    return text


def test_labels_change_and_show_in_search_updated_and_changelog(jira, http, org, validate):
    pos = _epics(org)[3]
    key, api = org.key(pos), _api(jira)
    before = list(org.tuples[org.labels[pos]])
    updated_before = org.updated[pos]
    tag = f"wb-{jira.flavour}"
    r = http.put(f"{jira.url}/rest/api/{api}/issue/{key}", json={"update": {"labels": [{"add": tag}]}})
    assert r.status_code == 204 and r.content == b""
    [hit] = _search(jira, http, f'labels = "{tag}"', "labels,updated")
    assert hit["key"] == key and hit["fields"]["labels"] == before + [tag]
    assert org.updated[pos] > updated_before
    issue = http.get(f"{jira.url}/rest/api/{api}/issue/{key}",
                     params={"expand": "changelog", "fields": "labels"}).json()
    histories = issue["changelog"]["histories"]
    latest = max(histories, key=lambda h: (h["created"], int(h["id"])))
    assert latest["items"] == [{"field": "labels", "fieldtype": "jira", "fieldId": "labels", "from": None,
                                "fromString": " ".join(before), "to": None, "toString": " ".join(before + [tag])}]
    assert latest["author"]["displayName"] == "Rollup Bot"
    validate(f"v{api}", f"/rest/api/{api}/issue/{{issueIdOrKey}}", "get", issue)
    # Adding a label the issue has changes nothing: no history, no move of updated.
    stamp, count = org.updated[pos], len(histories)
    again = http.put(f"{jira.url}/rest/api/{api}/issue/{key}", json={"update": {"labels": [{"add": tag}]}})
    assert again.status_code == 204
    assert org.updated[pos] == stamp and len(org.histories(pos)) == count
    # Remove it again; the search no longer finds it, the negation does.
    r = http.put(f"{jira.url}/rest/api/{api}/issue/{org.issue_id(pos)}", json={"update": {"labels": [{"remove": tag}]}})
    assert r.status_code == 204
    assert _search(jira, http, f'labels = "{tag}"') == []
    assert key in {i["key"] for i in _search(jira, http, f'labels != "{tag}" AND key = {key}')}
    assert list(org.tuples[org.labels[pos]]) == before


def test_labels_set_through_fields_and_return_issue(jira, http, org):
    pos = _epics(org)[4]
    key, api = org.key(pos), _api(jira)
    r = http.put(f"{jira.url}/rest/api/{api}/issue/{key}", params={"returnIssue": "true"},
                 json={"fields": {"labels": ["alpha", "beta", "alpha"]}})
    assert r.status_code == 200 and r.json()["fields"]["labels"] == ["alpha", "beta"]
    hits = _search(jira, http, "labels in (alpha, gamma) AND labels = beta")
    assert [h["key"] for h in hits] == [key]
    if jira.cloud:
        bulk = http.post(jira.url + "/rest/api/3/issue/bulkfetch",
                         json={"issueIdsOrKeys": [key], "fields": ["labels"]}).json()
        assert bulk["issues"][0]["fields"]["labels"] == ["alpha", "beta"]


@pytest.mark.parametrize("payload, field, words", [
    ({}, None, "one of 'fields' or 'update' required"),
    ({"update": {"summary": [{"set": "x"}]}}, "summary", "cannot be set"),
    ({"update": {"labels": [{"add": "two words"}]}}, "labels", "contains spaces"),
    ({"update": {"labels": [{"rename": "x"}]}}, "labels", "Unsupported operation"),
    ({"update": {"labels": {"add": "x"}}}, "labels", "must be a list"),
    ({"fields": {"labels": ["a"]}, "update": {"labels": [{"add": "b"}]}}, "labels", "both"),
])
def test_bad_label_edits_are_400_in_jiras_shape(jira, http, org, payload, field, words):
    pos = _epics(org)[5]
    before = (org.labels[pos], org.updated[pos])
    r = http.put(f"{jira.url}/rest/api/{_api(jira)}/issue/{org.key(pos)}", json=payload)
    assert r.status_code == 400
    body = r.json()
    assert set(body) == {"errorMessages", "errors"}
    text = body["errors"][field] if field else body["errorMessages"][0]
    assert words in text
    assert (org.labels[pos], org.updated[pos]) == before


def test_bad_json_and_unknown_issue(jira, http):
    api = _api(jira)
    r = http.put(f"{jira.url}/rest/api/{api}/issue/PAY-1", data="{nope", headers={"Content-Type": "application/json"})
    assert r.status_code == 400 and "Invalid request payload" in r.json()["errorMessages"][0]
    for method, path in (("PUT", "issue/PAY-99999"), ("GET", "issue/PAY-99999/comment"),
                         ("POST", "issue/PAY-99999/comment"), ("DELETE", "issue/PAY-1/comment/99")):
        r = http.request(method, f"{jira.url}/rest/api/{api}/{path}", json={"body": _body(jira, "x"),
                                                                            "update": {"labels": [{"add": "x"}]}})
        assert r.status_code == 404, (method, path, r.text)
        assert r.json()["errorMessages"]
    if not jira.cloud:
        v3 = http.put(f"{jira.url}/rest/api/3/issue/PAY-1", json={"update": {"labels": [{"add": "x"}]}})
        assert v3.status_code == 404


def test_comments_add_list_page_edit_delete(jira, http, org, validate):
    pos = _epics(org)[6]
    key, api = org.key(pos), _api(jira)
    base = f"{jira.url}/rest/api/{api}/issue/{key}/comment"
    assert http.get(base).json() == {"comments": [], "maxResults": 100 if jira.cloud else 0, "total": 0, "startAt": 0}
    stamp = org.updated[pos]
    made = []
    for n in range(3):
        r = http.post(base, json={"body": _body(jira, f"note {n}\nsecond line")})
        assert r.status_code == 201, r.text
        validate(f"v{api}", f"/rest/api/{api}/issue/{{issueIdOrKey}}/comment", "post", r.json(), 201)
        made.append(r.json()["id"])
    assert org.updated[pos] > stamp
    listed = http.get(base).json()
    validate(f"v{api}", f"/rest/api/{api}/issue/{{issueIdOrKey}}/comment", "get", listed)
    assert [c["id"] for c in listed["comments"]] == made and listed["total"] == 3
    first = listed["comments"][0]
    assert first["author"]["displayName"] == "Rollup Bot"
    assert (first["body"]["content"][0]["content"][0]["text"] if jira.cloud else first["body"]) == \
        ("note 0" if jira.cloud else "note 0\nsecond line")
    page = http.get(base, params={"startAt": 1, "maxResults": 1}).json()
    assert (page["startAt"], page["total"], page["maxResults"]) == (1, 3, 1)
    assert [c["id"] for c in page["comments"]] == made[1:2]
    newest = http.get(base, params={"orderBy": "-created"}).json()
    assert [c["id"] for c in newest["comments"]] == made[::-1]
    assert http.get(base, params={"orderBy": "author"}).status_code == 400
    # Edit in place: same id, new body, ``updated`` of the comment moves.
    r = http.put(f"{base}/{made[1]}", json={"body": _body(jira, "edited")})
    assert r.status_code == 200 and r.json()["id"] == made[1]
    validate(f"v{api}", f"/rest/api/{api}/issue/{{issueIdOrKey}}/comment/{{id}}", "put", r.json())
    one = http.get(f"{base}/{made[1]}").json()
    assert (one["body"] if not jira.cloud else one["body"]["content"][0]["content"][0]["text"]) == "edited"
    # The text is searchable.
    assert [i["key"] for i in _search(jira, http, 'comment ~ "EDITED"')] == [key]
    # Delete: 204 without a body, then it is gone.
    r = http.delete(f"{base}/{made[0]}")
    assert r.status_code == 204 and r.content == b""
    assert http.get(f"{base}/{made[0]}").status_code == 404
    assert [c["id"] for c in http.get(base).json()["comments"]] == made[1:]
    for cid in made[1:]:
        assert http.delete(f"{base}/{cid}").status_code == 204
    assert pos not in org.comments


def test_comment_bodies_are_checked_per_api_version(jira, http, org):
    pos = _epics(org)[7]
    api = _api(jira)
    base = f"{jira.url}/rest/api/{api}/issue/{org.key(pos)}/comment"
    bad = [{}, {"body": ""}, {"body": 5}]
    bad.append({"body": "plain text on v3"} if jira.cloud else {"body": {"type": "doc", "version": 1, "content": []}})
    for payload in bad:
        r = http.post(base, json=payload)
        assert r.status_code == 400, payload
        assert "comment" in r.json()["errors"]
    assert pos not in org.comments
    if jira.cloud:  # a v2 (wiki) comment on Cloud reads back as ADF on v3, and the other way round
        r = http.post(f"{jira.url}/rest/api/2/issue/{org.key(pos)}/comment", json={"body": "line one\nline two"})
        assert r.status_code == 201
        v3 = http.get(base).json()["comments"][0]["body"]
        assert [p["content"][0]["text"] for p in v3["content"]] == ["line one", "line two"]
        http.delete(f"{base}/{r.json()['id']}")


def test_fail_issues_fault_breaks_edits_of_one_issue_only(jira, http, org):
    a, b = _epics(org)[8], _epics(org)[9]
    api = _api(jira)
    jira.faults.update(fail_issues=[org.key(a)])
    try:
        for ident in (org.key(a), org.issue_id(a)):
            r = http.put(f"{jira.url}/rest/api/{api}/issue/{ident}", json={"update": {"labels": [{"add": "x"}]}})
            assert r.status_code == 500
        assert http.post(f"{jira.url}/rest/api/{api}/issue/{org.key(a)}/comment",
                         json={"body": _body(jira, "x")}).status_code == 500
        assert http.get(f"{jira.url}/rest/api/{api}/issue/{org.key(a)}/comment").status_code == 200
        r = http.put(f"{jira.url}/rest/api/{api}/issue/{org.key(b)}", json={"update": {"labels": [{"add": "fine"}]}})
        assert r.status_code == 204
        assert "x" not in org.tuples[org.labels[a]] and "fine" in org.tuples[org.labels[b]]
        assert jira.stats_snapshot()["errors"]["issue"] >= 3
    finally:
        jira.faults.update(fail_issues=())


def test_edits_keep_generation_and_advance_deterministic():
    edited, plain = SampleOrg.generate(seed=5, issues=400), SampleOrg.generate(seed=5, issues=400)
    epics = _epics(edited)
    originals = {edited.labels[p] for p in epics}
    for pos in epics:
        edited.set_labels(pos, edited.tuples[edited.labels[pos]] + ("rollup-lint",))
        edited.add_comment(pos, "a note")
    # Labels stay one small index per issue; only the new combinations are added to the shared tuples.
    assert edited.labels.typecode == "h"
    assert len(edited.tuples) - len(plain.tuples) <= len(originals)
    # advance() does not depend on the edits made before it.
    out_edited, out_plain = edited.advance(days=1), plain.advance(days=1)
    assert out_edited == out_plain
    assert [edited.status[p] for p in range(edited.size)] == [plain.status[p] for p in range(plain.size)]


def test_ground_truth_follows_label_edits():
    org = SampleOrg.generate(seed=5, issues=400)
    pos = next(p for p in _epics(org) if "no-pillar" in org.ground_truth[org.key(p)])
    org.set_labels(pos, org.tuples[org.labels[pos]] + ("pillar-growth",))
    assert "no-pillar" not in org.ground_truth[org.key(pos)]
