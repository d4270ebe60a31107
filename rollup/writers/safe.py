"""Cell text sanitising, and writing files so that no reader ever sees half of one.

A cell holding Jira text is always text: it never becomes a formula, never holds a character
Excel cannot store, and never exceeds Excel's 32,767-character cell limit.

Files: :func:`atomic_write` writes one file, :func:`atomic_dir` one folder of files and
:func:`atomic_set` files and folders that belong together (a workbook and its charts); each
builds under a temp name beside the target and renames it in. Temp names follow one pattern,
``.<target>.<host>-<pid>.<8 hex>.<tmp|old|set>``, so that a writer starting in a folder can tell
the leftovers of a killed writer (:func:`clean_stale`) from another live writer's work and from
anything that is not the tool's.
"""

from __future__ import annotations

import ctypes
import errno
import json
import os
import re
import secrets
import shutil
import socket
import time
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
    # What ``cell.value = text`` stores for text whose characters are legal (clean_text made them so),
    # without openpyxl checking them again and guessing a type (a large sheet's most frequent call).
    cell._value = text
    cell.data_type = "s"
    if looks_like_formula(text):
        cell.quotePrefix = True


#: A leftover temp whose writer may still be alive (or runs on another machine) is removed once this old.
STALE_AFTER_SECONDS = 24 * 3600

#: The tool's temp names: ``.<target>.<host>-<pid>.<8 hex>.<kind>``.
TEMP_NAME = re.compile(r"^\.(?P<target>.+)\.(?P<host>[A-Za-z0-9-]{1,40})-(?P<pid>\d{1,10})\.[0-9a-f]{8}"
                       r"\.(?P<kind>tmp|old|set)$")
#: Inside a set's staging folder: what the set holds, written once every file of it is complete.
SET_MANIFEST = ".rollup-set.json"
#: How much of the target's name a temp name keeps (file names stop at 255 bytes).
_TARGET_CHARS = 120


def _host() -> str:
    name = re.sub(r"[^A-Za-z0-9-]", "-", socket.gethostname().split(".")[0])[:40].strip("-")
    return name or "host"


_HOST = _host()


def temp_name(target: str | Path, kind: str = "tmp") -> Path:
    """A fresh temp name beside ``target`` (not created): ``.<name>.<host>-<pid>.<8 hex>.<kind>``."""
    target = Path(target)
    return target.parent / f".{target.name[:_TARGET_CHARS]}.{_HOST}-{os.getpid()}.{secrets.token_hex(4)}.{kind}"


def _new_temp(target: Path, kind: str, *, folder: bool) -> Path:
    """Create an empty temp file (owner-only) or folder beside ``target`` under a name no one else holds."""
    while True:
        path = temp_name(target, kind)
        try:
            if folder:
                path.mkdir(mode=0o700)
            else:
                os.close(os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))
            return path
        except FileExistsError:
            continue


def _writer_gone(host: str, pid: int) -> bool:
    """Whether the process that made a temp name is known to be gone (only knowable on this machine)."""
    if host != _HOST:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:  # alive, another user's
        return False
    return False


def clean_stale(folder: str | Path, *, now: float | None = None) -> list[Path]:
    """Remove the tool's own leftovers in ``folder``; return what was removed.

    Only names matching :data:`TEMP_NAME` are looked at, and only those whose writer is gone (its
    pid no longer runs on this host) or that are older than :data:`STALE_AFTER_SECONDS`. A set
    staged completely before its writer died (its manifest written) is swapped in first, as its
    writer would have done, so a kill during the swap still ends with the whole new set.
    """
    folder = Path(folder)
    now = time.time() if now is None else now
    try:
        names = os.listdir(folder)
    except OSError:
        return []
    leftovers = []
    for name in names:
        match = TEMP_NAME.match(name)
        if match is None:
            continue
        path = folder / name
        try:
            age = now - path.lstat().st_mtime
        except OSError:
            continue
        if _writer_gone(match["host"], int(match["pid"])) or age > STALE_AFTER_SECONDS:
            leftovers.append((match["kind"], path))
    removed = []
    # Oldest complete set first, so that of two interrupted swaps the newer one ends in place.
    for kind, path in sorted(leftovers, key=lambda item: _manifest_time(item[1]) if item[0] == "set" else 0):
        try:
            if kind == "set" and (path / SET_MANIFEST).is_file():
                _swap_set(path, folder)
            elif path.is_dir() and not path.is_symlink():
                shutil.rmtree(path)
            else:
                path.unlink()
        except OSError:
            continue  # one unremovable leftover must not stop the writer that found it
        removed.append(path)
    return removed


def _manifest_time(staging: Path) -> float:
    try:
        return (staging / SET_MANIFEST).stat().st_mtime
    except OSError:
        return 0.0


