"""Several Jira sites in one portfolio, over real HTTP: a Cloud and a Data Center local Jira at once.

Both serve an organisation generated from the same seed, so every key and every issue, worklog and
sprint id exists on both — the worst case a company with two Jiras meets. What must hold: both land
in one store, side by side and told apart (``PAY-1`` and ``dc:PAY-1``), each with its own sync state;
a re-sync of one site never touches the other's rows; rules match on site; the workbook shows the site
and links each key to its own Jira.
"""

from __future__ import annotations

from collections import Counter

import openpyxl
import pytest
from e2e_helpers import REPO, TEAM_FIELDS, serve

from connectors.jira.errors import JiraConfigError
from rollup.config import parse_config
from rollup.errors import ConfigError
from rollup.frames import load_frames
from rollup.jobs.report import run_portfolio
from rollup.jobs.sync import run_sync
from rollup.localjira import SampleOrg
from rollup.localjira.credentials import DEMO_EMAIL, DEMO_PAT, DEMO_TOKEN
from rollup.mapping import apply
from rollup.store import STATE_ISSUES_HWM, Store
from rollup.store.sites import SITE_ID_SPAN, split_key

ENV = {"CLOUD_EMAIL": DEMO_EMAIL, "CLOUD_TOKEN": DEMO_TOKEN, "DC_PAT": DEMO_PAT}


def _config(cloud_url: str, dc_url: str, *, order: tuple[str, str] = ("cloud", "dc"), rules: str = ""):
    text = (REPO / "mappings.yaml").read_text()
    sites = {
        "cloud": f"  - name: cloud\n    url: {cloud_url}\n    deployment: cloud\n"
                 "    email_env: CLOUD_EMAIL\n    token_env: CLOUD_TOKEN\n",
        "dc": f"  - name: dc\n    url: {dc_url}\n    deployment: datacenter\n    pat_env: DC_PAT\n"
              f"    fields: {{team: {TEAM_FIELDS['datacenter'][0]}}}\n",
    }
    text = text.replace("\nsync:\n", "\nsites:\n" + "".join(sites[name] for name in order) + "\nsync:\n", 1)
    if rules:
        text = text.replace("\nrules:\n", "\nrules:\n" + rules, 1)
    return parse_config(text)


def _config_file(folder, cloud_url: str, dc_url: str):
    """The shipped mappings.yaml with a cloud and a dc site, written to ``folder`` (what the CLI reads)."""
    text = (REPO / "mappings.yaml").read_text()
    sites = (f"sites:\n  - {{name: cloud, url: '{cloud_url}', deployment: cloud, email_env: CLOUD_EMAIL, "
             f"token_env: CLOUD_TOKEN}}\n  - {{name: dc, url: '{dc_url}', deployment: datacenter, "
             f"pat_env: DC_PAT, fields: {{team: {TEAM_FIELDS['datacenter'][0]}}}}}\n")
    path = folder / "mappings.yaml"
    path.write_text(text.replace("\nsync:\n", "\n" + sites + "\nsync:\n", 1))
    return path


def _live(org: SampleOrg) -> dict[int, str]:
    return {org.issue_id(pos): org.key(pos) for pos in range(org.size) if org.live(pos)}


@pytest.fixture()
def two_orgs():
    # Two objects from one seed: identical data (colliding keys and ids), changed independently.
    return SampleOrg.generate(seed=7, issues=400), SampleOrg.generate(seed=7, issues=400)


