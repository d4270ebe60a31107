"""Every endpoint the local Jira serves answers in the shape the published Jira spec describes."""

from __future__ import annotations

import pytest


def test_cloud_endpoints_match_v3_spec(cloud, http, validate, org_small):
    u = cloud.url
    validate("v3", "/rest/api/3/serverInfo", "get", http.get(u + "/rest/api/2/serverInfo").json())
    validate("v3", "/rest/api/3/myself", "get", http.get(u + "/rest/api/2/myself").json())
    validate("v3", "/rest/api/3/status", "get", http.get(u + "/rest/api/2/status").json())
    validate("v3", "/rest/api/3/field", "get", http.get(u + "/rest/api/2/field").json())
    validate("v3", "/rest/api/3/field", "get", http.get(u + "/rest/api/3/field").json())
    page = http.get(u + "/rest/api/3/search/jql", params={"jql": "project = PAY", "fields": "*all",
                                                           "expand": "changelog", "maxResults": 20}).json()
    assert page["issues"] and "total" not in page
    validate("v3", "/rest/api/3/search/jql", "get", page)
    page = http.post(u + "/rest/api/3/search/jql", json={"jql": "issuetype = Epic", "fields": ["summary", "parent"],
                                                         "maxResults": 5}).json()
    validate("v3", "/rest/api/3/search/jql", "post", page)
    ids = [i["id"] for i in page["issues"]]
    body = http.post(u + "/rest/api/3/issue/bulkfetch", json={"issueIdsOrKeys": ids, "fields": ["*all"],
                                                              "expand": ["changelog"]}).json()
    assert len(body["issues"]) == len(ids)
    validate("v3", "/rest/api/3/issue/bulkfetch", "post", body)
    body = http.post(u + "/rest/api/3/changelog/bulkfetch", json={"issueIdsOrKeys": ids}).json()
    validate("v3", "/rest/api/3/changelog/bulkfetch", "post", body)
    validate("v3", "/rest/api/3/issue/{issueIdOrKey}", "get",
             http.get(u + f"/rest/api/3/issue/{ids[0]}?expand=changelog").json())
    upd = http.get(u + "/rest/api/2/worklog/updated?since=0").json()
    validate("v3", "/rest/api/3/worklog/updated", "get", upd)
    validate("v3", "/rest/api/3/worklog/deleted", "get", http.get(u + "/rest/api/2/worklog/deleted?since=0").json())
    wl = http.post(u + "/rest/api/2/worklog/list", json={"ids": [v["worklogId"] for v in upd["values"][:50]]}).json()
    assert len(wl) == 50
    validate("v3", "/rest/api/3/worklog/list", "post", wl)


def test_datacenter_endpoints_match_spec(dc, http, validate):
    u = dc.url
    info = http.get(u + "/rest/api/2/serverInfo").json()
    assert info["deploymentType"] != "Cloud"
    validate("v3", "/rest/api/3/serverInfo", "get", info)
    me = http.get(u + "/rest/api/2/myself").json()
    assert "accountId" not in me and me["name"] and me["key"]
    validate("v3", "/rest/api/3/myself", "get", me)
    validate("v3", "/rest/api/3/status", "get", http.get(u + "/rest/api/2/status").json())
    validate("v3", "/rest/api/3/field", "get", http.get(u + "/rest/api/2/field").json())
    page = http.get(u + "/rest/api/2/search", params={"jql": "project = CLIN", "expand": "changelog",
                                                       "maxResults": 30}).json()
    validate("v2", "/rest/api/2/search", "get", page)
    validate("v2", "/rest/api/2/issue/{issueIdOrKey}", "get",
             http.get(u + f"/rest/api/2/issue/{page['issues'][0]['key']}?expand=changelog").json())
    validate("v3", "/rest/api/3/worklog/updated", "get", http.get(u + "/rest/api/2/worklog/updated?since=0").json())


@pytest.mark.parametrize("flavour", ["cloud", "datacenter"])
def test_content_type_and_error_shape(flavour, cloud, dc, http):
    jira = cloud if flavour == "cloud" else dc
    r = http.get(jira.url + "/rest/api/2/issue/NOPE-1")
    assert r.status_code == 404
    assert r.headers["Content-Type"] == "application/json;charset=UTF-8"
    assert set(r.json()) == {"errorMessages", "errors"} and r.json()["errorMessages"]


def test_field_ids_per_flavour(cloud, dc, http):
    cf = {(f["id"], f["name"]) for f in http.get(cloud.url + "/rest/api/2/field").json()}
    for pair in [("customfield_10016", "Story point estimate"), ("customfield_10028", "Story Points"),
                 ("customfield_10014", "Epic Link"), ("customfield_10011", "Epic Name"),
                 ("customfield_10020", "Sprint"), ("customfield_10015", "Start date"),
                 ("customfield_10001", "Team"), ("customfield_10100", "Team"),
                 ("customfield_10023", "Target end"), ("customfield_10050", "Investment")]:
        assert pair in cf
    df = {(f["id"], f["name"]) for f in http.get(dc.url + "/rest/api/2/field").json()}
    for pair in [("customfield_10002", "Story Points"), ("customfield_10100", "Epic Link"),
                 ("customfield_10101", "Epic Name"), ("customfield_10200", "Parent Link"),
                 ("customfield_10300", "Team"), ("customfield_10301", "Team"), ("customfield_10104", "Sprint")]:
        assert pair in df


def test_project_list_matches_the_spec_on_both_flavours(cloud, dc, http, validate):
    from rollup.localjira.sampledata import PROJECTS

    keys = [p.key for p in PROJECTS]
    for version in (2, 3):
        body = http.get(cloud.url + f"/rest/api/{version}/project").json()
        validate(f"v{version}", f"/rest/api/{version}/project", "get", body)
        assert [p["key"] for p in body] == keys
        assert {p["key"]: p["style"] for p in body}["MOB"] == "next-gen"  # team-managed on Cloud
    body = http.get(dc.url + "/rest/api/2/project").json()
    validate("v2", "/rest/api/2/project", "get", body)
    assert [(p["key"], p["name"]) for p in body] == [(p.key, p.name) for p in PROJECTS]
    assert all("style" not in p and p["archived"] is False for p in body)
    assert http.get(dc.url + "/rest/api/3/project").status_code == 404  # Data Center has no API v3


def test_the_specs_own_field_example_carries_untranslated_name():
    """The one correction the shape tests make to FieldDetails is what the same document's example shows."""
    import json

    from shared_dir import shared_dir

    spec = json.loads((shared_dir() / "jira-spec" / "cloud-platform-v2.json").read_text())
    examples = [c["example"] for p in spec["paths"].values() for op in p.values() if isinstance(op, dict)
                for r in op.get("responses", {}).values() for c in r.get("content", {}).values()
                if isinstance(c.get("example"), str) and '"clauseNames"' in c["example"]]
    assert any('"untranslatedName"' in e for e in examples)
