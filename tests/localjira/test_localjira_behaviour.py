"""Paging, JQL, changelogs, worklogs, faults, time moving on, and the hygiene ground truth."""

from __future__ import annotations

import json
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import requests
from click.testing import CliRunner
from localjira_helpers import serve, session

from rollup.localjira import DEFECTS, Faults, LocalJira, SampleOrg
from rollup.localjira.cli import localjira
from rollup.localjira.credentials import DEMO_EMAIL, DEMO_PAT, DEMO_TOKEN

ALL = "project in (STRAT, PAY, SCH, CLIN, INT, MOB, PLAT, DATA, SEC)"


def _token_pages(http, url, jql, **params):
    pages, token = [], None
    while True:
        p = {"jql": jql, **params}
        if token:
            p["nextPageToken"] = token
        body = http.get(url + "/rest/api/3/search/jql", params=p).json()
        assert "total" not in body
        pages.append(body)
        if body["isLast"]:
            assert "nextPageToken" not in body
            return pages
        token = body["nextPageToken"]


def test_token_paging_every_issue_once(cloud, http, org_small):
    pages = _token_pages(http, cloud.url, ALL + " ORDER BY id", fields="updated", maxResults=300)
    ids = [i["id"] for p in pages for i in p["issues"]]
    assert len(ids) == len(set(ids)) == org_small.size
    assert [p["isLast"] for p in pages] == [False] * (len(pages) - 1) + [True]
    assert all(len(p["issues"]) == 300 for p in pages[:-1])


def test_cloud_page_caps_and_default_fields(cloud, http):
    light = http.get(cloud.url + "/rest/api/3/search/jql", params={"jql": ALL, "fields": "id,key,updated",
                                                                   "maxResults": 9999}).json()
    assert len(light["issues"]) == 1000 and light["isLast"]  # all of them; under the 5000 cap
    full = http.get(cloud.url + "/rest/api/3/search/jql", params={"jql": ALL, "fields": "*all",
                                                                  "maxResults": 5000}).json()
    assert len(full["issues"]) == 100 and not full["isLast"]
    bare = http.get(cloud.url + "/rest/api/3/search/jql", params={"jql": "project = PAY", "maxResults": 3}).json()
    assert bare["issues"] and all(set(i) == {"id"} for i in bare["issues"])


def test_cloud_search_jql_under_v2_renders_wiki_descriptions(cloud, http):
    params = {"jql": "project = PAY ORDER BY id", "fields": "description", "maxResults": 20}
    v2 = http.get(cloud.url + "/rest/api/2/search/jql", params=params).json()["issues"]
    v3 = http.get(cloud.url + "/rest/api/3/search/jql", params=params).json()["issues"]
    assert [i["id"] for i in v2] == [i["id"] for i in v3]
    described = [(a["fields"]["description"], b["fields"]["description"]) for a, b in zip(v2, v3)
                 if a["fields"]["description"]]
    assert described and all(isinstance(w, str) and b["type"] == "doc" for w, b in described)


def test_dc_offset_paging_cap_read_back(dc, http, org_small):
    seen, start = [], 0
    while True:
        body = http.get(dc.url + "/rest/api/2/search", params={"jql": ALL + " ORDER BY id", "fields": "updated",
                                                              "startAt": start, "maxResults": 5000}).json()
        assert body["maxResults"] == 1000 and body["total"] == org_small.size
        seen += [i["id"] for i in body["issues"]]
        start += body["maxResults"]
        if start >= body["total"]:
            break
    assert len(seen) == len(set(seen)) == org_small.size


def test_cloud_old_search_is_gone_and_unbounded_rejected(cloud, http):
    for path in ("/rest/api/2/search", "/rest/api/3/search"):
        r = http.get(cloud.url + path, params={"jql": "project = PAY"})
        assert r.status_code == 410 and r.json()["errorMessages"]
    for jql in ("", "ORDER BY id"):
        r = http.get(cloud.url + "/rest/api/3/search/jql", params={"jql": jql})
        assert r.status_code == 400
        assert r.json() == {"errorMessages": ["Unbounded JQL queries are not allowed here. Please add a search "
                                              "restriction to your query."], "errors": {}}


