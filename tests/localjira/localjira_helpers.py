"""Local Jira servers for these tests, and a requests auth that sends each the credentials it requires."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import requests

from rollup.localjira import LocalJira, SampleOrg
from rollup.localjira.credentials import authorization

#: The servers started by :func:`serve`, by URL.
RUNNING: dict[str, LocalJira] = {}


@contextmanager
def serve(org: SampleOrg, **options: Any) -> Iterator[LocalJira]:
    """A running :class:`LocalJira` (``options`` as its constructor takes them) that :class:`RunningJiraAuth` knows."""
    with LocalJira(org, **options) as jira:
        RUNNING[jira.url] = jira
        try:
            yield jira
        finally:
            RUNNING.pop(jira.url, None)


class RunningJiraAuth(requests.auth.AuthBase):
    """Sends a request to a server started by :func:`serve` the credentials that server requires
    (Basic on Cloud, Bearer on Data Center), unless the request carries its own ``Authorization``."""

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        server = next((s for url, s in RUNNING.items() if request.url.startswith(url + "/")), None)
        if server is not None and server.credentials is not None and "Authorization" not in request.headers:
            request.headers["Authorization"] = authorization(server.credentials)
        return request


def session() -> requests.Session:
    """A requests session that authenticates to every server started by :func:`serve`."""
    http = requests.Session()
    http.auth = RunningJiraAuth()
    return http
