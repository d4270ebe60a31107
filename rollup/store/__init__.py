"""The local store: normalized Jira rows, and each subsystem's own tables, in SQLite or PostgreSQL.

Modules:

* :mod:`~rollup.store.core` — :class:`Store`: open (create, upgrade), write and read the synced data,
  and hand out connections (:meth:`Store.connect`, :meth:`Store.begin`) to the subsystems below.
* :mod:`~rollup.store.columns` — the shared ``metadata`` and the column types (UTC datetimes, JSON).
* ``schema_*`` — the tables, one module per owner (below).
* :mod:`~rollup.store.migrations` — :data:`SCHEMA_VERSION`, the ordered migrations, :func:`upgrade`.
* :mod:`~rollup.store.urls` — ``ROLLUP_DATABASE_URL``, the default path, URL checking and masking.
* :mod:`~rollup.store.sqlite_fast` — the SQLite executemany path for issues, transitions and worklogs.

Who owns which tables, and how it reaches them:

========================  ==========================================  ==========================================
tables                    owner (holds their queries)                 reaches the database through
========================  ==========================================  ==========================================
``issues``,               the store itself (:class:`Store` methods;   ``Store`` methods only (``upsert_batch``,
``transitions``,          :mod:`rollup.frames` reads them for the     ``issue_rows``, ``replace_snapshot``…);
``worklogs``, ``fields``, frames); written by :mod:`rollup.jobs.sync` and  ``load_frames`` through ``Store.connect``
``sync_state``,           the portfolio report                        (:mod:`~rollup.store.schema_sync`)
``sync_runs``,
``snapshots``
``lint_runs``,            :mod:`rollup.lint.history`                  ``Store.begin`` / ``Store.connect``
``lint_findings``,                                                    (:mod:`~rollup.store.schema_lint`)
``lint_team_scores``
``finance_months``,       :mod:`rollup.finance.ledger`                ``Store.begin`` / ``Store.connect``
``finance_frozen_rows``,                                              (:mod:`~rollup.store.schema_finance`)
``finance_log``
``job_runs``              :mod:`rollup.schedule.history`              ``Store.begin`` / ``Store.connect``
``job_locks``             :mod:`rollup.schedule.locks`                ``Store.connect(autocommit=True)`` for the
                                                                      advisory lock, ``Store.ensure_table``
``apscheduler_jobs``      APScheduler (:mod:`rollup.schedule.scheduler`)  ``Store.bind`` (its own connections)
``meta``                  the store (:mod:`~rollup.store.schema_meta`)  opening the store
========================  ==========================================  ==========================================

The package exports :class:`Store` and the names its callers need; a subsystem imports its own tables
from its ``schema_*`` module. Every table there joins the one ``metadata``, so opening a store creates
all of them. The
SQLAlchemy engine stays inside this package: ``tests/store/test_layout.py`` fails if code in ``rollup/``
or ``connectors/`` outside it reads ``.engine``.

>>> store = Store.open("sqlite:///:memory:")
>>> store.counts()["issues"]
0
"""

from rollup.store.core import Store, field_roles_of
from rollup.store.migrations import MIGRATIONS, SCHEMA_VERSION, upgrade
from rollup.store.schema_sync import (
    STATE_DELETION_SWEEP_AT,
    STATE_ISSUES_HWM,
    STATE_SERVER_BASE_URL,
    STATE_SERVER_DEPLOYMENT,
    STATE_WORKLOGS_SINCE,
)
from rollup.store.urls import DATABASE_URL_ENV, DEFAULT_PATH, mask_url, normalize_url

__all__ = [
    "DATABASE_URL_ENV", "DEFAULT_PATH", "MIGRATIONS", "SCHEMA_VERSION", "STATE_DELETION_SWEEP_AT", "STATE_ISSUES_HWM",
    "STATE_SERVER_BASE_URL", "STATE_SERVER_DEPLOYMENT", "STATE_WORKLOGS_SINCE", "Store", "field_roles_of", "mask_url",
    "normalize_url", "upgrade",
]
