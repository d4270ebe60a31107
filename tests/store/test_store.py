"""The store on SQLite and PostgreSQL: upserts, replacement, deletion, cursors, versions."""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta, timezone

import pytest
from rollup_rows import T0, make_issue, make_transitions, make_worklog
from sqlalchemy import create_engine, inspect, text
from store_rows import store_rows

from connectors.jira.rows import FieldRow
from rollup import store as store_module
from rollup.errors import EmptyStoreError, StoreError, StoreURLError
from rollup.store import SCHEMA_VERSION, STATE_ISSUES_HWM, Store, mask_url, normalize_url, sqlite_fast, upgrade


def test_new_store_has_current_schema_version(store):
    assert store.schema_version() == SCHEMA_VERSION
    assert store.counts() == {t: 0 for t in ("issues", "transitions", "worklogs", "fields", "sync_runs", "snapshots",
                                             "deleted_issues")}


def test_upsert_batch_round_trips_values(store):
    issue = make_issue(
        7,
        resolved=T0 + timedelta(days=3),
        start_date=date(2025, 1, 1),
        target_date=date(2025, 3, 31),
        assignee_active=True,
        custom={"Investment": "Tech debt", "Due": date(2025, 2, 1)},
    )
    store.upsert_batch([issue], {7: make_transitions(issue)}, True)
    [row] = store.issue_rows()
    assert row["key"] == "PAY-7"
    assert row["updated"] == issue.updated
    assert row["updated"].tzinfo is not None and row["updated"].utcoffset() == timedelta(0)
    assert row["resolved"] == T0 + timedelta(days=3)
    assert row["target_date"] == date(2025, 3, 31)
    assert row["labels"] == ["pillar-enterprise"]
    assert row["custom"] == {"Investment": "Tech debt", "Due": "2025-02-01"}
    assert row["description_length"] == len("Make hospitals pay.")
    assert row["changelog_complete"] is True
    assert [t["to_value"] for t in store.transition_rows()] == ["In Progress", "In Review"]


def test_non_utc_datetimes_are_stored_as_utc(store):
    berlin = timezone(timedelta(hours=1))
    store.upsert_batch([make_issue(1, updated=datetime(2025, 1, 6, 10, 30, tzinfo=berlin))], {}, True)
    assert store.stored_updated() == {1: datetime(2025, 1, 6, 9, 30, tzinfo=timezone.utc)}


def test_rereading_a_batch_replaces_transitions_instead_of_doubling(store):
    issue = make_issue(2)
    store.upsert_batch([issue], {2: make_transitions(issue, 2)}, True)
    store.upsert_batch([issue], {2: make_transitions(issue, 3)}, True)
    store.upsert_batch([issue], {2: make_transitions(issue, 3) * 2}, True)  # duplicates in one batch
    assert len(store.transition_rows()) == 3
    assert store.counts()["issues"] == 1


def test_moved_issue_keeps_id_and_takes_new_key(store):
    store.upsert_batch([make_issue(3, "PAY-3"), make_issue(4, "PAY-4")], {}, True)
    store.upsert_worklogs([make_worklog(1, 3)])
    store.upsert_batch([make_issue(3, "SCH-12", updated=T0 + timedelta(days=9))], {}, True)
    keys = {r["id"]: r["key"] for r in store.issue_rows()}
    assert keys == {3: "SCH-12", 4: "PAY-4"}
    assert store.issue_rows()[0]["project_key"] == "SCH"
    assert len(store.worklog_rows()) == 1


def test_key_taken_by_another_id_parks_the_stale_row(store):
    store.upsert_batch([make_issue(5, "PAY-5")], {}, True)
    store.upsert_batch([make_issue(6, "PAY-5")], {}, True)
    keys = {r["id"]: r["key"] for r in store.issue_rows()}
    assert keys == {5: "PAY-5@5", 6: "PAY-5"}


def test_changelog_complete_per_issue(store):
    store.upsert_batch([make_issue(1), make_issue(2), make_issue(3)], {}, {1: True, 2: False})
    assert store.stored_updated(require_complete_changelog=True) == {
        1: make_issue(1).updated,
        2: None,
        3: None,
    }
    store.upsert_batch([make_issue(2)], {}, {2})
    assert store.stored_updated(require_complete_changelog=True)[2] == make_issue(2).updated


