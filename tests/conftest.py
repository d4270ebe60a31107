"""Shared fixtures: a ``store`` on SQLite and on a real PostgreSQL, and row builders.

PostgreSQL runs need ``ROLLUP_TEST_POSTGRES_URL`` (CI sets it; see ``.ci/run``). A fresh
database is created for the test session and dropped at its end; each test starts with an
empty schema. Without the variable the postgres params are skipped; with
``ROLLUP_REQUIRE_POSTGRES=1`` a missing variable or an unreachable server FAILS the tests.
"""

from __future__ import annotations

import os
import sys
import uuid
from pathlib import Path

import pytest
from sqlalchemy import MetaData, create_engine, text
from sqlalchemy.engine import make_url

from rollup.store import Store, normalize_url

# The row builders and the fake connector live in tests/sync; make them importable everywhere.
sys.path.insert(0, str(Path(__file__).parent / "sync"))

POSTGRES_URL_ENV = "ROLLUP_TEST_POSTGRES_URL"
REQUIRE_POSTGRES_ENV = "ROLLUP_REQUIRE_POSTGRES"
SKIP_REASON = "PostgreSQL tests need ROLLUP_TEST_POSTGRES_URL (CI sets it; see .ci/run)"


def _postgres_required() -> bool:
    return os.environ.get(REQUIRE_POSTGRES_ENV, "").strip() in {"1", "true", "yes"}


@pytest.fixture(scope="session")
def postgres_url():
    """A URL to a throwaway database on the test PostgreSQL server, dropped after the session."""
    raw = os.environ.get(POSTGRES_URL_ENV, "").strip()
    if not raw:
        if _postgres_required():
            pytest.fail(f"{REQUIRE_POSTGRES_ENV}=1 but {POSTGRES_URL_ENV} is not set")
        pytest.skip(SKIP_REASON)
    admin_url = normalize_url(raw)
    name = f"rollup_test_{uuid.uuid4().hex[:12]}"
    try:
        admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as exc:  # noqa: BLE001 - any connection problem means "server unreachable"
        message = f"PostgreSQL at {make_url(admin_url).render_as_string(hide_password=True)} is unreachable: {exc}"
        if _postgres_required():
            pytest.fail(message)
        pytest.skip(message)
    url = make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    yield url
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def _empty_database(url: str) -> None:
    engine = create_engine(url)
    drop_views(engine)
    reflected = MetaData()
    reflected.reflect(engine)
    reflected.drop_all(engine)
    engine.dispose()


def drop_views(engine) -> None:
    """Drop every view (the store's rollup_* views), which would otherwise keep their tables from being dropped."""
    from sqlalchemy import inspect

    with engine.begin() as conn:
        for view in inspect(conn).get_view_names():
            conn.execute(text(f'DROP VIEW IF EXISTS "{view}"'))


@pytest.fixture
def database_url(request, tmp_path):
    """An empty database URL: SQLite file under tmp_path, or the session PostgreSQL database."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'rollup.db'}"
    url = request.getfixturevalue("postgres_url")
    _empty_database(url)
    return url


def pytest_generate_tests(metafunc):
    if "database_url" in metafunc.fixturenames:
        metafunc.parametrize(
            "database_url",
            [pytest.param("sqlite"), pytest.param("postgres", marks=pytest.mark.postgres)],
            indirect=True,
        )


@pytest.fixture
def store(database_url):
    """An empty, open :class:`Store` on SQLite and on PostgreSQL."""
    s = Store.open(database_url)
    yield s
    s.close()
