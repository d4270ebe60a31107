"""The TLS check against the local Jira served over https with a self-signed certificate: untrusted,
trusted through JIRA_CA_BUNDLE, verification off, a certificate about to expire; plain http."""

from __future__ import annotations

import ssl
from contextlib import contextmanager

import pytest
from doctor_helpers import doctor
from tls_helpers import self_signed

from rollup.doctor import DoctorOptions
from rollup.doctor.jira import tls
from rollup.doctor.model import Context
from rollup.localjira import LocalJira
from rollup.localjira.credentials import DEMO_EMAIL, DEMO_PAT, DEMO_TOKEN


@contextmanager
def https_jira(site, cert_file, key_file):
    """The site's organisation served over https (the local Jira's socket wrapped in TLS)."""
    credentials = (DEMO_EMAIL, DEMO_TOKEN) if site.flavour == "cloud" else DEMO_PAT
    server = LocalJira(site.org, flavour=site.flavour, credentials=credentials)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert_file, key_file)
    server._httpd.socket = context.wrap_socket(server._httpd.socket, server_side=True)
    with server:
        yield f"https://127.0.0.1:{server.port}"


@pytest.fixture
def https(project, tmp_path, monkeypatch):
    """start(days): the site over https with a certificate valid ``days``; JIRA_URL points at it."""
    servers = []

    def start(days: float = 90):
        folder = tmp_path / f"tls-{len(servers)}"
        folder.mkdir()
        cert_file, key_file = self_signed(folder, days=days)
        server = https_jira(project.site, cert_file, key_file)
        url = server.__enter__()
        servers.append(server)
        monkeypatch.setenv("JIRA_URL", url)
        return url, cert_file

    yield start
    for server in servers:
        server.__exit__(None, None, None)


def test_a_certificate_no_bundle_trusts_fails_and_names_the_setting(https):
    url, _ = https()
    report = doctor()
    assert report.status("tls") == "fail"
    assert report.detail("tls").startswith("the certificate of 127.0.0.1:")
    assert "is not trusted by the default CA bundle (certifi)" in report.detail("tls")
    assert "JIRA_CA_BUNDLE" in report.checks["tls"]["todo"]
    assert report.status("jira") == "fail"
    assert f"Cannot reach Jira at {url}" in report.detail("jira") and "TLS" in report.detail("jira")
    assert "JIRA_CA_BUNDLE" in report.checks["jira"]["todo"]


def test_the_bundle_named_by_jira_ca_bundle_makes_it_ok(https, monkeypatch):
    url, cert_file = https()
    monkeypatch.setenv("JIRA_CA_BUNDLE", str(cert_file))
    report = doctor()
    assert report.status("tls") == "ok", report.not_ok()
    assert report.detail("tls").startswith(f"https verified with JIRA_CA_BUNDLE={cert_file}: TLSv1.")
    assert "(89 days)" in report.detail("tls") or "(90 days)" in report.detail("tls")
    assert report.status("jira") == "ok" and f"{url} answers" in report.detail("jira")


@pytest.mark.filterwarnings("ignore::urllib3.exceptions.InsecureRequestWarning")
def test_verification_off_is_a_warning_though_jira_answers(https, monkeypatch):
    https()
    monkeypatch.setenv("JIRA_VERIFY_SSL", "false")
    report = doctor()
    assert report.status("tls") == "warn"
    assert report.detail("tls").startswith("https without certificate verification (JIRA_VERIFY_SSL=false)")
    assert report.status("jira") == "ok"


def test_a_certificate_about_to_expire_is_a_warning(https, monkeypatch):
    _, cert_file = https(days=5)
    monkeypatch.setenv("JIRA_CA_BUNDLE", str(cert_file))
    report = doctor()
    assert report.status("tls") == "warn" and "days)" in report.detail("tls")
    assert "expires soon" in report.checks["tls"]["todo"]


def test_a_ca_bundle_that_is_not_a_file_fails(https, monkeypatch, tmp_path):
    https()
    monkeypatch.setenv("JIRA_CA_BUNDLE", str(tmp_path / "no-such-ca.pem"))
    report = doctor()
    assert report.status("tls") == "fail"
    assert report.detail("tls") == f"JIRA_CA_BUNDLE={tmp_path / 'no-such-ca.pem'} is not a file"
    assert report.status("jira") == "fail" and "no-such-ca.pem" in report.detail("jira")


@pytest.mark.parametrize(("url", "status", "detail"), [
    ("http://127.0.0.1:8080", "ok", "plain http to 127.0.0.1, a loopback address: nothing leaves this machine"),
    ("http://localhost:8080", "ok", "plain http to localhost, a loopback address: nothing leaves this machine"),
    ("http://jira.acme.example", "warn", "http://jira.acme.example is plain http: the credentials cross the network "
                                         "unencrypted"),
])
def test_plain_http_is_fine_on_loopback_only(url, status, detail):
    env = {"JIRA_URL": url, "JIRA_PAT": "x"}
    [line] = tls.run(Context(DoctorOptions(env=env)))
    assert (line.status, line.detail) == (status, detail)
