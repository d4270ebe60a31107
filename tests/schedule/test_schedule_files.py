"""schedules/*.yaml at the door: the shipped files load, and a corpus of bad files each names what is
wrong, the file and the line, and exits with code 2 before anything is written.

Every file in ``tests/schedule/bad/`` starts with ``# expect: <message part>`` and marks the line the
error must point at with ``# <-- error``. New cases need no code: add a file.
"""

from __future__ import annotations

from datetime import time, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner
from corpus import corpus_tests

from rollup.cli import cli
from rollup.errors import ConfigError
from rollup.schedule.models import load_schedules
from rollup.schedule.steps import FinanceParams, SyncParams, TeamReportsParams

ROOT = Path(__file__).resolve().parents[2]
BAD = Path(__file__).parent / "bad"
CASES = sorted(BAD.glob("*.yaml"))

test_the_corpus_is_there, test_message_names_what_file_and_line = corpus_tests(BAD, load_schedules)


@pytest.mark.parametrize("path", CASES[:4], ids=[p.stem for p in CASES[:4]])
def test_bad_file_exits_2_and_writes_nothing(path, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("ROLLUP_DATABASE_URL", f"sqlite:///{tmp_path / 'rollup.db'}")
    for args in (["run", "weekly", "--schedules", str(path)], ["schedule", "list", "--schedules", str(path)],
                 ["schedule", "run", "--once", "--schedules", str(path)]):
        result = CliRunner().invoke(cli, args)
        assert result.exit_code == 2, result.output
        assert str(path) in result.output
    assert list(tmp_path.iterdir()) == []


def test_shipped_schedules_load():
    schedules = load_schedules(ROOT / "schedules")
    weekly = schedules.get("weekly-portfolio")
    assert weekly.cron == "0 7 * * mon" and weekly.timezone == "Europe/London"
    assert [s.step for s in weekly.steps] == ["sync", "portfolio", "team_reports"]
    assert isinstance(weekly.steps[2], TeamReportsParams) and weekly.steps[2].on_failure == "continue"
    assert weekly.deliver.email.to == ["ceo@clinicloud.example", "cpo@clinicloud.example"]
    assert weekly.max_data_age == timedelta(hours=2) and weekly.misfire_grace == timedelta(days=3)
    assert [s.step for s in schedules.get("daily-lint").steps] == ["lint"]
    finance = schedules.get("monthly-finance")
    assert finance.working_day.day == 2 and finance.working_day.at == time(6, 0)
    assert isinstance(finance.steps[0], FinanceParams) and finance.steps[0].month == "previous"
    assert "demo-weekly-portfolio" not in schedules.jobs  # the demo lives in its own folder
    demo = load_schedules(ROOT / "schedules" / "demo").get("demo-weekly-portfolio")
    assert isinstance(demo.steps[0], SyncParams) and demo.steps[0].source == "local-demo"
    assert demo.deliver.email.outbox == "outputs/outbox"


def test_unknown_job_suggests_the_closest(tmp_path):
    schedules = load_schedules(ROOT / "schedules")
    with pytest.raises(ConfigError, match="no job named 'weekly-portfolo'.*did you mean 'weekly-portfolio'"):
        schedules.get("weekly-portfolo")


def test_two_jobs_with_one_name_or_one_output_folder(tmp_path):
    job = 'jobs:\n  - name: {name}\n    cron: "0 7 * * mon"\n    output: {out}\n    steps: [portfolio]\n'
    (tmp_path / "a.yaml").write_text(job.format(name="weekly", out="outputs/a"))
    (tmp_path / "b.yaml").write_text(job.format(name="weekly", out="outputs/b"))
    with pytest.raises(ConfigError, match=r"b.yaml:2: duplicate job name 'weekly' \(first declared at .*a.yaml:2\)"):
        load_schedules(tmp_path)
    (tmp_path / "b.yaml").write_text(job.format(name="other", out="outputs/a"))
    with pytest.raises(ConfigError, match="writes to outputs/a, the output folder of job 'weekly'"):
        load_schedules(tmp_path)
