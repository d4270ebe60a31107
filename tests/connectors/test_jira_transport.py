"""Transport: 429 pacing, retries of 5xx / resets / truncated bodies, auth errors without the token."""

from __future__ import annotations

import logging

import pytest
import requests
import responses
from jira_helpers import CLOUD_URL, DC_URL, SECRET, make_transport

from connectors.jira import JiraAuthError, JiraServerError
from connectors.jira.transport import EndpointPacer, endpoint_key

INFO = f"{CLOUD_URL}/rest/api/2/serverInfo"


@responses.activate
def test_429_with_retry_after_zero_then_success(cloud_settings, sleeps):
    t = make_transport(cloud_settings, sleeps)
    responses.get(INFO, status=429, headers={"Retry-After": "0"})
    responses.get(INFO, json={"deploymentType": "Cloud"})
    assert t.get("/rest/api/2/serverInfo") == {"deploymentType": "Cloud"}
    assert t.stats.throttled == 1 and t.stats.retries == 1 and t.stats.requests == 2
    ep = t.stats.by_endpoint["GET /rest/api/2/serverInfo"]
    assert (ep.requests, ep.throttled) == (2, 1)
    # Retry-After 0 still backs off a little (jitter), and the rate dropped.
    assert t.pacer("GET /rest/api/2/serverInfo").rate == pytest.approx(t.initial_rate * 0.7)


@responses.activate
def test_429_retry_after_is_a_minimum(cloud_settings, sleeps):
    t = make_transport(cloud_settings, sleeps)
    responses.get(INFO, status=429, headers={"Retry-After": "2"})
    responses.get(INFO, json={"ok": True})
    assert t.get("/rest/api/2/serverInfo") == {"ok": True}
    assert max(sleeps) >= 2.0, sleeps


@responses.activate
def test_5xx_then_success(cloud_settings, sleeps):
    t = make_transport(cloud_settings, sleeps)
    responses.get(INFO, status=503)
    responses.get(INFO, status=500)
    responses.get(INFO, json={"ok": 1})
    assert t.get("/rest/api/2/serverInfo") == {"ok": 1}
    assert t.stats.retries == 2 and t.stats.errors == 2


@responses.activate
def test_truncated_json_then_success(cloud_settings, sleeps):
    t = make_transport(cloud_settings, sleeps)
    responses.get(INFO, body='{"issues": [{"id": "1', status=200, content_type="application/json")
    responses.get(INFO, json={"issues": []})
    assert t.get("/rest/api/2/serverInfo") == {"issues": []}
    assert t.stats.retries == 1


@responses.activate
def test_connection_reset_then_success(cloud_settings, sleeps):
    t = make_transport(cloud_settings, sleeps)
    responses.get(INFO, body=requests.ConnectionError("Connection reset by peer"))
    responses.get(INFO, json={"ok": 1})
    assert t.get("/rest/api/2/serverInfo") == {"ok": 1}


@responses.activate
def test_gives_up_after_bounded_attempts(cloud_settings, sleeps):
    t = make_transport(cloud_settings, sleeps, max_attempts=3)
    responses.get(INFO, status=502)
    with pytest.raises(JiraServerError, match="3 attempts"):
        t.get("/rest/api/2/serverInfo")
    assert len(responses.calls) == 3


@responses.activate
def test_401_cloud_names_variables_and_hides_token(cloud_settings, sleeps, caplog):
    caplog.set_level(logging.DEBUG)
    t = make_transport(cloud_settings, sleeps)
    responses.get(INFO, status=401, body="Client must be authenticated")
    with pytest.raises(JiraAuthError) as exc:
        t.get("/rest/api/2/serverInfo")
    msg = str(exc.value)
    assert "JIRA_EMAIL" in msg and "JIRA_API_TOKEN" in msg and "401" in msg
    assert SECRET not in msg and SECRET not in repr(exc.value) and SECRET not in repr(t)
    assert SECRET not in caplog.text
    # It really was sent (Basic auth), only never shown.
    assert responses.calls[0].request.headers["Authorization"].startswith("Basic ")


@responses.activate
def test_403_dc_names_pat_and_hides_token(dc_settings, sleeps, caplog):
    caplog.set_level(logging.DEBUG)
    t = make_transport(dc_settings, sleeps)
    responses.get(f"{DC_URL}/rest/api/2/myself", status=403)
    with pytest.raises(JiraAuthError) as exc:
        t.get("/rest/api/2/myself")
    assert "JIRA_PAT" in str(exc.value) and exc.value.status == 403
    assert SECRET not in str(exc.value) and SECRET not in caplog.text
    assert responses.calls[0].request.headers["Authorization"] == f"Bearer {SECRET}"


def test_pacer_aimd():
    now = [0.0]
    waits = []
    p = EndpointPacer(10.0, clock=lambda: now[0], sleep=waits.append, increase=1.0, increase_after=3)
    p.acquire()
    p.acquire()
    assert waits == [pytest.approx(0.1)]
    p.throttled(2.0)
    assert p.rate == pytest.approx(7.0)
    p.acquire()
    assert waits[-1] >= 2.0
    for _ in range(3):
        p.success()
    assert p.rate == pytest.approx(8.0)


def test_endpoint_key_groups_ids():
    assert endpoint_key("get", "/rest/api/2/issue/10042") == "GET /rest/api/2/issue/{id}"
    assert endpoint_key("GET", "rest/api/2/issue/ABC-12?expand=changelog") == "GET /rest/api/2/issue/{id}"
