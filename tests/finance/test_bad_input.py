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
from corpus import assert_names_what_and_where, expectation
from finance_helpers import MAPPINGS
from sqlalchemy import func, select

from rollup.cli import cli
from rollup.config import load_config
from rollup.store import Store
from rollup.store.schema_finance import finance_months

BAD = Path(__file__).parent / "bad"
CASES = sorted(BAD.glob("*.yaml"))


@pytest.mark.parametrize("path", CASES, ids=[p.stem for p in CASES])
def test_bad_finance_section_names_what_and_where(path, tmp_path, sample_store, sample_rates):
    message, _ = expectation(path)
    assert_names_what_and_where(path, load_config)
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
    rates = _rates(tmp_path, sample_rates, lambda lines: [line for line in lines if not line.startswith("team,")])
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
    rates = _rates(tmp_path, sample_rates, lambda lines: [line for line in lines if not line.startswith("team,")])
    result = CliRunner().invoke(cli, ["finance", "close", "2026-10", "--rates", str(rates), "--database", url,
                                      "--config", str(MAPPINGS)])
    assert result.exit_code == 2 and "no rate for" in result.output
    with Store.open(url) as store, store.connect() as conn:
        assert conn.execute(select(func.count()).select_from(finance_months)).scalar_one() == 0


def test_an_empty_store_is_refused_and_the_previous_set_kept(tmp_path, sample_store, sample_rates):
    """A wrong --database (or a store never synced) must not replace a month's figures with zeros."""
    good, out = _export(tmp_path, sample_store, sample_rates)
    assert good.exit_code == 0, good.output
    before = {p.name: p.read_bytes() for p in (out / "finance-2026-10").iterdir()}
    empty = f"sqlite:///{tmp_path / 'never-synced.db'}"
    result, _ = _export(tmp_path, empty, sample_rates)
    assert result.exit_code == 2, result.output
    assert "holds no issues" in result.output and "rollup sync" in result.output
    assert {p.name: p.read_bytes() for p in (out / "finance-2026-10").iterdir()} == before
    result = CliRunner().invoke(cli, ["finance", "close", "2026-10", "--config", str(MAPPINGS), "--rates",
                                      str(sample_rates), "--database", empty])
    assert result.exit_code == 2 and "holds no issues" in result.output, result.output
    with Store.open(empty) as store, store.connect() as conn:
        assert conn.execute(select(func.count()).select_from(finance_months)).scalar_one() == 0


def test_a_month_after_the_data_is_refused(tmp_path, sample_store, sample_rates):
    """A typo such as 2027-10 for 2026-10 gets a message, not a workbook of zeros."""
    with Store.open(sample_store) as store:
        synced = max(r["finished"] for r in store.sync_run_rows() if r.get("finished"))
    later = f"{synced.year + 1:04d}-{synced.month:02d}"
    out = tmp_path / "out"
    result = CliRunner().invoke(cli, ["finance", "export", "--month", later, "--config", str(MAPPINGS), "--out",
                                      str(out), "--rates", str(sample_rates), "--database", sample_store])
    assert result.exit_code == 2, result.output
    assert f"{later} has not started in the store's data, which runs to {synced.date()}" in result.output
    assert not out.exists()


@pytest.mark.parametrize("edit, message", [
    # A decimal comma must not turn 88,5 into 885.
    (lambda lines: lines + ['team,data,,,"88,5",,EUR,2027-01-01,'],
     "hourly_rate '88,5' is not a number; write decimals with a dot ('88.5')"),
    (lambda lines: [line.replace(",", ";") for line in lines],
     "line 1: the columns are separated by ';'; save the rates file as comma-separated CSV"),
])
def test_rates_written_the_european_way_are_refused(edit, message, tmp_path, sample_store, sample_rates):
    rates = _rates(tmp_path, sample_rates, edit)
    result, out = _export(tmp_path, sample_store, rates)
    assert result.exit_code == 2 and message in result.output, result.output
    assert not out.exists()


def test_thousands_separators_still_read(tmp_path):
    from rollup.finance.rates import load_rates

    path = tmp_path / "rates.csv"
    path.write_text('level,id,name,role,hourly_rate,monthly_cost,currency,valid_from,valid_to\n'
                    'team,payments,,,,"11,800.50",EUR,2026-01-01,\n')
    rates = load_rates(path, load_config(MAPPINGS).finance)
    assert rates.rows[0].monthly == 11800.5


def test_a_misspelt_team_in_the_rates_file_is_named(tmp_path, sample_store, sample_rates):
    """Only the team rows cover most people: a typo in one team id leaves that team's people without a rate."""
    rates = _rates(tmp_path, sample_rates, lambda lines: [line.replace("team,payments,", "team,paymnets,")
                                                          for line in lines])
    result, out = _export(tmp_path, sample_store, rates)
    assert result.exit_code == 2 and "no rate for" in result.output, result.output
    assert "team 'paymnets' is not a team of mappings.yaml; did you mean 'payments'?" in result.output
    assert not out.exists()


def test_figures_that_do_not_reconcile_are_a_failure_not_bad_input(tmp_path, sample_store, sample_rates,
                                                                      monkeypatch):
    """A reconciliation that fails is the tool's fault (exit 1), and nothing is written."""
    from rollup.finance import allocation

    real = allocation.reconcile

    def off_by_a_cent(*args, **kwargs):
        frame = real(*args, **kwargs)
        frame.loc[0, "ok"] = False
        return frame

    monkeypatch.setattr(allocation, "reconcile", off_by_a_cent)
    result, out = _export(tmp_path, sample_store, sample_rates)
    assert result.exit_code == 1 and "the figures do not reconcile, nothing written" in result.output
    assert "Summary hours = detail hours" in result.output
    assert not out.exists()


def test_a_month_before_any_data_is_refused_not_written_as_zeros(tmp_path, sample_store, sample_rates):
    out = tmp_path / "out"
    result = CliRunner().invoke(cli, ["finance", "export", "--month", "2019-01", "--config", str(MAPPINGS),
                                      "--out", str(out), "--rates", str(sample_rates), "--database", sample_store])
    assert result.exit_code == 2, result.output
    assert "2019-01 has no effort in the store's data" in result.output
    assert "earliest issue was created" in result.output
    assert "nothing written" in result.output and "Traceback" not in result.output
    assert not out.exists() or not any(out.iterdir())
