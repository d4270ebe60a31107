"""A corpus of bad mappings.yaml files: each names what is wrong and where, and exits with code 2.

Every file in ``tests/mapping/bad/`` starts with ``# expect: <message part>`` and marks the line the
error must point at with ``# <-- error``. New cases need no code: add a file.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner
from corpus import corpus_tests, expectation

from rollup.cli.mapping import mapping
from rollup.config import load_config

BAD = Path(__file__).parent / "bad"
CASES = sorted(BAD.glob("*.yaml"))

test_the_corpus_is_there, test_message_names_what_file_and_line = corpus_tests(BAD, load_config)


@pytest.mark.parametrize("path", CASES, ids=[p.stem for p in CASES])
def test_cli_exits_2_and_writes_nothing(path, tmp_path):
    message, line = expectation(path)
    database = tmp_path / "never-created.db"
    result = CliRunner().invoke(mapping, ["check", "--config", str(path), "--database", f"sqlite:///{database}"])
    assert result.exit_code == 2, result.output
    assert message in result.output and f"line {line}:" in result.output
    assert not database.exists()
    good = Path(__file__).resolve().parents[2] / "mappings.yaml"
    result = CliRunner().invoke(mapping, ["diff", str(good), str(path), "--database", f"sqlite:///{database}"])
    assert result.exit_code == 2 and message in result.output
    assert not database.exists()
