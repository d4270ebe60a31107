"""Monte Carlo forecast at scale: 40,000 open epics × 10,000 trials.

Target: ≤ 10 s and ≤ 2 GB peak RSS on this machine.

The portfolio is built straight as a mapped issues frame (the forecast reads nothing else): 100
teams of 400 open epics (40,000), each with 0–8 open children (about one in three has fewer than
three, so it takes the default-size allowance), grouped ten to an initiative (4,000 initiatives),
twenty to a key result (2,000 key results); each team has finished about 24 items a week over the
last 12 weeks (0–8 a week under each of six done epics), with children added after those epics
started (so the split rate is measured). The frame is pickled; each run is a child process that loads it and times, with
``perf_counter``:

* the baseline: ``rollup.forecast.plan.team_plans`` — reading throughput, WIP, split rate and the
  backlog from the frame, the pandas stage the Monte Carlo starts from;
* ``rollup.forecast.forecast``: that, plus 10,000 trials per team and the initiative and key-result
  roll-ups;

and reports its peak RSS (``ru_maxrss``). The frames a Cloud and a Data Center sync give are the same
columns (``rollup/frames.py``), so one shape serves both. Results: ``bench/results/forecast_speed.json``.

    .venv/bin/python bench/forecast_speed.py                     # 40,000 epics, 10,000 trials, 3 runs
    .venv/bin/python bench/forecast_speed.py --epics 4000 --runs 1
"""

from __future__ import annotations

import argparse
import json
import pickle
import subprocess
import sys
import tempfile
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from _common import PY, median, write_result  # noqa: E402

AS_OF = date(2026, 11, 23)
TARGET_S = 10.0
TARGET_MB = 2048
#: Done epics per team whose children make its throughput history (each 0–8 items a week).
DONE_EPICS = 6


def portfolio(epics: int, teams: int, seed: int = 7) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The mapped issues frame and the key-result contributions of a synthetic portfolio."""
    rng = np.random.default_rng(seed)
    per_team = epics // teams
    start = datetime(2026, 8, 1, tzinfo=timezone.utc)
    end = datetime.combine(AS_OF, datetime.min.time(), tzinfo=timezone.utc)
    keys, level, epic, initiative, team, status, resolved, created, start_date, target = ([] for _ in range(10))

    def add(k, lv, ep, init, tm, st, res, cr, sd=None, td=None):
        keys.append(k), level.append(lv), epic.append(ep), initiative.append(init), team.append(tm)
        status.append(st), resolved.append(res), created.append(cr), start_date.append(sd), target.append(td)

    for t in range(teams):
        tid = f"team-{t:03d}"
        for d in range(DONE_EPICS):
            done_key = f"T{t}D-{d}"
            add(done_key, 1, done_key, None, tid, "done", end, start, start + timedelta(days=10))
            for w in range(12):
                for n in range(int(rng.integers(0, 9))):
                    when = end - timedelta(days=7 * w + int(rng.integers(0, 7)))
                    later = n % 4 == 3
                    add(f"{done_key}-{w}-{n}", 0, done_key, None, tid, "done", when,
                        start + timedelta(days=20 if later else 0))
        for e in range(per_team):
            key = f"T{t}-{e}"
            index = t * per_team + e
            due = AS_OF + timedelta(days=int(rng.integers(-30, 400))) if e % 5 else None
            add(key, 1, key, f"INIT-{index // 10}", tid, "indeterminate" if e % 3 else "new", None, start, None, due)
            kids = int(rng.integers(0, 9))
            for c in range(kids):
                add(f"{key}-{c}", 0, key, f"INIT-{index // 10}", tid, "indeterminate" if c % 2 else "new", None,
                    start)
    inits = sorted({i for i in initiative if i})
    for init in inits:
        add(init, 2, None, init, None, "indeterminate", None, start, None, AS_OF + timedelta(days=300))
    frame = pd.DataFrame({"key": keys, "hierarchy_level": level, "epic": epic, "initiative": initiative,
                          "team_id": team, "status_category": status, "resolved": resolved, "created": created,
                          "start_date": start_date, "target_date": target})
    open_epics = frame[frame["hierarchy_level"].eq(1) & frame["status_category"].ne("done")]["key"]
    contributions = pd.DataFrame({"key": open_epics.to_numpy(),
                                  "key_result": [f"KR-{i // 20}" for i in range(len(open_epics))]})
    return frame, contributions


def child(data: str, what: str, trials: int) -> dict:
    """One timed run in this process (called as ``forecast_speed.py --child DATA WHAT TRIALS``)."""
    import resource
    import time

    from rollup.config.forecast import ForecastOptions
    from rollup.forecast import forecast
    from rollup.forecast.plan import team_plans

    with open(data, "rb") as handle:
        frame, contributions = pickle.load(handle)
    options = ForecastOptions(trials=trials)
    started = time.perf_counter()
    if what == "plan":
        plans = team_plans(frame, options, as_of=AS_OF)
        counted = sum(len(p.backlog) for p in plans)
        rollups = 0
    else:
        result = forecast(frame, options, as_of=AS_OF, key_results=contributions)
        counted = int(result.epics["p50"].notna().sum())
        rollups = int(result.rollups["p50"].notna().sum())
    seconds = time.perf_counter() - started
    return {"what": what, "seconds": seconds, "epics": counted, "rollups": rollups,
            "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--epics", type=int, default=40_000)
    parser.add_argument("--teams", type=int, default=100)
    parser.add_argument("--trials", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--child", nargs=3, metavar=("DATA", "WHAT", "TRIALS"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(args.child[0], args.child[1], int(args.child[2]))))
        return
    frame, contributions = portfolio(args.epics, args.teams)
    with tempfile.TemporaryDirectory() as folder:
        data = Path(folder) / "portfolio.pickle"
        with open(data, "wb") as handle:
            pickle.dump((frame, contributions), handle)
        runs: dict[str, list[dict]] = {"plan": [], "forecast": []}
        for _ in range(args.runs):  # alternated, so a noisy neighbour weighs on both alike
            for what in runs:
                out = subprocess.run([PY, __file__, "--child", str(data), what, str(args.trials)],
                                     capture_output=True, text=True, check=True)
                runs[what].append(json.loads(out.stdout.strip().splitlines()[-1]))
                print(what, runs[what][-1], file=sys.stderr)
    plan_s = median([r["seconds"] for r in runs["plan"]])
    forecast_s = median([r["seconds"] for r in runs["forecast"]])
    peak = max(r["peak_mb"] for r in runs["forecast"])
    result = {
        "epics_open": int(frame["hierarchy_level"].eq(1).sum() - DONE_EPICS * args.teams), "rows": len(frame),
        "teams": args.teams, "trials": args.trials, "runs": args.runs,
        "baseline_plan_median_s": round(plan_s, 3), "forecast_median_s": round(forecast_s, 3),
        "forecast_over_plan": round(forecast_s / plan_s, 2) if plan_s else None,
        "forecast_peak_mb": round(peak, 1), "epics_dated": runs["forecast"][0]["epics"],
        "rollups_dated": runs["forecast"][0]["rollups"],
        "target_s": TARGET_S, "target_mb": TARGET_MB,
        "meets_target": forecast_s <= TARGET_S and peak <= TARGET_MB,
        "runs_detail": runs,
    }
    path = write_result("forecast_speed", result)
    print(json.dumps({k: v for k, v in result.items() if k != "runs_detail"}, indent=2))
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
