"""``rollup doctor`` against the real local Jira over HTTP, Cloud and Data Center: a healthy installation,
and each way one breaks — the check that says so, what it names, and the exit code."""

from __future__ import annotations

import time
from datetime import datetime, timedelta, timezone

import pytest
from aiosmtpd.controller import Controller
from doctor_helpers import doctor, doctor_text, free_port, mappings_for, steady, sync_into

from rollup.doctor import Check
from rollup.localjira import Faults, LocalJira
from rollup.localjira.credentials import DEMO_EMAIL, DEMO_PAT, DEMO_TOKEN
from rollup.store import SCHEMA_VERSION, Store

WRONG = "wrong-token-Z9q"


class Inbox:
    """An aiosmtpd handler that never gets a message: the doctor only says EHLO."""

    def __init__(self):
        self.envelopes = []

    async def handle_DATA(self, server, session, envelope):
        self.envelopes.append(envelope)
        return "250 OK"


@pytest.fixture
def smtp(monkeypatch):
    """start(): an SMTP server on loopback, with the ROLLUP_SMTP_* variables pointing at it."""
    controllers = []

    def start(**options) -> Inbox:
        inbox, port = Inbox(), free_port()
        controller = Controller(inbox, hostname="127.0.0.1", port=port, **options)
        controller.start()
        controllers.append(controller)
        monkeypatch.setenv("ROLLUP_SMTP_HOST", "127.0.0.1")
        monkeypatch.setenv("ROLLUP_SMTP_PORT", str(port))
        monkeypatch.setenv("ROLLUP_SMTP_STARTTLS", "false")
        return inbox

    yield start
    for controller in controllers:
        controller.stop()


# ---------------------------------------------------------------------------------------- healthy


def test_a_healthy_installation_is_ok_on_every_check(project, rates, smtp):
    inbox = smtp()
    report = doctor()
    assert report.exit_code == 0, report.not_ok()
    assert not report.not_ok()
    assert report.document["status"] == "ok"
    checks = report.checks
    flavour = project.site.flavour
    kind = "Jira Cloud 1001.0.0-SNAPSHOT" if flavour == "cloud" else "Jira Data Center 9.12.15"
    assert f"{project.site.server.url} answers: {kind}; signed in as" in checks["jira"]["detail"]
    assert "all 9 configured projects are visible" in checks["projects"]["detail"]
    team = "customfield_10001" if flavour == "cloud" else "customfield_10300"
    assert checks["field team"]["detail"] == f"{team} 'Team' (configured: jira.fields.team: {team})"
    story_points = "customfield_10028" if flavour == "cloud" else "customfield_10002"
    assert checks["field story_points"]["detail"].startswith(f"{story_points} 'Story Points'")
    assert "matched by name" in checks["field story_points"]["detail"]
    roles = 7 if flavour == "cloud" else 8  # no Parent Link on Cloud: every level links through parent
    assert checks["field parent_link"]["detail"].startswith("none" if flavour == "cloud" else "customfield_10200")
    assert checks["field roles"]["detail"] == f"the same fields as the last sync stored ({roles} roles, 1 extra field)"
    detail = checks["store"]["detail"]
    assert str(project.db) in detail and f"schema version {SCHEMA_VERSION} (current)" in detail
    assert "(full, finished" in checks["last sync"]["detail"]
    live = len(Store.open(project.store_url).all_issue_ids())
    assert f"the store holds {live:,} issues; the server counts {live:,}" in checks["issue count"]["detail"]
    assert checks["schedule demo-weekly-portfolio"]["detail"].startswith("next ")
    assert str(rates) in checks["rates"]["detail"]
    assert "answers EHLO (no TLS)" in checks["smtp"]["detail"] and not inbox.envelopes
    token = DEMO_TOKEN if flavour == "cloud" else "local-demo-pat"
    assert token not in report.output


def test_json_and_text_report_the_same_lines(project):
    report = doctor()
    code, lines = doctor_text()
    assert code == report.exit_code == 0
    expected = [Check(c["name"], c["status"], c["detail"], c["todo"]).line() for c in report.document["checks"]]
    assert [steady(line) for line in lines[:-1]] == [steady(line) for line in expected]
    counts = report.document["counts"]
    assert lines[-1] == (f"{len(expected)} checks: {counts['ok']} ok, {counts['skip']} skip, {counts['warn']} warn, "
                         f"{counts['fail']} fail")
    assert lines[0].startswith("ok   config: mappings.yaml is valid: projects PAY, SCH, CLIN")


