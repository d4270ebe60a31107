"""Field discovery, hierarchy, full changelogs and worklogs over real HTTP, compared with the org itself."""

from __future__ import annotations

import pytest
from e2e_helpers import (
    FLAVOURS,
    TEAM_FIELDS,
    connect,
    expected_links,
    live_positions,
    run_sync,
    scope,
    serve,
    stored_worklog_totals,
    transition_counts,
    worklog_totals,
)

from connectors.jira.errors import JiraFieldError
from rollup.localjira.sampledata import PROJECTS, T_SUB, TEAM_MANAGED
from rollup.store import Store


def rows_by_key(store):
    return {r["key"]: r for r in store.issue_rows()}


# ---------------------------------------------------------------------------------- fields
@pytest.mark.parametrize("flavour", FLAVOURS)
def test_duplicate_team_field_is_a_clear_error_naming_both_ids(flavour, shared_org, tmp_path):
    real, legacy = TEAM_FIELDS[flavour]
    with serve(shared_org, flavour) as server:
        with connect(server, flavour) as conn, pytest.raises(JiraFieldError) as err:
            conn.discover_fields(overrides={}, extra=["Investment"])
        message = str(err.value)
        assert "'Team'" in message and real in message and legacy in message
        assert "jira: fields: {team: " in message  # how to pin one, in mappings.yaml terms

        # The sync stops before writing any issue.
        with Store.open(f"sqlite:///{tmp_path / 'dup.db'}") as store:
            with pytest.raises(JiraFieldError):
                run_sync(store, server, flavour, sync_scope=scope(flavour, field_overrides={}))
            assert store.counts()["issues"] == 0

        # Pinning either id (or the real one by id) resolves the role to exactly that field.
        with connect(server, flavour) as conn:
            for pinned in (real, legacy):
                fmap = conn.discover_fields(overrides={"team": pinned})
                assert fmap.ids("team") == [pinned]


@pytest.mark.parametrize("flavour", FLAVOURS)
def test_unknown_extra_field_lists_the_closest_names(flavour, shared_org):
    with serve(shared_org, flavour) as server, connect(server, flavour) as conn:
        with pytest.raises(JiraFieldError) as err:
            conn.discover_fields(overrides={"team": TEAM_FIELDS[flavour][0]}, extra=["Investmnet"])
    message = str(err.value)
    assert "'Investmnet'" in message and "Closest names" in message and "'Investment'" in message


def test_synced_fields_team_and_investment(synced):
    by_key = rows_by_key(synced.store)
    org = synced.org
    fields = {r["id"]: r for r in synced.store.field_rows()}
    assert fields[TEAM_FIELDS[synced.flavour][0]]["role"] == "team"
    assert fields[TEAM_FIELDS[synced.flavour][1]]["role"] is None
    wrong = [(k, r["team"]) for pos in live_positions(org)
             for k, r in [(org.key(pos), by_key[org.key(pos)])] if r["team"] != PROJECTS[org.proj[pos]].name]
    assert not wrong, wrong[:5]
    invested = [pos for pos in live_positions(org) if org.invest[pos] >= 0]
    assert invested
    for pos in invested:
        assert by_key[org.key(pos)]["custom"]["Investment"]


def test_story_points_from_both_fields_equal_the_orgs(synced):
    org, by_key = synced.org, rows_by_key(synced.store)
    mismatched = []
    for pos in live_positions(org):
        want = float(org.sp[pos]) if org.sp[pos] >= 0 else None
        got = by_key[org.key(pos)]["story_points"]
        if got != want:
            mismatched.append((org.key(pos), got, want))
    assert not mismatched, mismatched[:10]
    # Both fields really carried points: team-managed MOB ("Story point estimate") and the rest.
    pointed = {PROJECTS[org.proj[p]].key in TEAM_MANAGED for p in live_positions(org) if org.sp[p] >= 0}
    assert pointed == {True, False}