def test_two_sites_land_in_one_store_told_apart(two_orgs, tmp_path, database_url):
    # On PostgreSQL too: the second site's ids are beyond 32 bits.
    cloud_org, dc_org = two_orgs
    db = database_url
    rule = ("  - id: dc-is-keep-the-lights-on\n    priority: 100\n    when: {site: [dc], issue_type: [Epic]}\n"
            "    set: {bucket: ktlo}\n")
    with serve(cloud_org, "cloud") as cloud, serve(dc_org, "datacenter") as dc:
        config = _config(cloud.url, dc.url, rules=rule)
        result = run_sync(config, database_url=db, env=ENV)
        live = _live(cloud_org)
        assert [s.site for s in result.sites] == ["cloud", "dc"]
        assert [(s.mode, s.new) for s in result.sites] == [("full", len(live)), ("full", len(live))]
        assert result.new == 2 * len(live)

        with Store.open(db) as store:
            rows = store.issue_rows()
            by_key = {r["key"]: r for r in rows}
            # Every key of the organisation is there twice: as itself (cloud) and as dc:<key>.
            assert len(rows) == 2 * len(live)
            assert {k for k in by_key if ":" not in k} == set(live.values())
            assert {split_key(k)[1] for k in by_key if k.startswith("dc:")} == set(live.values())
            pay1 = next(k for k in sorted(live.values()) if k.startswith("PAY-"))
            a, b = by_key[pay1], by_key[f"dc:{pay1}"]
            assert (a["site"], b["site"]) == ("cloud", "dc")
            assert a["id"] < SITE_ID_SPAN <= b["id"] and b["id"] - SITE_ID_SPAN == a["id"]
            # Parent and epic keys point inside their own site.
            dc_rows = [r for r in rows if r["site"] == "dc"]
            assert all((r["epic_key"] or "dc:").startswith("dc:") and (r["parent_key"] or "dc:").startswith("dc:")
                       for r in dc_rows)
            assert sum(1 for r in dc_rows if r["epic_key"]) == sum(1 for r in rows if r["site"] == "cloud"
                                                                   and r["epic_key"]) > 0
            # History, worklogs and sprints of both sites, none overwritten by the other's equal ids.
            by_site = Counter("dc" if t["issue_id"] >= SITE_ID_SPAN else "cloud" for t in store.transition_rows())
            assert by_site["cloud"] == by_site["dc"] > 0
            worklogs = Counter("dc" if w["id"] >= SITE_ID_SPAN else "cloud" for w in store.worklog_rows())
            assert worklogs["cloud"] == worklogs["dc"] > 0
            sprints = Counter("dc" if s["id"] >= SITE_ID_SPAN else "cloud" for s in store.sprint_rows())
            assert sprints["cloud"] == sprints["dc"] > 0
            # Each site keeps its own cursor and base URL; the field catalogue holds both sites' fields.
            state = store.state()
            assert state[STATE_ISSUES_HWM] and state[f"site.dc.{STATE_ISSUES_HWM}"]
            assert state["site.dc.server.base_url"] == dc.url.rstrip("/")
            team_fields = {r["id"] for r in store.field_rows() if r["role"] == "team"}
            assert team_fields == {TEAM_FIELDS["cloud"][0], "dc:" + TEAM_FIELDS["datacenter"][0]}
            runs = store.sync_run_rows()
            assert sorted(r["site"] for r in runs) == ["cloud", "dc"] and {r["status"] for r in runs} == {"ok"}
            # In parallel: each site's sync started before the other's finished.
            assert max(r["started"] for r in runs) < min(r["finished"] for r in runs)

            # The mapping: a rule on site decides the dc epics only; teams come from each site's own field.
            mapped = apply(load_frames(store).issues, config).issues
            epics = mapped[mapped["hierarchy_level"].eq(1)]
            dc_epics = epics[epics["site"].astype(str).eq("dc")]
            cloud_epics = epics[epics["site"].astype(str).eq("cloud")]
            assert (dc_epics["bucket"].astype(str) == "ktlo").all()
            assert (cloud_epics["bucket"].astype(str) == "ktlo").mean() < 1
            team_of = dict(zip(epics["key"].astype(str), epics["team_id"].astype(str)))
            assert all(team_of[f"dc:{k}"] == team_of[k] for k in cloud_epics["key"].astype(str))
            # Children roll up to the epic on their own site: the same counts on both.
            assert all(f"dc:{k}" in set(dc_epics["key"].astype(str)) for k in cloud_epics["key"].astype(str))

            # The workbook: a Site column, both copies of a key, each linked to its own Jira.
            report = run_portfolio(store, config, as_of=cloud_org.now.date(), out_dir=tmp_path / "out")
        sheet = openpyxl.load_workbook(report.workbook)["Epics"]
        header = [c.value for c in sheet[1]]
        assert header[:2] == ["Epic", "Site"]
        cells = {row[0].value: row for row in sheet.iter_rows(min_row=2) if row[0].value}
        epic = next(k for k in sorted(cloud_epics["key"].astype(str)) if k in cells and f"dc:{k}" in cells)
        assert cells[epic][1].value == "cloud" and cells[f"dc:{epic}"][1].value == "dc"
        assert cells[epic][0].hyperlink.target == f"{cloud.url.rstrip('/')}/browse/{epic}"
        assert cells[f"dc:{epic}"][0].hyperlink.target == f"{dc.url.rstrip('/')}/browse/{epic}"
        # The same epic on both sites has the same figures (the organisations are equal).
        figures = header.index("Issues")
        assert cells[epic][figures].value == cells[f"dc:{epic}"][figures].value

        # A week later on the Data Center site only: the cloud site's rows stay exactly as they were.
        changes = dc_org.advance(days=7, seed=3)
        assert changes["deleted"]
        with Store.open(db) as store:
            cloud_before = {r["key"]: r for r in store.issue_rows() if r["site"] == "cloud"}
        again = run_sync(config, database_url=db, env=ENV, full=True)
        cloud_result, dc_result = again.sites
        assert (cloud_result.new, cloud_result.changed, cloud_result.deleted) == (0, 0, 0)
        assert dc_result.deleted == len(changes["deleted"]) and dc_result.new + dc_result.changed > 0
        with Store.open(db) as store:
            now_rows = store.issue_rows()
            assert {r["key"]: r for r in now_rows if r["site"] == "cloud"} == cloud_before
            dc_keys = {split_key(r["key"])[1] for r in now_rows if r["site"] == "dc"}
            assert dc_keys == set(_live(dc_org).values())


