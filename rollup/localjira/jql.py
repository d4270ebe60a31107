"""The JQL the connector sends, parsed and evaluated against a :class:`SampleOrg`.

Supported: ``project in (A, B)``, ``project = X``, ``id in (…)``, ``key in (…)``, ``issuetype = Epic``,
``status``/``statusCategory``, ``labels = x`` / ``labels in (…)`` (and their negations), ``comment ~ "text"``
(case-insensitive phrase match), ``updated``/``created`` compared with ``"yyyy/MM/dd HH:mm"``,
``"yyyy-MM-dd"`` (read in the Jira user's time zone) or ``-5d``; ``AND``, ``OR``, ``NOT``, parentheses;
``ORDER BY id|key|created|updated [ASC|DESC]``. Anything else raises :class:`JqlError`, which the
server answers with a Jira-shaped 400.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Callable
from zoneinfo import ZoneInfo

from rollup.localjira.render import Renderer
from rollup.localjira.sampledata import ISSUE_TYPES, PROJECTS, STATUS_CATEGORIES, STATUSES
from rollup.localjira.sampleorg import SampleOrg


class JqlError(ValueError):
    """A query the local Jira (like the real one) refuses; the message is Jira's wording."""


_TOKEN = re.compile(r'\s*(?:(?P<str>"(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\')|(?P<op>!=|>=|<=|!~|=|>|<|~|\(|\)|,)'
                    r'|(?P<word>[^\s=!<>~(),"\']+))')
_FIELDS = {"project", "id", "key", "issuekey", "issuetype", "type", "updated", "created", "status",
           "statuscategory", "parent", "labels", "comment"}
_PROJECT_KEYS = {p.key: i for i, p in enumerate(PROJECTS)}


def _tokens(text: str) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    pos = 0
    text = text.rstrip()
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if not m or m.end() == pos:
            raise JqlError(f"Error in the JQL Query: The character '{text[pos]}' is a reserved JQL character. "
                           f"(line 1, character {pos + 1})")
        if m.group("str") is not None:
            out.append(("str", m.group("str")[1:-1].replace('\\"', '"')))
        elif m.group("op") is not None:
            out.append(("op", m.group("op")))
        else:
            out.append(("word", m.group("word")))
        pos = m.end()
    return out


@dataclass
class Query:
    """A parsed query: a predicate over issue positions, candidate positions if narrowable, and order."""

    predicate: Callable[[int], bool]
    candidates: set[int] | None
    order: list[tuple[str, bool]]  # (field, descending)
    bounded: bool

    def run(self, org: SampleOrg) -> list[int]:
        """Positions of the live issues that match, in the query's order (id ascending by default)."""
        pool = sorted(self.candidates) if self.candidates is not None else range(org.size)
        hits = [p for p in pool if not org.deleted[p] and self.predicate(p)]
        for field, desc in reversed(self.order or [("id", False)]):
            hits.sort(key=_sort_key(org, field), reverse=desc)
        return hits


def _sort_key(org: SampleOrg, field: str) -> Callable[[int], int | tuple[Any, ...]]:
    if field == "id":
        return lambda p: p
    if field in ("key", "issuekey"):
        return lambda p: (PROJECTS[org.proj[p]].key, org.num[p])
    if field == "created":
        return lambda p: (org.created[p], p)
    if field == "updated":
        return lambda p: (org.updated[p], p)
    raise JqlError(f"Not able to sort using field '{field}'.")


def _every_issue(pos: int) -> bool:
    return True


