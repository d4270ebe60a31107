"""Several sites in one store, the pure parts: keys and ids told apart, links per site, freshness per site."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from rollup.store.sites import (
    SITE_ID_SPAN,
    JiraLinks,
    SiteIdentity,
    browse_url,
    last_ok_finished,
    runs_by_site,
    split_key,
    worst_last_run,
)

T = datetime(2026, 11, 30, 7, 0, tzinfo=timezone.utc)


def test_a_later_site_is_told_apart_everywhere_and_the_first_is_left_as_it_is():
    first, dc = SiteIdentity("cloud", 0), SiteIdentity("dc", 2)
    assert (first.key("PAY-1"), first.store_id(10001), first.person("5b10a"), first.state_key("x")) == (
        "PAY-1", 10001, "5b10a", "x")
    assert (dc.key("PAY-1"), dc.store_id(10001), dc.person("jsmith"), dc.state_key("x")) == (
        "dc:PAY-1", 2 * SITE_ID_SPAN + 10001, "dc:jsmith", "site.dc.x")
    assert dc.raw_key("dc:PAY-1") == "PAY-1" and dc.jira_id(dc.store_id(7)) == 7
    # Changelog values: epic and parent keys or ids, assignees; statuses stay as Jira wrote them.
    assert [dc.value(f, v) for f, v in (("epic", "PAY-9"), ("parent", "10002"), ("assignee", "jsmith"),
                                        ("status", "Done"), ("epic", None))] == [
        "dc:PAY-9", str(2 * SITE_ID_SPAN + 10002), "dc:jsmith", "Done", None]
    assert split_key("dc:PAY-1") == ("dc", "PAY-1") and split_key("PAY-1") == (None, "PAY-1")


def test_each_key_links_to_its_own_site():
    links = JiraLinks("https://acme.atlassian.net/", {"dc": "https://jira.acme.internal"})
    assert browse_url(links, "PAY-1") == "https://acme.atlassian.net/browse/PAY-1"
    assert browse_url(links, "dc:PAY-1") == "https://jira.acme.internal/browse/PAY-1"
    assert browse_url(links, "emea:PAY-1") is None  # a site whose base URL is not known: no link, not a wrong one
    assert browse_url("https://acme.atlassian.net", "PAY-1") == "https://acme.atlassian.net/browse/PAY-1"


def _run(site, status, hours_ago):
    return {"site": site, "status": status, "finished": T - timedelta(hours=hours_ago)}


def test_a_site_that_keeps_failing_does_not_hide_behind_another_sites_fresh_data():
    runs = [_run(None, "ok", 100), _run("cloud", "ok", 50), _run("dc", "ok", 49), _run("cloud", "failed", 2),
            _run("dc", "ok", 1), _run("cloud", "failed", 0.5)]
    assert set(runs_by_site(runs)) == {"cloud", "dc"}  # the runs from before the sites no longer count
    assert last_ok_finished(runs) == T - timedelta(hours=50)  # cloud's last good sync, not dc's
    assert worst_last_run(runs)["site"] == "cloud" and worst_last_run(runs)["status"] == "failed"
    # Every site ok: the data is as old as the site synced longest ago.
    fine = [_run("cloud", "ok", 3), _run("dc", "ok", 1)]
    assert last_ok_finished(fine) == T - timedelta(hours=3) and worst_last_run(fine)["site"] == "cloud"
    # A site never synced ok: no time at all, so a job's freshness check syncs.
    assert last_ok_finished([_run("cloud", "ok", 1), _run("dc", "failed", 1)]) is None
    # A store of one site: its own last run, as before.
    one = [_run(None, "ok", 5), _run(None, "failed", 1)]
    assert last_ok_finished(one) == T - timedelta(hours=5) and worst_last_run(one)["status"] == "failed"
