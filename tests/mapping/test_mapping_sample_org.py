"""The shipped mappings.yaml over the real sample organisation, synced through the local Jira."""

from __future__ import annotations

import json

import pandas as pd
import pytest
from click.testing import CliRunner
from mapping_helpers import REPO_ROOT

from rollup.cli.mapping import mapping
from rollup.config import load_config
from rollup.mapping import apply, check, diff

TAGGING_TEAMS = {"PAY": "payments", "SCH": "scheduling", "CLIN": "clinical-records"}
MAPPINGS = REPO_ROOT / "mappings.yaml"


@pytest.fixture(scope="module")
def shipped():
    return load_config(MAPPINGS)


@pytest.fixture(scope="module")
def mapped(sample, shipped):
    _, _, issues = sample
    return apply(issues, shipped)


def epics_of(mapped):
    return mapped.issues[mapped.issues["hierarchy_level"].eq(1)].set_index("key")


def test_shipped_mappings_declare_the_sample_strategy(shipped):
    assert [(p.id, round(p.target_share * 100)) for p in shipped.pillars] == [
        ("enterprise", 35), ("retention", 25), ("growth", 15), ("platform", 25)]
    assert {o.quarter for o in shipped.okrs} == {"2026-Q3", "2026-Q4"}
    assert [(b.name, b.treatment) for b in shipped.buckets] == [
        ("New capability", "capex"), ("Major enhancement", "capex"), ("Maintenance / KTLO", "opex"),
        ("Tech debt", "opex"), ("Defects and support", "opex")]
    assert len(shipped.teams) == 8
    assert len({r.id for r in shipped.rules}) == len(shipped.rules)


@pytest.mark.slow
def test_every_epic_of_the_tagging_teams_is_mapped_as_its_tags_say(sample, mapped):
    org, _, _ = sample
    truth = org.ground_truth
    epics = epics_of(mapped)
    for project, team in TAGGING_TEAMS.items():
        own = epics[epics["project_key"].astype(str).eq(project)]
        assert len(own) > 0
        for key, row in own.iterrows():
            defects = truth[key]
            assert pd.notna(row["pillar"]) == ("no-pillar" not in defects), (key, defects, row["pillar_source"])
            assert pd.notna(row["okr"]) == ("no-okr" not in defects), (key, defects, row["okr_source"])
            assert row["team_id"] == team
            assert pd.notna(row["bucket"]), key
            if "no-pillar" not in defects and "no-initiative" not in defects:
                assert row["pillar_source"].startswith("rule pillar-"), (key, row["pillar_source"])


@pytest.mark.slow
def test_integrations_epics_inherit_from_their_initiative(mapped):
    epics = epics_of(mapped)
    integrations = epics[epics["project_key"].astype(str).eq("INT")]
    with_initiative = integrations[integrations["initiative"].notna()]
    assert len(with_initiative) > 0
    initiatives = mapped.issues.set_index("key")
    for key, row in with_initiative.iterrows():
        assert row["pillar_source"] == f"inherited from {row['initiative']}"
        assert row["okr_source"] == f"inherited from {row['initiative']}"
        parent = initiatives.loc[row["initiative"]]
        assert row["pillar"] == parent["pillar"] and row["okr"] == parent["okr"]
        assert f"pillar-{row['pillar']}" in parent["labels"]
    without = integrations[integrations["initiative"].isna()]
    assert (without["pillar_source"] == "unmapped").all()


@pytest.mark.slow
def test_stories_inherit_and_bugs_are_defects(mapped):
    issues = mapped.issues
    bugs = issues[issues["issue_type"].astype(str).eq("Bug")]
    assert (bugs["bucket"] == "defects").all()
    stories = issues[issues["issue_type"].astype(str).eq("Story") & issues["epic"].notna()]
    epics = issues.set_index("key")
    sample_rows = stories.head(200)
    for _, row in sample_rows.iterrows():
        epic = epics.loc[row["epic"]]
        assert row["bucket"] == epic["bucket"]
        expected = row["epic"] if str(epic["bucket_source"]).startswith("rule ") else \
            str(epic["bucket_source"]).removeprefix("inherited from ")
        assert row["bucket_source"] == f"inherited from {expected}"


