"""Cell text sanitising and the atomic write."""

from __future__ import annotations

import pytest
from openpyxl import Workbook

from rollup.writers.portfolio import write_portfolio
from rollup.writers.safe import EXCEL_CELL_LIMIT, atomic_write, clean_text, set_text


def test_set_text_never_makes_a_formula():
    ws = Workbook().active
    for i, text in enumerate(["=1+1", "+1", "-1", "@x", "plain"], start=1):
        set_text(ws.cell(row=i, column=1), text)
        assert ws.cell(row=i, column=1).data_type == "s"
        assert ws.cell(row=i, column=1).value == text


def test_clean_text_replaces_control_characters_and_truncates():
    assert clean_text("a\x00b\x1fc\td\ne") == "a\ufffdb\ufffdc\td\ne"
    long = clean_text("y" * 50_000)
    assert len(long) <= EXCEL_CELL_LIMIT and long.endswith("[truncated: 50,000 characters]")
    assert len(clean_text("z" * 5_000, limit=2_000)) <= 2_000


def test_atomic_write_keeps_previous_file_on_failure(tmp_path):
    target = tmp_path / "portfolio.xlsx"
    target.write_bytes(b"previous workbook")

    def half_then_fail(tmp):
        tmp.write_bytes(b"partial")
        raise RuntimeError("disk full")

    with pytest.raises(RuntimeError):
        atomic_write(target, half_then_fail)
    assert target.read_bytes() == b"previous workbook"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["portfolio.xlsx"]


def test_workbook_failure_mid_save_leaves_no_partial_file(tmp_path, monkeypatch):
    from openpyxl.workbook.workbook import Workbook as WB
    from portfolio_org import AS_OF, MAPPINGS, mapped_issues

    from rollup.jobs.report import build_views
    from rollup.writers.portfolio import WorkbookInfo

    views = build_views(mapped_issues(), MAPPINGS, as_of=AS_OF)
    target = tmp_path / "portfolio-2026-W48.xlsx"
    write_portfolio(views, target, WorkbookInfo(as_of=AS_OF))
    before = target.read_bytes()
    real_save = WB.save

    def broken_save(self, filename):
        real_save(self, filename)
        with open(filename, "r+b") as fh:
            fh.truncate(100)
        raise OSError("connection to the share lost")

    monkeypatch.setattr(WB, "save", broken_save)
    with pytest.raises(OSError):
        write_portfolio(views, target, WorkbookInfo(as_of=AS_OF))
    assert target.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == [target.name]


def test_atomic_write_gives_the_file_ordinary_permissions(tmp_path):
    """Outputs are for colleagues too: the umask decides, not the temp file's owner-only mode."""
    from rollup.writers import safe

    target = atomic_write(tmp_path / "portfolio.xlsx", lambda tmp: tmp.write_bytes(b"workbook"))
    assert target.stat().st_mode & 0o777 == 0o666 & ~safe._UMASK
    assert target.read_bytes() == b"workbook"


def test_atomic_dir_replaces_the_whole_set_or_nothing(tmp_path):
    from rollup.writers.safe import atomic_dir

    final = tmp_path / "set"
    with atomic_dir(final) as staging:
        (staging / "a.csv").write_text("1")
        (staging / "b.csv").write_text("2")
    assert sorted(p.name for p in final.iterdir()) == ["a.csv", "b.csv"]
    with atomic_dir(final) as staging:
        (staging / "a.csv").write_text("3")
    assert sorted(p.name for p in final.iterdir()) == ["a.csv"] and (final / "a.csv").read_text() == "3"
    with pytest.raises(RuntimeError):
        with atomic_dir(final) as staging:
            (staging / "a.csv").write_text("half")
            raise RuntimeError("disk full")
    assert (final / "a.csv").read_text() == "3"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["set"]  # no staging or old folders left


def test_cells_written_by_kind_read_back_as_their_values_and_types(tmp_path):
    """Numbers, dates and text go into cells directly (not through openpyxl's type guessing): read back,
    each is the value and type it was, text is never a formula, and a number no spreadsheet reads is text."""
    from datetime import date, datetime

    from openpyxl import Workbook, load_workbook

    from rollup.writers.portfolio import DATE, INT, PCT, put

    book = Workbook()
    ws = book.active
    styles: dict = {}
    values = [(3.6, "int"), (0.25, "pct"), (date(2026, 11, 30), "date"), ("2026-12-01", "date"), ("=1+1", "text"),
              ("@SUM(A1)", "long"), (float("inf"), "num"), ("n/a", "num"), (True, "bool"), ("PAY-1", "key")]
    for row, (value, kind) in enumerate(values, start=1):
        put(ws, row, 1, value, kind, base_url="https://x.example", styles=styles)
    book.save(tmp_path / "kinds.xlsx")
    back = load_workbook(tmp_path / "kinds.xlsx").active
    got = [(back.cell(row=r, column=1).value, back.cell(row=r, column=1).data_type) for r in range(1, len(values) + 1)]
    assert got == [(4, "n"), (0.25, "n"), (datetime(2026, 11, 30), "d"), (datetime(2026, 12, 1), "d"),
                   ("=1+1", "s"), ("@SUM(A1)", "s"), ("inf", "s"), ("n/a", "s"), ("yes", "s"), ("PAY-1", "s")]
    formats = [back.cell(row=r, column=1).number_format for r in (1, 2, 3, 4)]
    assert formats == [INT, PCT, DATE, DATE]
    assert back.cell(row=5, column=1).quotePrefix and back.cell(row=6, column=1).quotePrefix
    assert back.cell(row=10, column=1).hyperlink.target == "https://x.example/browse/PAY-1"
