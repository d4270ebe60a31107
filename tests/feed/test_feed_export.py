"""`rollup export` over the demo's store: the files read back equal the frames they came from, the dictionary
describes exactly what was written, the store's views hold the same rows on SQLite and PostgreSQL, the
allocation is the portfolio workbook's, bad input writes nothing, and a re-export replaces the set whole."""

from __future__ import annotations

import csv
import json
from datetime import date
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner
from feed_helpers import AS_OF, CONFIG, ROOT
from openpyxl import load_workbook
from sheets import table
from sqlalchemy import text

import rollup.store.feed as store_feed
from rollup.cli import cli
from rollup.feed.dictionary import TABLES
from rollup.feed.dictionary import table as feed_table
from rollup.jobs.feed import feed_tables, run_feed_export
from rollup.store import Store
from rollup.store.feed import read_view
from rollup.writers.safe import TEMP_NAME

FILES = sorted([f"{t.name}.{ext}" for t in TABLES for ext in ("csv", "parquet")] + ["dictionary.csv", "feed.json"])


def export(url: str, out: Path, *extra: str):
    return CliRunner().invoke(cli, ["export", "--config", str(ROOT / "mappings.yaml"), "--database", url,
                                    "--out", str(out), "--as-of", AS_OF.isoformat(), *extra])


# ---------------------------------------------------------------------------------------- reading the files


def read_csv(path: Path, name: str) -> pd.DataFrame:
    """A feed CSV read with pandas, each column given its dictionary type by hand: every value read as text
    first (an empty field is null), then parsed the one way the feed writes that type."""
    raw = pd.read_csv(path, dtype=str, keep_default_na=False, na_values=[""])
    out = {}
    for column in feed_table(name).columns:
        values = raw[column.name]
        text_values = [v if isinstance(v, str) else None for v in values]
        if column.type == "string":
            out[column.name] = pd.Series(text_values, dtype="string")
        elif column.type == "integer":
            out[column.name] = pd.Series([None if v is None else int(v) for v in text_values], dtype="Int64")
        elif column.type == "number":
            out[column.name] = pd.Series([None if v is None else float(v) for v in text_values], dtype="Float64")
        elif column.type == "boolean":
            out[column.name] = pd.Series([None if v is None else {"true": True, "false": False}[v]
                                          for v in text_values], dtype="boolean")
        elif column.type == "date":
            days = [None if v is None else date.fromisoformat(v) for v in text_values]
            out[column.name] = pd.Series(pd.array(days, dtype=pd.ArrowDtype(pa.date32())))
        elif column.type == "timestamp":
            assert all(v is None or v.endswith("Z") for v in text_values), f"{name}.{column.name}: not UTC ISO"
            out[column.name] = pd.to_datetime(pd.Series(text_values, dtype="object"), utc=True,
                                              format="ISO8601").astype("datetime64[us, UTC]")
        else:  # pragma: no cover - the dictionary refuses other types
            raise AssertionError(column.type)
    return pd.DataFrame(out, columns=list(raw.columns))


def sorted_rows(frame: pd.DataFrame, name: str) -> pd.DataFrame:
    """The rows in one order whatever order they were read in (a view has none of its own)."""
    columns = feed_table(name).column_names
    keys = frame[columns].astype("string").fillna("\x00")
    return frame.loc[keys.sort_values(columns, kind="stable").index].reset_index(drop=True)


# ---------------------------------------------------------------------------------------- the files


def test_csv_and_parquet_read_back_equal_the_frames_they_came_from(synced_url, tmp_path):
    with Store.open(synced_url) as store:
        frames = feed_tables(store, CONFIG, as_of=AS_OF)
        result = run_feed_export(store, CONFIG, out_dir=tmp_path / "feed", as_of=AS_OF)
    # The sample organisation has something in every table: an empty frame would compare equal too easily.
    assert all(len(frames[t.name]) for t in TABLES), {name: len(f) for name, f in frames.items()}
    assert result.rows == {name: len(frame) for name, frame in frames.items()}
    assert sorted(p.name for p in (tmp_path / "feed").iterdir()) == FILES
    for feed in TABLES:
        frame = frames[feed.name]
        parquet = pd.read_parquet(tmp_path / "feed" / f"{feed.name}.parquet")
        pd.testing.assert_frame_equal(parquet, frame, check_exact=True)
        pd.testing.assert_frame_equal(read_csv(tmp_path / "feed" / f"{feed.name}.csv", feed.name), frame,
                                      check_exact=True)
        assert list(frame.columns) == feed.column_names and isinstance(frame.index, pd.RangeIndex)


