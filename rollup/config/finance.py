"""The ``finance:`` section of mappings.yaml: effort models, calendar, rates, the capex/opex policy.

Kept apart from :mod:`rollup.config.models` so the finance package owns its settings; that module
embeds :class:`FinanceOptions` and calls :func:`cross_check` after the models validate.

The policy has two parts:

* ``window``: the evidence for each epic's capitalization window (US GAAP, ASC 350-40 as amended by
  ASU 2025-06): when funding was *authorized* (a config entry, a label, a date field), whether
  completion is *probable* (a target date, not cancelled), and where it *stops* (release: the epic's
  done date or a fix version's release date). Every piece of effort is placed ``before``,
  ``inside`` or ``after`` its epic's window, or ``not-authorized``, ``not-probable``, ``no-epic``.
* ``bases``: one ordered list of clauses per reporting basis (e.g. ``gaap``, ``ifrs``, ``tax``). The
  first clause whose ``when`` holds classifies a row as ``capex`` or ``opex`` for that basis, and the
  row names it. Each basis ends with a catch-all clause (no ``when``) so every row is classified.

Cross-references (a clause naming an unknown bucket or team, a team on the points model without a
capacity) are checked by :func:`cross_check` with the file, the line and "did you mean".
"""

from __future__ import annotations

import zoneinfo
from collections.abc import Callable
from datetime import date
from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator

from rollup.config.names import unknown_name
from rollup.config.types import StrList

if TYPE_CHECKING:  # pragma: no cover
    from rollup.config.models import RollupConfig

#: How effort is measured for a team.
Method = Literal["worklogs", "person-days", "points"]
#: Where a piece of effort sits relative to its epic's capitalization window.
WindowPosition = Literal["before", "inside", "after", "not-authorized", "not-probable", "no-epic"]
WINDOW_POSITIONS: tuple[str, ...] = ("before", "inside", "after", "not-authorized", "not-probable", "no-epic")
#: Where a detail row's work was done, for the tax basis: from the rates file's work_location.
LocationKind = Literal["domestic", "foreign", "unknown"]
Country = Annotated[str, StringConstraints(pattern=r"^[A-Z]{2}$")]
Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
WEEKDAYS: tuple[str, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
#: Issue columns an authorization date may come from (besides fields in ``jira.extra_fields``).
DATE_COLUMNS = ("start_date", "target_date", "due_date", "created")

Currency = Annotated[str, StringConstraints(pattern=r"^[A-Z]{3}$")]
ClauseId = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.:-]*$", max_length=64)]
BasisName = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]*$", max_length=32)]


class CalendarOptions(BaseModel):
    """The working calendar behind person-days and FTE: ``finance.calendar``."""

    model_config = ConfigDict(extra="forbid")

    timezone: str = Field("UTC", description="Time zone that decides which day a timestamp falls on.")
    workdays: list[Weekday] = Field(["mon", "tue", "wed", "thu", "fri"], min_length=1,
                                    description="Working weekdays.")
    holidays: list[date] = Field(default_factory=list, description="Non-working dates, e.g. `2026-12-25`.")
    hours_per_day: float = Field(8.0, gt=0, le=24, description="Hours in one working day (one person-day).")

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            zoneinfo.ZoneInfo(value)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {value!r}; use an IANA name such as Europe/Berlin or UTC") from None
        return value


class EffortOptions(BaseModel):
    """Which effort model each team uses: ``finance.effort``."""

    model_config = ConfigDict(extra="forbid")

    default: Method = Field("person-days", description="Model for teams not listed in `teams`.")
    teams: dict[str, Method] = Field(default_factory=dict,
                                     description="Team id → `worklogs`, `person-days` or `points`.")
    in_progress_categories: StrList = Field(["indeterminate"], min_length=1,
                                            description="Status categories that count as work in progress.")
    work_levels: list[int] = Field([0, -1], min_length=1,
                                   description="Hierarchy levels whose issues take person-days "
                                               "(0 story/task/bug, -1 sub-task; epics are containers).")
    points_capacity_fte: dict[str, float] = Field(
        default_factory=dict,
        description="Team id → FTE; the points model spreads this capacity over the completed points.")

    def method_for(self, team_id: Any) -> str:
        """The model of a team (the default for an unmapped team)."""
        return self.teams.get(team_id, self.default) if isinstance(team_id, str) else self.default


