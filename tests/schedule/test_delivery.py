"""Email delivery, received by a real SMTP server on loopback (aiosmtpd): the workbook attached,
retries, a failure that keeps the outputs and is recorded, STARTTLS, and no password in any log."""

from __future__ import annotations

import email
import io
import json
import socket
import ssl
from email import policy

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from click.testing import CliRunner
from openpyxl import load_workbook
from schedule_helpers import job_yaml, load_job, write_schedule
from tls_helpers import self_signed

from rollup.cli import cli
from rollup.schedule import history
from rollup.schedule.runner import run_job
from rollup.store import Store

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
    """An aiosmtpd handler keeping every message; the first ``refuse`` messages get a 451."""

    def __init__(self, refuse: int = 0):
        self.envelopes = []
        self.refuse = refuse

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


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def smtp(monkeypatch):
    """A loopback SMTP server that requires AUTH; the ROLLUP_SMTP_* variables point at it."""
    servers = []

    def start(refuse: int = 0, password: str = PASSWORD, tls_context=None) -> Inbox:
        inbox = Inbox(refuse)
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
    assert "portfolio: ok" in body and "sync: skipped" in body and WORKBOOK in body
    files = body.split("Files (in ", 1)[1].splitlines()[1:]
    assert files == [f"  {WORKBOOK}", "  charts/ (10 chart files)"]  # the workbook first, charts as a count
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


def test_a_delivery_failure_keeps_the_outputs_is_retried_and_recorded_without_the_password(project, smtp):
    wrong = "wrong-password-9f8e7d"
    inbox = smtp(password=wrong)
    write_schedule(project, job_yaml(steps="[portfolio]", extra=DELIVER))
    result = CliRunner().invoke(cli, ["run", "weekly", "--format", "json"])

    assert result.exit_code == 1, result.output
    assert inbox.envelopes == []
    attempts = [line for line in result.stderr.splitlines() if "event=delivery.attempt" in line]
    assert len(attempts) == 3 and "SMTPAuthenticationError" in attempts[0]
    with Store.open() as store:
        row = history.list_runs(store, job="weekly")[0]
    assert row["status"] == "ok" and row["delivery_status"] == "failed"
    assert row["delivery"]["email"]["status"] == "failed" and row["delivery"]["email"]["attempts"] == 3
    assert "535" in row["delivery"]["email"]["error"]
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
