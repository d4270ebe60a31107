"""The report pipeline over a real store: views, snapshot, workbook; and the CLI."""

from __future__ import annotations

from datetime import date, datetime, timezone
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner
from openpyxl import load_workbook
from portfolio_org import AS_OF, BASE_URL, MAPPINGS, mapped_issues
from sheets import table
from workbook_checks import check_workbook

from rollup.cli.report import report
from rollup.config import load_config
from rollup.errors import ConfigError
from rollup.jobs import report as report_module
from rollup.jobs.report import STATE_SERVER_BASE_URL, read_snapshots, run_portfolio, snapshot_week
from rollup.store import Store
from rollup.views.allocation import ktlo_buckets, strategy_buckets
from rollup.views.okrs import headline

NAMES = {b.id: b.name for b in MAPPINGS.buckets}
KTLO = {NAMES[b] for b in ktlo_buckets(MAPPINGS)}
CAPEX = {NAMES[b] for b in strategy_buckets(MAPPINGS)}

#: The sample organisation's mappings (the repository's mappings.yaml).
SAMPLE = load_config(Path(__file__).resolve().parents[2] / "mappings.yaml")


@pytest.fixture
def store(tmp_path):
    s = Store.open(f"sqlite:///{tmp_path / 'rollup.db'}")
    s.record_run(started=datetime(2026, 11, 25, 22, tzinfo=timezone.utc),
                 finished=datetime(2026, 11, 25, 22, 5, tzinfo=timezone.utc), mode="incremental", status="ok",
                 retries=1)
    s.set_state(STATE_SERVER_BASE_URL, BASE_URL)
    yield s
    s.close()


def test_run_portfolio_writes_workbook_and_stores_snapshot(store, tmp_path):
    result = run_portfolio(store, MAPPINGS, as_of=AS_OF, out_dir=tmp_path / "out", mapped_issues=mapped_issues())
    assert result.workbook == tmp_path / "out" / "portfolio-2026-W48.xlsx"
    assert result.snapshots_stored == 10
    snaps = read_snapshots(store)
    assert set(snaps["run_id"]) == {1} and len(snaps) == 10
    assert snaps.set_index("key").loc["ENT-1", "payload"]["target_date"] == "2026-12-31"
    wb = load_workbook(result.workbook)
    assert wb["Epics"]["A2"].hyperlink.target.startswith(BASE_URL + "/browse/")
    # The same data reported again overwrites its own snapshot rather than adding one.
    run_portfolio(store, MAPPINGS, as_of=AS_OF, out_dir=tmp_path / "out", mapped_issues=mapped_issues())
    assert len(read_snapshots(store)) == 10


def test_week_over_week_from_stored_snapshots(store, tmp_path):
    frame = mapped_issues()
    run_portfolio(store, MAPPINGS, as_of=datetime(2026, 11, 19).date(), out_dir=tmp_path / "w47", mapped_issues=frame)
    store.record_run(started=datetime(2026, 11, 26, 6, tzinfo=timezone.utc),
                     finished=datetime(2026, 11, 26, 6, 3, tzinfo=timezone.utc), mode="incremental", status="ok")
    later = frame.copy()
    later.loc[later["key"] == "ENT-2", "target_date"] = datetime(2027, 1, 10).date()
    result = run_portfolio(store, MAPPINGS, as_of=AS_OF, out_dir=tmp_path / "w48", mapped_issues=later)
    changes = result.views["changes"]
    slipped = changes[changes["change"] == "target date slipped"]
    assert list(slipped["key"]) == ["ENT-2"] and list(slipped["days_slipped"]) == [26]


