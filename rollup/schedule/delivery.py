"""Delivery of a run's outputs: email by SMTP, and optionally a Confluence page.

Email settings come from the environment, never from a file in the repository:

==========================  ==================================================================
``ROLLUP_SMTP_HOST``        SMTP server (required to send; ``outbox:`` in the job needs none)
``ROLLUP_SMTP_PORT``        default 587 (465 with ``ROLLUP_SMTP_SSL=true``)
``ROLLUP_SMTP_STARTTLS``    ``true`` (default) upgrades the connection with STARTTLS
``ROLLUP_SMTP_SSL``         ``true`` for implicit TLS (port 465) instead of STARTTLS
``ROLLUP_SMTP_USER``        login name, when the server wants one
``ROLLUP_SMTP_PASSWORD``    its password (a secret: never logged, stored or printed)
``ROLLUP_SMTP_FROM``        sender address; default ``rollup@<host name>``
``ROLLUP_SMTP_TIMEOUT``     seconds per SMTP conversation; default 30
==========================  ==================================================================

Confluence: ``CONFLUENCE_URL`` (Cloud: ``https://<site>.atlassian.net/wiki``) with
``CONFLUENCE_EMAIL`` + ``CONFLUENCE_API_TOKEN`` (Cloud) or ``CONFLUENCE_PAT`` (Data Center), through
atlassian-python-api's REST client.

Each channel is tried ``1 + retries`` times, waiting ``retry_delay`` and doubling it after each
failure — when the failure may pass: a refused or timed-out connection, a dropped one, a ``4xx``
answer. A failure that retrying cannot fix fails at once (:class:`PermanentDeliveryError`), with a
message naming the setting to change: STARTTLS not offered or refused, a certificate that does not
verify, a refused login (``535``), a refused sender or recipients or message (``5xx``), an unknown
host. A failure never touches the outputs (they are already published); it is returned per
channel — status, attempts, last error — for the run history.
"""

from __future__ import annotations

import fnmatch
import html
import mimetypes
import os
import smtplib
import socket
import ssl
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import date
from email.message import EmailMessage
from email.utils import formatdate, getaddresses, make_msgid
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from pydantic import BaseModel, SecretStr

from connectors.jira.settings import parse_flag, parse_seconds
from rollup.errors import ConfigError
from rollup.schedule.logs import log_event, redact
from rollup.schedule.outputs import file_lines
from rollup.writers.safe import atomic_write

if TYPE_CHECKING:  # pragma: no cover
    from rollup.schedule.models import ConfluenceDelivery, EmailDelivery


def _variable(env: dict[str, str], name: str, parse: Callable[[str, str], Any], default: Any) -> Any:
    """One ``ROLLUP_SMTP_*`` variable read with ``parse``; ConfigError naming it and what it accepts."""
    raw = env.get(name, "").strip()
    try:
        return parse(name, raw) if raw else default
    except ValueError as exc:
        raise ConfigError(str(exc)) from None


def _port(name: str, raw: str) -> int:
    if not (raw.isdigit() and 1 <= int(raw) <= 65535):
        raise ValueError(f"{name} must be a port number from 1 to 65535, got {raw!r}")
    return int(raw)


class SmtpSettings(BaseModel):
    """How to reach the SMTP server (from ``ROLLUP_SMTP_*``)."""

    host: str
    port: int
    starttls: bool = True
    ssl: bool = False
    user: str | None = None
    password: SecretStr | None = None
    sender: str
    timeout: float = 30.0

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> SmtpSettings:
        """Read ``ROLLUP_SMTP_*``; ConfigError naming the variable that is missing or wrong."""
        env = dict(os.environ if env is None else env)
        host = env.get("ROLLUP_SMTP_HOST", "").strip()
        if not host:
            raise ConfigError("email delivery needs ROLLUP_SMTP_HOST (and ROLLUP_SMTP_PORT, ROLLUP_SMTP_USER, "
                              "ROLLUP_SMTP_PASSWORD as the server wants); or set 'outbox:' in the job to "
                              "write the message to a folder instead")
        use_ssl = _variable(env, "ROLLUP_SMTP_SSL", parse_flag, False)
        return cls(
            host=host,
            port=_variable(env, "ROLLUP_SMTP_PORT", _port, 465 if use_ssl else 587),
            starttls=False if use_ssl else _variable(env, "ROLLUP_SMTP_STARTTLS", parse_flag, True),
            ssl=use_ssl,
            user=env.get("ROLLUP_SMTP_USER") or None,
            password=env.get("ROLLUP_SMTP_PASSWORD") or None,
            sender=env.get("ROLLUP_SMTP_FROM") or f"rollup@{socket.gethostname()}",
            timeout=_variable(env, "ROLLUP_SMTP_TIMEOUT", parse_seconds, 30.0),
        )

    def __repr__(self) -> str:  # SecretStr already hides the password; keep the repr short
        return f"SmtpSettings(host={self.host!r}, port={self.port}, user={self.user!r})"


