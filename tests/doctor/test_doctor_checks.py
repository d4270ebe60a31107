"""The checks one by one: the runner's time bound and skips, the configuration files, and the store on
SQLite and PostgreSQL (schema versions, an empty database, a server that does not answer)."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from doctor_helpers import doctor, free_port
from sqlalchemy import create_engine, text

from rollup.doctor import DoctorOptions, run_checks
from rollup.doctor.model import Check, Context, check, ok
from rollup.doctor.store import last_sync, store
from rollup.store import SCHEMA_VERSION, Store, normalize_url

# ---------------------------------------------------------------------------------------- the runner


@check("slow", seconds=0.3)
def _slow(ctx: Context) -> list[Check]:
    time.sleep(5)
    return [ok("slow", "never reported")]


@check("broken", provides=("config",))
def _broken(ctx: Context) -> list[Check]:
    raise KeyError("no such thing")


@check("needs config", requires=("config",))
def _needs_config(ctx: Context) -> list[Check]:
    return [ok("needs config", "ran")]


@check("fine")
def _fine(ctx: Context) -> list[Check]:
    return [ok("fine", "ran")]


def test_a_check_over_its_time_bound_fails_and_the_others_still_run():
    started = time.monotonic()
    lines = run_checks(DoctorOptions(env={}), checks=(_slow, _fine))
    assert time.monotonic() - started < 2
    assert [(c.name, c.status) for c in lines] == [("slow", "fail"), ("fine", "ok")]
    assert lines[0].detail == "did not finish within 0.3 s"


def test_a_broken_check_is_one_failed_line_and_what_it_would_provide_is_missing_downstream():
    lines = run_checks(DoctorOptions(env={}), checks=(_broken, _needs_config, _fine))
    assert [(c.name, c.status) for c in lines] == [("broken", "fail"), ("needs config", "skip"), ("fine", "ok")]
    assert lines[0].detail == "the check itself broke: KeyError: 'no such thing'"
    assert lines[1].detail == "not checked: needs a valid mappings.yaml (see 'broken' above)"


def test_lines_hold_one_line_whatever_the_message():
    line = Check("config", "fail", "invalid configuration:\n  mappings.yaml, line 3: a\n  mappings.yaml, line 9: b",
                 "fix it")
    assert line.line() == ("fail config: invalid configuration: mappings.yaml, line 3: a; mappings.yaml, line 9: b "
                           "— fix it")


def test_an_unknown_fact_is_refused_when_a_check_is_declared():
    with pytest.raises(ValueError, match="unknown facts"):
        check("x", requires=("jira_settings",))


# ---------------------------------------------------------------------------------------- the files


def test_a_bad_mappings_file_fails_with_its_line_and_the_checks_that_need_it_are_skipped(project):
    (project.path / "mappings.yaml").write_text("jira:\n  projects: [PAY]\n  extra_feilds: [Investment]\n")
    report = doctor()
    assert report.exit_code == 1
    assert report.status("config") == "fail"
    assert ("mappings.yaml, line 3: unknown key 'jira.extra_feilds'; did you mean 'extra_fields'?"
            in report.detail("config"))
    for name in ("rates", "projects", "fields", "issue count"):
        assert report.status(name) == "skip", name
    assert report.status("jira") == "ok" and report.status("store") == "ok"


def test_a_bad_schedule_file_fails_naming_it(project):
    broken = "jobs:\n  - name: x\n    cron: '0 7 * * mon'\n    stepz: [sync]\n"
    (project.path / "schedules" / "broken.yaml").write_text(broken)
    report = doctor()
    assert report.status("schedules") == "fail"
    assert "broken.yaml" in report.detail("schedules") and "did you mean 'steps'?" in report.detail("schedules")
    assert report.status("schedule") == "skip"


def test_no_schedules_folder_is_nothing_scheduled_unless_one_was_named(project):
    for file in (project.path / "schedules").iterdir():
        file.unlink()
    (project.path / "schedules").rmdir()
    report = doctor()
    assert report.status("schedules") == "skip"
    assert report.detail("schedules") == "no schedules/ folder: no jobs are scheduled"
    report = doctor("--schedules", "elsewhere")
    assert report.status("schedules") == "fail" and "elsewhere: not found" in report.detail("schedules")


def test_a_bad_rates_file_fails_with_its_lines(project, monkeypatch):
    rates = project.path / "rates.csv"
    rates.write_text("level,id,name,role,hourly_rate,monthly_cost,currency,valid_from,valid_to\n"
                     "team,payments,,,92.5,,EUR,2026-01-01,\nperson,x,,,,,,2026-01-01,\n")
    report = doctor("--rates", str(rates))
    assert report.status("rates") == "fail"
    assert (f"{rates}, line 3: no rate: give hourly_rate or monthly_cost (or a role, or only a work_location)"
            in report.detail("rates"))
    assert report.status("rates") == "fail"
    assert doctor().status("rates") == "skip"


# ---------------------------------------------------------------------------------------- the store


def _set_version(database_url: str, version: int) -> None:
    engine = create_engine(normalize_url(database_url))
    with engine.begin() as conn:
        conn.execute(text("UPDATE meta SET schema_version = :v"), {"v": version})
    engine.dispose()


def _store_lines(database_url: str) -> tuple[list[Check], Context]:
    ctx = Context(DoctorOptions(database_url=database_url, env={}))
    lines = store.run(ctx)
    return lines, ctx


def test_the_store_check_on_each_database(database_url):
    Store.open(database_url).close()
    [line], ctx = _store_lines(database_url)
    assert line.status == "ok", line
    assert line.detail.endswith(f"schema version {SCHEMA_VERSION} (current)")
    if database_url.startswith("sqlite"):
        path = Path(database_url[len("sqlite:///"):])
        assert line.detail == f"{path}: PRAGMA integrity_check ok; schema version {SCHEMA_VERSION} (current)"
    else:
        assert "the server answers" in line.detail
    [runs] = last_sync.run(ctx)
    assert (runs.status, runs.detail) == ("fail", "no sync recorded in the store")
    ctx.close()

    _set_version(database_url, SCHEMA_VERSION - 1)
    [line], ctx = _store_lines(database_url)
    assert line.status == "warn" and ctx.store is None
    assert f"schema version {SCHEMA_VERSION - 1}, older than this release's {SCHEMA_VERSION}: it will be upgraded on " \
           "the next sync" in line.detail
    _set_version(database_url, SCHEMA_VERSION + 1)
    [line], ctx = _store_lines(database_url)
    assert line.status == "fail" and ctx.store is None
    assert f"schema version {SCHEMA_VERSION + 1}, newer than this release understands ({SCHEMA_VERSION})" in line.detail


def test_an_empty_database_is_no_store_yet_and_is_left_empty(database_url):
    from sqlalchemy import inspect

    [line], _ = _store_lines(database_url)
    assert line.status == "fail" and line.detail.startswith("no store yet at ")
    if database_url.startswith("sqlite"):
        assert not Path(database_url[len("sqlite:///"):]).exists()
    else:
        assert line.detail.endswith("(the database holds no rollup schema)")
        engine = create_engine(normalize_url(database_url))
        assert inspect(engine).get_table_names() == []
        engine.dispose()


def test_an_empty_sqlite_file_is_no_store_yet(tmp_path):
    path = tmp_path / "empty.db"
    path.touch()
    [line], _ = _store_lines(f"sqlite:///{path}")
    assert (line.status, line.detail) == ("fail", f"no store yet at {path} (the database holds no rollup schema)")


def test_a_postgresql_server_that_does_not_answer_fails_quickly_without_the_password():
    url = f"postgresql://rollup:pw-s3cret@127.0.0.1:{free_port()}/rollup"
    started = time.monotonic()
    [line], _ = _store_lines(url)
    assert time.monotonic() - started < 10
    assert line.status == "fail"
    assert line.detail.startswith("cannot read the store at postgresql+psycopg://rollup:***@127.0.0.1:")
    assert "pw-s3cret" not in line.detail + line.todo
    assert "ROLLUP_DATABASE_URL" in line.todo


def test_a_role_found_by_type_or_warned_about_says_so():
    from connectors.jira import FieldMap
    from rollup.config import parse_config
    from rollup.doctor.jira import role_line

    scope = parse_config("jira: {projects: [PAY]}\n").jira
    fields = [{"id": "customfield_10104", "name": "Iteration", "custom": True,
               "schema": {"type": "array", "custom": "com.pyxis.greenhopper.jira:gh-sprint"}},
              {"id": "customfield_10002", "name": "Punkte", "custom": True,
               "schema": {"type": "number", "custom": "com.atlassian.jira.plugin.system.customfieldtypes:float"}}]
    fmap = FieldMap.discover(fields)
    sprint = role_line("sprint", fmap, scope, "datacenter", Path("mappings.yaml"))
    assert sprint.status == "ok" and "customfield_10104" in sprint.detail and "own type" in sprint.detail
    points = role_line("story_points", fmap, scope, "datacenter", Path("mappings.yaml"))
    assert points.status == "warn" and "customfield_10002 'Punkte'" in points.detail
    assert "jira.fields.story_points" in points.todo
