"""The feed's data dictionary: every table, every column, its type, what it means and where it comes from.

One :class:`FeedTable` per table, in :data:`TABLES` (the order the files, the store and ``docs/feed.md``
list them in), each with its :class:`FeedColumn` records in their stable order. Everything else is built
from these records: the frames' dtypes (:mod:`rollup.feed.tables`), the Parquet schema
(:mod:`rollup.writers.feed`), the store's ``feed_*`` tables and ``rollup_*`` views
(:mod:`rollup.store.schema_feed`), ``dictionary.csv`` and the dictionary table of ``docs/feed.md`` (a test
compares the two).

Column types, one per column, the same in every form the feed takes:

=============  ======================  =====================  ==========================================
type           pandas                  Parquet                CSV / SQL
=============  ======================  =====================  ==========================================
``string``     ``string``              ``string``             text; empty = null / ``TEXT``
``integer``    ``Int64``               ``int64``              digits / ``BIGINT``
``number``     ``Float64``             ``double``             decimal / ``FLOAT`` (double precision)
``boolean``    ``boolean``             ``bool``               ``true`` / ``false`` / ``BOOLEAN``
``date``       ``date32[pyarrow]``     ``date32``             ``2026-11-23`` / ``DATE``
``timestamp``  ``datetime64[us, UTC]`` ``timestamp[us, UTC]`` ``2026-11-23T09:00:00.000000Z`` / UTC
                                                              timestamp (``TIMESTAMP WITH TIME ZONE`` on
                                                              PostgreSQL, ISO text on SQLite)
=============  ======================  =====================  ==========================================

Only the standard library is imported: the store imports this module for its table definitions.
"""

from __future__ import annotations

from dataclasses import dataclass

#: The column types a feed column may have (see the module docstring).
TYPES = ("string", "integer", "number", "boolean", "date", "timestamp")

#: Where the dictionary's columns come from, in words (the ``source`` column uses these openings).
JIRA = "Jira"
STORE = "store"
MAPPING = "mapping"
COMPUTED = "computed"


@dataclass(frozen=True)
class FeedColumn:
    """One column of a feed table: its name, type (one of :data:`TYPES`), meaning and source."""

    name: str
    type: str
    meaning: str
    source: str

    def __post_init__(self) -> None:
        if self.type not in TYPES:  # a mistake in this file, caught at import
            raise ValueError(f"feed column {self.name!r}: unknown type {self.type!r}; use one of {', '.join(TYPES)}")


@dataclass(frozen=True)
class FeedTable:
    """One table of the feed: its name, what one row is, the columns that identify a row, its columns."""

    name: str
    row: str
    key: tuple[str, ...]
    columns: tuple[FeedColumn, ...]

    @property
    def column_names(self) -> list[str]:
        """The column names, in order."""
        return [c.name for c in self.columns]

    @property
    def file_stem(self) -> str:
        """The files' name without suffix: ``issues`` → ``issues.csv`` and ``issues.parquet``."""
        return self.name

    @property
    def store_table(self) -> str:
        """The store's table that holds the last export's rows: ``feed_<name>``."""
        return f"feed_{self.name}"

    @property
    def view(self) -> str:
        """The store's stable view over it, for BI tools: ``rollup_<name>``."""
        return f"rollup_{self.name}"


def _c(name: str, type: str, meaning: str, source: str) -> FeedColumn:
    return FeedColumn(name, type, meaning, source)


_SITE = _c("site", "string", "The Jira site the issue was read from (a name under sites: in mappings.yaml); null in a "
                             "store of one site", f"{STORE}: issues.site")