def atomic_write(path: str | Path, write: Callable[[Path], object]) -> Path:
    """Call ``write(temp_path)`` then rename the temp file onto ``path``.

    The temp file is in the same folder (so the rename is atomic on one file system); if
    ``write`` raises, the temp file is removed and any previous ``path`` is left untouched.
    Leftovers of killed writers in that folder are removed first (:func:`clean_stale`).
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    clean_stale(path.parent)
    tmp = _new_temp(path, "tmp", folder=False)
    try:
        write(tmp)
        # The temp file is owner-only; give it the permissions a plain open() would.
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
def atomic_dir(final: str | Path, *, private: bool = False) -> Iterator[Path]:
    """Build a folder of files as one set: yield an empty staging folder beside ``final``, then swap it in.

    On leaving the block every file in the staging folder is flushed to disk and the folder is
    swapped with ``final`` in one rename (a previous ``final`` is then removed), so a reader sees
    the old set or the new one, never a mix, and never no folder. If the block raises, the staging
    folder is removed and any previous ``final`` is left untouched. Leftovers of killed writers
    beside ``final`` are removed first (:func:`clean_stale`). ``private``: for the owner only — the folder
    ``rwx------``, its files ``rw-------``, whatever the umask (a folder it has to create above ``final`` too).
    """
    final = Path(final)
    if private and not final.parent.exists():
        final.parent.mkdir(parents=True, mode=0o700)
        os.chmod(final.parent, 0o700)
    final.parent.mkdir(parents=True, exist_ok=True)
    clean_stale(final.parent)
    staging = _new_temp(final, "tmp", folder=True)
    try:
        yield staging
        if private:
            for path in staging.rglob("*"):
                os.chmod(path, 0o700 if path.is_dir() else 0o600)
        _fsync_tree(staging)
        os.chmod(staging, 0o700 if private else 0o777 & ~_UMASK)
        replace_dir(staging, final)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise


@contextmanager
def atomic_set(folder: str | Path, label: str) -> Iterator[Path]:
    """Build files and folders that belong together, then swap them into ``folder`` as one set.

    Yields an empty staging folder inside ``folder`` (named after ``label``, e.g. the workbook);
    each entry the block leaves at its top level (``portfolio-2026-W48.xlsx``, ``charts/``)
    replaces the entry of that name in ``folder``, folders first, each in one rename. Once every
    file is complete and on disk, a manifest of the set is written into the staging folder before
    the first rename: a writer killed during the swap leaves a complete set that the next writer in
    ``folder`` swaps in (:func:`clean_stale`). If the block raises, nothing in ``folder`` changes.
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    clean_stale(folder)
    staging = _new_temp(folder / label, "set", folder=True)
    try:
        yield staging
        entries = sorted((p for p in staging.iterdir() if p.name != SET_MANIFEST),
                         key=lambda p: (not p.is_dir(), p.name))
        for entry in entries:
            if entry.is_dir():
                os.chmod(entry, 0o777 & ~_UMASK)
        _fsync_tree(staging)
        manifest = [{"name": p.name, "inode": p.lstat().st_ino} for p in entries]
        atomic_write(staging / SET_MANIFEST, lambda tmp: tmp.write_text(json.dumps(manifest), encoding="utf-8"))
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    _swap_set(staging, folder)


def _swap_set(staging: Path, folder: Path) -> None:
    """Move each entry of a staged set's manifest onto its place in ``folder``; remove the staging folder.

    Safe to repeat after an interruption: an entry already moved is gone from the staging folder,
    and one swapped with the old entry of its name is known by its inode and removed.
    """
    manifest = json.loads((staging / SET_MANIFEST).read_text(encoding="utf-8"))
    for entry in manifest:
        staged, final = staging / entry["name"], folder / entry["name"]
        try:
            inode = staged.lstat().st_ino
        except FileNotFoundError:
            continue  # already in place
        if inode != entry["inode"]:
            _remove(staged)  # the old entry, swapped out of its place
        elif staged.is_dir() and not staged.is_symlink():
            replace_dir(staged, final)
        else:
            os.replace(staged, final)
    _fsync_dir(folder)
    shutil.rmtree(staging, ignore_errors=True)


def replace_dir(new: Path, final: Path) -> None:
    """Put the folder ``new`` at ``final``, in one rename where the system can (the old ``final`` is removed).

    On Linux the two folders are exchanged in one step (``renameat2(RENAME_EXCHANGE)``), so
    ``final`` always exists; elsewhere an existing ``final`` is moved aside first.
    """
    if not final.exists():
        os.replace(new, final)
    elif _exchange(new, final):
        _remove(new)  # now holds the old folder
    else:
        old = _new_temp(final, "old", folder=True)
        old.rmdir()
        os.replace(final, old)
        try:
            os.replace(new, final)
        except BaseException:
            os.replace(old, final)
            raise
        _remove(old)
    _fsync_dir(final.parent)


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    else:
        path.unlink(missing_ok=True)


_AT_FDCWD = -100
_RENAME_EXCHANGE = 2


def _load_renameat2() -> Any:
    try:
        function = ctypes.CDLL(None, use_errno=True).renameat2
    except (AttributeError, OSError):
        return None
    function.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
    function.restype = ctypes.c_int
    return function


_renameat2 = _load_renameat2()


def _exchange(a: Path, b: Path) -> bool:
    """Swap two paths in one atomic step; False where the system or the file system cannot."""
    if _renameat2 is None:
        return False
    if _renameat2(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE) == 0:
        return True
    code = ctypes.get_errno()
    if code in (errno.ENOSYS, errno.EINVAL, errno.ENOTSUP, errno.EOPNOTSUPP):
        return False
    raise OSError(code, os.strerror(code), str(a), None, str(b))


def _fsync_tree(folder: Path) -> None:
    """Flush every file under ``folder`` to disk."""
    for file in folder.rglob("*"):
        if file.is_file():
            with open(file, "rb") as handle:
                os.fsync(handle.fileno())


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