def test_jql_filters(cloud, http, org_small):
    def keys(jql, **extra):
        pages = _token_pages(http, cloud.url, jql, fields="key,updated", maxResults=5000, **extra)
        return [i["key"] for p in pages for i in p["issues"]]

    assert all(k.startswith(("PAY-", "SCH-")) for k in keys("project in (PAY, SCH)"))
    epics = keys("issuetype = Epic")
    assert len(epics) == len(org_small.ground_truth)
    assert keys("key in (PAY-1, SCH-2)") == ["PAY-1", "SCH-2"]
    assert keys("key in (PAY-1, SCH-2) ORDER BY id DESC") == ["SCH-2", "PAY-1"]
    assert keys("id in (10000, 10001) AND (project = STRAT)") == [org_small.key(0), org_small.key(1)]
    # Dates are read in the Jira user's time zone (America/Los_Angeles by default).
    cut = datetime(2026, 11, 1, 10, 0, tzinfo=ZoneInfo("America/Los_Angeles")).timestamp()
    expected = {org_small.key(p) for p in range(org_small.size) if org_small.updated[p] >= cut}
    assert set(keys('updated >= "2026/11/01 10:00"')) == expected and expected
    day = datetime(2026, 11, 1, tzinfo=ZoneInfo("America/Los_Angeles")).timestamp()
    assert set(keys('updated >= "2026-11-01"')) == {org_small.key(p) for p in range(org_small.size)
                                                    if org_small.updated[p] >= day}
    r = http.get(cloud.url + "/rest/api/3/search/jql", params={"jql": "summary ~ hospital"})
    assert r.status_code == 400 and set(r.json()) == {"errorMessages", "errors"}


def test_changelog_over_100_is_capped_in_embed_but_complete_in_bulkfetch(cloud, http, org_small):
    big = [p for p in range(org_small.size) if len(org_small.histories(p)) > 100]
    assert len(big) >= 3
    ids = [str(org_small.issue_id(p)) for p in big]
    page = http.post(cloud.url + "/rest/api/3/search/jql", json={"jql": f"id in ({','.join(ids)})",
                                                                 "expand": "changelog", "fields": ["key"]}).json()
    for issue in page["issues"]:
        cl = issue["changelog"]
        assert len(cl["histories"]) == 100 < cl["total"]
    got: dict[str, list[str]] = {}
    token = None
    while True:
        body = {"issueIdsOrKeys": ids, "maxResults": 10000}
        if token:
            body["nextPageToken"] = token
        out = http.post(cloud.url + "/rest/api/3/changelog/bulkfetch", json=body).json()
        assert sum(len(x["changeHistories"]) for x in out["issueChangeLogs"]) <= 1000
        for x in out["issueChangeLogs"]:
            got.setdefault(x["issueId"], []).extend(h["id"] for h in x["changeHistories"])
        token = out.get("nextPageToken")
        if not token:
            break
    for p, iid in zip(big, ids):
        assert got[iid] == [str(org_small.HIST_BASE + h) for h in org_small.histories(p)]
    small = http.post(cloud.url + "/rest/api/3/changelog/bulkfetch",
                      json={"issueIdsOrKeys": ids[:1], "fieldIds": ["status"], "maxResults": 5}).json()
    assert all(h["items"][0]["field"] == "status" for x in small["issueChangeLogs"] for h in x["changeHistories"])
    r = http.post(cloud.url + "/rest/api/3/issue/bulkfetch", json={"issueIdsOrKeys": [str(i) for i in range(101)]})
    assert r.status_code == 400


def test_dc_embeds_full_changelog(dc, http, org_small):
    p = next(p for p in range(org_small.size) if len(org_small.histories(p)) > 100)
    body = http.get(dc.url + f"/rest/api/2/issue/{org_small.issue_id(p)}?expand=changelog&fields=").json()
    assert body["fields"] == {}
    assert len(body["changelog"]["histories"]) == body["changelog"]["total"] == len(org_small.histories(p))


