"""JiraWriter: label and comment requests in the shapes the Jira specs define, on Cloud (v3, ADF) and
Data Center (v2, wiki text); PUT/DELETE through the paced, retrying transport; errors kept per call."""

from __future__ import annotations

import json

import pytest
import responses
from jira_helpers import CLOUD_URL, DC_URL, SECRET, sample
from responses import matchers
from shared_dir import shared_dir

from connectors.jira import JiraHTTPError, JiraNotFoundError, JiraServerError
from connectors.jira.transport import Transport
from connectors.jira.write import IssueComment, JiraWriter, comment_adf, comment_wiki

BLOCKS = ["Heading line", "Intro {not a macro}", ["first item", "second [not a link]"], "Footer"]


def writer(settings, sleeps) -> JiraWriter:
    return JiraWriter(settings, transport=Transport(settings, sleep=sleeps, backoff_base=0.01, max_attempts=3))


def _spec(name: str) -> dict:
    path = shared_dir() / "jira-spec" / name
    if not path.exists():
        pytest.fail(f"Jira OpenAPI spec {path} is missing: restore the shared jira-spec folder (or ROLLUP_SHARED_DIR).")
    return json.loads(path.read_text())


@responses.activate
def test_cloud_labels_are_put_to_v3_as_update_operations(cloud_settings, sleeps):
    responses.put(f"{CLOUD_URL}/rest/api/3/issue/PAY-1", status=204,
                  match=[matchers.json_params_matcher({"update": {"labels": [{"add": "rollup-lint"}]}})])
    responses.put(f"{CLOUD_URL}/rest/api/3/issue/10001", status=204,
                  match=[matchers.json_params_matcher({"update": {"labels": [{"remove": "rollup-lint"}]}})])
    w = writer(cloud_settings, sleeps)
    assert w.add_label("PAY-1", "rollup-lint") is None
    assert w.remove_label(10001, "rollup-lint") is None
    assert [c.request.method for c in responses.calls] == ["PUT", "PUT"]
    assert w.stats.by_endpoint["PUT /rest/api/3/issue/{id}"].requests == 2


def test_label_update_matches_the_spec_example():
    """The spec's own IssueUpdateDetails example uses exactly this operation list shape."""
    for name, version in (("cloud-platform-v3.json", 3), ("cloud-platform-v2.json", 2)):
        op = _spec(name)["paths"][f"/rest/api/{version}/issue/{{issueIdOrKey}}"]["put"]
        example = op["requestBody"]["content"]["application/json"]["example"]
        assert example["update"]["labels"] == [{"add": "triaged"}, {"remove": "blocker"}]
        assert "204" in op["responses"]


@responses.activate
def test_dc_comment_round_trip_uses_v2_and_wiki_text(dc_settings, sleeps):
    base = f"{DC_URL}/rest/api/2/issue/10002/comment"
    posted = sample("server-jira-ruby/issue/10002/comment.post.json")
    responses.post(base, status=201, json=posted,
                   match=[matchers.json_params_matcher({"body": comment_wiki(BLOCKS)})])
    responses.put(f"{base}/10001", json=sample("server-jira-ruby/issue/10002/comment/10000.put.json"))
    responses.delete(f"{base}/10001", status=204)
    w = writer(dc_settings, sleeps)
    made = w.add_comment(10002, BLOCKS)
    assert made == IssueComment("10001", "new comment")
    assert w.update_comment(10002, "10001", BLOCKS).text == "new body"
    assert w.delete_comment(10002, "10001") is None
    assert [c.request.method for c in responses.calls] == ["POST", "PUT", "DELETE"]
    assert comment_wiki(BLOCKS) == ("Heading line\n\nIntro \\{not a macro\\}\n\n* first item\n"
                                    "* second \\[not a link\\]\n\nFooter")


@responses.activate
def test_dc_comments_are_read_page_by_page(dc_settings, sleeps):
    base = f"{DC_URL}/rest/api/2/issue/10002/comment"
    page = sample("server-jira-ruby/issue/10002/comment.json")
    first, second = dict(page, maxResults=1, total=2, comments=page["comments"][:1]), \
        dict(page, startAt=1, maxResults=1, total=2, comments=page["comments"][1:])
    responses.get(base, json=first, match=[matchers.query_param_matcher({"startAt": "0", "maxResults": "100",
                                                                        "orderBy": "created"})])
    responses.get(base, json=second, match=[matchers.query_param_matcher({"startAt": "1", "maxResults": "1",
                                                                         "orderBy": "created"})])
    got = writer(dc_settings, sleeps).comments(10002)
    assert [(c.id, c.text) for c in got] == [("10000", "This is a comment. Creative."), ("10001", "new comment")]