ISSUES = FeedTable("issues", "one stored issue (deleted issues left out)", ("key",), (
    _c("key", "string", "Issue key, e.g. PAY-12 (dc:PAY-12 for a later site)", f"{JIRA}: key"),
    _c("id", "integer", "Issue id (a later site's ids are offset by its slot × 10¹²)", f"{JIRA}: id"),
    _SITE,
    _c("project_key", "string", "Project key", f"{JIRA}: project"),
    _c("issue_type", "string", "Issue type name (Epic, Story, Bug, Sub-task, Initiative …)", f"{JIRA}: issuetype"),
    _c("hierarchy_level", "integer", "-1 sub-task, 0 story / task / bug, 1 epic, 2 and above initiative",
       f"{JIRA}: issuetype.hierarchyLevel"),
    _c("parent_key", "string", "Key of the direct parent", f"{JIRA}: parent (Parent Link on Data Center)"),
    _c("epic_key", "string", "Key of the epic a story-level issue names", f"{JIRA}: parent / Epic Link"),
    _c("epic", "string", "Key of the epic the issue rolls up to (its own key for an epic; a sub-task through its "
                         "parent)", f"{MAPPING}: hierarchy"),
    _c("initiative", "string", "Key of the initiative above the epic (its own key for an initiative)",
       f"{MAPPING}: hierarchy"),
    _c("summary", "string", "Summary", f"{JIRA}: summary"),
    _c("status", "string", "Status name", f"{JIRA}: status"),
    _c("status_category", "string", "Status category: new, indeterminate or done", f"{JIRA}: status.statusCategory"),
    _c("assignee_id", "string", "Assignee's account id (user key on Data Center)", f"{JIRA}: assignee"),
    _c("assignee_name", "string", "Assignee's display name", f"{JIRA}: assignee"),
    _c("team", "string", "The Team field as Jira holds it", f"{JIRA}: Team field"),
    _c("team_id", "string", "Mapped team id (null when unmapped)", f"{MAPPING}: rules, teams.recognised_by, "
                                                                   "inheritance"),
    _c("pillar", "string", "Mapped strategic pillar id (null when unmapped)", f"{MAPPING}: rules, inheritance"),
    _c("okr", "string", "Mapped OKR id (null when unmapped)", f"{MAPPING}: rules, inheritance"),
    _c("key_result", "string", "Mapped key result id (null when unmapped)", f"{MAPPING}: rules, inheritance"),
    _c("bucket", "string", "Mapped allocation bucket id (null when unmapped)", f"{MAPPING}: rules, inheritance"),
    _c("sprint", "string", "Name of the current sprint", f"{JIRA}: Sprint field"),
    _c("story_points", "number", "Story points as entered (points below 0 or above report.max_story_points are "
                                 "kept here and left out of every sum)", f"{JIRA}: Story Points field"),
    _c("created", "timestamp", "When the issue was created (UTC)", f"{JIRA}: created"),
    _c("updated", "timestamp", "When the issue last changed (UTC)", f"{JIRA}: updated"),
    _c("resolved", "timestamp", "When the issue was resolved (UTC); null while open", f"{JIRA}: resolutiondate"),
    _c("start_date", "date", "Planned start", f"{JIRA}: Start date field"),
    _c("target_date", "date", "Target date", f"{JIRA}: Target end field, else due date"),
    _c("due_date", "date", "Due date", f"{JIRA}: duedate"),
))

