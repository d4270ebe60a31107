"""The README documents every command the CLI has, and the docs name files that exist."""

from __future__ import annotations

import re
from pathlib import Path

import click

from rollup.cli import cli

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text()


def _command_paths(group: click.Group, prefix: tuple[str, ...] = ()):
    for name, command in sorted(group.commands.items()):
        path = prefix + (name,)
        if isinstance(command, click.Group):
            yield from _command_paths(command, path)
        else:
            yield path


def test_every_command_is_in_the_readme_reference():
    paths = list(_command_paths(cli))
    assert ("sync",) in paths and ("demo",) in paths and ("localjira", "serve") in paths
    reference = README.split("## Command reference", 1)[1]
    missing = [" ".join(p) for p in paths if f"`rollup {' '.join(p)}" not in reference]
    assert not missing, f"commands missing from README.md's command reference: {missing}"


def test_readme_quick_start_is_exactly_make_demo_then_make_test():
    quick = README.split("## Quick start", 1)[1].split("##", 1)[0]
    block = re.search(r"```sh\n(.*?)```", quick, re.S).group(1)
    assert block.split("\n")[:-1] == ["make demo", "make test"]


def test_docs_the_readme_points_to_exist():
    for name in re.findall(r"`(docs/[\w.-]+\.md)`", README):
        assert (ROOT / name).exists(), f"README.md points to {name}, which does not exist"


def test_readme_mappings_example_is_valid():
    from rollup.config import parse_config

    section = README.split("### mappings.yaml", 1)[1].split("## Command reference", 1)[0]
    example = re.search(r"```yaml\n(.*?)```", section, re.S).group(1)
    config = parse_config(example)
    assert [p.id for p in config.pillars] == ["enterprise", "platform"]
    assert config.sync.max_workers == 24
