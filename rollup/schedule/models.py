"""``schedules/*.yaml``: jobs validated at the door, like ``mappings.yaml``.

Each file holds ``jobs:``, a list of jobs. A job has a ``name``, *when* it fires (``cron`` — five
crontab fields read in ``timezone`` — or ``working_day``), its ``steps`` (see
:mod:`rollup.schedule.steps` for each step's keys), where its outputs go (``output``,
``retention``) and how they are delivered (``deliver: email`` and/or ``deliver: confluence``).
A step is written ``- sync`` or ``- {step: team_reports, teams: [payments], on_failure: continue}``.

Every model forbids unknown keys; a bad file raises :class:`~rollup.errors.ConfigError` naming
the file, the line and the key, with "did you mean …" for a misspelt key or step, which the CLI
turns into exit code 2 before anything runs. Reading the YAML and wording validation errors is
:mod:`rollup.config.loader`'s, shared with ``mappings.yaml``.
"""

from __future__ import annotations

import re
import string
import typing
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from pathlib import Path
from typing import Annotated, Any, Union
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PrivateAttr,
    field_validator,
    model_validator,
)

from rollup.config.loader import parse_document, read_config_text
from rollup.config.names import did_you_mean
from rollup.config.types import Id, StrList
from rollup.dates import out_of_range
from rollup.errors import ConfigError
from rollup.schedule.steps import REGISTRY, STEPS, StepParams
from rollup.schedule.triggers import WorkingDayTrigger, local_cron
from rollup.schedule.values import Duration

#: Where ``rollup schedule`` and ``rollup run`` look for schedules unless told otherwise.
DEFAULT_SCHEDULES_PATH = Path("schedules")

#: Placeholders a subject or page title may use.
PLACEHOLDERS = ("job", "title", "date", "week", "status")

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+$")
#: Where a cron expression is probed for a first fire time (29 February comes within four years of it).
_CRON_PROBE = datetime(2000, 1, 1, tzinfo=timezone.utc)


def _step_shorthand(value: Any) -> Any:
    """``- sync`` is short for ``- {step: sync}``."""
    if isinstance(value, list):
        return [{"step": item} if isinstance(item, str) else item for item in value]
    return value


#: One step: the union of every registered step's keys, told apart by ``step:``. The union is built from the
#: registry, which a type checker cannot follow: to it a step is the keys every step takes.
if typing.TYPE_CHECKING:
    StepSpec = StepParams
else:
    StepSpec = Annotated[Union[tuple(s.Params for s in STEPS)], Field(discriminator="step")]


def _placeholders(text: str) -> str:
    try:
        names = [name for _, name, _, _ in string.Formatter().parse(text) if name is not None]
    except ValueError as exc:
        raise ValueError(f"{text!r} is not a valid template: {exc}") from None
    unknown = [n for n in names if n not in PLACEHOLDERS]
    if unknown:
        raise ValueError(f"unknown placeholder {{{unknown[0]}}}; use {', '.join('{' + p + '}' for p in PLACEHOLDERS)}")
    return text


class EmailDelivery(BaseModel):
    """``deliver: email`` — a message with the workbooks attached, sent by SMTP (``ROLLUP_SMTP_*`` variables)."""

    model_config = ConfigDict(extra="forbid")

    to: StrList = Field(min_length=1, description="Recipients.")
    cc: StrList = Field(default_factory=list, description="Copy recipients.")
    subject: str = Field("{title}: {date}", description="Subject; placeholders {job} {title} {date} {week} {status}.")
    attach: StrList = Field(default_factory=lambda: ["*.xlsx"],
                            description="Globs, relative to the run folder, of the files to attach.")
    max_attachment_mb: float = Field(20, gt=0, description="Above this total, files are listed, not attached.")
    retries: int = Field(3, ge=0, le=10, description="Attempts after the first when sending fails.")
    retry_delay: Duration = Field(timedelta(seconds=30), description="Wait before the first retry; doubles after each.")
    outbox: str | None = Field(None, description="Write the message as an .eml file in this folder instead of "
                                                 "sending it (demos; checking a message before going live).")

    @field_validator("to", "cc")
    @classmethod
    def _addresses(cls, value: list[str]) -> list[str]:
        for address in value:
            if not _EMAIL.match(address):
                raise ValueError(f"{address!r} is not an email address")
        return value

    @field_validator("subject")
    @classmethod
    def _subject(cls, value: str) -> str:
        return _placeholders(value)