def test_a_site_that_fails_stops_no_other(two_orgs, tmp_path):
    cloud_org, dc_org = two_orgs
    db = f"sqlite:///{tmp_path / 'sites.db'}"
    with serve(cloud_org, "cloud") as cloud:
        with serve(dc_org, "datacenter") as dc:
            dead = dc.url
        config = _config(cloud.url, dead)
        with pytest.raises(Exception) as caught:
            run_sync(config, database_url=db, env=ENV)
        assert "site dc" in str(caught.value)
        with Store.open(db) as store:
            rows = store.issue_rows()
            assert {r["site"] for r in rows} == {"cloud"} and len(rows) == len(_live(cloud_org))
            runs = {r["site"]: r["status"] for r in store.sync_run_rows()}
            assert runs == {"cloud": "ok", "dc": "failed"}


def test_sites_reordered_or_dropped_are_refused(two_orgs, tmp_path):
    cloud_org, dc_org = two_orgs
    db = f"sqlite:///{tmp_path / 'sites.db'}"
    with serve(cloud_org, "cloud") as cloud, serve(dc_org, "datacenter") as dc:
        run_sync(_config(cloud.url, dc.url), database_url=db, env=ENV)
        with Store.open(db) as store:
            before = store.counts()
        # dc first would turn every cloud key into another issue's: refused, nothing touched.
        with pytest.raises(ConfigError, match="first site is 'cloud'"):
            run_sync(_config(cloud.url, dc.url, order=("dc", "cloud")), database_url=db, env=ENV)
        # A mappings.yaml without sites: would sweep the dc issues away as deleted: refused.
        one_site = parse_config((REPO / "mappings.yaml").read_text())
        with pytest.raises(ConfigError, match="several Jira sites"):
            run_sync(one_site, database_url=db, env={"JIRA_URL": cloud.url, "JIRA_EMAIL": DEMO_EMAIL,
                                                      "JIRA_API_TOKEN": DEMO_TOKEN})
        with Store.open(db) as store:
            assert store.counts() == before


