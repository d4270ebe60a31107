"""Cell text sanitising and the atomic write helper.

A cell holding Jira text is always text: it never becomes a formula, never holds a character
Excel cannot store, and never exceeds Excel's 32,767-character cell limit.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

#: Excel's hard limit on the characters in one cell.
EXCEL_CELL_LIMIT = 32_767

#: A lower limit for long free text (descriptions) so rows stay readable.
DISPLAY_LIMIT = 2_000

#: Characters a text cell may not start with without being read as a formula by a spreadsheet.
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")

# XML 1.0 forbids these control characters (tab, newline and carriage return are allowed);
# also lone surrogates and the two non-characters U+FFFE / U+FFFF.
_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")

#: What replaces a character Excel cannot store.
REPLACEMENT = "\ufffd"


def clean_text(value: Any, limit: int = EXCEL_CELL_LIMIT) -> str:
    """``value`` as text Excel can store: illegal characters replaced, cut to ``limit`` with a marker."""
    text = _ILLEGAL.sub(REPLACEMENT, str(value))
    limit = min(int(limit), EXCEL_CELL_LIMIT)
    if len(text) > limit:
        marker = f" … [truncated: {len(text):,} characters]"
        text = text[: max(limit - len(marker), 0)] + marker
    return text


def looks_like_formula(text: str) -> bool:
    """True when a spreadsheet could read ``text`` as a formula."""
    return text.startswith(FORMULA_TRIGGERS)


def set_text(cell: Any, value: Any, limit: int = EXCEL_CELL_LIMIT) -> None:
    """Put ``value`` in an openpyxl cell as text that is never a formula.

    openpyxl turns a string starting with ``=`` into a formula; the data type is forced back to
    string, and text a spreadsheet could read as a formula also gets Excel's quote prefix (the
    stored value is unchanged, and re-editing the cell in Excel keeps it text).
    """
    text = clean_text(value, limit)
    cell.value = text
    cell.data_type = "s"
    if looks_like_formula(text):
        cell.quotePrefix = True


def atomic_write(path: str | Path, write: Callable[[Path], None]) -> Path:
    """Call ``write(temp_path)`` then rename the temp file onto ``path``.

    The temp file is in the same folder (so the rename is atomic on one file system); if
    ``write`` raises, the temp file is removed and any previous ``path`` is left untouched.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        write(tmp)
        # mkstemp creates the file owner-only; give it the permissions a plain open() would.
        os.chmod(tmp, 0o666 & ~_UMASK)
        # On disk before the rename, so a power loss leaves the old file or the new one, never an empty one.
        with open(tmp, "rb") as written:
            os.fsync(written.fileno())
        os.replace(tmp, path)
        _fsync_dir(path.parent)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return path


@contextmanager
def atomic_dir(final: str | Path) -> Iterator[Path]:
    """Build a folder of files as one set: yield an empty staging folder beside ``final``, then swap it in.

    On leaving the block every file in the staging folder is flushed to disk and the folder is
    renamed onto ``final`` (a previous ``final`` is moved aside first and removed afterwards), so a
    reader sees the old set or the new one, never a mix. If the block raises, the staging folder is
    removed and any previous ``final`` is left untouched.
    """
    final = Path(final)
    final.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{final.name}.", suffix=".tmp", dir=final.parent))
    try:
        yield staging
        for file in staging.rglob("*"):
            if file.is_file():
                with open(file, "rb") as handle:
                    os.fsync(handle.fileno())
        os.chmod(staging, 0o777 & ~_UMASK)
        _swap_dir(staging, final)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise


def _swap_dir(staging: Path, final: Path) -> None:
    """Rename ``staging`` onto ``final``; an existing ``final`` is moved aside first, then removed."""
    old = None
    if final.exists():
        old = Path(tempfile.mkdtemp(prefix=f".{final.name}.", suffix=".old", dir=final.parent))
        old.rmdir()
        os.replace(final, old)
    try:
        os.replace(staging, final)
    except BaseException:
        if old is not None:
            os.replace(old, final)
        raise
    _fsync_dir(final.parent)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def _read_umask() -> int:
    """The process umask (read by setting it, then restoring it; done once, at import)."""
    mask = os.umask(0)
    os.umask(mask)
    return mask


_UMASK = _read_umask()


def _fsync_dir(folder: Path) -> None:
    """Make a rename in ``folder`` durable (a no-op where directories cannot be opened)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def blocking_file(folder: Path) -> Path | None:
    """The existing file at or above ``folder`` that stops anything being written under it, or None."""
    for part in (folder, *folder.absolute().parents):
        if part.exists():
            return None if part.is_dir() else part
    return None
