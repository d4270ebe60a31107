"""Closed months never change: close → edit Jira on the local server → re-sync over HTTP → re-export.

The re-export of the closed month is byte-identical; the first open month carries the adjustments,
each with its cause; reopening needs a flag and a reason and is logged.
"""

from __future__ import annotations

from datetime import datetime, timezone

import pandas as pd
import pytest
from click.testing import CliRunner
from finance_helpers import MAPPINGS, ORG_ISSUES, ORG_SEED, served, sync_over_http
from org_edits import add_label, backdated_progress, late_worklog

from rollup.cli import cli
from rollup.config import load_config
from rollup.jobs.finance import close_month, month_status, reopen_month, run_export
from rollup.localjira.sampleorg import SampleOrg
from rollup.store import Store

FIGURES = ("summary.csv", "by-pillar.csv", "by-initiative.csv", "detail.csv", "people.csv", "reconciliation.csv")
PERSON_DAY_TEAMS = frozenset({"SCH", "INT", "MOB", "PLAT"})


def _files(result) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in result.paths}


def test_closed_month_reexports_identically_and_changes_become_adjustments(tmp_path, sample_rates):
    config = load_config(MAPPINGS)
    org = SampleOrg.generate(seed=ORG_SEED, issues=ORG_ISSUES)
    url = f"sqlite:///{tmp_path / 'rollup.db'}"
    with served(org) as server:
        sync_over_http(org, server, url, full=True)
        with Store.open(url) as store:
            before = run_export(store, config, month="2026-10", out_dir=tmp_path / "before", rates_path=sample_rates)
            # Closed at the sample organisation's own "now": Jira's clock is the one edits are dated by.
            closed = close_month(store, config, "2026-10", rates_path=sample_rates, now=org.now)
            assert closed.digest == before.content_hash
        booked = pd.read_csv(before.folder / "detail.csv", keep_default_na=False)
        # An epic whose stories carry its (initiative-decided) new-capability bucket and logged October work.
        moved = booked[(booked["bucket"] == "new-capability") & (booked["method"] == "worklogs")
                       & (booked["bucket_source"] == "inherited from " + booked["epic"])]
        epic = moved["epic"].value_counts().index[0]
        epic_rows = booked[booked["epic"] == epic]
        # Three edits in Jira, each touching October.
        wl_key, wl_author, wl_id = late_worklog(org, "2026-10-14T10:00:00", 2.0)
        add_label(org, epic, "tech-debt")
        bd_key, bd_person = backdated_progress(org, "2026-10-12T09:00:00", "2026-10-16T17:00:00",
                                               teams=PERSON_DAY_TEAMS)
        result = sync_over_http(org, server, url)
        assert result.mode == "incremental" and result.changed >= 3 and result.worklogs >= 1

    with Store.open(url) as store:
        again = run_export(store, config, month="2026-10", out_dir=tmp_path / "after", rates_path=sample_rates)
        assert again.status == "closed" and again.content_hash == before.content_hash
        old, new = _files(before), _files(again)
        for name in FIGURES:
            assert new[name] == old[name], f"{name} changed after the close"
        policy = pd.read_csv(again.folder / "policy.csv").set_index("item")["value"]
        assert policy["status"].startswith("closed")
        assert policy["content sha256 (detail.csv)"] == before.content_hash

        november = run_export(store, config, month="2026-11", out_dir=tmp_path / "nov", rates_path=sample_rates)
    assert november.adjustments > 0
    detail = pd.read_csv(november.folder / "detail.csv", keep_default_na=False)
    adjustments = detail[detail["row_type"] == "adjustment"]
    assert set(adjustments["effort_month"]) == {"2026-10"} and set(adjustments["period"]) == {"2026-11"}
    assert adjustments["cause"].str.startswith("adjusts closed 2026-10: ").all()

    # The late worklog: exactly its 2 hours, naming the worklog.
    late = adjustments[(adjustments["issue_key"] == wl_key) & (adjustments["person_id"] == wl_author)]
    assert late["hours"].sum() == pytest.approx(2.0)
    assert late["cause"].str.contains(f"worklog(s) {wl_id} added or changed after the close", regex=False).any()

    # The re-bucketed epic: each of its October rows reversed under the old bucket, re-booked under the new.
    rebucketed = adjustments[adjustments["epic"] == epic]
    reversed_ = rebucketed[rebucketed["bucket"] == "new-capability"]
    rebooked = rebucketed[rebucketed["bucket"] == "tech-debt"]
    worklog_rows = epic_rows[(epic_rows["bucket"] == "new-capability") & (epic_rows["method"] == "worklogs")]
    assert reversed_["hours"].sum() == pytest.approx(-worklog_rows["hours"].sum() - _other_changes(reversed_, wl_key))
    assert rebooked["hours"].sum() > 0
    assert rebucketed["cause"].str.contains("bucket new-capability → tech-debt", regex=False).all()
    assert (rebooked["gaap_capex"] == 0).all()  # tech debt is expensed
    assert reversed_["gaap_capex"].sum() <= 0

    # The backdated transition: the issue gains October person-days; the person's other issues give some up.
    gained = adjustments[(adjustments["issue_key"] == bd_key) & (adjustments["person_id"] == bd_person)]
    assert gained["hours"].sum() > 0
    assert gained["cause"].str.contains(f"{bd_key}'s status or assignee history changed after the close",
                                        regex=False).all()
    person_rows = adjustments[(adjustments["person_id"] == bd_person) & (adjustments["method"] == "person-days")]
    assert person_rows["hours"].sum() == pytest.approx(0.0, abs=1e-4)  # the same days, split differently

    recon = pd.read_csv(november.folder / "reconciliation.csv")
    assert recon["ok"].all()
    assert recon["check"].str.startswith("Adjustments:").any()