class ConfluenceDelivery(BaseModel):
    """``deliver: confluence`` — publish the run to a page (``CONFLUENCE_*`` variables), files as attachments."""

    model_config = ConfigDict(extra="forbid")

    space: str = Field(description="Space key, e.g. `PORT`.")
    title: str = Field("{title}", description="Page title; placeholders as for the email subject.")
    parent_id: str | None = Field(None, description="Id of the parent page (optional).")
    attach: StrList = Field(default_factory=lambda: ["*.xlsx", "charts/*.png"],
                            description="Globs, relative to the run folder; PNGs are shown on the page.")
    retries: int = Field(3, ge=0, le=10, description="Attempts after the first when publishing fails.")
    retry_delay: Duration = Field(timedelta(seconds=30), description="Wait before the first retry; doubles after each.")

    @field_validator("title")
    @classmethod
    def _title(cls, value: str) -> str:
        return _placeholders(value)


class Delivery(BaseModel):
    """``deliver:`` — where a run's outputs go besides the output folder."""

    model_config = ConfigDict(extra="forbid")

    email: EmailDelivery | None = None
    confluence: ConfluenceDelivery | None = None


class Retention(BaseModel):
    """``retention:`` — which of the job's own dated run folders to keep. Nothing else is ever removed."""

    model_config = ConfigDict(extra="forbid")

    keep_last: int | None = Field(12, ge=1, description="Keep this many newest run folders (null: no limit).")
    max_age: Duration | None = Field(None, description="Also remove run folders older than this, e.g. `90d`.")


class WorkingDay(BaseModel):
    """``working_day:`` — fire on the Nth working day (Mon–Fri, not a holiday) of each month."""

    model_config = ConfigDict(extra="forbid")

    day: int = Field(ge=1, le=20, description="Which working day: 1 for the first, 2 for the second, …")
    at: time = Field(description="Local time, `HH:MM`.")
    holidays: list[date] = Field(default_factory=list, description="Dates that are not working days.")


class Job(BaseModel):
    """One scheduled job."""

    model_config = ConfigDict(extra="forbid")

    name: Id = Field(description="Unique name: `rollup run <name>`.")
    title: str | None = Field(None, description="What readers call it, e.g. `Weekly portfolio` (default: name).")
    description: str = ""
    enabled: bool = Field(
        True, description="`false`: `rollup schedule run` does not schedule it (`rollup run` still can).")
    cron: str | None = Field(None, description="Crontab fields `minute hour day month weekday`, e.g. `0 7 * * mon`.")
    working_day: WorkingDay | None = Field(None, description="Instead of cron: the Nth working day of each month.")
    timezone: str = Field("UTC", description="IANA time zone the schedule is read in, e.g. `Europe/London`.")
    config: str = Field("mappings.yaml", description="The mappings file the steps use.")
    output: str | None = Field(None, description="Output folder (default `outputs/<name>`).")
    as_of: date | None = Field(None, description="Report date (default: the run's local date).")
    max_data_age: Duration | None = Field(
        timedelta(hours=1),
        description="Report steps run on data at most this old: the job syncs first unless the last "
                    "successful sync is newer. null: never sync unless a `sync` step is listed.")
    misfire_grace: Duration = Field(
        timedelta(days=1), description="A run missed while the scheduler was down still runs (once) when it comes back "
                          "within this long.")
    retention: Retention = Field(default_factory=Retention)
    steps: Annotated[list[StepSpec], BeforeValidator(_step_shorthand)] = Field(
        min_length=1, description="What the job does, in order.")
    deliver: Delivery = Field(default_factory=Delivery)
    _source: str = PrivateAttr("schedules")
    _line: int | None = PrivateAttr(None)

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {value!r}; use an IANA name such as Europe/London") from None
        return value

    @field_validator("as_of")
    @classmethod
    def _report_date(cls, value: date | None) -> date | None:
        problem = out_of_range(value) if value is not None else None
        if problem:
            raise ValueError(problem)
        return value

    @field_validator("cron")
    @classmethod
    def _cron(cls, value: str | None) -> str | None:
        if value is not None:
            # A date that never comes (31 February) would leave the job silently never running.
            if local_cron(value, "UTC").get_next_fire_time(None, _CRON_PROBE) is None:
                raise ValueError(f"{value!r} never fires (no such date); check the day-of-month and month fields")
        return value

    @model_validator(mode="after")
    def _when(self) -> Job:
        if (self.cron is None) == (self.working_day is None):
            raise ValueError("give exactly one of 'cron' and 'working_day'")
        return self

    @property
    def source(self) -> str:
        """``file:line`` of the job."""
        return f"{self._source}:{self._line}" if self._line else self._source

    @property
    def display_title(self) -> str:
        """The title, or the name when there is none."""
        return self.title or self.name

    @property
    def when(self) -> str:
        """When the job fires, in words: ``cron '0 7 * * mon' Europe/London`` or ``working day 2 at 07:00 …``."""
        if self.working_day is not None:
            return f"working day {self.working_day.day} at {self.working_day.at:%H:%M} {self.timezone}"
        return f"cron '{self.cron}' {self.timezone}"

    @property
    def output_dir(self) -> Path:
        """The job's output folder."""
        return Path(self.output) if self.output else Path("outputs") / self.name

    def trigger(self) -> Any:
        """The APScheduler trigger for this job."""
        if self.working_day is not None:
            w = self.working_day
            return WorkingDayTrigger(w.day, w.at, self.timezone, tuple(w.holidays))
        return local_cron(self.cron or "", self.timezone)

    def zone(self) -> ZoneInfo:
        """The job's time zone."""
        return ZoneInfo(self.timezone)


