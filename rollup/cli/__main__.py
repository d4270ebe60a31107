"""``python -m rollup.cli``: the ``rollup`` command."""

from rollup.cli.main import main

main()
