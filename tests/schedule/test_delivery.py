"""Email delivery, received by a real SMTP server on loopback (aiosmtpd): the workbook attached,
retries of transient failures only, a failure that keeps the outputs and is recorded, STARTTLS, and
no password in any log. Failures that retrying cannot fix (STARTTLS not offered or refused, a 535
login, refused sender or recipients) fail at once, in well under the retry delay, naming the setting."""

from __future__ import annotations

import datetime as dt
import email
import io
import json
import smtplib
import socket
import ssl
import time
from email import policy

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from click.testing import CliRunner
from openpyxl import load_workbook
from schedule_helpers import free_port, job_yaml, load_job, write_schedule
from tls_helpers import self_signed

from rollup.cli import cli
from rollup.config import load_config
from rollup.jobs.report import run_portfolio
from rollup.schedule import history
from rollup.schedule.delivery import RunSummary, SmtpSettings, deliver, smtp_failure
from rollup.schedule.models import Delivery
from rollup.schedule.runner import run_job
from rollup.store import Store
from rollup.writers.charts import CHARTS, FORMATS

pytestmark = pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")

USER, PASSWORD = "rollup", "correct-horse-s3cret"
WORKBOOK = "portfolio-2026-W48.xlsx"
DELIVER = """
max_data_age: 1d
deliver:
  email:
    to: [ceo@clinicloud.example, cpo@clinicloud.example]
    cc: [ops@clinicloud.example]
    subject: "Weekly portfolio {week}"
    attach: ["portfolio-*.xlsx"]
    retries: 2
    retry_delay: 0s
"""


class Inbox:
    """An aiosmtpd handler keeping every message; the first ``refuse`` messages get a 451.

    ``refuse_rcpt`` answers ``RCPT TO`` for those addresses, ``refuse_mail`` answers ``MAIL FROM``.
    """

    def __init__(self, refuse: int = 0, refuse_rcpt: dict[str, str] | None = None, refuse_mail: str | None = None):
        self.envelopes = []
        self.refuse = refuse
        self.refuse_rcpt = refuse_rcpt or {}
        self.refuse_mail = refuse_mail
        self.sessions = 0

    async def handle_EHLO(self, server, session, envelope, hostname, responses):
        session.host_name = hostname
        self.sessions += 1
        return responses

    async def handle_MAIL(self, server, session, envelope, address, mail_options):
        if self.refuse_mail:
            return self.refuse_mail
        envelope.mail_from = address
        return "250 OK"

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address in self.refuse_rcpt:
            return self.refuse_rcpt[address]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        if self.refuse:
            self.refuse -= 1
            return "451 4.3.0 Mailbox busy, try again later"
        self.envelopes.append(envelope)
        return "250 OK"


def authenticator(server, session, envelope, mechanism, auth_data):
    # handled=False: aiosmtpd then answers 535 itself.
    ok = isinstance(auth_data, LoginPassword) and auth_data.login.decode() == USER \
        and auth_data.password.decode() == PASSWORD
    return AuthResult(success=ok, handled=False)


@pytest.fixture
def smtp(monkeypatch):
    """A loopback SMTP server that requires AUTH; the ROLLUP_SMTP_* variables point at it."""
    servers = []

    def start(refuse: int = 0, password: str = PASSWORD, tls_context=None, inbox: Inbox | None = None) -> Inbox:
        inbox = inbox or Inbox(refuse)
        port = free_port()
        kwargs = {"tls_context": tls_context, "require_starttls": True} if tls_context else {"auth_require_tls": False}
        controller = Controller(inbox, hostname="127.0.0.1", port=port, authenticator=authenticator,
                                auth_required=True, **kwargs)
        controller.start()
        servers.append(controller)
        monkeypatch.setenv("ROLLUP_SMTP_HOST", "127.0.0.1")
        monkeypatch.setenv("ROLLUP_SMTP_PORT", str(port))
        monkeypatch.setenv("ROLLUP_SMTP_STARTTLS", "true" if tls_context else "false")
        monkeypatch.setenv("ROLLUP_SMTP_USER", USER)
        monkeypatch.setenv("ROLLUP_SMTP_PASSWORD", password)
        monkeypatch.setenv("ROLLUP_SMTP_FROM", "rollup@clinicloud.example")
        return inbox

    yield start
    for controller in servers:
        controller.stop()


