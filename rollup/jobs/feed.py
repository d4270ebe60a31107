"""The BI feed pipeline: store → frames → mapping → views and lint → feed tables → files and store.

:func:`run_feed_export` is the one entry point ``rollup export`` and the scheduler's ``export`` step
call. It checks the output folder, reads and maps the store once (a store without issues is bad
input), computes what the tables need with the functions the portfolio report uses — the effort view,
the forecast view, the lint of the whole store, the stored snapshots — builds the tables
(:func:`rollup.feed.tables.build_tables`), then writes the files into a staging folder, refreshes the
store's ``feed_*`` tables in one transaction, and only then swaps the folder in. A failure at any point
leaves the previous files and the previous feed in the store as they were.

>>> # result = run_feed_export(Store.open(), load_config("mappings.yaml"), out_dir="outputs/feed")
>>> # result.rows, result.paths
"""

from __future__ import annotations

import os
import shutil
import tempfile
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from rollup.errors import ConfigError
from rollup.feed.dictionary import TABLES
from rollup.store import Store
from rollup.store.sites import last_ok_finished

if TYPE_CHECKING:  # pragma: no cover
    from rollup.config.models import RollupConfig
    from rollup.jobs.report import MappedStore
    from rollup.lint.result import LintResult

#: Where ``rollup export`` writes when ``--out`` is not given.
DEFAULT_FEED_DIR = Path("outputs") / "feed"


@dataclass
class FeedResult:
    """What one export wrote: the folder, its files, the rows per table, and the store's views."""

    folder: Path
    as_of: date
    paths: list[Path]
    rows: dict[str, int]
    #: Why a table is empty, by table name (only the empty ones).
    notes: dict[str, str] = field(default_factory=dict)
    #: The store's views refreshed (``rollup_<table>``), empty when the store was left alone.
    views: list[str] = field(default_factory=list)
    #: Where the store is, fit to print (its password masked).
    store: str = ""
    #: When the data was last synced from Jira (UTC), or None.
    data_as_of: datetime | None = None

    def files_of(self, table: str) -> list[Path]:
        """The CSV and Parquet files of one table."""
        return [p for p in self.paths if p.stem == table and p.suffix in (".csv", ".parquet")]

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return {"status": "ok", "folder": str(self.folder), "as_of": self.as_of.isoformat(),
                "data_as_of": self.data_as_of.isoformat() if self.data_as_of else None,
                "paths": [str(p) for p in self.paths],
                "tables": {name: {"rows": rows, "files": [str(p) for p in self.files_of(name)],
                                  **({"note": self.notes[name]} if name in self.notes else {})}
                           for name, rows in self.rows.items()},
                "views": self.views, "store": self.store}

    def lines(self) -> list[str]:
        """The summary for people: the folder, then one line per table (rows, files, why it is empty)."""
        synced = f" (data synced {self.data_as_of:%Y-%m-%d %H:%M} UTC)" if self.data_as_of else ""
        width = max(len(name) for name in self.rows)
        out = [f"Feed as of {self.as_of.isoformat()}{synced}: {self.folder}"]
        for name, rows in self.rows.items():
            files = ", ".join(str(p) for p in self.files_of(name))
            note = f" — empty: {self.notes[name]}" if name in self.notes else ""
            out.append(f"  {name:<{width}}  {rows:>7,} rows  {files}{note}")
        out += [f"  {p}" for p in self.paths if p.suffix not in (".csv", ".parquet") or p.name == "dictionary.csv"]
        if self.views:
            out.append(f"Store {self.store}: views {', '.join(self.views)} refreshed")
        return out


# ---------------------------------------------------------------------------------------- output folder


