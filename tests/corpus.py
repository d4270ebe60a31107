"""Bad-file corpora: each file's first line says the expected message, one line is marked as the culprit.

    # expect: unknown key 'jobs.0.cron_expr'; did you mean 'cron'?
    ...
      cron_expr: "0 7 * * mon"   # <-- error
"""

from __future__ import annotations

from pathlib import Path


def expectation(path: Path) -> tuple[str, int]:
    """``(expected message, line number of the line marked '# <-- error')`` of one corpus file."""
    lines = path.read_text().splitlines()
    assert lines[0].startswith("# expect: "), f"{path.name} must start with '# expect: ...'"
    marked = [n for n, line in enumerate(lines, start=1) if line.rstrip().endswith("# <-- error")]
    assert len(marked) == 1, f"{path.name} must mark exactly one line with '# <-- error'"
    return lines[0][len("# expect: "):], marked[0]
