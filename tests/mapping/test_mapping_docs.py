"""docs/mappings.md is generated from the models; the committed file must match."""

from __future__ import annotations

from mapping_helpers import REPO_ROOT

from rollup.cli.mappings_reference import EXAMPLE, generate
from rollup.config import parse_config


def test_committed_reference_equals_the_generated_one():
    committed = (REPO_ROOT / "docs" / "mappings.md").read_text()
    assert committed == generate(), ("docs/mappings.md is stale: run "
                                     "`python -m rollup.cli.mappings_reference > docs/mappings.md`")


def test_reference_documents_every_rule_key():
    text = generate()
    for key in ("`priority`", "`when`", "`set`", "`labels`", "`components`", "`field`", "`initiative`",
                "`equals`", "`in`", "`regex`", "`any`", "`all`", "`none`", "`team_field`", "`boards`",
                "`target_share`", "`treatment`", "`key_results`", "rollup mapping check", "rollup mapping diff"):
        assert key in text, key


def test_the_example_in_the_reference_is_a_valid_file():
    config = parse_config("jira:\n  projects: [PAY]\n  extra_fields: [Investment]\n" + EXAMPLE)
    assert [r.id for r in config.rules][0] == "pillar-label-enterprise"