def check_out_dir(folder: Path) -> None:
    """Refuse, before anything is read or written, an output folder the export cannot (or must not) replace.

    The folder is replaced whole, so it must be new, empty, or the folder of an earlier feed (it holds
    ``feed.json``); it may not sit inside a file; and the nearest folder that exists must let a folder be
    made in it (tried with a temporary folder, removed at once). Each is a :class:`ConfigError` (exit 2).
    """
    from rollup.writers.feed import MANIFEST_FILE, is_feed_folder
    from rollup.writers.safe import blocking_file

    blocker = blocking_file(folder)
    if blocker is not None:
        raise ConfigError(f"--out {folder}: {blocker} is a file, so no folder can be written there; give another "
                          "folder. Nothing was written")
    if folder.is_dir() and any(folder.iterdir()) and not is_feed_folder(folder):
        raise ConfigError(f"--out {folder} holds files that are not a feed export (no {MANIFEST_FILE}); the export "
                          "replaces its folder whole, so give it a new or empty folder, e.g. outputs/feed. Nothing "
                          "was written")
    existing = next(p for p in (folder, *folder.absolute().parents) if p.exists())
    try:
        probe = tempfile.mkdtemp(prefix=".rollup-feed-probe-", dir=existing)
    except OSError as exc:
        raise ConfigError(f"--out {folder}: cannot write in {existing} ({exc.strerror or exc}); give a folder "
                          "this user can write. Nothing was written") from None
    shutil.rmtree(probe, ignore_errors=True)
    if not os.access(existing, os.W_OK | os.X_OK):  # pragma: no cover - the probe above already failed
        raise ConfigError(f"--out {folder}: {existing} is not writable. Nothing was written")


# ---------------------------------------------------------------------------------------- the job


def feed_tables(store: Store, config: RollupConfig, *, as_of: date, mapped_store: MappedStore | None = None,
                linted: LintResult | None = None,
                views: dict[str, pd.DataFrame] | None = None) -> dict[str, pd.DataFrame]:
    """Every table of the feed as of ``as_of``, from the store (read and mapped once, or ``mapped_store``).

    ``linted``: the whole store linted as of ``as_of`` already (a job's lint), so it is not linted again.
    ``views``: the views of the portfolio written for ``as_of`` from the same store (a job's portfolio step):
    its ``effort`` and ``forecast`` are the feed's, the very rows of its Allocation and Forecast sheets,
    instead of being worked out again. A store without issues is an
    :class:`~rollup.errors.EmptyStoreError` (exit 2).
    """
    from rollup.feed.tables import build_tables
    from rollup.jobs.lint import lint_store
    from rollup.jobs.report import read_mapped, read_snapshots
    from rollup.views import effort as effort_view
    from rollup.views import forecast as forecast_view

    data = mapped_store if mapped_store is not None else read_mapped(store, config)
    issues = data.issues
    if linted is None or linted.as_of != as_of:
        linted = lint_store(store, config, data, as_of=as_of)
    snapshots = read_snapshots(store)
    views = views or {}
    effort = views["effort"] if "effort" in views else effort_view.compute(issues, config, as_of=as_of)
    forecast = (views["forecast"] if "forecast" in views else
                forecast_view.compute(issues, config, as_of=as_of, snapshots=snapshots))
    return build_tables(issues, config, as_of=as_of, effort=effort, findings=linted.findings, snapshots=snapshots,
                        forecast=forecast)


def run_feed_export(store: Store, config: RollupConfig, *, out_dir: str | Path = DEFAULT_FEED_DIR,
                    as_of: date | None = None, now: datetime | None = None, to_store: bool = True,
                    mapped_store: MappedStore | None = None, linted: LintResult | None = None,
                    views: dict[str, pd.DataFrame] | None = None) -> FeedResult:
    """Write the feed into ``out_dir`` (replaced whole) and, with ``to_store``, into the store's ``feed_*`` tables.

    Bad input — an ``out_dir`` that cannot be written or holds other files, a store without issues — raises
    :class:`~rollup.errors.ConfigError` before anything is written. The files are staged, the store is
    refreshed in one transaction, then the folder is swapped in: nothing is half-written, in either place.
    """
    from rollup.feed.tables import notes, row_counts
    from rollup.store.feed import replace_feed
    from rollup.writers.feed import write_feed

    folder = Path(out_dir)
    check_out_dir(folder)
    as_of = as_of or date.today()
    exported = (now or datetime.now(timezone.utc)).astimezone(timezone.utc)
    tables = feed_tables(store, config, as_of=as_of, mapped_store=mapped_store, linted=linted, views=views)
    synced = last_ok_finished(store.sync_run_rows())
    empty = notes(tables)
    manifest = {"as_of": as_of.isoformat(), "exported_at": exported.isoformat(timespec="seconds"),
                "data_as_of": synced.isoformat(timespec="seconds") if synced else None,
                "views": [t.view for t in TABLES] if to_store else []}
    paths = write_feed(tables, folder, manifest=manifest, notes=empty,
                       before_swap=(lambda: replace_feed(store, tables)) if to_store else None)
    return FeedResult(folder=folder, as_of=as_of, paths=paths, rows=row_counts(tables), notes=empty,
                      views=[t.view for t in TABLES] if to_store else [], store=store.location, data_as_of=synced)
