"""On the sample organisation, the lint finds exactly the defects the generator injected.

The organisation (seed 7, 3,000 issues) is served by the local Jira and synced over real HTTP with
the real connector from BOTH flavours (Cloud: ``parent`` links, ADF descriptions; Data Center:
Epic Link / Parent Link, wiki text), then mapped with the shipped mappings.yaml and linted with
its default thresholds as of the organisation's own "now". For every ground-truth defect
(``SampleOrg.ground_truth``, computed from the generator's data) the corresponding rule must have
precision and recall of exactly 100 %.
"""

from __future__ import annotations

import pytest

from rollup.lint import run_lint
from rollup.localjira.defects import DEFECTS, EXPECTED_RULE
from rollup.mapping import apply


@pytest.fixture(scope="module")
def linted(sample, shipped_config):
    result = run_lint(apply(sample.issues, shipped_config), shipped_config, as_of=sample.org.now.date(),
                      transitions=sample.transitions, base_url="https://clinicloud.atlassian.net")
    return sample, result


def test_every_defect_has_a_rule():
    assert set(EXPECTED_RULE) == set(DEFECTS)


def test_every_epic_is_linted(linted):
    sample, result = linted
    assert result.epics == len(sample.org.ground_truth) == 120


@pytest.mark.parametrize("defect", sorted(EXPECTED_RULE))
def test_precision_and_recall_are_100_percent(linted, defect):
    sample, result = linted
    expected = {key for key, defects in sample.org.ground_truth.items() if defect in defects}
    code = EXPECTED_RULE[defect]
    found = set(result.findings.loc[result.findings["rule"].eq(code), "key"])
    assert expected, f"the sample organisation has no '{defect}' epic: the check would be empty"
    true_positives = len(expected & found)
    precision = true_positives / len(found) if found else 0.0
    recall = true_positives / len(expected)
    assert (precision, recall) == (1.0, 1.0), (
        f"{sample.flavour} {defect} → {code}: missed {sorted(expected - found)}, extra {sorted(found - expected)}")


def test_mapped_pillar_and_okr_agree_with_the_raw_tags(linted, shipped_config):
    """The ground truth reads raw tags and the parent initiative; the rules read the mapped values."""
    sample, _ = linted
    epics = apply(sample.issues, shipped_config).issues.query("hierarchy_level == 1").set_index("key")
    truth = sample.org.ground_truth
    no_pillar = {k for k, d in truth.items() if "no-pillar" in d}
    no_okr = {k for k, d in truth.items() if "no-okr" in d}
    assert set(epics.index[epics["pillar"].isna()]) == no_pillar
    assert set(epics.index[epics["okr"].isna()]) == no_okr


def test_stories_without_epic_are_counted_per_team(linted):
    sample, result = linted
    org = sample.org
    from rollup.localjira.sampledata import ISSUE_TYPES, PROJECTS

    expected: dict[str, int] = {}
    for pos in range(org.size):
        if org.live(pos) and ISSUE_TYPES[org.itype[pos]].level == 0 and org.epic_of(pos) < 0:
            name = PROJECTS[org.proj[pos]].name
            expected[name] = expected.get(name, 0) + 1
    teams = result.teams.set_index("team")["stories_without_epic"]
    assert {t: int(n) for t, n in teams.items() if n} == expected
