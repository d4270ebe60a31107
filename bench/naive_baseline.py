"""Target 2: naive library loops vs our sync, per issue, on the same server (default 20,000 issues).

Naive loops (each in its own process):
- pycontribs ``JIRA(...).enhanced_search_issues(jql, maxResults=False, expand="changelog", fields="*all")``
- atlassian-python-api ``Jira(..., cloud=True).enhanced_jql_get_list_of_tickets(jql, expand="changelog")``
Ours: ``rollup.jobs.sync.sync`` (full) into a temp SQLite store. Note the naive loops read only the
embedded (truncated) changelog; ours reads full changelogs and worklogs as well.
Target: ours >= 5x faster per issue than each naive loop.

``--flavour datacenter``: a Data Center server with the same settings, its search pages capped at
``--caps`` (default 100 and 1,000; ``max_page_size``) in turn; the naive loop is pycontribs
``JIRA(...).search_issues(jql, maxResults=False, expand="changelog")`` asking for pages of 1,000, so
the cap sets its page size (atlassian-python-api has no Data Center loop of its own worth timing
apart). Ours reads its full sync in pages of 100 whole issues whatever the cap.

    .venv/bin/python bench/naive_baseline.py [--issues 20000]
    .venv/bin/python bench/naive_baseline.py --flavour datacenter [--issues 20000] [--caps 100,1000]
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from _common import SPEED, local_jira, run_client, server_stats, set_faults, stats_delta, write_result


def measure(url: str, clients: tuple[str, ...], flavour: str) -> dict:
    runs = {}
    for what in clients:
        before = server_stats(url)
        if what == "ours":
            with tempfile.TemporaryDirectory() as tmp:
                out = run_client(url, "sync", "--db", str(Path(tmp) / "store.db"), "--full", flavour=flavour)
            out.pop("by_endpoint", None)
        else:
            out = run_client(url, what, flavour=flavour)
        out["server"] = stats_delta(server_stats(url), before)
        out["ms_per_issue"] = round(1000 * out["elapsed"] / max(1, out["issues"]), 3)
        runs[what] = out
        print(what, out["elapsed"], out["issues"], flush=True)
    return runs


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--issues", type=int, default=20_000)
    p.add_argument("--flavour", choices=["cloud", "datacenter"], default="cloud")
    p.add_argument("--caps", default="100,1000", help="Data Center: the search page caps to run, comma-separated")
    p.add_argument("--name", default="")
    args = p.parse_args()
    if args.flavour == "cloud":
        with local_jira(args.issues, **SPEED) as url:
            runs = measure(url, ("ours", "pycontribs", "atlassian"), "cloud")
        ours = runs["ours"]["ms_per_issue"]
        speedup = {k: round(runs[k]["ms_per_issue"] / ours, 2) for k in ("pycontribs", "atlassian")}
        write_result(args.name or "naive_baseline", {
            "issues": args.issues, "server": SPEED, "runs": runs, "speedup": speedup, "target": 5.0,
            "met": all(v >= 5.0 for v in speedup.values()),
        })
        return
    by_cap = {}
    with local_jira(args.issues, flavour="datacenter", **SPEED) as url:
        for cap in (int(c) for c in args.caps.split(",")):
            set_faults(url, max_page_size=cap)
            runs = measure(url, ("ours", "pycontribs"), "datacenter")
            by_cap[str(cap)] = {"runs": runs,
                                "speedup": round(runs["pycontribs"]["ms_per_issue"] / runs["ours"]["ms_per_issue"], 2)}
    write_result(args.name or "naive_baseline_dc", {
        "issues": args.issues, "flavour": "datacenter", "server": SPEED, "by_cap": by_cap, "target": 5.0,
        "met": all(v["speedup"] >= 5.0 for v in by_cap.values()),
    })


if __name__ == "__main__":
    main()
