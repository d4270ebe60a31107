"""The mapping's view of ``mappings.yaml``: declared ids per attribute and the rules in run order.

The pydantic models themselves live in :mod:`rollup.config.models` (one file is parsed at the door);
this module turns a :class:`~rollup.config.RollupConfig` into what :func:`rollup.mapping.apply`
runs: :class:`CompiledRule` objects in precedence order, explicit rules first (by ``priority``,
highest first, then file order), then one rule per team built from ``recognised_by``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from rollup.config.models import RollupConfig, RuleMatch, Team

__all__ = ["ATTRIBUTES", "SET_KEYS", "CompiledRule", "compile_rules", "declared_ids"]

#: The mapped attributes, as column names, in the order they are reported.
ATTRIBUTES = ("pillar", "okr", "key_result", "bucket", "team_id")
#: Column name → the key a rule's ``set:`` uses for it.
SET_KEYS = {"pillar": "pillar", "okr": "okr", "key_result": "key_result", "bucket": "bucket", "team_id": "team"}

#: Tier of the team rules: after every explicit rule, whatever its priority.
TEAM_TIER = ("teams",)


@dataclass(frozen=True)
class CompiledRule:
    """One rule as the engine runs it.

    ``sets`` maps column names (``team_id``, not ``team``) to ids. Rules with the same ``tier``
    are equals: a later match that disagrees with the first is a conflict. ``team`` is the
    :class:`Team` a team rule was built from (None for explicit rules).
    """

    id: str
    provenance: str
    tier: tuple
    sets: dict[str, str]
    when: RuleMatch | None = None
    team: Team | None = None
    priority: int | None = None
    line: int | None = None
    extra: dict = field(default_factory=dict)


def declared_ids(mappings: RollupConfig) -> dict[str, list[str]]:
    """Column name → declared ids in file order (key results in OKR order)."""
    return {
        "pillar": [p.id for p in mappings.pillars],
        "okr": [o.id for o in mappings.okrs],
        "key_result": [kr.id for o in mappings.okrs for kr in o.key_results],
        "bucket": [b.id for b in mappings.buckets],
        "team_id": [t.id for t in mappings.teams],
    }


def compile_rules(mappings: RollupConfig) -> list[CompiledRule]:
    """Explicit rules by priority (highest first) then file order, then one rule per team."""
    ordered = sorted(enumerate(mappings.rules), key=lambda pair: (-pair[1].priority, pair[0]))
    out = [
        CompiledRule(
            id=rule.id,
            provenance=rule.provenance,
            tier=("rules", rule.priority),
            sets={column: value for column, key in SET_KEYS.items() if (value := getattr(rule.set, key)) is not None},
            when=rule.when,
            priority=rule.priority,
            line=rule.line,
        )
        for _, rule in ordered
    ]
    for team in mappings.teams:
        out.append(
            CompiledRule(
                id=f"team:{team.id}",
                provenance=f"rule team:{team.id} ({mappings.source}:{team.line})",
                tier=TEAM_TIER,
                sets={"team_id": team.id},
                team=team,
                line=team.line,
            )
        )
    return out
