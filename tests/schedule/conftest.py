"""Fixtures for the scheduling tests: a project folder with mappings.yaml, a schedule, and a store
holding the sample organisation synced from the local Jira over real HTTP (once per session, copied
per test)."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest

from rollup.config import load_config
from rollup.jobs.demo import run_demo

ROOT = Path(__file__).resolve().parents[2]
#: Size of the sample organisation in these tests (the demo's 3,000 is slower to report on).
ISSUES = 600
#: The sample organisation's "today".
AS_OF = "2026-11-23"

sys.path.insert(0, str(Path(__file__).parent))


@pytest.fixture(scope="session")
def synced_db(tmp_path_factory) -> Path:
    """A SQLite store with the sample organisation synced (sync run finished just now)."""
    folder = tmp_path_factory.mktemp("synced")
    db = folder / "rollup.db"
    run_demo(load_config(ROOT / "mappings.yaml"), f"sqlite:///{db}", issues=ISSUES)
    return db


@pytest.fixture
def project(tmp_path, monkeypatch, synced_db) -> Path:
    """A project folder (the working directory) with mappings.yaml and a copy of the synced store."""
    shutil.copy(ROOT / "mappings.yaml", tmp_path / "mappings.yaml")
    (tmp_path / ".rollup").mkdir()
    shutil.copy(synced_db, tmp_path / ".rollup" / "rollup.db")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("ROLLUP_DATABASE_URL", f"sqlite:///{tmp_path / '.rollup' / 'rollup.db'}")
    for name in ("JIRA_URL", "JIRA_EMAIL", "JIRA_API_TOKEN", "JIRA_PAT", "ROLLUP_SMTP_HOST", "ROLLUP_SMTP_PORT",
                 "ROLLUP_SMTP_USER", "ROLLUP_SMTP_PASSWORD", "ROLLUP_SMTP_STARTTLS", "ROLLUP_SMTP_SSL"):
        monkeypatch.delenv(name, raising=False)
    return tmp_path
