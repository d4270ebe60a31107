"""The BI feed at N issues (default 100,000): ``rollup export`` against a baseline, Cloud and Data Center.

Setup, not timed: the local Jira of each flavour serving N issues (no latency: only the export is
measured); a scratch project holding the repository's mappings.yaml; a full sync into a SQLite store.

Timed, each in its own process, alternating which goes first, ``--runs`` times:

* the baseline, a naive dump: the store's issues read (``rollup.frames.load_frames``) and written as they are
  with pandas, ``to_csv`` and ``to_parquet`` — what a script pulling the store into BI files would do, with no
  mapping, lint, views, dictionary, checks or tables in the database;
* ``rollup export --format json``: the same, plus the effort and forecast views, the six tables conformed
  to the data dictionary, written as CSV and Parquet, and the store's ``feed_*`` tables refreshed.

Checked after each export: exit 0, every table's rows, the store's views count the rows the files have. The
result is each median, the ratio of the medians (the export's cost over a plain dump), the files' size
and each process's peak RSS. Results:
``bench/results/feed_export[_<flavour>].json``.

    .venv/bin/python bench/feed_export.py [--issues 100000] [--runs 3] [--flavour cloud|datacenter|both]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import tempfile
import time
from pathlib import Path

from _common import PY, ROLLUP, local_jira, mappings_text, median, write_result

from rollup.localjira.credentials import demo_environment

AS_OF = "2026-11-30"
#: The naive dump the export is compared with (run by the project's Python, in the scratch project).
NAIVE = """
import json, sys
from rollup.frames import load_frames
from rollup.store import Store
with Store.open(sys.argv[1]) as store:
    issues = load_frames(store).issues
plain = issues.drop(columns=["custom"]).astype({c: str for c in ("labels", "components", "fix_versions",
                                                                 "sprint_ids") if c in issues})
plain.to_csv("naive.csv", index=False)
plain.to_parquet("naive.parquet", index=False)
print(json.dumps({"rows": len(plain)}))
"""


def timed(args: list[str], project: Path, env: dict[str, str]) -> tuple[float, float, dict]:
    """``ARGS`` (a command line) in ``project``, in a process of its own: (wall seconds, its peak RSS in MB, its
    JSON). The peak is that process's own (``wait4``'s resource usage), not the largest child so far."""
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        t0 = time.perf_counter()
        proc = subprocess.Popen(args, cwd=project, env=env, stdout=out, stderr=err, text=True)
        _, status, usage = os.wait4(proc.pid, 0)
        elapsed = time.perf_counter() - t0
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        text, errors = out.read(), err.read()
    if proc.returncode != 0 or not text.strip():
        raise RuntimeError(f"{' '.join(args[:3])} exited {proc.returncode}:\n{errors[-3000:]}")
    return elapsed, usage.ru_maxrss / 1024, json.loads(text)


def stored_rows(url: str) -> dict[str, int]:
    from rollup.store import Store
    from rollup.store.feed import stored_counts

    with Store.open(url) as store:
        return stored_counts(store)


def measure(flavour: str, issues: int, runs: int) -> dict:
    exports, lints = [], []
    with tempfile.TemporaryDirectory() as tmp, local_jira(issues, flavour=flavour) as url:
        project = Path(tmp)
        (project / "mappings.yaml").write_text(mappings_text(flavour))
        database = f"sqlite:///{project / 'rollup.db'}"
        env = {k: v for k, v in os.environ.items() if not k.startswith(("JIRA_", "ROLLUP_"))}
        env.update(demo_environment(url, flavour), ROLLUP_DATABASE_URL=database)
        t0 = time.perf_counter()
        subprocess.run([ROLLUP, "sync", "--full"], cwd=project, env=env, check=True, capture_output=True,
                       timeout=7200)
        print(f"{flavour}: full sync of {issues:,} issues {time.perf_counter() - t0:.1f} s", flush=True)
        export = [ROLLUP, "export", "--out", str(project / "feed"), "--as-of", AS_OF, "--format", "json"]
        naive = [PY, "-c", NAIVE, database]
        for n in range(runs):
            order = [("export", export), ("naive", naive)]
            for which, args in order if n % 2 == 0 else order[::-1]:
                elapsed, peak, report = timed(args, project, env)
                if which == "naive":
                    lints.append({"elapsed": round(elapsed, 3), "peak_rss_mb": round(peak), "rows": report["rows"]})
                    continue
                rows = {name: table["rows"] for name, table in report["tables"].items()}
                assert rows["issues"] > 0 and rows["epics"] > 0, rows
                assert stored_rows(database) == rows, "the store's views do not count the files' rows"
                size = sum(p.stat().st_size for p in (project / "feed").iterdir())
                exports.append({"elapsed": round(elapsed, 3), "peak_rss_mb": round(peak), "rows": rows,
                                "files_mb": round(size / 1e6, 1)})
                print(which, json.dumps(exports[-1]), flush=True)
    export_median = median([r["elapsed"] for r in exports])
    lint_median = median([r["elapsed"] for r in lints])
    return {"flavour": flavour, "issues": issues, "runs": exports, "baseline_runs": lints,
            "export_median_s": export_median, "baseline_median_s": lint_median,
            "ratio": round(export_median / lint_median, 2) if lint_median else None,
            "baseline": "naive dump: load_frames(store).issues to CSV and Parquet with pandas"}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--issues", type=int, default=100_000)
    p.add_argument("--runs", type=int, default=3)
    p.add_argument("--flavour", choices=["cloud", "datacenter", "both"], default="both")
    p.add_argument("--name", default="feed_export")
    args = p.parse_args()
    flavours = ["cloud", "datacenter"] if args.flavour == "both" else [args.flavour]
    for flavour in flavours:
        result = measure(flavour, args.issues, args.runs)
        name = args.name if len(flavours) == 1 and flavour == "cloud" else f"{args.name}_{flavour}"
        print(json.dumps({k: v for k, v in result.items() if not k.endswith("runs")}, indent=2), flush=True)
        print(f"wrote {write_result(name, result)}")


if __name__ == "__main__":
    main()