def test_worklog_paging(org_default, http):
    org_small = org_default
    with serve(org_default) as cloud:
        _check_worklog_paging(cloud, http, org_small)


def _check_worklog_paging(cloud, http, org_small):
    since, seen = 0, []
    while True:
        page = http.get(cloud.url + "/rest/api/2/worklog/updated", params={"since": since}).json()
        assert len(page["values"]) <= 1000
        seen += [v["worklogId"] for v in page["values"]]
        if page["lastPage"]:
            break
        since = page["until"]
    assert len(seen) == len(set(seen)) == len(org_small.wl_issue) > 1000
    assert len(http.post(cloud.url + "/rest/api/2/worklog/list", json={"ids": seen[:1000]}).json()) == 1000
    assert http.post(cloud.url + "/rest/api/2/worklog/list", json={"ids": seen[:1001]}).status_code == 400
    teams = {org_small.key(org_small.wl_issue[w]).split("-")[0] for w in range(len(org_small.wl_issue))}
    assert teams <= {"PAY", "CLIN", "DATA", "SEC"}


def _statuses(url, n, endpoint="/rest/api/2/serverInfo"):
    out = []
    with session() as s:
        for _ in range(n):
            try:
                out.append(s.get(url + endpoint, timeout=5).status_code)
            except requests.exceptions.ConnectionError:
                out.append("reset")
    return out


def test_faults_are_deterministic_by_seed(org_small):
    runs = []
    for seed in (1, 1, 2):
        with serve(org_small, faults=Faults(seed=seed, error_5xx_rate=0.2, reset_rate=0.1)) as jira:
            runs.append(_statuses(jira.url, 60))
    assert runs[0] == runs[1] != runs[2]
    assert 503 in runs[0] and "reset" in runs[0] and 200 in runs[0]


def test_truncated_body(org_small, http):
    with serve(org_small, faults=Faults(seed=3, truncate_rate=1.0)) as jira:
        with pytest.raises(requests.exceptions.RequestException):
            http.get(jira.url + "/rest/api/2/field").json()


def test_rate_limit_429_with_retry_after(org_small, http):
    with serve(org_small, faults=Faults(rate_limit_per_s=2)) as jira:
        codes = [http.get(jira.url + "/rest/api/2/status") for _ in range(6)]
        limited = [r for r in codes if r.status_code == 429]
        assert limited and all(int(r.headers["Retry-After"]) >= 0 for r in limited)
        assert limited[0].json()["errorMessages"]
        stats = http.get(jira.url + "/_local/stats").json()
        assert stats["throttled_total"] == len(limited)


@pytest.mark.parametrize("flavour", ["cloud", "datacenter"])
def test_the_demo_credentials_are_required_by_default(org_small, flavour):
    basic, bearer = (DEMO_EMAIL, DEMO_TOKEN), {"Authorization": f"Bearer {DEMO_PAT}"}
    right, wrong = ({"auth": basic}, {"headers": bearer}) if flavour == "cloud" else ({"headers": bearer},
                                                                                      {"auth": basic})
    with LocalJira(org_small, flavour=flavour) as jira, requests.Session() as http:
        me = jira.url + "/rest/api/2/myself"
        assert http.get(me, **right).status_code == 200
        for attempt in ({}, wrong, {"auth": (DEMO_EMAIL, "not-the-token")},
                        {"headers": {"Authorization": "Bearer not-the-pat"}}):
            refused = http.get(me, **attempt)
            assert refused.status_code == 401, attempt
            assert refused.json()["errorMessages"] == ["Client must be authenticated to access this resource."]
        assert http.get(jira.url + "/_local/stats").status_code == 200  # the control endpoints need none


