"""Errors raised by the Jira connector. Each message says what was wrong and what to do."""

from __future__ import annotations


class JiraError(Exception):
    """Base class of every error the Jira connector raises."""


class JiraConfigError(JiraError):
    """The connector is not configured: a variable is missing or malformed."""


class JiraAuthError(JiraError):
    """Jira refused the credentials (401) or the permission (403)."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


class JiraHTTPError(JiraError):
    """Jira answered with an error status the connector cannot recover from."""

    def __init__(self, message: str, status: int | None = None, endpoint: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.endpoint = endpoint


class JiraNotFoundError(JiraHTTPError):
    """Jira answered 404: the issue (or resource) does not exist or is not visible."""


class JiraServerError(JiraHTTPError):
    """Jira kept failing (5xx, resets, truncated bodies, throttling) after every retry."""


class JiraPaginationError(JiraError):
    """A paged endpoint misbehaved, e.g. handed back a token it had already given."""


class JiraFieldError(JiraError):
    """A field role could not be resolved to exactly one Jira field."""