EPICS = FeedTable("epics", "one stored epic, with its mapping and the rule or issue behind each mapped value",
                  ("key",), (
    _c("key", "string", "Epic key", f"{JIRA}: key"),
    _c("id", "integer", "Epic id", f"{JIRA}: id"),
    _SITE,
    _c("summary", "string", "Summary", f"{JIRA}: summary"),
    _c("status", "string", "Status name", f"{JIRA}: status"),
    _c("status_category", "string", "Status category: new, indeterminate or done", f"{JIRA}: status.statusCategory"),
    _c("owner", "string", "The epic's assignee (display name)", f"{JIRA}: assignee"),
    _c("initiative", "string", "Key of the initiative above the epic", f"{MAPPING}: hierarchy"),
    _c("initiative_summary", "string", "That initiative's summary", f"{JIRA}: summary of the initiative"),
    _c("pillar", "string", "Strategic pillar id (null when unmapped)", f"{MAPPING}: rules, inheritance"),
    _c("pillar_name", "string", "The pillar's name", "mappings.yaml: pillars"),
    _c("pillar_source", "string", "Provenance: rule ID (mappings.yaml:LINE), inherited from KEY, or unmapped",
       f"{MAPPING}: provenance"),
    _c("okr", "string", "OKR id (null when unmapped)", f"{MAPPING}: rules, inheritance"),
    _c("objective", "string", "The OKR's objective", "mappings.yaml: okrs"),
    _c("okr_quarter", "string", "The OKR's quarter, e.g. 2026-Q4", "mappings.yaml: okrs"),
    _c("okr_source", "string", "Provenance of okr", f"{MAPPING}: provenance"),
    _c("key_result", "string", "Key result id (null when unmapped)", f"{MAPPING}: rules, inheritance"),
    _c("key_result_name", "string", "The key result's name", "mappings.yaml: okrs.key_results"),
    _c("key_result_source", "string", "Provenance of key_result", f"{MAPPING}: provenance"),
    _c("bucket", "string", "Allocation bucket id (null when unmapped)", f"{MAPPING}: rules, inheritance"),
    _c("bucket_name", "string", "The bucket's name", "mappings.yaml: buckets"),
    _c("treatment", "string", "The bucket's accounting treatment: capex or opex", "mappings.yaml: buckets.treatment"),
    _c("bucket_source", "string", "Provenance of bucket", f"{MAPPING}: provenance"),
    _c("team_id", "string", "Team id (null when unmapped)", f"{MAPPING}: rules, teams.recognised_by, inheritance"),
    _c("team_name", "string", "The team's name", "mappings.yaml: teams"),
    _c("team_id_source", "string", "Provenance of team_id", f"{MAPPING}: provenance"),
    _c("story_points", "number", "Story points on the epic itself, as entered", f"{JIRA}: Story Points field"),
    _c("created", "timestamp", "When the epic was created (UTC)", f"{JIRA}: created"),
    _c("updated", "timestamp", "When the epic last changed (UTC)", f"{JIRA}: updated"),
    _c("resolved", "timestamp", "When the epic was resolved (UTC); null while open", f"{JIRA}: resolutiondate"),
    _c("start_date", "date", "Planned start", f"{JIRA}: Start date field"),
    _c("target_date", "date", "Target date", f"{JIRA}: Target end field, else due date"),
))

ALLOCATION = FeedTable(
    "allocation", "the effort of one month × team × pillar × bucket (completed story-level issues, counted in the "
                  "month they were resolved, up to the as-of date)",
    ("month", "team_id", "pillar", "bucket"), (
        _c("month", "string", "The month, YYYY-MM", f"{COMPUTED}: allocation view (resolved date)"),
        _c("month_start", "date", "First day of the month", f"{COMPUTED}: allocation view"),
        _c("team_id", "string", "Mapped team id; Unmapped for issues without a team",
           f"{MAPPING}: team_id of the issue"),
        _c("team_name", "string", "The team's name (Unmapped)", "mappings.yaml: teams"),
        _c("pillar", "string", "Pillar id; Unmapped for issues without a pillar", f"{MAPPING}: pillar of the issue"),
        _c("pillar_name", "string", "The pillar's name (Unmapped)", "mappings.yaml: pillars"),
        _c("bucket", "string", "Bucket id; Unmapped for issues without a bucket", f"{MAPPING}: bucket of the issue"),
        _c("bucket_name", "string", "The bucket's name (Unmapped)", "mappings.yaml: buckets"),
        _c("treatment", "string", "The bucket's accounting treatment: capex or opex (null for Unmapped)",
           "mappings.yaml: buckets.treatment"),
        _c("issues", "integer", "Completed story-level issues counted", f"{COMPUTED}: effort view"),
        _c("effort", "number", "Effort in unit: the portfolio workbook's Allocation sheet summed over teams",
           f"{COMPUTED}: effort and allocation views"),
        _c("unit", "string", "story points (unestimated issues count as the median estimate) or issues",
           f"{COMPUTED}: effort view"),
        _c("share", "number", "effort ÷ all effort of the month (the rows of a month sum to 1)",
           f"{COMPUTED}: allocation view"),
    ))

