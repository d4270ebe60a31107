"""A small hand-built organisation, already mapped, whose figures are worked out by hand.

As of Thursday 2026-11-26 (ISO week 2026-W48). Effort window: (2026-08-27, 2026-11-26].
Throughput window: (2026-10-29, 2026-11-26].

| epic   | pillar | kr  | bucket  | team | target     | children (points, done on)                          | RAG |
|--------|--------|-----|---------|------|------------|-----------------------------------------------------|-----|
| ENT-1  | ENT    | KR1 | new     | pay  | 2026-12-31 | 4@11-10 3@11-20 5@09-15, 8 open, 2 open             | at risk: 10 left / (7/28 per day) = 40 days → 2027-01-05, 5 days late |
| ENT-2  | ENT    | KR2 | enh     | clin | 2026-12-15 | 10@11-05, 4 open                                    | on track: 12 days → 2026-12-08 |
| ENT-3  | ENT    | KR1 | new     | pay  | 2027-02-15 | 6@11-25, 6 open                                     | on track; target was 2027-01-31 a week ago (slipped 15 days) |
| RET-1  | RET    | KR3 | enh     | sch  | 2026-11-20 | 3@10-01, 5 open                                     | off track: target passed |
| RET-2  | RET    | KR3 | new     | sch  | 2026-10-31 | 2@09-10 3@10-20 (epic done)                         | done (completed this week) |
| GROW-1 | GROW   | (O3)| new     | pay  | none       | 2 open, unestimated                                 | not rated |
| PLAT-1 | PLAT   | —   | ktlo    | clin | 2027-03-31 | 5@11-15 5@09-01, 20 open                            | on track: 112 days → 2027-03-18; scope 20 → 30 |
| PLAT-2 | PLAT   | —   | support | pay  | 2026-12-10 | 2@10-15, 8 open                                     | at risk: nothing finished in 28 days, target near |
| PLAT-3 | PLAT   | —   | debt    | sch  | 2027-06-30 | 3 open                                              | on track (far target); pillar was ENT a week ago |
| UNM-1  | —      | —   | —       | —    | 2027-01-31 | 2@11-01, 2 open                                     | on track: 28 days → 2026-12-24; new this week |

Effort in the window (story points): ENT 28, RET 8, GROW 0, PLAT 12, Unmapped 2 → total 50:
shares 0.56 / 0.16 / 0 / 0.24 / 0.04. Strategy (capex new+enh) 36/50 = 0.72, KTLO (ktlo+support) 12/50 = 0.24.
A week ago (window ending 2026-11-19): ENT 19 of 41 → +11 pp; GROW −15 pp.

Key results (62 % of Q4 gone, 57/92 days; key_result_tolerance 5 pp): KR1 18/34 = 53 %, behind by 9 pp;
KR2 10/14 on track; KR3 8/13 on track (0.4 pp); KR4 no work planned; KR5 (Q3, ended) missed at 0 % — GROW-1
names OKR O3 only, whose single key result KR5 is implied. Objectives: O1 28/48 on track, O2 on track, O3 missed.

Hygiene (lint EQ001/002/004/010/020 at info or above): ENT-1, ENT-2, ENT-3, RET-1, RET-2 pass; GROW-1 (no
owner, no target), PLAT-1/2/3 (no OKR) and UNM-1 fail → 5/10; Payments 2/4, Scheduling 2/3, Clinical records
1/2, Unmapped 0/1. At risk or off track: 3 (22 + 10 + 8 of 105 open size). Decisions: ENT-1, ENT-3 (slipped),
PLAT-2, RET-1.
"""  # noqa: E501 - the table of the organisation is wider than a line

from __future__ import annotations

from datetime import date, datetime, timezone

import pandas as pd

from rollup.config import parse_config

AS_OF = date(2026, 11, 26)
BASE_URL = "https://example.atlassian.net"