def test_a_site_without_its_credentials_is_named(tmp_path):
    config = _config("http://127.0.0.1:9", "http://127.0.0.1:10")
    with pytest.raises(JiraConfigError) as caught:
        run_sync(config, database_url=f"sqlite:///{tmp_path / 'x.db'}", env={"CLOUD_EMAIL": DEMO_EMAIL,
                                                                               "CLOUD_TOKEN": DEMO_TOKEN})
    message = str(caught.value)
    assert "site 'dc'" in message and "DC_PAT" in message and DEMO_TOKEN not in message
    assert not (tmp_path / "x.db").exists()


def test_rollup_sync_with_sites_prints_each_site(two_orgs, tmp_path):
    from click.testing import CliRunner

    from rollup.cli import cli

    cloud_org, dc_org = two_orgs
    with serve(cloud_org, "cloud") as cloud, serve(dc_org, "datacenter") as dc:
        config = _config_file(tmp_path, cloud.url, dc.url)
        db = f"sqlite:///{tmp_path / 'cli.db'}"
        result = CliRunner().invoke(cli, ["sync", "--config", str(config), "--database", db], env=ENV)
        assert result.exit_code == 0, result.output
        live = len(_live(cloud_org))
        assert f"issues: {2 * live} new" in result.output
        assert f"site cloud (full): {live} new" in result.output and f"site dc (full): {live} new" in result.output
        assert DEMO_TOKEN not in result.output and DEMO_PAT not in result.output
        result = CliRunner().invoke(cli, ["sync", "--config", str(config), "--database", db, "--format", "json"],
                                    env=ENV)
        assert result.exit_code == 0, result.output
        import json

        payload = json.loads(result.output)
        assert [(s["site"], s["mode"], s["new"]) for s in payload["sites"]] == [("cloud", "incremental", 0),
                                                                               ("dc", "incremental", 0)]


def test_doctor_checks_every_site(two_orgs, tmp_path):
    import json

    from click.testing import CliRunner

    from rollup.cli import cli

    cloud_org, dc_org = two_orgs
    db = f"sqlite:///{tmp_path / 'sites.db'}"
    with serve(cloud_org, "cloud") as cloud, serve(dc_org, "datacenter") as dc:
        config = _config_file(tmp_path, cloud.url, dc.url)
        assert CliRunner().invoke(cli, ["sync", "--config", str(config), "--database", db], env=ENV).exit_code == 0
        live = len(_live(cloud_org))
        dc_org.advance(days=7, seed=3)  # the dc site changes; the store does not know yet
        result = CliRunner().invoke(cli, ["doctor", "--format", "json", "--config", str(config), "--database", db,
                                          "--schedules", str(tmp_path / "none")], env=ENV)
        checks = {c["name"]: c for c in json.loads(result.stdout)["checks"]}
        assert f"{cloud.url} answers: Jira Cloud" in checks["jira (cloud)"]["detail"]
        assert f"{dc.url} answers: Jira Data Center" in checks["jira (dc)"]["detail"]
        assert "jira" not in checks  # no check of a site in JIRA_URL: there is none
        assert checks["field team (dc)"]["detail"].startswith(f"{TEAM_FIELDS['datacenter'][0]} 'Team'")
        assert checks["field team (cloud)"]["detail"].startswith(f"{TEAM_FIELDS['cloud'][0]} 'Team'")
        assert checks["field roles (cloud)"]["status"] == checks["field roles (dc)"]["status"] == "ok"
        # Each site's count is its own: cloud agrees, dc has changed since the sync.
        assert f"the store holds {live:,} issues; the server counts {live:,}" in checks["issue count (cloud)"]["detail"]
        assert checks["issue count (dc)"]["status"] == "warn"
        assert checks["last sync (cloud)"]["status"] == checks["last sync (dc)"]["status"] == "ok"
        assert f"the store holds {live:,} issues" in checks["issue count (dc)"]["detail"]
        assert DEMO_TOKEN not in result.output and DEMO_PAT not in result.output