@pytest.mark.slow
def test_check_over_the_sample(sample, shipped, mapped):
    org, _, issues = sample
    report = check(issues, shipped, mapped)
    assert report.never_matched == []
    assert report.unknown_values.empty
    assert report.conflicts.empty
    truth = org.ground_truth
    unmapped = report.unmapped.set_index(["team", "attribute"])
    epics = epics_of(mapped)
    for project, team in {**TAGGING_TEAMS, "INT": "integrations", "MOB": "mobile"}.items():
        keys = epics.index[epics["project_key"].astype(str).eq(project)]
        no_pillar = sum("no-pillar" in truth[k] for k in keys)
        assert unmapped.loc[(team, "pillar"), "unmapped"] == no_pillar
        assert unmapped.loc[(team, "pillar"), "epics"] == len(keys)
        assert unmapped.loc[(team, "pillar"), "share"] == pytest.approx(no_pillar / len(keys))
    total_no_okr = sum("no-okr" in d for d in truth.values())
    assert unmapped.loc[("(all teams)", "okr"), "unmapped"] == total_no_okr
    assert unmapped.loc[("(all teams)", "bucket"), "unmapped"] == 0


@pytest.mark.slow
def test_check_finds_idle_rules_unknown_values_and_conflicts(sample, mapped, tmp_path):
    _, _, issues = sample
    text = MAPPINGS.read_text().replace(
        "rules:\n",
        "rules:\n"
        "  - {id: typo-label, priority: 10, when: {labels: [pilar-enterprise]}, set: {pillar: enterprise}}\n"
        "  - {id: no-such-field-value, priority: 10, when: {field: {name: Investment, equals: Moonshots}},"
        " set: {pillar: growth}}\n"
        "  - {id: clash, priority: 10, when: {labels: [okr-q4-hl7]}, set: {pillar: platform}}\n",
        1,
    )
    path = tmp_path / "mappings.yaml"
    path.write_text(text)
    config = load_config(path)
    report = check(issues, config)
    assert report.never_matched == ["typo-label", "no-such-field-value"]
    unknown = set(zip(report.unknown_values["rule"], report.unknown_values["kind"], report.unknown_values["value"]))
    assert unknown == {("typo-label", "label", "pilar-enterprise"),
                       ("no-such-field-value", "field", "Investment = Moonshots")}
    # Issues labelled okr-q4-hl7 whose own pillar tag (label, component or Investment) is not
    # platform: the clash rule (same priority, listed first) wins and the tag rule disagrees.
    before = mapped.issues
    hl7 = before[before["labels"].map(lambda ls: "okr-q4-hl7" in ls)
                 & before["pillar_source"].astype(str).str.startswith("rule pillar-")
                 & before["pillar"].ne("platform")]
    assert len(hl7) > 0
    pillar_conflicts = report.conflicts[report.conflicts["attribute"].eq("pillar")]
    assert set(pillar_conflicts["key"]) == set(hl7["key"].astype(str))
    assert set(pillar_conflicts["value"]) == {"platform"}
    assert set(pillar_conflicts["conflicting_value"]) == set(hl7["pillar"].astype(str))
    assert pillar_conflicts["rule"].str.startswith("rule clash (mappings.yaml:").all()


