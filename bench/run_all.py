"""Run every benchmark, one after the other (they share a 2-core machine badly), results in bench/results/.

    .venv/bin/python bench/run_all.py            # full sizes: 100k speed runs (Cloud and Data Center), 20k naive,
                                                 # the Monday job at 100k, 1M memory, 1M portfolio
    .venv/bin/python bench/run_all.py --quick    # smoke run: small sizes, a couple of minutes
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
RESULTS = BENCH / "results"

#: (name, script, arguments): the name labels the results file and ``--only``.
FULL = [
    ("naive_baseline", "naive_baseline", ["--issues", "20000"]),
    ("naive_baseline_dc", "naive_baseline", ["--issues", "20000", "--flavour", "datacenter"]),
    ("sync_full", "sync_full", ["--issues", "100000"]),
    ("sync_full_dc", "sync_full", ["--issues", "100000", "--flavour", "datacenter", "--repeat", "3"]),
    ("sync_incremental", "sync_incremental", ["--issues", "100000", "--days", "1.2"]),
    ("monday_job_cloud", "monday_job", ["--issues", "100000", "--runs", "3"]),
    ("monday_job_datacenter", "monday_job", ["--issues", "100000", "--runs", "3", "--flavour", "datacenter"]),
    ("sync_sites", "sync_sites", ["--issues", "20000", "--runs", "3"]),
    ("memory_1m", "memory_1m", ["--issues", "1000000"]),
    ("portfolio_1m", "portfolio_1m", ["--issues", "1000000", "--runs", "3", "--verify", "1000"]),
    ("lint_25k", "lint_25k", ["--runs", "5"]),
    ("finance_year", "finance_year", ["--runs", "3", "--verify", "1500"]),
    ("forecast_speed", "forecast_speed", ["--runs", "3"]),
    ("feed_export", "feed_export", ["--issues", "100000", "--runs", "3"]),
]
QUICK = [
    ("naive_baseline", "naive_baseline", ["--issues", "1000"]),
    ("naive_baseline_dc", "naive_baseline", ["--issues", "1000", "--flavour", "datacenter"]),
    ("sync_full", "sync_full", ["--issues", "5000"]),
    ("sync_full_dc", "sync_full", ["--issues", "5000", "--flavour", "datacenter"]),
    ("sync_incremental", "sync_incremental", ["--issues", "5000", "--days", "1.2"]),
    ("monday_job_cloud", "monday_job", ["--issues", "3000", "--runs", "1"]),
    ("sync_sites", "sync_sites", ["--issues", "2000", "--runs", "1"]),
    ("memory_1m", "memory_1m", ["--issues", "20000"]),
    ("portfolio_1m", "portfolio_1m", ["--issues", "20000", "--runs", "3", "--verify", "500"]),
    ("lint_25k", "lint_25k", ["--issues", "50000", "--runs", "3"]),
    ("finance_year", "finance_year", ["--issues", "50000", "--runs", "1", "--verify", "1500"]),
    ("forecast_speed", "forecast_speed", ["--epics", "4000", "--teams", "10", "--runs", "1"]),
    ("feed_export", "feed_export", ["--issues", "3000", "--runs", "1"]),
]


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true", help="small sizes for a smoke run")
    p.add_argument("--only", nargs="*", help="run only these benchmarks")
    args = p.parse_args()
    plan = QUICK if args.quick else FULL
    summary = {}
    for name, script, extra in plan:
        if args.only and name not in args.only:
            continue
        out_name = f"{name}_quick" if args.quick else name
        t0 = time.monotonic()
        print(f"== {name}: {script} {' '.join(extra)}", flush=True)
        proc = subprocess.run([sys.executable, str(BENCH / f"{script}.py"), *extra, "--name", out_name])
        result = RESULTS / f"{out_name}.json"
        if proc.returncode == 0 and result.exists():
            data = json.loads(result.read_text())
            summary[name] = {"met": data.get("met"), "wall_s": round(time.monotonic() - t0, 1)}
        else:
            summary[name] = {"met": None, "error": f"exit {proc.returncode}"}
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / ("summary_quick.json" if args.quick else "summary.json")).write_text(json.dumps(summary, indent=2))
    print(json.dumps(summary, indent=2))


if __name__ == "__main__":
    main()