def test_lint_write_back_goes_to_each_epics_own_site(two_orgs, tmp_path, monkeypatch):
    from rollup.jobs.lint import run_lint_report

    cloud_org, dc_org = two_orgs
    db = f"sqlite:///{tmp_path / 'sites.db'}"
    for name, value in ENV.items():
        monkeypatch.setenv(name, value)
    with serve(cloud_org, "cloud") as cloud, serve(dc_org, "datacenter") as dc:
        config = _config(cloud.url, dc.url)
        run_sync(config, database_url=db)
        with Store.open(db) as store:
            report = run_lint_report(store, config, out_dir=tmp_path / "lint", as_of=cloud_org.now.date(), apply=True)
        label = config.lint.writeback.label
        added = [a for a in report.writeback.actions if a.action == "add-label"]
        assert {a.status for a in added} == {"done"}
        cloud_keys = {a.key for a in added if ":" not in a.key}
        dc_keys = {split_key(a.key)[1] for a in added if a.key.startswith("dc:")}
        assert cloud_keys and cloud_keys == dc_keys  # the two sites are equal, so are their offenders
        for org, keys in ((cloud_org, cloud_keys), (dc_org, dc_keys)):
            labelled = {org.key(pos) for pos in range(org.size)
                        if org.live(pos) and label in org.tuples[org.labels[pos]]}
            assert labelled == keys
        # Applied again: nothing left to do on either site.
        with Store.open(db) as store:
            again = run_lint_report(store, config, out_dir=tmp_path / "lint", as_of=cloud_org.now.date(), apply=True)
        assert {a.status for a in again.writeback.actions if a.action == "add-label"} == {"unchanged"}


def test_a_store_of_one_site_gains_a_second_without_reading_the_first_again(two_orgs, tmp_path):
    cloud_org, dc_org = two_orgs
    db = f"sqlite:///{tmp_path / 'grown.db'}"
    with serve(cloud_org, "cloud") as cloud, serve(dc_org, "datacenter") as dc:
        # First a store of the Data Center alone, synced as one site from JIRA_URL.
        one_site = parse_config((REPO / "mappings.yaml").read_text().replace(
            "    team: customfield_10001", f"    team: {TEAM_FIELDS['datacenter'][0]}"))
        run_sync(one_site, database_url=db, env={"JIRA_URL": dc.url, "JIRA_PAT": DEMO_PAT})
        with Store.open(db) as store:
            before = {r["id"]: r for r in store.issue_rows()}
        # Listing the cloud site first would take the Data Center's issues for the cloud's: refused.
        with pytest.raises(ConfigError, match="holds the issues of .*list 'dc' first"):
            run_sync(_config(cloud.url, dc.url), database_url=db, env=ENV)
        with Store.open(db) as store:
            assert {r["id"]: r for r in store.issue_rows()} == before
        # Listed first, the Data Center keeps its issues as they are (nothing re-read) and names them its own.
        result = run_sync(_config(cloud.url, dc.url, order=("dc", "cloud")), database_url=db, env=ENV)
        dc_result, cloud_result = result.sites
        assert (dc_result.mode, dc_result.new) == ("incremental", 0)
        assert (cloud_result.mode, cloud_result.new) == ("full", len(_live(cloud_org)))
        with Store.open(db) as store:
            rows = store.issue_rows()
            assert {r["key"] for r in rows if r["site"] == "dc"} == {r["key"] for r in before.values()}
            assert all(":" not in r["key"] for r in rows if r["site"] == "dc")
            cloud_rows = [r for r in rows if r["site"] == "cloud"]
            assert cloud_rows and all(r["key"].startswith("cloud:") for r in cloud_rows)
            assert None not in {r["site"] for r in rows}
            # A later site's people are its own: the same account id on two sites is two people.
            assert all((r["assignee_id"] or "cloud:").startswith("cloud:") for r in cloud_rows)
            worklog_authors = {w["author_id"] for w in store.worklog_rows() if w["id"] >= SITE_ID_SPAN}
            assert worklog_authors and all(a.startswith("cloud:") for a in worklog_authors if a)
            # Each site's freshness is its own: the job's data is as old as its oldest site's last sync.
            from rollup.schedule.steps import last_successful_sync

            runs = store.sync_run_rows()
            by_site = {r["site"]: r["finished"] for r in runs if r["site"]}
            assert last_successful_sync(store) == min(by_site.values())


