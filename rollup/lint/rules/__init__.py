"""The epic-quality rules, one per module, listed in :data:`RULES` in the order they run (by code).

Add a rule by adding a module with one :class:`rollup.lint.base.Rule` subclass, its entry in
:data:`RULES`, a case file ``tests/lint/cases/<CODE>-<name>.yaml`` and a regenerated
``docs/lint-rules.md``.
"""

from rollup.lint.rules.eq001_missing_pillar import MissingPillar
from rollup.lint.rules.eq002_missing_okr import MissingOkr
from rollup.lint.rules.eq003_missing_key_result import MissingKeyResult
from rollup.lint.rules.eq004_missing_bucket import MissingBucket
from rollup.lint.rules.eq005_mapping_conflict import MappingConflict
from rollup.lint.rules.eq006_unmapped_strategy_tag import UnmappedStrategyTag
from rollup.lint.rules.eq007_past_quarter_okr import PastQuarterOkr
from rollup.lint.rules.eq010_missing_owner import MissingOwner
from rollup.lint.rules.eq011_owner_inactive import OwnerInactive
from rollup.lint.rules.eq020_missing_target_date import MissingTargetDate
from rollup.lint.rules.eq021_target_date_passed import TargetDatePassed
from rollup.lint.rules.eq022_missing_start_date import MissingStartDate
from rollup.lint.rules.eq023_too_long import TooLong
from rollup.lint.rules.eq030_short_description import ShortDescription
from rollup.lint.rules.eq031_missing_sections import MissingSections
from rollup.lint.rules.eq040_no_children import NoChildren
from rollup.lint.rules.eq041_too_small import TooSmall
from rollup.lint.rules.eq042_unestimated_children import UnestimatedChildren
from rollup.lint.rules.eq043_points_out_of_range import PointsOutOfRange
from rollup.lint.rules.eq050_done_with_open_children import DoneWithOpenChildren
from rollup.lint.rules.eq051_open_with_all_children_done import OpenWithAllChildrenDone
from rollup.lint.rules.eq052_stale import Stale
from rollup.lint.rules.eq053_not_updated import NotUpdated
from rollup.lint.rules.eq054_missing_initiative import MissingInitiative
from rollup.lint.rules.eq055_epic_not_visible import EpicNotVisible

#: Every rule, in the order they run and are documented (by code).
RULES = (
    MissingPillar,
    MissingOkr,
    MissingKeyResult,
    MissingBucket,
    MappingConflict,
    UnmappedStrategyTag,
    PastQuarterOkr,
    MissingOwner,
    OwnerInactive,
    MissingTargetDate,
    TargetDatePassed,
    MissingStartDate,
    TooLong,
    ShortDescription,
    MissingSections,
    NoChildren,
    TooSmall,
    UnestimatedChildren,
    PointsOutOfRange,
    DoneWithOpenChildren,
    OpenWithAllChildrenDone,
    Stale,
    NotUpdated,
    MissingInitiative,
    EpicNotVisible,
)

__all__ = [
    "RULES",
    "MissingPillar",
    "MissingOkr",
    "MissingKeyResult",
    "MissingBucket",
    "MappingConflict",
    "UnmappedStrategyTag",
    "PastQuarterOkr",
    "MissingOwner",
    "OwnerInactive",
    "MissingTargetDate",
    "TargetDatePassed",
    "MissingStartDate",
    "TooLong",
    "ShortDescription",
    "MissingSections",
    "NoChildren",
    "TooSmall",
    "UnestimatedChildren",
    "PointsOutOfRange",
    "DoneWithOpenChildren",
    "OpenWithAllChildrenDone",
    "Stale",
    "NotUpdated",
    "MissingInitiative",
    "EpicNotVisible",
]
