"""Lint write-back: label the offending epics in Jira and keep one comment on each listing its problems.

``rollup lint --apply`` calls :func:`run_writeback`; without ``--apply`` the same call is a dry run that
reads Jira and reports what it would do. The contract:

* **Which epics count.** Those with a finding at or above ``lint.writeback.min_severity`` (findings
  silenced by an ignore are not findings). Every other epic is *clean* for write-back.
* **Fresh state.** Labels and comments are read from Jira at write-back time, never from the store: the
  epics with findings (by issue id), plus every issue that carries the label or one of our comments
  (``labels = "<label>" OR comment ~ "<marker>"``, within ``scope``) — that is how a fixed epic is found.
* **Label.** Added to each counted epic that lacks it; removed from every clean issue that has it.
* **Comment.** One per counted epic, recognised by its first line, which starts with :data:`MARKER` and
  ends with a digest of the rest. A missing comment is added; one whose digest differs is edited in
  place; an identical one is left alone; any further marked comments (e.g. from a retried request) are
  deleted. When the epic is clean its marked comments are **deleted** (not edited to "resolved"): the
  lint run history in the store keeps the record, and the epic's comment stream stays about the work.
* **Idempotent.** A second run with the same findings plans nothing but ``unchanged`` actions.
* **Failures stay local.** An error on one epic (a 500, a 404, no permission to edit it) marks that
  epic's actions ``failed`` with the error and the others go on; only a 401 (bad credentials) stops the
  run. Requests are paced under the site's rate limit by the connector's transport (429 ``Retry-After``
  and backoff; 5xx retried).

:func:`plan` is the pure part — findings plus the epics' current state in, actions out — so the rules
above are tested without HTTP.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, cast

import pandas as pd

from connectors.jira import JiraAuthError, JiraError, JiraHTTPError, JiraSettings
from connectors.jira.write import CommentBlocks, IssueComment, JiraWriter
from rollup.config.lint import WritebackOptions
from rollup.lint.result import SEVERITY_RANK, LintResult

#: The start of the first line of every write-back comment (also what the clean-up search looks for).
MARKER = "Epic quality check by rollup lint"
STATUSES = ("planned", "done", "failed", "unchanged")
#: Issue ids per ``id in (…)`` search.
ID_BATCH = 100
#: Epics read and written in parallel (the transport paces each endpoint on top of this).
WORKERS = 4

#: ``progress(event, n)``: ``"read"`` after each epic's state is read, ``"written"`` after each epic's writes.
Progress = Callable[[str, int], None]


@dataclass
class Action:
    """One change to one epic. ``status``: planned (dry run or not yet sent), done, failed, unchanged."""

    key: str
    action: str
    detail: str
    status: str = "planned"
    error: str | None = None
    issue_id: int | None = None
    comment_id: str | None = None
    blocks: CommentBlocks | None = field(default=None, repr=False)

    def to_dict(self) -> dict[str, Any]:
        """The action as JSON output shows it."""
        return {"key": self.key, "action": self.action, "detail": self.detail, "status": self.status,
                "error": self.error}


@dataclass(frozen=True)
class EpicState:
    """What Jira holds for one epic now: its labels and comments (``None`` when they could not be read)."""

    issue_id: int
    key: str
    labels: tuple[str, ...]
    comments: tuple[IssueComment, ...] | None = ()
    error: str | None = None


@dataclass
class WritebackReport:
    """The actions of one write-back, and whether they were applied."""

    actions: list[Action]
    applied: bool
    options: WritebackOptions
    epics: int = 0

    def _count(self, status: str) -> int:
        return sum(1 for a in self.actions if a.status == status)

    @property
    def changed(self) -> int:
        """Actions carried out."""
        return self._count("done")

    @property
    def failed(self) -> int:
        """Actions that failed (on Jira's side or because the epic could not be read)."""
        return self._count("failed")

    @property
    def planned(self) -> int:
        """Actions a dry run would carry out."""
        return self._count("planned")

    @property
    def unchanged(self) -> int:
        """Actions with nothing to do: the label or comment is already as it should be."""
        return self._count("unchanged")

    def to_dict(self) -> dict[str, Any]:
        """The write-back summary and its actions as JSON output shows them."""
        return {"applied": self.applied, "label": self.options.label, "comment": self.options.comment,
                "min_severity": self.options.min_severity, "epics": self.epics, "changed": self.changed,
                "planned": self.planned, "unchanged": self.unchanged, "failed": self.failed,
                "actions": [a.to_dict() for a in self.actions]}

    def format_text(self) -> str:
        """Changes and failures one per line (unchanged ones only counted), then a summary line."""
        o = self.options
        mode = "applied" if self.applied else "dry run, nothing changed in Jira; add --apply to write"
        label = f'label "{o.label}"' if o.label else "no label"
        lines = [f"Write-back ({mode}): {label}, comments {'on' if o.comment else 'off'}, "
                 f"findings at {o.min_severity} or above"]
        shown = [a for a in self.actions if a.status != "unchanged"]
        width = max((len(a.key) for a in shown), default=0)
        for a in shown:
            line = f"  {a.key:<{width}}  {a.action:<14}  {a.status:<7}  {a.detail}"
            lines.append(line + (f" — {a.error}" if a.error else ""))
        if self.applied:
            summary = f"{self.changed} changed, {self.unchanged} unchanged, {self.failed} failed"
        else:
            summary = f"{self.planned} to change, {self.unchanged} unchanged, {self.failed} failed"
        lines.append(f"{self.epics} epics: {summary}")
        return "\n".join(lines)


# -- the pure part ------------------------------------------------------------------------------
def counted_findings(findings: pd.DataFrame, min_severity: str) -> pd.DataFrame:
    """The findings at or above ``min_severity``."""
    if not len(findings):
        return findings
    rank = findings["severity"].map(SEVERITY_RANK)
    return findings[rank.le(SEVERITY_RANK[min_severity])]


def comment_blocks(rows: pd.DataFrame, ignore_label_prefix: str = "lint-ignore-") -> list[str | list[str]]:
    """The comment for one epic's findings: marker line with digest, intro, one bullet per finding, footer.

    The footer names the ignore label as the site configures it (``lint.ignore_label_prefix``).
    """
    ordered = rows.assign(_rank=rows["severity"].map(SEVERITY_RANK)).sort_values(["_rank", "rule", "name"])
    items = []
    for f in ordered.itertuples(index=False):
        fix = " ".join(str(f.how_to_fix or "").split())
        message = " ".join(str(f.message).split())
        if message and message[-1] not in ".!?":
            message += "."
        text = f"{str(f.severity).capitalize()} {f.rule} ({f.name}): {message}"
        items.append(text + (f" How to fix: {fix}" if fix else ""))
    n = len(items)
    body: list[str | list[str]] = [
        f"This epic cannot roll up properly into the portfolio until {'this is' if n == 1 else 'these are'} fixed:",
        items,
        "This comment is kept up to date by rollup lint --apply: it changes when the findings change and is "
        f"removed once the epic is clean. To silence a rule on this epic, add the label {ignore_label_prefix}<code>.",
    ]
    digest = hashlib.sha1(json.dumps(body, ensure_ascii=False).encode()).hexdigest()[:12]
    return [f"{MARKER} · {n} problem{'s' if n != 1 else ''} · ref {digest}", *body]


def _is_ours(comment: IssueComment) -> bool:
    return comment.first_line.startswith(MARKER)


def plan(findings: pd.DataFrame, options: WritebackOptions, states: Mapping[int, EpicState], *,
         ignore_label_prefix: str = "lint-ignore-") -> list[Action]:
    """The actions that bring Jira in line with ``findings`` (see the module docstring for the rules).

    ``states`` maps issue id → :class:`EpicState` for every epic with a counted finding that Jira
    returned, and for every issue that carries the label or a marked comment. A counted epic missing
    from ``states`` gets ``failed`` actions (deleted in Jira, moved out of reach, or not visible).
    Actions come ordered by epic key, label before comment, additions and edits before deletions.
    """
    counted = counted_findings(findings, options.min_severity)
    # An epic that is not visible (rule EQ055: no issue id) cannot be labelled or commented on.
    counted = counted[counted["issue_id"].notna()] if len(counted) else counted
    # ``issue_id`` holds whole numbers, read as floats (NaN where an epic has none, dropped above).
    by_epic = {int(cast(float, i)): g for i, g in counted.groupby("issue_id", sort=False)} if len(counted) else {}
    keys = {i: str(g["key"].iloc[0]) for i, g in by_epic.items()} | {i: s.key for i, s in states.items()}
    actions: list[Action] = []
    for issue_id in sorted(keys, key=lambda i: _sort_key(keys[i])):
        rows = by_epic.get(issue_id)
        state = states.get(issue_id)
        if state is None:
            actions.extend(_unreachable(issue_id, rows, options))
            continue
        key = state.key
        if options.label:
            has = options.label in state.labels
            if rows is not None:
                actions.append(Action(key, "add-label", options.label, "unchanged" if has else "planned",
                                      issue_id=issue_id))
            elif has:
                actions.append(Action(key, "remove-label", options.label, issue_id=issue_id))
        if not options.comment:
            continue
        if state.comments is None:
            if rows is not None:
                actions.append(Action(key, "add-comment", _problems(rows), "failed", state.error, issue_id))
            continue
        ours = [c for c in state.comments if _is_ours(c)]
        if rows is not None:
            blocks = comment_blocks(rows, ignore_label_prefix)
            if not ours:
                actions.append(Action(key, "add-comment", _problems(rows), issue_id=issue_id, blocks=blocks))
            else:
                same = ours[0].first_line == blocks[0]
                actions.append(Action(key, "update-comment", _problems(rows), "unchanged" if same else "planned",
                                      issue_id=issue_id, comment_id=ours[0].id, blocks=blocks))
            stale, why = ours[1:], "duplicate comment"
        else:
            stale, why = ours, "epic is clean"
        actions.extend(Action(key, "delete-comment", f"{why} (comment {c.id})", issue_id=issue_id, comment_id=c.id)
                       for c in stale)
    return actions


def _unreachable(issue_id: int, rows: pd.DataFrame | None, options: WritebackOptions) -> list[Action]:
    if rows is None:
        return []
    key = str(rows["key"].iloc[0])
    error = "not found in Jira (deleted, moved out of reach, or not visible to this account)"
    out = []
    if options.label:
        out.append(Action(key, "add-label", options.label, "failed", error, issue_id))
    if options.comment:
        out.append(Action(key, "add-comment", _problems(rows), "failed", error, issue_id))
    return out


def _problems(rows: pd.DataFrame) -> str:
    n = len(rows)
    return f"{n} problem{'s' if n != 1 else ''}: " + ", ".join(sorted(set(rows["rule"].astype(str))))


def _sort_key(key: str) -> tuple[str, int, str]:
    project, _, num = key.rpartition("-")
    return (project, int(num), key) if num.isdigit() else (key, 0, key)


# -- reading Jira ---------------------------------------------------------------------------------
def jql_string(value: str) -> str:
    """``value`` as a double-quoted JQL string."""
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def cleanup_jql(options: WritebackOptions, scope: str | None) -> str | None:
    """The search for issues that may carry our label or comment, within ``scope``; None if neither is on."""
    clauses = []
    if options.label:
        clauses.append(f"labels = {jql_string(options.label)}")
    if options.comment:
        clauses.append(f"comment ~ {jql_string(jql_string(MARKER))}")
    if not clauses:
        return None
    where = " OR ".join(clauses)
    return f"({where}) AND ({scope})" if scope and scope.strip() else where


def _search_ids(writer: JiraWriter, ids: Sequence[int]) -> list[Any]:
    """Labels of ``ids``; a batch Jira refuses (Data Center: 400 for a deleted id) is narrowed down."""
    if not ids:
        return []
    try:
        return list(writer.search_labels(f"id in ({','.join(str(i) for i in ids)}) ORDER BY id"))
    except JiraHTTPError as exc:
        if exc.status != 400:
            raise
        if len(ids) == 1:
            return []  # that id is gone: plan() reports the epic as not found
    half = len(ids) // 2
    return _search_ids(writer, ids[:half]) + _search_ids(writer, ids[half:])


def read_states(writer: JiraWriter, ids: Iterable[int], options: WritebackOptions, *, scope: str | None = None,
                progress: Progress | None = None, pool: ThreadPoolExecutor | None = None) -> dict[int, EpicState]:
    """Current labels (and comments, when ``options.comment``) of ``ids`` plus the clean-up search's hits."""
    wanted = sorted(set(int(i) for i in ids))
    found: dict[int, Any] = {}
    for start in range(0, len(wanted), ID_BATCH):
        found.update((hit.id, hit) for hit in _search_ids(writer, wanted[start:start + ID_BATCH]))
    jql = cleanup_jql(options, scope)
    if jql:
        found.update((hit.id, hit) for hit in writer.search_labels(jql + " ORDER BY id"))

    def one(hit: Any) -> EpicState:
        if not options.comment:
            return EpicState(hit.id, hit.key, hit.labels)
        try:
            return EpicState(hit.id, hit.key, hit.labels, tuple(writer.comments(hit.id)))
        except JiraAuthError as exc:
            if exc.status == 401:
                raise
            return EpicState(hit.id, hit.key, hit.labels, None, f"could not read its comments: {exc}")
        except JiraError as exc:
            return EpicState(hit.id, hit.key, hit.labels, None, f"could not read its comments: {exc}")

    states: dict[int, EpicState] = {}
    results = pool.map(one, found.values()) if pool else map(one, found.values())
    for state in results:
        states[state.issue_id] = state
        if progress:
            progress("read", 1)
    return states


# -- writing --------------------------------------------------------------------------------------
def _carry_out(writer: JiraWriter, actions: list[Action]) -> None:
    """Send one epic's planned actions; each failure is recorded on its action and the rest go on."""
    for a in actions:
        if a.status != "planned":
            continue
        # plan() gives every planned action an issue id, a comment action its blocks, an edit its comment id.
        assert a.issue_id is not None
        try:
            if a.action == "add-label":
                writer.add_label(a.issue_id, a.detail)
            elif a.action == "remove-label":
                writer.remove_label(a.issue_id, a.detail)
            elif a.action == "add-comment":
                assert a.blocks is not None
                a.comment_id = writer.add_comment(a.issue_id, a.blocks).id
            elif a.action == "update-comment":
                assert a.comment_id is not None and a.blocks is not None
                writer.update_comment(a.issue_id, a.comment_id, a.blocks)
            elif a.action == "delete-comment":
                assert a.comment_id is not None
                writer.delete_comment(a.issue_id, a.comment_id)
            a.status = "done"
        except JiraAuthError as exc:
            if exc.status == 401:
                raise
            a.status, a.error = "failed", str(exc)
        except JiraError as exc:
            a.status, a.error = "failed", str(exc)


def run_writeback(result: LintResult, options: WritebackOptions, settings: JiraSettings, *, apply: bool,
                  progress: Progress | None = None, scope: str | None = None,
                  writer: JiraWriter | None = None, ignore_label_prefix: str = "lint-ignore-") -> WritebackReport:
    """Read the epics' state from Jira, :func:`plan`, and (with ``apply``) carry the plan out.

    ``scope`` is the JQL of what was linted (``mappings.jira.scope_jql()``): the search for labelled or
    commented issues stays inside it, so epics outside this lint run keep their label. ``writer`` lets a
    caller supply its own :class:`JiraWriter` (e.g. other retry settings); by default one is made from
    ``settings`` and closed afterwards. Raises the connector's errors only for what stops every epic: a
    401, or a search Jira keeps failing.
    """
    own = writer is None
    writer = writer or JiraWriter(settings, max_concurrency=WORKERS)
    counted = counted_findings(result.findings, options.min_severity)
    try:
        with ThreadPoolExecutor(max_workers=WORKERS, thread_name_prefix="writeback") as pool:
            ids: Iterable[int] = counted["issue_id"].dropna().astype(int) if len(counted) else []
            states = read_states(writer, ids, options, scope=scope, progress=progress, pool=pool)
            actions = plan(result.findings, options, states, ignore_label_prefix=ignore_label_prefix)
            report = WritebackReport(actions, apply, options, epics=len({a.key for a in actions}))
            if apply:
                per_epic: dict[str, list[Action]] = {}
                for a in actions:
                    per_epic.setdefault(a.key, []).append(a)
                for _ in pool.map(lambda group: _carry_out(writer, group), per_epic.values()):
                    if progress:
                        progress("written", 1)
            return report
    finally:
        if own:
            writer.close()
