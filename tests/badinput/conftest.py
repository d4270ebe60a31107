"""The bad-input corpus' shared setup (one small store, built once) and its summary line.

After the run the terminal summary says how many cases each family has, how many printed a
traceback or hung (both must be 0), and which case was slowest — the figures in
``docs/reliability.md``.
"""

from __future__ import annotations

import sys
from collections import Counter
from datetime import timedelta
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from badinput_cases import FAMILIES, RESULTS  # noqa: E402


@pytest.fixture(scope="session")
def stores(tmp_path_factory) -> dict[str, Path]:
    """``synced``: a few issues, one with a 5,000-character custom field value; ``empty``: a schema only."""
    from rollup_rows import T0, make_issue

    from rollup.store import Store

    folder = tmp_path_factory.mktemp("badinput-stores")
    with Store.open(f"sqlite:///{folder / 'synced.db'}") as store:
        store.upsert_batch([
            make_issue(1, "PAY-1", issue_type="Epic", hierarchy_level=1, epic_key=None),
            make_issue(2, "PAY-2", epic_key="PAY-1", custom={"Investment": "a" * 5000 + "!"}),
            make_issue(3, "SCH-1", issue_type="Epic", hierarchy_level=1, epic_key=None, labels=["pillar-platform"]),
        ], {})
        store.record_run(started=T0, finished=T0 + timedelta(minutes=1), mode="full", status="ok")
    Store.open(f"sqlite:///{folder / 'empty.db'}").close()
    return {"synced": folder / "synced.db", "empty": folder / "empty.db"}


def pytest_terminal_summary(terminalreporter) -> None:
    if not RESULTS:
        return
    families = Counter(r.family for r in RESULTS)
    slowest = max(RESULTS, key=lambda r: r.seconds)
    counts = ", ".join(f"{family} {families[family]}" for family in FAMILIES)
    terminalreporter.write_sep("-", "bad-input corpus")
    terminalreporter.write_line(f"{len(RESULTS)} cases ({counts}); {sum(r.in_subprocess for r in RESULTS)} in a "
                                "child process with a time cap")
    terminalreporter.write_line(f"tracebacks: {sum(r.traceback for r in RESULTS)}, hangs: "
                                f"{sum(r.hung for r in RESULTS)}, exit code other than expected: "
                                f"{sum(not r.exit_ok for r in RESULTS)}")
    terminalreporter.write_line(f"slowest: {slowest.case} {slowest.seconds:.2f} s; all cases together "
                                f"{sum(r.seconds for r in RESULTS):.1f} s")
