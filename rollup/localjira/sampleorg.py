"""The sample organisation served by the local Jira: a health-software company moving upmarket.

``SampleOrg.generate(seed, issues, now)`` builds a deterministic organisation of the requested size
(3,000 issues by default, up to a million for benchmarks). Issues are kept column-wise in compact
``array`` columns; Jira JSON is rendered per request by :mod:`rollup.localjira.render`.

Hierarchy: initiatives (level 2, project STRAT) > epics (1) > stories / tasks / bugs (0) > sub-tasks (-1).

How teams tag strategy (on purpose inconsistent, as in real companies):

========  ==========================================================================
PAY       labels: ``pillar-*`` and ``okr-q3-*`` / ``okr-q4-*``
SCH       components: a pillar component and an ``OKR 2026-Q4: ...`` component
CLIN      the custom select field "Investment" (pillar) plus ``okr-*`` labels
INT       never tags: pillar and OKR come only from the parent initiative
MOB, PLAT, DATA, SEC  mixed: per epic labels, components or Investment, sometimes nothing
========  ==========================================================================

Epic hygiene ground truth (``org.ground_truth``: epic key -> sorted defect names) is computed from the
data; the defects generation plants on purpose, and their exact definitions, are in
:mod:`rollup.localjira.defects`. The fixed data (projects, pillars, OKRs, statuses, word lists) is
in :mod:`rollup.localjira.sampledata`.

Edits through the API (labels, comments) change the organisation in place, as on a real site:
:meth:`SampleOrg.set_labels` re-interns the issue's label tuple (one small index per issue, so a million
issues cost no more memory), records a ``labels`` history and moves ``updated``; comments live in a
sparse dict by issue position. Generation never calls them, so the same seed still gives the same data.
"""

from __future__ import annotations

import random
import threading
from array import array
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from rollup.localjira import defects
from rollup.localjira.sampledata import (
    CUSTOMER_REPORTED,
    DAY,
    DESCRIPTION_METRIC,
    DESCRIPTION_WHY,
    EPIC_EXTRA_LABELS,
    EPIC_TOPICS,
    FIRST_NAMES,
    ISSUE_TYPES,
    LAST_NAMES,
    LOGGING_TEAMS,
    OKRS,
    PILLAR_LABELS,
    PILLARS,
    PROJECTS,
    S_DONE,
    S_PROG,
    S_REVIEW,
    S_TODO,
    SHORT_DESCRIPTIONS,
    STORY_OBJECTS,
    STORY_VERBS,
    T_BUG,
    T_EPIC,
    T_INIT,
    T_STORY,
    T_SUB,
    T_TASK,
)

#: The author index of edits made through the API: the account the client authenticates as.
API_USER = -2
#: History kinds (``SampleOrg.h_kind``). ``H_EPIC``: a story moved between epics (from/to epic
#: positions, -1 none); ``H_TARGET``: a target date moved (from/to date ordinals, 0 none).
H_STATUS, H_ASSIGNEE, H_POINTS, H_KEY, H_LABELS, H_EPIC, H_TARGET = range(7)
#: The history kinds the connector keeps (status, assignee and the scope ledger's fields).
KEPT_HISTORY_KINDS = (H_STATUS, H_ASSIGNEE, H_POINTS, H_EPIC, H_TARGET)

@dataclass(frozen=True, slots=True)
class User:
    """A Jira user as both flavours know it."""

    account_id: str
    name: str
    key: str
    display_name: str
    email: str
    active: bool
    team: int  # project index, 0 = portfolio


@dataclass(slots=True)
class IssueComment:
    """A comment on an issue. ``body`` is kept as posted: an ADF document (Cloud v3) or wiki text (v2)."""

    id: int
    author: int  # user index, or API_USER
    body: object
    created: int
    updated: int


@dataclass(frozen=True, slots=True)
class Sprint:
    """A sprint of one team's board."""

    id: int
    name: str
    state: str
    board_id: int
    start: int
    end: int


def _ts(d: datetime) -> int:
    return int(d.timestamp())


