"""Field roles on sites that do not use the English names, over real HTTP (both flavours).

A translated site (German, Chinese) keeps the English name where Jira keeps it — Cloud in
``untranslatedName``, Data Center in the JQL clause names — and every role resolves as on an English
site, so the store holds the same data. A field renamed with no trace of its standard name is found
by its type where the type is the role's own (Epic Link), and otherwise warned about, not dropped
silently.
"""

from __future__ import annotations

import pytest
from e2e_helpers import FLAVOURS, connect, content, run_sync, scope

from rollup.cli.main import summary_lines
from rollup.localjira import LocalJira
from rollup.localjira.render import CLOUD_FIELDS, DC_FIELDS
from rollup.localjira.sampleorg import SampleOrg
from rollup.store import Store


@pytest.fixture(scope="module")
def org():
    return SampleOrg.generate(seed=7, issues=400)


def _discover(org, flavour, **site):
    with LocalJira(org, flavour=flavour, **site) as server, connect(server, flavour) as conn:
        s = scope(flavour)
        return conn.discover_fields(overrides=dict(s.field_overrides), extra=list(s.extra_fields))


@pytest.mark.parametrize("language", ["de", "zh"])
@pytest.mark.parametrize("flavour", FLAVOURS)
def test_a_translated_site_resolves_every_role_as_an_english_one(org, flavour, language):
    english = _discover(org, flavour)
    translated = _discover(org, flavour, language=language)
    assert translated.roles == english.roles and translated.extra == english.extra
    assert translated.warnings == []
    # The roles were there to find: Epic Link, Epic Name, Sprint, story points, dates and (DC) Parent Link.
    wanted = {"epic_link", "epic_name", "sprint", "story_points", "start_date", "target_date", "team"}
    assert wanted <= set(translated.roles) and (flavour == "cloud" or "parent_link" in translated.roles)


@pytest.mark.slow
@pytest.mark.parametrize("flavour", FLAVOURS)
def test_a_chinese_site_syncs_the_same_store_as_an_english_one(org, flavour, tmp_path):
    stores = {}
    for language in ("en", "zh"):
        store = Store.open(f"sqlite:///{tmp_path / f'{language}.db'}")
        with LocalJira(org, flavour=flavour, language=language) as server:
            result = run_sync(store, server, flavour)
        assert result.field_warnings == []
        stores[language] = store
    try:
        assert content(stores["zh"]) == content(stores["en"])
        # Not an empty agreement: epics, points and sprints came through.
        issues = content(stores["zh"])["issues"]
        assert sum(1 for r in issues if r["epic_key"]) > 100 and sum(1 for r in issues if r["story_points"]) > 100
    finally:
        for store in stores.values():
            store.close()


def test_a_renamed_epic_link_is_found_by_its_type(org, tmp_path):
    renamed = _discover(org, "datacenter", field_names={"epic_link": "Epos-Verweis"})
    assert renamed.ids("epic_link") == [DC_FIELDS["epic_link"][0]] and renamed.how["epic_link"] == "type"


@pytest.mark.parametrize("flavour", FLAVOURS)
def test_a_renamed_story_points_field_is_warned_about_not_silently_dropped(org, flavour, tmp_path):
    # Data Center's only points field, and Cloud's company-managed one, called "Punkte" with nothing else
    # pointing to story points. On Data Center nothing else holds points: a warning, in the sync summary too.
    names = {"story_points": "Punkte"}
    with LocalJira(org, flavour=flavour, field_names=names) as server, \
            Store.open(f"sqlite:///{tmp_path / 'renamed.db'}") as store:
        result = run_sync(store, server, flavour)
        stored_points = [r["story_points"] for r in store.issue_rows() if r["story_points"] is not None]
        if flavour == "datacenter":
            (warning,) = result.field_warnings
            assert warning.startswith("story_points: no field is named 'Story Points'")
            assert DC_FIELDS["story_points"][0] in warning and "'Punkte'" in warning
            assert any(line == f"  warning: {warning}" for line in summary_lines(result))
            assert stored_points == []  # nothing read from a field of unknown meaning
            # Named in the configuration, the field is read.
            with_points = scope(flavour, field_overrides={**scope(flavour).field_overrides, "story_points": "Punkte"})
            result = run_sync(store, server, flavour, sync_scope=with_points, full=True)
            assert result.field_warnings == []
            assert sum(1 for r in store.issue_rows() if r["story_points"] is not None) > 100
        else:
            # Cloud still has "Story point estimate" (team-managed projects), so the role is not unfound.
            assert result.field_warnings == [] and CLOUD_FIELDS["story_points"][0] not in {
                fid for fid in _discover(org, flavour, field_names=names).ids("story_points")}
