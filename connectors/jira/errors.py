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


class JiraUnreachableError(JiraError):
    """Jira cannot be reached at all: the connection is refused, the host is unknown, or TLS fails.

    Not retried as overload: the message names the URL, the cause and what to change.
    """


class JiraThrottledError(JiraServerError):
    """Jira asked to wait (``Retry-After``) longer than the configured cap."""


class JiraAnswerError(JiraServerError):
    """Jira kept answering something that cannot be believed (empty, wrong shape, other ids than asked)."""


class JiraIncompleteError(JiraError):
    """A read could not be proven complete (e.g. fewer issues than the server's own count)."""


class BadAnswer(Exception):
    """Raised by an answer check: this answer is not to be believed; the request is retried.

    ``problem`` says what is wrong in words; ``asked`` and ``got`` summarise the request and the
    answer for the final error message (ids and counts, never issue content).
    """

    def __init__(self, problem: str, *, asked: str = "", got: str = "") -> None:
        super().__init__(problem)
        self.problem = problem
        self.asked = asked
        self.got = got


class JiraFieldError(JiraError):
    """A field role could not be resolved to exactly one Jira field."""
