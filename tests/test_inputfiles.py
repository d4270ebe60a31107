"""The shared reader of user files: UTF-8 with the offending byte named, YAML without silent surprises."""

from __future__ import annotations

import time

import pytest

from rollup.errors import ConfigError
from rollup.inputfiles import MAX_YAML_DEPTH, decode_text, load_yaml


def test_bytes_that_are_not_utf8_name_the_line_and_the_offset():
    data = "jira:\n  projects: [PAY]\n# Caf".encode() + b"\xe9\n"
    with pytest.raises(ConfigError, match=r"^m.yaml, line 3: not UTF-8 text \(byte 0xe9 at byte offset 29\)"):
        decode_text(data, "m.yaml")
    assert decode_text("\ufeffjira: {}\n".encode(), "m.yaml") == "jira: {}\n"  # Excel's byte order mark


@pytest.mark.parametrize("text, message", [
    ("sync:\n  a: 1\nsync:\n  b: 2\n", r"f.yaml, line 3: key 'sync' is given twice in one mapping \(lines 1 and 3\)"),
    ("{a: 1, a: 2}\n", r"line 1: key 'a' is given twice in one mapping \(twice on line 1\)"),
    ("a: &x [*x]\n", r"line 1: alias \*x is inside the value it names \(anchored on line 1\)"),
    ("a: &x\n  b: *x\n", r"line 2: alias \*x is inside the value it names"),
    ("[" * 500 + "]" * 500, rf"line 1: nested more than {MAX_YAML_DEPTH} levels deep"),
    ("a: 1\nb: \x00\n", r"line 2: not valid YAML: character #x0000 is not allowed"),
    ("a: 2027-13-01\n", r"line 1: not valid YAML: month must be in 1..12"),
    ("a: &x 1\nb: &x 2\n", r"line 2: not valid YAML: .*duplicate anchor 'x'.*line 1"),
])
def test_yaml_that_would_mislead_or_hang_is_refused_with_its_line(text, message):
    with pytest.raises(ConfigError, match=message):
        load_yaml(text, "f.yaml")


def test_an_alias_bomb_stops_at_once():
    levels = ["a0: &a0 [" + ", ".join(["lol"] * 10) + "]"]
    levels += [f"a{n}: &a{n} [" + ", ".join([f"*a{n - 1}"] * 10) + "]" for n in range(1, 10)]  # 10**10 values
    started = time.perf_counter()
    with pytest.raises(ConfigError, match=r"line 5: the document expands to more than 100,000 values"):
        load_yaml("\n".join(levels) + "\n", "f.yaml")
    assert time.perf_counter() - started < 1


def test_merge_keys_and_plain_aliases_still_read():
    data, lines = load_yaml("base: &b {x: 1, y: 2}\nc:\n  <<: *b\n  x: 3\nd: *b\n", "f.yaml")
    assert data == {"base": {"x": 1, "y": 2}, "c": {"x": 3, "y": 2}, "d": {"x": 1, "y": 2}}
    assert lines[("c", "x")] == 4