def test_rollup_sync_runs_the_sites_in_processes_of_their_own(tmp_path):
    """As cron runs it (no other thread in the process): each site's sync in a forked process of its own."""
    import json
    import socket
    import subprocess
    import sys
    import time
    import urllib.request

    from rollup.localjira.credentials import authorization, demo_credentials

    def start(flavour: str) -> tuple[subprocess.Popen, str]:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        proc = subprocess.Popen([sys.executable, "-m", "rollup.cli", "localjira", "serve", "--flavour", flavour,
                                 "--issues", "400", "--seed", "7", "--port", str(port)],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=REPO)
        url = f"http://127.0.0.1:{port}"
        request = urllib.request.Request(url + "/rest/api/2/serverInfo",
                                         headers={"Authorization": authorization(demo_credentials(flavour))})
        deadline = time.monotonic() + 120
        while True:
            try:
                urllib.request.urlopen(request, timeout=5).read()
                return proc, url
            except OSError:
                assert proc.poll() is None and time.monotonic() < deadline, f"local Jira ({flavour}) did not start"
                time.sleep(0.2)

    servers = [start("cloud"), start("datacenter")]
    try:
        (_, cloud_url), (_, dc_url) = servers
        config = _config_file(tmp_path, cloud_url, dc_url)
        env = {k: v for k, v in __import__("os").environ.items() if not k.startswith(("JIRA_", "ROLLUP_"))}
        env.update(ENV)
        db = f"sqlite:///{tmp_path / 'procs.db'}"
        args = [sys.executable, "-m", "rollup.cli", "sync", "--config", str(config), "--database", db, "--format",
                "json"]
        first = subprocess.run(args, env=env, capture_output=True, text=True, timeout=600, cwd=tmp_path)
        assert first.returncode == 0, first.stderr[-3000:]
        out = json.loads(first.stdout)
        live = len(_live(SampleOrg.generate(seed=7, issues=400)))
        assert out["parallel"] == "processes"
        assert [(s["site"], s["mode"], s["new"]) for s in out["sites"]] == [("cloud", "full", live),
                                                                           ("dc", "full", live)]
        with Store.open(db) as store:
            rows = store.issue_rows()
            assert Counter(r["site"] for r in rows) == {"cloud": live, "dc": live}
            assert {r["status"] for r in store.sync_run_rows()} == {"ok"}
        again = subprocess.run(args, env=env, capture_output=True, text=True, timeout=600, cwd=tmp_path)
        assert again.returncode == 0, again.stderr[-3000:]
        assert [(s["mode"], s["new"], s["changed"]) for s in json.loads(again.stdout)["sites"]] == [
            ("incremental", 0, 0), ("incremental", 0, 0)]
        # The Data Center goes away: its process fails, the cloud's syncs all the same, the run names the site.
        servers[1][0].terminate()
        servers[1][0].wait(timeout=10)
        down = subprocess.run(args[:-2], env=env, capture_output=True, text=True, timeout=600, cwd=tmp_path)
        assert down.returncode != 0 and "site dc" in down.stderr and "Traceback" not in down.stderr, down.stderr
        assert "cannot reach jira" in down.stderr.lower() and DEMO_PAT not in down.stderr
        with Store.open(db) as store:
            last = {r["site"]: r["status"] for r in store.sync_run_rows()}
            assert last == {"cloud": "ok", "dc": "failed"}
    finally:
        for proc, _ in servers:
            proc.terminate()
            proc.wait(timeout=10)