#: The organisation's mappings.yaml. Its lint runs the five rules that say whether an epic is fit to
#: roll up (pillar, OKR, bucket, owner, target date), so its hygiene can be worked out by hand, and
#: the two about data the rollup cannot use (points out of range, epics not visible).
CONFIG_YAML = """\
jira: {projects: [ENT, RET, GROW, PLAT, UNM, STRAT]}
# Rated by the linear rule, worked out by hand above (tests/forecast rate by the forecast).
forecast: {rag: false, backtest_weeks: 0}
pillars:
  - {id: ENT, name: Win enterprise hospitals, target_share: 35%}
  - {id: RET, name: Retain and delight clinics, target_share: 25%}
  - {id: GROW, name: Grow new practices, target_share: 15%}
  - {id: PLAT, name: Platform reliability and compliance, target_share: 25%}
okrs:
  - id: O1
    objective: Land 5 hospital systems
    quarter: 2026-Q4
    pillar: ENT
    key_results:
      - {id: KR1, name: SSO and audit logs GA, target: 1, unit: release}
      - {id: KR2, name: HL7 integration certified, target: 1, unit: certification}
  - id: O2
    objective: Cut churn of small clinics to 1.5%/month
    quarter: 2026-Q4
    pillar: RET
    key_results:
      - {id: KR3, name: Self-serve rescheduling, target: 1, unit: release}
      - {id: KR4, name: Churn 1.5%/month, target: 1.5, unit: "%/month"}
  - id: O3
    objective: Self-serve onboarding for new practices
    quarter: 2026-Q3
    pillar: GROW
    key_results:
      - {id: KR5, name: Practices onboarded without a sales call, target: 60, unit: "%"}
buckets:
  - {id: new, name: New capability, treatment: capex}
  - {id: enh, name: Major enhancement, treatment: capex}
  - {id: ktlo, name: Maintenance / KTLO, treatment: opex}
  - {id: debt, name: Tech debt, treatment: opex}
  - {id: support, name: Defects and support, treatment: opex}
teams:
  - {id: pay, name: Payments, recognised_by: {projects: [PAY]}}
  - {id: sch, name: Scheduling, recognised_by: {projects: [SCH]}}
  - {id: clin, name: Clinical records, recognised_by: {projects: [CLIN]}}
report:
  key_result_tolerance: 5%
lint:
  select: [EQ001, EQ002, EQ004, EQ010, EQ020, EQ043, EQ055]
"""

MAPPINGS = parse_config(CONFIG_YAML, source="portfolio_org.yaml")

# key, pillar, okr, kr, bucket, team, owner, status, category, start, target, children
# children: (points or None, resolved date or None)
EPICS = [
    ("ENT-1", "ENT", "O1", "KR1", "new", "pay", "Ana", "In Progress", "indeterminate",
     date(2026, 10, 1), date(2026, 12, 31),
     [(4, date(2026, 11, 10)), (3, date(2026, 11, 20)), (5, date(2026, 9, 15)), (8, None), (2, None)]),
    ("ENT-2", "ENT", "O1", "KR2", "enh", "clin", "Ben", "In Progress", "indeterminate",
     date(2026, 10, 15), date(2026, 12, 15),
     [(10, date(2026, 11, 5)), (4, None)]),
    ("ENT-3", "ENT", "O1", "KR1", "new", "pay", "Ivy", "In Progress", "indeterminate",
     date(2026, 11, 1), date(2027, 2, 15),
     [(6, date(2026, 11, 25)), (6, None)]),
    ("RET-1", "RET", "O2", "KR3", "enh", "sch", "Chen", "In Progress", "indeterminate",
     date(2026, 9, 1), date(2026, 11, 20),
     [(3, date(2026, 10, 1)), (5, None)]),
    ("RET-2", "RET", "O2", "KR3", "new", "sch", "Dee", "Done", "done", date(2026, 9, 1), date(2026, 10, 31),
     [(2, date(2026, 9, 10)), (3, date(2026, 10, 20))]),
    ("GROW-1", "GROW", "O3", None, "new", "pay", None, "To Do", "new", None, None,
     [(None, None), (None, None)]),
    ("PLAT-1", "PLAT", None, None, "ktlo", "clin", "Eve", "In Progress", "indeterminate",
     date(2026, 8, 1), date(2027, 3, 31),
     [(5, date(2026, 11, 15)), (5, date(2026, 9, 1)), (20, None)]),
    ("PLAT-2", "PLAT", None, None, "support", "pay", "Fay", "In Progress", "indeterminate",
     date(2026, 10, 1), date(2026, 12, 10),
     [(2, date(2026, 10, 15)), (8, None)]),
    ("PLAT-3", "PLAT", None, None, "debt", "sch", "Gus", "To Do", "new", None, date(2027, 6, 30),
     [(3, None)]),
    ("UNM-1", None, None, None, None, None, "Hal", "In Progress", "indeterminate", date(2026, 11, 1), date(2027, 1, 31),
     [(2, date(2026, 11, 1)), (2, None)]),
]