# ---------------------------------------------------------------------------------------- Jira


def test_a_configured_project_the_token_cannot_see_fails_naming_it(project):
    text = (project.path / "mappings.yaml").read_text()
    (project.path / "mappings.yaml").write_text(text.replace("SEC, STRAT]", "SEC, STRAT, OPS, PAYS]"))
    report = doctor()
    assert report.exit_code == 1
    assert report.status("projects") == "fail"
    detail = report.detail("projects")
    assert detail.startswith("OPS, PAYS (did you mean 'PAY'?) are not visible to the account behind ")
    assert "no such project, or no Browse permission" in detail
    assert "Browse projects on OPS, PAYS" in report.checks["projects"]["todo"]
    # The count of a scope naming unknown projects is refused by Jira itself, in its own words.
    assert report.status("issue count") == "fail" and "'OPS' does not exist" in report.detail("issue count")


def test_a_wrong_token_fails_the_connection_naming_the_variables(project, monkeypatch):
    cloud = project.site.flavour == "cloud"
    monkeypatch.setenv("JIRA_API_TOKEN" if cloud else "JIRA_PAT", WRONG)
    report = doctor()
    assert report.exit_code == 1
    assert report.status("jira") == "fail"
    variables = "JIRA_EMAIL and JIRA_API_TOKEN" if cloud else "JIRA_PAT"
    assert "rejected the credentials (401 Unauthorized" in report.detail("jira")
    assert variables in report.detail("jira")
    assert ("JIRA_API_TOKEN" if cloud else "JIRA_PAT") in report.checks["jira"]["todo"]
    for name in ("projects", "fields", "issue count"):
        assert report.status(name) == "skip" and "see 'jira' above" in report.detail(name)
    assert report.status("store") == "ok" and report.status("last sync") == "ok"  # the others still ran
    assert WRONG not in report.output


def test_missing_variables_fail_the_connection_naming_them(project, monkeypatch):
    for name in ("JIRA_EMAIL", "JIRA_API_TOKEN", "JIRA_PAT"):
        monkeypatch.delenv(name, raising=False)
    report = doctor()
    assert report.exit_code == 1 and report.status("jira") == "fail"
    assert "No credentials: set JIRA_EMAIL and JIRA_API_TOKEN for Jira Cloud, or JIRA_PAT" in report.detail("jira")


def test_a_closed_port_fails_the_connection_at_once_naming_the_url(project, monkeypatch):
    url = f"http://127.0.0.1:{free_port()}"
    monkeypatch.setenv("JIRA_URL", url)
    report = doctor()
    assert report.exit_code == 1
    assert report.seconds < 8, report.seconds
    assert report.status("jira") == "fail"
    assert report.detail("jira").startswith(f"Cannot reach Jira at {url} (GET /rest/api/2/serverInfo): the "
                                            "connection was refused")
    assert report.checks["jira"]["todo"] == "check the host and port in JIRA_URL, and that Jira is running"


@pytest.mark.parametrize("site", ["cloud"], indirect=True)
def test_an_unknown_host_fails_the_connection_naming_it(project, monkeypatch):
    monkeypatch.setenv("JIRA_URL", "https://jira.no-such-host.invalid")
    report = doctor()
    assert report.exit_code == 1
    assert report.detail("jira") == ("Cannot reach Jira at https://jira.no-such-host.invalid "
                                     "(GET /rest/api/2/serverInfo): the host name could not be resolved.")
    assert report.checks["jira"]["todo"] == "check the host name in JIRA_URL"
    assert report.status("tls") == "skip" and "cannot connect to jira.no-such-host.invalid:443" in report.detail("tls")


def test_a_jira_that_answers_too_slowly_fails_within_the_timeout_instead_of_hanging(project, sample_org, monkeypatch):
    site = project.site
    slow = Faults(slow_rate=1.0, slow_ms=2000)
    credentials = (DEMO_EMAIL, DEMO_TOKEN) if site.flavour == "cloud" else DEMO_PAT
    with LocalJira(sample_org, flavour=site.flavour, faults=slow, credentials=credentials) as server:
        monkeypatch.setenv("JIRA_URL", server.url)
        monkeypatch.setenv("JIRA_TIMEOUT", "1")
        report = doctor()
        time.sleep(2)  # the held answers find their clients gone: let that happen while output is captured
    assert report.exit_code == 1
    assert report.seconds < 8, report.seconds
    assert report.status("jira") == "fail"
    assert report.detail("jira").startswith("GET /rest/api/2/")
    assert "still failing after 2 attempts; last problem: connection problem (ReadTimeout)" in report.detail("jira")
    assert report.status("store") == "ok"