class ConfluenceSettings(BaseModel):
    """How to reach Confluence (from ``CONFLUENCE_*``)."""

    url: str
    email: str | None = None
    api_token: SecretStr | None = None
    pat: SecretStr | None = None

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> ConfluenceSettings:
        """Read ``CONFLUENCE_*``; ConfigError naming what is missing."""
        env = dict(os.environ if env is None else env)
        url = env.get("CONFLUENCE_URL", "").strip().rstrip("/")
        pat = env.get("CONFLUENCE_PAT") or None
        email, token = env.get("CONFLUENCE_EMAIL") or None, env.get("CONFLUENCE_API_TOKEN") or None
        if not url or not (pat or (email and token)):
            raise ConfigError("Confluence publishing needs CONFLUENCE_URL and either CONFLUENCE_EMAIL + "
                              "CONFLUENCE_API_TOKEN (Cloud) or CONFLUENCE_PAT (Data Center)")
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname or parts.username or parts.password:
            raise ConfigError("CONFLUENCE_URL must be an http:// or https:// address without a user name or "
                              "password, e.g. https://acme.atlassian.net/wiki")
        return cls(url=url, email=email, api_token=token, pat=pat)


@dataclass
class RunSummary:
    """What delivery says about a run.

    ``headline``: the report's headline figures, as its headline view computed them (rows with
    ``label``, ``value``, ``kind`` — ``count`` or ``share`` —, ``detail``). ``insights``: sentences
    computed by a view, which lead the message when there are any. Both come from the portfolio
    step (:func:`rollup.schedule.steps.report_facts`); delivery only formats them.
    """

    job: str
    title: str
    run_id: int
    status: str
    as_of: date
    steps: list[dict[str, Any]]
    run_dir: Path
    files: list[str]
    headline: list[dict[str, Any]] = field(default_factory=list)
    insights: list[str] = field(default_factory=list)

    def placeholders(self) -> dict[str, str]:
        """Values for ``{job}`` ``{title}`` ``{date}`` ``{week}`` ``{status}``."""
        year, week, _ = self.as_of.isocalendar()
        return {"job": self.job, "title": self.title, "date": self.as_of.isoformat(),
                "week": f"{year}-W{week:02d}", "status": self.status}

    def figure_lines(self) -> list[str]:
        """One line per headline figure: ``Active epics: 86 (in progress; 130 not done in all)``."""
        return [f"{row['label']}: {_figure(row['value'], row['kind'])}"
                + (f" ({row['detail']})" if row.get("detail") else "") for row in self.headline]

    def text(self) -> str:
        """The message: what to know, the headline figures, then the attached files; the run in one line."""
        lines = [f"{self.title} — week {self.placeholders()['week']}, as of {self.as_of.isoformat()}", ""]
        if self.insights:
            lines += ["What you should know this week:"] + [f"  - {sentence}" for sentence in self.insights] + [""]
        if self.headline:
            lines += ["Headline figures:"] + [f"  {line}" for line in self.figure_lines()] + [""]
        lines += [f"Files (in {self.run_dir}):"] + [f"  {line}" for line in file_lines(self.files)]
        steps = ", ".join(f"{step['name']} {step['status']}" for step in self.steps)
        lines += ["", f"Run {self.run_id} of {self.job}: {self.status} ({steps})."]
        problems = [f"  {step['name']}: {step['error']}" for step in self.steps if step.get("error")]
        return "\n".join(lines + problems) + "\n"


def _figure(value: Any, kind: str) -> str:
    if value is None:
        return "n/a"
    return f"{value:.0%}" if kind == "share" else f"{value:,.0f}"