def test_stored_updated_for_named_ids_only(store):
    store.upsert_batch([make_issue(i) for i in range(1, 1201)], {}, {i for i in range(1, 1201) if i != 7})
    wanted = [7, 8, 1200, 99999]  # 99999 was never stored; more ids than one IN chunk below
    got = store.stored_updated(wanted + list(range(2000, 2600)), require_complete_changelog=True)
    assert got == {7: None, 8: make_issue(8).updated, 1200: make_issue(1200).updated}


def test_failed_batch_writes_nothing(store):
    good = make_issue(1)
    bad = make_issue(2)
    bad.summary = None  # NOT NULL: the whole batch must roll back
    with pytest.raises(Exception):
        store.upsert_batch([good, bad], {1: make_transitions(good)}, True)
    assert store.counts()["issues"] == 0
    assert store.counts()["transitions"] == 0


def test_worklogs_upsert_and_delete(store):
    store.upsert_batch([make_issue(1)], {}, True)
    store.upsert_worklogs([make_worklog(10, 1), make_worklog(11, 1)])
    store.upsert_worklogs([make_worklog(10, 1, seconds=7200)])
    assert {w["id"]: w["seconds"] for w in store.worklog_rows()} == {10: 7200, 11: 3600}
    assert store.delete_worklogs([11, 999]) == 1
    assert [w["id"] for w in store.worklog_rows()] == [10]


def test_delete_issues_removes_transitions_and_worklogs(store):
    issues = [make_issue(i) for i in range(1, 4)]
    store.upsert_batch(issues, {i.id: make_transitions(i) for i in issues}, True)
    store.upsert_worklogs([make_worklog(1, 1), make_worklog(2, 2)])
    assert store.mark_deleted([1, 2]) == 2
    assert store.all_issue_ids() == {3}
    assert {t["issue_id"] for t in store.transition_rows()} == {3}
    assert store.worklog_rows() == []


def test_state_and_datetimes(store):
    assert store.get_state("issues.updated_hwm") is None
    store.set_datetime("issues.updated_hwm", datetime(2025, 1, 6, 10, 0, tzinfo=timezone(timedelta(hours=1))))
    assert store.get_datetime("issues.updated_hwm") == datetime(2025, 1, 6, 9, 0, tzinfo=timezone.utc)
    store.set_state("server.deployment", "cloud")
    store.set_state("server.deployment", "datacenter")
    assert store.state()["server.deployment"] == "datacenter"
    store.set_state("server.deployment", None)
    assert store.get_state("server.deployment", "none") == "none"


def test_fields_replaced_and_runs_recorded(store):
    store.replace_fields([FieldRow("customfield_10016", "Story Points", True, "number", "story_points")])
    store.replace_fields([FieldRow("summary", "Summary", False, "string"), FieldRow("labels", "Labels", False)])
    assert [f["id"] for f in store.field_rows()] == ["labels", "summary"]
    run_id = store.record_run(started=T0, finished=T0, mode="full", status="ok", issues_new=3, elapsed_s=1.5)
    assert store.sync_run_rows()[0]["id"] == run_id
    with pytest.raises(StoreError, match="unknown sync_runs columns"):
        store.record_run(started=T0, mode="full", status="ok", bogus=1)


def test_snapshots_are_kept_per_as_of_week_and_a_rerun_replaces_its_week(store):
    monday, thursday = date(2026, 11, 23), date(2026, 11, 26)
    assert store.replace_snapshot(monday, 1, T0, [(1, "PAY-1", {"status": "Done", "target": date(2025, 3, 1)}),
                                                  (2, "PAY-2", {"status": "To Do"})]) == 2
    assert store.replace_snapshot(date(2026, 11, 16), 1, T0, [(1, "PAY-1", {"status": "In Progress"})]) == 1
    # The same ISO week again: its rows are replaced whole (PAY-2, gone since, is not left behind).
    assert store.replace_snapshot(thursday, 2, T0, [(1, "PAY-1", {"status": "Done"})]) == 1
    rows = store.snapshot_rows()
    assert [(r["week"], r["as_of"], r["run_id"], r["key"]) for r in rows] == [
        ("2026-W47", date(2026, 11, 16), 1, "PAY-1"), ("2026-W48", thursday, 2, "PAY-1")]
    assert store.counts()["snapshots"] == 2


