"""Site addresses, checked the same way wherever one is configured (``JIRA_URL``, a ``sites:`` entry).

A module of its own, importing nothing of the connector: reading ``mappings.yaml`` checks its sites'
addresses without loading the Jira client.
"""

from __future__ import annotations

from urllib.parse import urlsplit


def site_url(value: str, subject: str, credentials_hint: str) -> str:
    """A Jira site's address, without a trailing slash; ValueError when it is not an http(s) address or holds
    a user name or password (the message never echoes such a value). ``subject`` starts the message
    ("JIRA_URL must"), ``credentials_hint`` says where credentials go instead."""
    value = value.strip().rstrip("/")
    parts = urlsplit(value)
    if parts.username is not None or parts.password is not None:
        raise ValueError(f"{subject} not contain a user name or password; {credentials_hint}")
    if parts.scheme not in ("http", "https") or not parts.hostname or any(c.isspace() for c in value):
        raise ValueError(f"{subject} be an http:// or https:// address, got {value!r}")
    return value
