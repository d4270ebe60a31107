"""``mappings.yaml``: parsed once, at the door, into pydantic models with ``extra="forbid"``.

This module holds the ``jira:`` and ``sync:`` sections and the strategy mapping: ``pillars``,
``okrs``, ``buckets``, ``teams`` and the ordered ``rules`` (see ``docs/mappings.md``, generated
from these models). The ``lint`` and ``finance`` sections are defined by :mod:`rollup.config.lint`
and :mod:`rollup.config.finance`; any other top-level key is an error. Reading the YAML and wording
validation errors is :mod:`rollup.config.loader`'s, shared with the schedule files.

After the models validate, :func:`rollup.config.mappings.parse_config` cross-checks references (an OKR's pillar, what a
rule sets, duplicate ids, target shares summing to 100 %) and records the line of every rule so
mapped rows can say ``rule <id> (mappings.yaml:<line>)``.

A bad file raises :class:`~rollup.errors.ConfigError` naming the file, the line and the key,
with "did you mean …" for a misspelt key; the CLI turns it into exit code 2.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PrivateAttr,
    StringConstraints,
    field_validator,
    model_validator,
)

from connectors.urls import site_url
from rollup.config.finance import FinanceOptions
from rollup.config.forecast import ForecastOptions
from rollup.config.lint import LintOptions, Severity
from rollup.config.types import Id, StrList, as_list
from rollup.saferegex import MAX_MATCH_LENGTH

#: Where ``rollup`` looks for the configuration unless told otherwise.
DEFAULT_CONFIG_PATH = Path("mappings.yaml")

#: A Jira project key: uppercase letters, digits and ``_``, starting with a letter (Jira's own rule).
_PROJECT_KEY = re.compile(r"^[A-Z][A-Z0-9_]*$")


def _project_key(value: str) -> str:
    """A key that can go into ``project in (…)`` as it is: anything else could change the JQL's meaning."""
    if not _PROJECT_KEY.match(value):
        hint = (f"did you mean '{value.upper()}'?" if _PROJECT_KEY.match(value.upper())
                else "to select issues another way, give 'jql' instead")
        raise ValueError(f"{value!r} is not a Jira project key (uppercase letters, digits and _, starting with a "
                         f"letter, e.g. PAY); {hint}")
    return value


ProjectKey = Annotated[str, AfterValidator(_project_key)]


#: Days of completed work behind the pillars' actual shares unless ``report.allocation_window_days`` says
#: otherwise (the one place this default is written).
ALLOCATION_WINDOW_DAYS = 91

class JiraScope(BaseModel):
    """Which issues to sync and how to read them: the ``jira:`` section."""

    model_config = ConfigDict(extra="forbid")

    #: Project keys in scope; becomes ``project in (…)``. Give this or ``jql``.
    projects: list[ProjectKey] | None = None
    #: A JQL filter for the scope (no ORDER BY: the sync appends ``ORDER BY id ASC``).
    jql: str | None = None
    #: Field role → Jira field id or name, overriding discovery by name (e.g. story_points: customfield_10016).
    fields: dict[str, str] = Field(default_factory=dict)
    #: Per-project field choices, e.g. a team-managed project's "Story point estimate":
    #: ``{MOB: {story_points: customfield_10016}}``; they win over ``fields`` for that project.
    project_fields: dict[str, dict[str, str]] = Field(default_factory=dict)
    #: Further fields to read by name; their values land in the issue's ``custom`` column.
    extra_fields: list[str] = Field(default_factory=list)
    #: Force the deployment type instead of trusting serverInfo.
    deployment: Literal["cloud", "datacenter"] | None = None

    @model_validator(mode="after")
    def _one_scope(self) -> JiraScope:
        if bool(self.projects) == bool(self.jql and self.jql.strip()):
            raise ValueError("give exactly one of 'projects' (a list of project keys) or 'jql'")
        if self.jql and re.search(r"\border\s+by\b", self.jql, re.IGNORECASE):
            raise ValueError("'jql' must not contain ORDER BY: the sync always orders by id")
        return self

    def scope_jql(self) -> str:
        """The JQL for the scope, without ordering."""
        if self.projects:
            return f"project in ({', '.join(self.projects)})"  # every key is checked by _project_key
        assert self.jql is not None, "the validator above requires projects or jql"
        return self.jql.strip()


#: A site name: lowercase letters, digits and ``-``, starting with a letter, at most 16 characters.
_SITE_NAME = re.compile(r"^[a-z][a-z0-9-]{0,15}$")
#: An environment variable's name (letters, digits and ``_``, not starting with a digit).
_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def _site_name(value: str) -> str:
    if not _SITE_NAME.match(value):
        raise ValueError(f"{value!r} is not a site name: use lowercase letters, digits and -, starting with a "
                         "letter, at most 16 characters (e.g. cloud, dc, emea)")
    return value


