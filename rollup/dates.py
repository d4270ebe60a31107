"""The dates a user may give (``--as-of``, ``--month``, a schedule's ``as_of:``): 2000 to 2099.

Outside that span the charts, pandas' timestamps and the ISO-week names stop working long before
the tool could say anything useful, and a date such as 0001-01-01 is always a typo.
"""

from __future__ import annotations

from datetime import date

#: The first and last report date accepted.
EARLIEST, LATEST = date(2000, 1, 1), date(2099, 12, 31)


def out_of_range(value: date) -> str | None:
    """Why ``value`` cannot be a report date, or None when it can."""
    if EARLIEST <= value <= LATEST:
        return None
    return f"{value.isoformat()} is out of range: give a date from {EARLIEST.isoformat()} to {LATEST.isoformat()}"