def test_each_column_has_one_type_in_every_file(synced_url, tmp_path):
    with Store.open(synced_url) as store:
        run_feed_export(store, CONFIG, out_dir=tmp_path / "feed", as_of=AS_OF)
    arrow = {"string": pa.string(), "integer": pa.int64(), "number": pa.float64(), "boolean": pa.bool_(),
             "date": pa.date32(), "timestamp": pa.timestamp("us", tz="UTC")}
    for feed in TABLES:
        schema = pq.read_schema(tmp_path / "feed" / f"{feed.name}.parquet")
        assert [(f.name, f.type) for f in schema] == [(c.name, arrow[c.type]) for c in feed.columns]
        with open(tmp_path / "feed" / f"{feed.name}.csv", newline="", encoding="utf-8") as handle:
            rows = list(csv.reader(handle))
        assert rows[0] == feed.column_names  # no index column, the dictionary's order
        for position, column in enumerate(feed.columns):
            values = {row[position] for row in rows[1:]} - {""}
            if column.type == "boolean":
                assert values <= {"true", "false"}, (feed.name, column.name)
            if column.type == "date":
                assert all(len(v) == 10 and date.fromisoformat(v) for v in values), (feed.name, column.name)


def test_the_dictionary_covers_every_column_of_every_table_written_and_nothing_more(synced_url, tmp_path):
    with Store.open(synced_url) as store:
        run_feed_export(store, CONFIG, out_dir=tmp_path / "feed", as_of=AS_OF)
    folder = tmp_path / "feed"
    with open(folder / "dictionary.csv", newline="", encoding="utf-8") as handle:
        dictionary = list(csv.DictReader(handle))
    assert list(dictionary[0]) == ["table", "column", "type", "meaning", "source"]
    described = [(row["table"], row["column"]) for row in dictionary]
    assert len(described) == len(set(described))
    assert all(row["type"] and row["meaning"] and row["source"] for row in dictionary)
    written = set()
    for path in folder.glob("*.parquet"):
        written |= {(path.stem, name) for name in pq.read_schema(path).names}
    for path in folder.glob("*.csv"):
        if path.name != "dictionary.csv":
            with open(path, newline="", encoding="utf-8") as handle:
                written |= {(path.stem, name) for name in next(csv.reader(handle))}
    assert set(described) == written
    manifest = json.loads((folder / "feed.json").read_text())
    assert sorted(manifest["tables"]) == sorted({t for t, _ in described})


def test_the_allocation_is_the_portfolio_workbooks(synced_url, demo_synced, tmp_path):
    """Summed over teams, each month × pillar × bucket is the workbook's Allocation row: effort and share."""
    with Store.open(synced_url) as store:
        run_feed_export(store, CONFIG, out_dir=tmp_path / "feed", as_of=AS_OF)
    feed = pd.read_parquet(tmp_path / "feed" / "allocation.parquet")
    assert feed["team_id"].nunique() > 1
    ours = (feed.groupby(["month", "pillar_name", "bucket_name"])[["effort", "share"]].sum().astype(float)
            .sort_index())
    [workbook] = (demo_synced / "out").glob("portfolio-*.xlsx")
    rows = [r for r in table(load_workbook(workbook, read_only=True)["Allocation"]) if r["Period type"] == "month"]
    theirs = (pd.DataFrame({"month": [r["Period"] for r in rows], "pillar_name": [r["Pillar"] for r in rows],
                            "bucket_name": [r["Bucket"] for r in rows],
                            "effort": [float(r["Effort"]) for r in rows],
                            "share": [float(r["Share of period"]) for r in rows]})
              .set_index(["month", "pillar_name", "bucket_name"]).sort_index())
    assert len(theirs) > 10
    pd.testing.assert_frame_equal(ours, theirs, check_exact=False, rtol=1e-12, check_index_type=False)
    assert feed.groupby("month")["share"].sum().round(9).eq(1).all()