@pytest.mark.parametrize("site", ["cloud"], indirect=True)  # MOB is team-managed on Cloud
def test_a_per_project_field_is_shown_with_the_role_it_serves(project):
    text = (project.path / "mappings.yaml").read_text()
    (project.path / "mappings.yaml").write_text(text.replace(
        "  extra_fields: [Investment]\n",
        "  extra_fields: [Investment]\n  project_fields:\n    MOB: {story_points: Story point estimate}\n"))
    report = doctor()
    assert report.detail("field story_points").endswith(
        "; in MOB: customfield_10016 'Story point estimate' (configured: jira.project_fields.MOB.story_points)")
    assert report.detail("field 'Investment'") == "customfield_10050 'Investment' (configured: jira.extra_fields)"


def test_an_ambiguous_field_name_fails_with_the_connectors_message(project):
    text = (project.path / "mappings.yaml").read_text()
    team = "customfield_10001" if project.site.flavour == "cloud" else "customfield_10300"
    (project.path / "mappings.yaml").write_text(text.replace(f"    team: {team}\n", "    {}\n"))
    report = doctor()
    assert report.exit_code == 1
    assert report.status("fields") == "fail"
    assert report.detail("fields").startswith("Several Jira fields are named 'Team'")
    assert report.status("field roles") == "skip"


def test_a_field_chosen_differently_from_the_last_sync_warns_that_every_issue_is_read_again(project):
    text = (project.path / "mappings.yaml").read_text()
    real, legacy = (("customfield_10001", "customfield_10100") if project.site.flavour == "cloud"
                    else ("customfield_10300", "customfield_10301"))
    (project.path / "mappings.yaml").write_text(text.replace(f"team: {real}", f"team: {legacy}"))
    report = doctor()
    assert report.exit_code == 0
    assert report.status("field roles") == "warn"
    assert report.detail("field roles") == ("1 role(s) resolve differently from the last sync: "
                                            f"team: {real} → {legacy}")
    assert "the next sync re-reads every issue" in report.checks["field roles"]["todo"]


def test_a_jql_scope_is_not_compared_with_the_project_list(project):
    text = (project.path / "mappings.yaml").read_text()
    projects = "  projects: [PAY, SCH, CLIN, INT, MOB, PLAT, DATA, SEC, STRAT]\n"
    assert projects in text
    (project.path / "mappings.yaml").write_text(text.replace(projects, "  jql: 'project in (PAY, SCH)'\n"))
    report = doctor()
    assert report.status("projects") == "skip"
    assert report.detail("projects") == "scope is a JQL; not compared (project in (PAY, SCH))"
    # The store holds all nine projects: more than this scope holds now.
    assert report.status("issue count") == "warn" and "more stored than the scope holds" in report.detail("issue count")


# ---------------------------------------------------------------------------------------- the store


def test_a_missing_store_fails_naming_the_path_and_is_not_created(project, monkeypatch):
    missing = project.path / "elsewhere" / "rollup.db"
    monkeypatch.setenv("ROLLUP_DATABASE_URL", f"sqlite:///{missing}")
    report = doctor()
    assert report.exit_code == 1
    assert report.status("store") == "fail"
    assert report.detail("store") == f"no store yet at {missing}"
    assert "run rollup sync" in report.checks["store"]["todo"]
    assert not missing.parent.exists()
    for name in ("field roles", "last sync", "issue count"):
        assert report.status(name) == "skip"


def test_the_default_store_is_not_created_either(project, monkeypatch):
    monkeypatch.delenv("ROLLUP_DATABASE_URL")
    project.db.unlink()
    project.db.parent.rmdir()
    report = doctor()
    assert report.status("store") == "fail" and report.detail("store") == f"no store yet at {project.db}"
    assert not project.db.parent.exists()
    report = doctor("--database", f"sqlite:///{project.path / 'other.db'}")
    assert report.detail("store") == f"no store yet at {project.path / 'other.db'}"


def test_a_corrupted_sqlite_file_fails_naming_the_path(project):
    project.db.write_bytes(b"not a database, just a file someone overwrote " * 200)
    report = doctor()
    assert report.exit_code == 1
    assert report.status("store") == "fail"
    assert report.detail("store").startswith(f"cannot read the store at {project.db}: ")
    assert "file is not a database" in report.detail("store")
    assert "rollup sync --full" in report.checks["store"]["todo"]
    assert "INSERT" not in report.output and "SELECT" not in report.output


