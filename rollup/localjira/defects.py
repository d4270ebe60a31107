"""The sample organisation's deliberate data defects: how generation plants them, and the ground truth.

:class:`~rollup.localjira.sampleorg.SampleOrg` calls the planting functions while it builds epics and
their children, in a fixed order on its one random stream (so the same seed plants the same defects):
:func:`draw_no_initiative`, :func:`strategy_tags`, :func:`epic_owner` and :func:`plan_epic` per epic,
then :func:`story_epics` to share the stories out, :func:`plant_dangling_epic` for stories whose epic
link points nowhere, and :func:`child_created_before` / :func:`child_status_window` per child.

Epic hygiene ground truth (``org.ground_truth``: epic key -> sorted defect names) is *computed from the
data* by :func:`compute_defects`, with these exact definitions ("children" of an epic are the live
level-0 issues whose epic is that epic, in any project; "now" is ``org.now``):

- ``no-pillar``: no ``pillar-*`` label, no pillar component, no Investment value and no parent initiative.
- ``no-okr``: no ``okr-*`` label, no ``OKR ...`` component and no parent initiative.
- ``no-owner``: no assignee. ``owner-inactive``: the assignee's account is inactive.
- ``no-target-date``: "Target end" empty. ``target-date-passed``: not done and Target end < now's UTC date.
- ``no-start-date-in-progress``: status category indeterminate and "Start date" empty.
- ``short-description``: description has fewer than 20 words (short ones have <= 10, long ones >= 30,
  so wiki markup or ADF flattening cannot flip it).
- ``no-children``: 0 children. ``few-children``: 1 or 2 children.
- ``done-with-open-children``: epic done, at least one child not done.
- ``all-children-done-epic-open``: epic not done, at least one child, all children done.
- ``stale``: epic in progress, at least one child, and no child had a status change in the last 30 days.
- ``no-initiative``: no parent initiative.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from rollup.localjira.sampledata import (
    DAY,
    ISSUE_TYPES,
    OKR_COMPONENTS,
    OKR_LABELS,
    PILLAR_COMPONENTS,
    PILLAR_LABELS,
    PROJECTS,
    S_DONE,
    S_PROG,
    S_REVIEW,
    S_TODO,
    STATUSES,
    T_EPIC,
)

if TYPE_CHECKING:
    from rollup.localjira.sampleorg import SampleOrg

DEFECTS = (
    "no-pillar", "no-okr", "no-owner", "owner-inactive", "no-target-date", "target-date-passed",
    "no-start-date-in-progress", "short-description", "no-children", "few-children",
    "done-with-open-children", "all-children-done-epic-open", "stale", "no-initiative",
)

#: Each defect → the lint rule that must report it (the lint ground-truth test and bench/lint_accuracy.py).
EXPECTED_RULE = {
    "no-pillar": "EQ001", "no-okr": "EQ002", "no-owner": "EQ010", "owner-inactive": "EQ011",
    "no-target-date": "EQ020", "target-date-passed": "EQ021", "no-start-date-in-progress": "EQ022",
    "short-description": "EQ030", "no-children": "EQ040", "few-children": "EQ041",
    "done-with-open-children": "EQ050", "all-children-done-epic-open": "EQ051", "stale": "EQ052",
    "no-initiative": "EQ054",
}

#: The window in which the first child of an epic in progress last moved (so the epic is not stale).
RECENT = 25 * DAY


@dataclass(slots=True)
class EpicPlan:
    """What generation intends for one epic: its final status and the shape of its children."""

    final: int  # the epic's final status
    children: str = "many"  # "none", "few" (1 or 2) or "many" (3 or more)
    stale: bool = False  # no child moved in the last 30 days
    open_children: bool = False  # done, with a child still open
    all_done: bool = False  # every child done


# ---------------------------------------------------------------------- planting, per epic
def draw_no_initiative(rng: random.Random) -> bool:
    """Whether the next epic gets no parent initiative."""
    return rng.random() < 0.12


def strategy_tags(rng: random.Random, no_initiative: bool, tagging: str) -> tuple[bool, bool]:
    """Whether the epic carries its (pillar, OKR) tags: often not without an initiative, at times not in
    teams of mixed habits."""
    tag_pillar = tag_okr = True
    if no_initiative:
        tag_pillar = rng.random() >= 0.55
        tag_okr = rng.random() >= 0.55
    elif tagging == "mixed" and rng.random() < 0.3:
        tag_pillar = tag_okr = False
    return tag_pillar, tag_okr


def epic_owner(org: SampleOrg, rng: random.Random, proj: int) -> int:
    """The epic's assignee: at times nobody (-1) or someone whose account is inactive."""
    r = rng.random()
    if r < 0.07:
        return -1
    if r < 0.13:
        return org.team_user(rng, proj, active=False)
    return org.team_user(rng, proj)