def test_other_credentials_and_no_credentials(org_small, http):
    with LocalJira(org_small, credentials=("me@x.example", "tok")) as jira:
        assert http.get(jira.url + "/rest/api/2/myself").status_code == 401
        assert http.get(jira.url + "/rest/api/2/myself", auth=("me@x.example", "bad")).status_code == 401
        assert http.get(jira.url + "/rest/api/2/myself", auth=("me@x.example", "tok")).status_code == 200
    with LocalJira(org_small, flavour="datacenter", credentials="pat") as jira:
        assert http.get(jira.url + "/rest/api/2/myself", headers={"Authorization": "Bearer pat"}).status_code == 200
    with LocalJira(org_small, require_auth=False) as jira:
        assert jira.credentials is None
        assert http.get(jira.url + "/rest/api/2/myself").status_code == 200
        assert http.get(jira.url + "/rest/api/2/myself", auth=("anyone", "anything")).status_code == 200
    with pytest.raises(ValueError, match="require_auth=False"):
        LocalJira(org_small, credentials="pat", require_auth=False)


def test_advance_creates_edits_deletes_and_moves(http):
    org = SampleOrg.generate(seed=11, issues=600)
    with serve(org) as jira:
        before = org.now
        out = http.post(jira.url + "/_local/advance", json={"days": 3, "seed": 1}).json()
        assert out["created"] and out["transitioned"] and out["edited"] and out["deleted"] and out["moved"]
        assert org.now > before
        gone = out["deleted"][0]
        assert http.get(jira.url + f"/rest/api/2/issue/{gone}").status_code == 404
        old, new = out["moved"][0]
        moved = http.get(jira.url + f"/rest/api/2/issue/{old}?fields=summary").json()
        assert moved["key"] == new
        since = before.astimezone(ZoneInfo("America/Los_Angeles")).strftime("%Y/%m/%d %H:%M")
        pages = _token_pages(http, jira.url, f'updated >= "{since}"', fields="key", maxResults=5000)
        changed = {i["key"] for p in pages for i in p["issues"]}
        assert set(out["created"]) <= changed and new in changed


def _defects_from_json(issues: list[dict], now: datetime) -> dict[str, list[str]]:
    """An independent reading of the defect definitions, from the served Cloud JSON only."""
    by_key = {i["key"]: i for i in issues}
    kids: dict[str, list[dict]] = {}
    for i in issues:
        f = i["fields"]
        p = f.get("parent")
        if f["issuetype"]["hierarchyLevel"] == 0 and p and p["fields"]["issuetype"]["hierarchyLevel"] == 1:
            kids.setdefault(p["key"], []).append(i)
    today = now.date().isoformat()
    truth = {}
    for i in issues:
        f = i["fields"]
        if f["issuetype"]["name"] != "Epic":
            continue
        d = []
        labels, comps = f["labels"], [c["name"] for c in f["components"]]
        init = f.get("parent")
        if not (init or any(label.startswith("pillar-") for label in labels) or f["customfield_10050"]
                or any(c in ("Enterprise hospitals", "Clinic retention", "New practices",
                             "Reliability & compliance") for c in comps)):
            d.append("no-pillar")
        if not (init or any(label.startswith("okr-") for label in labels) or any(c.startswith("OKR ") for c in comps)):
            d.append("no-okr")
        if f["assignee"] is None:
            d.append("no-owner")
        elif not f["assignee"]["active"]:
            d.append("owner-inactive")
        cat = f["status"]["statusCategory"]["key"]
        if not f["customfield_10023"]:
            d.append("no-target-date")
        elif cat != "done" and f["customfield_10023"] < today:
            d.append("target-date-passed")
        if cat == "indeterminate" and not f["customfield_10015"]:
            d.append("no-start-date-in-progress")
        desc = f["description"]
        words = sum(len(n["text"].split()) for b in (desc or {}).get("content", []) for n in b["content"])
        if words < 20:
            d.append("short-description")
        children = kids.get(i["key"], [])
        if not children:
            d.append("no-children")
        elif len(children) <= 2:
            d.append("few-children")
        open_kids = [c for c in children if c["fields"]["status"]["statusCategory"]["key"] != "done"]
        if cat == "done" and open_kids:
            d.append("done-with-open-children")
        if cat != "done" and children and not open_kids:
            d.append("all-children-done-epic-open")
        if cat == "indeterminate" and children:
            last = max((datetime.strptime(h["created"], "%Y-%m-%dT%H:%M:%S.%f%z")
                        for c in children for h in c["changelog"]["histories"]
                        if h["items"][0]["field"] == "status"), default=None)
            if last is None or (now - last).days >= 30 and (now - last).total_seconds() > 30 * 86400:
                d.append("stale")
        if not init:
            d.append("no-initiative")
        truth[i["key"]] = sorted(d)
    assert by_key
    return truth


