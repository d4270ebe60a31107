"""The sample organisation's demo credentials: what the local Jira requires unless told otherwise.

Jira Cloud authenticates an API client with HTTP Basic (account email and API token), Data Center
with a Bearer personal access token; the local Jira does the same with these fixed, public values.
They are demo values, not secrets: the README prints them, and ``rollup localjira serve`` echoes
them as the ``JIRA_*`` variables to export.

    from rollup.localjira.credentials import demo_environment
    env = demo_environment("http://127.0.0.1:8089", "cloud")   # JIRA_URL, JIRA_EMAIL, JIRA_API_TOKEN, …
"""

from __future__ import annotations

import base64

#: The Jira Cloud account email of the demo user.
DEMO_EMAIL = "demo@clinicloud.example"
#: The demo user's Jira Cloud API token.
DEMO_TOKEN = "local-demo-token"
#: The demo user's Jira Data Center personal access token.
DEMO_PAT = "local-demo-pat"

#: The two flavours of Jira the local Jira plays.
FLAVOURS = ("cloud", "datacenter")


def _check(flavour: str) -> None:
    if flavour not in FLAVOURS:
        raise ValueError(f"flavour must be 'cloud' or 'datacenter', not {flavour!r}")


def demo_credentials(flavour: str) -> tuple[str, str] | str:
    """What the local Jira of ``flavour`` requires: ``(email, api token)`` for Cloud, the PAT for Data Center."""
    _check(flavour)
    return (DEMO_EMAIL, DEMO_TOKEN) if flavour == "cloud" else DEMO_PAT


def demo_environment(url: str, flavour: str) -> dict[str, str]:
    """The ``JIRA_*`` variables that point ``rollup sync`` at the local Jira of ``flavour`` at ``url``."""
    _check(flavour)
    env = {"JIRA_URL": url}
    if flavour == "cloud":
        env.update(JIRA_EMAIL=DEMO_EMAIL, JIRA_API_TOKEN=DEMO_TOKEN)
    else:
        env["JIRA_PAT"] = DEMO_PAT
    env["JIRA_DEPLOYMENT"] = flavour
    return env


def authorization(credentials: tuple[str, str] | str) -> str:
    """The ``Authorization`` header value for ``credentials``: Basic for ``(email, token)``, Bearer for a PAT."""
    if isinstance(credentials, tuple):
        return "Basic " + base64.b64encode(":".join(credentials).encode()).decode()
    return f"Bearer {credentials}"