def test_json_output_names_every_file_and_its_rows(synced_url, tmp_path):
    result = export(synced_url, tmp_path / "feed", "--format", "json")
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    assert sorted(Path(p).name for p in payload["paths"]) == FILES
    for name, entry in payload["tables"].items():
        frame = pd.read_parquet(tmp_path / "feed" / f"{name}.parquet")
        assert entry["rows"] == len(frame)
        assert sorted(Path(p).name for p in entry["files"]) == [f"{name}.csv", f"{name}.parquet"]
    assert payload["views"] == [t.view for t in TABLES]
    text_run = export(synced_url, tmp_path / "feed")
    assert text_run.exit_code == 0, text_run.output
    for name, entry in payload["tables"].items():
        assert any(line.split()[:2] == [name, f"{entry['rows']:,}"] for line in text_run.stdout.splitlines())


# ---------------------------------------------------------------------------------------- the store's views


def test_the_views_return_the_same_rows_as_the_files(synced_database, tmp_path):
    with Store.open(synced_database) as store:
        result = run_feed_export(store, CONFIG, out_dir=tmp_path / "feed", as_of=AS_OF)
        for feed in TABLES:
            parquet = pd.read_parquet(tmp_path / "feed" / f"{feed.name}.parquet")
            from_csv = read_csv(tmp_path / "feed" / f"{feed.name}.csv", feed.name)
            view = read_view(store, feed.name)
            assert len(view) == result.rows[feed.name] > 0
            pd.testing.assert_frame_equal(sorted_rows(view, feed.name), sorted_rows(parquet, feed.name),
                                          check_exact=True)
            pd.testing.assert_frame_equal(sorted_rows(view, feed.name), sorted_rows(from_csv, feed.name),
                                          check_exact=True)
        # The example query of docs/feed.md, in plain SQL as a BI tool sends it, gives the files' figures.
        month = "2026-10"
        with store.connect() as conn:
            rows = conn.execute(text(example_query().replace("'2026-10'", ":month")), {"month": month}).all()
    allocation = pd.read_parquet(tmp_path / "feed" / "allocation.parquet")
    capex = allocation[(allocation["month"] == month) & (allocation["treatment"] == "capex")]
    expected = capex.groupby("pillar_name")["effort"].sum().astype(float).to_dict()
    assert expected and {name: float(effort) for name, effort, *_ in rows} == pytest.approx(expected)


def example_query() -> str:
    doc = (ROOT / "docs" / "feed.md").read_text()
    return doc.split("```sql\n", 1)[1].split("```", 1)[0]


def test_the_store_feed_is_replaced_in_one_transaction(synced_url, tmp_path, monkeypatch):
    """A refresh that fails part way (here: while writing its fourth table) leaves every feed table as it was,
    and the files of the earlier export too."""
    with Store.open(synced_url) as store:
        first = run_feed_export(store, CONFIG, out_dir=tmp_path / "feed", as_of=AS_OF)
        before = {t.name: read_view(store, t.name) for t in TABLES}
        files_before = {p.name: p.read_bytes() for p in (tmp_path / "feed").iterdir()}
        store.delete_issues(list(before["issues"]["id"].astype(int)[:50]))  # the next export differs
        real, seen = store_feed.records, []

        def failing(frame, feed):
            seen.append(feed.name)
            if len(seen) == 4:
                raise RuntimeError("disk full")
            return real(frame, feed)

        monkeypatch.setattr(store_feed, "records", failing)
        with pytest.raises(RuntimeError):
            run_feed_export(store, CONFIG, out_dir=tmp_path / "feed", as_of=AS_OF)
        assert len(seen) == 4
        for feed in TABLES:
            pd.testing.assert_frame_equal(read_view(store, feed.name), before[feed.name])
    assert {p.name: p.read_bytes() for p in (tmp_path / "feed").iterdir()} == files_before
    assert not [p for p in tmp_path.iterdir() if TEMP_NAME.match(p.name)]
    assert first.rows["issues"] == len(before["issues"])


