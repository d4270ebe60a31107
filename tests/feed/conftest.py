"""Feed fixtures: the sample organisation lived for six weeks into a store (the demo's own run, as the
scheduling tests do), once per session, copied per test; on PostgreSQL the same demo into the test database."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from feed_helpers import CONFIG, ISSUES  # noqa: E402

from rollup.jobs.demo import run_demo  # noqa: E402


@pytest.fixture(scope="session")
def demo_synced(tmp_path_factory) -> Path:
    """The folder of a SQLite store (``rollup.db``) holding six demo weeks, and the demo's workbook (``out/``)."""
    folder = tmp_path_factory.mktemp("feed-demo")
    run_demo(CONFIG, f"sqlite:///{folder / 'rollup.db'}", issues=ISSUES, out_dir=folder / "out")
    return folder


@pytest.fixture
def synced_url(tmp_path, demo_synced) -> str:
    """A copy of the demo's SQLite store, this test's own."""
    shutil.copy(demo_synced / "rollup.db", tmp_path / "rollup.db")
    return f"sqlite:///{tmp_path / 'rollup.db'}"


@pytest.fixture
def synced_database(database_url, tmp_path, demo_synced) -> str:
    """The demo's store on SQLite (a copy) and on PostgreSQL (the demo run into the test database)."""
    if database_url.startswith("sqlite"):
        shutil.copy(demo_synced / "rollup.db", tmp_path / "rollup.db")
        return database_url
    run_demo(CONFIG, database_url, issues=ISSUES, out_dir=tmp_path / "demo-out")
    return database_url
