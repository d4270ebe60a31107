"""Transport: 429 pacing, retries of 5xx / resets / truncated bodies, auth errors without the token."""

from __future__ import annotations

import http.server
import logging
import socket
import ssl
import subprocess
import threading
import time

import pytest
import requests
import responses
from jira_helpers import CLOUD_URL, DC_URL, SECRET, make_transport

from connectors.jira import JiraAuthError, JiraServerError, JiraSettings, Transport, checks
from connectors.jira.errors import JiraAnswerError, JiraThrottledError, JiraUnreachableError
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


# ---------------------------------------------------------------------------------------- odd answers


@responses.activate
def test_empty_200_body_is_retried_not_read_as_an_empty_page(cloud_settings, sleeps):
    url = f"{CLOUD_URL}/rest/api/3/search/jql"
    responses.get(url, body="", status=200)
    responses.get(url, json={"issues": [], "isLast": True})
    t = make_transport(cloud_settings, sleeps)
    assert t.get("/rest/api/3/search/jql") == {"issues": [], "isLast": True}
    assert t.stats.retries == 1 and len(responses.calls) == 2


@responses.activate
def test_an_answer_failing_its_check_is_retried_then_fails_loudly_saying_what_came_back(cloud_settings, sleeps):
    responses.post(f"{CLOUD_URL}/rest/api/3/issue/bulkfetch", json={"issues": [{"id": "7"}], "issueErrors": []})
    t = make_transport(cloud_settings, sleeps)
    with pytest.raises(JiraAnswerError) as err:
        t.post("/rest/api/3/issue/bulkfetch", {"issueIdsOrKeys": ["1", "2"]}, check=checks.bulk_issues([1, 2]))
    message = str(err.value)
    assert "issues other than those asked" in message and "Asked: 2 id(s): 1, 2" in message and "Got:" in message
    assert len(responses.calls) == 4  # max_attempts, then loudly


@responses.activate
def test_an_empty_field_list_is_refused(cloud_settings, sleeps):
    responses.get(f"{CLOUD_URL}/rest/api/2/field", json=[])
    t = make_transport(cloud_settings, sleeps)
    with pytest.raises(JiraAnswerError, match="without summary, status, issuetype"):
        t.get("/rest/api/2/field", check=checks.field_list)


@responses.activate
def test_retry_after_beyond_the_cap_fails_at_once_with_the_setting_named(cloud_settings, sleeps):
    responses.get(f"{CLOUD_URL}/rest/api/2/serverInfo", status=429, headers={"Retry-After": "3600"})
    t = make_transport(cloud_settings, sleeps, max_retry_after=120)
    with pytest.raises(JiraThrottledError, match=r"wait 3600 s .*120 s .*sync.max_retry_after_seconds"):
        t.get("/rest/api/2/serverInfo")
    assert sleeps == [] and len(responses.calls) == 1  # no silent hour-long sleep


@responses.activate
def test_a_long_retry_after_within_the_cap_is_said_on_stderr(cloud_settings, sleeps, caplog):
    url = f"{CLOUD_URL}/rest/api/2/serverInfo"
    responses.get(url, status=429, headers={"Retry-After": "20"})
    responses.get(url, json={"ok": True})
    t = make_transport(cloud_settings, sleeps, max_retry_after=120)
    with caplog.at_level("WARNING"):
        assert t.get("/rest/api/2/serverInfo") == {"ok": True}
    assert any("waiting 20 s" in r.getMessage() and "GET /rest/api/2/serverInfo" in r.getMessage()
               and "Retry-After 20" in r.getMessage() for r in caplog.records)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.parametrize(("url", "cause"), [
    (f"http://127.0.0.1:{_free_port()}", "connection was refused"),
    ("http://no-such-host.invalid", "host name could not be resolved"),
])
def test_an_unreachable_site_fails_fast_naming_the_url_and_the_cause(url, cause):
    settings = JiraSettings(url=url, pat="x", deployment="datacenter", timeout=5)
    t = Transport(settings, backoff_base=0.5)
    began = time.monotonic()
    with pytest.raises(JiraUnreachableError) as err:
        t.get("/rest/api/2/serverInfo")
    assert time.monotonic() - began < 5
    assert url in str(err.value) and cause in str(err.value) and "overloaded" not in str(err.value)


def test_a_bad_tls_certificate_names_the_ca_bundle_setting(tmp_path):
    """A real TLS server on loopback with a self-signed certificate the client does not trust."""
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out", str(cert),
                    "-days", "1", "-subj", "/CN=localhost"], check=True, capture_output=True)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    server = http.server.HTTPServer(("127.0.0.1", 0), http.server.BaseHTTPRequestHandler)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        url = f"https://127.0.0.1:{server.server_address[1]}"
        t = Transport(JiraSettings(url=url, pat="x", deployment="datacenter", timeout=5))
        began = time.monotonic()
        with pytest.raises(JiraUnreachableError) as err:
            t.get("/rest/api/2/serverInfo")
        assert time.monotonic() - began < 5
        assert "TLS certificate" in str(err.value) and "JIRA_CA_BUNDLE" in str(err.value) \
            and "JIRA_VERIFY_SSL=false" in str(err.value)
    finally:
        server.shutdown()


def test_a_timeout_below_a_second_is_kept_as_given(cloud_settings):
    """atlassian-python-api rounds the timeout to whole seconds; 0.5 s must not become 0 (refused by requests)."""
    settings = cloud_settings.model_copy(update={"timeout": 0.5})
    client = Transport(settings)._client()
    assert client.timeout == 0.5


@responses.activate
def test_bodies_the_fast_json_reader_refuses_are_read_as_json_reads_them(cloud_settings, sleeps):
    """Answers are decoded from bytes by orjson; what it refuses but JSON allows is still read, not retried:
    a lone surrogate escape (a summary cut mid-emoji by another tool)."""
    t = make_transport(cloud_settings, sleeps)
    surrogate = '{"summary": "cut \\ud83d here", "id": "1"}'
    responses.get(INFO, body=surrogate, status=200, content_type="application/json")
    assert t.get("/rest/api/2/serverInfo") == {"summary": "cut \ud83d here", "id": "1"}
    responses.get(INFO, body='{"summary": "Café crème ✓"}'.encode(), status=200, content_type="application/json")
    assert t.get("/rest/api/2/serverInfo") == {"summary": "Café crème ✓"}
    assert t.stats.retries == 0 and t.stats.errors == 0
    # Not JSON at all is still a bad answer, retried and then refused.
    responses.get(INFO, body="<html>proxy error</html>", status=200, content_type="text/html")
    with pytest.raises(JiraServerError, match="invalid JSON body"):
        t.get("/rest/api/2/serverInfo")