def test_v2_snapshots_per_run_become_one_per_week(database_url):
    with Store.open(database_url) as store:
        with store.begin() as conn:
            conn.execute(text("DROP TABLE snapshots"))
            conn.execute(text(
                "CREATE TABLE snapshots (run_id INTEGER NOT NULL, taken_at TIMESTAMP WITH TIME ZONE NOT NULL, "
                "issue_id INTEGER NOT NULL, key VARCHAR(64) NOT NULL, payload TEXT NOT NULL, "
                "CONSTRAINT uq_snapshots_run_issue UNIQUE (run_id, issue_id))"))
            for run, when, status in ((1, "2026-11-16 06:00:00", "To Do"), (2, "2026-11-23 06:00:00", "In Progress"),
                                      (3, "2026-11-25 06:00:00", "Done")):
                conn.execute(text("INSERT INTO snapshots VALUES (:r, :t, 7, 'PAY-7', :p)"),
                             {"r": run, "t": when, "p": json.dumps({"status": status})})
            conn.execute(text("UPDATE meta SET schema_version = 2"))
    with Store.open(database_url) as upgraded:
        assert upgraded.schema_version() == SCHEMA_VERSION
        rows = upgraded.snapshot_rows()
    # Runs 2 and 3 fall in one ISO week: the later one is that week's snapshot.
    assert [(r["week"], r["as_of"], r["run_id"], r["payload"]["status"]) for r in rows] == [
        ("2026-W47", date(2026, 11, 16), 1, "To Do"), ("2026-W48", date(2026, 11, 25), 3, "Done")]


def test_v3_gains_author_names_and_sprints_and_reads_every_changelog_again(database_url):
    with Store.open(database_url) as store:
        store.upsert_batch([make_issue(1), make_issue(2)], {}, True)
        before = store.stored_updated(require_complete_changelog=True)
        assert before.keys() == {1, 2} and None not in before.values()
        store.set_state(STATE_ISSUES_HWM, "2026-11-20T00:00:00+00:00")
        with store.begin() as conn:
            conn.execute(text("DROP TABLE transitions"))
            conn.execute(text(
                "CREATE TABLE transitions (issue_id INTEGER NOT NULL REFERENCES issues (id) ON DELETE CASCADE, "
                "history_id INTEGER NOT NULL, field VARCHAR(32) NOT NULL, at TIMESTAMP WITH TIME ZONE NOT NULL, "
                "from_value VARCHAR(255), to_value VARCHAR(255), to_category VARCHAR(32), author_id VARCHAR(128))"))
            conn.execute(text("DROP TABLE sprints"))
            conn.execute(text("ALTER TABLE issues DROP COLUMN sprint_ids"))
            conn.execute(text("UPDATE meta SET schema_version = 3"))
    with Store.open(database_url) as upgraded:
        assert upgraded.schema_version() == SCHEMA_VERSION
        columns = {c["name"] for c in inspect(upgraded.engine).get_columns("transitions")}
        assert "author_name" in columns
        assert "sprint_ids" in {c["name"] for c in inspect(upgraded.engine).get_columns("issues")}
        assert inspect(upgraded.engine).has_table("sprints")
        # Changelogs read before the scope ledger's fields were kept are read again on the next sync.
        # (None: no stored update time counts, so the issue is fetched whatever the server says.)
        assert upgraded.stored_updated(require_complete_changelog=True) == {1: None, 2: None}
        # No high-water mark: the next sync is a full one, so issues unchanged since are read again too.
        assert upgraded.get_state(STATE_ISSUES_HWM) is None


def test_sprints_are_kept_per_issue_and_each_once(store):
    from connectors.jira import SprintRow

    s7 = SprintRow(7, "Sprint 7", "closed", 4, T0, T0, T0)
    s8 = SprintRow(8, "Sprint 8", "active", 4, T0)
    one, two = make_issue(1), make_issue(2)
    one.sprints, two.sprints = [s7, s8], [s8]
    store.upsert_batch([one, two], {}, True)
    assert {r["id"]: r["sprint_ids"] for r in store.issue_rows()} == {1: [7, 8], 2: [8]}
    assert [(r["id"], r["name"], r["state"], r["board_id"]) for r in store.sprint_rows()] == [
        (7, "Sprint 7", "closed", 4), (8, "Sprint 8", "active", 4)]
    # A later read of a sprint (closed since) updates it.
    two.sprints = [SprintRow(8, "Sprint 8", "closed", 4, T0, T0, T0)]
    store.upsert_batch([two], {}, True)
    assert [r["state"] for r in store.sprint_rows()] == ["closed", "closed"]


