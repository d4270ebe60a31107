"""What every ``rollup`` command does with an error: a message and an exit code, never a traceback.

Exit codes: 0 success; 1 the operation failed; 2 bad input (mappings.yaml, an option, a missing
JIRA_* variable); 3 Jira refused the credentials. A command run with ``--format json`` also
prints ``{"status": "error", "exit_code": …, "error": …}`` on stdout. No traceback is printed, so no token can leak
through one; a database error says what the database refused, never the SQL statement or a row's
values. ``ROLLUP_DEBUG=1`` re-raises unexpected errors for debugging.
"""

from __future__ import annotations

import functools
import json
import os
import sys
from collections.abc import Callable
from typing import Any

import click

from rollup.errors import EXIT_AUTH, EXIT_BAD_INPUT, EXIT_FAILURE, RollupError, describe_error


def _fail_with(message: str, code: int, fmt: str | None = None) -> None:
    click.echo(f"Error: {message}", err=True)
    if fmt == "json":
        # A command asked for JSON promises one JSON object on stdout, failure included.
        click.echo(json.dumps({"status": "error", "exit_code": code, "error": message}))
    sys.exit(code)


def handle_errors(command: Callable) -> Callable:
    """Turn known errors into a message and an exit code; no traceback (and so no token) printed."""

    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        fmt = kwargs.get("fmt")

        def _fail(message: str, code: int) -> None:
            _fail_with(message, code, fmt)

        from sqlalchemy.exc import SQLAlchemyError

        from connectors.jira.errors import (
            JiraAuthError,
            JiraConfigError,
            JiraError,
            JiraFieldError,
        )

        try:
            return command(*args, **kwargs)
        except RollupError as exc:
            _fail(str(exc), exc.exit_code)
        except JiraAuthError as exc:
            _fail(
                f"{exc}\nJira refused the credentials: check JIRA_EMAIL and JIRA_API_TOKEN (Cloud) "
                "or JIRA_PAT (Data Center), and JIRA_URL.",
                EXIT_AUTH,
            )
        except (JiraConfigError, JiraFieldError) as exc:
            _fail(str(exc), EXIT_BAD_INPUT)
        except JiraError as exc:
            _fail(f"{exc}\nJira could not be read; nothing past the last committed batch was lost. Run the sync again.",
                  EXIT_FAILURE)
        except (click.exceptions.Exit, click.ClickException):
            raise
        except SQLAlchemyError as exc:
            # Never SQLAlchemy's own text: it carries the statement and the row values.
            _fail(f"{describe_error(exc)}; nothing past the last committed batch was kept", EXIT_FAILURE)
        except OSError as exc:
            target = f" {exc.filename}" if exc.filename else ""
            _fail(f"cannot read or write{target}: {exc.strerror or exc}", EXIT_FAILURE)
        except KeyboardInterrupt:
            _fail("interrupted; what was committed before the interruption is kept", 130)
        except Exception as exc:  # noqa: BLE001 - last resort: a message, not a traceback
            if os.environ.get("ROLLUP_DEBUG"):
                raise
            _fail(f"unexpected {describe_error(exc)} (set ROLLUP_DEBUG=1 for the traceback)", EXIT_FAILURE)

    return wrapper
