"""Fixtures for the Jira connector tests (helpers live in jira_helpers.py)."""

from jira_helpers import cloud, cloud_settings, dc, dc_settings, sleeps  # noqa: F401 - fixtures