@dataclass
class ChannelResult:
    """The outcome of one delivery channel."""

    status: str  # sent | outbox (written to the outbox folder) | failed
    attempts: int
    error: str | None = None
    detail: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready."""
        return asdict(self)


def select_files(summary: RunSummary, patterns: list[str]) -> list[str]:
    """The run's files (relative paths) matching any of ``patterns``, in run order."""
    return [f for f in summary.files if any(fnmatch.fnmatch(f, p) for p in patterns)]


# ---------------------------------------------------------------------------------------- email


def build_email(summary: RunSummary, cfg: EmailDelivery, sender: str) -> EmailMessage:
    """The message: subject from the template, the run as text, matching files attached (up to the size cap)."""
    message = EmailMessage()
    message["Subject"] = cfg.subject.format(**summary.placeholders())
    message["From"] = sender
    message["To"] = ", ".join(cfg.to)
    if cfg.cc:
        message["Cc"] = ", ".join(cfg.cc)
    message["Date"] = formatdate(usegmt=True)
    message["Message-ID"] = make_msgid(domain=sender.rsplit("@", 1)[-1] or None)
    chosen = select_files(summary, cfg.attach)
    budget = cfg.max_attachment_mb * 1024 * 1024
    attached, listed = [], []
    for relative in chosen:
        size = (summary.run_dir / relative).stat().st_size
        if size <= budget:
            attached.append(relative)
            budget -= size
        else:
            listed.append(relative)
    body = summary.text()
    if listed:
        body += "\nToo large to attach (open them in the run folder):\n" + "".join(f"  {f}\n" for f in listed)
    message.set_content(body)
    for relative in attached:
        path = summary.run_dir / relative
        kind = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        maintype, subtype = kind.split("/", 1)
        message.add_attachment(path.read_bytes(), maintype=maintype, subtype=subtype, filename=path.name)
    return message


class PermanentDeliveryError(Exception):
    """A delivery failure that retrying cannot fix; the message says which setting to change."""


def send_email(settings: SmtpSettings, message: EmailMessage, *, job: str = "") -> None:
    """Send one message.

    Raises :class:`PermanentDeliveryError` (naming the ``ROLLUP_SMTP_*`` variable or the job's
    ``deliver.email`` key to change) when the server's answer is final, and the smtplib/OSError
    otherwise (a transient failure, worth retrying). ``job`` names the job in those messages.
    """
    context = ssl.create_default_context()
    stage = "connect"
    try:
        if settings.ssl:
            client: smtplib.SMTP = smtplib.SMTP_SSL(settings.host, settings.port, timeout=settings.timeout,
                                                    context=context)
        else:
            client = smtplib.SMTP(settings.host, settings.port, timeout=settings.timeout)
        with client:
            client.ehlo()
            if settings.starttls:
                stage = "starttls"
                client.starttls(context=context)
                client.ehlo()
            if settings.user:
                stage = "login"
                client.login(settings.user, settings.password.get_secret_value() if settings.password else "")
            stage = "send"
            refused = client.send_message(message)
    except Exception as exc:
        permanent = smtp_failure(exc, stage, settings, job)
        if permanent is None:
            raise
        raise permanent from exc
    if refused:
        # The others have the message: sending again would give them a second copy.
        total = len(getaddresses(message.get_all("To", []) + message.get_all("Cc", [])))
        raise PermanentDeliveryError(
            f"the message went to {total - len(refused)} of {total} recipients; the SMTP server refused "
            f"{_refusals(refused)}: {_fix_recipients(job)} (not retried, so the others do not get it twice)")


def _answer(exc: smtplib.SMTPResponseException) -> str:
    text = exc.smtp_error.decode(errors="replace") if isinstance(exc.smtp_error, bytes) else str(exc.smtp_error)
    return f"{exc.smtp_code} {' '.join(text.split())}"


def _refusals(refused: dict[str, tuple[int, bytes]]) -> str:
    return ", ".join(f"{address} ({code} {' '.join(text.decode(errors='replace').split())})"
                     for address, (code, text) in sorted(refused.items()))


def _fix_recipients(job: str) -> str:
    return f"fix deliver.email.to / deliver.email.cc{f' of job {job!r}' if job else ''}"


