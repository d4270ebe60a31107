"""The BI feed's tables and views, owned by :mod:`rollup.store.feed` (which holds their queries).

One ``feed_<table>`` per table of the feed (:data:`rollup.feed.dictionary.TABLES`), its columns and
types those of the data dictionary, holding the rows of the last ``rollup export`` (replaced whole, in
one transaction). Over each a stable view ``rollup_<table>`` selects the documented columns in their
order: what a BI tool connects to. The views are created with their tables (on a new store by
``create_all``, on an older one by the migration to schema 6) and never dropped by a refresh, so a BI
tool's queries keep working from one export to the next.
"""

from __future__ import annotations

from sqlalchemy import DDL, BigInteger, Boolean, Column, Date, Float, Table, Text, event
from sqlalchemy.types import TypeEngine

from rollup.feed.dictionary import TABLES, FeedTable, table
from rollup.store.columns import UTCDateTime, metadata

#: The SQL type of each feed column type.
SQL_TYPES: dict[str, type[TypeEngine] | TypeEngine] = {
    "string": Text, "integer": BigInteger, "number": Float(precision=53), "boolean": Boolean, "date": Date,
    "timestamp": UTCDateTime,
}


def _columns(name: str) -> list[Column]:
    return [Column(c.name, SQL_TYPES[c.type]) for c in table(name).columns]


feed_issues = Table("feed_issues", metadata, *_columns("issues"))
feed_epics = Table("feed_epics", metadata, *_columns("epics"))
feed_allocation = Table("feed_allocation", metadata, *_columns("allocation"))
feed_lint_findings = Table("feed_lint_findings", metadata, *_columns("lint_findings"))
feed_snapshots = Table("feed_snapshots", metadata, *_columns("snapshots"))
feed_forecasts = Table("feed_forecasts", metadata, *_columns("forecasts"))

#: Feed table name → its store table.
FEED_TABLES: dict[str, Table] = {
    "issues": feed_issues, "epics": feed_epics, "allocation": feed_allocation,
    "lint_findings": feed_lint_findings, "snapshots": feed_snapshots, "forecasts": feed_forecasts,
}


def view_sql(feed: FeedTable, *, dialect: str) -> str:
    """``CREATE VIEW rollup_<table> AS SELECT <the documented columns> FROM feed_<table>`` for ``dialect``."""
    columns = ", ".join(f'"{c}"' for c in feed.column_names)
    create = "CREATE OR REPLACE VIEW" if dialect == "postgresql" else "CREATE VIEW IF NOT EXISTS"
    return f'{create} "{feed.view}" AS SELECT {columns} FROM "{feed.store_table}"'


def _attach_views() -> None:
    """Create each table's view right after the table is created (``create_all`` or ``Table.create``)."""
    for feed in TABLES:
        store_table = FEED_TABLES[feed.name]
        for dialect in ("sqlite", "postgresql"):
            event.listen(store_table, "after_create",
                         DDL(view_sql(feed, dialect=dialect)).execute_if(dialect=dialect))


_attach_views()
