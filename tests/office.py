"""LibreOffice for the tests: find ``soffice``, convert a workbook to PDF headless, count the PDF's pages.

Without ``soffice`` a test is skipped with the reason; with ``ROLLUP_REQUIRE_LIBREOFFICE=1`` (CI) it FAILS and
names the install command.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

INSTALL = "apt-get update && apt-get install -y libreoffice-calc"


def soffice() -> str:
    """The LibreOffice command, else skip (or fail, when LibreOffice is required)."""
    path = shutil.which("soffice") or shutil.which("libreoffice")
    if path:
        return path
    if os.environ.get("ROLLUP_REQUIRE_LIBREOFFICE", "").strip() in {"1", "true", "yes"}:
        pytest.fail(f"ROLLUP_REQUIRE_LIBREOFFICE=1 but soffice is not installed; install it with: {INSTALL}")
    pytest.skip(f"LibreOffice (soffice) is not installed; install it with: {INSTALL} "
                "(set ROLLUP_REQUIRE_LIBREOFFICE=1 to make this a failure)")


def to_pdf(workbook: Path, out_dir: Path) -> tuple[Path, subprocess.CompletedProcess]:
    """``workbook`` converted by LibreOffice (its own profile under ``out_dir``): the PDF's path and the run."""
    profile = (out_dir / "lo-profile").as_uri()
    completed = subprocess.run([soffice(), f"-env:UserInstallation={profile}", "--headless", "--convert-to", "pdf",
                                "--outdir", str(out_dir), str(workbook)], capture_output=True, text=True, timeout=240)
    return out_dir / (workbook.stem + ".pdf"), completed


def pdf_pages(pdf: Path) -> int:
    """How many pages the PDF has."""
    return len(re.findall(rb"/Type\s*/Page[^s]", pdf.read_bytes()))
