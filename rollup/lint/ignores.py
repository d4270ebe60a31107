"""Ignores: an epic excused from one rule, declared in mappings.yaml or as a Jira label.

Two sources, one table (:func:`declared`):

* ``lint.ignores`` entries — ``{epic, rule, reason, expires}``; ``source`` is ``mappings.yaml:<line>``.
  An ignore holds up to and including its ``expires`` day; after it, it is *expired*: the finding
  shows again and the ignore is reported so someone renews or removes it.
* a label ``<lint.ignore_label_prefix><code or name>`` on the epic (``lint-ignore-EQ005``) — no
  expiry; ``source`` is ``label lint-ignore-EQ005``. Removing the label ends it.

:func:`apply` splits the findings into kept and suppressed and gives every ignore a ``status``:
``active`` (silenced a finding), ``unused`` (the rule ran and found nothing to silence),
``expired`` (past ``expires``), or ``rule-not-run`` (the rule was not selected in this run).
"""

from __future__ import annotations

from datetime import date

import pandas as pd

from rollup.config.lint import LintOptions
from rollup.lint.base import find_rule
from rollup.lint.result import IGNORE_COLUMNS, SUPPRESSED_COLUMNS

#: Columns of :func:`declared`.
DECLARED_COLUMNS = ("key", "rule", "reason", "expires", "source")

ACTIVE, UNUSED, EXPIRED, NOT_RUN = "active", "unused", "expired", "rule-not-run"


def declared(epics: pd.DataFrame, options: LintOptions) -> pd.DataFrame:
    """Every ignore from the configuration and from epic labels (see the module docstring)."""
    from_config = pd.DataFrame({
        "key": [e.epic.upper() for e in options.ignores],
        "rule": [_code(e.rule) for e in options.ignores],
        "reason": [e.reason for e in options.ignores],
        "expires": [e.expires for e in options.ignores],
        "source": [e.source for e in options.ignores],
    }, columns=list(DECLARED_COLUMNS))
    prefix = options.ignore_label_prefix.lower()
    labels = epics.set_index(epics["key"].astype(str))["labels"].explode().dropna().astype(str)
    labels = labels[labels.str.lower().str.startswith(prefix)]
    suffix = labels.str.slice(len(prefix))
    from_labels = pd.DataFrame({
        "key": labels.index.to_numpy(),
        "rule": suffix.map(_code).to_numpy(),
        "reason": "Jira label " + labels.to_numpy(),
        "expires": None,
        "source": "label " + labels.to_numpy(),
    }, columns=list(DECLARED_COLUMNS))
    parts = [p for p in (from_config, from_labels) if len(p)]
    if not parts:
        return pd.DataFrame({c: pd.Series(dtype="object") for c in DECLARED_COLUMNS})
    return pd.concat(parts, ignore_index=True)


def apply(findings: pd.DataFrame, ignores: pd.DataFrame, *, as_of: date,
          ran: set[str]) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """``(kept findings, suppressed findings, ignores with status)``; ``ran``: codes of the rules that ran."""
    if not len(ignores):
        return findings, pd.DataFrame(columns=list(SUPPRESSED_COLUMNS)), pd.DataFrame(columns=list(IGNORE_COLUMNS))
    expires = pd.to_datetime(ignores["expires"])
    expired = expires.notna() & expires.lt(pd.Timestamp(as_of))
    live = ignores[~expired]
    pair = findings["key"].astype(str) + "\x00" + findings["rule"].astype(str)
    live_pair = live["key"].astype(str) + "\x00" + live["rule"].astype(str)
    silenced = pair.isin(set(live_pair))
    first = live.assign(pair=live_pair.to_numpy()).drop_duplicates("pair").set_index("pair")
    suppressed = findings[silenced].assign(
        ignore_reason=pair[silenced].map(first["reason"]).to_numpy(),
        ignore_source=pair[silenced].map(first["source"]).to_numpy(),
        ignore_expires=pair[silenced].map(first["expires"]).to_numpy(),
    )
    ignore_pair = ignores["key"].astype(str) + "\x00" + ignores["rule"].astype(str)
    used = ignore_pair.isin(set(pair[silenced]))
    status = pd.Series(UNUSED, index=ignores.index, dtype="object")
    status = status.mask(~ignores["rule"].isin(ran), NOT_RUN).mask(used, ACTIVE).mask(expired, EXPIRED)
    table = ignores.assign(status=status.to_numpy())[list(IGNORE_COLUMNS)].reset_index(drop=True)
    return findings[~silenced], suppressed[list(SUPPRESSED_COLUMNS)].reset_index(drop=True), table


def _code(selector: str) -> str:
    """The rule code a config or label names (unknown names are kept as written)."""
    rule = find_rule(selector)
    return rule.code if rule is not None else selector