def smtp_failure(exc: BaseException, stage: str, settings: SmtpSettings,
                 job: str = "") -> PermanentDeliveryError | None:
    """The permanent failure ``exc`` is (with the setting to change), or None when it may pass and is worth retrying.

    ``stage`` is where it happened: ``connect``, ``starttls``, ``login`` or ``send``.
    """
    server = f"the SMTP server {settings.host}:{settings.port}"
    tls_advice = ("set ROLLUP_SMTP_SSL=true if it speaks implicit TLS (usually port 465), or "
                  "ROLLUP_SMTP_STARTTLS=false to send unencrypted (a trusted network only)")
    response = exc if isinstance(exc, smtplib.SMTPResponseException) else None
    code = response.smtp_code if response is not None else None
    if isinstance(exc, ssl.SSLCertVerificationError):
        return PermanentDeliveryError(
            f"{server} has a certificate that does not verify ({exc.verify_message}): set ROLLUP_SMTP_HOST to the "
            "name on its certificate, or SSL_CERT_FILE to the CA bundle that signed it")
    if isinstance(exc, ssl.SSLError) and not isinstance(exc, (ssl.SSLEOFError, ssl.SSLZeroReturnError)):
        return PermanentDeliveryError(
            f"TLS with {server} failed ({getattr(exc, 'reason', None) or exc}): ROLLUP_SMTP_SSL=true needs a port "
            "that speaks implicit TLS (usually 465), ROLLUP_SMTP_STARTTLS a port that offers STARTTLS (usually "
            "587); check ROLLUP_SMTP_PORT")
    if stage == "starttls" and isinstance(exc, smtplib.SMTPNotSupportedError):
        return PermanentDeliveryError(f"{server} does not offer STARTTLS: {tls_advice}")
    if stage == "starttls" and response is not None:
        return PermanentDeliveryError(f"{server} refused STARTTLS ({_answer(response)}): {tls_advice}")
    if stage == "login" and isinstance(exc, smtplib.SMTPAuthenticationError) and code is not None and code >= 500:
        return PermanentDeliveryError(
            f"{server} refused the login of ROLLUP_SMTP_USER={settings.user!r} ({_answer(exc)}): check "
            "ROLLUP_SMTP_USER and ROLLUP_SMTP_PASSWORD (an app password where the provider asks for one)")
    if stage == "login" and isinstance(exc, smtplib.SMTPException) and code is None:
        return PermanentDeliveryError(
            f"{server} offers no login this tool can use ({exc}): unset ROLLUP_SMTP_USER and ROLLUP_SMTP_PASSWORD "
            "if it needs none, or set ROLLUP_SMTP_STARTTLS=true if it offers login only over TLS")
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        if all(c >= 500 for c, _ in exc.recipients.values()):
            return PermanentDeliveryError(
                f"{server} refused every recipient: {_refusals(exc.recipients)}: {_fix_recipients(job)}")
        return None
    if isinstance(exc, smtplib.SMTPSenderRefused) and code is not None and code >= 500:
        return PermanentDeliveryError(
            f"{server} refused the sender {exc.sender} ({_answer(exc)}): set ROLLUP_SMTP_FROM to an address the "
            "server lets ROLLUP_SMTP_USER send from")
    if isinstance(exc, smtplib.SMTPDataError) and code is not None and code >= 500:
        advice = ("lower deliver.email.max_attachment_mb (larger files are listed instead of attached) or narrow "
                  "deliver.email.attach") if code == 552 else "a 5xx answer is final; change what it names"
        return PermanentDeliveryError(f"{server} refused the message ({_answer(exc)}): {advice}"
                                      f"{f' (job {job!r})' if job else ''}")
    if response is not None and response.smtp_code >= 500:
        return PermanentDeliveryError(
            f"{server} answered {_answer(response)} during {stage}: a 5xx answer is final; check ROLLUP_SMTP_HOST and "
            "ROLLUP_SMTP_PORT")
    if isinstance(exc, smtplib.SMTPNotSupportedError):
        return PermanentDeliveryError(f"{server} does not support what sending this message needs ({exc})")
    if isinstance(exc, socket.gaierror) and exc.errno in (socket.EAI_NONAME, getattr(socket, "EAI_NODATA", None)):
        return PermanentDeliveryError(f"ROLLUP_SMTP_HOST={settings.host!r} is not a known host name: fix "
                                      "ROLLUP_SMTP_HOST")
    return None


