"""Rule regexes that can backtrack without end are refused at the door; the rest run bounded."""

from __future__ import annotations

import re
import time

import pytest

from rollup.errors import ConfigError
from rollup.saferegex import MAX_MATCH_LENGTH, backtracking_problem, search_values

CATASTROPHIC = [
    r"(a+)+$", r"(a*)*b", r"(a|a)+$", r"(a+|b)+$", r"(\w+\s?)+$", r"(.*a){10}", r"(x*a+)+$", r"(\d+)*\d",
    r"^(([a-z])+.)+[A-Z]([a-z])+$", r"((ab)*)+$", r"(a{1,20}){1,20}$", r"(?=(a+)+$)", r"^(a|aa)+$",
    r"(?s)(.|\s)*$", r"(?i)(a|A+)+$", r"(a|)+$", r"(a|a?b)+",
]
FINE = [
    r"^Platform", r"(?i)^platform", r"(\d{1,3}\.){3}\d{1,3}", r"\d+(\.\d+)*$", r"(ab+)+$", r"[a-z]+-[0-9]+",
    r"(foo|bar)+", r"^(Win|Retain)", r".*foo.*bar", r"(a|b)*c", r"(?:\s*,\s*\w+)*$", r"a++", r"(?>a+)+",
    r"(a|ab)*x", r"(.|\n)*$", r"(\w+\s)+$", r"(\w|\d)+", r"x{2,}",
]


@pytest.mark.parametrize("pattern", CATASTROPHIC)
def test_catastrophic_patterns_are_refused(pattern):
    assert backtracking_problem(pattern), pattern


@pytest.mark.parametrize("pattern", FINE)
def test_ordinary_patterns_pass_and_run_fast_on_hostile_values(pattern):
    assert backtracking_problem(pattern) is None
    started = time.perf_counter()
    for value in ("a" * 5000 + "!", " ," * 2500 + "!", "ab" * 2500 + "!", "1." * 2500):
        search_values(pattern, [value], who="rule r", field="F")
    assert time.perf_counter() - started < 2


def test_values_are_matched_on_their_first_characters_only():
    value = "x" * MAX_MATCH_LENGTH + "Platform"
    assert search_values("Platform", [value, "Platform"], who="rule r", field="F") == [False, True]


def test_a_pattern_that_slips_through_is_stopped_with_the_rule_named(monkeypatch):
    monkeypatch.setattr("rollup.saferegex.MATCH_SECONDS", 0.2)
    slow = r"(?:.*)(?:.*)(?:.*)x"  # polynomial, not exponential: the analysis lets it pass
    assert backtracking_problem(slow) is None
    started = time.perf_counter()
    with pytest.raises(ConfigError, match=r"rule r1 \(m.yaml:7\): regex .* took more than 0.2 s on the values of "
                                          r"field 'Investment'"):
        search_values(slow, ["a" * 5000], who="rule r1 (m.yaml:7)", field="Investment")
    assert time.perf_counter() - started < 2
    assert re.search("a", "a")  # the alarm is gone: nothing else is interrupted
    time.sleep(0.3)
