"""Runs the checks in order, each within its time bound; one failing check never stops the others.

Each check runs in its own daemon thread on a copy of the :class:`Context`. When it finishes in
time, the facts it declares (``provides``) are copied back for the checks after it; when it does
not, it is reported as failed and abandoned with its copy, so a late answer cannot change what
later checks see. A check whose required facts are missing is reported as skipped, naming the
check that could not provide them.
"""

from __future__ import annotations

import copy
import threading
from collections.abc import Sequence
from dataclasses import replace

from rollup.doctor import files, jira, schedules, store
from rollup.doctor.model import FACTS, Check, CheckSpec, Context, DoctorOptions, fail, skip
from rollup.errors import describe_error

#: Every check, in the order the report lists them.
CHECKS: tuple[CheckSpec, ...] = (
    files.config_file,
    files.schedule_files,
    files.rates_file,
    jira.connection,
    jira.tls,
    jira.projects,
    jira.field_roles,
    store.store,
    store.stored_field_roles,
    store.last_sync,
    jira.issue_count,
    schedules.next_runs,
    schedules.smtp,
)


#: Checks that talk to one Jira site, or read one site's rows: with ``sites:`` they run once per site.
PER_SITE = frozenset({"jira", "tls", "projects", "fields", "field roles", "issue count"})


def run_checks(options: DoctorOptions | None = None, *, checks: Sequence[CheckSpec] = CHECKS) -> list[Check]:
    """Run ``checks`` and return their lines, in order.

    With ``sites:`` in mappings.yaml, every check of :data:`PER_SITE` runs once per site, on a context of
    that site's own (its connector, server and fields), its lines named ``<check> (<site>)``.
    """
    ctx = Context(options or DoctorOptions())
    provider: dict[str, str] = {spec_fact: spec.name for spec in checks for spec_fact in spec.provides}
    results: list[Check] = []
    per_site: dict[str, Context] = {}

    def run(spec: CheckSpec, on: Context, label: str) -> None:
        missing = [fact for fact in spec.requires if getattr(on, fact) is None]
        if missing:
            needs = "; ".join(f"{FACTS[f]} (see '{provider.get(f, '?')}' above)" for f in dict.fromkeys(missing))
            results.append(skip(label, f"not checked: needs {needs}"))
            return
        lines = _run_bounded(spec, on)
        results.extend(lines if label == spec.name else [replace(line, name=_site_name(line.name, on)) for line in
                                                          lines])

    try:
        for spec in checks:
            sites = ctx.config.sites if ctx.config is not None and spec.name in PER_SITE else []
            if not sites:
                run(spec, ctx, spec.name)
                continue
            for index, site in enumerate(sites):
                if site.name not in per_site:
                    per_site[site.name] = replace(ctx, site=site, site_index=index, connector=None, server=None,
                                                  fields=None)
                on = per_site[site.name]
                on.store, on.config = ctx.store, ctx.config  # the facts every site shares
                run(spec, on, f"{spec.name} ({site.name})")
    finally:
        for on in per_site.values():
            if on.connector is not None:
                on.connector.close()
        ctx.close()
    return results


def _site_name(name: str, on: Context) -> str:
    return f"{name} ({on.site.name})" if on.site is not None else name


def _run_bounded(spec: CheckSpec, ctx: Context) -> list[Check]:
    mine = copy.copy(ctx)
    outcome: dict[str, object] = {}

    def target() -> None:
        try:
            outcome["lines"] = spec.run(mine)
        except Exception as exc:  # noqa: BLE001 - a broken check is one failed line, not a stopped run
            outcome["error"] = exc

    thread = threading.Thread(target=target, name=f"rollup-doctor-{spec.name}", daemon=True)
    thread.start()
    thread.join(spec.seconds)
    if thread.is_alive():
        return [fail(spec.name, f"did not finish within {spec.seconds:g} s",
                     "something it talks to answers too slowly; run rollup doctor again, and if this persists "
                     "check the network between this machine and that service")]
    if "error" in outcome:
        error = outcome["error"]
        assert isinstance(error, BaseException)
        return [fail(spec.name, f"the check itself broke: {describe_error(error)}",
                     "report this as a bug, with the line above")]
    for fact in spec.provides:
        setattr(ctx, fact, getattr(mine, fact))
    lines = outcome["lines"]
    assert isinstance(lines, list)
    return lines
