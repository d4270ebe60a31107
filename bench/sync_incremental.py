"""Target 3: incremental sync after ~1% of issues changed vs the full sync (same server, same run).

Full sync into a temp store, then ``POST /_local/advance {days}`` (new issues, transitions, edits,
deletions, moves, worklogs), then an incremental sync into the same store. The share of issues
touched is reported. Target: incremental requests and time <= 3% of the full sync's.

    .venv/bin/python bench/sync_incremental.py [--issues 100000] [--days 1.2]
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from _common import SPEED, http, local_jira, run_client, server_stats, stats_delta, write_result


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--issues", type=int, default=100_000)
    p.add_argument("--days", type=float, default=1.2, help="simulated days; ~1.2 touches ~1%% of 100k issues")
    p.add_argument("--name", default="sync_incremental")
    args = p.parse_args()
    with local_jira(args.issues, **SPEED) as url, tempfile.TemporaryDirectory() as tmp:
        db = str(Path(tmp) / "store.db")
        before = server_stats(url)
        full = run_client(url, "sync", "--db", db, "--full")
        full["server"] = stats_delta(server_stats(url), before)
        changes = http(url + "/_local/advance", {"days": args.days, "seed": 1})
        touched = set()
        for k in ("created", "transitioned", "edited", "deleted"):
            touched.update(changes.get(k) or [])
        touched.update(new for _old, new in changes.get("moved") or [])
        before = server_stats(url)
        inc = run_client(url, "sync", "--db", db)
        inc["server"] = stats_delta(server_stats(url), before)
    for r in (full, inc):
        r.pop("by_endpoint", None)
    req_ratio = inc["requests"] / full["requests"]
    time_ratio = inc["elapsed"] / full["elapsed"]
    write_result(args.name, {
        "issues": args.issues, "server": SPEED, "days": args.days,
        "changed_issues": len(touched), "changed_share": round(len(touched) / args.issues, 4),
        "change_counts": {k: len(v) for k, v in changes.items() if isinstance(v, list)},
        "full": full, "incremental": inc, "requests_ratio": round(req_ratio, 4), "time_ratio": round(time_ratio, 4),
        "target": 0.03, "met": req_ratio <= 0.03 and time_ratio <= 0.03,
    })


if __name__ == "__main__":
    main()