def test_a_stale_sync_warns_with_its_age_and_max_age_decides(project):
    with Store.open(project.store_url) as store:
        run = store.sync_run_rows()[-1]
        store.update_run(run["id"], finished=datetime.now(timezone.utc) - timedelta(days=10))
    report = doctor()
    assert report.exit_code == 0
    assert report.status("last sync") == "warn"
    assert f"run {run['id']} (full, finished " in report.detail("last sync")
    assert report.detail("last sync").endswith("10 days ago) ok, older than --max-age 8d")
    assert doctor("--max-age", "2w").status("last sync") == "ok"
    code, lines = doctor_text("--max-age", "soon")
    assert code == 2


@pytest.mark.parametrize("site", ["cloud"], indirect=True)  # a lagging approximate count is a Cloud fault
def test_an_incomplete_sync_is_named_with_its_error(project, sample_org):
    lagging = Faults(count_offset=50)
    with LocalJira(sample_org, flavour="cloud", faults=lagging, credentials=(DEMO_EMAIL, DEMO_TOKEN)) as server:
        with pytest.raises(Exception, match="could not be proven complete"):
            sync_into(project.store_url, server, "cloud", mappings_for("cloud"))
    report = doctor()
    assert report.exit_code == 0
    assert report.status("last sync") == "warn"
    detail = report.detail("last sync")
    assert "ended incomplete: the sweep could not be proven complete" in detail
    assert "the server counts" in detail and "the last complete sync was run 1 (full" in detail


def test_a_failed_sync_fails_naming_its_error(project):
    now = datetime.now(timezone.utc)
    with Store.open(project.store_url) as store:
        store.record_run(started=now, finished=now, mode="incremental", status="failed",
                         error="Jira at https://acme.atlassian.net rejected the credentials")
    report = doctor()
    assert report.exit_code == 1
    assert report.status("last sync") == "fail"
    assert "failed: Jira at https://acme.atlassian.net rejected the credentials" in report.detail("last sync")


@pytest.mark.parametrize("site", ["datacenter"], indirect=True)
def test_a_store_synced_on_each_database_is_healthy(project, database_url, monkeypatch):
    site = project.site
    sync_into(database_url, site.server, site.flavour, mappings_for(site.flavour), full=True)
    monkeypatch.setenv("ROLLUP_DATABASE_URL", database_url)
    report = doctor()
    assert report.exit_code == 0
    assert {name for name, line in report.not_ok().items()} == {"rates", "smtp"}  # neither configured
    how = "PRAGMA integrity_check ok" if database_url.startswith("sqlite") else "the server answers"
    assert f"{how}; schema version {SCHEMA_VERSION} (current)" in report.detail("store")
    assert report.status("last sync") == "ok" and report.status("issue count") == "ok"


# ---------------------------------------------------------------------------------------- SMTP


def test_smtp_at_a_closed_port_fails_and_a_listening_server_is_ok(project, smtp, monkeypatch):
    monkeypatch.setenv("ROLLUP_SMTP_HOST", "127.0.0.1")
    port = free_port()
    monkeypatch.setenv("ROLLUP_SMTP_PORT", str(port))
    monkeypatch.setenv("ROLLUP_SMTP_PASSWORD", "smtp-s3cret-pw")
    report = doctor()
    assert report.exit_code == 1 and report.status("smtp") == "fail"
    assert report.detail("smtp") == (f"cannot connect to 127.0.0.1:{port}: the connection was refused "
                                     "(nothing listens there)")
    smtp()
    report = doctor()
    assert report.status("smtp") == "ok", report.not_ok()
    assert "smtp-s3cret-pw" not in report.output


def test_smtp_without_the_starttls_it_is_told_to_use_fails(project, smtp, monkeypatch):
    smtp()
    monkeypatch.setenv("ROLLUP_SMTP_STARTTLS", "true")
    report = doctor()
    assert report.status("smtp") == "fail"
    assert report.detail("smtp").endswith("answers EHLO, but the server does not offer STARTTLS")


def test_smtp_is_skipped_unless_configured_but_a_job_that_emails_needs_it(project):
    assert doctor().status("smtp") == "skip"
    schedule = project.path / "schedules" / "demo.yaml"
    schedule.write_text(schedule.read_text().replace("        outbox: outputs/outbox\n", ""))
    report = doctor()
    assert report.exit_code == 1 and report.status("smtp") == "fail"
    assert report.detail("smtp") == "ROLLUP_SMTP_HOST is not set, but demo-weekly-portfolio send(s) email"