class _Parser:
    def __init__(self, org: SampleOrg, tokens: list[tuple[str, str]], tz: ZoneInfo) -> None:
        self.org, self.toks, self.i, self.tz = org, tokens, 0, tz

    def peek(self) -> tuple[str, str] | None:
        return self.toks[self.i] if self.i < len(self.toks) else None

    def take(self) -> tuple[str, str]:
        tok = self.peek()
        if tok is None:
            raise JqlError("Error in the JQL Query: Expecting either a value, list or function but got end "
                           "of query.")
        self.i += 1
        return tok

    def word_is(self, *words: str) -> bool:
        tok = self.peek()
        return tok is not None and tok[0] == "word" and tok[1].lower() in words

    def parse(self) -> Query:
        pred: Callable[[int], bool] = _every_issue
        cands = None
        bounded = False
        if self.peek() is not None and not self.word_is("order"):
            pred, cands = self.expr()
            bounded = True
        order: list[tuple[str, bool]] = []
        if self.word_is("order"):
            self.take()
            if not self.word_is("by"):
                raise JqlError("Error in the JQL Query: Expecting 'by' after 'order'.")
            self.take()
            while True:
                kind, field = self.take()
                field = field.lower()
                if field not in ("id", "key", "issuekey", "created", "updated"):
                    raise JqlError(f"Not able to sort using field '{field}'.")
                desc = False
                if self.word_is("asc", "desc"):
                    desc = self.take()[1].lower() == "desc"
                order.append((field, desc))
                if self.peek() == ("op", ","):
                    self.take()
                    continue
                break
        rest = self.peek()
        if rest is not None:
            raise JqlError(f"Error in the JQL Query: Expecting end of query but got '{rest[1]}'.")
        return Query(pred, cands, order, bounded)

    def expr(self):
        left, lc = self.conj()
        while self.word_is("or"):
            self.take()
            right, rc = self.conj()
            left = (lambda a, b: lambda p: a(p) or b(p))(left, right)
            lc = None if lc is None or rc is None else lc | rc
        return left, lc

    def conj(self):
        left, lc = self.unary()
        while self.word_is("and"):
            self.take()
            right, rc = self.unary()
            left = (lambda a, b: lambda p: a(p) and b(p))(left, right)
            lc = rc if lc is None else lc if rc is None else lc & rc
        return left, lc

    def unary(self):
        if self.word_is("not"):
            self.take()
            inner, _ = self.unary()
            return (lambda p: not inner(p)), None
        if self.peek() == ("op", "("):
            self.take()
            inner = self.expr()
            if self.take() != ("op", ")"):
                raise JqlError("Error in the JQL Query: Expecting ')' before the end of the query.")
            return inner
        return self.clause()

    def values(self) -> list[str]:
        if self.peek() == ("op", "("):
            self.take()
            vals = []
            while True:
                kind, v = self.take()
                if kind == "op":
                    raise JqlError(f"Error in the JQL Query: Expecting a value but got '{v}'.")
                vals.append(v)
                sep = self.take()
                if sep == ("op", ")"):
                    return vals
                if sep != ("op", ","):
                    raise JqlError("Error in the JQL Query: Expecting ',' or ')'.")
        kind, v = self.take()
        if kind == "op":
            raise JqlError(f"Error in the JQL Query: Expecting either a value, list or function but got '{v}'.")
        return [v]

    def clause(self):
        kind, field = self.take()
        if kind != "word":
            raise JqlError(f"Error in the JQL Query: Expecting a field name but got '{field}'.")
        field = field.lower()
        if field not in _FIELDS:
            raise JqlError(f"Field '{field}' does not exist or you do not have permission to view it.")
        if self.word_is("in"):
            self.take()
            op = "in"
        elif self.word_is("not"):
            self.take()
            if not self.word_is("in"):
                raise JqlError("Error in the JQL Query: Expecting 'in' after 'not'.")
            self.take()
            op = "not in"
        else:
            k, op = self.take()
            if k != "op" or op not in ("=", "!=", ">=", "<=", ">", "<", "~"):
                raise JqlError(f"Error in the JQL Query: Expecting operator but got '{op}'.")
        if (field == "comment") != (op == "~"):
            raise JqlError(f"The operator '{op}' is not supported by the '{field}' field.")
        vals = self.values()
        if op not in ("in", "not in") and len(vals) != 1:
            raise JqlError("Error in the JQL Query: Expecting a single value.")
        org = self.org
        if field == "comment":
            return self.comment_contains(vals[0])
        if field in ("updated", "created"):
            if op not in (">=", "<=", ">", "<", "=", "!="):
                raise JqlError(f"The operator '{op}' is not supported by the '{field}' field.")
            at = self.when(vals[0])
            col = org.updated if field == "updated" else org.created
            cmp = {">=": lambda a: a >= at, "<=": lambda a: a <= at, ">": lambda a: a > at,
                   "<": lambda a: a < at, "=": lambda a: a == at, "!=": lambda a: a != at}[op]
            return (lambda p: cmp(col[p])), None
        if op in (">=", "<=", ">", "<") and field != "id":
            raise JqlError(f"The operator '{op}' is not supported by the '{field}' field.")
        members, cands = self.members(field, vals)
        if field == "id" and op in (">=", "<=", ">", "<"):
            n = int(vals[0])
            cmp = {">=": lambda a: a >= n, "<=": lambda a: a <= n, ">": lambda a: a > n, "<": lambda a: a < n}[op]
            return (lambda p: cmp(org.issue_id(p))), None
        if op in ("=", "in"):
            return members, cands
        return (lambda p: not members(p)), None

    def members(self, field: str, vals: list[str]):
        org = self.org
        if field == "project":
            wanted = set()
            for v in vals:
                ix = _PROJECT_KEYS.get(v.upper())
                if ix is None:
                    ix = next((i for i, p in enumerate(PROJECTS) if p.name.lower() == v.lower()
                               or str(10000 + i) == v), None)
                if ix is None:
                    raise JqlError(f"The value '{v}' does not exist for the field 'project'.")
                wanted.add(ix)
            return (lambda p: org.proj[p] in wanted), None
        if field in ("id", "key", "issuekey", "parent"):
            found = set()
            for v in vals:
                pos = org.position(v)
                if pos is None and field != "id" and not v.isdigit():
                    raise JqlError(f"An issue with key '{v}' does not exist for field '{field}'.")
                if pos is not None:
                    found.add(pos)
            if field == "parent":
                return (lambda p: org.parent[p] in found), None
            return (lambda p: p in found), found
        if field in ("issuetype", "type"):
            names = {v.lower() for v in vals}
            known = {t.name.lower() for t in ISSUE_TYPES} | {"subtask", "sub-task"}
            bad = names - known
            if bad:
                raise JqlError(f"The value '{sorted(bad)[0]}' does not exist for the field 'issuetype'.")
            types = {i for i, t in enumerate(ISSUE_TYPES) if t.name.lower() in names}
            return (lambda p: org.itype[p] in types), None
        if field == "status":
            names = {v.lower() for v in vals}
            sts = {i for i, s in enumerate(STATUSES) if s.name.lower() in names or s.id in names}
            return (lambda p: org.status[p] in sts), None
        if field == "statuscategory":
            names = {v.lower() for v in vals}
            cats = {k for k, c in STATUS_CATEGORIES.items() if k in names or c.name.lower() in names}
            sts = {i for i, s in enumerate(STATUSES) if s.category in cats}
            return (lambda p: org.status[p] in sts), None
        if field == "labels":
            # Label tuples are interned: match the few tuples holding a wanted label, not every issue.
            wanted_labels = set(vals)
            tuples = {i for i, t in enumerate(org.tuples) if wanted_labels.intersection(t)}
            return (lambda p: org.labels[p] in tuples), None
        raise JqlError(f"Field '{field}' does not exist or you do not have permission to view it.")

    def comment_contains(self, text: str):
        """``comment ~ "text"``: issues with a comment holding ``text`` (case-insensitive)."""
        # A quoted phrase inside the string ("\"a b\"") is Lucene's phrase syntax: match it as one phrase.
        needle = " ".join(text.strip().strip('"').split()).casefold()
        if not needle:
            raise JqlError("The field 'comment' does not support searching for an empty string.")
        org = self.org
        found = {p for p, comments in org.comments.items()
                 if any(needle in " ".join(Renderer.comment_text(c.body).split()).casefold() for c in comments)}
        return (lambda p: p in found), found

    def when(self, text: str) -> int:
        m = re.fullmatch(r"-(\d+)([dhmw])", text.strip())
        if m:
            unit = {"d": 86400, "h": 3600, "m": 60, "w": 7 * 86400}[m.group(2)]
            return self.org.now_ts - int(m.group(1)) * unit
        for fmt in ("%Y/%m/%d %H:%M", "%Y-%m-%d %H:%M", "%Y/%m/%d", "%Y-%m-%d"):
            try:
                local = datetime.strptime(text.strip(), fmt)
            except ValueError:
                continue
            return int(local.replace(tzinfo=self.tz).timestamp())
        raise JqlError(f"Date value '{text}' for field is invalid. Valid formats include: 'yyyy/MM/dd HH:mm', "
                       "'yyyy-MM-dd HH:mm', 'yyyy/MM/dd', 'yyyy-MM-dd', or a period format e.g. '-5d', '4w 2d'.")


def parse(org: SampleOrg, jql: str, time_zone: str = "America/Los_Angeles") -> Query:
    """Parse ``jql`` for ``org``; dates are read in ``time_zone`` (the Jira user's zone)."""
    return _Parser(org, _tokens(jql or ""), ZoneInfo(time_zone)).parse()


def search(org: SampleOrg, jql: str, time_zone: str = "America/Los_Angeles") -> list[int]:
    """Positions of the live issues matching ``jql``, in order."""
    return parse(org, jql, time_zone).run(org)
