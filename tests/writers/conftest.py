"""Make the hand-built portfolio organisation (tests/views/portfolio_org.py) importable."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "views"))
