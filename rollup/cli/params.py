"""Option types every command shares, so ``--as-of``, ``--out`` and ``--base-url`` are checked the same way.

A value they refuse is a usage error (exit code 2) naming the option, before anything is read or
written: a date outside :mod:`rollup.dates`' range, an output folder inside a file, a site URL
that is not http(s).
"""

from __future__ import annotations

import os
from datetime import date, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import click

from rollup.dates import out_of_range
from rollup.writers.safe import blocking_file


class ReportDate(click.ParamType):
    """``YYYY-MM-DD`` between 2000-01-01 and 2099-12-31, as a :class:`datetime.date`."""

    name = "date"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> date:
        """Parse ``YYYY-MM-DD``, refusing other forms and dates outside 2000–2099."""
        if isinstance(value, date):
            return value
        try:
            parsed = datetime.strptime(str(value).strip(), "%Y-%m-%d").date()
        except ValueError:
            self.fail(f"{value!r} is not a date; write it as YYYY-MM-DD, e.g. 2026-11-23", param, ctx)
        problem = out_of_range(parsed)
        if problem:
            self.fail(problem, param, ctx)
        return parsed


class _Writable(click.Path):
    """A path to write to, refused when an existing part of it is a file (``--out report.xlsx/x``)."""

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        path = super().convert(value, param, ctx)
        blocker = blocking_file(Path(os.fsdecode(path)).parent)  # the path itself click has checked
        if blocker is not None:
            self.fail(f"{str(path)!r} is inside {str(blocker)!r}, which is a file, not a folder", param, ctx)
        return path


class OutputFolder(_Writable):
    """A folder to write into: not a file, and not inside one."""

    def __init__(self) -> None:
        super().__init__(path_type=Path, file_okay=False)


class OutputFile(_Writable):
    """A file to write: not a folder, and not inside a file."""

    def __init__(self) -> None:
        super().__init__(path_type=Path, dir_okay=False)


class SiteUrl(click.ParamType):
    """An ``http://`` or ``https://`` address, without a trailing slash."""

    name = "url"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> str:
        """Strip the trailing slash, refusing anything but an http(s) address with a host."""
        text = str(value).strip().rstrip("/")
        parts = urlsplit(text)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            self.fail(f"{value!r} is not an http:// or https:// address, e.g. https://acme.atlassian.net", param, ctx)
        return text


class Name(click.ParamType):
    """A team, job or rule name: anything but blank (a blank ``--team ""`` must not mean "every team")."""

    name = "text"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> str:
        """Strip surrounding blanks, refusing a value left empty."""
        text = str(value).strip()
        if not text:
            self.fail("must not be empty", param, ctx)
        return text


REPORT_DATE = ReportDate()
SITE_URL = SiteUrl()
NAME = Name()
