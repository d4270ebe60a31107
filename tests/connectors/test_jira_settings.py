"""JiraSettings: environment, keyring fallback, clear errors, secrets never shown."""

from __future__ import annotations

import pytest
from jira_helpers import SECRET

from connectors.jira import JiraConfigError, JiraSettings
from connectors.jira import settings as settings_mod


def test_cloud_from_env_never_shows_the_token():
    s = JiraSettings.from_env(
        {"JIRA_URL": "https://acme.atlassian.net/", "JIRA_EMAIL": "a@b.c", "JIRA_API_TOKEN": SECRET}, use_keyring=False
    )
    assert s.url == "https://acme.atlassian.net"
    assert s.uses_basic_auth and s.api_token.get_secret_value() == SECRET
    assert SECRET not in repr(s) and SECRET not in str(s) and SECRET not in s.model_dump_json()


def test_dc_pat_and_deployment_override():
    s = JiraSettings.from_env({"JIRA_URL": "https://jira.x", "JIRA_PAT": SECRET, "JIRA_DEPLOYMENT": "DataCenter"},
                              use_keyring=False)
    assert s.deployment == "datacenter" and not s.uses_basic_auth and s.credential_variables == "JIRA_PAT"


def test_missing_url_and_credentials_name_the_variables():
    with pytest.raises(JiraConfigError) as exc:
        JiraSettings.from_env({}, use_keyring=False)
    msg = str(exc.value)
    for name in ("JIRA_URL", "JIRA_EMAIL", "JIRA_API_TOKEN", "JIRA_PAT"):
        assert name in msg


def test_email_without_token_says_so():
    with pytest.raises(JiraConfigError, match="JIRA_API_TOKEN"):
        JiraSettings.from_env({"JIRA_URL": "https://x.atlassian.net", "JIRA_EMAIL": "a@b.c"}, use_keyring=False)


def test_bad_deployment_value():
    with pytest.raises(JiraConfigError, match="JIRA_DEPLOYMENT"):
        JiraSettings.from_env({"JIRA_URL": "https://x", "JIRA_PAT": "p", "JIRA_DEPLOYMENT": "onprem"},
                              use_keyring=False)


def test_keyring_fallback(monkeypatch):
    stored = {("jira-portfolio-rollup", "api_token"): SECRET}
    import keyring

    monkeypatch.setattr(keyring, "get_password", lambda service, user: stored.get((service, user)))
    s = JiraSettings.from_env({"JIRA_URL": "https://x.atlassian.net", "JIRA_EMAIL": "a@b.c"})
    assert s.api_token.get_secret_value() == SECRET


def test_keyring_failure_is_ignored(monkeypatch):
    import keyring

    def boom(*a):
        raise RuntimeError("no backend")

    monkeypatch.setattr(keyring, "get_password", boom)
    with pytest.raises(JiraConfigError, match="JIRA_PAT"):
        JiraSettings.from_env({"JIRA_URL": "https://x"})
    assert settings_mod._from_keyring("pat") is None


@pytest.mark.parametrize("url", ["https://me:hunter2@acme.atlassian.net", "htps://me:hunter2@x"])
def test_credentials_inside_the_url_are_refused_without_echoing_them(url):
    with pytest.raises(JiraConfigError) as caught:
        JiraSettings.from_env({"JIRA_URL": url, "JIRA_EMAIL": "a@b", "JIRA_API_TOKEN": "t"}, use_keyring=False)
    message = str(caught.value)
    assert "hunter2" not in message and "input_value" not in message
    assert "must not contain a user name or password" in message and "JIRA_API_TOKEN" in message


@pytest.mark.parametrize("name, value, message", [
    ("JIRA_TIMEOUT", "-1", "JIRA_TIMEOUT must be a number of seconds greater than 0 (e.g. 60), got '-1'"),
    ("JIRA_TIMEOUT", "0", "JIRA_TIMEOUT must be a number of seconds greater than 0"),
    ("JIRA_TIMEOUT", "abc", "JIRA_TIMEOUT must be a number of seconds greater than 0 (e.g. 60), got 'abc'"),
    ("JIRA_TIMEOUT", "nan", "JIRA_TIMEOUT must be a number of seconds"),
    ("JIRA_VERIFY_SSL", "maybe",
     "JIRA_VERIFY_SSL must be true or false (true/yes/on/1 or false/no/off/0), got 'maybe'"),
])
def test_malformed_timeout_and_verify_ssl_name_the_variable(name, value, message):
    with pytest.raises(JiraConfigError) as exc:
        JiraSettings.from_env({"JIRA_URL": "https://x", "JIRA_PAT": SECRET, name: value}, use_keyring=False)
    assert message in str(exc.value) and SECRET not in str(exc.value)


def test_timeout_and_verify_ssl_words_are_read():
    s = JiraSettings.from_env({"JIRA_URL": "https://x", "JIRA_PAT": "p", "JIRA_TIMEOUT": "12.5",
                               "JIRA_VERIFY_SSL": "Off"}, use_keyring=False)
    assert s.timeout == 12.5 and s.verify_ssl is False
