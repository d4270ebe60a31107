"""The rates CSV that finance owns: loaded cost per person, role or team, with effective dates.

The file is not in Jira and not in the repository; its path comes from ``--rates``, the
``ROLLUP_RATES`` environment variable or ``finance.rates_file``, in that order. Columns::

    level,id,name,role,hourly_rate,monthly_cost,currency,valid_from,valid_to
    person,5b10ac8d…0012,Ana Alvarez,engineer,,,,2026-01-01,
    role,engineer,,,,11500,EUR,2026-01-01,
    team,payments,,,92.5,,EUR,2026-01-01,2026-12-31

* ``level``: ``person`` (``id`` is the Jira account id or user key; ``name`` is for readers),
  ``role`` or ``team`` (a team id of mappings.yaml).
* A person row may carry a ``role`` (membership) with or without its own rate.
* ``hourly_rate`` or ``monthly_cost`` (loaded cost of one full-time person for a month, spread over
  the month's working hours), never both; ``currency`` is the reporting currency or one in
  ``finance.fx``.
* ``valid_from`` / ``valid_to`` are inclusive dates, blank for open. Rows of the same level and id
  may not overlap. For a month, the row in force with the latest ``valid_from`` applies.
* ``work_location`` (optional column): where the person (a person row) or the team (a team row) works,
  an ISO 3166-1 country code such as ``US`` or ``DE``; it holds from the row's ``valid_from`` until a later
  row of the same id gives another, and a person row may give only a location (costed as before). With
  ``finance.domestic_locations`` it makes each detail row's ``location`` ``domestic`` or ``foreign`` (US
  §174A: domestic research expensed, foreign research amortized over 15 years), which clauses can test.

A person's rate is their own, else their role's, else the rate of the team the effort is mapped to.
Every problem in the file is listed at once (file and line), as a
:class:`~rollup.errors.ConfigError` (exit code 2); so is every person with effort and no rate.
"""

from __future__ import annotations

import csv
import hashlib
import io
import math
import os
import re
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from rollup.config.finance import FinanceOptions
from rollup.config.names import did_you_mean
from rollup.errors import ConfigError
from rollup.finance.calendar import Month, WorkCalendar
from rollup.inputfiles import decode_text

#: Environment variable naming the rates CSV.
RATES_ENV = "ROLLUP_RATES"
COLUMNS = ("level", "id", "name", "role", "hourly_rate", "monthly_cost", "currency", "valid_from", "valid_to",
           "work_location")
REQUIRED = ("level", "id", "currency", "valid_from")
LEVELS = ("person", "role", "team")
#: A number with thousands separators (``11,800`` or ``1,234.50``); any other comma is a decimal comma.
_THOUSANDS = re.compile(r"^\d{1,3}(,\d{3})+(\.\d+)?$")
#: An ISO 3166-1 alpha-2 country code.
_COUNTRY = re.compile(r"^[A-Z]{2}$")


class RatesError(ConfigError):
    """The rates file is missing or wrong, or a person with effort has no rate."""


@dataclass(frozen=True)
class RateRow:
    """One row of the rates file."""

    line: int
    level: str
    id: str
    name: str
    role: str | None
    hourly: float | None
    monthly: float | None
    currency: str | None
    valid_from: date | None
    valid_to: date | None
    work_location: str | None = None

    def in_force(self, month: Month) -> bool:
        """True when the row is effective on any day of ``month``."""
        last = date.fromordinal(month.next().first.toordinal() - 1)
        return (self.valid_from is None or self.valid_from <= last) and (
            self.valid_to is None or self.valid_to >= month.first)

    @property
    def has_rate(self) -> bool:
        """True when the row gives an hourly or a monthly rate."""
        return self.hourly is not None or self.monthly is not None


@dataclass(frozen=True)
class Location:
    """Where a person's effort on a team's work was done, and which row of the rates file says so."""

    country: str
    source: str