def test_frames_lists_tables(store):
    store.upsert_batch([make_issue(1)], {}, True)
    frames = store_rows(store)
    assert set(frames) == {"issues", "transitions", "worklogs", "fields"}
    assert frames["issues"][0]["id"] == 1


def test_newer_schema_is_refused(database_url):
    Store.open(database_url).close()
    engine = create_engine(normalize_url(database_url))
    with engine.begin() as conn:
        conn.execute(text("UPDATE meta SET schema_version = :v"), {"v": SCHEMA_VERSION + 1})
    engine.dispose()
    with pytest.raises(StoreError, match="newer than this release"):
        Store.open(database_url)


def test_fake_v0_is_upgraded_keeping_data(database_url):
    engine = create_engine(normalize_url(database_url))
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE meta (schema_version INTEGER NOT NULL)"))
        conn.execute(text("INSERT INTO meta VALUES (0)"))
        # v0's issues table: no changelog_complete column (abridged to the NOT NULL columns).
        conn.execute(text(
            "CREATE TABLE issues (id INTEGER PRIMARY KEY, key VARCHAR(64) NOT NULL UNIQUE, "
            "project_key VARCHAR(64) NOT NULL, issue_type VARCHAR(128) NOT NULL, hierarchy_level INTEGER NOT NULL, "
            "parent_key VARCHAR(64), epic_key VARCHAR(64), status VARCHAR(128) NOT NULL, "
            "status_category VARCHAR(32) NOT NULL, assignee_id VARCHAR(128), assignee_name VARCHAR(255), "
            "assignee_active BOOLEAN, created TIMESTAMP WITH TIME ZONE NOT NULL, "
            "updated TIMESTAMP WITH TIME ZONE NOT NULL, resolved TIMESTAMP WITH TIME ZONE, story_points FLOAT, "
            "start_date DATE, target_date DATE, due_date DATE, labels TEXT NOT NULL, components TEXT NOT NULL, "
            "fix_versions TEXT NOT NULL, team VARCHAR(255), sprint VARCHAR(255), summary TEXT NOT NULL, "
            "description TEXT NOT NULL, description_length INTEGER NOT NULL, custom TEXT NOT NULL)"
        ))
        conn.execute(text(
            "INSERT INTO issues (id, key, project_key, issue_type, hierarchy_level, status, status_category, "
            "created, updated, labels, components, fix_versions, summary, description, description_length, custom) "
            "VALUES (1, 'PAY-1', 'PAY', 'Epic', 1, 'Open', 'new', '2025-01-06 09:00:00', '2025-01-06 09:00:00', "
            "'[]', '[]', '[]', 'Old epic', '', 0, '{}')"
        ))
    engine.dispose()

    upgraded = Store.open(database_url)
    assert upgraded.schema_version() == SCHEMA_VERSION
    assert upgraded.stored_updated(require_complete_changelog=True) == {1: None}
    assert inspect(upgraded.engine).has_table("snapshots")
    upgraded.close()


def test_upgrade_runs_migrations_in_order_and_refuses_gaps():
    seen = []
    steps = {0: lambda c: seen.append(0), 1: lambda c: seen.append(1), 2: lambda c: seen.append(2)}
    assert upgrade(None, 0, 3, steps) == [0, 1, 2]
    assert seen == [0, 1, 2]
    with pytest.raises(StoreError, match="no migration from store schema version 3"):
        upgrade(None, 1, 5, steps)


