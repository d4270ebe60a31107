"""``rollup demo``: the sample organisation, served by a local Jira, synced into the store.

No Jira account needed: :func:`run_demo` generates the sample organisation, starts the local
Jira on 127.0.0.1 (a random free port) inside this process, points a real
:class:`~connectors.jira.JiraConnector` at it with demo credentials, syncs into the default
store (``.rollup/rollup.db`` or ``ROLLUP_DATABASE_URL``) and stops the server.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Iterator

from rollup.errors import RollupError
from rollup.store import Store
from rollup.sync import SyncProgress, SyncResult, SyncScope, sync

#: The sample organisation's seed: the same seed always gives the same organisation.
DEMO_SEED = 7
#: Demo credentials the local Jira accepts (Cloud: Basic; Data Center: the PAT).
DEMO_EMAIL = "demo@example.com"
DEMO_TOKEN = "demo-token"
#: Every project of the sample organisation (as in the repository's mappings.yaml).
DEMO_PROJECTS = ("PAY", "SCH", "CLIN", "INT", "MOB", "PLAT", "DATA", "SEC", "STRAT")


@dataclass
class DemoResult:
    """What the demo synced and where it went."""

    sync: SyncResult
    issues_in_org: int
    jira_url: str
    flavour: str

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return {"issues_in_org": self.issues_in_org, "jira_url": self.jira_url, "flavour": self.flavour,
                "sync": self.sync.to_dict()}


#: The sample organisation has two fields named "Team" (the real one and a legacy select);
#: configuration picks the real one, whose id differs per flavour.
DEMO_TEAM_FIELD = {"cloud": "customfield_10001", "datacenter": "customfield_10300"}


def demo_scope(flavour: str = "cloud") -> SyncScope:
    """The sync scope of the sample organisation."""
    return SyncScope(
        jql=f"project in ({', '.join(DEMO_PROJECTS)})",
        extra_fields=["Investment"],
        field_overrides={"team": DEMO_TEAM_FIELD[flavour]},
    )


def demo_settings(url: str, flavour: str):
    """Connector settings for the local Jira with the demo credentials."""
    from connectors.jira import JiraSettings

    if flavour == "cloud":
        return JiraSettings(url=url, email=DEMO_EMAIL, api_token=DEMO_TOKEN, deployment="cloud")
    return JiraSettings(url=url, pat=DEMO_TOKEN, deployment="datacenter")


@contextmanager
def local_jira(org: Any, flavour: str = "cloud") -> Iterator[Any]:
    """Start :class:`rollup.localjira.server.LocalJira` for ``org`` and stop it afterwards."""
    try:
        from rollup.localjira.server import LocalJira
    except ImportError as exc:
        raise RollupError(f"the local Jira is not available in this installation ({exc})") from None
    credentials = (DEMO_EMAIL, DEMO_TOKEN) if flavour == "cloud" else DEMO_TOKEN
    server = LocalJira(org, flavour=flavour, credentials=credentials)
    if hasattr(server, "__enter__"):
        with server as running:
            yield running if running is not None else server
        return
    server.start()
    try:
        yield server
    finally:
        server.stop()


def server_url(server: Any) -> str:
    """The base URL of a running local Jira."""
    for name in ("url", "base_url"):
        value = getattr(server, name, None)
        if value:
            return str(value).rstrip("/")
    host, port = server.server_address[:2]
    return f"http://{host}:{port}"


def run_demo(
    database_url: str | None = None,
    *,
    seed: int = DEMO_SEED,
    issues: int = 3000,
    flavour: str = "cloud",
    full: bool = True,
    progress: Callable[[SyncProgress], None] | None = None,
) -> DemoResult:
    """Generate the sample organisation, serve it locally, sync it into the store; stop the server."""
    from connectors.jira import JiraConnector
    from rollup.localjira.sampleorg import SampleOrg

    org = SampleOrg.generate(seed=seed, issues=issues)
    with local_jira(org, flavour) as server:
        url = server_url(server)
        with Store.open(database_url) as store, JiraConnector(demo_settings(url, flavour)) as connector:
            result = sync(store, connector, demo_scope(flavour), full=full, progress=progress)
    return DemoResult(sync=result, issues_in_org=live_issue_count(org), jira_url=url, flavour=flavour)


def live_issue_count(org: Any) -> int:
    """Issues of the sample organisation that exist now (deleted ones excluded)."""
    return sum(1 for pos in range(org.size) if org.live(pos))