@pytest.mark.slow
def test_diff_moves_and_share_shifts(sample, shipped, mapped, tmp_path):
    _, _, issues = sample
    new_text = MAPPINGS.read_text().replace(
        "when: {labels: [pillar-growth]}, set: {pillar: growth}",
        "when: {labels: [pillar-growth]}, set: {pillar: retention}")
    assert new_text != MAPPINGS.read_text()
    new_path = tmp_path / "new.yaml"
    new_path.write_text(new_text)
    result = diff(issues, shipped, load_config(new_path))

    epics = epics_of(mapped)
    by_key = mapped.issues.set_index("key")
    label_rule = next(r.provenance for r in shipped.rules if r.id == "pillar-label-growth")

    def decided_by_label(source):
        origin = source.removeprefix("inherited from ")
        return source == label_rule or (origin != source and by_key.loc[origin, "pillar_source"] == label_rule)

    expected = {k for k, row in epics.iterrows()
                if row["pillar"] == "growth" and decided_by_label(row["pillar_source"])}
    assert len(expected) > 0
    moves = result.moves
    assert set(moves["attribute"]) == {"pillar"}
    assert set(moves["key"]) == expected
    assert set(zip(moves["from"], moves["to"])) == {("growth", "retention")}

    shares = result.shares.set_index(["dimension", "value"])
    old_growth = int((epics["pillar"] == "growth").sum())
    assert shares.loc[("pillar", "growth"), "epics_old"] == old_growth
    assert shares.loc[("pillar", "growth"), "epics_new"] == old_growth - len(expected)
    assert (shares.loc[("pillar", "retention"), "epics_new"]
            == shares.loc[("pillar", "retention"), "epics_old"] + len(expected))
    assert shares.loc[("pillar", "growth"), "epic_share_change"] == pytest.approx(-len(expected) / len(epics))
    stories = mapped.issues[mapped.issues["hierarchy_level"].eq(0)]
    growth_points = stories.loc[stories["pillar"] == "growth", "story_points"].sum()
    assert shares.loc[("pillar", "growth"), "points_old"] == pytest.approx(growth_points)
    growth_share = growth_points / stories["story_points"].sum()
    assert shares.loc[("pillar", "growth"), "point_share_old"] == pytest.approx(growth_share)
    assert shares.xs("pillar")["epic_share_new"].sum() == pytest.approx(1)
    buckets = shares.xs("bucket")
    assert (buckets["epics_old"] == buckets["epics_new"]).all()


@pytest.mark.slow
def test_cli_check_and_diff_on_the_store(sample, tmp_path):
    _, url, _ = sample
    runner = CliRunner()
    result = runner.invoke(mapping, ["check", "--config", str(MAPPINGS), "--database", url, "--format", "json"])
    assert result.exit_code == 0, result.output
    payload = json.loads(result.output)
    assert payload["issues"] == 3000 and payload["epics"] == 120
    assert payload["never_matched"] == [] and payload["unknown_values"] == [] and payload["conflicts"] == []
    total = {(r["team"], r["attribute"]): r for r in payload["unmapped"]}
    assert total[("(all teams)", "bucket")]["unmapped"] == 0
    assert total[("payments", "pillar")]["epics"] == 15

    text = runner.invoke(mapping, ["check", "--config", str(MAPPINGS), "--database", url])
    assert text.exit_code == 0
    assert "Every rule matches at least one issue." in text.output
    assert "Epics left unmapped, per team" in text.output
    assert "payments" in text.output
    assert runner.invoke(mapping, ["check", "--config", str(MAPPINGS), "--database", url, "--strict"]).exit_code == 0
    idle = tmp_path / "idle.yaml"
    idle.write_text(MAPPINGS.read_text().replace(
        "rules:\n", "rules:\n  - {id: typo, when: {labels: [pilar-growth]}, set: {pillar: growth}}\n", 1))
    strict = runner.invoke(mapping, ["check", "--config", str(idle), "--database", url, "--strict"])
    assert strict.exit_code == 1
    assert "Rules that never match" in strict.output and "pilar-growth" in strict.output

    new_path = tmp_path / "new.yaml"
    new_path.write_text(MAPPINGS.read_text().replace(
        "when: {issue_type: [Bug]}\n    set: {bucket: defects}", "when: {issue_type: [Bug]}\n    set: {bucket: ktlo}"))
    result = runner.invoke(mapping, ["diff", str(MAPPINGS), str(new_path), "--database", url, "--format", "json"])
    assert result.exit_code == 0, result.output
    payload = json.loads(result.output)
    assert payload["moves"] == []  # bugs are not epics: no epic moves...
    defects = next(r for r in payload["shares"] if r["dimension"] == "bucket" and r["value"] == "defects")
    assert defects["points_old"] > 0 and defects["points_new"] == 0  # ...but bug story points leave defects
    text = runner.invoke(mapping, ["diff", str(MAPPINGS), str(new_path), "--database", url])
    assert "No epic changes" in text.output and "Allocation by bucket" in text.output


