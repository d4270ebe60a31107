"""Where the shared reference data lives: Jira's OpenAPI specs and recorded Jira responses.

The data sits in ``shared/`` beside the checkout (``../shared``); ``ROLLUP_SHARED_DIR`` overrides.
Tests that need it fail with a message when it is absent; they never skip.
"""

from __future__ import annotations

import os
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent


def shared_dir() -> Path:
    """The shared reference folder: ``$ROLLUP_SHARED_DIR``, else ``../shared`` beside the checkout."""
    override = os.environ.get("ROLLUP_SHARED_DIR")
    return Path(override) if override else REPO_ROOT.parent / "shared"