def _other_changes(rows: pd.DataFrame, late_key: str) -> float:
    """Hours in reversal rows that come from the late worklog (if it fell under the same epic)."""
    return float(rows[rows["issue_key"] == late_key]["hours"].clip(lower=0).sum())


def test_close_order_reopen_and_log(tmp_path, sample_store, sample_rates):
    import shutil

    source = sample_store.removeprefix("sqlite:///")
    shutil.copy(source, tmp_path / "rollup.db")
    url = f"sqlite:///{tmp_path / 'rollup.db'}"
    config = load_config(MAPPINGS)
    runner = CliRunner()
    env = {"ROLLUP_DATABASE_URL": url, "ROLLUP_RATES": str(sample_rates)}
    with Store.open(url) as store:
        # The data is as of the last successful sync: pin it, so "has the month ended" does not follow the clock.
        synced_at = datetime(2026, 11, 23, 12, 0, tzinfo=timezone.utc)
        store.record_run(started=synced_at, finished=synced_at, mode="incremental", status="ok")
        first = close_month(store, config, "2026-09", rates_path=sample_rates)
        assert first.status == "open"
    cases = [
        (["finance", "close", "2026-11"], "the first open month is 2026-10; close 2026-10 first"),
        (["finance", "close", "2026-09"], "already closed"),
        (["finance", "close", "2026-08"], "later month 2026-09 is already closed"),
        (["finance", "reopen", "2026-09", "--reason", "x"], "--confirm"),
        (["finance", "reopen", "2026-09", "--confirm"], "needs a reason"),
    ]
    for args, message in cases:
        result = runner.invoke(cli, args, env=env)
        assert result.exit_code == 2, (args, result.output)
        assert message in result.output, (args, result.output)
    result = runner.invoke(cli, ["finance", "close", "2026-10"], env=env)
    assert result.exit_code == 0, result.output
    result = runner.invoke(cli, ["finance", "close", "2026-11"], env=env)
    assert result.exit_code == 2 and "before the month ends" in result.output, result.output
    result = runner.invoke(cli, ["finance", "reopen", "2026-09", "--confirm", "--reason", "late invoices"], env=env)
    assert result.exit_code == 2 and "reopen 2026-10 first" in result.output
    result = runner.invoke(cli, ["finance", "reopen", "2026-10", "--confirm", "--reason", "late invoices"], env=env)
    assert result.exit_code == 0, result.output
    with Store.open(url) as store:
        status = month_status(store)
        assert [m["month"] for m in status["closed"]] == ["2026-09"] and status["first_open"] == "2026-10"
        assert [(e["month"], e["action"], e["reason"]) for e in status["log"]] == [
            ("2026-09", "close", None), ("2026-10", "close", None), ("2026-10", "reopen", "late invoices")]
        assert all(e["actor"] for e in status["log"])
        with pytest.raises(Exception, match="not closed"):
            reopen_month(store, "2026-10", reason="again", confirm=True)
    result = runner.invoke(cli, ["finance", "months"], env=env)
    assert result.exit_code == 0 and "reopen 2026-10" in result.output and "late invoices" in result.output


