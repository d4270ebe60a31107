"""Errors the rollup raises on purpose, each with the exit code the CLI maps it to.

Every error is built message first: what was wrong, where, and what to do. The CLI prints
``str(error)`` and exits with ``error.exit_code``; it never prints a traceback for these.

Exit codes (documented in ``rollup --help``):

* ``1`` — the operation failed (store refused, Jira unreachable, sync failed).
* ``2`` — bad input: ``mappings.yaml``, a command-line option, a setting.
* ``3`` — Jira refused the credentials (check ``JIRA_API_TOKEN`` / ``JIRA_PAT``).
"""

from __future__ import annotations

EXIT_FAILURE = 1
EXIT_BAD_INPUT = 2
EXIT_AUTH = 3


class RollupError(Exception):
    """Base class of errors with a message meant for the user."""

    exit_code = EXIT_FAILURE


class ConfigError(RollupError):
    """``mappings.yaml`` or another input is invalid; the message names the file, line and key."""

    exit_code = EXIT_BAD_INPUT


class StoreError(RollupError):
    """The database cannot be opened or used (for example a newer schema version)."""

    exit_code = EXIT_FAILURE


class StoreURLError(StoreError):
    """The database URL names something the store cannot use: bad input, not a failed run."""

    exit_code = EXIT_BAD_INPUT


class SyncError(RollupError):
    """A sync could not be proven complete or correct; what it stored is kept and the run is recorded.

    ``result`` (a ``rollup.jobs.sync.SyncResult``) says what the run had done when it stopped.
    """

    exit_code = EXIT_FAILURE
    result: object = None


def describe_error(exc: BaseException) -> str:
    """A one-line description of ``exc`` fit for logs, run history and messages.

    Database errors name only the driver's error class and code (and, for an operational error such
    as "database is locked", its first line): SQLAlchemy's text carries the SQL statement and the
    bound row values (issue text, people's names), and a driver's message may quote a value.
    """
    try:
        from sqlalchemy.exc import SQLAlchemyError, StatementError
    except ImportError:  # pragma: no cover - SQLAlchemy is a dependency
        SQLAlchemyError = StatementError = ()  # type: ignore[assignment,misc]
    if isinstance(exc, RollupError):
        return str(exc)
    if isinstance(exc, SQLAlchemyError):
        orig = getattr(exc, "orig", None) if isinstance(exc, StatementError) else None
        if orig is None:
            return f"the store failed ({type(exc).__name__})"
        code = getattr(orig, "sqlite_errorname", None) or getattr(orig, "sqlstate", None)
        reason = type(orig).__name__ + (f" {code}" if code else "")
        # "database is locked", "disk I/O error", "file is not a database": no values in these (an integrity
        # or data error's text may quote a row value, so those keep only their class and code).
        if type(exc).__name__ in ("OperationalError", "DatabaseError"):
            first = str(orig).strip().splitlines()[0] if str(orig).strip() else ""
            reason += f": {first[:200]}"
        return f"the store refused an operation ({reason})"
    return f"{type(exc).__name__}: {exc}"


class EmptyStoreError(ConfigError):
    """The store holds no issues (never synced, or the wrong store): there is nothing to report on.

    Bad input, not a failed run: the user pointed a reading command at the wrong place or has
    not synced yet. The message names the store and says what to run.
    """

    def __init__(self, location: str):
        message = (f"the store at {location} holds no issues; run `rollup sync` first (or `rollup demo` for the "
                   "sample organisation), or point ROLLUP_DATABASE_URL (or --database) at the synced store. "
                   "Nothing was written")
        super().__init__(message)
        self.location = location