@responses.activate
def test_cloud_comment_body_is_adf_and_read_back_as_text(cloud_settings, sleeps):
    base = f"{CLOUD_URL}/rest/api/3/issue/PAY-7/comment"
    adf = comment_adf(BLOCKS)
    responses.post(base, status=201, json={"id": "10500", "body": adf},
                   match=[matchers.json_params_matcher({"body": adf})])
    example = json.loads(_spec("cloud-platform-v3.json")["paths"]["/rest/api/3/issue/{issueIdOrKey}/comment"]["get"]
                         ["responses"]["200"]["content"]["application/json"]["example"])
    responses.get(base, json=example)
    w = writer(cloud_settings, sleeps)
    made = w.add_comment("PAY-7", BLOCKS)
    assert made.id == "10500"
    assert made.text.splitlines()[0] == "Heading line" and made.first_line == "Heading line"
    assert "first item" in made.text and "second [not a link]" in made.text
    assert adf["type"] == "doc" and adf["content"][2]["type"] == "bulletList"
    assert adf["content"][2]["content"][0] == {"type": "listItem", "content": [
        {"type": "paragraph", "content": [{"type": "text", "text": "first item"}]}]}
    listed = w.comments("PAY-7")
    assert [c.id for c in listed] == ["10000"] and listed[0].text.startswith("Lorem ipsum")


@responses.activate
def test_429_on_a_write_is_waited_out_and_retried(cloud_settings, sleeps):
    url = f"{CLOUD_URL}/rest/api/3/issue/PAY-1"
    responses.put(url, status=429, headers={"Retry-After": "3"})
    responses.put(url, status=204)
    w = writer(cloud_settings, sleeps)
    w.add_label("PAY-1", "rollup-lint")
    assert max(sleeps) >= 3 and w.stats.throttled == 1 and len(responses.calls) == 2


@responses.activate
def test_a_bad_request_names_jiras_own_reason(cloud_settings, sleeps):
    responses.put(f"{CLOUD_URL}/rest/api/3/issue/PAY-1", status=400,
                  json={"errorMessages": [], "errors": {"labels": "The label 'a b' contains spaces which is invalid."}})
    with pytest.raises(JiraHTTPError) as err:
        writer(cloud_settings, sleeps).add_label("PAY-1", "a b")
    assert err.value.status == 400 and "contains spaces" in str(err.value)
    assert SECRET not in str(err.value)


@responses.activate
def test_server_errors_are_retried_then_raised(cloud_settings, sleeps):
    responses.put(f"{CLOUD_URL}/rest/api/3/issue/PAY-1", status=500)
    with pytest.raises(JiraServerError):
        writer(cloud_settings, sleeps).add_label("PAY-1", "rollup-lint")
    assert len(responses.calls) == 3


@responses.activate
def test_deleting_a_comment_that_is_already_gone_counts_as_deleted(cloud_settings, sleeps):
    responses.delete(f"{CLOUD_URL}/rest/api/3/issue/PAY-1/comment/10001", status=404,
                     json={"errorMessages": ["Can not find a comment for the id: 10001."], "errors": {}})
    responses.get(f"{CLOUD_URL}/rest/api/3/issue/PAY-1", json={"id": "10001", "key": "PAY-1", "fields": {}})
    writer(cloud_settings, sleeps).delete_comment("PAY-1", "10001")
    responses.delete(f"{CLOUD_URL}/rest/api/3/issue/PAY-9/comment/10001", status=404, json={"errorMessages": ["x"]})
    responses.get(f"{CLOUD_URL}/rest/api/3/issue/PAY-9", status=404, json={"errorMessages": ["gone"]})
    with pytest.raises(JiraNotFoundError):
        writer(cloud_settings, sleeps).delete_comment("PAY-9", "10001")


@responses.activate
def test_deployment_is_asked_once_when_not_configured(sleeps):
    from connectors.jira import JiraSettings

    settings = JiraSettings.from_env({"JIRA_URL": DC_URL, "JIRA_PAT": SECRET}, use_keyring=False)
    responses.get(f"{DC_URL}/rest/api/2/serverInfo", json={"deploymentType": "Server"})
    responses.put(f"{DC_URL}/rest/api/2/issue/SEC-1", status=204)
    w = writer(settings, sleeps)
    w.add_label("SEC-1", "x")
    w.add_label("SEC-1", "y")
    assert w.api == 2 and len(responses.calls) == 3
    assert SECRET not in repr(w) and SECRET not in repr(w.transport)