def test_frozen_rows_round_trip_on_sqlite_and_postgresql(sample_store, sample_rates, store):
    """A closed month's rows come back from either database with the same content hash (JSON/JSONB payloads)."""
    from rollup.finance.ledger import Ledger
    from rollup.jobs.finance import month_figures

    config = load_config(MAPPINGS)
    with Store.open(sample_store) as source:
        figures = month_figures(source, config, "2026-10", rates_path_option=sample_rates)
    assert len(figures.detail) > 100
    ledger = Ledger(store)
    ledger.close("2026-10", figures.detail, figures.digest, figures.meta)
    detail = ledger.month_detail("2026-10")  # raises unless the rows hash to the stored digest
    assert len(detail) == len(figures.detail)
    assert ledger.closed()["2026-10"].content_hash == figures.digest
    assert ledger.reopen("2026-10", "restated") == figures.digest
    assert "2026-10" not in ledger.closed() and [e["action"] for e in ledger.log()] == ["close", "reopen"]


def test_lint_history_and_the_finance_export_fingerprint_a_config_alike(tmp_path, sample_store, sample_rates):
    from rollup.config import config_hash
    from rollup.jobs.finance import month_figures
    from rollup.lint import history

    config = load_config(MAPPINGS)
    with Store.open(sample_store) as store:
        meta = month_figures(store, config, "2026-10", rates_path_option=sample_rates).meta
    assert meta["mappings_sha256"] == history.config_hash(config) == config_hash(config)
    assert config_hash(config) == config_hash(config.model_copy(deep=True)) and len(config_hash(config)) == 64


def test_a_month_closed_under_the_former_finance_hash_still_verifies_and_keeps_it(tmp_path, sample_store,
                                                                                   sample_rates, monkeypatch):
    """Before one config_hash the export recorded sha256(model_dump_json()); such a month is unchanged."""
    import hashlib
    import shutil

    from rollup.config import config_hash
    from rollup.finance.ledger import Ledger
    from rollup.jobs import finance as export

    database = tmp_path / "rollup.db"
    shutil.copy(sample_store.removeprefix("sqlite:///"), database)
    config = load_config(MAPPINGS)
    former = hashlib.sha256(config.model_dump_json().encode()).hexdigest()
    assert former != config_hash(config)
    with Store.open(f"sqlite:///{database}") as store:
        monkeypatch.setattr(export, "config_hash", lambda _config: former)
        closed = close_month(store, config, "2026-10", rates_path=sample_rates)
        monkeypatch.undo()
        assert len(Ledger(store).month_detail("2026-10")) == len(closed.detail)  # verifies its content hash
        again = export.month_figures(store, config, "2026-10", rates_path_option=sample_rates)
    assert again.status == "closed" and again.digest == closed.digest
    assert again.meta["mappings_sha256"] == former


def test_a_closed_month_exported_twice_is_the_same_bytes_file_by_file(tmp_path, sample_store, sample_rates):
    """Every data file and the workbook are byte-identical; only run.json (when it ran) differs, and it lists
    each file's SHA-256."""
    import hashlib
    import json
    import shutil

    url = f"sqlite:///{tmp_path / 'rollup.db'}"
    shutil.copy(sample_store.removeprefix("sqlite:///"), tmp_path / "rollup.db")
    config = load_config(MAPPINGS)
    with Store.open(url) as store:
        close_month(store, config, "2026-10", rates_path=sample_rates)
        first = run_export(store, config, month="2026-10", out_dir=tmp_path / "one", rates_path=sample_rates,
                           now=datetime(2026, 11, 20, 8, 0, tzinfo=timezone.utc))
        second = run_export(store, config, month="2026-10", out_dir=tmp_path / "two", rates_path=sample_rates,
                            now=datetime(2026, 12, 1, 9, 30, tzinfo=timezone.utc))
    one, two = _files(first), _files(second)
    assert sorted(one) == sorted(two) and "finance-2026-10.xlsx" in one and "policy.csv" in one
    assert {n for n in one if one[n] != two[n]} == {"run.json"}
    run = json.loads(two["run.json"])
    assert run["exported_at"] == "2026-12-01T09:30:00+00:00" and run["status"] == "closed"
    assert run["content_sha256"] == second.content_hash
    assert run["files_sha256"] == {n: hashlib.sha256(b).hexdigest() for n, b in two.items() if n != "run.json"}
    policy = pd.read_csv(second.folder / "policy.csv")
    assert not policy["item"].str.contains("run at").any()
    # The content hash of the data files, kept at the close, is sha256sum's listing of them hashed, and each
    # export of the closed month says its files are those of the close.
    data_files = {n: b for n, b in two.items() if n.endswith(".csv")}
    assert set(data_files) >= {"detail.csv", "evidence.csv", "policy.csv", "summary.csv"}
    listing = "".join(f"{hashlib.sha256(data_files[n]).hexdigest()}  {n}\n" for n in sorted(data_files))
    expected = hashlib.sha256(listing.encode()).hexdigest()
    with Store.open(url) as store:
        (kept,) = month_status(store)["closed"]
    assert kept["data_files_hash"] == expected == first.files_hash == second.files_hash
    assert run["data_files_sha256"] == run["data_files_sha256_at_close"] == expected
    assert second.matches_close is True and second.changed_since_close == []
    shown = CliRunner().invoke(cli, ["finance", "export", "--month", "2026-10", "--out", str(tmp_path / "three"),
                                     "--rates", str(sample_rates), "--database", url, "--config", str(MAPPINGS)])
    assert shown.exit_code == 0, shown.output
    assert f"Content hash of the data files {expected}" in shown.output
    assert "are those of the close, byte for byte" in shown.output
    listed = CliRunner().invoke(cli, ["finance", "months", "--database", url])
    assert f"data files {expected}" in listed.output


