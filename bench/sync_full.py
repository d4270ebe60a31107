"""Target 1: full sync of N issues (default 100,000) with full changelogs vs the rate-limit bound.

Server: Cloud (default) or Data Center flavour, 100 ms latency, 5 ms per full issue returned, 20
requests/s per endpoint. bound = max over endpoints of (requests that endpoint needed, 429s excluded,
from /_local/stats) / 20 — the requests the sync made, so a redundant request raises the bound
instead of hiding in it; the Data Center run also reports the bound of the fewest requests a full
read needs (one search page per 100 issues, `--dc-pages-needed`). Target: elapsed <= 1.25 x bound
(Cloud), <= 1.10 x (Data Center).

    .venv/bin/python bench/sync_full.py [--issues 100000] [--repeat 1] [--flavour datacenter]
"""

from __future__ import annotations

import argparse
import math
import tempfile
from pathlib import Path

from _common import SPEED, local_jira, median, rate_bound, run_client, server_stats, stats_delta, write_result


def full_sync(url: str, rate: float, workers: int = 0, flavour: str = "cloud") -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        before = server_stats(url)
        args = ["sync", "--db", str(Path(tmp) / "store.db"), "--full"]
        if workers:
            args += ["--workers", str(workers)]
        out = run_client(url, *args, flavour=flavour)
        delta = stats_delta(server_stats(url), before)
    bound, ep = rate_bound(delta, rate)
    out.update(server=delta, bound=round(bound, 2), bound_endpoint=ep, ratio=round(out["elapsed"] / bound, 3))
    out.pop("by_endpoint", None)
    return out


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--issues", type=int, default=100_000)
    p.add_argument("--repeat", type=int, default=1)
    p.add_argument("--workers", type=int, default=0, help="override mappings.yaml sync.max_workers")
    p.add_argument("--flavour", choices=["cloud", "datacenter"], default="cloud")
    p.add_argument("--name", default="")
    args = p.parse_args()
    runs = []
    target = 1.25 if args.flavour == "cloud" else 1.10
    with local_jira(args.issues, flavour=args.flavour, **SPEED) as url:
        for _ in range(args.repeat):
            run = full_sync(url, SPEED["rate_limit"], args.workers, args.flavour)
            if args.flavour == "datacenter":
                # The fewest requests a full read can make: one page of 100 whole issues per 100 issues.
                needed = math.ceil(run["counts"]["issues"] / 100) / SPEED["rate_limit"]
                run.update(bound_needed=round(needed, 2), ratio_needed=round(run["elapsed"] / needed, 3))
            runs.append(run)
            print(runs[-1], flush=True)
    ratio = median([r["ratio"] for r in runs])
    write_result(args.name or ("sync_full" if args.flavour == "cloud" else "sync_full_dc"), {
        "issues": args.issues, "flavour": args.flavour, "server": SPEED, "runs": runs,
        "elapsed_median": median([r["elapsed"] for r in runs]), "bound_median": median([r["bound"] for r in runs]),
        "ratio_median": ratio, "target": target, "met": ratio <= target,
    })


if __name__ == "__main__":
    main()
