"""The fingerprint of a validated configuration, shared by lint history and the finance export.

:func:`config_hash` is SHA-256 over the canonical JSON of the model (``model_dump(mode="json")``,
keys sorted, no spaces): the same parsed configuration gives the same hash whatever the order of
the keys in the file, and any changed value gives another.

Why this algorithm and not the finance export's former ``sha256(model.model_dump_json())``
(pydantic's field order, file order for mappings):

* Lint history compares stored hashes: :func:`rollup.lint.history.run_for` reuses a recorded run
  only when its ``config_hash`` equals today's. Runs recorded before the change used this very
  algorithm, so they still match.
* Finance never compares a stored configuration hash. A closed month verifies by the content hash
  of its frozen rows, and its workbook shows the ``mappings_sha256`` recorded in the month's meta
  at close, unchanged. Only an open month exported after the change shows the new value.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel


def config_hash(config: BaseModel | Mapping[str, Any]) -> str:
    """SHA-256 of the configuration's content (a pydantic model, or plain dicts and lists as tests give)."""
    payload = config.model_dump(mode="json") if isinstance(config, BaseModel) else _plain(config)
    text = json.dumps(payload, sort_keys=True, default=str, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _plain(value: Any) -> Any:
    """Objects without pydantic (tests' namespaces) as nested dicts and lists."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if hasattr(value, "__dict__") and not isinstance(value, type):
        return {k: _plain(v) for k, v in vars(value).items() if not k.startswith("_")}
    return value