def plan_epic(org: SampleOrg, rng: random.Random, pos: int, created: int) -> EpicPlan:
    """Draw the epic's final status, dates and description, and plan its children.

    Sets the epic's Target end, Start date and description kind; a stale epic is backdated so its
    children can all be older than 30 days.
    """
    now = org.now_ts
    today = org.now.date().toordinal()
    r = rng.random()
    final = S_DONE if r < 0.25 else S_PROG if r < 0.75 else S_TODO
    plan = EpicPlan(final)
    # Dates.
    if rng.random() < 0.10:
        org.target[pos] = 0
    elif final != S_DONE and rng.random() < 0.13:
        org.target[pos] = today - rng.randrange(1, 60)
    else:
        org.target[pos] = today + rng.randrange(0, 200) if final != S_DONE else today - rng.randrange(1, 90)
    if final == S_PROG:
        org.start[pos] = 0 if rng.random() < 0.15 else (
            datetime.fromtimestamp(created, UTC).date() + timedelta(days=rng.randrange(1, 20))).toordinal()
    elif final == S_DONE or rng.random() < 0.5:
        org.start[pos] = (datetime.fromtimestamp(created, UTC).date()
                          + timedelta(days=rng.randrange(1, 20))).toordinal()
    org.desc[pos] = (0 if rng.random() < 0.4 else 1) if rng.random() < 0.10 else (
        2 if rng.random() < 0.6 else 3)
    # Children.
    r = rng.random()
    plan.children = "none" if r < 0.07 else "few" if r < 0.15 else "many"
    if plan.children != "none":
        if final == S_DONE:
            plan.open_children = rng.random() < 0.3
            plan.all_done = not plan.open_children
        else:
            plan.all_done = rng.random() < 0.12
        if final == S_PROG:
            plan.stale = rng.random() < 0.15
    if plan.stale:
        org.created[pos] = min(created, now - 120 * DAY)
    return plan