def _env_name(value: str | None) -> str | None:
    if value is not None and not _ENV_NAME.match(value):
        raise ValueError(f"{value!r} is not an environment variable name (letters, digits and _, e.g. "
                         "ACME_JIRA_TOKEN); give the variable's name, never the secret itself")
    return value


SiteName = Annotated[str, AfterValidator(_site_name)]
EnvName = Annotated[str | None, AfterValidator(_env_name)]


class Site(BaseModel):
    """One Jira site of several, synced in parallel into one store. The first site listed keeps its keys
    as Jira writes them (``PAY-12``); every other site's keys are stored and shown as ``<name>:<KEY>``
    (``dc:PAY-12``), so a key that exists on two sites is never one issue. Keep the first site first.
    Scope and fields default to the ``jira:`` section; a site's own ``fields`` and ``project_fields``
    win over it for that site.

    Credentials are never written here: a site names the environment variables that hold them.
    """

    model_config = ConfigDict(extra="forbid")

    name: SiteName = Field(description="Short name, e.g. `cloud` or `dc`: the prefix of this site's keys "
                                       "(after the first site) and what rules match with `site:`.")
    url: str = Field(description="The site's address, e.g. `https://acme.atlassian.net`.")
    deployment: Literal["cloud", "datacenter"] | None = Field(
        None, description="`cloud` or `datacenter`; null trusts what the site reports in serverInfo.")
    email_env: EnvName = Field(None, description="Name of the environment variable holding the Cloud account's "
                                                 "email (Basic authentication with `token_env`).")
    token_env: EnvName = Field(None, description="Name of the environment variable holding the Cloud API token.")
    pat_env: EnvName = Field(None, description="Name of the environment variable holding a Data Center personal "
                                               "access token.")
    projects: list[ProjectKey] | None = Field(None, description="This site's projects (default: `jira.projects`).")
    jql: str | None = Field(None, description="This site's scope as JQL (default: `jira.jql`).")
    fields: dict[str, str] = Field(default_factory=dict,
                                   description="Field roles for this site, over `jira.fields`.")
    project_fields: dict[str, dict[str, str]] = Field(default_factory=dict,
                                                      description="Per-project field roles for this site.")
    extra_fields: list[str] = Field(default_factory=list, description="Further fields to read on this site, "
                                                                      "besides `jira.extra_fields`.")

    @field_validator("url")
    @classmethod
    def _url(cls, value: str) -> str:
        return site_url(value, "a site's url must", "name the environment variables holding the credentials "
                                                    "(email_env and token_env, or pat_env)")

    @model_validator(mode="after")
    def _checks(self) -> Site:
        if not ((self.email_env and self.token_env) or self.pat_env):
            raise ValueError("name the environment variables holding this site's credentials: email_env and "
                             "token_env (Cloud) or pat_env (Data Center)")
        if self.projects and self.jql:
            raise ValueError("give at most one of 'projects' or 'jql'")
        if self.jql is not None and (not self.jql.strip()
                                     or re.search(r"\border\s+by\b", self.jql, re.IGNORECASE)):
            raise ValueError("'jql' must be a filter without ORDER BY: the sync always orders by id")
        return self


class SyncOptions(BaseModel):
    """How the sync behaves: the ``sync:`` section."""

    model_config = ConfigDict(extra="forbid")

    #: Minutes re-read before the cursor on every incremental sync (JQL dates have minute precision).
    overlap_minutes: int = Field(15, ge=0, le=24 * 60)
    #: Hours between deletion sweeps (a full id sweep that removes issues gone from the scope).
    deletion_sweep_hours: float = Field(24, gt=0)
    #: At most this many requests in flight when fetching issues and changelogs.
    max_workers: int = Field(24, ge=1, le=64)
    #: A deletion sweep that would delete more than this share of the stored scope stops with the
    #: counts instead (``rollup sync --allow-mass-delete``, or ``allow_mass_delete: true``, lets it go on).
    max_delete_share: float = Field(0.05, ge=0, le=1)
    #: Let a deletion sweep delete more than ``max_delete_share`` (e.g. after shrinking the scope on purpose).
    allow_mass_delete: bool = False
    #: The longest ``Retry-After`` wait honoured; a server asking for more fails the run with a message.
    max_retry_after_seconds: float = Field(120, gt=0, le=24 * 3600)


