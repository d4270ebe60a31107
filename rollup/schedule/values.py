"""Small value types shared by the schedule models: durations written as ``90s``, ``30m``, ``2h``, ``7d``."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Annotated, Any

from pydantic import BeforeValidator, PlainSerializer

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(s|m|h|d|w)\s*$")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}


def parse_duration(value: Any) -> Any:
    """``'30m'`` → ``timedelta(minutes=30)``; a bare number is seconds; a timedelta passes through."""
    if isinstance(value, timedelta):
        return value
    if isinstance(value, bool):
        raise ValueError(f"{value!r} is not a duration; write e.g. 30m, 2h or 1d")
    if isinstance(value, (int, float)):
        if value < 0:
            raise ValueError(f"{value} is negative; a duration is 0 or more")
        return timedelta(seconds=value)
    if isinstance(value, str):
        match = _DURATION.match(value)
        if match:
            return timedelta(seconds=float(match.group(1)) * _UNITS[match.group(2)])
    raise ValueError(f"{value!r} is not a duration; write a number and a unit: 90s, 30m, 2h, 1d or 1w")


def format_duration(value: timedelta) -> str:
    """The shortest exact spelling: ``timedelta(hours=2)`` → ``2h``."""
    seconds = value.total_seconds()
    for unit in ("w", "d", "h", "m"):
        if seconds and seconds % _UNITS[unit] == 0:
            return f"{int(seconds // _UNITS[unit])}{unit}"
    return f"{seconds:g}s"


#: A duration: ``90s``, ``30m``, ``2h``, ``1d``, ``1w`` or a number of seconds.
Duration = Annotated[timedelta, BeforeValidator(parse_duration), PlainSerializer(format_duration)]