class ScheduleFile(BaseModel):
    """One ``schedules/*.yaml`` file."""

    model_config = ConfigDict(extra="forbid")

    jobs: list[Job] = Field(min_length=1)


@dataclass
class Schedules:
    """Every job of the schedule files, by name; ``files`` are the files read."""

    jobs: dict[str, Job] = field(default_factory=dict)
    files: list[Path] = field(default_factory=list)

    def get(self, name: str) -> Job:
        """The job called ``name``; ConfigError with the closest names otherwise."""
        if name in self.jobs:
            return self.jobs[name]
        hint = did_you_mean(name, self.jobs) or f"jobs: {', '.join(self.jobs) or 'none'}"
        where = ", ".join(str(f) for f in self.files) or "no schedule files"
        raise ConfigError(f"no job named '{name}' in {where}; {hint}")


# ---------------------------------------------------------------------------------------- loading


def load_schedules(path: str | Path = DEFAULT_SCHEDULES_PATH) -> Schedules:
    """Read a schedule file, or every ``*.yaml`` in a folder (not its subfolders), and validate them."""
    path = Path(path)
    if path.is_dir():
        files = sorted(p for p in path.iterdir() if p.suffix in (".yaml", ".yml") and p.is_file())
        if not files:
            raise ConfigError(f"{path}: no *.yaml schedule files in this folder")
    elif path.exists():
        files = [path]
    else:
        raise ConfigError(f"{path}: not found; pass --schedules FILE|FOLDER (default: schedules/)")
    schedules = Schedules(files=files)
    for file in files:
        text = read_config_text(file, missing="not found; pass --schedules FILE|FOLDER (default: schedules/)")
        for job in parse_schedule(text, source=str(file)).jobs:
            if job.name in schedules.jobs:
                raise ConfigError(f"{job.source}: duplicate job name '{job.name}' (first declared at "
                                  f"{schedules.jobs[job.name].source}); job names must be unique")
            schedules.jobs[job.name] = job
    folders: dict[Path, Job] = {}
    for job in schedules.jobs.values():
        folder = job.output_dir.resolve()
        if folder in folders:
            raise ConfigError(f"{job.source}: job '{job.name}' writes to {job.output_dir}, the output folder of job "
                              f"'{folders[folder].name}' ({folders[folder].source}); give each job its own 'output'")
        folders[folder] = job
    return schedules


def parse_schedule(text: str, source: str = "schedule.yaml") -> ScheduleFile:
    """Validate one schedule file's text; ``source`` names it in error messages."""
    parsed, lines = parse_document(text, source, ScheduleFile, empty="the file is empty; it needs a 'jobs:' list",
                                   not_mapping="expected a mapping with a 'jobs:' list", title="invalid schedule",
                                   special=_step_error)
    for index, job in enumerate(parsed.jobs):
        job._source = source
        job._line = lines.get(("jobs", index))
    return parsed


def _step_error(error: Any, where: str, dotted: str) -> str | None:
    """A step with an unknown or missing ``step:``, with "did you mean" and the steps there are."""
    if error["type"] == "union_tag_invalid":
        tag = str(error.get("ctx", {}).get("tag", ""))
        hint = did_you_mean(tag, REGISTRY)
        return f"{where}: '{dotted}': unknown step '{tag}'{'; ' + hint if hint else ''}; steps: {', '.join(REGISTRY)}"
    if error["type"] == "union_tag_not_found":
        return f"{where}: '{dotted}': a step needs 'step:' (one of {', '.join(REGISTRY)})"
    return None
