"""``mappings.yaml`` and the files read like it, parsed once at the door into pydantic models.

* :mod:`rollup.config.loader` — one loader for every YAML configuration file: YAML with the line of
  every key, duplicate keys refused, pydantic's errors worded ``<file>, line N: what`` with
  "did you mean …".
* :mod:`rollup.config.models` — the ``jira:``, ``sync:``, ``report:`` sections and the strategy
  mapping.
* :mod:`rollup.config.mappings` — :func:`load_config` / :func:`parse_config`: mappings.yaml read
  through the loader, then the cross-checks between its sections.
* :mod:`rollup.config.names` — "did you mean …" wording, shared by every message about a name.
* :mod:`rollup.config.lint` and :mod:`rollup.config.finance` — the ``lint:`` and ``finance:`` sections.
* :mod:`rollup.config.types` — value types the files share (``Id``, ``StrList``).
* :func:`config_hash` — the one fingerprint of a validated configuration.
"""

from rollup.config.hashing import config_hash
from rollup.config.mappings import load_config, parse_config
from rollup.config.models import (
    DEFAULT_CONFIG_PATH,
    SHARE_TOLERANCE,
    Bucket,
    FieldMatch,
    InitiativeMatch,
    JiraScope,
    KeyResult,
    Okr,
    Pillar,
    ReportOptions,
    RollupConfig,
    Rule,
    RuleMatch,
    RuleSet,
    SyncOptions,
    Team,
    TeamRecognition,
    ValueMatch,
)
from rollup.config.types import Id, StrList

__all__ = [
    "Bucket", "DEFAULT_CONFIG_PATH", "FieldMatch", "Id", "InitiativeMatch", "JiraScope", "KeyResult", "Okr",
    "Pillar", "ReportOptions", "RollupConfig", "Rule", "RuleMatch", "RuleSet", "SHARE_TOLERANCE", "StrList",
    "SyncOptions", "Team", "TeamRecognition", "ValueMatch", "config_hash", "load_config", "parse_config"
]