def test_the_email_arrives_with_the_workbook_attached(project, smtp):
    inbox = smtp()
    write_schedule(project, job_yaml(steps="[portfolio]", extra=DELIVER))
    run = run_job(load_job(project))

    assert run.status == "ok" and run.delivery_status == "sent" and run.exit_code == 0
    assert len(inbox.envelopes) == 1
    envelope = inbox.envelopes[0]
    assert envelope.mail_from == "rollup@clinicloud.example"
    assert sorted(envelope.rcpt_tos) == ["ceo@clinicloud.example", "cpo@clinicloud.example",
                                         "ops@clinicloud.example"]
    message = email.message_from_bytes(envelope.original_content, policy=policy.default)
    assert message["Subject"] == "Weekly portfolio 2026-W48"
    attachments = list(message.iter_attachments())
    assert [a.get_filename() for a in attachments] == [WORKBOOK]
    payload = attachments[0].get_content()
    assert payload == (run.run_dir / WORKBOOK).read_bytes()
    book = load_workbook(io.BytesIO(payload), read_only=True)
    assert "Summary" in book.sheetnames and "Pillars" in book.sheetnames
    body = message.get_body(preferencelist=("plain",)).get_content()
    # The report's headline figures first, as its headline view computed them; then the attachments.
    with Store.open() as store:
        views = run_portfolio(store, load_config(project / "mappings.yaml"), as_of=dt.date(2026, 11, 23),
                              out_dir=project / "check", save_snapshot=False).views
    lines = body.splitlines()
    start = lines.index("Headline figures:") + 1
    figures = lines[start:lines.index("", start)]
    expected = views["headline"].to_dict(orient="records")
    assert len(figures) == len(expected) == 6
    for line, row in zip(figures, expected):
        value = f"{row['value']:.0%}" if row["kind"] == "share" else f"{row['value']:,.0f}"
        assert line == f"  {row['label']}: {value} ({row['detail']})"
    assert body.index("Headline figures:") < body.index("Files (in ")
    files = body.split("Files (in ", 1)[1].splitlines()[1:3]
    # The workbook first, its charts (every chart, every format) as a count.
    assert files == [f"  {WORKBOOK}", f"  charts/ ({len(CHARTS) * len(FORMATS)} chart files)"]
    assert "sync: skipped in" not in body and "(sync skipped, portfolio ok)." in body  # the run in one line
    assert message["Date"].datetime.tzinfo is not None  # "-0000" would say the time zone is unknown

    with Store.open() as store:
        row = history.get_run(store, run.run_id)
    assert row["delivery_status"] == "sent"
    assert row["delivery"]["email"]["attempts"] == 1
    assert row["delivery"]["email"]["detail"]["attached"] == [WORKBOOK]


def test_a_refused_message_is_retried_and_then_sent(project, smtp):
    inbox = smtp(refuse=1)
    write_schedule(project, job_yaml(steps="[portfolio]", extra=DELIVER))
    run = run_job(load_job(project))
    assert run.delivery_status == "sent" and run.delivery["email"]["attempts"] == 2
    assert len(inbox.envelopes) == 1


def test_a_refused_login_fails_at_once_keeps_the_outputs_and_is_recorded_without_the_password(project, smtp):
    wrong = "wrong-password-9f8e7d"
    inbox = smtp(password=wrong)
    write_schedule(project, job_yaml(steps="[portfolio]", extra=DELIVER.replace("retry_delay: 0s", "retry_delay: 1h")))
    result = CliRunner().invoke(cli, ["run", "weekly", "--format", "json"])

    assert result.exit_code == 1, result.output
    assert inbox.envelopes == [] and inbox.sessions == 1  # one attempt: a 535 does not pass by retrying
    attempts = [line for line in result.stderr.splitlines() if "event=delivery.attempt" in line]
    assert len(attempts) == 1 and "retry=no" in attempts[0] and "level=error" in attempts[0]
    with Store.open() as store:
        row = history.list_runs(store, job="weekly")[0]
    assert row["status"] == "ok" and row["delivery_status"] == "failed"
    assert row["delivery"]["email"]["status"] == "failed" and row["delivery"]["email"]["attempts"] == 1
    error = row["delivery"]["email"]["error"]
    assert "refused the login of ROLLUP_SMTP_USER='rollup' (535 " in error
    assert "check ROLLUP_SMTP_USER and ROLLUP_SMTP_PASSWORD" in error
    # The outputs stay: the dated run folder and latest/.
    out = project / "outputs" / "weekly"
    assert (out / row["run_dir"].split("/")[-1] / WORKBOOK).exists()
    assert (out / "latest" / "portfolio.xlsx").exists()
    for text in (result.output, result.stderr, json.dumps(row, default=str)):
        assert wrong not in text
    runs = CliRunner().invoke(cli, ["runs", "--job", "weekly"])
    assert runs.exit_code == 0 and "delivery failed" in runs.output and wrong not in runs.output