def test_open_uses_env_then_default_file(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("ROLLUP_DATABASE_URL", raising=False)
    with Store.open() as default:
        assert default.location.endswith(".rollup/rollup.db")
        with default.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
    assert (tmp_path / ".rollup" / "rollup.db").exists()
    monkeypatch.setenv("ROLLUP_DATABASE_URL", f"sqlite:///{tmp_path / 'other.db'}")
    with Store.open() as from_env:
        assert from_env.location.endswith("other.db")


def test_urls_are_normalized_and_masked():
    assert normalize_url("postgresql://u:p@h/db") == "postgresql+psycopg://u:p@h/db"
    assert normalize_url("postgres://u@h/db") == "postgresql+psycopg://u@h/db"
    assert normalize_url("/tmp/x.db") == "sqlite:////tmp/x.db"
    assert "secret" not in mask_url("postgresql+psycopg://u:secret@h/db")
    assert store_module.DEFAULT_PATH.as_posix() == ".rollup/rollup.db"


@pytest.mark.parametrize("value, message", [
    ("not a url", "ROLLUP_DATABASE_URL='not a url' is not a database URL; give sqlite:///PATH"),
    ("mysql://u:secret@h/db", "ROLLUP_DATABASE_URL='mysql://u:***@h/db': 'mysql' databases are not supported"),
    ("postgresql://u:secret@h:port/db", "ROLLUP_DATABASE_URL='postgresql://***@h:port/db' is not a database URL"),
])
def test_a_value_that_is_not_a_store_url_is_bad_input_and_creates_nothing(value, message, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("ROLLUP_DATABASE_URL", value)
    with pytest.raises(StoreURLError) as caught:
        Store.open()
    assert message in str(caught.value) and "postgresql://USER:PASSWORD@HOST/DB" in str(caught.value)
    assert "secret" not in str(caught.value) and caught.value.exit_code == 2
    assert list(tmp_path.iterdir()) == []


def test_the_documented_forms_still_open(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    for value in ("plain.db", str(tmp_path / "abs.sqlite"), "sqlite:///rel.db", f"sqlite:///{tmp_path / 'x.db'}"):
        monkeypatch.setenv("ROLLUP_DATABASE_URL", value)
        Store.open().close()
    assert {p.name for p in tmp_path.iterdir()} >= {"plain.db", "abs.sqlite", "rel.db", "x.db"}


def test_a_file_that_is_not_sqlite_or_a_folder_is_named(tmp_path):
    text_file = tmp_path / "notes.db"
    text_file.write_text("hello\n")
    with pytest.raises(StoreURLError, match=rf"^{text_file} is not a rollup store \(file is not a database\)"):
        Store.open(f"sqlite:///{text_file}")
    assert text_file.read_text() == "hello\n"
    with pytest.raises(StoreURLError, match=rf"--database='sqlite:///{tmp_path}': {tmp_path} is a folder"):
        Store.open(f"sqlite:///{tmp_path}")


def test_a_reading_command_does_not_create_a_missing_store(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("ROLLUP_DATABASE_URL", raising=False)
    for url in (None, f"sqlite:///{tmp_path / 'never.db'}"):
        with pytest.raises(EmptyStoreError, match="holds no issues; run `rollup sync` first"):
            Store.open(url, must_exist=True)
    assert list(tmp_path.iterdir()) == []


def test_sqlite_fast_path_stores_what_sqlalchemy_core_stores(tmp_path, monkeypatch):
    """Issues, transitions and worklogs go to SQLite through the driver; the stored text must not change."""
    berlin = timezone(timedelta(hours=1))
    issues = [
        make_issue(1, resolved=T0 + timedelta(days=3, microseconds=1234), start_date=date(2025, 1, 1),
                   target_date=date(2025, 3, 31), assignee_active=True,
                   custom={"Investment": "Tech debt", "Due": date(2025, 2, 1), "None": None, "n": [1.5, {"a": "é"}]}),
        make_issue(2, updated=datetime(2025, 1, 6, 10, 30, tzinfo=berlin), assignee_active=False),
        make_issue(3, assignee_active=None, custom={}),
    ]
    transitions = {i.id: make_transitions(i, 3) for i in issues}
    worklogs = [make_worklog(10, 1), make_worklog(11, 2)]

    def dump(url: str) -> dict:
        store = Store.open(url)
        store.upsert_batch(issues, transitions, {1, 3})
        store.upsert_batch(issues[:1], transitions, True)  # the upsert (ON CONFLICT) path too
        store.upsert_worklogs(worklogs)
        store.upsert_worklogs(worklogs[:1])
        store.close()
        engine = create_engine(url)
        with engine.connect() as conn:
            out = {t: conn.execute(text(f"SELECT * FROM {t} ORDER BY 1, 2")).all()
                   for t in ("issues", "transitions", "worklogs")}
        engine.dispose()
        return out

    fast = dump(f"sqlite:///{tmp_path / 'fast.db'}")
    monkeypatch.setattr(sqlite_fast, "FAST_STATEMENTS", {})
    core = dump(f"sqlite:///{tmp_path / 'core.db'}")
    assert fast == core
    assert len(fast["issues"]) == 3 and len(fast["transitions"]) == 9 and len(fast["worklogs"]) == 2


def test_sqlite_fast_path_refuses_naive_datetimes(tmp_path):
    store = Store.open(f"sqlite:///{tmp_path / 'x.db'}")
    with pytest.raises(StoreError, match="naive datetime"):
        store.upsert_batch([make_issue(1, updated=datetime(2025, 1, 6, 10, 30))], {}, True)
    store.close()


def test_v4_gains_a_site_column_and_64_bit_ids_keeping_every_row(database_url):
    from rollup.store.sites import SITE_ID_SPAN, SiteIdentity

    with Store.open(database_url) as store:
        store.upsert_batch([make_issue(1), make_issue(2)], {}, True)
        before = store.stored_updated(require_complete_changelog=True)
        with store.begin() as conn:
            conn.execute(text("DROP INDEX ix_issues_site"))
            for table in ("issues", "fields", "sync_runs"):
                conn.execute(text(f"ALTER TABLE {table} DROP COLUMN site"))
            if store.dialect == "postgresql":  # version 4 had 32-bit ids there
                conn.execute(text("ALTER TABLE transitions ALTER COLUMN issue_id TYPE INTEGER"))
                conn.execute(text("ALTER TABLE issues ALTER COLUMN id TYPE INTEGER"))
            conn.execute(text("UPDATE meta SET schema_version = 4"))
    with Store.open(database_url) as upgraded:
        assert upgraded.schema_version() == SCHEMA_VERSION
        for table in ("issues", "fields", "sync_runs"):
            assert "site" in {c["name"] for c in inspect(upgraded.engine).get_columns(table)}
        # Nothing is re-read: the rows and their changelog state are as they were.
        assert upgraded.stored_updated(require_complete_changelog=True) == before and None not in before.values()
        assert {r["site"] for r in upgraded.issue_rows()} == {None}
        # A second site's ids (beyond 32 bits) fit, beside the first site's rows, which it adopts.
        second, first = SiteIdentity("dc", 1), SiteIdentity("cloud", 0)
        upgraded.upsert_batch([make_issue(1)], {}, True, site=second)
        assert upgraded.all_issue_ids(site=second) == {1} and upgraded.all_issue_ids(site=first) == {1, 2}
        assert upgraded.all_issue_ids() == {1, 2, SITE_ID_SPAN + 1}
        assert {r["key"] for r in upgraded.issue_rows()} == {"PAY-1", "PAY-2", "dc:PAY-1"}


def test_a_version_5_store_gains_the_feed_tables_and_views_and_keeps_its_rows(database_url):
    """Schema 6 adds the BI feed: a store of version 5 (no feed_* tables, no rollup_* views) is upgraded in place,
    its issues kept, and the views select from the new (empty) tables."""
    from rollup.feed.dictionary import TABLES

    with Store.open(database_url) as store:
        store.upsert_batch([make_issue(1), make_issue(2)], {}, True)
        with store.begin() as conn:
            for feed in TABLES:
                conn.execute(text(f'DROP VIEW "{feed.view}"'))
                conn.execute(text(f'DROP TABLE "{feed.store_table}"'))
            conn.execute(text("UPDATE meta SET schema_version = 5"))
        assert not {t.view for t in TABLES} & set(inspect(store.engine).get_view_names())
    with Store.open(database_url) as upgraded:
        assert upgraded.schema_version() == SCHEMA_VERSION == 6
        assert {t.view for t in TABLES} <= set(inspect(upgraded.engine).get_view_names())
        assert {t.store_table for t in TABLES} <= set(inspect(upgraded.engine).get_table_names())
        assert {r["key"] for r in upgraded.issue_rows()} == {"PAY-1", "PAY-2"}
        with upgraded.connect() as conn:
            for feed in TABLES:
                result = conn.execute(text(f'SELECT * FROM "{feed.view}"'))
                assert list(result.keys()) == feed.column_names and result.fetchall() == []
