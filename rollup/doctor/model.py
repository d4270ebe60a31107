"""What ``rollup doctor`` works with: its options, the facts checks hand on, and one check's result.

A check is a small function declared with :func:`check`: its name, the facts it needs
(``requires``: attributes of :class:`Context` an earlier check filled in), the facts it hands on
(``provides``) and how long it may take (``seconds``). It returns one :class:`Check` per line it
reports. The runner (:mod:`rollup.doctor.runner`) runs them in order, each within its time bound.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from rollup.config import DEFAULT_CONFIG_PATH
from rollup.schedule.models import DEFAULT_SCHEDULES_PATH
from rollup.store.sites import SiteIdentity, stored_slots

if TYPE_CHECKING:
    from connectors.jira import FieldMap, JiraConnector, ServerInfo
    from rollup.config import RollupConfig
    from rollup.config.models import Site
    from rollup.schedule.models import Schedules
    from rollup.store import Store

Status = Literal["ok", "warn", "fail", "skip"]
#: Statuses from best to worst; the run's status is its worst check's.
STATUSES: tuple[Status, ...] = ("ok", "skip", "warn", "fail")

#: The age of the last successful sync beyond which ``rollup doctor`` warns.
DEFAULT_MAX_AGE = timedelta(days=8)
#: The longest wait for one Jira answer or one SMTP reply during the checks.
DEFAULT_NETWORK_TIMEOUT_S = 10.0


def one_line(text: str) -> str:
    """A multi-line message (a config error listing its problems) as one line: ``a: b; c``."""
    out = ""
    for line in (part.strip() for part in str(text).splitlines()):
        if not line:
            continue
        out += line if not out else (f" {line}" if out.endswith(":") else f"; {line}")
    return out


@dataclass(frozen=True)
class Check:
    """One line of the report: ``name``, ``status``, what was found (``detail``) and what to do (``todo``)."""

    name: str
    status: Status
    detail: str
    todo: str = ""

    def __post_init__(self) -> None:
        object.__setattr__(self, "detail", one_line(self.detail))
        object.__setattr__(self, "todo", one_line(self.todo))

    def line(self) -> str:
        """``ok   jira: https://… answers …`` or ``fail projects: OPS … — check the key …``."""
        return f"{self.status:<4} {self.name}: {self.detail}" + (f" — {self.todo}" if self.todo else "")

    def to_dict(self) -> dict[str, str]:
        """A JSON-ready dict: name, status, detail, todo."""
        return {"name": self.name, "status": self.status, "detail": self.detail, "todo": self.todo}


def ok(name: str, detail: str) -> Check:
    """A passing check."""
    return Check(name, "ok", detail)


def warn(name: str, detail: str, todo: str) -> Check:
    """Works, but needs attention: ``todo`` says what to do."""
    return Check(name, "warn", detail, todo)


def fail(name: str, detail: str, todo: str) -> Check:
    """Broken: ``todo`` says how to fix it. Any failed check makes ``rollup doctor`` exit 1."""
    return Check(name, "fail", detail, todo)


def skip(name: str, detail: str) -> Check:
    """Not checked: not configured, or not applicable."""
    return Check(name, "skip", detail)


def worst(checks: list[Check]) -> Status:
    """The worst status among ``checks`` (``ok`` for none)."""
    return max((c.status for c in checks), key=STATUSES.index, default="ok")


def exit_code(checks: list[Check]) -> int:
    """1 when any check failed, else 0 (warnings and skipped checks do not fail the run)."""
    return 1 if any(c.status == "fail" for c in checks) else 0


def report_dict(checks: list[Check]) -> dict:
    """The JSON document of a run: overall status, exit code, counts per status and every check."""
    return {
        "status": worst(checks),
        "exit_code": exit_code(checks),
        "counts": {status: sum(1 for c in checks if c.status == status) for status in STATUSES},
        "checks": [c.to_dict() for c in checks],
    }


def summary_line(checks: list[Check]) -> str:
    """``17 checks: 14 ok, 1 skip, 1 warn, 1 fail``."""
    counts = ", ".join(f"{sum(1 for c in checks if c.status == s)} {s}" for s in STATUSES)
    return f"{len(checks)} checks: {counts}"


@dataclass(frozen=True)
class DoctorOptions:
    """What to check: the same files, store and environment the other commands use.

    ``schedules_path`` None means the default ``schedules/`` folder, which may be absent (nothing
    scheduled); a folder named on the command line must exist. ``env`` stands for the process
    environment (``JIRA_*``, ``ROLLUP_DATABASE_URL``, ``ROLLUP_RATES``, ``ROLLUP_SMTP_*``).
    """

    config_path: Path = DEFAULT_CONFIG_PATH
    schedules_path: Path | None = None
    database_url: str | None = None
    rates_path: Path | None = None
    max_age: timedelta = DEFAULT_MAX_AGE
    env: Mapping[str, str] = field(default_factory=lambda: dict(os.environ))
    now: datetime | None = None
    network_timeout: float = DEFAULT_NETWORK_TIMEOUT_S

    @property
    def schedules(self) -> Path:
        """The schedule file or folder to read."""
        return self.schedules_path or DEFAULT_SCHEDULES_PATH


@dataclass
class Context:
    """The facts checks hand on to later checks; None until a check provides them."""

    options: DoctorOptions
    config: RollupConfig | None = None
    schedules: Schedules | None = None
    connector: JiraConnector | None = None
    server: ServerInfo | None = None
    fields: FieldMap | None = None
    store: Store | None = None
    #: The site of ``sites:`` the Jira checks look at (None: the one site in JIRA_URL), and its place in the list.
    site: Site | None = None
    site_index: int = 0

    def site_identity(self) -> SiteIdentity | None:
        """Which of the store's rows are this site's (None: a store of one site)."""
        if self.site is None:
            return None
        slots = stored_slots(self.store) if self.store is not None else {}
        return SiteIdentity(self.site.name, slots.get(self.site.name, self.site_index))

    def close(self) -> None:
        """Release the Jira connection and the store."""
        if self.connector is not None:
            self.connector.close()
        if self.store is not None:
            self.store.close()


#: What each fact is, for the line of a check skipped because an earlier check could not provide it.
FACTS = {
    "config": "a valid mappings.yaml",
    "schedules": "the schedule files",
    "connector": "a working Jira connection",
    "server": "a working Jira connection",
    "fields": "the field roles",
    "store": "a readable store of the current schema",
}


@dataclass(frozen=True)
class CheckSpec:
    """One check: ``run(context)`` returns its lines; it may fill in the ``provides`` facts."""

    name: str
    run: Callable[[Context], list[Check]]
    requires: tuple[str, ...] = ()
    provides: tuple[str, ...] = ()
    seconds: float = 15.0


def check(name: str, *, requires: tuple[str, ...] = (), provides: tuple[str, ...] = (),
          seconds: float = 15.0) -> Callable[[Callable[[Context], list[Check]]], CheckSpec]:
    """Declare a check function (see the module docstring)."""
    unknown = [f for f in (*requires, *provides) if f not in FACTS]
    if unknown:
        raise ValueError(f"check {name!r} names unknown facts {unknown}; known: {', '.join(FACTS)}")

    def declare(run: Callable[[Context], list[Check]]) -> CheckSpec:
        return CheckSpec(name=name, run=run, requires=requires, provides=provides, seconds=seconds)

    return declare