# ---------------------------------------------------------------------- planting, the children
def story_epics(rng: random.Random, plans: list[EpicPlan], n_story: int) -> list[int]:
    """Which epic each story belongs to, in order: an epic index, -1 (no epic) or -2 (a dangling link).

    Epics planned with "few" children get 1 or 2, "many" at least 3 (the rest shared out at random),
    "none" none; about 3% of the stories have no epic and 0.3% link to an epic that does not exist.
    """
    n_orphan = max(3, n_story * 3 // 100)
    n_dangling = max(3, n_story * 3 // 1000)
    n_linked = n_story - n_orphan - n_dangling
    quota = [0] * len(plans)
    many = [i for i, p in enumerate(plans) if p.children == "many"]
    left = n_linked
    for i, p in enumerate(plans):
        if p.children == "few":
            quota[i] = 1 + rng.randrange(2)
            left -= quota[i]
    for i in many:
        quota[i] = 3
        left -= 3
    if left < 0:
        raise ValueError("not enough stories for the epics; raise issues")
    for _ in range(left):
        quota[many[rng.randrange(len(many))]] += 1
    # Stable assignment: epics in order, each with its quota.
    out: list[int] = []
    for i, q in enumerate(quota):
        out.extend([i] * q)
    out.extend([-1] * n_orphan)
    out.extend([-2] * n_dangling)
    return out


def plant_dangling_epic(org: SampleOrg, pos: int, proj: int) -> None:
    """Give the story at ``pos`` an epic link to a key of its project that does not exist."""
    missing = org.project_counter[proj] + 50000 + len(org.dangling_epic)
    org.dangling_epic[pos] = f"{PROJECTS[proj].key}-{missing}"


def child_created_before(plan: EpicPlan, now: int) -> int:
    """The latest creation time of a child of the epic (children of a stale epic are old)."""
    return now - 40 * DAY if plan.stale else now - 2 * DAY


def child_status(rng: random.Random, plan: EpicPlan, k: int) -> int:
    """The final status of the epic's ``k``-th child, as its plan asks."""
    if plan.all_done:
        return S_DONE
    if plan.open_children:
        return S_PROG if k == 0 else S_DONE
    if plan.final == S_TODO:
        return S_TODO if (k == 0 or rng.random() < 0.8) else S_PROG
    if plan.final == S_DONE:
        return S_DONE
    if k == 0:
        return S_PROG
    r = rng.random()
    return S_DONE if r < 0.4 else S_REVIEW if r < 0.55 else S_PROG if r < 0.8 else S_TODO


def child_status_window(rng: random.Random, plan: EpicPlan, k: int, created: int,
                        now: int) -> tuple[int, int, int]:
    """The ``k``-th child's final status and the window of its last status change: (final, lo, hi).

    Children of a stale epic last moved over 30 days ago; the first child of an epic in progress moved
    recently, so only planned staleness makes an epic stale.
    """
    final = child_status(rng, plan, k)
    if plan.stale:
        return final, created + 3600, now - 31 * DAY
    if k == 0 and plan.final == S_PROG:
        if final == S_TODO:
            final = S_PROG
        return final, max(created + 3600, now - RECENT), now - 3600
    return final, created + 3600, now - 3600


# ---------------------------------------------------------------------- ground truth
def compute_defects(org: SampleOrg) -> dict[str, list[str]]:
    """Compute each live epic's hygiene defects from the data (definitions in the module docstring)."""
    now = org.now_ts
    today = org.now.date().toordinal()
    kids: dict[int, list[int]] = {}
    for pos in range(org.size):
        if org.deleted[pos] or ISSUE_TYPES[org.itype[pos]].level != 0:
            continue
        e = org.parent[pos]
        if e >= 0 and org.itype[e] == T_EPIC and not org.deleted[e]:
            kids.setdefault(e, []).append(pos)
    truth: dict[str, list[str]] = {}
    for pos in range(org.size):
        if org.deleted[pos] or org.itype[pos] != T_EPIC:
            continue
        d: list[str] = []
        labels = org.tuples[org.labels[pos]]
        comps = org.tuples[org.comps[pos]]
        init = org.parent[pos]
        has_init = init >= 0 and not org.deleted[init]
        if not (has_init or PILLAR_LABELS.intersection(labels) or PILLAR_COMPONENTS.intersection(comps)
                or org.invest[pos] >= 0):
            d.append("no-pillar")
        if not (has_init or OKR_LABELS.intersection(labels) or OKR_COMPONENTS.intersection(comps)):
            d.append("no-okr")
        a = org.assignee[pos]
        if a < 0:
            d.append("no-owner")
        elif not org.users[a].active:
            d.append("owner-inactive")
        cat = STATUSES[org.status[pos]].category
        if not org.target[pos]:
            d.append("no-target-date")
        elif cat != "done" and org.target[pos] < today:
            d.append("target-date-passed")
        if cat == "indeterminate" and not org.start[pos]:
            d.append("no-start-date-in-progress")
        if org.description_words(pos) < 20:
            d.append("short-description")
        children = kids.get(pos, [])
        if not children:
            d.append("no-children")
        elif len(children) <= 2:
            d.append("few-children")
        open_kids = sum(1 for c in children if org.status[c] != S_DONE)
        if cat == "done" and open_kids:
            d.append("done-with-open-children")
        if cat != "done" and children and not open_kids:
            d.append("all-children-done-epic-open")
        if cat == "indeterminate" and children:
            last = max(org.status_at[c] for c in children)
            if last < now - 30 * DAY:
                d.append("stale")
        if not has_init:
            d.append("no-initiative")
        truth[org.key(pos)] = sorted(d)
    return truth