INITIATIVE_OF = {"ENT-1": "INIT-1", "ENT-2": "INIT-1", "ENT-3": "INIT-1"}


def _row(**values):
    base = {
        "id": None, "key": None, "project_key": None, "issue_type": "Story", "hierarchy_level": 0,
        "parent_key": None, "epic_key": None, "status": "To Do", "status_category": "new",
        "assignee_id": None, "assignee_name": None, "assignee_active": True,
        "created": datetime(2026, 8, 1, tzinfo=timezone.utc), "updated": datetime(2026, 11, 25, tzinfo=timezone.utc),
        "resolved": None, "story_points": None, "start_date": None, "target_date": None, "due_date": None,
        "labels": [], "components": [], "fix_versions": [], "team": None, "sprint": None,
        "summary": "", "description": "", "description_length": 0, "custom": {}, "changelog_complete": True,
        "epic": None, "initiative": None, "pillar": None, "okr": None, "key_result": None, "bucket": None,
        "team_id": None,
    }
    base.update(values)
    return base


def mapped_issues(summaries: dict[str, str] | None = None, descriptions: dict[str, str] | None = None,
                  *, hidden: tuple[str, ...] = (), story_points: dict[str, float] | None = None) -> pd.DataFrame:
    """The mapped issues frame of the organisation (optionally with hostile summaries/descriptions).

    ``hidden``: epics the store does not hold (private, deleted or out of scope): their rows are left
    out and their children keep their links but, as the mapping would leave them, no epic and nothing
    inherited from it (their team comes from their project). ``story_points``: points to put on
    children by key, e.g. ``{"ENT-1-S4": 999}``.
    """
    summaries, descriptions = summaries or {}, descriptions or {}
    rows = [_row(id=1, key="INIT-1", project_key="STRAT", issue_type="Initiative", hierarchy_level=2,
                 status="In Progress", status_category="indeterminate", summary="Hospital readiness",
                 initiative="INIT-1", pillar="ENT")]
    next_id = 100
    for key, pillar, okr, kr, bucket, team, owner, status, cat, start, target, kids in EPICS:
        epic_id = next_id
        next_id += 1
        rows.append(_row(
            id=epic_id, key=key, project_key=key.split("-")[0], issue_type="Epic", hierarchy_level=1,
            parent_key=INITIATIVE_OF.get(key), status=status, status_category=cat, assignee_name=owner,
            assignee_id=owner.lower() if owner else None, start_date=start, target_date=target,
            summary=summaries.get(key, f"Epic {key}"), description=descriptions.get(key, ""),
            epic=key, initiative=INITIATIVE_OF.get(key), pillar=pillar, okr=okr, key_result=kr, bucket=bucket,
            team_id=team,
            resolved=datetime(2026, 11, 24, 10, tzinfo=timezone.utc) if cat == "done" else None,
        ))
        for n, (points, resolved) in enumerate(kids, start=1):
            child_key = f"{key}-S{n}"
            rows.append(_row(
                id=next_id, key=child_key, project_key=key.split("-")[0], parent_key=key, epic_key=key,
                status="Done" if resolved else "In Progress", status_category="done" if resolved else "indeterminate",
                resolved=datetime(resolved.year, resolved.month, resolved.day, 15,
                                  tzinfo=timezone.utc) if resolved else None,
                story_points=float(points) if points is not None else None,
                summary=summaries.get(child_key, f"Story {n} of {key}"), description=descriptions.get(child_key, ""),
                epic=key, initiative=INITIATIVE_OF.get(key), pillar=pillar, okr=okr, key_result=kr, bucket=bucket,
                team_id=team, changelog_complete=not (key == "PLAT-1" and n == 3),
            ))
            next_id += 1
    frame = pd.DataFrame(rows)
    for key, value in (story_points or {}).items():
        frame.loc[frame["key"] == key, "story_points"] = float(value)
    if hidden:
        frame = frame[~frame["key"].isin(hidden)].reset_index(drop=True)
        orphan = frame["epic"].isin(hidden) & frame["hierarchy_level"].eq(0)
        frame.loc[orphan, ["epic", "initiative", "pillar", "okr", "key_result", "bucket"]] = None
    frame["description_length"] = frame["description"].str.len()
    cats = {"pillar": [p.id for p in MAPPINGS.pillars], "bucket": [b.id for b in MAPPINGS.buckets]}
    for col, order in cats.items():
        frame[col] = pd.Categorical(frame[col], categories=order, ordered=True)
    for col in ("pillar", "okr", "key_result", "bucket", "team_id"):
        frame[f"{col}_source"] = ["rule test (mappings.yaml:1)" if v is not None and not pd.isna(v) else "unmapped"
                                  for v in frame[col]]
    return frame


