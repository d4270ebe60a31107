"""Target 4: peak client memory (RSS) during a full sync of 1,000,000 issues <= 1 GB.

The client runs in its own process and reports ru_maxrss. To finish in reasonable time this run
drops the injected latency, per-issue server time and rate limit (a plain local Jira).

    .venv/bin/python bench/memory_1m.py [--issues 1000000]
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from _common import local_jira, run_client, server_stats, stats_delta, write_result


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--issues", type=int, default=1_000_000)
    p.add_argument("--name", default="memory_1m")
    args = p.parse_args()
    with local_jira(args.issues) as url, tempfile.TemporaryDirectory() as tmp:
        before = server_stats(url)
        out = run_client(url, "sync", "--db", str(Path(tmp) / "store.db"), "--full", timeout=4 * 3600)
        out["server"] = stats_delta(server_stats(url), before)
    out.pop("by_endpoint", None)
    write_result(args.name, {
        "issues": args.issues, "server": "no latency, no per-issue time, no rate limit", "run": out,
        "peak_rss_mb": out["peak_rss_mb"], "target_mb": 1024, "met": out["peak_rss_mb"] <= 1024,
    })


if __name__ == "__main__":
    main()
