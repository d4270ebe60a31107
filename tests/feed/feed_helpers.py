"""What the feed tests share: the sample organisation's mappings, its size here and its "today"."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from rollup.config import load_config

ROOT = Path(__file__).resolve().parents[2]
#: The sample organisation's mappings (the repository's mappings.yaml).
CONFIG = load_config(ROOT / "mappings.yaml")
#: Size of the sample organisation here (the demo's 3,000 is slower and proves nothing more).
ISSUES = 600
#: The sample organisation's "today", the as-of date of the demo's workbook.
AS_OF = date(2026, 11, 23)
