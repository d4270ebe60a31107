"""Small hand-made organisations for the lint tests: issue dicts → typed frame → real mapping → lint.

Issue dicts use a short form (:func:`issue_rows`): ``key``, ``type`` (Initiative / Epic / Story /
Task / Bug / Sub-task), ``status`` (``new`` / ``indeterminate`` / ``done``), ``parent`` (the
Cloud parent key), ``assignee`` (a name; ``assignee_active: false`` for a deactivated account),
dates as ISO strings, and ``status_changes`` (ISO datetimes of status transitions). Anything
else (``labels``, ``components``, ``story_points``, ``description``, ``custom``, ``updated``,
``target_date`` …) is passed to :func:`rollup.frames.issues_frame` as is.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from rollup.config import RollupConfig, parse_config
from rollup.frames import TRANSITION_COLUMNS, issues_frame
from rollup.lint import LintResult, run_lint
from rollup.mapping import apply

#: The repository root (mappings.yaml, docs/).
REPO_ROOT = Path(__file__).resolve().parents[2]
AS_OF = date(2026, 11, 23)

#: The mapping every case runs through (a case's ``lint:`` section is added to it).
BASE_CONFIG = """\
jira:
  projects: [PAY, SCH, STRAT]
  extra_fields: [Investment, Product owner]
pillars:
  - {id: enterprise, name: Win enterprise hospitals, target_share: 60%}
  - {id: platform, name: Platform reliability, target_share: 40%}
okrs:
  - id: q3-pilots
    objective: Land 3 hospital pilots
    quarter: 2026-Q3
    pillar: enterprise
    key_results:
      - {id: q3-pilots-signed, name: Pilots signed, target: 3}
  - id: q4-hospitals
    objective: Land 5 hospital systems
    quarter: 2026-Q4
    pillar: enterprise
    key_results:
      - {id: q4-sso, name: SSO GA, target: 1}
      - {id: q4-hl7, name: HL7 certified, target: 1}
buckets:
  - {id: new-capability, name: New capability, treatment: capex}
  - {id: ktlo, name: Maintenance / KTLO, treatment: opex}
teams:
  - {id: payments, name: Payments, recognised_by: {projects: [PAY]}}
  - {id: scheduling, name: Scheduling, recognised_by: {projects: [SCH]}}
rules:
  - {id: pillar-label-enterprise, priority: 10, when: {labels: [pillar-enterprise]}, set: {pillar: enterprise}}
  - {id: pillar-label-platform, priority: 10, when: {labels: [pillar-platform]}, set: {pillar: platform}}
  - {id: pillar-component-platform, priority: 10, when: {components: [Reliability]}, set: {pillar: platform}}
  - {id: okr-label-q3-pilots, priority: 10, when: {labels: [okr-q3-pilots]}, set: {okr: q3-pilots}}
  - {id: okr-label-q4-hospitals, priority: 10, when: {labels: [okr-q4-hospitals]}, set: {okr: q4-hospitals}}
  - id: okr-label-q4-sso
    priority: 10
    when: {labels: [okr-q4-sso]}
    set: {okr: q4-hospitals, key_result: q4-sso}
  - {id: bucket-new, priority: 10, when: {labels: [new-capability]}, set: {bucket: new-capability}}
  - {id: bucket-default, priority: -10, when: {issue_type: [Epic], labels: {none: [no-bucket]}}, set: {bucket: ktlo}}
"""

LEVELS = {"Initiative": 2, "Epic": 1, "Story": 0, "Task": 0, "Bug": 0, "Sub-task": -1}


def config(lint: dict[str, Any] | None = None) -> RollupConfig:
    """The base configuration with ``lint`` as its ``lint:`` section."""
    text = BASE_CONFIG + (yaml.safe_dump({"lint": lint}, sort_keys=False) if lint else "")
    return parse_config(text, source="case.yaml")


def issue_rows(issues: list[dict[str, Any]]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """``(issues frame, transitions frame)`` from short-form issue dicts (see the module docstring)."""
    rows, transitions = [], []
    for n, spec in enumerate(issues):
        spec = dict(spec)
        issue_type = spec.pop("type", "Story")
        assignee = spec.pop("assignee", None)
        active = spec.pop("assignee_active", True)
        parent = spec.pop("parent", None)
        changes = spec.pop("status_changes", [])
        row = {
            "id": 1000 + n,
            "project_key": spec["key"].split("-")[0],
            "issue_type": issue_type,
            "hierarchy_level": LEVELS[issue_type],
            "parent_key": parent,
            "status_category": spec.pop("status", "new"),
            "assignee_id": f"acc-{assignee}" if assignee else None,
            "assignee_name": assignee,
            "assignee_active": bool(active) if assignee else None,
            "created": "2026-06-01T09:00:00+00:00",
            "updated": spec.pop("updated", "2026-11-20T09:00:00+00:00"),
            "summary": f"{issue_type} {spec['key']}",
            "description": " ".join(["word"] * 30),
            "labels": [],
            "components": [],
            "custom": {},
            "changelog_complete": True,
            **spec,
        }
        row["status"] = {"new": "To Do", "indeterminate": "In Progress", "done": "Done"}[row["status_category"]]
        rows.append(row)
        for h, at in enumerate(changes):
            transitions.append({"issue_id": row["id"], "history_id": row["id"] * 100 + h, "field": "status",
                                "at": pd.Timestamp(at, tz="UTC"), "from_value": "To Do",
                                "to_value": "In Progress", "to_category": "indeterminate", "author_id": None})
    frame = pd.DataFrame(transitions, columns=list(TRANSITION_COLUMNS))
    frame["at"] = pd.to_datetime(frame["at"], utc=True)
    return issues_frame(rows), frame


def lint(issues: list[dict[str, Any]], lint_section: dict[str, Any] | None = None, *, as_of: date = AS_OF,
         with_transitions: bool = True, **kwargs: Any) -> LintResult:
    """Run the real mapping and the lint over short-form issues."""
    cfg = config(lint_section)
    frame, transitions = issue_rows(issues)
    return run_lint(apply(frame, cfg), cfg, as_of=as_of, transitions=transitions if with_transitions else None,
                    **kwargs)
