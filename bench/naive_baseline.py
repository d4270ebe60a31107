"""Target 2: naive library loops vs our sync, per issue, on the same server (default 20,000 issues).

Naive loops (each in its own process):
- pycontribs ``JIRA(...).enhanced_search_issues(jql, maxResults=False, expand="changelog", fields="*all")``
- atlassian-python-api ``Jira(..., cloud=True).enhanced_jql_get_list_of_tickets(jql, expand="changelog")``
Ours: ``rollup.jobs.sync.sync`` (full) into a temp SQLite store. Note the naive loops read only the
embedded (truncated) changelog; ours reads full changelogs and worklogs as well.
Target: ours >= 5x faster per issue than each naive loop.

    .venv/bin/python bench/naive_baseline.py [--issues 20000]
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from _common import SPEED, local_jira, run_client, server_stats, stats_delta, write_result


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--issues", type=int, default=20_000)
    p.add_argument("--name", default="naive_baseline")
    args = p.parse_args()
    runs = {}
    with local_jira(args.issues, **SPEED) as url:
        for what in ("ours", "pycontribs", "atlassian"):
            before = server_stats(url)
            if what == "ours":
                with tempfile.TemporaryDirectory() as tmp:
                    out = run_client(url, "sync", "--db", str(Path(tmp) / "store.db"), "--full")
                out.pop("by_endpoint", None)
            else:
                out = run_client(url, what)
            out["server"] = stats_delta(server_stats(url), before)
            out["ms_per_issue"] = round(1000 * out["elapsed"] / max(1, out["issues"]), 3)
            runs[what] = out
            print(what, out["elapsed"], out["issues"], flush=True)
    ours = runs["ours"]["ms_per_issue"]
    speedup = {k: round(runs[k]["ms_per_issue"] / ours, 2) for k in ("pycontribs", "atlassian")}
    write_result(args.name, {
        "issues": args.issues, "server": SPEED, "runs": runs, "speedup": speedup, "target": 5.0,
        "met": all(v >= 5.0 for v in speedup.values()),
    })


if __name__ == "__main__":
    main()