LINT_FINDINGS = FeedTable(
    "lint_findings", "one lint finding: an epic (or a missing epic) × a rule that fired and is not ignored",
    ("as_of", "key", "rule"), (
        _c("as_of", "date", "The date the lint ran as of", f"{COMPUTED}: lint run"),
        _c("key", "string", "The epic's key", f"{JIRA}: key"),
        _c("issue_id", "integer", "The epic's id (null for a key issues link to that the store does not hold)",
           f"{JIRA}: id"),
        _c("summary", "string", "The epic's summary", f"{JIRA}: summary"),
        _c("team_id", "string", "Mapped team id (null when unmapped)", f"{MAPPING}: team_id"),
        _c("team", "string", "The team's name (Unassigned when unmapped)", "mappings.yaml: teams"),
        _c("owner", "string", "The epic's owner (assignee display name)", f"{JIRA}: assignee"),
        _c("owner_id", "string", "The owner's account id", f"{JIRA}: assignee"),
        _c("rule", "string", "Rule code, e.g. EQ001 (docs/lint-rules.md)", "lint: rule registry"),
        _c("rule_name", "string", "Rule name, e.g. epic-missing-pillar", "lint: rule registry"),
        _c("rule_group", "string", "The rule's first group", "lint: rule registry"),
        _c("severity", "string", "error, warning or info (after the lint: section's overrides)",
           "lint: rule registry, mappings.yaml lint:"),
        _c("message", "string", "What is wrong with this epic, in words", "lint: rule"),
        _c("how_to_fix", "string", "How to fix it", "lint: rule"),
        _c("link", "string", "Link to the epic in Jira", f"{COMPUTED}: site URL + key"),
    ))

SNAPSHOTS = FeedTable(
    "snapshots", "one epic in one stored weekly snapshot (the portfolio report's epic rollup of that week)",
    ("week", "key"), (
        _c("week", "string", "ISO week of the report's as-of date, e.g. 2026-W48", f"{STORE}: snapshots.week"),
        _c("as_of", "date", "The report's as-of date", f"{STORE}: snapshots.as_of"),
        _c("taken_at", "timestamp", "When the snapshot was stored (UTC)", f"{STORE}: snapshots.taken_at"),
        _c("run_id", "integer", "The sync run whose data it holds", f"{STORE}: snapshots.run_id"),
        _c("issue_id", "integer", "The epic's id", f"{STORE}: snapshots.issue_id"),
        _c("key", "string", "The epic's key", f"{STORE}: snapshots.key"),
        _c("summary", "string", "Its summary that week", f"{STORE}: snapshot payload"),
        _c("status", "string", "Its status that week", f"{STORE}: snapshot payload"),
        _c("status_category", "string", "Its status category that week", f"{STORE}: snapshot payload"),
        _c("pillar", "string", "Its pillar that week (null when unmapped)", f"{STORE}: snapshot payload"),
        _c("okr", "string", "Its OKR that week", f"{STORE}: snapshot payload"),
        _c("key_result", "string", "Its key result that week", f"{STORE}: snapshot payload"),
        _c("bucket", "string", "Its bucket that week (null when unmapped)", f"{STORE}: snapshot payload"),
        _c("team_id", "string", "Its team that week", f"{STORE}: snapshot payload"),
        _c("children", "integer", "Story-level issues under it", f"{STORE}: snapshot payload (epics view)"),
        _c("children_done", "integer", "Of those, done", f"{STORE}: snapshot payload (epics view)"),
        _c("points_total", "number", "Story points of its children", f"{STORE}: snapshot payload (epics view)"),
        _c("points_done", "number", "Story points of its done children", f"{STORE}: snapshot payload (epics view)"),
        _c("size", "number", "points_total when estimated, else children", f"{STORE}: snapshot payload (epics view)"),
        _c("progress", "number", "Done share, 0 to 1", f"{STORE}: snapshot payload (epics view)"),
        _c("rag", "string", "done, on track, at risk, off track or not rated", f"{STORE}: snapshot payload "
                                                                                "(epics view)"),
        _c("hygiene_ok", "boolean", "No lint finding at or above report.hygiene_min_severity that week (null "
                                    "without a lint run)", f"{STORE}: snapshot payload (epics view)"),
        _c("target_date", "date", "Its target date that week", f"{STORE}: snapshot payload"),
        _c("projected_completion", "date", "Linear projection: as-of + remaining ÷ recent throughput",
           f"{STORE}: snapshot payload (epics view)"),
        _c("p50", "date", "The forecast's P50 date that week", f"{STORE}: snapshot payload (forecast view)"),
        _c("p85", "date", "The forecast's P85 date that week", f"{STORE}: snapshot payload (forecast view)"),
        _c("chance", "number", "The forecast's chance of making the target date that week",
           f"{STORE}: snapshot payload (forecast view)"),
        _c("forecast_items", "number", "Items left as the forecast counted them", f"{STORE}: snapshot payload "
                                                                                  "(forecast view)"),
        _c("team_per_week", "number", "Its team's items finished per week", f"{STORE}: snapshot payload "
                                                                            "(forecast view)"),
    ))