# ---------------------------------------------------------------------------------------- strategy


def _share(value: Any) -> Any:
    """``35%`` → 0.35; a number must be a fraction between 0 and 1."""
    if isinstance(value, str):
        text = value.strip()
        if text.endswith("%"):
            try:
                return float(text[:-1]) / 100
            except ValueError:
                raise ValueError(f"{value!r} is not a percentage; write e.g. 35%") from None
        raise ValueError(f"{value!r} is not a share; write a percentage such as 35% or a fraction such as 0.35")
    if isinstance(value, (int, float)) and not isinstance(value, bool) and value > 1:
        raise ValueError(f"{value} is more than 1; write a percentage as 35% or a fraction as 0.35")
    return value


class Pillar(BaseModel):
    """A strategic pillar: a company-level theme with a target share of R&D effort."""

    model_config = ConfigDict(extra="forbid")

    id: Id = Field(description="Short id that rules and OKRs refer to, e.g. `enterprise`.")
    name: str = Field(description="The name readers see, e.g. `Win enterprise hospitals`.")
    target_share: Annotated[float, BeforeValidator(_share)] = Field(
        ge=0, le=1,
        description="Target share of effort: `35%` or `0.35`. The pillars' targets must add up to 100 %.",
    )
    description: str = Field("", description="Optional: what belongs in this pillar.")


class KeyResult(BaseModel):
    """A measurable key result of an OKR."""

    model_config = ConfigDict(extra="forbid")

    id: Id = Field(description="Unique across all OKRs; rules set `key_result` to it.")
    name: str = Field(description="What is measured, e.g. `HL7 integration certified`.")
    target: float = Field(description="The number to reach, e.g. `5`, `1.5`, `99.9`.")
    unit: str = Field("", description="Optional unit of the target, e.g. `%/month`, `hospitals`.")


class Okr(BaseModel):
    """An objective for one quarter under one pillar, with its key results."""

    model_config = ConfigDict(extra="forbid")

    id: Id = Field(description="Short id that rules refer to, e.g. `q4-hospitals`.")
    objective: str = Field(description="The objective as written, e.g. `Land 5 hospital systems`.")
    quarter: Annotated[str, StringConstraints(pattern=r"^\d{4}-Q[1-4]$")] = Field(
        description="The quarter, as `2026-Q4`.")
    pillar: str = Field(description="Id of the pillar this OKR serves (must be declared under `pillars`).")
    key_results: list[KeyResult] = Field(min_length=1, description="One or more key results.")


class Bucket(BaseModel):
    """An allocation bucket: what kind of work, and how finance treats its cost."""

    model_config = ConfigDict(extra="forbid")

    id: Id = Field(description="Short id that rules refer to, e.g. `ktlo`.")
    name: str = Field(description="The name readers see, e.g. `Maintenance / KTLO`.")
    treatment: Literal["capex", "opex"] = Field(
        description="`capex` (capitalizable) or `opex` (expensed).")


class TeamRecognition(BaseModel):
    """How an issue is recognised as a team's work. Any one of the lists matching is enough."""

    model_config = ConfigDict(extra="forbid")

    team_field: StrList = Field(default_factory=list,
                                description="Values of Jira's Team field (its name or title).")
    projects: StrList = Field(default_factory=list, description="Project keys, e.g. `PAY`.")
    components: StrList = Field(default_factory=list, description="Component names.")
    boards: StrList = Field(
        default_factory=list,
        description="Board names. The store keeps no board ids, so an issue is on a board when its "
                    "sprint's name starts with the board name and a space (Jira names sprints "
                    "`<board> Sprint <n>` by default).")

    @model_validator(mode="after")
    def _something(self) -> TeamRecognition:
        if not (self.team_field or self.projects or self.components or self.boards):
            raise ValueError("give at least one of team_field, projects, components, boards")
        return self


class Team(BaseModel):
    """A team, and how its issues are recognised when no rule sets `team`."""

    model_config = ConfigDict(extra="forbid")

    id: Id = Field(description="Short id that rules refer to, e.g. `payments`.")
    name: str = Field(description="The name readers see.")
    recognised_by: TeamRecognition = Field(description="Team field values, projects, components, boards.")
    _line: int | None = PrivateAttr(None)

    @property
    def line(self) -> int | None:
        """The line of this team in mappings.yaml."""
        return self._line


def _value_match(value: Any) -> Any:
    """``labels: [a, b]`` is short for ``labels: {any: [a, b]}``."""
    if isinstance(value, (str, list)):
        return {"any": as_list(value)}
    return value


