"""How a configuration message names what it did not know: "did you mean …", else the names it knows.

Pure text, shared by every file the project reads (mappings.yaml, schedules, the rates CSV, lint
selectors, doctor), so each says it the same way.
"""

from __future__ import annotations

import difflib
from collections.abc import Collection


def did_you_mean(word: str, choices: Collection[str], *, cutoff: float = 0.6) -> str:
    """``did you mean 'x'?`` for the choice closest to ``word``, or ``""`` when none is close."""
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=cutoff)
    return f"did you mean '{close[0]}'?" if close else ""


def unknown_name(where: str, dotted: str, what: str, value: str, known: Collection[str], *,
                 listed: str = "declared", who: str = "") -> str:
    """``<where>: '<dotted>': unknown <what> '<value>'; did you mean …`` (else the ``listed`` known names)."""
    hint = did_you_mean(value, known) or f"{listed}: {', '.join(known) or 'none'}"
    return f"{where}: '{dotted}': {who}unknown {what} '{value}'; {hint}"