def write_outbox(folder: Path, message: EmailMessage, summary: RunSummary) -> Path:
    """Write the message as ``<job>-run<id>.eml`` in ``folder`` (atomically)."""
    path = Path(folder) / f"{summary.job}-run{summary.run_id}.eml"
    return atomic_write(path, lambda tmp: tmp.write_bytes(bytes(message)))


# ---------------------------------------------------------------------------------------- confluence


def confluence_client(settings: ConfluenceSettings) -> Any:
    """An atlassian-python-api client for the Confluence REST API (``/rest/api``) with the settings' credentials."""
    from atlassian.rest_client import AtlassianRestAPI

    if settings.pat:
        return AtlassianRestAPI(settings.url, token=settings.pat.get_secret_value(), timeout=60)
    return AtlassianRestAPI(settings.url, username=settings.email,
                            password=settings.api_token.get_secret_value() if settings.api_token else None,
                            timeout=60, cloud=True)


def publish_confluence(settings: ConfluenceSettings, cfg: ConfluenceDelivery, summary: RunSummary) -> dict[str, Any]:
    """Create or update the page, attach the matching files, show the PNG charts on it; return page id and title.

    Uses the content REST API that Confluence Cloud (``<site>/wiki``) and Data Center share:
    find the page by space and title, create it if missing, add or replace each attachment, then
    write the page body (a new version) that shows the charts and links the workbooks.
    """
    client = confluence_client(settings)
    title = cfg.title.format(**summary.placeholders())
    files = select_files(summary, cfg.attach)
    names = {f: f.replace("/", "-") for f in files}
    found = client.get("rest/api/content", params={"spaceKey": cfg.space, "title": title, "type": "page",
                                                   "expand": "version"}) or {}
    page = (found.get("results") or [None])[0]
    if page is None:
        data: dict[str, Any] = {"type": "page", "title": title, "space": {"key": cfg.space},
                                "body": {"storage": {"value": _page_body(summary, {}), "representation": "storage"}}}
        if cfg.parent_id:
            data["ancestors"] = [{"id": str(cfg.parent_id)}]
        page = client.post("rest/api/content", data=data)
    page_id, version = str(page["id"]), int((page.get("version") or {}).get("number", 1))
    headers = {"X-Atlassian-Token": "no-check", "Accept": "application/json"}
    for relative in files:
        name = names[relative]
        existing = client.get(f"rest/api/content/{page_id}/child/attachment", params={"filename": name}) or {}
        target = f"rest/api/content/{page_id}/child/attachment"
        if existing.get("results"):
            target += f"/{existing['results'][0]['id']}/data"
        with open(summary.run_dir / relative, "rb") as handle:
            kind = mimetypes.guess_type(name)[0] or "application/octet-stream"
            client.post(target, headers=headers, files={"file": (name, handle, kind)})
    body = {"id": page_id, "type": "page", "title": title, "space": {"key": cfg.space},
            "version": {"number": version + 1},
            "body": {"storage": {"value": _page_body(summary, names), "representation": "storage"}}}
    client.put(f"rest/api/content/{page_id}", data=body)
    return {"page_id": page_id, "title": title, "version": version + 1, "attached": [names[f] for f in files]}


def _page_body(summary: RunSummary, attachments: dict[str, str]) -> str:
    rows = "".join(
        f"<tr><td>{html.escape(s['name'])}</td><td>{html.escape(s['status'])}</td>"
        f"<td>{html.escape(s.get('summary') or s.get('error') or '')}</td></tr>"
        for s in summary.steps)
    parts = [f"<p>{html.escape(summary.title)}: {summary.as_of.isoformat()} (run {summary.run_id}, "
             f"{html.escape(summary.status)})</p>",
             f"<table><tbody><tr><th>step</th><th>status</th><th>what</th></tr>{rows}</tbody></table>"]
    for name in attachments.values():
        quoted = html.escape(name, quote=True)
        if name.endswith(".png"):
            parts.append(f'<p><ac:image><ri:attachment ri:filename="{quoted}" /></ac:image></p>')
        else:
            parts.append(f'<p><ac:link><ri:attachment ri:filename="{quoted}" /></ac:link></p>')
    return "".join(parts)


# ---------------------------------------------------------------------------------------- both