FORECASTS = FeedTable(
    "forecasts", "one forecast row as of the export's date: a team (its inputs), an initiative, a key result or "
                 "an open epic (the portfolio workbook's Forecast sheet)",
    ("level", "key", "name"), (
        _c("as_of", "date", "The date the forecast is made as of", f"{COMPUTED}: forecast view"),
        _c("level", "string", "team, initiative, key result or epic", f"{COMPUTED}: forecast view"),
        _c("key", "string", "The epic's or initiative's key (null for a team or a key result)",
           f"{COMPUTED}: forecast view"),
        _c("name", "string", "Its summary, the key result's name or the team's name", f"{COMPUTED}: forecast view"),
        _c("team", "string", "The team's name (epics and teams)", f"{COMPUTED}: forecast view"),
        _c("target_date", "date", "The epic's or initiative's target date", f"{JIRA}: Target end field"),
        _c("p50", "date", "Date by which 50 % of the Monte Carlo trials are done", f"{COMPUTED}: forecast view"),
        _c("p85", "date", "Date by which 85 % of the trials are done", f"{COMPUTED}: forecast view"),
        _c("p95", "date", "Date by which 95 % of the trials are done", f"{COMPUTED}: forecast view"),
        _c("chance", "number", "Share of trials done by the target date", f"{COMPUTED}: forecast view"),
        _c("remaining", "number", "Items left (epic), or the sum over the team's open epics (team)",
           f"{COMPUTED}: forecast view"),
        _c("allowance", "number", "Items added to an epic not broken down yet", f"{COMPUTED}: forecast view"),
        _c("growth", "number", "Items added by the team's split rate", f"{COMPUTED}: forecast view"),
        _c("wip", "number", "Epics the team works on at once", f"{COMPUTED}: forecast view"),
        _c("per_week", "number", "The team's mean items finished per week", f"{COMPUTED}: forecast view"),
        _c("split_rate", "number", "Team: children added after an epic started ÷ children by then",
           f"{COMPUTED}: forecast view"),
        _c("epics", "integer", "Team: open epics forecast; initiative / key result: epics under it",
           f"{COMPUTED}: forecast view"),
        _c("note", "string", "Why there is no date, where the WIP came from, or null", f"{COMPUTED}: forecast view"),
        _c("p85_last_week", "date", "The epic's P85 in last week's snapshot", f"{STORE}: snapshot payload"),
        _c("p85_move_days", "number", "This week's P85 − last week's, in days (later is positive)",
           f"{COMPUTED}: forecast view"),
        _c("cause", "string", "The main cause of a move of a week or more, or null", f"{COMPUTED}: forecast view"),
    ))

#: Every table of the feed, in the order it is written and documented.
TABLES: tuple[FeedTable, ...] = (ISSUES, EPICS, ALLOCATION, LINT_FINDINGS, SNAPSHOTS, FORECASTS)

#: Table name → table.
BY_NAME: dict[str, FeedTable] = {t.name: t for t in TABLES}

#: The columns of ``dictionary.csv`` (and of the dictionary table in docs/feed.md).
DICTIONARY_COLUMNS = ("table", "column", "type", "meaning", "source")


def table(name: str) -> FeedTable:
    """The feed table called ``name``."""
    return BY_NAME[name]


def dictionary_rows() -> list[dict[str, str]]:
    """One row per (table, column), in the feed's order: table, column, type, meaning, source."""
    return [{"table": t.name, "column": c.name, "type": c.type, "meaning": c.meaning, "source": c.source}
            for t in TABLES for c in t.columns]


def _check() -> None:
    for t in TABLES:
        names = t.column_names
        if len(set(names)) != len(names) or not set(t.key) <= set(names):
            raise ValueError(f"feed table {t.name!r}: a column is declared twice, or a key column is not declared")


_check()
