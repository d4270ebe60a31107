"""Fixtures for ``rollup doctor``: the sample organisation served by the real local Jira over HTTP, with the
demo credentials, synced once per flavour; each test gets a project folder with its own copy of the store."""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest
from doctor_helpers import ROOT, jira_env, mappings_for, sync_into

from rollup.jobs.demo import local_jira
from rollup.jobs.sample_rates import write_sample_rates
from rollup.localjira import LocalJira, SampleOrg

FLAVOURS = ["cloud", "datacenter"]
#: Small enough to sync in a second or two, large enough to hold every project of the sample organisation.
ISSUES = 400
#: Variables the doctor reads; each test starts without them and sets what it needs.
VARIABLES = ("JIRA_URL", "JIRA_EMAIL", "JIRA_API_TOKEN", "JIRA_PAT", "JIRA_DEPLOYMENT", "JIRA_VERIFY_SSL",
             "JIRA_CA_BUNDLE", "JIRA_TIMEOUT", "REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE", "ROLLUP_DATABASE_URL",
             "ROLLUP_RATES", "ROLLUP_SMTP_HOST", "ROLLUP_SMTP_PORT", "ROLLUP_SMTP_STARTTLS", "ROLLUP_SMTP_SSL",
             "ROLLUP_SMTP_USER", "ROLLUP_SMTP_PASSWORD", "ROLLUP_SMTP_FROM", "ROLLUP_SMTP_TIMEOUT")


@dataclass
class Site:
    """A running local Jira of one flavour and a store synced from it (never written by the tests)."""

    flavour: str
    org: SampleOrg
    server: LocalJira
    db: Path


@pytest.fixture(scope="session")
def sample_org() -> SampleOrg:
    """Never mutate: the sites serve it for the whole session."""
    return SampleOrg.generate(seed=7, issues=ISSUES)


@pytest.fixture(scope="session", params=FLAVOURS)
def site(request, sample_org, tmp_path_factory) -> Site:
    flavour = request.param
    db = tmp_path_factory.mktemp(f"doctor-{flavour}") / "rollup.db"
    with local_jira(sample_org, flavour) as server:
        sync_into(f"sqlite:///{db}", server, flavour, mappings_for(flavour), full=True)
        yield Site(flavour, sample_org, server, db)


@dataclass
class Project:
    """A project folder (the working directory): mappings.yaml, schedules/, rates.csv, a copy of the store."""

    path: Path
    site: Site

    @property
    def db(self) -> Path:
        return self.path / ".rollup" / "rollup.db"

    @property
    def store_url(self) -> str:
        return f"sqlite:///{self.db}"


@pytest.fixture
def project(site, tmp_path, monkeypatch) -> Project:
    for name in VARIABLES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr("connectors.jira.settings._from_keyring", lambda username: None)
    (tmp_path / "mappings.yaml").write_text(mappings_for(site.flavour))
    (tmp_path / "schedules").mkdir()
    shutil.copy(ROOT / "schedules" / "demo" / "demo.yaml", tmp_path / "schedules" / "demo.yaml")
    (tmp_path / ".rollup").mkdir()
    shutil.copy(site.db, tmp_path / ".rollup" / "rollup.db")
    for name, value in jira_env(site.flavour, site.server.url).items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("ROLLUP_DATABASE_URL", f"sqlite:///{tmp_path / '.rollup' / 'rollup.db'}")
    monkeypatch.chdir(tmp_path)
    return Project(tmp_path, site)


@pytest.fixture
def rates(project, monkeypatch) -> Path:
    """The sample organisation's rates CSV, named by ROLLUP_RATES."""
    path = write_sample_rates(project.site.org, project.path / "rates.csv")
    monkeypatch.setenv("ROLLUP_RATES", str(path))
    return path