def check_settings(delivery: Any) -> None:
    """At the door: the environment a job's delivery needs is there (ConfigError otherwise)."""
    if delivery.email is not None and delivery.email.outbox is None:
        SmtpSettings.from_env()
    if delivery.confluence is not None:
        ConfluenceSettings.from_env()


def _with_retries(action: Callable[[], Any], *, retries: int, delay: float, channel: str, job: str,
                  sleep: Callable[[float], None], should_stop: Callable[[], bool]) -> ChannelResult:
    """Run ``action`` until it succeeds, a failure is permanent, ``retries`` are spent or the run is stopping."""
    attempts, wait = 0, delay
    while True:
        attempts += 1
        try:
            detail = action() or {}
            return ChannelResult("sent", attempts, None, detail)
        except Exception as exc:  # noqa: BLE001 - every failure is reported, retried when it may pass, and recorded
            permanent = isinstance(exc, (PermanentDeliveryError, ConfigError))
            error = redact(str(exc) if permanent else f"{type(exc).__name__}: {exc}")
            log_event("delivery.attempt", level=40 if permanent else 30, job=job, channel=channel, attempt=attempts,
                      retry="no" if permanent or attempts > retries else "yes", error=error)
            if permanent or attempts > retries or should_stop():
                return ChannelResult("failed", attempts, error)
            sleep(wait)
            wait *= 2


#: How each delivery status reads in a sentence ("delivery written to the outbox").
STATUS_WORDS = {"sent": "sent", "outbox": "written to the outbox", "failed": "failed", "skipped": "skipped",
                "none": "none"}


def overall_status(results: dict[str, ChannelResult]) -> str:
    """The run's delivery status: ``failed`` if a channel failed, ``outbox`` if the email only went to the
    outbox, else ``sent``."""
    if any(r.status == "failed" for r in results.values()):
        return "failed"
    return "outbox" if any(r.status == "outbox" for r in results.values()) else "sent"


def channel_line(name: str, result: dict[str, Any]) -> str:
    """``email: written to the outbox outputs/outbox/x.eml (1 attempt)`` or ``email: sent to … (2 attempts)``."""
    detail = result.get("detail") or {}
    attempts = f"{result['attempts']} attempt{'' if result['attempts'] == 1 else 's'}"
    if result["status"] == "outbox":
        return f"{name}: written to the outbox {detail.get('outbox')} ({attempts}; not sent)"
    if result["status"] == "sent":
        to = ", ".join(detail.get("to") or [])
        return f"{name}: sent" + (f" to {to}" if to else "") + f" ({attempts})"
    return f"{name}: {result['status']} after {attempts}" + (f" — {result['error']}" if result.get("error") else "")


def deliver(summary: RunSummary, delivery: Any, *, sleep: Callable[[float], None] = time.sleep,
            should_stop: Callable[[], bool] = lambda: False) -> dict[str, ChannelResult]:
    """Deliver by every configured channel; return each channel's result (failures do not raise).

    ``should_stop`` ends the retries early (the process is being stopped).
    """
    results: dict[str, ChannelResult] = {}
    email = delivery.email
    if email is not None:
        def send() -> dict[str, Any]:
            if email.outbox is not None:
                path = write_outbox(Path(email.outbox), build_email(summary, email, "rollup@localhost"), summary)
                return {"outbox": str(path), "to": list(email.to)}
            settings = SmtpSettings.from_env()
            message = build_email(summary, email, settings.sender)
            send_email(settings, message, job=summary.job)
            return {"to": list(email.to) + list(email.cc),
                    "attached": [p.get_filename() for p in message.iter_attachments()]}

        results["email"] = _with_retries(send, retries=email.retries, delay=email.retry_delay.total_seconds(),
                                         channel="email", job=summary.job, sleep=sleep,
                                         should_stop=should_stop)
        if email.outbox is not None and results["email"].status == "sent":
            results["email"].status = "outbox"  # written to a folder: nobody has been sent anything
    confluence = delivery.confluence
    if confluence is not None:
        results["confluence"] = _with_retries(
            lambda: publish_confluence(ConfluenceSettings.from_env(), confluence, summary),
            retries=confluence.retries, delay=confluence.retry_delay.total_seconds(), channel="confluence",
            job=summary.job, sleep=sleep, should_stop=should_stop)
    return results