def test_a_re_export_replaces_the_files_and_the_store_feed_whole(synced_url, tmp_path):
    folder = tmp_path / "feed"
    with Store.open(synced_url) as store:
        first = run_feed_export(store, CONFIG, out_dir=folder, as_of=AS_OF)
        gone = pd.read_parquet(folder / "issues.parquet")["id"].astype(int).tolist()[:50]
        store.delete_issues(gone)
        (folder / "issues.csv").write_text("a reader's edit\n")  # anything in the folder is replaced with the set
        second = run_feed_export(store, CONFIG, out_dir=folder, as_of=AS_OF)
        view = read_view(store, "issues")
    assert second.rows["issues"] == first.rows["issues"] - 50
    assert sorted(p.name for p in folder.iterdir()) == FILES
    issues = pd.read_parquet(folder / "issues.parquet")
    assert len(issues) == second.rows["issues"] and not set(gone) & set(issues["id"].astype(int))
    assert read_csv(folder / "issues.csv", "issues")["key"].tolist() == issues["key"].tolist()
    assert json.loads((folder / "feed.json").read_text())["tables"]["issues"]["rows"] == second.rows["issues"]
    assert len(view) == second.rows["issues"]
    assert not [p for p in tmp_path.rglob("*") if TEMP_NAME.match(p.name)]


# ---------------------------------------------------------------------------------------- bad input


def _feed_rows(url: str) -> int:
    with Store.open(url) as store, store.connect() as conn:
        return sum(conn.execute(text(f'SELECT count(*) FROM "{t.view}"')).scalar_one() for t in TABLES)


@pytest.mark.parametrize("case", ["unknown config", "empty store", "missing store", "out inside a file",
                                  "out holds other files", "out not writable"])
def test_bad_input_exits_2_with_a_message_and_writes_nothing(case, synced_url, tmp_path):
    out = tmp_path / "feed"
    args = ["export", "--config", str(ROOT / "mappings.yaml"), "--database", synced_url, "--out", str(out),
            "--as-of", AS_OF.isoformat(), "--format", "json"]
    names = {"unknown config": "nope.yaml", "empty store": "empty.db", "missing store": "missing.db"}
    if case == "unknown config":
        args[2] = str(tmp_path / "nope.yaml")
    elif case in ("empty store", "missing store"):
        if case == "empty store":
            Store.open(f"sqlite:///{tmp_path / 'empty.db'}").close()
        args[4] = f"sqlite:///{tmp_path / names[case]}"
    elif case == "out inside a file":
        (tmp_path / "file").write_text("x")
        args[6] = str(tmp_path / "file" / "feed")
    elif case == "out holds other files":
        out.mkdir()
        (out / "budget.xlsx").write_text("finance's own file")
    elif case == "out not writable":
        args[6] = "/proc/rollup-feed-test/feed"  # nothing can be made under /proc, whoever runs the test
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    message = result.stderr
    where = {"unknown config": "nope.yaml", "empty store": "empty.db", "missing store": "missing.db",
             "out inside a file": "file", "out holds other files": str(out), "out not writable": "/proc"}[case]
    assert where in message, message
    if case != "out inside a file":  # click refuses that option itself, before the command runs
        assert json.loads(result.stdout)["exit_code"] == 2
    if case == "out holds other files":
        assert sorted(p.name for p in out.iterdir()) == ["budget.xlsx"]
    else:
        assert not out.exists()
    assert not [p for p in tmp_path.rglob("*") if TEMP_NAME.match(p.name)]
    assert _feed_rows(synced_url) == 0  # the store's feed was not touched either
    assert not (tmp_path / "missing.db").exists()


def test_a_store_error_names_no_sql_and_no_row_values(synced_url, tmp_path, monkeypatch):
    from sqlalchemy.exc import IntegrityError

    def refuse(store, tables):
        raise IntegrityError("INSERT INTO feed_issues (key, summary) VALUES ('PAY-1', 'secret summary')",
                             {"summary": "secret summary"}, Exception("duplicate key value: secret summary"))

    monkeypatch.setattr("rollup.store.feed.replace_feed", refuse)
    result = export(synced_url, tmp_path / "feed")
    assert result.exit_code == 1
    assert "secret" not in result.output and "INSERT" not in result.output and "feed_issues" not in result.output
    assert not (tmp_path / "feed").exists()
