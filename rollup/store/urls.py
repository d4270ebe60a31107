"""Where the store is: database URLs given as ``--database`` or ``ROLLUP_DATABASE_URL``, checked and masked."""

from __future__ import annotations

import re
from pathlib import Path

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from rollup.errors import StoreURLError

#: Where the store lives when neither ROLLUP_DATABASE_URL nor an argument says otherwise.
DEFAULT_PATH = Path(".rollup") / "rollup.db"

#: Environment variable naming the database URL.
DATABASE_URL_ENV = "ROLLUP_DATABASE_URL"

#: A bare path (no ``scheme://``) is taken as a SQLite file when it ends in one of these.
SQLITE_SUFFIXES = (".db", ".sqlite", ".sqlite3")
#: The store locations accepted, for error messages.
ACCEPTED_URLS = ("sqlite:///PATH (e.g. sqlite:///.rollup/rollup.db; a bare path ending in .db, .sqlite or "
                 ".sqlite3 also works) or postgresql://USER:PASSWORD@HOST/DB")


def normalize_url(url: str) -> str:
    """Return a SQLAlchemy URL: ``postgresql://`` gets the psycopg 3 driver, a bare path to a SQLite file
    (ending in ``.db``, ``.sqlite`` or ``.sqlite3``, or naming a file that exists) is SQLite. Anything else is
    returned as it is, for :func:`checked_url` to refuse."""
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://"):]
    if url.startswith("postgresql://"):
        return "postgresql+psycopg://" + url[len("postgresql://"):]
    if "://" not in url:
        path = Path(url).expanduser()
        if path.suffix.lower() in SQLITE_SUFFIXES or path.is_file():
            return f"sqlite:///{path}"
    return url


def checked_url(raw: str, source: str = DATABASE_URL_ENV) -> str:
    """:func:`normalize_url`, refusing what the store cannot use with a :class:`StoreURLError` (exit code 2).

    ``source`` names where the value came from (``ROLLUP_DATABASE_URL`` or ``--database``). The
    message shows the value with any password masked and says what a valid one looks like.
    """
    url = normalize_url(raw.strip())
    shown = mask_url(raw)
    try:
        parsed = make_url(url)
    except (ArgumentError, ValueError):
        raise StoreURLError(f"{source}={shown!r} is not a database URL; give {ACCEPTED_URLS}") from None
    backend = parsed.get_backend_name()
    if backend not in ("sqlite", "postgresql"):
        raise StoreURLError(f"{source}={shown!r}: '{backend}' databases are not supported; give {ACCEPTED_URLS}")
    file = sqlite_file(url)
    if file is not None and file.is_dir():
        raise StoreURLError(f"{source}={shown!r}: {file} is a folder, not a store file; name the file, "
                            "e.g. sqlite:///.rollup/rollup.db")
    return url


def sqlite_file(url: str) -> Path | None:
    """The file of a SQLite URL, or None (in memory, or not SQLite)."""
    parsed = make_url(url)
    database = parsed.database or ""
    if parsed.get_backend_name() != "sqlite" or not database or database == ":memory:" or database.startswith("file:"):
        return None
    return Path(database)


def mask_url(url: str) -> str:
    """The URL with any password replaced by ``***``, safe to print and log (also when it does not parse)."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except (ArgumentError, ValueError):
        # Whatever sits between "//" and "@" may hold a password.
        return re.sub(r"//[^/@]*@", "//***@", url)

