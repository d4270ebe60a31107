"""docs/feed.md documents the feed the code writes: its dictionary tables are the code's data dictionary, row
for row, and it names every table's files and view."""

from __future__ import annotations

import re

from feed_helpers import ROOT

from rollup.feed.dictionary import TABLES, dictionary_rows

DOC = (ROOT / "docs" / "feed.md").read_text(encoding="utf-8")
ROW = re.compile(r"^\| (\w+) \| `(\w+)` \| (\w+) \| (.+?) \| (.+?) \|$")


def documented_rows() -> list[dict[str, str]]:
    rows = []
    for line in DOC.splitlines():
        match = ROW.match(line)
        if match:
            rows.append(dict(zip(("table", "column", "type", "meaning", "source"), match.groups())))
    return rows


def test_the_docs_dictionary_is_the_codes_row_for_row():
    documented = documented_rows()
    assert len(documented) > 100  # the pattern reads the tables (an empty match would pass trivially)
    assert documented == dictionary_rows()


def test_the_docs_name_every_tables_files_and_view():
    for feed in TABLES:
        assert f"`{feed.name}.csv`, `{feed.name}.parquet`" in DOC
        assert f"`{feed.view}`" in DOC and f"`{feed.store_table}`" in DOC


def test_the_readme_points_to_the_feed_docs():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "`docs/feed.md`" in readme and "`rollup export" in readme.split("## Command reference", 1)[1]
