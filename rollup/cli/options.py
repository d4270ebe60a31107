"""The options commands share, each with one meaning wherever it appears.

- ``--config PATH``: the mappings.yaml to read (default ``mappings.yaml``); the help says which of
  its sections the command uses.
- ``--database URL``: the store (default ``ROLLUP_DATABASE_URL``, else ``.rollup/rollup.db``).
- ``--format``: what goes to stdout; ``text`` for people by default, the machine forms the command
  offers (``json``, ``csv``, ``markdown``).
- ``--out PATH``: the folder the command writes into (default ``outputs``). One command names a
  file with it: ``finance sample-rates --out rates.csv`` writes that one CSV (required, no default),
  kept so the command keeps its flag.
- ``--as-of YYYY-MM-DD``: the date the command reports as of (default today).

Each is a decorator: ``@config_option("The mappings.yaml with the lint: section.")``. Parameter
names are the same everywhere: ``config_path``, ``database``, ``fmt``, ``out_dir``, ``as_of``.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import click

from rollup.cli.params import REPORT_DATE, OutputFolder
from rollup.config import DEFAULT_CONFIG_PATH

F = TypeVar("F", bound=Callable[..., object])

#: Where ``--database`` points when it is not given, as the help says it.
DATABASE_DEFAULT = "ROLLUP_DATABASE_URL, else .rollup/rollup.db"


def config_option(help: str = "The mappings.yaml to read.") -> Callable[[F], F]:
    """``--config PATH`` → ``config_path``: the mappings.yaml, ``mappings.yaml`` by default."""
    return click.option("--config", "config_path", type=click.Path(path_type=Path, dir_okay=False),
                        default=DEFAULT_CONFIG_PATH, show_default=True, help=help)


def database_option(note: str = "") -> Callable[[F], F]:
    """``--database URL`` → ``database``: the store; ``note`` adds what this command does with it."""
    return click.option("--database", "database", metavar="URL", default=None,
                        help=f"Store URL (default: {DATABASE_DEFAULT}){'; ' + note if note else ''}.")


def format_option(*machine: str, help: str = "What goes to stdout: text for people, or a form for machines.",
                  ) -> Callable[[F], F]:
    """``--format`` → ``fmt``: ``text`` (the default) or one of the ``machine`` forms, e.g. ``json``."""
    return click.option("--format", "fmt", type=click.Choice(["text", *machine]), default="text",
                        show_default=True, help=help)


def out_option(help: str = "Folder for what the command writes.") -> Callable[[F], F]:
    """``--out FOLDER`` → ``out_dir``: an output folder (not a file, nor inside one), ``outputs`` by default."""
    return click.option("--out", "out_dir", type=OutputFolder(), default=Path("outputs"), show_default=True,
                        help=help)


def as_of_option(help: str = "Report date (YYYY-MM-DD); default today.") -> Callable[[F], F]:
    """``--as-of YYYY-MM-DD`` → ``as_of`` (a date, or None for today), within 2000–2099."""
    return click.option("--as-of", "as_of", type=REPORT_DATE, default=None, help=help)