def test_ground_truth_matches_the_served_data(cloud, http, org_small):
    issues = []
    for p in _token_pages(http, cloud.url, ALL + " ORDER BY id", fields="*all", expand="changelog",
                          maxResults=100):
        issues += p["issues"]
    assert _defects_from_json(issues, org_small.now) == org_small.ground_truth
    served = http.get(cloud.url + "/_local/ground-truth").json()
    assert served == org_small.ground_truth


def test_default_org_size_defects_and_determinism(org_default):
    assert org_default.size == 3000
    truth = org_default.ground_truth
    counts = {d: sum(d in v for v in truth.values()) for d in DEFECTS}
    assert all(counts[d] >= 3 for d in DEFECTS), counts
    assert all(counts[d] <= 0.25 * len(truth) for d in DEFECTS), counts
    assert sum(1 for v in truth.values() if not v) >= 0.2 * len(truth)
    assert sum(1 for p in range(org_default.size) if len(org_default.histories(p)) > 100) >= 3
    again = SampleOrg.generate(seed=7)
    assert again.ground_truth == truth
    assert again.h_ts == org_default.h_ts and again.updated == org_default.updated
    other = SampleOrg.generate(seed=8)
    assert other.updated != org_default.updated
    assert SampleOrg.generate(seed=7, issues=1000).size == 1000


def test_dc_links_through_epic_link_and_parent_link(dc, http, org_small):
    body = http.get(dc.url + "/rest/api/2/search", params={"jql": ALL, "maxResults": 1000}).json()
    by_key = {i["key"]: i["fields"] for i in body["issues"]}
    epics = {k for k, f in by_key.items() if f["issuetype"]["name"] == "Epic"}
    linked = [f["customfield_10100"] for f in by_key.values() if f.get("customfield_10100")]
    assert linked and {key for key in linked if key in by_key} <= epics
    assert any(key not in by_key for key in linked)  # stories pointing at a missing epic
    assert any(by_key[e]["customfield_10200"] for e in epics)
    # Data Center links only sub-tasks through ``parent``; epics and stories never carry it.
    subtasks = {k for k, f in by_key.items() if f["issuetype"]["subtask"]}
    assert subtasks and all(by_key[k]["parent"]["key"] in by_key for k in subtasks)
    assert all("parent" not in f for k, f in by_key.items() if k not in subtasks)
    assert all("hierarchyLevel" not in f["issuetype"] for f in by_key.values())


def test_cli_truth_and_help():
    runner = CliRunner()
    out = runner.invoke(localjira, ["truth", "--seed", "7", "--issues", "300"])
    assert out.exit_code == 0
    assert json.loads(out.output) == SampleOrg.generate(seed=7, issues=300).ground_truth
    help_ = runner.invoke(localjira, ["serve", "--help"])
    assert help_.exit_code == 0 and "rollup localjira serve" in help_.output


def test_every_history_belongs_to_exactly_one_issue_and_ends_at_its_status(org_small):
    """Epics get their status histories after their stories exist; they must still be the epic's own."""
    from rollup.localjira.sampledata import T_EPIC

    owner: dict[int, int] = {}
    for pos in range(org_small.size):
        for h in org_small.histories(pos):
            assert h not in owner, f"history {h} is served for issues {owner[h]} and {pos}"
            owner[h] = pos
    assert len(owner) == len(org_small.h_ts)
    epics_moved = 0
    for pos in range(org_small.size):
        statuses = [h for h in org_small.histories(pos) if org_small.h_kind[h] == 0]
        if statuses:
            assert org_small.h_to[statuses[-1]] == org_small.status[pos], org_small.key(pos)
            epics_moved += org_small.itype[pos] == T_EPIC
    assert epics_moved > 0
