"""Scheduled jobs: when each fires next; and the SMTP server their email goes through, when configured.

The SMTP check connects and says EHLO (and STARTTLS, as delivery would) with a short timeout; it
never logs in and never sends anything. The password is never printed.
"""

from __future__ import annotations

import smtplib
import socket
import ssl
from datetime import datetime, timezone

from rollup.doctor.model import Check, Context, check, fail, ok, skip, warn
from rollup.errors import ConfigError
from rollup.schedule.delivery import SmtpSettings
from rollup.schedule.scheduler import next_fire_times


@check("schedule", requires=("schedules",))
def next_runs(ctx: Context) -> list[Check]:
    """Each job's next fire time, as ``rollup schedule list`` computes it."""
    assert ctx.schedules is not None  # guaranteed by requires=
    now = ctx.options.now or datetime.now(timezone.utc)
    upcoming = next_fire_times(ctx.schedules, now)
    lines = []
    for name, job in ctx.schedules.jobs.items():
        line = f"schedule {name}"
        nxt = upcoming[name]
        if not job.enabled:
            lines.append(skip(line, f"disabled ({job.when}); rollup run {name} still runs it by hand"))
        elif nxt is None:
            lines.append(warn(line, f"never fires again ({job.when})", f"check the schedule of {name} in {job.source}"))
        else:
            lines.append(ok(line, f"next {nxt:%Y-%m-%d %H:%M} {job.timezone} "
                                  f"({nxt.astimezone(timezone.utc):%Y-%m-%d %H:%M} UTC); {job.when}"))
    return lines


def _mailing_jobs(ctx: Context) -> list[str]:
    """Enabled jobs that send email through SMTP (not to an outbox folder)."""
    if ctx.schedules is None:
        return []
    return [name for name, job in ctx.schedules.jobs.items()
            if job.enabled and job.deliver.email is not None and job.deliver.email.outbox is None]


def probe(settings: SmtpSettings, timeout: float) -> list[str]:
    """Connect, EHLO, STARTTLS when configured, EHLO again, QUIT; the server's extensions. Raises on failure."""
    context = ssl.create_default_context()
    if settings.ssl:
        client: smtplib.SMTP = smtplib.SMTP_SSL(settings.host, settings.port, timeout=timeout, context=context)
    else:
        client = smtplib.SMTP(settings.host, settings.port, timeout=timeout)
    with client:
        code, _ = client.ehlo()
        if code != 250:
            raise smtplib.SMTPResponseException(code, "EHLO refused")
        if settings.starttls:
            if not client.has_extn("starttls"):
                raise smtplib.SMTPNotSupportedError("the server does not offer STARTTLS")
            client.starttls(context=context)
            client.ehlo()
        return sorted(client.esmtp_features)


@check("smtp", seconds=20)
def smtp(ctx: Context) -> list[Check]:
    """The SMTP server of ``ROLLUP_SMTP_*`` answers EHLO (and STARTTLS); skipped when not configured."""
    env = dict(ctx.options.env)
    mailing = _mailing_jobs(ctx)
    if not env.get("ROLLUP_SMTP_HOST", "").strip():
        if mailing:
            return [fail("smtp", f"ROLLUP_SMTP_HOST is not set, but {', '.join(mailing)} send(s) email",
                         "set ROLLUP_SMTP_HOST (and ROLLUP_SMTP_PORT, ROLLUP_SMTP_USER, ROLLUP_SMTP_PASSWORD as the "
                         "server wants), or give the job's email an outbox: folder")]
        return [skip("smtp", "not configured (ROLLUP_SMTP_HOST is not set); no job sends email")]
    try:
        settings = SmtpSettings.from_env(env)
    except ConfigError as exc:
        return [fail("smtp", str(exc), "fix the ROLLUP_SMTP_* variable named")]
    where = f"{settings.host}:{settings.port}"
    how = "implicit TLS" if settings.ssl else ("STARTTLS" if settings.starttls else "no TLS")
    timeout = min(settings.timeout, ctx.options.network_timeout)
    variables = "check ROLLUP_SMTP_HOST and ROLLUP_SMTP_PORT, and that the mail server accepts connections from here"
    try:
        features = probe(settings, timeout)
    except smtplib.SMTPNotSupportedError as exc:
        return [fail("smtp", f"{where} answers EHLO, but {exc}",
                     "set ROLLUP_SMTP_STARTTLS=false if the server is on a trusted network, or use its TLS port with "
                     "ROLLUP_SMTP_SSL=true")]
    except ssl.SSLError as exc:
        return [fail("smtp", f"{where}: the TLS handshake ({how}) failed: {exc.reason or exc}",
                     "check the port (465 is implicit TLS: ROLLUP_SMTP_SSL=true; 587 is STARTTLS), and that this "
                     "machine trusts the server's certificate")]
    except (socket.timeout, TimeoutError):
        return [fail("smtp", f"{where} did not answer within {timeout:g} s", variables)]
    except ConnectionRefusedError:
        return [fail("smtp", f"cannot connect to {where}: the connection was refused (nothing listens there)",
                     variables)]
    except (OSError, smtplib.SMTPException) as exc:
        return [fail("smtp", f"{where}: {type(exc).__name__}: {exc}", variables)]
    login = f"; login as {settings.user} not tried" if settings.user else ""
    if settings.user and "auth" not in features:
        return [warn("smtp", f"{where} answers EHLO ({how}) but offers no AUTH, while ROLLUP_SMTP_USER is set",
                     "unset ROLLUP_SMTP_USER if the server needs no login; otherwise check the port")]
    return [ok("smtp", f"{where} answers EHLO ({how}); extensions {', '.join(features) or 'none'}{login}; "
                       "no mail sent")]