class Authorization(BaseModel):
    """When an epic's funding was authorized: a config entry, else a label, else a date field."""

    model_config = ConfigDict(extra="forbid")

    epics: dict[str, date] = Field(default_factory=dict, description="Epic key → authorization date.")
    label: str | None = Field(None, description="Only epics with this label are authorized "
                                                "(from `date_field`, else their creation).")
    date_field: str | None = Field("start_date", description="`start_date`, `target_date`, `due_date`, "
                                                             "`created` or a field in jira.extra_fields.")


class Probable(BaseModel):
    """Whether completion of an epic is probable."""

    model_config = ConfigDict(extra="forbid")

    require_target_date: bool = Field(True, description="An epic without a target date is not probable.")
    exclude_statuses: StrList = Field(default_factory=list,
                                      description="Statuses that mean abandoned, e.g. `Won't do`.")


class Release(BaseModel):
    """Where capitalization stops: the earliest of the epic's done date and its fix versions' release."""

    model_config = ConfigDict(extra="forbid")

    epic_done: bool = Field(True, description="Stop at the epic's resolution date.")
    fix_versions: dict[str, date] = Field(default_factory=dict,
                                          description="Fix version name → release date.")


class WindowOptions(BaseModel):
    """The capitalization window per epic: ``finance.window``."""

    model_config = ConfigDict(extra="forbid")

    authorized: Authorization = Field(default_factory=Authorization)
    probable: Probable = Field(default_factory=Probable)
    release: Release = Field(default_factory=Release)


class ClauseMatch(BaseModel):
    """What a clause tests (`when:`); every list given must hold, an empty `when` matches every row."""

    model_config = ConfigDict(extra="forbid")

    buckets: StrList = Field(default_factory=list, description="Bucket ids.")
    bucket_treatment: list[Literal["capex", "opex", "unmapped"]] = Field(
        default_factory=list, description="The bucket's `treatment` (`unmapped`: no bucket).")
    issue_types: StrList = Field(default_factory=list, description="Issue types, e.g. `Bug`.")
    statuses: StrList = Field(default_factory=list, description="Current statuses.")
    window: list[WindowPosition] = Field(default_factory=list,
                                         description="Positions relative to the epic's window.")
    teams: StrList = Field(default_factory=list, description="Team ids.")
    methods: list[Method] = Field(default_factory=list, description="Effort models.")
    locations: list[LocationKind] = Field(
        default_factory=list, description="Where the work was done: `domestic` (a country of "
                                          "`finance.domestic_locations`), `foreign`, `unknown` (no work_location).")

    def is_empty(self) -> bool:
        """True when the clause tests nothing (a catch-all)."""
        return not any(getattr(self, name) for name in type(self).model_fields)


class Clause(BaseModel):
    """One classification clause of a basis."""

    model_config = ConfigDict(extra="forbid")

    id: ClauseId = Field(description="Shown on every detail row the clause classifies.")
    description: str = Field("", description="What the clause implements, e.g. `ASC 350-40 development stage`.")
    when: ClauseMatch = Field(default_factory=ClauseMatch)
    treatment: Literal["capex", "opex"]


def _default_bases() -> dict[str, list[Clause]]:
    return {"gaap": [
        Clause(id="gaap-bugs-after-release", when=ClauseMatch(issue_types=["Bug"], window=["after"]),
               treatment="opex", description="Fixing released software is maintenance."),
        Clause(id="gaap-capex-in-window", when=ClauseMatch(bucket_treatment=["capex"], window=["inside"]),
               treatment="capex", description="Capitalizable bucket inside the epic's window."),
        Clause(id="gaap-expensed", treatment="opex", description="Everything else is expensed."),
    ]}