def test_snapshots_are_keyed_by_the_as_of_week_and_a_past_week_reproduces(store, tmp_path):
    """Snapshots follow the report's as-of date, never the wall clock of the run."""
    w47, w48, w49 = date(2026, 11, 19), date(2026, 11, 26), date(2026, 12, 3)
    frame = mapped_issues()
    run_portfolio(store, MAPPINGS, as_of=w47, out_dir=tmp_path / "w47", mapped_issues=frame)
    second = frame.copy()
    second.loc[second["key"] == "ENT-2", "target_date"] = date(2027, 1, 10)
    run_portfolio(store, MAPPINGS, as_of=w48, out_dir=tmp_path / "w48", mapped_issues=second)
    third = second.copy()
    third.loc[third["key"] == "ENT-3", "target_date"] = date(2027, 6, 30)
    first_w49 = run_portfolio(store, MAPPINGS, as_of=w49, out_dir=tmp_path / "w49", mapped_issues=second)
    assert first_w49.views["changes"].empty
    assert first_w49.views["changes"].attrs["note"].endswith("no epic changed.")
    # Re-running W49 on newer data replaces W49's snapshot: still one per week.
    w49_run = run_portfolio(store, MAPPINGS, as_of=w49, out_dir=tmp_path / "w49", mapped_issues=third)
    snaps = read_snapshots(store)
    assert sorted(snaps["week"].unique()) == ["2026-W47", "2026-W48", "2026-W49"]
    assert len(snaps) == 3 * w49_run.snapshots_stored
    slipped = w49_run.views["changes"].query("change == 'target date slipped'")
    assert list(slipped["key"]) == ["ENT-3"]
    assert list(w49_run.views["trend"]["week"]) == ["2026-W47", "2026-W48", "2026-W49"]

    # --as-of of a past week, on today's data: W48 against W47 exactly as that week's report showed it.
    again = run_portfolio(store, MAPPINGS, as_of=w48, out_dir=tmp_path / "again", mapped_issues=third)
    assert again.snapshots_stored == 0
    changes = again.views["changes"]
    assert list(changes.query("change == 'target date slipped'")["key"]) == ["ENT-2"]
    assert set(changes["baseline"]) == {"2026-11-19"}
    assert "the stored snapshot of 2026-W48" in changes.attrs["note"]
    assert list(again.views["trend"]["week"]) == ["2026-W47", "2026-W48"]
    assert read_snapshots(store).equals(snaps)


def test_team_report(store, tmp_path):
    result = run_portfolio(store, MAPPINGS, as_of=AS_OF, team="Payments", out_dir=tmp_path,
                           mapped_issues=mapped_issues())
    assert result.workbook.name == "team-pay-2026-W48.xlsx"
    assert load_workbook(result.workbook)["Summary"]["A1"].value == "R&D portfolio — week 2026-W48 — team Payments"
    assert set(result.views["epics"]["team_id"]) == {"pay"}
    assert result.snapshots_stored == 0
    with pytest.raises(ConfigError, match="unknown team 'nobody'"):
        run_portfolio(store, MAPPINGS, as_of=AS_OF, team="nobody", out_dir=tmp_path, mapped_issues=mapped_issues())


def test_a_team_report_keeps_the_initiatives_above_its_epics(store, tmp_path):
    """Initiatives belong to no team: the team's Roadmap still names them, and none reads as not visible."""
    result = run_portfolio(store, MAPPINGS, as_of=AS_OF, team="pay", out_dir=tmp_path, mapped_issues=mapped_issues())
    epics = result.views["epics"].set_index("key")
    assert epics.loc[["ENT-1", "ENT-3"], "initiative_summary"].tolist() == ["Hospital readiness"] * 2
    assert result.views["missing_parents"].empty
    quality = result.views["completeness"].set_index("measure")["value"]
    assert quality["epics_initiative_not_visible"] == 0
    roadmap = {r["Epic"]: r for r in table(load_workbook(result.workbook)["Roadmap"])}
    assert roadmap["ENT-1"]["Initiative summary"] == "Hospital readiness"
    assert set(result.views["teams"]["team"]) == {"Payments"}


def test_a_team_report_shows_the_key_results_of_its_epics(store, tmp_path):
    """Payments' epics (ENT-1, ENT-3, GROW-1, PLAT-2) contribute to KR1 and, through O3's only key result,
    KR5: its OKRs and their line on the Summary, the OKRs sheet and the chart are about those."""
    run_portfolio(store, MAPPINGS, as_of=date(2026, 11, 19), out_dir=tmp_path / "w47", mapped_issues=mapped_issues())
    result = run_portfolio(store, MAPPINGS, as_of=AS_OF, team="pay", out_dir=tmp_path / "w48",
                           mapped_issues=mapped_issues())
    views = result.views
    okrs = views["okrs"]
    assert list(okrs.loc[okrs["level"] == "key result", "key_result"]) == ["KR1", "KR5"]
    assert list(okrs.loc[okrs["level"] == "objective", "okr"]) == ["O1", "O3"]
    line = "Key results: 1 behind the calendar, 1 missed (quarter over) — of 2"
    assert headline(views["okr_summary"]) == line
    wb = load_workbook(result.workbook)
    got = check_workbook(wb, result.charts["okr-progress"][1].parent, ktlo_buckets=KTLO, capex_buckets=CAPEX)
    assert got["key_result_line"] == line
    assert got["key_results"] == {"done": 0, "on track": 0, "behind": 1, "no work planned": 0, "missed": 1}


