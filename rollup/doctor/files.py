"""The configuration files: ``mappings.yaml``, the schedule files and the finance rates file parse."""

from __future__ import annotations

from rollup.config import load_config
from rollup.doctor.model import Check, Context, check, fail, ok, skip
from rollup.errors import ConfigError
from rollup.finance.rates import RATES_ENV, load_rates, rates_path
from rollup.schedule.models import load_schedules


@check("config", provides=("config",))
def config_file(ctx: Context) -> list[Check]:
    """``mappings.yaml`` parses and cross-checks (what every command reads first)."""
    path = ctx.options.config_path
    try:
        config = load_config(path)
    except ConfigError as exc:
        return [fail("config", str(exc), f"fix {path} where the message says (docs/mappings.md lists every key)")]
    ctx.config = config
    jira = config.jira
    scope = f"projects {', '.join(jira.projects)}" if jira.projects else f"JQL {jira.scope_jql()!r}"
    return [ok("config", f"{path} is valid: {scope}; {len(config.pillars)} pillars, {len(config.okrs)} OKRs, "
                         f"{len(config.buckets)} buckets, {len(config.teams)} teams, {len(config.rules)} rules")]


@check("schedules", provides=("schedules",))
def schedule_files(ctx: Context) -> list[Check]:
    """The schedule file or folder parses; the default ``schedules/`` may be absent (nothing scheduled)."""
    options = ctx.options
    path = options.schedules
    if options.schedules_path is None and not path.exists():
        return [skip("schedules", f"no {path}/ folder: no jobs are scheduled")]
    try:
        schedules = load_schedules(path)
    except ConfigError as exc:
        return [fail("schedules", str(exc), "fix the schedule file where the message says (see docs/scheduling.md)")]
    ctx.schedules = schedules
    enabled = [name for name, job in schedules.jobs.items() if job.enabled]
    off = len(schedules.jobs) - len(enabled)
    shown = f"{path}/" if path.is_dir() else str(path)
    return [ok("schedules", f"{shown}: {len(schedules.jobs)} job(s) in {len(schedules.files)} file(s)"
                            + (f" ({off} disabled)" if off else "") + f": {', '.join(schedules.jobs)}")]


@check("rates", requires=("config",))
def rates_file(ctx: Context) -> list[Check]:
    """The finance rates CSV parses, when one is configured (``--rates``, ``ROLLUP_RATES``, ``finance.rates_file``)."""
    assert ctx.config is not None  # guaranteed by requires=
    finance = ctx.config.finance
    option = ctx.options.rates_path or ctx.options.env.get(RATES_ENV) or None
    if not (option or finance.rates_file):
        return [skip("rates", f"no rates file configured (--rates, {RATES_ENV} or finance.rates_file); "
                              "only rollup finance needs one")]
    path = rates_path(option, finance)
    try:
        rates = load_rates(path, finance)
    except ConfigError as exc:
        return [fail("rates", str(exc), "fix the rates file where the message says (see docs/finance.md)")]
    levels = ", ".join(f"{sum(1 for r in rates.rows if r.level == level)} {level}"
                       for level in ("person", "role", "team"))
    return [ok("rates", f"{path} is valid: {len(rates.rows)} rows ({levels}), reporting currency {finance.currency}")]
