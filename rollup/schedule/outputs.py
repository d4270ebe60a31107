"""A job's output folder: dated run folders, a stable ``latest`` copy, retention of the tool's own files.

Layout under the job's ``output`` folder (``outputs/<job>`` by default)::

    2026-11-30_0700/              one folder per run, named by its local start time
        .rollup-run.json          manifest: job, run id, start, files — marks the folder as the tool's
        portfolio-2026-W49.xlsx
        charts/…
    latest/                       a copy of the newest complete run, names without dates
        portfolio.xlsx
        team-payments.xlsx
        charts/…

While a run works, each step writes into ``.partial-<run id>/<n>-<step>/``; a finished step's
files move into the dated folder when the run ends, an abandoned step's folder is removed. Every
file is written atomically (temp file + rename), so no reader ever sees half a file.

Retention removes only dated folders whose manifest names this job; anything else in the
folder (a user's notes, another tool's files, ``latest``) is never touched.
"""

from __future__ import annotations

import json
import re
import shutil
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from rollup.writers.safe import atomic_dir, atomic_write, clean_stale

#: The manifest file that marks a run folder as written by this tool.
MANIFEST = ".rollup-run.json"
#: The stable copy of the newest complete run.
LATEST = "latest"
#: Dated run folder names: ``YYYY-MM-DD_HHMM`` plus ``_<run id>`` when two runs share a minute.
RUN_DIR = re.compile(r"^\d{4}-\d{2}-\d{2}_\d{4}(?:_\d+)?$")
_PARTIAL = re.compile(r"^\.partial-\d+$")
#: Date parts taken out of file names in ``latest/``: ISO weeks, days, months.
_DATED = re.compile(r"-\d{4}-W\d{2}|-\d{4}-\d{2}-\d{2}|-\d{4}-\d{2}(?=[.-]|$)")


@dataclass
class Published:
    """A published run: its dated folder and its files (relative paths)."""

    run_dir: Path
    files: list[str]


def staging_dir(job_out: Path, run_id: int) -> Path:
    """The run's work folder, hidden until the run is published."""
    return job_out / f".partial-{run_id}"


def step_dir(staging: Path, index: int, step: str) -> Path:
    """A step's own folder inside the run's work folder (created)."""
    folder = staging / f"{index:02d}-{step}"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def run_dir_name(started_local: datetime, run_id: int, job_out: Path) -> str:
    """``2026-11-30_0700``, or ``2026-11-30_0700_<run id>`` when that folder already exists."""
    name = f"{started_local:%Y-%m-%d_%H%M}"
    return name if not (job_out / name).exists() else f"{name}_{run_id}"


def publish(staging: Path, job_out: Path, *, job: str, run_id: int, started_local: datetime,
            step_dirs: list[Path]) -> Published:
    """Move the finished steps' files into a dated run folder with its manifest; remove the work folder."""
    target = job_out / run_dir_name(started_local, run_id, job_out)
    work = staging / ".publish"
    work.mkdir(parents=True, exist_ok=True)
    for folder in step_dirs:
        for path in sorted(p for p in folder.rglob("*") if p.is_file() and not p.name.startswith(".")):
            dest = work / path.relative_to(folder)
            dest.parent.mkdir(parents=True, exist_ok=True)
            path.replace(dest)
    files = sorted(str(p.relative_to(work)) for p in work.rglob("*") if p.is_file())
    manifest = {"job": job, "run_id": run_id, "started": started_local.isoformat(), "files": files}
    atomic_write(work / MANIFEST, lambda tmp: tmp.write_text(json.dumps(manifest, indent=2), encoding="utf-8"))
    work.replace(target)  # the dated folder appears complete, in one rename
    shutil.rmtree(staging, ignore_errors=True)
    return Published(target, files)


def discard(staging: Path) -> None:
    """Remove a run's work folder (nothing in it is published)."""
    shutil.rmtree(staging, ignore_errors=True)


def file_lines(files: list[str]) -> list[str]:
    """A run's files for people: workbooks and other files one per line, first; chart folders as a count."""
    charts: dict[str, int] = {}
    lines = []
    for name in files:
        folder = name.split("/", 1)[0] if "/" in name else ""
        if folder.startswith("charts"):
            charts[folder] = charts.get(folder, 0) + 1
        else:
            lines.append(name)
    return lines + [f"{folder}/ ({count} chart files)" for folder, count in sorted(charts.items())]


def stable_name(relative: str) -> str:
    """The file's path in ``latest/``: ``portfolio-2026-W49.xlsx`` → ``portfolio.xlsx``,
    ``finance-2026-10/detail-2026-10.csv`` → ``finance/detail.csv``."""
    return "/".join(_DATED.sub("", part) or part for part in relative.split("/"))


def update_latest(job_out: Path, published: Published) -> list[Path]:
    """Replace ``latest/`` with a copy of the published run, date parts taken out of the file names.

    The copy is built beside it and swapped in as one folder (:func:`rollup.writers.safe.atomic_dir`):
    once there is a ``latest/``, it is always there, and always one run's complete set.
    """
    names: dict[str, str] = {}
    for relative in published.files:
        stable = stable_name(relative)
        names[stable if stable not in names else relative] = relative
    written = []
    with atomic_dir(job_out / LATEST) as new:
        for stable, relative in sorted(names.items()):
            dest = new / stable
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(published.run_dir / relative, dest)
            written.append(job_out / LATEST / stable)
    return written


def own_run_dirs(job_out: Path, job: str) -> list[Path]:
    """The dated run folders this tool wrote for ``job`` (by their manifest), oldest first."""
    if not job_out.is_dir():
        return []
    out = []
    for folder in job_out.iterdir():
        if not (folder.is_dir() and RUN_DIR.match(folder.name)):
            continue
        try:
            manifest = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        if isinstance(manifest, dict) and manifest.get("job") == job:
            out.append(folder)
    return sorted(out, key=lambda p: p.name)


def apply_retention(job_out: Path, job: str, *, keep_last: int | None, max_age: timedelta | None,
                    now_local: datetime, protect: Path | None = None) -> list[Path]:
    """Remove the job's own run folders beyond ``keep_last`` or older than ``max_age``; return them."""
    folders = own_run_dirs(job_out, job)
    remove: list[Path] = []
    if keep_last is not None and len(folders) > keep_last:
        remove.extend(folders[: len(folders) - keep_last])
    if max_age is not None:
        cutoff = (now_local - max_age).replace(tzinfo=None)
        for folder in folders:
            started = datetime.strptime(folder.name[:15], "%Y-%m-%d_%H%M")
            if started < cutoff and folder not in remove:
                remove.append(folder)
    removed = []
    for folder in remove:
        if protect is not None and folder.resolve() == protect.resolve():
            continue
        shutil.rmtree(folder)
        removed.append(folder)
    return removed


def clean_leftovers(job_out: Path) -> list[Path]:
    """Remove what a killed run left behind; return it.

    Called under the job's lock, so no other run of the job is working: every ``.partial-<id>``
    work folder goes (and ``.latest-*`` ones from earlier versions), and the writers' own temp files
    and staging folders whose writer is gone (:func:`rollup.writers.safe.clean_stale`).
    """
    if not job_out.is_dir():
        return []
    removed = []
    for folder in job_out.iterdir():
        if folder.is_dir() and (_PARTIAL.match(folder.name) or folder.name.startswith(".latest-")):
            shutil.rmtree(folder, ignore_errors=True)
            removed.append(folder)
    return removed + clean_stale(job_out)
