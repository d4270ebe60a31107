"""Structured logs for jobs: one ``key=value`` line per event on stderr (logfmt).

::

    2026-11-30T07:00:04Z level=info event=step job=weekly-portfolio run=41 step=portfolio status=ok seconds=3.18 outputs=9 summary="portfolio-2026-W49.xlsx and 8 chart files"

Every run logs ``run.start``, one ``step`` line per step (with its timing), ``publish``,
``delivery`` per channel and ``run.end``; the scheduler logs ``scheduler.*`` and ``job.missed``.
Secrets never reach the log: no code passes them, and as a second guard the formatter replaces
the value of every ``*PASSWORD*``, ``*TOKEN*``, ``*SECRET*`` and ``*_PAT`` environment variable with ``***``.
"""  # noqa: E501 - the sample log line is quoted whole

from __future__ import annotations

import logging
import os
import re
import sys
from datetime import datetime, timezone
from typing import Any, TextIO

#: The logger every scheduling module writes to.
LOGGER_NAME = "rollup.schedule"

_SECRET_NAME = re.compile(r"(PASSWORD|TOKEN|SECRET|_PAT$|^JIRA_PAT$)", re.IGNORECASE)
_BARE = re.compile(r"^[A-Za-z0-9_.:/@+,-]+$")


def secret_values() -> list[str]:
    """The values of secret-looking environment variables (4 characters or more), longest first."""
    values = {v for k, v in os.environ.items() if _SECRET_NAME.search(k) and v and len(v) >= 4}
    return sorted(values, key=len, reverse=True)


def redact(text: str, secrets: list[str] | None = None) -> str:
    """``text`` with every secret value replaced by ``***``."""
    for value in secret_values() if secrets is None else secrets:
        text = text.replace(value, "***")
    return text


def _value(value: Any) -> str:
    if isinstance(value, float):
        value = f"{value:.2f}"
    text = "" if value is None else str(value)
    if text and _BARE.match(text):
        return text
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


class LogfmtFormatter(logging.Formatter):
    """``<UTC time> level=<level> event=<message> key=value …`` with secrets redacted."""

    def format(self, record: logging.LogRecord) -> str:
        """One logfmt line: time, level, event and the record's fields, secrets redacted."""
        stamp = datetime.fromtimestamp(record.created, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
        parts = [stamp, f"level={record.levelname.lower()}", f"event={_value(record.getMessage())}"]
        for key, value in (getattr(record, "fields", None) or {}).items():
            if value is None:
                continue
            parts.append(f"{key}={_value(value)}")
        if record.exc_info and record.exc_info[1] is not None:
            exc = record.exc_info[1]
            parts.append(f"exception={_value(f'{type(exc).__name__}: {exc}')}")
        return redact(" ".join(parts))


def get_logger() -> logging.Logger:
    """The scheduling logger."""
    return logging.getLogger(LOGGER_NAME)


def configure(stream: TextIO | None = None, level: int = logging.INFO) -> logging.Logger:
    """Send the scheduling logger's lines to ``stream`` (stderr) in logfmt; idempotent."""
    logger = get_logger()
    logger.setLevel(level)
    logger.propagate = False
    target = stream or sys.stderr
    for handler in list(logger.handlers):
        if getattr(handler, "_rollup", False):
            logger.removeHandler(handler)
    handler = logging.StreamHandler(target)
    handler.setFormatter(LogfmtFormatter())
    handler._rollup = True  # type: ignore[attr-defined]
    logger.addHandler(handler)
    return logger


def log_event(event: str, *, level: int = logging.INFO, logger: logging.Logger | None = None, **fields: Any) -> None:
    """Log one event with its fields, in the order given."""
    (logger or get_logger()).log(level, event, extra={"fields": fields})
