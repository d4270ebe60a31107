"""Two Jira sites in one store: a Cloud and a Data Center local Jira synced at once vs each alone.

Setup, not timed: two local Jiras in their own processes with the speed-run settings (100 ms latency,
5 ms per full issue, 20 requests/s per endpoint), each serving N issues (default 20,000) of the sample
organisation — the same seed, so every key and id exists on both — and a scratch project whose
mappings.yaml lists both under ``sites:``.

Timed, ``rollup sync --full`` in its own process each time, into a new SQLite store: the Cloud site
alone, the Data Center site alone (each as the one site of JIRA_URL), then both through ``sites:``.
Each site has its own rate limit, so in parallel the two could take as long as the slower one alone;
what they do take is set by the CPU as well: on this two-core machine the two local Jiras run beside the
client and render every answer. Reported: ``both / (cloud alone + dc alone)`` (1.0 is one after the
other; the check is that the parallel sync beats that) and ``both / max(cloud alone, dc alone)`` (1.0 is
perfect overlap). Checked each time: exit 0; both sites' issue counts equal the single syncs'; the sites
ran in forked processes.

    .venv/bin/python bench/sync_sites.py [--issues 20000] [--runs 3]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import tempfile
import time
from pathlib import Path

from _common import ROLLUP, SPEED, local_jira, mappings_text, median, write_result

from rollup.localjira.credentials import DEMO_EMAIL, DEMO_PAT, DEMO_TOKEN, demo_environment
from rollup.localjira.render import DC_FIELDS


def sync(project: Path, env: dict[str, str], db: Path) -> tuple[float, dict]:
    """``rollup sync --full --format json`` in ``project`` into ``db``; (elapsed seconds, its JSON)."""
    t0 = time.monotonic()
    proc = subprocess.run([ROLLUP, "sync", "--full", "--format", "json", "--database", f"sqlite:///{db}"],
                          cwd=project, env=env, capture_output=True, text=True, timeout=3600)
    elapsed = time.monotonic() - t0
    if proc.returncode != 0:
        raise RuntimeError(f"rollup sync exited {proc.returncode}:\n{proc.stdout[-2000:]}\n{proc.stderr[-3000:]}")
    return elapsed, json.loads(proc.stdout)


def sites_text(cloud: str, dc: str) -> str:
    """The repository's mappings.yaml with the two local Jiras listed under ``sites:``."""
    sites = (f"sites:\n  - {{name: cloud, url: '{cloud}', deployment: cloud, email_env: BENCH_CLOUD_EMAIL, "
             f"token_env: BENCH_CLOUD_TOKEN}}\n  - {{name: dc, url: '{dc}', deployment: datacenter, "
             f"pat_env: BENCH_DC_PAT, fields: {{team: {DC_FIELDS['team'][0]}}}}}\n")
    return mappings_text("cloud").replace("\nsync:\n", "\n" + sites + "\nsync:\n", 1)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--issues", type=int, default=20_000)
    p.add_argument("--runs", type=int, default=3)
    p.add_argument("--name", default="sync_sites")
    args = p.parse_args()
    base = {k: v for k, v in os.environ.items() if not k.startswith(("JIRA_", "ROLLUP_"))}
    runs = []
    with local_jira(args.issues, flavour="cloud", **SPEED) as cloud, \
            local_jira(args.issues, flavour="datacenter", **SPEED) as dc, \
            tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        for flavour in ("cloud", "datacenter"):
            (folder / flavour).mkdir()
            (folder / flavour / "mappings.yaml").write_text(mappings_text(flavour))
        (folder / "both").mkdir()
        (folder / "both" / "mappings.yaml").write_text(sites_text(cloud, dc))
        both_env = dict(base, BENCH_CLOUD_EMAIL=DEMO_EMAIL, BENCH_CLOUD_TOKEN=DEMO_TOKEN, BENCH_DC_PAT=DEMO_PAT)
        for i in range(args.runs):
            cloud_s, cloud_out = sync(folder / "cloud", dict(base, **demo_environment(cloud, "cloud")),
                                      folder / f"cloud-{i}.db")
            dc_s, dc_out = sync(folder / "datacenter", dict(base, **demo_environment(dc, "datacenter")),
                                folder / f"dc-{i}.db")
            both_s, both_out = sync(folder / "both", both_env, folder / f"both-{i}.db")
            per_site = {s["site"]: s for s in both_out["sites"]}
            assert both_out["parallel"] == "processes", both_out["parallel"]
            assert per_site["cloud"]["new"] == cloud_out["new"] and per_site["dc"]["new"] == dc_out["new"], \
                (per_site, cloud_out["new"], dc_out["new"])
            run = {"cloud_alone": round(cloud_s, 2), "dc_alone": round(dc_s, 2), "both": round(both_s, 2),
                   "ratio_to_slower": round(both_s / max(cloud_s, dc_s), 3),
                   "ratio_to_sum": round(both_s / (cloud_s + dc_s), 3), "issues_each": cloud_out["new"],
                   "requests": {"cloud": per_site["cloud"]["requests"], "dc": per_site["dc"]["requests"]}}
            runs.append(run)
            print(run, flush=True)
    to_sum = median([r["ratio_to_sum"] for r in runs])
    write_result(args.name, {
        "issues_each": args.issues, "server": SPEED, "runs": runs, "ratio_to_sum_median": to_sum,
        "ratio_to_slower_median": median([r["ratio_to_slower"] for r in runs]),
        "both_median": median([r["both"] for r in runs]), "parallel_beats_sequential": to_sum < 1,
        "command": f".venv/bin/python bench/sync_sites.py --issues {args.issues} --runs {args.runs}",
    })


if __name__ == "__main__":
    main()