@dataclass(frozen=True)
class Rate:
    """The hourly cost that applies, in the reporting currency, and where it came from."""

    hourly: float
    source: str


@dataclass
class Rates:
    """A validated rates file; :meth:`lookup` resolves person → role → team."""

    path: Path
    sha256: str
    rows: list[RateRow]
    currency: str
    fx: dict[str, float]
    by_key: dict[tuple[str, str], list[RateRow]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for row in self.rows:
            self.by_key.setdefault((row.level, row.id), []).append(row)

    def unknown_teams(self, known: list[str]) -> list[str]:
        """Team rows naming no team of mappings.yaml, each with its line and a "did you mean"."""
        out = []
        for row in self.rows:
            if row.level == "team" and row.id not in known:
                hint = did_you_mean(row.id, known)
                out.append(f"{self.path}, line {row.line}: team '{row.id}' is not a team of mappings.yaml"
                           + (f"; {hint}" if hint else ""))
        return out

    def _pick(self, level: str, key: str, month: Month, *, with_rate: bool) -> RateRow | None:
        rows = [r for r in self.by_key.get((level, key), ()) if r.in_force(month)
                and (r.has_rate if with_rate else r.role)]
        return max(rows, key=lambda r: (r.valid_from or date.min)) if rows else None

    def location(self, person_id: str | None, team_id: str | None, month: Month) -> Location | None:
        """The person's work location in ``month``, else the team's: the location of their latest row that gives
        one and starts by the month's end (a location holds until a later row gives another: a raise on a row
        without a location does not move anyone)."""
        last = date.fromordinal(month.next().first.toordinal() - 1)
        for level, key in (("person", person_id), ("team", team_id)):
            if not key:
                continue
            rows = [r for r in self.by_key.get((level, key), ())
                    if r.work_location and (r.valid_from is None or r.valid_from <= last)]
            if rows:
                row = max(rows, key=lambda r: (r.valid_from or date.min, r.line))
                return Location(row.work_location or "", f"{level} {key} (line {row.line})")
        return None

    def lookup(self, person_id: str | None, team_id: str | None, month: Month,
               calendar: WorkCalendar) -> Rate | None:
        """The rate for a person's effort on a team's work in ``month``, or None."""
        row = source = None
        if person_id:
            row = self._pick("person", person_id, month, with_rate=True)
            source = f"person {person_id} (line {row.line})" if row else None
            if row is None:
                member = self._pick("person", person_id, month, with_rate=False)
                if member is not None:
                    row = self._pick("role", member.role or "", month, with_rate=True)
                    source = f"role {member.role} (line {row.line})" if row else None
        if row is None and team_id:
            row = self._pick("team", team_id, month, with_rate=True)
            source = f"team {team_id} (line {row.line})" if row else None
        if row is None:
            return None
        factor = 1.0 if row.currency == self.currency else self.fx[row.currency or ""]
        if row.hourly is not None:
            hourly = row.hourly * factor
        else:
            capacity = calendar.capacity_hours(month)
            hourly = (row.monthly or 0.0) * factor / capacity if capacity else 0.0
        return Rate(hourly=hourly, source=source or "")


def rates_path(option: str | Path | None, finance: FinanceOptions) -> Path:
    """``--rates``, else ``ROLLUP_RATES``, else ``finance.rates_file``; none of them is bad input."""
    raw, source = next(((value, name) for value, name in (
        (option, "--rates"), (os.environ.get(RATES_ENV), RATES_ENV), (finance.rates_file, "finance.rates_file"))
        if value), (None, ""))
    if not raw:
        raise RatesError(f"no rates file: pass --rates PATH, set {RATES_ENV}, or set finance.rates_file in "
                         "mappings.yaml (finance owns the file; it is not kept in Jira or in the repository)")
    path = Path(raw)
    if not path.is_file():
        what = "is a folder, not a rates file" if path.is_dir() else "rates file not found"
        raise RatesError(f"{path}: {what} (named by {source})")
    return path


def load_rates(path: str | Path, finance: FinanceOptions) -> Rates:
    """Read and validate the rates CSV; every problem is listed with its line."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise RatesError(f"{path}: rates file not found") from None
    except OSError as exc:
        raise RatesError(f"{path}: cannot read the rates file: {exc.strerror}") from None
    text = decode_text(data, str(path))
    reader = csv.DictReader(io.StringIO(text))
    try:
        return _parse_rates(path, data, reader, finance)
    except csv.Error as exc:  # a field over the csv module's size limit, a stray NUL in a quoted field, …
        raise RatesError(f"{path}, line {reader.line_num + 1}: not a CSV file the rates can be read from ({exc}); "
                         "save it as comma-separated CSV (UTF-8)") from None


def _parse_rates(path: Path, data: bytes, reader: csv.DictReader, finance: FinanceOptions) -> Rates:
    header = [h.strip() for h in (reader.fieldnames or [])]
    problems: list[str] = []
    if len(header) == 1 and ";" in header[0]:
        raise RatesError(f"{path}, line 1: the columns are separated by ';'; save the rates file as comma-separated "
                         f"CSV (UTF-8) with the columns {','.join(COLUMNS)}")
    unknown = [h for h in header if h not in COLUMNS]
    for name in unknown:
        hint = did_you_mean(name, COLUMNS) or f"expected columns: {', '.join(COLUMNS)}"
        problems.append(f"{path}, line 1: unknown column '{name}'; {hint}")
    for name in sorted({h for h in header if header.count(h) > 1}):
        problems.append(f"{path}, line 1: column '{name}' appears {header.count(name)} times; keep one")
    missing = [c for c in REQUIRED if c not in header]
    if missing:
        problems.append(f"{path}, line 1: missing column(s) {', '.join(missing)}; expected: {', '.join(COLUMNS)}")
    if problems:
        raise RatesError("invalid rates file:\n  " + "\n  ".join(problems))
    known_currencies = [finance.currency, *finance.fx]
    rows: list[RateRow] = []
    for raw in reader:
        line = reader.line_num
        values = {(k or "").strip(): (v or "").strip() for k, v in raw.items() if k is not None}
        extra = [v for v in raw.get(None) or [] if v.strip()]
        if not any(values.values()) and not extra:
            continue
        where = f"{path}, line {line}"
        if extra:
            problems.append(f"{where}: {len(header) + len(extra)} values, but the header names {len(header)} "
                            "columns; a comma too many, or a value that needs quotes?")
            continue
        level = values.get("level", "")
        if level not in LEVELS:
            problems.append(f"{where}: level '{level}' is not one of {', '.join(LEVELS)}")
            continue
        ident = values.get("id", "")
        if not ident:
            problems.append(f"{where}: 'id' is empty")
        hourly = _number(values.get("hourly_rate"), "hourly_rate", where, problems)
        monthly = _number(values.get("monthly_cost"), "monthly_cost", where, problems)
        if hourly is not None and monthly is not None:
            problems.append(f"{where}: give hourly_rate or monthly_cost, not both")
        role = values.get("role") or None
        if level != "person" and role:
            problems.append(f"{where}: only person rows name a role")
        location = values.get("work_location") or None
        if hourly is None and monthly is None and not (level == "person" and (role or location)):
            problems.append(f"{where}: no rate: give hourly_rate or monthly_cost"
                            + (" (or a role, or only a work_location)" if level == "person" else ""))
        currency = values.get("currency") or None
        if hourly is not None or monthly is not None:
            if currency is None:
                problems.append(f"{where}: 'currency' is empty")
            elif currency not in known_currencies:
                hint = did_you_mean(currency, known_currencies, cutoff=0.5)
                problems.append(f"{where}: unknown currency '{currency}'{'; ' + hint if hint else ''}; known: "
                                f"{finance.currency} "
                                f"(reporting currency) and finance.fx: {', '.join(finance.fx) or 'none'}")
        valid_from = _date(values.get("valid_from"), "valid_from", where, problems)
        valid_to = _date(values.get("valid_to"), "valid_to", where, problems)
        if valid_from and valid_to and valid_to < valid_from:
            problems.append(f"{where}: valid_to {valid_to} is before valid_from {valid_from}")
        if location is not None:
            if level == "role":
                problems.append(f"{where}: work_location '{location}' on a role row; give it on the person or "
                                "team row")
            elif not _COUNTRY.match(location):
                problems.append(f"{where}: work_location '{location}' is not a country code; write an ISO 3166-1 "
                                "code in capitals, e.g. US, DE, IN")
        rows.append(RateRow(line, level, ident, values.get("name", ""), role, hourly, monthly, currency,
                            valid_from, valid_to, location))
    problems.extend(_overlaps(path, rows))
    if problems:
        raise RatesError("invalid rates file:\n  " + "\n  ".join(problems))
    return Rates(path=path, sha256=hashlib.sha256(data).hexdigest(), rows=rows, currency=finance.currency,
                 fx=dict(finance.fx))


def _overlaps(path: Path, rows: list[RateRow]) -> list[str]:
    """Rows of one level and id whose periods overlap (rates with rates, roles with roles), and rows of one
    person or team in force together that give different work locations."""
    problems = []
    located: dict[tuple[str, str], list[RateRow]] = {}
    for row in rows:
        if row.work_location:
            located.setdefault((row.level, row.id), []).append(row)
    for (level, ident), group in located.items():
        for i, a in enumerate(group):
            for b in group[i + 1:]:
                if a.work_location != b.work_location and _overlap(a, b):
                    problems.append(f"{path}, lines {a.line} and {b.line}: {level} '{ident}' works in "
                                    f"{a.work_location} and {b.work_location} at once ({_span(a)} and {_span(b)}); "
                                    "end one location's rows before the other's start")
    groups: dict[tuple[str, str, bool], list[RateRow]] = {}
    for row in rows:
        if row.has_rate or row.role:  # a row giving only a work location is checked with the locations
            groups.setdefault((row.level, row.id, row.has_rate), []).append(row)
    for (level, ident, _), group in groups.items():
        group = sorted(group, key=lambda r: r.valid_from or date.min)
        for a, b in zip(group, group[1:]):
            if a.valid_to is None or (b.valid_from or date.min) <= a.valid_to:
                problems.append(
                    f"{path}, lines {a.line} and {b.line}: overlapping rate periods for {level} '{ident}' "
                    f"({_span(a)} and {_span(b)}); end the first before the second starts")
    return problems


def _overlap(a: RateRow, b: RateRow) -> bool:
    return (a.valid_from or date.min) <= (b.valid_to or date.max) and (b.valid_from or date.min) <= (
        a.valid_to or date.max)


def _span(row: RateRow) -> str:
    return f"{row.valid_from or 'open'}..{row.valid_to or 'open'}"


def _number(text: str | None, name: str, where: str, problems: list[str]) -> float | None:
    if not text:
        return None
    if "," in text and not _THOUSANDS.match(text):
        # '88,5' must not be read as 885: a decimal comma is refused, not guessed.
        problems.append(f"{where}: {name} '{text}' is not a number; write decimals with a dot "
                        f"('{text.replace(',', '.')}') and no other commas")
        return None
    try:
        value = float(text.replace(",", ""))
    except ValueError:
        problems.append(f"{where}: {name} '{text}' is not a number")
        return None
    if not math.isfinite(value):
        problems.append(f"{where}: {name} '{text}' is not a number")
        return None
    if value < 0:
        problems.append(f"{where}: {name} {text} is negative")
    return value


def _date(text: str | None, name: str, where: str, problems: list[str]) -> date | None:
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        problems.append(f"{where}: {name} '{text}' is not a date; write YYYY-MM-DD")
        return None
