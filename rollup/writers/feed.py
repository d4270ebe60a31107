"""The BI feed's files: each table as CSV and Parquet, the data dictionary, and ``feed.json``, as one set.

Everything goes into one folder (``outputs/feed`` by default): ``<table>.csv`` and ``<table>.parquet``
for every table of :data:`rollup.feed.dictionary.TABLES`, ``dictionary.csv`` (one row per table × column:
``table, column, type, meaning, source``) and ``feed.json`` (when the export ran, the as-of date, the rows,
files and SHA-256 of each table, and why an empty table is empty). The files are written into a hidden
temporary folder beside it and the folder is swapped in whole (:func:`rollup.writers.safe.atomic_dir`), so
a reader sees the previous set or the new one, never a mix.

The Parquet files carry the dictionary's types (``date32`` dates, ``timestamp[us, UTC]`` times, ``int64``,
``double``, ``bool``, ``string``). The CSV files are UTF-8, comma-separated, with a header row and no index
column: dates ``2026-11-23``, times ``2026-11-23T09:00:00.000000Z`` (UTC), booleans ``true`` / ``false``,
numbers as Python writes them (every digit needed to read back the same value), and null as an empty
field. Text is written as it is in Jira — the same values as the Parquet files and the store's views —
so a BI tool's CSV import reads it as text; a spreadsheet opened on the file directly may read a value
starting with ``=`` as a formula (open the Parquet, or import the CSV, instead).
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from rollup.feed.dictionary import DICTIONARY_COLUMNS, TABLES, FeedTable, dictionary_rows
from rollup.writers.safe import atomic_dir

#: The Parquet type of each column type.
ARROW_TYPES: dict[str, pa.DataType] = {
    "string": pa.string(), "integer": pa.int64(), "number": pa.float64(), "boolean": pa.bool_(),
    "date": pa.date32(), "timestamp": pa.timestamp("us", tz="UTC"),
}

#: The data dictionary's file, and the export's own record, beside the tables.
DICTIONARY_FILE = "dictionary.csv"
MANIFEST_FILE = "feed.json"


def arrow_schema(feed: FeedTable) -> pa.Schema:
    """The Parquet schema of a feed table, from the dictionary."""
    return pa.schema([pa.field(c.name, ARROW_TYPES[c.type]) for c in feed.columns])


def parquet_bytes(frame: pd.DataFrame, feed: FeedTable) -> bytes:
    """A conformed frame as Parquet (no index column; the pandas metadata keeps each column's dtype)."""
    buffer = io.BytesIO()
    pq.write_table(pa.Table.from_pandas(frame, schema=arrow_schema(feed), preserve_index=False), buffer)
    return buffer.getvalue()


def csv_bytes(frame: pd.DataFrame, feed: FeedTable) -> bytes:
    """A conformed frame as CSV (see the module docstring for how each type is written)."""
    columns = [_csv_values(frame[c.name], c.type) for c in feed.columns]
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(feed.column_names)
    writer.writerows(zip(*columns))
    return buffer.getvalue().encode("utf-8")


def _csv_values(values: pd.Series, kind: str) -> list[str]:
    present = values.notna().to_numpy()
    items = values.astype("object").tolist()
    if kind == "boolean":
        shown = [("true" if v else "false") if ok else "" for v, ok in zip(items, present)]
    elif kind == "number":
        shown = [repr(float(v)) if ok else "" for v, ok in zip(items, present)]
    elif kind == "integer":
        shown = [str(int(v)) if ok else "" for v, ok in zip(items, present)]
    elif kind == "date":
        shown = [v.isoformat() if ok else "" for v, ok in zip(items, present)]
    elif kind == "timestamp":
        shown = [v.strftime("%Y-%m-%dT%H:%M:%S.%fZ") if ok else "" for v, ok in zip(items, present)]
    else:
        shown = [str(v) if ok else "" for v, ok in zip(items, present)]
    return [s if ok else "" for s, ok in zip(shown, present)]


def dictionary_bytes() -> bytes:
    """``dictionary.csv``: one row per table × column."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(DICTIONARY_COLUMNS), lineterminator="\n")
    writer.writeheader()
    writer.writerows(dictionary_rows())
    return buffer.getvalue().encode("utf-8")


def write_feed(tables: Mapping[str, pd.DataFrame], folder: str | Path, *, manifest: dict[str, Any],
               notes: Mapping[str, str] | None = None, before_swap: Callable[[], object] | None = None) -> list[Path]:
    """Write every table as CSV and Parquet, the dictionary and ``feed.json`` into ``folder``, as one set.

    ``manifest``: what ``feed.json`` says besides the tables (the as-of date, when it ran); each table's rows,
    files and their SHA-256 are added, and ``notes`` — why a table is empty — beside the empty ones.
    ``before_swap`` runs once every file is staged and before the set is swapped in (the store's refresh): if
    it raises, nothing changes in ``folder``. Returns every file written, table by table (CSV, then Parquet),
    then the dictionary and ``feed.json``.
    """
    final = Path(folder)
    names: list[str] = []
    files: dict[str, dict[str, Any]] = {}
    with atomic_dir(final) as staging:
        for feed in TABLES:
            frame = tables[feed.name]
            entry: dict[str, Any] = {"rows": int(len(frame)), "files": {}}
            for name, data in ((f"{feed.file_stem}.csv", csv_bytes(frame, feed)),
                               (f"{feed.file_stem}.parquet", parquet_bytes(frame, feed))):
                (staging / name).write_bytes(data)
                entry["files"][name] = hashlib.sha256(data).hexdigest()
                names.append(name)
            files[feed.name] = entry
        (staging / DICTIONARY_FILE).write_bytes(dictionary_bytes())
        names.append(DICTIONARY_FILE)
        notes = notes or {}
        record = {**manifest, "dictionary": DICTIONARY_FILE,
                  "tables": {name: {**entry, **({"note": notes[name]} if name in notes else {})}
                             for name, entry in files.items()}}
        (staging / MANIFEST_FILE).write_text(json.dumps(record, indent=2, sort_keys=True) + "\n", encoding="utf-8")
        names.append(MANIFEST_FILE)
        if before_swap is not None:
            before_swap()
    return [final / n for n in names]


def is_feed_folder(folder: Path) -> bool:
    """True when ``folder`` holds an earlier feed (its ``feed.json``): a folder an export may replace."""
    return (folder / MANIFEST_FILE).is_file()