def test_per_project_field_override_wins_for_that_project_only(shared_org, tmp_path):
    """Pin story points to "Story Points" site-wide: team-managed MOB loses its points, unless a
    per-project override points MOB at its own "Story point estimate" field."""
    org = shared_org
    site_wide = {"team": TEAM_FIELDS["cloud"][0], "story_points": "Story Points"}
    mob = {p for p in live_positions(org) if PROJECTS[org.proj[p]].key in TEAM_MANAGED and org.sp[p] >= 0}
    assert mob, "the sample organisation has estimated issues in its team-managed project"

    def points(project_overrides):
        with Store.open(f"sqlite:///{tmp_path / f'{len(project_overrides)}.db'}") as store:
            with serve(org, "cloud") as server:
                run_sync(store, server, "cloud", sync_scope=scope(
                    "cloud", field_overrides=site_wide, project_field_overrides=project_overrides))
            return {r["key"]: r["story_points"] for r in store.issue_rows()}

    without = points({})
    assert all(without[org.key(p)] is None for p in mob)
    with_override = points({"MOB": {"story_points": "customfield_10016"}})
    assert all(with_override[org.key(p)] == float(org.sp[p]) for p in mob)
    others = [p for p in live_positions(org) if p not in mob and org.sp[p] >= 0]
    assert others and all(with_override[org.key(p)] == without[org.key(p)] == float(org.sp[p]) for p in others)


# ---------------------------------------------------------------------------------- hierarchy
def test_hierarchy_levels_parents_and_epics(synced):
    org, by_key = synced.org, rows_by_key(synced.store)
    assert {r["hierarchy_level"] for r in by_key.values()} == {-1, 0, 1, 2}
    wrong = []
    for pos in live_positions(org):
        if pos in org.dangling_epic:
            continue
        level, parent, epic = expected_links(org, pos)
        row = by_key[org.key(pos)]
        got = (row["hierarchy_level"], row["parent_key"], row["epic_key"])
        if got != (level, parent, epic):
            wrong.append((org.key(pos), org.itype[pos], got, (level, parent, epic)))
    assert not wrong, wrong[:10]


def test_epics_with_initiatives_cross_project_children_and_subtasks(synced):
    org, by_key = synced.org, rows_by_key(synced.store)
    live = live_positions(org)
    epics_with_init = [p for p in live if org.level(p) == 1 and org.parent[p] >= 0]
    assert epics_with_init
    for p in epics_with_init:
        assert by_key[org.key(p)]["parent_key"] == org.key(org.parent[p])
        assert by_key[org.key(org.parent[p])]["hierarchy_level"] == 2
    cross = [p for p in live if org.epic_of(p) >= 0 and org.proj[p] != org.proj[org.epic_of(p)]]
    assert cross, "the org should have stories whose epic is in another project"
    for p in cross:
        row = by_key[org.key(p)]
        assert row["epic_key"] == org.key(org.epic_of(p)) and row["project_key"] != row["epic_key"].split("-")[0]
    subtasks = [p for p in live if org.itype[p] == T_SUB]
    assert subtasks
    for p in subtasks:
        row = by_key[org.key(p)]
        assert (row["hierarchy_level"], row["parent_key"], row["epic_key"]) == (-1, org.key(org.parent[p]), None)


def test_child_of_a_missing_epic_is_kept_with_the_dangling_key_or_none(synced):
    org, by_key = synced.org, rows_by_key(synced.store)
    assert org.dangling_epic
    for pos, missing in org.dangling_epic.items():
        row = by_key[org.key(pos)]
        assert missing not in by_key
        assert row["hierarchy_level"] == 0
        if synced.flavour == "datacenter":
            assert row["epic_key"] == missing  # Epic Link still names it
        elif PROJECTS[org.proj[pos]].key in TEAM_MANAGED:
            assert row["epic_key"] is None  # team-managed: no Epic Link, no parent
        else:
            assert row["epic_key"] in (missing, None)


# ---------------------------------------------------------------------------------- changelog and worklogs
def test_full_changelog_beyond_the_embedded_cap(synced):
    org, store = synced.org, synced.store
    want = transition_counts(org)
    got: dict[int, int] = {}
    for t in store.transition_rows():
        got[t["issue_id"]] = got.get(t["issue_id"], 0) + 1
    big = {i for i, n in want.items() if n > 100}
    assert len(big) >= 3
    for i in big:
        assert got.get(i, 0) == want[i], (i, got.get(i), want[i])
    assert {i: n for i, n in got.items()} == {i: n for i, n in want.items() if n}
    assert all(r["changelog_complete"] for r in store.issue_rows())


def test_worklogs_equal_the_orgs(synced):
    want = worklog_totals(synced.org)
    assert len(want) > 50
    assert stored_worklog_totals(synced.store) == want
