"""Bad-file corpora: each file's first line says the expected message, one line is marked as the culprit.

    # expect: unknown key 'jobs.0.cron_expr'; did you mean 'cron'?
    ...
      cron_expr: "0 7 * * mon"   # <-- error
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from rollup.errors import ConfigError


def expectation(path: Path) -> tuple[str, int]:
    """``(expected message, line number of the line marked '# <-- error')`` of one corpus file."""
    lines = path.read_text().splitlines()
    assert lines[0].startswith("# expect: "), f"{path.name} must start with '# expect: ...'"
    marked = [n for n, line in enumerate(lines, start=1) if line.rstrip().endswith("# <-- error")]
    assert len(marked) == 1, f"{path.name} must mark exactly one line with '# <-- error'"
    return lines[0][len("# expect: "):], marked[0]


def assert_names_what_and_where(path: Path, load: Callable[[Path], object]) -> ConfigError:
    """``load(path)`` raises a ConfigError (exit code 2) with the expected message and ``<file>, line N:``."""
    message, line = expectation(path)
    with pytest.raises(ConfigError) as caught:
        load(path)
    text = str(caught.value)
    assert message in text
    assert f"{path.name}, line {line}:" in text
    assert caught.value.exit_code == 2
    return caught.value


def corpus_tests(folder: Path, load: Callable[[Path], object], *, at_least: int = 15) -> tuple[Callable, Callable]:
    """The two tests every corpus has: it holds ``at_least`` files; each one's message names what and where.

    A test module binds them at its top level: ``test_the_corpus_is_there, test_message_names_what_file_and_line
    = corpus_tests(BAD, load_config)``.
    """
    cases = sorted(folder.glob("*.yaml"))

    def test_the_corpus_is_there() -> None:
        assert len(cases) >= at_least

    @pytest.mark.parametrize("path", cases, ids=[p.stem for p in cases])
    def test_message_names_what_file_and_line(path: Path) -> None:
        assert_names_what_and_where(path, load)

    return test_the_corpus_is_there, test_message_names_what_file_and_line
