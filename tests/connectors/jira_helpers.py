"""Shared fixtures for the Jira connector tests."""

from __future__ import annotations

import json

import pytest
from shared_dir import shared_dir

from connectors.jira import JiraConnector, JiraSettings, Transport

SHARED = shared_dir()
SAMPLES = SHARED / "jira-samples"
CLOUD_URL = "https://acme.atlassian.net"
DC_URL = "https://jira.acme.example"
SECRET = "tok-SUPER-secret-123"


def sample(rel: str):
    """Load one recorded Jira response; FAIL (never skip) when the shared samples are missing."""
    path = SAMPLES / rel
    if not path.exists():
        pytest.fail(
            f"Recorded Jira sample {path} is missing: these tests need the shared jira-samples "
            "(real Cloud and Server responses) beside the checkout, or ROLLUP_SHARED_DIR. "
            "Restore it before running tests/connectors."
        )
    return json.loads(path.read_text())


class Sleeps(list):
    """A stand-in for time.sleep that records how long it was asked to wait."""

    def __call__(self, seconds: float) -> None:
        self.append(seconds)


@pytest.fixture
def sleeps() -> Sleeps:
    return Sleeps()


@pytest.fixture
def cloud_settings() -> JiraSettings:
    return JiraSettings.from_env(
        {"JIRA_URL": CLOUD_URL, "JIRA_EMAIL": "bot@acme.test", "JIRA_API_TOKEN": SECRET, "JIRA_DEPLOYMENT": "cloud"},
        use_keyring=False,
    )


@pytest.fixture
def dc_settings() -> JiraSettings:
    return JiraSettings.from_env(
        {"JIRA_URL": DC_URL, "JIRA_PAT": SECRET, "JIRA_DEPLOYMENT": "datacenter"}, use_keyring=False
    )


def make_transport(settings: JiraSettings, sleeps: Sleeps, **kw) -> Transport:
    kw.setdefault("backoff_base", 0.01)
    kw.setdefault("max_attempts", 4)
    return Transport(settings, sleep=sleeps, **kw)


@pytest.fixture
def cloud(cloud_settings, sleeps) -> JiraConnector:
    conn = JiraConnector(cloud_settings, max_workers=2, transport=make_transport(cloud_settings, sleeps))
    yield conn
    conn.close()


@pytest.fixture
def dc(dc_settings, sleeps) -> JiraConnector:
    conn = JiraConnector(dc_settings, max_workers=2, transport=make_transport(dc_settings, sleeps))
    yield conn
    conn.close()