def test_a_team_report_says_only_what_is_the_team_s(store, tmp_path):
    """The sentences cite Payments' epics; the trend counts them in every week, not the portfolio's."""
    run_portfolio(store, MAPPINGS, as_of=date(2026, 11, 19), out_dir=tmp_path / "w47", mapped_issues=mapped_issues())
    views = run_portfolio(store, MAPPINGS, as_of=AS_OF, team="pay", out_dir=tmp_path / "w48",
                          mapped_issues=mapped_issues()).views
    insights = views["insights"]
    ours = set(views["epics"]["key"])
    # The portfolio's pillar gaps are not the team's; another team's key result is not the team's to plan.
    assert "pillar_gap" not in set(insights["kind"])
    assert "key_results_no_work" not in set(insights["kind"])
    assert {k for keys in insights["keys"] for k in keys} <= ours
    assert any(s.startswith("1 key result is behind the calendar: SSO and audit logs GA") for s in insights["sentence"])
    trend = views["trend"].set_index("week")
    assert list(trend.index) == ["2026-W47", "2026-W48"]
    assert (trend["epics_open"] + trend["epics_done"]).tolist() == [4, 4]


def test_cli_prints_written_paths(tmp_path, monkeypatch):
    monkeypatch.setenv("ROLLUP_DATABASE_URL", f"sqlite:///{tmp_path / 'cli.db'}")
    Store.open().close()  # the report reads an existing store; the issues come from the patched read_mapped
    monkeypatch.setattr("rollup.config.load_config", lambda path: MAPPINGS)
    monkeypatch.setattr(report_module, "read_mapped",
                        lambda store, mappings: report_module.MappedStore(report_module.as_mapped(mapped_issues())))
    out = tmp_path / "outputs"
    result = CliRunner().invoke(report, ["portfolio", "--as-of", "2026-11-26", "--out", str(out),
                                         "--base-url", BASE_URL])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0] == str(out / "portfolio-2026-W48.xlsx")
    assert str(out / "charts" / "roadmap.png") in lines
    result = CliRunner().invoke(report, ["team", "sch", "--as-of", "2026-11-26", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[0] == str(out / "team-sch-2026-W48.xlsx")
    result = CliRunner().invoke(report, ["team", "nobody", "--as-of", "2026-11-26", "--out", str(out)])
    assert result.exit_code == 2 and "unknown team" in result.output


def test_every_report_command_has_an_example():
    for name, command in report.commands.items():
        assert "Example:" in (command.help or ""), name
    assert "Example:" in report.help


def test_a_frame_missing_mapping_columns_is_refused(store, tmp_path):
    with pytest.raises(Exception, match="lacks column"):
        run_portfolio(store, MAPPINGS, as_of=AS_OF, out_dir=tmp_path,
                      mapped_issues=mapped_issues().drop(columns="pillar"))


def test_report_options_from_mappings_reach_views_and_workbook(store, tmp_path):
    """``report: allocation_window_days`` changes the actual shares and what the workbook says about them."""
    default = run_portfolio(store, MAPPINGS, as_of=AS_OF, out_dir=tmp_path / "a", mapped_issues=mapped_issues(),
                            save_snapshot=False)
    narrow = MAPPINGS.model_copy(update={"report": MAPPINGS.report.model_copy(update={"allocation_window_days": 7})})
    short = run_portfolio(store, narrow, as_of=AS_OF, out_dir=tmp_path / "b", mapped_issues=mapped_issues(),
                          save_snapshot=False)
    assert not default.views["pillars"]["effort"].equals(short.views["pillars"]["effort"])
    summary = load_workbook(short.workbook)["Summary"]
    lines = [c.value for c in summary["A"] if isinstance(c.value, str)]
    assert "Pillars: effort share actual vs target (last 7 days; gaps in percentage points)" in lines



@pytest.fixture(scope="module")
def sample_store(tmp_path_factory):
    """A store holding the sample organisation synced from the local Jira (300 issues)."""
    from rollup.jobs.demo import sync_sample_org
    from rollup.localjira.sampleorg import SampleOrg

    url = f"sqlite:///{tmp_path_factory.mktemp('sample') / 'rollup.db'}"
    with Store.open(url) as store:
        sync_sample_org(store, SampleOrg.generate(seed=7, issues=300), config=SAMPLE, max_workers=4)
    return url


def test_a_report_reads_the_store_once_for_its_views_and_its_lint(sample_store, tmp_path, monkeypatch):
    """No lint run of the date is recorded, so the report lints the store now: from what it read for the
    views, with the same findings as when the lint reads the store itself."""
    as_of = date(2026, 11, 23)
    with Store.open(sample_store) as store:
        by_itself = report_module.lint_for_report(store, SAMPLE, report_module.load_mapped(store, SAMPLE),
                                                  as_of=as_of)
        reads = []
        real = report_module.load_frames
        monkeypatch.setattr(report_module, "load_frames", lambda s: reads.append(s) or real(s))
        assert snapshot_week(store, SAMPLE, as_of=date(2026, 11, 16)) > 0
        assert len(reads) == 1
        result = run_portfolio(store, SAMPLE, as_of=as_of, out_dir=tmp_path)
        assert len(reads) == 2 and result.snapshots_stored > 0
        data = report_module.read_mapped(store, SAMPLE)
        handed = report_module.lint_for_report(store, SAMPLE, data.issues, as_of=as_of, mapped_store=data)
        team = run_portfolio(store, SAMPLE, as_of=as_of, team="payments", out_dir=tmp_path, mapped_store=data)
        assert len(reads) == 3  # the lint and the team report read nothing more: the store was handed in
    pd.testing.assert_frame_equal(handed.findings, by_itself.findings)
    assert len(by_itself.findings) and set(team.views["epics"]["team_id"]) == {"payments"}


# -- team reports, several at once ----------------------------------------------------------------

def _cells(path):
    book = load_workbook(path)
    return {ws.title: [[c.value for c in row] for row in ws.iter_rows()] for ws in book.worksheets}


def test_team_reports_written_in_parallel_processes_equal_those_written_one_by_one(store, tmp_path):
    from rollup.jobs.report import MappedStore, as_mapped, lint_for_report, run_team_reports

    data = MappedStore(mapped=as_mapped(mapped_issues()))
    lint = lint_for_report(store, MAPPINGS, data.issues, as_of=AS_OF, mapped_store=data)
    teams = [t.id for t in MAPPINGS.teams]
    assert len(teams) >= 2
    one = run_team_reports(store, MAPPINGS, teams, as_of=AS_OF, out_dir=tmp_path / "one", mapped_store=data,
                           lint=lint, processes=1)
    two = run_team_reports(store, MAPPINGS, teams, as_of=AS_OF, out_dir=tmp_path / "two", mapped_store=data,
                           lint=lint, processes=2)
    assert [p.relative_to(tmp_path / "two") for p in two] == [p.relative_to(tmp_path / "one") for p in one]
    workbooks = [p for p in one if p.suffix == ".xlsx"]
    assert len(workbooks) == len(teams)
    for a, b in zip(one, two):
        if a.suffix == ".xlsx":
            assert _cells(a) == _cells(b), a.name
        else:
            assert a.read_bytes() == b.read_bytes(), a.name
    assert not read_snapshots(store).shape[0], "team reports store no snapshot"


def test_a_team_that_fails_in_its_process_does_not_stop_the_others(store, tmp_path, monkeypatch):
    from rollup.jobs.report import MappedStore, as_mapped, lint_for_report, run_team_reports

    data = MappedStore(mapped=as_mapped(mapped_issues()))
    lint = lint_for_report(store, MAPPINGS, data.issues, as_of=AS_OF, mapped_store=data)
    teams = [t.id for t in MAPPINGS.teams]
    real = report_module.run_portfolio

    def failing(store, mappings, *, team=None, **options):
        if team == teams[0]:
            raise ConfigError(f"team {team} could not be written")
        return real(store, mappings, team=team, **options)

    monkeypatch.setattr(report_module, "run_portfolio", failing)  # the forked processes inherit it
    with pytest.raises(ConfigError, match=f"team {teams[0]} could not be written"):
        run_team_reports(store, MAPPINGS, teams, as_of=AS_OF, out_dir=tmp_path, mapped_store=data, lint=lint,
                         processes=2)
    written = sorted(p.name for p in tmp_path.glob("team-*.xlsx"))
    assert len(written) == len(teams) - 1


def test_team_reports_stay_in_this_process_while_other_threads_run():
    import threading

    from rollup.jobs.report import team_report_processes

    assert team_report_processes(1) == 1
    stop = threading.Event()
    worker = threading.Thread(target=stop.wait)
    worker.start()
    try:
        assert team_report_processes(8) == 1  # a fork would copy the other thread mid-flight
    finally:
        stop.set()
        worker.join()