def test_starttls_with_a_certificate_the_client_checks(project, smtp, tmp_path, monkeypatch):
    cert_file, key_file = self_signed(tmp_path)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert_file, key_file)
    monkeypatch.setenv("SSL_CERT_FILE", str(cert_file))  # the client trusts this server's certificate
    inbox = smtp(tls_context=context)
    write_schedule(project, job_yaml(steps="[portfolio]", extra=DELIVER))
    run = run_job(load_job(project))
    assert run.delivery_status == "sent", run.delivery
    assert len(inbox.envelopes) == 1


def test_email_without_an_smtp_host_is_bad_input_before_anything_runs(project):
    write_schedule(project, job_yaml(steps="[portfolio]", extra=DELIVER))
    result = CliRunner().invoke(cli, ["run", "weekly"])
    assert result.exit_code == 2
    assert "job 'weekly' delivers its outputs: email delivery needs ROLLUP_SMTP_HOST" in result.output
    assert not (project / "outputs").exists()


# ---------------------------------------------------------------------------------------- fail fast or retry


def deliver_now(tmp_path, *, sleep=time.sleep, **email):
    """Deliver a one-workbook run by email straight away (retries 3, retry_delay 30s): (result, seconds)."""
    run_dir = tmp_path / "run"
    run_dir.mkdir(exist_ok=True)
    (run_dir / WORKBOOK).write_bytes(b"a workbook")
    summary = RunSummary(job="weekly", title="Weekly portfolio", run_id=7, status="ok", as_of=dt.date(2026, 11, 23),
                         steps=[], run_dir=run_dir, files=[WORKBOOK])
    settings = {"to": ["ceo@clinicloud.example", "cpo@clinicloud.example"], "retries": 3, "retry_delay": "30s",
                **email}
    began = time.monotonic()
    results = deliver(summary, Delivery.model_validate({"email": settings}), sleep=sleep)
    return results["email"], time.monotonic() - began


class StartTlsRefused(Inbox):
    """A server that offers STARTTLS in its EHLO answer and then refuses it (it has no certificate)."""

    async def handle_EHLO(self, server, session, envelope, hostname, responses):
        await super().handle_EHLO(server, session, envelope, hostname, responses)
        return [*responses[:-1], "250-STARTTLS", responses[-1]]


@pytest.mark.parametrize("case", ["not offered", "refused"])
def test_starttls_that_cannot_happen_fails_at_once_naming_the_setting(case, tmp_path, smtp, monkeypatch):
    inbox = smtp(inbox=Inbox() if case == "not offered" else StartTlsRefused())
    monkeypatch.setenv("ROLLUP_SMTP_STARTTLS", "true")
    result, seconds = deliver_now(tmp_path)
    assert result.status == "failed" and result.attempts == 1 and inbox.sessions == 1
    assert seconds < 5  # a retry would first wait the 30 s retry_delay
    wording = "does not offer STARTTLS" if case == "not offered" else "refused STARTTLS ("
    assert wording in result.error
    assert "ROLLUP_SMTP_SSL=true" in result.error and "ROLLUP_SMTP_STARTTLS=false" in result.error


def test_refused_recipients_fail_at_once_naming_the_job_keys(tmp_path, smtp):
    no_user = "550 5.1.1 No such user here"
    inbox = smtp(inbox=Inbox(refuse_rcpt={"ceo@clinicloud.example": no_user, "cpo@clinicloud.example": no_user}))
    result, seconds = deliver_now(tmp_path)
    assert result.status == "failed" and result.attempts == 1 and inbox.sessions == 1 and seconds < 5
    assert "refused every recipient: ceo@clinicloud.example (550 5.1.1 No such user here), cpo@" in result.error
    assert "fix deliver.email.to / deliver.email.cc of job 'weekly'" in result.error


def test_one_refused_recipient_is_a_failure_and_the_others_get_one_copy(tmp_path, smtp):
    inbox = smtp(inbox=Inbox(refuse_rcpt={"cpo@clinicloud.example": "550 5.1.1 No such user here"}))
    result, seconds = deliver_now(tmp_path, cc=["ops@clinicloud.example"])
    assert result.status == "failed" and result.attempts == 1 and seconds < 5
    assert [sorted(e.rcpt_tos) for e in inbox.envelopes] == [["ceo@clinicloud.example", "ops@clinicloud.example"]]
    assert result.error.startswith("the message went to 2 of 3 recipients; the SMTP server refused "
                                   "cpo@clinicloud.example (550 5.1.1 No such user here): fix deliver.email.to")


def test_a_refused_sender_fails_at_once_naming_rollup_smtp_from(tmp_path, smtp):
    inbox = smtp(inbox=Inbox(refuse_mail="553 5.7.1 Sender address rejected: not owned by user rollup"))
    result, seconds = deliver_now(tmp_path)
    assert result.status == "failed" and result.attempts == 1 and inbox.sessions == 1 and seconds < 5
    assert "refused the sender rollup@clinicloud.example (553 5.7.1 Sender address rejected" in result.error
    assert "set ROLLUP_SMTP_FROM" in result.error