class ValueMatch(BaseModel):
    """A test on a list of values (labels or components). Every list given must hold."""

    model_config = ConfigDict(extra="forbid")

    any: StrList = Field(default_factory=list, description="At least one of these is present.")
    all: StrList = Field(default_factory=list, description="Every one of these is present.")
    none: StrList = Field(default_factory=list, description="None of these is present.")

    @model_validator(mode="after")
    def _something(self) -> ValueMatch:
        if not (self.any or self.all or self.none):
            raise ValueError("give at least one of any, all, none")
        return self

    def values(self) -> list[str]:
        """Every value this test names."""
        return [*self.any, *self.all, *self.none]


Values = Annotated[ValueMatch, BeforeValidator(_value_match)]


class FieldMatch(BaseModel):
    """A test on a custom field named in `jira.extra_fields` (e.g. `Investment`). Give exactly one test."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    name: str = Field(description="The field's name as in Jira, e.g. `Investment`.")
    equals: str | int | float | None = Field(None, description="The value equals this.")
    in_: list[str | int | float] | None = Field(None, alias="in", description="The value is one of these.")
    regex: str | None = Field(None, description="The value matches this regular expression (`re.search`, on "
                                                 f"the value's first {MAX_MATCH_LENGTH:,} characters); see "
                                                 "'Regular expressions'.")

    @field_validator("regex")
    @classmethod
    def _compiles(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                re.compile(value)
            except re.error as exc:
                raise ValueError(f"bad regular expression {value!r}: {exc}") from None
        return value

    @model_validator(mode="after")
    def _one_test(self) -> FieldMatch:
        given = [n for n, v in (("equals", self.equals), ("in", self.in_), ("regex", self.regex)) if v is not None]
        if len(given) != 1:
            raise ValueError("give exactly one of equals, in, regex")
        return self


class InitiativeMatch(BaseModel):
    """A test on the issue's parent initiative (for an epic its parent; for a story its epic's)."""

    model_config = ConfigDict(extra="forbid")

    keys: StrList = Field(default_factory=list, description="The initiative is one of these issue keys.")
    labels: Values | None = Field(None, description="The initiative's labels (`any` / `all` / `none`).")

    @model_validator(mode="after")
    def _something(self) -> InitiativeMatch:
        if not (self.keys or self.labels):
            raise ValueError("give keys or labels")
        return self


class RuleMatch(BaseModel):
    """What a rule tests (`when:`). Every test given must hold; no tests match every issue."""

    model_config = ConfigDict(extra="forbid")

    project: StrList = Field(default_factory=list, description="Project key is one of these.")
    site: StrList = Field(default_factory=list, description="The issue's Jira site is one of these (names in "
                                                            "`sites:`).")
    issue_type: StrList = Field(default_factory=list, description="Issue type is one of these, e.g. `Bug`.")
    labels: Values | None = Field(None, description="Labels: a list (any of) or `{any, all, none}`.")
    components: Values | None = Field(None, description="Components: a list (any of) or `{any, all, none}`.")
    field: FieldMatch | None = Field(None, description="A custom field value: `{name, equals | in | regex}`.")
    initiative: InitiativeMatch | None = Field(None, description="The parent initiative: `{keys, labels}`.")


class RuleSet(BaseModel):
    """What a rule decides (`set:`): any of pillar, okr, key_result, bucket, team, by id."""

    model_config = ConfigDict(extra="forbid")

    pillar: str | None = Field(None, description="A pillar id.")
    okr: str | None = Field(None, description="An OKR id.")
    key_result: str | None = Field(None, description="A key result id.")
    bucket: str | None = Field(None, description="A bucket id.")
    team: str | None = Field(None, description="A team id (the `team_id` column).")

    @model_validator(mode="after")
    def _something(self) -> RuleSet:
        if not any(v is not None for v in (self.pillar, self.okr, self.key_result, self.bucket, self.team)):
            raise ValueError("set at least one of pillar, okr, key_result, bucket, team")
        return self

    def items(self) -> list[tuple[str, str]]:
        """``(attribute, id)`` for every attribute this rule sets."""
        return [(k, v) for k, v in self.__dict__.items() if v is not None]


class Rule(BaseModel):
    """One mapping rule. Rules run by `priority` (highest first), then in file order."""

    model_config = ConfigDict(extra="forbid")

    id: Id = Field(description="Unique id, shown in every mapped row the rule decides.")
    description: str = Field("", description="Optional: why this rule exists.")
    priority: int = Field(
        0,
        description="Higher runs first (default 0). Among rules of the same priority the first match "
                    "wins and a later match setting a different value is reported as a conflict; a "
                    "lower-priority match never conflicts (use it for fallbacks).")
    when: RuleMatch = Field(default_factory=RuleMatch, description="The tests; see below.")
    set: RuleSet = Field(description="The attributes it decides; see below.")
    _line: int | None = PrivateAttr(None)
    _source: str = PrivateAttr("mappings.yaml")

    @property
    def line(self) -> int | None:
        """The line of this rule in mappings.yaml."""
        return self._line

    @property
    def provenance(self) -> str:
        """``rule <id> (mappings.yaml:<line>)``."""
        return f"rule {self.id} ({self._source}:{self._line})"


class ReportOptions(BaseModel):
    """How the portfolio workbook reads the data: the `report:` section."""

    model_config = ConfigDict(extra="forbid")

    scope_growth_threshold: float = Field(
        0.2, gt=0, le=10,
        description="Relative growth of an epic's size (points, else child count) since last week's snapshot "
                    "that the Changes sheet reports as scope growth (0.2 = 20 %).")
    allocation_window_days: int = Field(
        ALLOCATION_WINDOW_DAYS, ge=7, le=730,
        description="Days of completed work behind each pillar's actual share of effort.")
    key_result_tolerance: Annotated[float, BeforeValidator(_share)] = Field(
        0.1, ge=0, le=1,
        description="How far a key result's progress may trail the share of its quarter elapsed before it is "
                    "*behind*, in percentage points: `10%` or `0.1` (10 pp). A key result nothing contributes "
                    "to is *no work planned*; one whose quarter ended below 100 % is *missed*.")
    hygiene_min_severity: Severity = Field(
        "info",
        description="The hygiene score is the share of epics with no lint finding at this severity or above. "
                    "`info` (every finding counts) makes it the lint report's own score; `warning` lets "
                    "info findings pass.")
    max_story_points: float = Field(
        100, gt=0,
        description="Story points above this on one issue are absurd: like negative points they are kept as "
                    "entered, left out of every sum (the issue counts as unestimated, in the portfolio and in "
                    "finance's points model), counted on the Data quality sheet and the finance export's Policy "
                    "sheet, and reported by lint rule EQ043.")


class RollupConfig(BaseModel):
    """The whole ``mappings.yaml``."""

    model_config = ConfigDict(extra="forbid")

    jira: JiraScope
    sites: list[Site] = Field(
        default_factory=list,
        description="Several Jira sites in one portfolio, synced in parallel into one store (see `Site`); "
                    "empty: the one site in JIRA_URL.")
    sync: SyncOptions = Field(default_factory=SyncOptions)
    pillars: list[Pillar] = Field(default_factory=list, description="The strategic pillars, in report order.")
    okrs: list[Okr] = Field(default_factory=list, description="OKRs per quarter, each under a pillar.")
    buckets: list[Bucket] = Field(default_factory=list, description="Allocation buckets, in report order.")
    teams: list[Team] = Field(default_factory=list, description="Teams and how their issues are recognised.")
    rules: list[Rule] = Field(default_factory=list, description="Mapping rules, by priority then file order.")
    report: ReportOptions = Field(default_factory=ReportOptions)
    lint: LintOptions = Field(default_factory=LintOptions, description="Epic-quality lint: see docs/lint.md.")
    finance: FinanceOptions = Field(default_factory=FinanceOptions,
                                    description="Finance export policy: see docs/finance.md.")
    forecast: ForecastOptions = Field(default_factory=ForecastOptions,
                                      description="Monte Carlo completion forecasts: see docs/forecasting.md.")
    _source: str = PrivateAttr("mappings.yaml")

    @property
    def source(self) -> str:
        """The file name the configuration was read from (as shown in provenance)."""
        return self._source

    def scope_for(self, site: Site | None) -> JiraScope:
        """The ``jira:`` section as ``site`` reads it: its own scope if it has one, its field choices over
        the section's (the section itself for None)."""
        if site is None:
            return self.jira
        jira = self.jira
        project_fields = {p: dict(roles) for p, roles in jira.project_fields.items()}
        for project, roles in site.project_fields.items():
            project_fields[project] = {**project_fields.get(project, {}), **roles}
        own_scope = bool(site.projects or site.jql)
        return JiraScope(
            projects=site.projects if own_scope else jira.projects,
            jql=site.jql if own_scope else jira.jql,
            fields={**jira.fields, **site.fields},
            project_fields=project_fields,
            extra_fields=list(dict.fromkeys([*jira.extra_fields, *site.extra_fields])),
            deployment=site.deployment,
        )


#: Allowed difference between 100 % and the sum of the pillars' target shares.
SHARE_TOLERANCE = 0.001
