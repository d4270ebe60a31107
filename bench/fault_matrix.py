"""The full sync fault matrix: every fault kind × flavour × starting state, over several seeds.

    .venv/bin/python bench/fault_matrix.py                       # 3 seeds × 1,000 issues (the docs' figures)
    .venv/bin/python bench/fault_matrix.py --seeds 1 --issues 300  # what CI runs (tests/e2e/test_fault_matrix.py)

Each trial ends "identical" (exit 0 and a store equal to a clean sync, table by table) or "failed loudly"
(a non-zero exit, only true rows stored, nothing lost, and the next plain sync converging to a clean
sync); anything else is WRONG and makes the script exit 1. Prints the table for docs/reliability.md
and writes every trial to bench/results/fault_matrix.json.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from dataclasses import asdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "tests" / "e2e"), str(ROOT / "tests"), str(ROOT)]

from fault_matrix import clean_content, matrix, run_trial  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=3, help="seeds per (kind, flavour, start)")
    parser.add_argument("--issues", type=int, default=1000, help="size of the sample organisation")
    args = parser.parse_args()
    trials = []
    began = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="rollup-faults-") as tmp:
        workdir = Path(tmp)
        cleans: dict[tuple[int, str, bool], tuple] = {}
        for seed in range(101, 101 + args.seeds):
            for flavour, kind, start in matrix():
                def clean(week_on: bool, seed: int = seed, flavour: str = flavour) -> tuple:
                    key = (seed, flavour, week_on)
                    if key not in cleans:
                        cleans[key] = clean_content(seed, args.issues, flavour, workdir, week_on)
                    return cleans[key]

                trial = run_trial(kind, flavour, start, seed=seed, issues=args.issues, workdir=workdir, clean=clean)
                trials.append(trial)
                print(f"{kind:26} {flavour:10} {start:19} seed {seed}: {trial.outcome} "
                      f"({trial.seconds:.1f} s, {trial.injected} faults met, {trial.retries} retries)", flush=True)
                for db in workdir.glob(f"{kind}-*.db*"):
                    db.unlink()
    by_kind: dict[str, list] = defaultdict(list)
    for t in trials:
        by_kind[t.kind].append(t)
    print(f"\n{len(trials)} trials, {args.issues} issues each, {args.seeds} seed(s), {time.monotonic() - began:.0f} s")
    print("| fault kind | trials | identical | failed loudly | wrong | faults met (median) | retries (median) "
          "| time vs clean (median) |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for kind, group in sorted(by_kind.items()):
        identical = sum(t.outcome == "identical" for t in group)
        loud = sum(t.outcome == "failed loudly" for t in group)
        wrong = sum(not t.ok for t in group)
        retries = statistics.median(t.retries for t in group)
        met = statistics.median(t.injected for t in group)
        ratio = statistics.median(t.seconds / t.clean_seconds for t in group if t.clean_seconds)
        print(f"| {kind} | {len(group)} | {identical} | {loud} | {wrong} | {met:g} | {retries:g} | {ratio:.2f}× |")
    out = ROOT / "bench" / "results"
    out.mkdir(parents=True, exist_ok=True)
    (out / "fault_matrix.json").write_text(json.dumps([asdict(t) for t in trials], indent=1))
    unmet = [t for t in trials if t.injected == 0]
    if unmet:
        print(f"{len(unmet)} trial(s) met no fault: "
              + ", ".join(f"{t.kind}/{t.flavour}/{t.start}/{t.seed}" for t in unmet))
    return 1 if any(not t.ok for t in trials) else 0


if __name__ == "__main__":
    sys.exit(main())