def test_transient_failures_are_retried_with_the_delay_doubling(tmp_path, smtp, monkeypatch):
    waits: list[float] = []
    busy = "450 4.2.1 Mailbox busy, try again later"
    inbox = smtp(inbox=Inbox(refuse_rcpt={"ceo@clinicloud.example": busy, "cpo@clinicloud.example": busy}))
    result, _ = deliver_now(tmp_path, sleep=waits.append)
    assert result.status == "failed" and result.attempts == 4 and inbox.sessions == 4
    assert waits == [30, 60, 120] and "SMTPRecipientsRefused" in result.error

    monkeypatch.setenv("ROLLUP_SMTP_PORT", str(free_port()))  # nothing listens there: connection refused
    waits.clear()
    result, _ = deliver_now(tmp_path, sleep=waits.append)
    assert result.attempts == 4 and waits == [30, 60, 120] and "ConnectionRefusedError" in result.error


def test_which_failures_are_final():
    settings = SmtpSettings(host="smtp.clinicloud.example", port=587, user="rollup",
                            sender="rollup@clinicloud.example")
    cert = ssl.SSLCertVerificationError(1, "certificate verify failed")
    cert.verify_message = "self-signed certificate"
    final = {
        "ROLLUP_SMTP_HOST to the name on its certificate": (cert, "starttls"),
        "check ROLLUP_SMTP_PORT": (ssl.SSLError(1, "[SSL: WRONG_VERSION_NUMBER] wrong version number"), "connect"),
        "lower deliver.email.max_attachment_mb": (smtplib.SMTPDataError(552, b"5.3.4 Message too big"), "send"),
        "a 5xx answer is final": (smtplib.SMTPConnectError(554, b"5.7.1 No service for you"), "connect"),
        "fix ROLLUP_SMTP_HOST": (socket.gaierror(socket.EAI_NONAME, "Name or service not known"), "connect"),
        "unset ROLLUP_SMTP_USER": (smtplib.SMTPNotSupportedError("SMTP AUTH extension not supported"), "login"),
    }
    for wording, (exc, stage) in final.items():
        failure = smtp_failure(exc, stage, settings, "weekly")
        assert failure is not None and wording in str(failure), (exc, failure)
    passing = [
        (ConnectionRefusedError(111, "Connection refused"), "connect"),
        (TimeoutError("timed out"), "send"),
        (smtplib.SMTPServerDisconnected("Connection unexpectedly closed"), "send"),
        (ssl.SSLEOFError(8, "EOF occurred in violation of protocol"), "starttls"),
        (smtplib.SMTPAuthenticationError(454, b"4.7.0 Temporary authentication failure"), "login"),
        (smtplib.SMTPSenderRefused(451, b"4.3.0 Try later", "rollup@clinicloud.example"), "send"),
        (smtplib.SMTPConnectError(421, b"4.3.2 Too many connections"), "connect"),
        (socket.gaierror(socket.EAI_AGAIN, "Temporary failure in name resolution"), "connect"),
    ]
    assert [exc for exc, stage in passing if smtp_failure(exc, stage, settings) is not None] == []


def test_the_body_leads_with_insight_sentences_then_figures_then_files(tmp_path):
    """The hook for a view's insight sentences: they come first, before the headline figures."""
    summary = RunSummary(job="weekly", title="Weekly portfolio", run_id=7, status="ok", as_of=dt.date(2026, 11, 23),
                         steps=[{"name": "portfolio", "status": "ok"}], run_dir=tmp_path, files=[WORKBOOK],
                         headline=[{"label": "Epics at risk or off track", "value": 30.0, "kind": "count",
                                    "detail": "RAG rule"},
                                   {"label": "Hygiene score", "value": 0.731, "kind": "share", "detail": ""}],
                         insights=["Win enterprise hospitals is 9 points under its 35% target (ENT-4, ENT-9)."])
    lines = summary.text().splitlines()
    assert lines[0] == "Weekly portfolio — week 2026-W48, as of 2026-11-23"
    assert lines[2:4] == ["What you should know this week:",
                          "  - Win enterprise hospitals is 9 points under its 35% target (ENT-4, ENT-9)."]
    assert lines[5:8] == ["Headline figures:", "  Epics at risk or off track: 30 (RAG rule)", "  Hygiene score: 73%"]
    assert lines[9:11] == [f"Files (in {tmp_path}):", f"  {WORKBOOK}"]
    assert lines[-1] == "Run 7 of weekly: ok (portfolio ok)."