class FinanceOptions(BaseModel):
    """The ``finance:`` section."""

    model_config = ConfigDict(extra="forbid")

    currency: Currency = Field("EUR", description="Reporting currency (ISO 4217).")
    fx: dict[Currency, float] = Field(default_factory=dict,
                                      description="Currency → value of 1 unit in the reporting currency.")
    rates_file: str | None = Field(None, description="The rates CSV (else ROLLUP_RATES or --rates).")
    output_dir: str = Field("outputs/finance", min_length=1,
                            description="Where `rollup finance export` writes `finance-<month>/` unless `--out` "
                                        "says otherwise: a folder of its own, apart from the portfolio's outputs "
                                        "(the files hold person-level cost and are written for their owner only).")
    calendar: CalendarOptions = Field(default_factory=CalendarOptions)
    effort: EffortOptions = Field(default_factory=EffortOptions)
    window: WindowOptions = Field(default_factory=WindowOptions)
    bases: dict[BasisName, list[Clause]] = Field(default_factory=_default_bases,
                                                 description="Reporting basis → ordered clauses.")
    domestic_locations: list[Country] = Field(
        default_factory=list,
        description="Country codes (ISO 3166-1, e.g. `US`) whose work counts as domestic; the rates file's "
                    "`work_location` of the person (else of the team) decides each row's `location`: `domestic`, "
                    "`foreign`, or `unknown` (no location given, or this list empty) — for clauses such as US "
                    "§174A's (domestic research expensed, foreign amortized over 15 years).")
    over_allocation: Literal["flag", "scale"] = Field(
        "flag", description="Hours a person has in a month beyond its working hours (the calendar, holidays "
                            "included): `flag` costs them as logged and names them on the People sheet and the "
                            "Reconciliation; `scale` scales that person's rows of the month down to the working "
                            "hours (cost with them), and says so in the same places.")

    @field_validator("fx")
    @classmethod
    def _positive(cls, value: dict[str, float]) -> dict[str, float]:
        bad = [k for k, v in value.items() if not v > 0]
        if bad:
            raise ValueError(f"exchange rates must be positive: {', '.join(bad)}")
        return value


def cross_check(config: RollupConfig, where: Callable[..., str]) -> list[str]:
    """Problems between ``finance:`` and the rest of the file; ``where(*path)`` gives 'file, line N'."""
    finance: FinanceOptions = config.finance
    problems: list[str] = []
    buckets = [b.id for b in config.buckets]
    teams = [t.id for t in config.teams]

    def unknown(path: tuple, what: str, value: str, known: list[str]) -> str:
        return unknown_name(where(*path), ".".join(str(p) for p in path), what, value, known)

    if not finance.bases:
        problems.append(f"{where('finance', 'bases')}: 'finance.bases' needs at least one reporting basis")
    for basis, clauses in finance.bases.items():
        path = ("finance", "bases", basis)
        if not clauses:
            problems.append(f"{where(*path)}: basis '{basis}' has no clauses")
            continue
        seen: set[str] = set()
        for index, clause in enumerate(clauses):
            if clause.id in seen:
                problems.append(f"{where(*path, index, 'id')}: duplicate clause id '{clause.id}' in basis '{basis}'")
            seen.add(clause.id)
            for b_index, bucket in enumerate(clause.when.buckets):
                if bucket not in buckets:
                    problems.append(unknown((*path, index, "when", "buckets", b_index), "bucket", bucket, buckets))
            for t_index, team in enumerate(clause.when.teams):
                if team not in teams:
                    problems.append(unknown((*path, index, "when", "teams", t_index), "team", team, teams))
        if not clauses[-1].when.is_empty():
            problems.append(f"{where(*path, len(clauses) - 1)}: the last clause of basis '{basis}' "
                            f"('{clauses[-1].id}') tests something; end each basis with a catch-all clause "
                            "(no 'when') so every row is classified")
    effort = finance.effort
    for team in effort.teams:
        if team not in teams:
            problems.append(unknown(("finance", "effort", "teams", team), "team", team, teams))
    for team in effort.points_capacity_fte:
        if team not in teams:
            problems.append(unknown(("finance", "effort", "points_capacity_fte", team), "team", team, teams))
    on_points = [t for t in teams if effort.method_for(t) == "points" and t not in effort.points_capacity_fte]
    if on_points:
        problems.append(f"{where('finance', 'effort')}: team(s) {', '.join(on_points)} use the points model "
                        "but have no capacity; add them to finance.effort.points_capacity_fte (team: FTE)")
    field = finance.window.authorized.date_field
    extra = list(config.jira.extra_fields)
    if field is not None and field not in DATE_COLUMNS and field not in extra:
        problems.append(unknown(("finance", "window", "authorized", "date_field"), "date field", field,
                                [*DATE_COLUMNS, *extra]))
    if finance.currency in finance.fx:
        problems.append(f"{where('finance', 'fx', finance.currency)}: 'finance.fx' lists the reporting currency "
                        f"{finance.currency}; it converts other currencies into it")
    return problems
