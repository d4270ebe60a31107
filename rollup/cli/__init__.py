"""The ``rollup`` command line: one module per command group, thin commands over :mod:`rollup.jobs`.

:mod:`~rollup.cli.main` holds the ``rollup`` group, ``sync`` and ``demo``; :mod:`~rollup.cli.options`
the options every command shares (``--config``, ``--database``, ``--format``, ``--out``,
``--as-of``), each with one meaning; :mod:`~rollup.cli.params` their value types;
:mod:`~rollup.cli.errors` how a failure becomes a message and an exit code.
"""

from rollup.cli.main import cli, main

__all__ = ["cli", "main"]