def test_the_close_keeps_the_hash_of_the_files_its_exports_write_on_sqlite_and_postgresql(
        sample_store, sample_rates, store, tmp_path):
    """The data files' hash kept at the close is the hash of what an export of the closed month writes, whichever
    database holds it (PostgreSQL's JSONB gives a month's policy back with its keys in another order); two exports
    are the same bytes, file by file, but run.json."""
    from rollup.finance.ledger import Ledger
    from rollup.jobs.finance import month_figures, store_close

    config = load_config(MAPPINGS)
    with Store.open(sample_store) as source:
        figures = month_figures(source, config, "2026-10", rates_path_option=sample_rates)
    closed = store_close(Ledger(store), config, figures, now=datetime(2026, 11, 3, 9, 0, tzinfo=timezone.utc))
    kept = month_status(store)["closed"][0]["data_files_hash"]
    assert kept == closed.meta["data_files_sha256"]
    first = run_export(store, config, month="2026-10", out_dir=tmp_path / "one", rates_path=sample_rates)
    second = run_export(store, config, month="2026-10", out_dir=tmp_path / "two", rates_path=sample_rates)
    assert first.status == "closed" and first.files_hash == second.files_hash == kept
    assert first.matches_close is True and first.changed_since_close == [] and first.evidence > 0
    one, two = _files(first), _files(second)
    assert {n for n in one if one[n] != two[n]} <= {"run.json"}
    # The Policy sheet lists each basis's clauses in the month's own basis order.
    policy = pd.read_csv(first.folder / "policy.csv")["item"]
    clauses = [item.split(" clause ")[0] for item in policy if " clause " in item]
    assert list(dict.fromkeys(clauses)) == figures.bases == ["gaap", "ifrs", "tax"]


def test_a_month_closed_before_evidence_was_kept_exports_as_it_did(sample_store, sample_rates, tmp_path):
    """A month closed by a version that kept no evidence (and no data-files hash): its Policy sheet gains no row,
    evidence.csv has the columns and no rows, and the export says the evidence was not kept."""
    import json
    import shutil

    from sqlalchemy import text as sql

    url = f"sqlite:///{tmp_path / 'rollup.db'}"
    shutil.copy(sample_store.removeprefix("sqlite:///"), tmp_path / "rollup.db")
    config = load_config(MAPPINGS)
    with Store.open(url) as store:
        close_month(store, config, "2026-10", rates_path=sample_rates)
        with store.begin() as conn:
            meta = json.loads(conn.execute(sql("select meta from finance_months")).scalar_one())
            for key in ("evidence", "data_files_sha256", "files_sha256"):
                meta.pop(key)
            conn.execute(sql("update finance_months set meta = :meta"), {"meta": json.dumps(meta)})
    shown = CliRunner().invoke(cli, ["finance", "export", "--month", "2026-10", "--out", str(tmp_path / "out"),
                                     "--rates", str(sample_rates), "--database", url, "--config", str(MAPPINGS)])
    assert shown.exit_code == 0, shown.output
    assert "no evidence kept for this month (closed before evidence was recorded)" in shown.output
    assert "data files are those of the close" not in shown.output and "differ" not in shown.output
    folder = tmp_path / "out" / "finance-2026-10"
    policy = pd.read_csv(folder / "policy.csv")
    assert "evidence" not in set(policy["item"])
    evidence = pd.read_csv(folder / "evidence.csv")
    assert evidence.empty and list(evidence.columns)[:3] == ["period", "epic", "summary"]
    reconciliation = pd.read_csv(folder / "reconciliation.csv")
    assert not reconciliation["check"].str.contains("Evidence").any() and reconciliation["ok"].all()
    run = json.loads((folder / "run.json").read_text())
    assert run["evidence_kept"] is False and run["matches_close"] is None
