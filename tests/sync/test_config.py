"""mappings.yaml at the door: valid files parse, bad ones name the file, line and key."""

from __future__ import annotations

from pathlib import Path

import pytest

from rollup.config import RollupConfig, load_config, parse_config
from rollup.errors import ConfigError

REPO_ROOT = Path(__file__).resolve().parents[2]


def test_repository_mappings_scope_the_sample_org():
    config = load_config(REPO_ROOT / "mappings.yaml")
    assert config.jira.scope_jql() == "project in (PAY, SCH, CLIN, INT, MOB, PLAT, DATA, SEC, STRAT)"
    assert config.sync.overlap_minutes == 15


def test_defaults_and_jql_scope():
    config = parse_config("jira:\n  jql: 'project = PAY AND labels = x'\n")
    assert config.jira.scope_jql() == "project = PAY AND labels = x"
    assert config.sync.deletion_sweep_hours == 24
    assert config.sync.max_workers == 24


def test_every_section_is_a_model_and_optional_sections_default():
    config = parse_config("jira:\n  projects: [PAY]\nrules: []\n")
    assert isinstance(config, RollupConfig)
    assert config.rules == [] and config.pillars == []
    assert config.lint.writeback.label == "rollup-lint"  # lint: and finance: default when absent
    with pytest.raises(ConfigError, match=r"line 4: 'pillars.0.id' is required"):
        parse_config("jira:\n  projects: [PAY]\npillars:\n  - name: Win enterprise\n")
    with pytest.raises(ConfigError, match=r"line 4: unknown key 'lint.anything'"):
        parse_config("jira:\n  projects: [PAY]\nlint:\n  anything: 1\n")
    with pytest.raises(ConfigError, match=r"line 3: 'finance'"):
        parse_config("jira:\n  projects: [PAY]\nfinance: [x]\n")


def test_unknown_key_names_file_line_and_suggestion():
    text = "jira:\n  projects: [PAY]\nsync:\n  overlap_minutes: 5\n  overlap_minute: 10\n"
    with pytest.raises(ConfigError) as caught:
        parse_config(text, source="conf/mappings.yaml")
    message = str(caught.value)
    assert "conf/mappings.yaml, line 5" in message
    assert "sync.overlap_minute" in message
    assert "did you mean 'overlap_minutes'?" in message
    assert caught.value.exit_code == 2


def test_unknown_top_level_section_lists_choices_or_suggests():
    with pytest.raises(ConfigError, match=r"line 3: unknown key 'synk'; did you mean 'sync'\?"):
        parse_config("jira:\n  projects: [PAY]\nsynk: {}\n")


def test_wrong_type_and_missing_scope():
    with pytest.raises(ConfigError, match=r"line 4: 'sync.max_workers'"):
        parse_config("jira:\n  projects: [PAY]\nsync:\n  max_workers: lots\n")
    with pytest.raises(ConfigError, match="exactly one of 'projects'"):
        parse_config("jira:\n  fields: {}\n")
    with pytest.raises(ConfigError, match="'jira' is required"):
        parse_config("sync: {}\n")
    with pytest.raises(ConfigError, match="ORDER BY"):
        parse_config("jira:\n  jql: project = PAY ORDER BY created\n")


def test_bad_yaml_and_missing_file(tmp_path):
    with pytest.raises(ConfigError, match=r"line \d: not valid YAML"):
        parse_config("jira:\n  projects: [PAY\n")
    with pytest.raises(ConfigError, match="file not found"):
        load_config(tmp_path / "nope.yaml")
    (tmp_path / "empty.yaml").write_text("")
    with pytest.raises(ConfigError, match="empty"):
        load_config(tmp_path / "empty.yaml")


def test_project_fields_reach_the_sync_scope():
    from rollup.jobs.sync import SyncScope

    config = parse_config("jira:\n  projects: [MOB]\n  project_fields:\n    MOB: {story_points: customfield_10016}\n")
    assert SyncScope.from_config(config).project_field_overrides == {"MOB": {"story_points": "customfield_10016"}}


def test_a_date_that_does_not_exist_is_bad_input_not_a_crash():
    with pytest.raises(ConfigError, match=r"conf.yaml, line 5: not valid YAML: month must be in 1..12") as caught:
        parse_config("jira:\n  projects: [PAY]\nlint:\n  ignores:\n    - {epic: PAY-1, rule: EQ001, reason: x, "
                     "expires: 2027-13-01}\n", source="conf.yaml")
    assert caught.value.exit_code == 2