def test_cli_on_an_empty_store_says_what_to_run(tmp_path):
    result = CliRunner().invoke(mapping, ["check", "--config", str(MAPPINGS), "--database",
                                          f"sqlite:///{tmp_path / 'empty.db'}"])
    assert result.exit_code == 2
    assert "holds no issues" in result.output and "rollup sync" in result.output
    assert not (tmp_path / "empty.db").exists()


def test_every_command_has_help_with_an_example():
    for name, command in mapping.commands.items():
        assert "Example:" in (command.help or ""), name
    assert "Example:" in (mapping.help or "")


def test_diff_shows_changed_pillar_targets_and_how_each_gap_moves(sample, shipped, tmp_path):
    """Two targets move (enterprise 35 % -> 45 %, growth 15 % -> 5 %): both are named with their gaps."""
    from datetime import date

    from rollup.views.allocation import pillar_shares

    _, url, issues = sample
    new_text = MAPPINGS.read_text().replace(
        "name: Win enterprise hospitals\n    target_share: 35%", "name: Win enterprise hospitals\n    target_share: 45%"
    ).replace("name: Grow new practices\n    target_share: 15%", "name: Grow new practices\n    target_share: 5%")
    new_path = tmp_path / "targets.yaml"
    new_path.write_text(new_text)
    as_of = date(2026, 11, 23)
    result = diff(issues, shipped, load_config(new_path), as_of=as_of)

    changed = result.changed_targets.set_index("pillar")
    assert list(changed.index) == ["enterprise", "growth"]
    # The gap is the Pillars sheet's: actual share of the last 91 days' completed effort minus target.
    actual = pillar_shares(apply(issues, shipped).issues, shipped, start=date(2026, 8, 24), end=as_of)
    actual = actual.set_index("pillar")["share"]
    for pillar, old, new in (("enterprise", 0.35, 0.45), ("growth", 0.15, 0.05)):
        row = changed.loc[pillar]
        assert (row["target_old"], row["target_new"]) == pytest.approx((old, new))
        assert row["actual_old"] == row["actual_new"] == pytest.approx(actual[pillar])  # the rules did not change
        assert row["gap_old"] == pytest.approx(actual[pillar] - old)
        assert row["gap_new"] == pytest.approx(actual[pillar] - new)
        assert row["gap_change"] == pytest.approx(old - new)
    assert result.pillars.set_index("pillar").loc["retention", "gap_change"] == pytest.approx(0.0)

    runner = CliRunner()
    text = runner.invoke(mapping, ["diff", str(MAPPINGS), str(new_path), "--database", url,
                                   "--as-of", "2026-11-23"]).output
    assert "Pillar targets that change (2)" in text
    enterprise = changed.loc["enterprise"]
    assert (f"Win enterprise hospitals: target 35.0% -> 45.0%; gap {enterprise['gap_old'] * 100:+.1f} pt -> "
            f"{enterprise['gap_new'] * 100:+.1f} pt (-10.0 pt") in text
    assert "Grow new practices: target 15.0% -> 5.0%; gap" in text and "(+10.0 pt" in text
    payload = json.loads(runner.invoke(mapping, ["diff", str(MAPPINGS), str(new_path), "--database", url,
                                                 "--as-of", "2026-11-23", "--format", "json"]).output)
    moved = {r["pillar"]: r for r in payload["pillars"] if r["target_change"]}
    assert set(moved) == {"enterprise", "growth"} and payload["as_of"] == "2026-11-23"