class SampleOrg:
    """A deterministic sample organisation, stored column-wise; see the module docstring."""

    def __init__(self, seed: int, now: datetime) -> None:
        self.seed = seed
        self.now = now
        self.now_ts = _ts(now)
        self.lock = threading.RLock()
        self.version = 0
        self.edits = 0  # edits through the API (labels, comments)
        self.users: list[User] = []
        self.sprints: list[Sprint] = []
        # Issue columns, indexed by position; issue id = ID_BASE + position.
        self.proj = array("b")
        self.num = array("i")
        self.itype = array("b")
        self.status = array("b")
        self.created = array("i")
        self.updated = array("i")
        self.resolved = array("i")  # 0 = unresolved
        self.status_at = array("i")  # time of the last status change, 0 = never changed
        self.assignee = array("h")  # user index, -1 none
        self.reporter = array("h")
        self.parent = array("i")  # Cloud parent: story->epic, epic->initiative, sub-task->story; -1
        self.sp = array("b")  # story points, -1 none
        self.start = array("i")  # date ordinals, 0 none
        self.target = array("i")
        self.due = array("i")
        self.sprint = array("i")  # sprint index, -1 none
        self.invest = array("b")  # Investment option index, -1 none
        self.labels = array("h")  # index into self.tuples
        self.comps = array("h")
        self.fixv = array("h")
        self.desc = array("b")  # 0 empty, 1 short, 2 long with Why / Success metric, 3 long plain
        self.hstart = array("i")
        self.hcount = array("h")
        self.deleted = array("b")
        self.tuples: list[tuple[str, ...]] = [()]
        self._tuple_ix: dict[tuple[str, ...], int] = {(): 0}
        # Sparse data.
        self.dangling_epic: dict[int, str] = {}  # story position -> epic key that does not exist
        self.summary_override: dict[int, str] = {}
        self.key_index: dict[str, int] = {}  # current and old keys -> position
        self.project_counter = [0] * len(PROJECTS)
        # Changelog histories, global columns; id = HIST_BASE + position.
        self.h_ts = array("i")
        self.h_kind = array("b")  # H_STATUS … H_TARGET
        self.h_from = array("i")
        self.h_to = array("i")
        self.h_author = array("h")
        self.h_extra: dict[int, list[int]] = {}  # issue position -> history positions added later
        self.h_keys: dict[int, tuple[str, str]] = {}  # history position -> (old key, new key)
        # Worklogs; id = WL_BASE + position.
        self.wl_issue = array("i")
        self.wl_author = array("h")
        self.wl_started = array("i")
        self.wl_seconds = array("i")
        self.wl_created = array("i")
        self.wl_updated_ms = array("q")
        self.wl_deleted: dict[int, int] = {}  # worklog position -> deleted time in ms
        # Comments (only those added through the API); id = COMMENT_BASE + sequence.
        self.comments: dict[int, list[IssueComment]] = {}  # issue position -> comments, oldest first
        self.comment_seq = 0
        self._truth_cache: tuple[tuple[int, int], dict[str, list[str]]] | None = None
        self._wl_sorted: tuple[int, list[int]] | None = None

    ID_BASE = 10000
    HIST_BASE = 10000
    WL_BASE = 10000
    COMMENT_BASE = 10000

    # ------------------------------------------------------------------ public helpers
    @property
    def size(self) -> int:
        """Number of issue positions ever created (deleted ones included)."""
        return len(self.proj)

    def issue_id(self, pos: int) -> int:
        """The Jira issue id of the issue at ``pos``."""
        return self.ID_BASE + pos

    def key(self, pos: int) -> str:
        """The issue's current key, e.g. ``PAY-12``."""
        return f"{PROJECTS[self.proj[pos]].key}-{self.num[pos]}"

    def live(self, pos: int) -> bool:
        """True unless the issue has been deleted."""
        return not self.deleted[pos]

    def position(self, id_or_key: str | int) -> int | None:
        """Position of a live issue from its id or key (old keys of moved issues resolve too)."""
        text = str(id_or_key).strip()
        if text.isdigit():
            pos = int(text) - self.ID_BASE
            if 0 <= pos < self.size and not self.deleted[pos]:
                return pos
            return None
        found = self.key_index.get(text.upper())
        if found is None or self.deleted[found]:
            return None
        return found

    def level(self, pos: int) -> int:
        """The hierarchy level of the issue's type: -1 sub-task, 0 standard, 1 epic, 2 initiative."""
        return ISSUE_TYPES[self.itype[pos]].level

    def epic_of(self, pos: int) -> int:
        """Position of the epic a level-0 issue belongs to, or -1."""
        p = self.parent[pos]
        if p >= 0 and self.itype[p] == T_EPIC and ISSUE_TYPES[self.itype[pos]].level == 0:
            return p
        return -1

    def summary(self, pos: int) -> str:
        """The issue's summary: an edited one when set, otherwise one derived from its type and position."""
        s = self.summary_override.get(pos)
        if s is not None:
            return s
        t = self.itype[pos]
        h = (pos * 2654435761 + self.seed) & 0xFFFFFFFF
        if t == T_INIT:
            okr = OKRS[pos % len(OKRS)]
            return f"{okr.quarter}: {okr.objective}"
        if t == T_EPIC:
            return f"{EPIC_TOPICS[h % len(EPIC_TOPICS)]} ({PROJECTS[self.proj[pos]].key} #{self.num[pos]})"
        verb = STORY_VERBS[h % len(STORY_VERBS)]
        obj = STORY_OBJECTS[(h >> 8) % len(STORY_OBJECTS)]
        if t == T_BUG:
            return f"Cannot {verb} {obj} for some clinics"
        if t == T_SUB:
            return f"{verb.capitalize()} {obj}: tests and rollout"
        return f"As a clinic admin I can {verb} {obj}"

    def description_text(self, pos: int) -> list[tuple[str, str]]:
        """The description as (kind, text) blocks: kind "h" heading or "p" paragraph; [] if empty."""
        kind = self.desc[pos]
        if kind == 0:
            return []
        if kind == 1:
            text = SHORT_DESCRIPTIONS[1 + pos % (len(SHORT_DESCRIPTIONS) - 1)]
            return [("p", text)]
        topic = self.summary(pos)
        why = DESCRIPTION_WHY.format(topic=topic.lower())
        metric = DESCRIPTION_METRIC
        if kind == 2:
            return [("h", "Why"), ("p", why), ("h", "Success metric"), ("p", metric)]
        return [("p", why + " " + metric)]

    def description_words(self, pos: int) -> int:
        """How many words the issue's description holds."""
        return sum(len(t.split()) for _, t in self.description_text(pos))

    def histories(self, pos: int) -> list[int]:
        """History positions of an issue, oldest first."""
        start, count = self.hstart[pos], self.hcount[pos]
        out = list(range(start, start + count))
        extra = self.h_extra.get(pos)
        if extra:
            out.extend(extra)
            out.sort(key=lambda h: (self.h_ts[h], h))
        return out

    def worklog_positions(self) -> list[int]:
        """Worklog positions sorted by update time (cached per version)."""
        if self._wl_sorted is None or self._wl_sorted[0] != self.version:
            order = sorted(range(len(self.wl_issue)), key=self.wl_updated_ms.__getitem__)
            self._wl_sorted = (self.version, order)
        return self._wl_sorted[1]

    def _intern(self, items: tuple[str, ...]) -> int:
        ix = self._tuple_ix.get(items)
        if ix is None:
            ix = len(self.tuples)
            self.tuples.append(items)
            self._tuple_ix[items] = ix
        return ix

    # ------------------------------------------------------------------ edits through the API
    def _touch(self, pos: int) -> int:
        """Move the issue's ``updated`` to now (later than before, even for two edits in one second)."""
        ts = max(self.now_ts, self.updated[pos] + 1)
        self.updated[pos] = ts
        # Not ``version``: that seeds advance(), which must not depend on edits made in between.
        self.edits += 1
        return ts

    def set_labels(self, pos: int, labels: tuple[str, ...], author: int = API_USER) -> bool:
        """Give issue ``pos`` exactly ``labels``; record a ``labels`` history. False when nothing changed."""
        with self.lock:
            old = self.labels[pos]
            new = self._intern(tuple(labels))
            if new == old:
                return False
            self.labels[pos] = new
            ts = self._touch(pos)
            self._add_history(pos, ts, H_LABELS, old, new, author, appended=True)
            return True

    def add_comment(self, pos: int, body: object, author: int = API_USER) -> IssueComment:
        """Add a comment to issue ``pos`` (moves ``updated``, as Jira does)."""
        with self.lock:
            self.comment_seq += 1
            ts = self._touch(pos)
            comment = IssueComment(self.COMMENT_BASE + self.comment_seq, author, body, ts, ts)
            self.comments.setdefault(pos, []).append(comment)
            return comment

    def comment(self, pos: int, comment_id: int | str) -> IssueComment | None:
        """The comment ``comment_id`` of issue ``pos``, or None."""
        text = str(comment_id).strip()
        if not text.isdigit():
            return None
        return next((c for c in self.comments.get(pos, ()) if c.id == int(text)), None)

    def edit_comment(self, pos: int, comment: IssueComment, body: object) -> IssueComment:
        """Replace a comment's body."""
        with self.lock:
            comment.body = body
            comment.updated = self._touch(pos)
            return comment

    def delete_comment(self, pos: int, comment: IssueComment) -> None:
        """Remove a comment."""
        with self.lock:
            kept = [c for c in self.comments.get(pos, ()) if c.id != comment.id]
            if kept:
                self.comments[pos] = kept
            else:
                self.comments.pop(pos, None)
            self._touch(pos)

    # ------------------------------------------------------------------ building blocks
    def _new_issue(self, proj: int, itype: int, created: int, *, parent: int = -1) -> int:
        pos = self.size
        self.project_counter[proj] += 1
        self.proj.append(proj)
        self.num.append(self.project_counter[proj])
        self.itype.append(itype)
        self.status.append(S_TODO)
        self.created.append(created)
        self.updated.append(created)
        self.resolved.append(0)
        self.status_at.append(0)
        self.assignee.append(-1)
        self.reporter.append(-1)
        self.parent.append(parent)
        self.sp.append(-1)
        self.start.append(0)
        self.target.append(0)
        self.due.append(0)
        self.sprint.append(-1)
        self.invest.append(-1)
        self.labels.append(0)
        self.comps.append(0)
        self.fixv.append(0)
        self.desc.append(3)
        self.hstart.append(len(self.h_ts))
        self.hcount.append(0)
        self.deleted.append(0)
        self.key_index[f"{PROJECTS[proj].key}-{self.project_counter[proj]}"] = pos
        return pos

    def _add_history(self, pos: int, ts: int, kind: int, frm: int, to: int, author: int,
                     *, appended: bool = False) -> int:
        hpos = len(self.h_ts)
        self.h_ts.append(ts)
        self.h_kind.append(kind)
        self.h_from.append(frm)
        self.h_to.append(to)
        self.h_author.append(author)
        if appended:
            self.h_extra.setdefault(pos, []).append(hpos)
        else:
            self.hcount[pos] += 1
        if ts > self.updated[pos]:
            self.updated[pos] = ts
        return hpos

    def _walk_status(self, rng: random.Random, pos: int, final: int, end: int, author: int,
                     *, appended: bool = False) -> None:
        """Record the status path To Do -> ... -> final, the last change at ``end``.

        ``appended``: the issue's histories are no longer the last ones recorded (an epic whose
        stories were generated first), so they are kept in its own list rather than its range.
        """
        if final == S_TODO:
            return
        path = [S_PROG] if final == S_PROG else [S_PROG, S_REVIEW] if final == S_REVIEW else (
            [S_PROG, S_REVIEW, S_DONE] if rng.random() < 0.6 else [S_PROG, S_DONE])
        created = self.created[pos]
        span = max(len(path), end - created)
        prev = S_TODO
        for i, st in enumerate(path):
            if i == len(path) - 1:
                ts = end
            else:
                ts = created + span * (i + 1) // (len(path) + 1) + rng.randrange(3600)
                ts = min(ts, end - (len(path) - i))
            self._add_history(pos, ts, 0, prev, st, author, appended=appended)
            prev = st
        self.status[pos] = final
        self.status_at[pos] = end
        if final == S_DONE:
            self.resolved[pos] = end

    def team_user(self, rng: random.Random, proj: int, *, active: bool = True) -> int:
        """A random member of team ``proj``: an active one, or (``active=False``) an inactive one."""
        members = self._team_active[proj] if active else self._team_inactive[proj]
        return members[rng.randrange(len(members))]

    # ------------------------------------------------------------------ generation
    @classmethod
    def generate(cls, seed: int = 7, issues: int = 3000,
                 now: datetime = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)) -> "SampleOrg":
        """Build the organisation: same ``seed`` and ``issues`` give the same data, byte for byte."""
        if issues < 300:
            raise ValueError(f"issues={issues} is too small for a meaningful org; use at least 300")
        org = cls(seed, now)
        org._generate(random.Random(seed), issues)
        return org

    def _generate(self, rng: random.Random, n: int) -> None:
        now = self.now_ts
        today = self.now.date().toordinal()
        self._make_users(rng)
        self._make_sprints()
        n_init = max(8, n // 250)
        n_epic = max(40, n // 25)
        rest = n - n_init - n_epic
        n_sub = rest // 4
        n_story = rest - n_sub

        # Initiatives in STRAT, one OKR (and so one pillar) each.
        inits: list[int] = []
        for i in range(n_init):
            created = now - 183 * DAY + rng.randrange(20 * DAY)
            pos = self._new_issue(0, T_INIT, created)
            okr = OKRS[pos % len(OKRS)]
            self.labels[pos] = self._intern((PILLARS[okr.pillar].label, okr.label))
            self.assignee[pos] = self.reporter[pos] = self.team_user(rng, 0)
            final = S_DONE if rng.random() < 0.15 else S_PROG
            self._walk_status(rng, pos, final, created + rng.randrange(5 * DAY, 60 * DAY),
                              self.assignee[pos])
            self.start[pos] = (datetime.fromtimestamp(created, UTC).date() + timedelta(days=7)).toordinal()
            self.target[pos] = today + rng.randrange(-20, 150)
            self.desc[pos] = 2
            inits.append(pos)

        # Epics, with the defects planted on purpose (rollup.localjira.defects); the ground truth is
        # later computed from the data itself.
        epic_plans: list[defects.EpicPlan] = []
        epics: list[int] = []
        for e in range(n_epic):
            proj = 1 + e % 8
            habit = PROJECTS[proj].tagging
            no_init = defects.draw_no_initiative(rng)
            parent = -1 if no_init else inits[rng.randrange(len(inits))]
            created = now - 180 * DAY + rng.randrange(150 * DAY)
            pos = self._new_issue(proj, T_EPIC, created, parent=parent)
            epics.append(pos)
            # Strategy tags by team habit.
            okr = OKRS[self.labels_okr(parent, rng)]
            pillar_ix = okr.pillar
            if rng.random() < 0.1:
                pillar_ix = rng.randrange(len(PILLARS))  # tags that disagree with the initiative happen
            pillar = PILLARS[pillar_ix]
            tag_pillar, tag_okr = defects.strategy_tags(rng, no_init, habit)
            style = habit if habit != "mixed" else ("labels", "components", "investment")[rng.randrange(3)]
            labels: list[str] = []
            comps: list[str] = []
            if style == "none":
                pass
            elif style == "labels":
                if tag_pillar:
                    labels.append(pillar.label)
                if tag_okr:
                    labels.append(okr.label)
            elif style == "components":
                if tag_pillar:
                    comps.append(pillar.component)
                if tag_okr:
                    comps.append(okr.component)
            else:  # investment
                if tag_pillar:
                    self.invest[pos] = pillar_ix
                if tag_okr:
                    labels.append(okr.label)
            if rng.random() < 0.3:
                labels.append(EPIC_EXTRA_LABELS[rng.randrange(len(EPIC_EXTRA_LABELS))])
            self.labels[pos] = self._intern(tuple(labels))
            self.comps[pos] = self._intern(tuple(comps))
            self.assignee[pos] = defects.epic_owner(self, rng, proj)
            self.reporter[pos] = self.team_user(rng, proj)
            # Status, dates, description and children, as planned.
            epic_plans.append(defects.plan_epic(self, rng, pos, created))
            if self.target[pos] and pos % 3 == 0:
                self.due[pos] = self.target[pos]

        # Stories, tasks and bugs.
        story_epic = defects.story_epics(rng, epic_plans, n_story)
        seen_child = [0] * n_epic
        stories: list[int] = []
        for ei in story_epic:
            r = rng.random()
            itype = T_STORY if r < 0.6 else T_TASK if r < 0.85 else T_BUG
            if ei >= 0:
                epos = epics[ei]
                plan = epic_plans[ei]
                proj = self.proj[epos]
                if rng.random() < 0.08:
                    proj = 1 + rng.randrange(8)
                lo = self.created[epos]
                k = seen_child[ei]
                seen_child[ei] += 1
                hi = defects.child_created_before(plan, now)
                created = lo + rng.randrange(max(1, hi - lo))
                pos = self._new_issue(proj, itype, created, parent=epos)
                final, end_lo, end_hi = defects.child_status_window(rng, plan, k, created, now)
            else:
                proj = 1 + rng.randrange(8)
                created = now - 180 * DAY + rng.randrange(178 * DAY)
                pos = self._new_issue(proj, itype, created)
                if ei == -2:
                    defects.plant_dangling_epic(self, pos, proj)
                r = rng.random()
                final = S_DONE if r < 0.4 else S_PROG if r < 0.6 else S_REVIEW if r < 0.7 else S_TODO
                end_lo, end_hi = created + 3600, now - 3600
            self._fill_work_item(rng, pos, proj, itype, final, end_lo, max(end_lo + 1, end_hi))
            stories.append(pos)

        # Epic statuses, after their children exist (so "done" follows the work).
        for ei, epos in enumerate(epics):
            final = epic_plans[ei].final
            created = self.created[epos]
            end = created + rng.randrange(max(1, now - created - DAY))
            self._walk_status(rng, epos, final, max(end, created + 3600), self.assignee[epos]
                              if self.assignee[epos] >= 0 else self.reporter[epos], appended=True)
            if self.assignee[epos] >= 0 and rng.random() < 0.3:
                # Owner handed over once: the history shows who had it before.
                prev = self.team_user(rng, self.proj[epos])
                if prev != self.assignee[epos]:
                    self._add_history(epos, created + 1800, 1, prev, self.assignee[epos], self.reporter[epos],
                                      appended=True)

        # Sub-tasks under random stories, same project and status bounds.
        for _ in range(n_sub):
            spos = stories[rng.randrange(len(stories))]
            proj = self.proj[spos]
            created = self.created[spos] + rng.randrange(DAY)
            pos = self._new_issue(proj, T_SUB, min(created, now - 3600), parent=spos)
            if self.status[spos] == S_DONE:
                final = S_DONE
                end_hi = self.status_at[spos]
            else:
                r = rng.random()
                final = S_DONE if r < 0.4 else S_PROG if r < 0.7 else S_TODO
                end_hi = now - 3600
            end_lo = self.created[pos] + 60
            self._fill_work_item(rng, pos, proj, T_SUB, final, end_lo, max(end_lo + 1, end_hi))

        # A few issues with more than 100 histories (the Cloud embed cap is 100).
        n_big = max(3, n // 200)
        for i in range(n_big):
            pos = stories[(i * 7919) % len(stories)]
            if self.assignee[pos] < 0:
                self.assignee[pos] = self.team_user(rng, self.proj[pos])
            a, b = self.assignee[pos], self.team_user(rng, self.proj[pos])
            if a == b:
                b = self._team_active[self.proj[pos]][0] if self._team_active[self.proj[pos]][0] != a \
                    else self._team_active[self.proj[pos]][1]
            base = self.created[pos] + 60
            flips = 110 + rng.randrange(60)
            flips += flips % 2  # an even number of flips ends on the current assignee
            events = []
            for f in range(flips):
                frm, to = (a, b) if f % 2 == 0 else (b, a)
                events.append((base + f * 37, frm, to))
            extra = [self._add_history(pos, ts, 1, frm, to, a, appended=True) for ts, frm, to in events]
            del extra
        self._finish_worklog_order()

    def labels_okr(self, init_pos: int, rng: random.Random) -> int:
        """The OKR index an epic works towards: its initiative's, else a random one."""
        if init_pos >= 0:
            return init_pos % len(OKRS)
        return rng.randrange(len(OKRS))

    def _fill_work_item(self, rng: random.Random, pos: int, proj: int, itype: int, final: int,
                        end_lo: int, end_hi: int) -> None:
        inactive_ok = rng.random() < 0.03
        if rng.random() < 0.12 and final == S_TODO:
            assignee = -1
        else:
            assignee = self.team_user(rng, proj, active=not inactive_ok)
        self.assignee[pos] = assignee
        self.reporter[pos] = self.team_user(rng, proj)
        if itype != T_SUB:
            r = rng.random()
            if r < (0.85 if itype == T_STORY else 0.55):
                self.sp[pos] = (1, 2, 3, 5, 8, 13)[rng.randrange(6)]
            self.desc[pos] = 1 if r < 0.35 else 0 if r < 0.45 else 3
        else:
            self.desc[pos] = 0
        if itype == T_BUG and rng.random() < 0.5:
            self.labels[pos] = self._intern((CUSTOMER_REPORTED,))
        end = end_lo + rng.randrange(max(1, end_hi - end_lo))
        author = assignee if assignee >= 0 else self.reporter[pos]
        if assignee >= 0 and final != S_TODO and rng.random() < 0.25:
            first = self.team_user(rng, proj)
            if first != assignee:
                self.assignee[pos] = assignee
                self._add_history(pos, self.created[pos] + 60, 1, -1, first, self.reporter[pos])
                self._add_history(pos, self.created[pos] + 120, 1, first, assignee, first)
        self._walk_status(rng, pos, final, end, author)
        if final != S_TODO and itype != T_SUB:
            sprint = self._sprint_at(proj, end)
            if sprint >= 0:
                self.sprint[pos] = sprint
        if final == S_DONE and itype != T_SUB:
            version = f"{PROJECTS[proj].key} {datetime.fromtimestamp(end, UTC):%Y.%m}"
            self.fixv[pos] = self._intern((version,))
        if itype != T_SUB and rng.random() < 0.2:
            self.due[pos] = datetime.fromtimestamp(end, UTC).date().toordinal() + rng.randrange(-5, 10)
        if PROJECTS[proj].key in LOGGING_TEAMS and final != S_TODO and assignee >= 0:
            first_move = self.h_ts[self.hstart[pos]] if self.hcount[pos] else self.created[pos]
            stop = end if final == S_DONE else self.now_ts - 3600
            for _ in range(1 + rng.randrange(3)):
                started = first_move + rng.randrange(max(1, stop - first_move))
                self._add_worklog(pos, assignee, started, (1 + rng.randrange(16)) * 1800,
                                  min(started + rng.randrange(DAY), self.now_ts - 60))

    def _add_worklog(self, pos: int, author: int, started: int, seconds: int, logged: int) -> int:
        wpos = len(self.wl_issue)
        self.wl_issue.append(pos)
        self.wl_author.append(author)
        self.wl_started.append(started)
        self.wl_seconds.append(seconds)
        self.wl_created.append(logged)
        self.wl_updated_ms.append(logged * 1000 + wpos % 1000)
        if logged > self.updated[pos]:
            self.updated[pos] = logged
        return wpos

    def _finish_worklog_order(self) -> None:
        """Make worklog update times unique, so ``since`` paging is exact."""
        order = sorted(range(len(self.wl_issue)), key=self.wl_updated_ms.__getitem__)
        last = -1
        for w in order:
            if self.wl_updated_ms[w] <= last:
                self.wl_updated_ms[w] = last + 1
            last = self.wl_updated_ms[w]

    def _make_users(self, rng: random.Random) -> None:
        self._team_active: list[list[int]] = [[] for _ in PROJECTS]
        self._team_inactive: list[list[int]] = [[] for _ in PROJECTS]
        n = 0
        for proj in range(len(PROJECTS)):
            for m in range(4 if proj == 0 else 7):
                first = FIRST_NAMES[(n * 7 + 3) % len(FIRST_NAMES)]
                last = LAST_NAMES[(n * 5 + proj) % len(LAST_NAMES)]
                active = not (proj > 0 and m == 6)
                name = f"{first[0].lower()}{last.lower()}{n}"
                acc = "5b10ac8d82e05b22cc7d" + f"{(n * 2654435761 + self.seed) & 0xFFFFFFFF:08x}"[:4] + f"{n:04d}"
                self.users.append(User(acc, name, f"JIRAUSER{10100 + n}", f"{first} {last}",
                                       f"{name}@clinicloud.example", active, proj))
                (self._team_active if active else self._team_inactive)[proj].append(n)
                n += 1
        for proj in range(len(PROJECTS)):
            if not self._team_inactive[proj]:
                self._team_inactive[proj] = self._team_inactive[1]

    def _make_sprints(self) -> None:
        first = self.now_ts - 200 * DAY
        self._sprint_base: list[int] = [0] * len(PROJECTS)
        for proj in range(1, len(PROJECTS)):
            self._sprint_base[proj] = len(self.sprints)
            for k in range(16):
                start = first + k * 14 * DAY
                end = start + 14 * DAY
                state = "closed" if end <= self.now_ts else "active" if start <= self.now_ts else "future"
                self.sprints.append(Sprint(100 + len(self.sprints), f"{PROJECTS[proj].key} Sprint {k + 1}",
                                           state, proj, start, end))

    def _sprint_at(self, proj: int, ts: int) -> int:
        k = (ts - (self.now_ts - 200 * DAY)) // (14 * DAY)
        if 0 <= k < 16:
            return self._sprint_base[proj] + k
        return -1

    # ------------------------------------------------------------------ ground truth
    @property
    def ground_truth(self) -> dict[str, list[str]]:
        """Epic key -> sorted defect names, for every live epic (clean epics map to [])."""
        with self.lock:
            stamp = (self.version, self.edits)
            if self._truth_cache is None or self._truth_cache[0] != stamp:
                self._truth_cache = (stamp, self.compute_defects())
            return self._truth_cache[1]

    def compute_defects(self) -> dict[str, list[str]]:
        """Compute each epic's hygiene defects from the data (see :mod:`rollup.localjira.defects`)."""
        return defects.compute_defects(self)

    # ------------------------------------------------------------------ time moves on
    def plan_week(self, seed: int | None = None) -> dict:
        """What product managers do to the portfolio in a week, at ``now`` (call it after :meth:`advance`).

        :meth:`advance` moves the work under the epics; this moves the epics themselves, as the
        people who own them do: two new epics (with stories), finished epics closed, target dates
        slipped and one pulled in, stories added to two epics (scope growth), an epic started, one
        re-tagged to another pillar and one re-bucketed as tech debt. Each edit moves ``updated``
        (and records a history where Jira keeps one), so an incremental sync sees it.

        Last, one open story moves from one open epic to another of its team (the history Jira
        keeps as an Epic Link / parent change).

        Returns the epic keys per change: ``new``, ``completed``, ``started``, ``slipped`` (key, days),
        ``pulled_in`` (key, days), ``grown``, ``pillar_moved``, ``bucket_moved``, and ``child_moved``
        (story key, old epic key, new epic key).
        """
        with self.lock:
            rng = random.Random(self.seed * 7919 + self.version * 31 + (seed or 0))
            today = self.now.date().toordinal()
            out: dict = {"new": [], "completed": [], "started": [], "slipped": [], "pulled_in": [], "grown": [],
                         "pillar_moved": [], "bucket_moved": [], "child_moved": []}
            epics = [p for p in range(self.size) if not self.deleted[p] and self.itype[p] == T_EPIC]
            kids: dict[int, list[int]] = {}
            for p in range(self.size):
                if not self.deleted[p] and self.level(p) == 0 and self.parent[p] >= 0:
                    kids.setdefault(self.parent[p], []).append(p)
            open_epics = [p for p in epics if self.status[p] != S_DONE]
            owner = {p: (self.assignee[p] if self.assignee[p] >= 0 else self.reporter[p]) for p in epics}

            def set_status(pos: int, new: int) -> None:
                ts = self._touch(pos)
                self._add_history(pos, ts, H_STATUS, self.status[pos], new, owner.get(pos, API_USER), appended=True)
                self.status[pos], self.status_at[pos] = new, ts
                self.resolved[pos] = ts if new == S_DONE else 0

            def add_story(epic: int) -> None:
                pos = self._new_issue(self.proj[epic], T_STORY, self.now_ts - rng.randrange(1, 3 * DAY), parent=epic)
                self.assignee[pos] = self.team_user(rng, self.proj[epic])
                self.reporter[pos] = self.team_user(rng, self.proj[epic])
                self.sp[pos] = (2, 3, 5, 8)[rng.randrange(4)]
                self.updated[pos] = max(self.updated[pos], self.now_ts - rng.randrange(1, DAY))

            # Closed: the open epics nearest to done (every child done first).
            def done_share(p: int) -> float:
                children = kids.get(p, [])
                return sum(self.status[c] == S_DONE for c in children) / len(children) if children else 0.0
            in_progress = sorted((p for p in open_epics if self.status[p] != S_TODO),
                                 key=lambda p: (-done_share(p), p))
            for pos in in_progress[:2]:
                set_status(pos, S_DONE)
                out["completed"].append(self.key(pos))
            taken = set(in_progress[:2])
            pool = [p for p in open_epics if p not in taken]
            rng.shuffle(pool)
            # Started: an epic still in To Do.
            for pos in [p for p in pool if self.status[p] == S_TODO][:1]:
                set_status(pos, S_PROG)
                self.start[pos] = self.start[pos] or today
                out["started"].append(self.key(pos))
            # Slipped, and one pulled in.
            dated = [p for p in pool if self.target[p]]
            def move_target(pos: int, days: int) -> None:
                ts = self._touch(pos)
                self._add_history(pos, ts, H_TARGET, self.target[pos], self.target[pos] + days,
                                  owner.get(pos, API_USER), appended=True)
                self.target[pos] += days

            for pos in dated[:4]:
                days = 7 * (1 + rng.randrange(4))
                move_target(pos, days)
                out["slipped"].append((self.key(pos), days))
            for pos in dated[4:5]:
                days = 7
                move_target(pos, -days)
                out["pulled_in"].append((self.key(pos), -days))
            # Scope growth: stories added to two epics.
            for pos in dated[5:7]:
                for _ in range(max(3, len(kids.get(pos, [])) // 2)):
                    add_story(pos)
                self._touch(pos)
                out["grown"].append(self.key(pos))
            # Re-tagged to another pillar, and re-bucketed as tech debt (labels, so the mapping moves them).
            for pos in pool[7:]:
                labels = self.tuples[self.labels[pos]]
                pillar = [x for x in labels if x in PILLAR_LABELS]
                if not pillar:
                    continue
                others = sorted(PILLAR_LABELS - {pillar[0]})
                moved = tuple(others[rng.randrange(len(others))] if x == pillar[0] else x for x in labels)
                self.set_labels(pos, moved, author=owner.get(pos, API_USER))
                out["pillar_moved"].append(self.key(pos))
                break
            for pos in reversed(pool[7:]):
                labels = self.tuples[self.labels[pos]]
                if "tech-debt" in labels or "customer-ask" in labels or self.key(pos) in out["pillar_moved"]:
                    continue
                self.set_labels(pos, (*labels, "tech-debt"), author=owner.get(pos, API_USER))
                out["bucket_moved"].append(self.key(pos))
                break
            # Two new epics, tagged by label (pillar and OKR of their initiative), each with stories.
            inits = [p for p in range(self.size) if not self.deleted[p] and self.itype[p] == T_INIT]
            for _ in range(2):
                init = inits[rng.randrange(len(inits))] if inits else -1
                okr = OKRS[init % len(OKRS)] if init >= 0 else OKRS[rng.randrange(len(OKRS))]
                proj = next(i for i, p in enumerate(PROJECTS) if p.key == "PAY")
                pos = self._new_issue(proj, T_EPIC, self.now_ts - rng.randrange(DAY, 4 * DAY), parent=init)
                self.labels[pos] = self._intern((PILLARS[okr.pillar].label, okr.label))
                self.assignee[pos] = self.team_user(rng, proj)
                self.reporter[pos] = self.team_user(rng, proj)
                self.target[pos] = today + 28 * (2 + rng.randrange(4))
                self.desc[pos] = 2
                for _ in range(3 + rng.randrange(4)):
                    add_story(pos)
                self.updated[pos] = max(self.updated[pos], self.now_ts - rng.randrange(1, DAY))
                out["new"].append(self.key(pos))
            # A story moved to another open epic of its team.
            started = [p for p in open_epics if self.status[p] == S_PROG and p not in taken]
            movable = [(c, p) for p in started for c in kids.get(p, []) if self.status[c] != S_DONE
                       and self.itype[c] == T_STORY]
            if movable:
                child, old = movable[rng.randrange(len(movable))]
                targets = [p for p in started if p != old and self.proj[p] == self.proj[old]]
                if targets:
                    new = targets[rng.randrange(len(targets))]
                    ts = self._touch(child)
                    self._add_history(child, ts, H_EPIC, old, new, owner.get(new, API_USER), appended=True)
                    self.parent[child] = new
                    out["child_moved"].append((self.key(child), self.key(old), self.key(new)))
            self.edits += 1
            return out

    def advance(self, days: float = 1, seed: int | None = None) -> dict:
        """Move time forward: new issues, transitions, edits, deletions, moves, worklogs.

        Returns what changed: keys created / transitioned / edited / deleted, moves as
        (old key, new key), worklog ids added and deleted, and the new ``now``.
        """
        with self.lock:
            rng = random.Random(self.seed * 1000003 + (seed if seed is not None else self.version + 1))
            start = self.now_ts
            self.now = self.now + timedelta(days=days)
            self.now_ts = _ts(self.now)
            span = max(60, self.now_ts - start)
            live_work = [p for p in range(self.size)
                         if not self.deleted[p] and ISSUE_TYPES[self.itype[p]].level == 0]
            epics = [p for p in range(self.size)
                     if not self.deleted[p] and self.itype[p] == T_EPIC and self.status[p] != S_DONE]
            scale = max(1.0, len(live_work) / 2000)
            out: dict = {"created": [], "transitioned": [], "edited": [], "deleted": [], "moved": [],
                         "worklogs_added": [], "worklogs_deleted": []}

            def when() -> int:
                return start + 1 + rng.randrange(span - 1)

            for _ in range(max(1, int(8 * days * scale))):
                epos = epics[rng.randrange(len(epics))] if epics else -1
                proj = self.proj[epos] if epos >= 0 else 1 + rng.randrange(8)
                pos = self._new_issue(proj, T_STORY, when(), parent=epos)
                self.assignee[pos] = self.team_user(rng, proj)
                self.reporter[pos] = self.team_user(rng, proj)
                self.sp[pos] = (1, 2, 3, 5, 8)[rng.randrange(5)]
                self.desc[pos] = 3
                out["created"].append(self.key(pos))
            for _ in range(max(1, int(15 * days * scale))):
                pos = live_work[rng.randrange(len(live_work))]
                st = self.status[pos]
                if self.deleted[pos] or st == S_DONE:
                    continue
                ts = max(when(), self.updated[pos] + 1)
                new = st + 1
                author = self.assignee[pos] if self.assignee[pos] >= 0 else self.reporter[pos]
                self._add_history(pos, ts, 0, st, new, author, appended=True)
                self.status[pos] = new
                self.status_at[pos] = ts
                if new == S_DONE:
                    self.resolved[pos] = ts
                out["transitioned"].append(self.key(pos))
            for _ in range(max(1, int(5 * days * scale))):
                pos = live_work[rng.randrange(len(live_work))]
                if self.deleted[pos]:
                    continue
                ts = max(when(), self.updated[pos] + 1)
                old = self.sp[pos]
                new = (1, 2, 3, 5, 8, 13)[rng.randrange(6)]
                if new == old:  # not a change: Jira records none, and nothing is edited
                    continue
                self._add_history(pos, ts, 2, old, new, self.reporter[pos], appended=True)
                self.sp[pos] = new
                self.summary_override[pos] = self.summary(pos) + " (rescoped)"
                out["edited"].append(self.key(pos))
            has_children = {self.parent[p] for p in range(self.size) if self.itype[p] == T_SUB}
            for _ in range(max(1, int(1 * days * scale))):
                pos = live_work[rng.randrange(len(live_work))]
                if self.deleted[pos] or pos in has_children or self.itype[pos] == T_EPIC:
                    continue
                self.deleted[pos] = 1
                out["deleted"].append(self.key(pos))
            for _ in range(max(1, int(1 * days * scale))):
                pos = live_work[rng.randrange(len(live_work))]
                if self.deleted[pos] or pos in has_children:
                    continue
                old_key = self.key(pos)
                proj = 1 + rng.randrange(8)
                if proj == self.proj[pos]:
                    proj = 1 + (proj % 8)
                self.project_counter[proj] += 1
                self.proj[pos] = proj
                self.num[pos] = self.project_counter[proj]
                new_key = self.key(pos)
                self.key_index[new_key] = pos
                ts = max(when(), self.updated[pos] + 1)
                hpos = self._add_history(pos, ts, 3, 0, 0, self.reporter[pos], appended=True)
                self.h_keys[hpos] = (old_key, new_key)
                out["moved"].append((old_key, new_key))
            for _ in range(max(1, int(6 * days * scale))):
                pos = live_work[rng.randrange(len(live_work))]
                if self.deleted[pos] or PROJECTS[self.proj[pos]].key not in LOGGING_TEAMS \
                        or self.assignee[pos] < 0:
                    continue
                ts = when()
                w = self._add_worklog(pos, self.assignee[pos], ts - 3600, 3600 * (1 + rng.randrange(4)), ts)
                out["worklogs_added"].append(self.WL_BASE + w)
            live_wl = [w for w in range(len(self.wl_issue)) if w not in self.wl_deleted]
            for _ in range(max(1, int(days))):
                if not live_wl:
                    break
                w = live_wl[rng.randrange(len(live_wl))]
                if w in self.wl_deleted:
                    continue
                self.wl_deleted[w] = when() * 1000
                out["worklogs_deleted"].append(self.WL_BASE + w)
            self._finish_worklog_order()
            self.version += 1
            out["now"] = self.now.isoformat()
            return out
