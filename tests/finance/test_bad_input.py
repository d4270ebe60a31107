"""Bad input: a clear message naming what and where, exit code 2, and nothing written.

``tests/finance/bad/*.yaml`` is a corpus of bad ``finance:`` sections (first line ``# expect: …``,
the offending line marked ``# <-- error``); the rates cases build bad CSVs next to a good one.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner
from corpus import expectation
from finance_helpers import MAPPINGS
from sqlalchemy import func, select

from rollup.cli import cli
from rollup.config import load_config
from rollup.errors import ConfigError
from rollup.store import Store, finance_months

BAD = Path(__file__).parent / "bad"
CASES = sorted(BAD.glob("*.yaml"))




@pytest.mark.parametrize("path", CASES, ids=[p.stem for p in CASES])
def test_bad_finance_section_names_what_and_where(path, tmp_path, sample_store, sample_rates):
    message, line = expectation(path)
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    assert message in str(caught.value) and f"{path.name}, line {line}:" in str(caught.value)
    out = tmp_path / "out"
    result = CliRunner().invoke(cli, ["finance", "export", "--month", "2026-10", "--config", str(path),
                                      "--out", str(out), "--rates", str(sample_rates),
                                      "--database", sample_store])
    assert result.exit_code == 2 and message in result.output, result.output
    assert not out.exists()


def _export(tmp_path: Path, store_url: str, rates: Path, *extra: str):
    out = tmp_path / "out"
    result = CliRunner().invoke(cli, ["finance", "export", "--month", "2026-10", "--config", str(MAPPINGS),
                                      "--out", str(out), "--rates", str(rates), "--database", store_url, *extra])
    return result, out


def _rates(tmp_path: Path, sample_rates: Path, edit) -> Path:
    lines = sample_rates.read_text().splitlines()
    path = tmp_path / "rates.csv"
    path.write_text("\n".join(edit(lines)) + "\n")
    return path


def test_missing_rates_list_every_person_and_write_nothing(tmp_path, sample_store, sample_rates):
    good, good_out = _export(tmp_path / "good", sample_store, sample_rates)
    assert good.exit_code == 0, good.output
    people = pd.read_csv(good_out / "finance-2026-10" / "people.csv")
    # Keep only the role row and people's own rates: everyone else has no rate any more.
    rates = _rates(tmp_path, sample_rates, lambda lines: [l for l in lines if not l.startswith("team,")])
    own = pd.read_csv(rates, keep_default_na=False)
    covered = set(own[(own["level"] == "person")]["id"])
    missing = people[~people["person_id"].isin(covered)]
    assert len(missing) >= 10
    result, out = _export(tmp_path, sample_store, rates)
    assert result.exit_code == 2
    assert f"no rate for {len(missing)} person(s) with effort" in result.output
    for name, pid in zip(missing["person"], missing["person_id"]):
        assert f"{name} (id {pid})" in result.output
    assert not out.exists()


@pytest.mark.parametrize("edit, message", [
    (lambda lines: lines + ["team,payments,,,90,,EUR,2026-06-01,2026-12-31"],
     "overlapping rate periods for team 'payments'"),
    (lambda lines: [lines[0], lines[1].replace(",EUR,", ",EUX,")] + lines[2:],
     "line 2: unknown currency 'EUX'; did you mean 'EUR'?"),
    (lambda lines: [lines[0].replace("monthly_cost", "monthly_costs")] + lines[1:],
     "line 1: unknown column 'monthly_costs'; did you mean 'monthly_cost'?"),
    (lambda lines: lines + ["team,data,,,abc,,EUR,2026-01-01,"], "hourly_rate 'abc' is not a number"),
    (lambda lines: lines + ["person,x1,,,10,20,EUR,2026-01-01,"], "give hourly_rate or monthly_cost, not both"),
])
def test_bad_rates_file_is_refused_with_its_line(edit, message, tmp_path, sample_store, sample_rates):
    rates = _rates(tmp_path, sample_rates, edit)
    result, out = _export(tmp_path, sample_store, rates)
    assert result.exit_code == 2 and message in result.output, result.output
    assert str(rates) in result.output
    assert not out.exists()


def test_overlap_names_both_lines(tmp_path, sample_store, sample_rates):
    lines = sample_rates.read_text().splitlines()
    first = next(n for n, line in enumerate(lines, start=1) if line.startswith("team,payments,"))
    rates = _rates(tmp_path, sample_rates, lambda ls: ls + ["team,payments,,,90,,EUR,2026-06-01,2026-12-31"])
    result, _ = _export(tmp_path, sample_store, rates)
    assert f"lines {first} and {len(lines) + 1}: overlapping rate periods" in result.output


def test_no_rates_file_and_bad_month_are_bad_input(tmp_path, sample_store, monkeypatch):
    monkeypatch.delenv("ROLLUP_RATES", raising=False)
    out = tmp_path / "out"
    result = CliRunner().invoke(cli, ["finance", "export", "--month", "2026-10", "--config", str(MAPPINGS),
                                      "--out", str(out), "--database", sample_store])
    assert result.exit_code == 2 and "no rates file: pass --rates PATH, set ROLLUP_RATES" in result.output
    result = CliRunner().invoke(cli, ["finance", "export", "--month", "October", "--out", str(out),
                                      "--database", sample_store])
    assert result.exit_code == 2 and "'October' is not a month; write it as YYYY-MM" in result.output
    assert not out.exists()


def test_close_with_bad_rates_stores_nothing(tmp_path, sample_store, sample_rates):
    shutil.copy(sample_store.removeprefix("sqlite:///"), tmp_path / "rollup.db")
    url = f"sqlite:///{tmp_path / 'rollup.db'}"
    rates = _rates(tmp_path, sample_rates, lambda lines: [l for l in lines if not l.startswith("team,")])
    result = CliRunner().invoke(cli, ["finance", "close", "2026-10", "--rates", str(rates), "--database", url,
                                      "--config", str(MAPPINGS)])
    assert result.exit_code == 2 and "no rate for" in result.output
    with Store.open(url) as store, store.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(finance_months)).scalar_one() == 0
