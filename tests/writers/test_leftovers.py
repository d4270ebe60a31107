"""What a killed writer leaves behind is cleaned by the next writer in that folder — only the tool's own
temp names, only when their writer is gone or they are old — and a workbook with its charts is swapped
in as one set, finished by the next writer when its own was killed during the swap."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from rollup.writers import safe
from rollup.writers.safe import (
    SET_MANIFEST,
    STALE_AFTER_SECONDS,
    TEMP_NAME,
    atomic_dir,
    atomic_set,
    atomic_write,
    clean_stale,
    temp_name,
)


def dead_pid() -> int:
    """The pid of a process that has exited."""
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def leftover(folder: Path, target: str, kind: str = "tmp", *, pid: int, host: str | None = None,
             folder_kind: bool = False) -> Path:
    """A temp name another writer (``pid`` on ``host``) made beside ``folder/target``."""
    name = temp_name(folder / target, kind).name
    match = TEMP_NAME.match(name)
    name = name.replace(f".{match['host']}-{match['pid']}.", f".{host or match['host']}-{pid}.")
    path = folder / name
    if folder_kind:
        path.mkdir()
        (path / "half.png").write_bytes(b"half")
    else:
        path.write_bytes(b"half a workbook")
    return path


def names(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


def test_temp_names_say_whose_they_are(tmp_path):
    seen = []
    atomic_write(tmp_path / "portfolio-2026-W48.xlsx", lambda tmp: seen.append(tmp.name) or tmp.write_bytes(b"x"))
    match = TEMP_NAME.match(seen[0])
    assert match and match["target"] == "portfolio-2026-W48.xlsx" and int(match["pid"]) == os.getpid()
    assert match["kind"] == "tmp" and len(seen[0]) < 255
    assert TEMP_NAME.match(temp_name(tmp_path / ("x" * 250 + ".xlsx")).name)  # a long name stays a file name


def test_only_the_tools_own_leftovers_of_gone_writers_are_removed(tmp_path):
    gone = dead_pid()
    with subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"]) as alive:
        try:
            removed = {
                leftover(tmp_path, "portfolio-2026-W48.xlsx", pid=gone),
                leftover(tmp_path, "finance-2026-10", pid=gone, folder_kind=True),
                leftover(tmp_path, "portfolio-2026-W48.xlsx", "set", pid=gone, folder_kind=True),
            }
            kept = {
                leftover(tmp_path, "portfolio-2026-W49.xlsx", pid=alive.pid),  # a writer still at work
                leftover(tmp_path, "portfolio-2026-W49.xlsx", pid=os.getpid()),
                leftover(tmp_path, "lint-2026-11-23.xlsx", pid=gone, host="other-machine"),  # cannot tell: recent
            }
            old = leftover(tmp_path, "lint-2026-11-24.xlsx", pid=alive.pid, host="other-machine")
            long_ago = time.time() - STALE_AFTER_SECONDS - 60
            os.utime(old, (long_ago, long_ago))
            removed.add(old)
            foreign = ["notes.tmp", ".portfolio.xlsx.k3j5x9q0.tmp", ".~lock.portfolio-2026-W48.xlsx#",
                       ".rollup-run.json", "portfolio-2026-W48.xlsx"]
            for name in foreign:
                (tmp_path / name).write_text("not the tool's to remove")

            assert set(clean_stale(tmp_path)) == removed
            assert names(tmp_path) == sorted([p.name for p in kept] + foreign)
        finally:
            alive.kill()


def test_each_writer_cleans_its_folder_when_it_starts(tmp_path):
    gone = dead_pid()
    for write in (lambda: atomic_write(tmp_path / "a.csv", lambda tmp: tmp.write_text("1")),
                  lambda: atomic_dir(tmp_path / "finance-2026-10").__enter__(),
                  lambda: atomic_set(tmp_path, "portfolio-2026-W48.xlsx").__enter__()):
        stale = leftover(tmp_path, "portfolio-2026-W48.xlsx", pid=gone)
        write()
        assert not stale.exists()


def write_report(folder: Path, week: str, charts: dict[str, bytes], fail: bool = False) -> None:
    with atomic_set(folder, f"portfolio-{week}.xlsx") as staging:
        for name, data in charts.items():
            atomic_write(staging / "charts" / name, lambda tmp, data=data: tmp.write_bytes(data))
        if fail:
            raise RuntimeError("disk full")
        atomic_write(staging / f"portfolio-{week}.xlsx", lambda tmp: tmp.write_bytes(f"workbook {week}".encode()))


@pytest.mark.parametrize("exchange", [True, False], ids=["renameat2", "move-aside"])
def test_a_workbook_and_its_charts_are_swapped_in_as_one_set(tmp_path, monkeypatch, exchange):
    if not exchange:
        monkeypatch.setattr(safe, "_renameat2", None)
    (tmp_path / "lint-2026-11-23.xlsx").write_bytes(b"another report")
    write_report(tmp_path, "2026-W47", {"roadmap.png": b"old roadmap", "retired.png": b"old chart"})
    write_report(tmp_path, "2026-W48", {"roadmap.png": b"new roadmap"})
    assert names(tmp_path) == ["charts", "lint-2026-11-23.xlsx", "portfolio-2026-W47.xlsx", "portfolio-2026-W48.xlsx"]
    assert names(tmp_path / "charts") == ["roadmap.png"]  # the folder is this report's, nothing older
    assert (tmp_path / "charts" / "roadmap.png").read_bytes() == b"new roadmap"

    with pytest.raises(RuntimeError):
        write_report(tmp_path, "2026-W49", {"roadmap.png": b"half"}, fail=True)
    assert not (tmp_path / "portfolio-2026-W49.xlsx").exists()
    assert (tmp_path / "charts" / "roadmap.png").read_bytes() == b"new roadmap"
    assert names(tmp_path) == ["charts", "lint-2026-11-23.xlsx", "portfolio-2026-W47.xlsx", "portfolio-2026-W48.xlsx"]


def as_if_killed(staging: Path, pid: int) -> Path:
    """The staging folder renamed as if the process ``pid`` had made it (and then been killed)."""
    match = TEMP_NAME.match(staging.name)
    moved = staging.with_name(staging.name.replace(f"-{match['pid']}.", f"-{pid}."))
    staging.rename(moved)
    return moved


@pytest.mark.parametrize("exchange", [True, False], ids=["renameat2", "move-aside"])
def test_a_set_killed_during_its_swap_is_finished_by_the_next_writer(tmp_path, monkeypatch, exchange):
    if not exchange:
        monkeypatch.setattr(safe, "_renameat2", None)
    write_report(tmp_path, "2026-W47", {"roadmap.png": b"old roadmap"})
    real_replace = os.replace

    def killed_at_the_workbook(src, dst):
        if Path(src).name == "portfolio-2026-W48.xlsx" and Path(src).parent.name.endswith(".set"):
            raise KeyboardInterrupt("SIGKILL")  # the charts are in place, the workbook is not
        return real_replace(src, dst)

    monkeypatch.setattr(safe.os, "replace", killed_at_the_workbook)
    with pytest.raises(KeyboardInterrupt):
        write_report(tmp_path, "2026-W48", {"roadmap.png": b"new roadmap"})
    monkeypatch.setattr(safe.os, "replace", real_replace)
    [staging] = [p for p in tmp_path.iterdir() if p.name.endswith(".set")]
    assert (staging / SET_MANIFEST).exists() and not (tmp_path / "portfolio-2026-W48.xlsx").exists()
    as_if_killed(staging, dead_pid())

    atomic_write(tmp_path / "lint-2026-11-23.xlsx", lambda tmp: tmp.write_bytes(b"the next writer"))
    assert (tmp_path / "portfolio-2026-W48.xlsx").read_bytes() == b"workbook 2026-W48"
    assert (tmp_path / "charts" / "roadmap.png").read_bytes() == b"new roadmap"
    assert names(tmp_path) == ["charts", "lint-2026-11-23.xlsx", "portfolio-2026-W47.xlsx", "portfolio-2026-W48.xlsx"]


def test_a_set_killed_before_it_was_complete_is_removed_and_the_old_set_kept(tmp_path):
    write_report(tmp_path, "2026-W47", {"roadmap.png": b"old roadmap"})
    half = leftover(tmp_path, "portfolio-2026-W48.xlsx", "set", pid=dead_pid(), folder_kind=True)  # no manifest
    write_report(tmp_path, "2026-W47", {"roadmap.png": b"old roadmap, again"})
    assert not half.exists()
    assert names(tmp_path) == ["charts", "portfolio-2026-W47.xlsx"]
