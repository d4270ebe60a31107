"""Epic-quality lint at scale: ``run_lint`` over more than 25,000 epics.

Target: lint of 25,000 epics <= 5 s.

The organisation is the sample organisation scaled so it has more than 25,000 epics (650,000 issues
give 26,000 epics, 19 % of them under no initiative; ~470,000 story-level children), built straight
from its columns as ``load_frames`` would give it after a Cloud sync (``org_issues`` from
``bench/portfolio_1m.py``, no HTTP), with the status transitions of every story-level issue and
sub-task taken from the generator's changelog columns. The frame is mapped once with the repository
``mappings.yaml`` and pickled; each run is a child process that loads it and times, with
``perf_counter`` (wall) and ``process_time`` (CPU):

* the baseline: ``rollup.mapping.apply`` on the same frame (the stage right before lint);
* ``rollup.lint.run_lint`` with every rule selected, transitions and a base URL;

and reports its peak RSS (``ru_maxrss``). Results: ``bench/results/lint_25k.json``.

    .venv/bin/python bench/lint_25k.py                      # 650,000 issues (26,000 epics), 5 runs
    .venv/bin/python bench/lint_25k.py --issues 50000 --runs 3
"""

from __future__ import annotations

import argparse
import json
import pickle
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from _common import PY, ROOT, median, write_result  # noqa: E402
from portfolio_1m import _clock, _since, calibrate, org_issues, peak_rss_mb  # noqa: E402

MAPPINGS = ROOT / "mappings.yaml"
TARGET_S = 5.0
TARGET_EPICS = 25_000


def org_transitions(org) -> pd.DataFrame:
    """Status transitions of every live story-level issue and sub-task, as ``load_frames`` gives them."""
    from rollup.frames import TRANSITION_COLUMNS
    from rollup.localjira.sampledata import ISSUE_TYPES, STATUSES

    a = lambda arr, dt: np.frombuffer(arr, dtype=dt)  # noqa: E731
    itype, deleted = a(org.itype, np.int8), a(org.deleted, np.int8).astype(bool)
    level = np.array([t.level for t in ISSUE_TYPES])[itype]
    pos = np.flatnonzero(~deleted & (level <= 0))
    start = a(org.hstart, np.int32).astype(np.int64)[pos]
    count = a(org.hcount, np.int16).astype(np.int64)[pos]
    owner = np.repeat(pos, count)
    offset = np.arange(count.sum()) - np.repeat(np.cumsum(count) - count, count)
    hist = np.repeat(start, count) + offset
    extra = [(p, h) for p, hs in org.h_extra.items() if not deleted[p] and level[p] <= 0 for h in hs]
    if extra:
        owner = np.concatenate([owner, np.array([p for p, _ in extra])])
        hist = np.concatenate([hist, np.array([h for _, h in extra])])
    kind = a(org.h_kind, np.int8)[hist]
    keep = kind == 0
    owner, hist = owner[keep], hist[keep]
    to = a(org.h_to, np.int32)[hist]
    frm = a(org.h_from, np.int32)[hist]
    names = np.array([s.name for s in STATUSES], dtype=object)
    cats = np.array([s.category for s in STATUSES], dtype=object)
    frame = pd.DataFrame({
        "issue_id": org.ID_BASE + owner,
        "history_id": org.HIST_BASE + hist,
        "field": "status",
        "at": pd.to_datetime(a(org.h_ts, np.int32)[hist].astype(np.int64), unit="s", utc=True),
        "from_value": names[frm],
        "to_value": names[to],
        "to_category": cats[to],
        "author_id": None,
    })
    return frame[list(TRANSITION_COLUMNS)]


def child(frame_path: str) -> dict:
    from rollup.config import load_config
    from rollup.lint import run_lint
    from rollup.mapping import apply

    out: dict = {"calibration_s": calibrate()}
    with open(frame_path, "rb") as fh:
        data = pickle.load(fh)
    config = load_config(MAPPINGS)
    t = _clock()
    mapped = apply(data["issues"], config)
    out["mapping"] = _since(t)
    t = _clock()
    result = run_lint(mapped, config, as_of=data["as_of"], transitions=data["transitions"],
                      base_url="https://clinicloud.atlassian.net")
    out["lint"] = _since(t)
    out["epics"] = result.epics
    out["findings"] = len(result.findings)
    out["peak_rss_mb"] = peak_rss_mb()
    return out


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--issues", type=int, default=650_000)
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--runs", type=int, default=5)
    p.add_argument("--name", default="lint_25k")
    p.add_argument("--child", help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.child:
        print(json.dumps(child(args.child)))
        return

    from rollup.config import load_config
    from rollup.localjira.sampleorg import SampleOrg

    config = load_config(MAPPINGS)
    result: dict = {"issues_requested": args.issues, "seed": args.seed}
    t = time.perf_counter()
    org = SampleOrg.generate(seed=args.seed, issues=args.issues)
    result["generate_s"] = round(time.perf_counter() - t, 1)
    t = time.perf_counter()
    issues = org_issues(org, extra_fields=list(config.jira.extra_fields))
    transitions = org_transitions(org)
    result["frame_s"] = round(time.perf_counter() - t, 1)
    levels = issues["hierarchy_level"].value_counts().to_dict()
    result.update(issues=len(issues), epics=int(levels.get(1, 0)), story_level=int(levels.get(0, 0)),
                  transitions=len(transitions), as_of=org.now.date().isoformat())
    as_of = org.now.date()
    del org
    print(json.dumps(result, indent=2), flush=True)
    runs = []
    with tempfile.TemporaryDirectory() as tmp:
        frame_path = Path(tmp) / "frame.pkl"
        with open(frame_path, "wb") as fh:
            pickle.dump({"issues": issues, "transitions": transitions, "as_of": as_of}, fh,
                        protocol=pickle.HIGHEST_PROTOCOL)
        del issues, transitions
        for _ in range(args.runs):
            proc = subprocess.run([PY, __file__, "--child", str(frame_path)], capture_output=True, text=True,
                                  cwd=ROOT, check=True)
            runs.append(json.loads(proc.stdout.strip().splitlines()[-1]))
            print(json.dumps(runs[-1]), flush=True)
    lint_wall = median([r["lint"]["wall_s"] for r in runs])
    lint_cpu = median([r["lint"]["cpu_s"] for r in runs])
    mapping_wall = median([r["mapping"]["wall_s"] for r in runs])
    result.update(
        runs=runs,
        lint_wall_s=lint_wall, lint_cpu_s=lint_cpu, mapping_wall_s=mapping_wall,
        peak_rss_mb=max(r["peak_rss_mb"] for r in runs),
        calibration_s=median([r["calibration_s"] for r in runs]),
        target_s=TARGET_S,
        ratio_to_target=round(lint_wall / TARGET_S, 3),
        ratio_to_mapping=round(lint_wall / mapping_wall, 3) if mapping_wall else None,
        met=lint_wall <= TARGET_S and result["epics"] >= TARGET_EPICS,
    )
    write_result(args.name, result)


if __name__ == "__main__":
    main()