def epic_ids() -> dict[str, int]:
    """Epic key → id, as :func:`mapped_issues` numbers them."""
    frame = mapped_issues()
    epics = frame[frame["hierarchy_level"] == 1]
    return dict(zip(epics["key"], epics["id"].astype(int)))


def snapshots() -> pd.DataFrame:
    """Stored snapshots: runs of 2026-11-12, 2026-11-19 (the baseline) and 2026-11-24 (too recent)."""
    from rollup.views import epics as epics_view

    now = epics_view.compute(mapped_issues(), MAPPINGS, as_of=AS_OF, lint=None, forecast=None)
    payloads = {key: p for _, key, p in epics_view.snapshot_payload(now)}
    ids = epic_ids()

    def run(run_id: int, when: datetime, edit) -> list[dict]:
        out = []
        for key, payload in payloads.items():
            p = dict(payload)
            if edit(key, p) is False:
                continue
            out.append({"run_id": run_id, "taken_at": when, "issue_id": ids[key], "key": key, "payload": p})
        return out

    def week_ago(key, p):
        if key == "UNM-1":
            return False
        if key == "ENT-3":
            p["target_date"] = "2027-01-31"
        if key == "RET-2":
            p["status"], p["status_category"], p["rag"] = "In Progress", "indeterminate", "on track"
        if key == "PLAT-1":
            p["size"], p["points_total"] = 20.0, 20.0
        if key == "PLAT-3":
            p["pillar"] = "ENT"
        return True

    def older(key, p):
        week_ago(key, p)
        if key == "ENT-1":
            p["target_date"] = "2026-12-01"
        return True

    rows = (run(1, datetime(2026, 11, 12, 6, tzinfo=timezone.utc), older)
            + run(2, datetime(2026, 11, 19, 6, tzinfo=timezone.utc), week_ago)
            + run(3, datetime(2026, 11, 24, 6, tzinfo=timezone.utc), lambda k, p: True))
    return pd.DataFrame(rows)


SYNC_RUNS = [
    {"id": 1, "started": datetime(2026, 11, 25, 22, tzinfo=timezone.utc),
     "finished": datetime(2026, 11, 25, 22, 5, tzinfo=timezone.utc), "mode": "incremental", "status": "ok",
     "retries": 2, "throttled": 1},
]
