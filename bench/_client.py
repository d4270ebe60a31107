"""One client process: a sync (full or incremental) into a SQLite store, or a naive library loop.

Prints one JSON line: elapsed, requests, retries, throttled, counts, peak RSS (MB).
Env: JIRA_URL, JIRA_EMAIL, JIRA_API_TOKEN.

    python bench/_client.py sync --db /tmp/x.db [--full] [--workers 8]
    python bench/_client.py pycontribs
    python bench/_client.py atlassian
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

JQL = "project in (PAY, SCH, CLIN, INT, MOB, PLAT, DATA, SEC, STRAT) ORDER BY id ASC"


def peak_rss_mb() -> float:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)  # Linux: KiB


def run_sync(args: argparse.Namespace) -> dict:
    from _common import mappings_text

    from connectors.jira import JiraConnector, JiraSettings
    from rollup.config import load_config
    from rollup.jobs.sync import SyncScope, sync
    from rollup.store import Store

    flavour = "datacenter" if os.environ.get("JIRA_PAT") else "cloud"
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "mappings.yaml"
        path.write_text(mappings_text(flavour))
        config = load_config(path)
    settings = JiraSettings.from_env(use_keyring=False)
    workers = args.workers or config.sync.max_workers
    t0 = time.monotonic()
    cpu0 = time.process_time()
    with Store.open(f"sqlite:///{args.db}") as store, JiraConnector(settings, max_workers=workers) as conn:
        result = sync(store, conn, SyncScope.from_config(config), full=args.full)
        elapsed = time.monotonic() - t0
        cpu = time.process_time() - cpu0
        counts = store.counts()
        by_endpoint = conn.stats.as_dict()["by_endpoint"]
    return {"client": "ours", "mode": result.mode, "elapsed": round(elapsed, 3), "cpu": round(cpu, 3),
            "sync_elapsed": result.elapsed,
            "requests": result.requests, "retries": result.retries, "throttled": result.throttled,
            "new": result.new, "changed": result.changed, "unchanged": result.unchanged,
            "deleted": result.deleted, "issues": result.new + result.changed, "counts": counts,
            "by_endpoint": by_endpoint, "workers": workers, "peak_rss_mb": peak_rss_mb()}


def run_pycontribs(args: argparse.Namespace) -> dict:
    from jira import JIRA
    from jira.resources import Issue

    t0 = time.monotonic()
    if os.environ.get("JIRA_PAT"):
        # Data Center: the plain offset loop, asking for pages of 1,000 (the most a Data Center site
        # serves by default), so the server's own cap sets the page size.
        client = JIRA(os.environ["JIRA_URL"], token_auth=os.environ["JIRA_PAT"],
                      options={"rest_api_version": "2", "default_batch_size": {Issue: 1000}})
        issues = client.search_issues(JQL, maxResults=False, expand="changelog")
    else:
        client = JIRA(os.environ["JIRA_URL"], basic_auth=(os.environ["JIRA_EMAIL"], os.environ["JIRA_API_TOKEN"]),
                      # The local Jira serves search/jql under /rest/api/3 only (real Cloud has v2 too).
                      options={"rest_api_version": "3"})
        issues = client.enhanced_search_issues(JQL, maxResults=False, expand="changelog", fields="*all")
    n = len(issues)
    return {"client": "pycontribs", "elapsed": round(time.monotonic() - t0, 3), "issues": n,
            "peak_rss_mb": peak_rss_mb()}


def run_atlassian(args: argparse.Namespace) -> dict:
    from atlassian import Jira

    t0 = time.monotonic()
    client = Jira(os.environ["JIRA_URL"], username=os.environ["JIRA_EMAIL"], password=os.environ["JIRA_API_TOKEN"],
                  cloud=True)
    issues = client.enhanced_jql_get_list_of_tickets(JQL, expand="changelog")
    n = len(issues)
    return {"client": "atlassian", "elapsed": round(time.monotonic() - t0, 3), "issues": n,
            "peak_rss_mb": peak_rss_mb()}


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("what", choices=["sync", "pycontribs", "atlassian"])
    p.add_argument("--db")
    p.add_argument("--full", action="store_true")
    p.add_argument("--workers", type=int, default=0)
    p.add_argument("--profile", help="write cProfile stats here")
    args = p.parse_args()
    fn = {"sync": run_sync, "pycontribs": run_pycontribs, "atlassian": run_atlassian}[args.what]
    if args.profile:
        import cProfile
        import pstats
        import threading

        # Profile every thread (fetch pool, worklog reader), not just the main one: each thread
        # gets its own profiler; the stats are merged into one file at the end.
        profiles: list[cProfile.Profile] = []
        thread_cpu: dict[str, float] = {}
        run = threading.Thread.run

        def profiled_run(self: threading.Thread) -> None:
            prof = cProfile.Profile(time.thread_time)  # CPU time, not time waiting for the GIL
            profiles.append(prof)
            prof.enable()
            try:
                run(self)
            finally:
                prof.disable()
                thread_cpu[self.name] = round(time.thread_time(), 3)

        threading.Thread.run = profiled_run  # type: ignore[method-assign]
        main = cProfile.Profile(time.thread_time)
        out = main.runcall(fn, args)
        stats = pstats.Stats(main)
        for prof in profiles:
            stats.add(prof)
        stats.dump_stats(args.profile)
        out["thread_cpu"] = {"main": round(time.thread_time(), 3), **thread_cpu}
    else:
        out = fn(args)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
