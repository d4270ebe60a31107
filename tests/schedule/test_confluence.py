"""Publishing a run to a Confluence page over real HTTP (a small Confluence on loopback)."""

from __future__ import annotations

from confluence_server import LocalConfluence
from schedule_helpers import job_yaml, load_job, write_schedule

from rollup.schedule.runner import run_job

TOKEN = "confluence-pat-0a1b2c"
CONFLUENCE = """
max_data_age: 1d
deliver:
  confluence:
    space: PORT
    title: "{title} {week}"
    parent_id: "42"
    attach: ["portfolio-*.xlsx", "charts/*.png"]
    retries: 1
    retry_delay: 0s
"""


def test_a_run_is_published_to_a_page_with_its_workbook_and_charts(project, monkeypatch):
    write_schedule(project, job_yaml(steps="[portfolio]", extra=CONFLUENCE))
    with LocalConfluence(TOKEN) as confluence:
        monkeypatch.setenv("CONFLUENCE_URL", confluence.url)
        monkeypatch.setenv("CONFLUENCE_PAT", TOKEN)
        first = run_job(load_job(project))
        second = run_job(load_job(project))

    assert first.delivery_status == "sent" and second.delivery_status == "sent", first.delivery
    [page] = confluence.pages.values()
    assert page["title"] == "weekly 2026-W48" and page["space"]["key"] == "PORT"
    assert page["version"]["number"] == 3  # created, filled, then updated by the second run
    assert first.delivery["confluence"]["detail"]["version"] == 2
    body = page["body"]["storage"]["value"]
    assert '<ri:attachment ri:filename="charts-allocation-vs-target.png" />' in body
    assert "portfolio-2026-W48.xlsx" in body and "<td>portfolio</td><td>ok</td>" in body
    files = confluence.attachments[page["id"]]
    assert files["portfolio-2026-W48.xlsx"] == (second.run_dir / "portfolio-2026-W48.xlsx").read_bytes()
    assert sorted(files) == sorted(f.replace("/", "-") for f in second.files
                                   if f.startswith("charts/") and f.endswith(".png") or f.endswith(".xlsx"))


def test_a_refused_publication_is_retried_and_recorded(project, monkeypatch):
    write_schedule(project, job_yaml(steps="[portfolio]", extra=CONFLUENCE))
    with LocalConfluence(TOKEN) as confluence:
        monkeypatch.setenv("CONFLUENCE_URL", confluence.url)
        monkeypatch.setenv("CONFLUENCE_PAT", "an-expired-pat-77")
        run = run_job(load_job(project))
    assert run.delivery_status == "failed" and run.exit_code == 1
    result = run.delivery["confluence"]
    assert result["attempts"] == 2 and "an-expired-pat-77" not in (result["error"] or "")
    assert (run.run_dir / "portfolio-2026-W48.xlsx").exists()
