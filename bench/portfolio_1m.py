"""Portfolio at scale: mapping, all views and the workbook + charts for a 1,000,000-issue organisation.

Target: mapping + all views <= 10 s and <= 2 GB peak RSS; the workbook with charts <= 20 s.

The issues frame is built straight from the sample organisation's columns (a 1M-issue sync over HTTP
takes far too long), the way ``rollup.frames.load_frames`` would give it after a Cloud sync: the raw
columns go through ``rollup.frames.issues_frame``, so columns and dtypes are the loader's.
``--verify N`` checks that claim on a small organisation: it syncs N issues from the local Jira into a
temporary store and compares ``load_frames(store).issues`` with the frame built here.

The frame (and a week-old epic snapshot, so the week-over-week views have work to do) is built once
and pickled; each run is a child process that loads it and times mapping, the lint the hygiene
score reads, views and writing (wall and CPU time), reporting its peak RSS (``ru_maxrss``) after the
views and at the end. The lint is timed apart: a weekly job records its lint run before the
portfolio (``rollup lint``, its own bench ``lint_25k.py``), and the portfolio reads that run; the
views are timed with the findings given, as they are then.

    .venv/bin/python bench/portfolio_1m.py                       # 1,000,000 issues, 3 runs
    .venv/bin/python bench/portfolio_1m.py --issues 20000 --runs 3
    .venv/bin/python bench/portfolio_1m.py --verify 1500 --issues 20000
    .venv/bin/python bench/portfolio_1m.py --rebuild-accuracy     # no stored past forecasts: rebuilt

The store a weekly job reads holds a snapshot per week, forecasts included; by default the frame
carries those of the accuracy check's past weeks (4, 8 and 12 weeks back, built beforehand as each
week's report made them), so the check scores them rather than rebuilding the weeks, as it does on a
store in its steady state. ``--rebuild-accuracy`` measures the first weeks of a store, without them.
"""

from __future__ import annotations

import argparse
import json
import pickle
import resource
import subprocess
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from _common import PY, ROOT, median, write_result  # noqa: E402

MAPPINGS = ROOT / "mappings.yaml"
TARGET_VIEWS_S = 10.0
TARGET_RSS_MB = 2048.0
TARGET_WRITE_S = 20.0


def peak_rss_mb() -> float:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)  # Linux: KiB


# ---------------------------------------------------------------------------------------- the frame


def org_issues(org, *, extra_fields: list[str]) -> pd.DataFrame:
    """The sample organisation's live issues as ``load_frames`` gives them after a Cloud sync.

    Mirrors ``rollup.localjira.render`` (Cloud flavour, API v3) + ``connectors.jira.normalize``:
    Cloud ``parent`` for every level, Epic Link on company-managed projects (dangling links kept),
    the Team field (customfield_10001) by name, the last sprint's name, ADF descriptions as text.
    """
    from connectors.jira.normalize import adf_to_text
    from rollup.frames import issues_frame
    from rollup.localjira.render import Renderer
    from rollup.localjira.sampledata import INVESTMENT_OPTIONS, ISSUE_TYPES, PROJECTS, STATUSES, T_EPIC, TEAM_MANAGED

    a = lambda arr, dt: np.frombuffer(arr, dtype=dt)  # noqa: E731  (array('b'/'h'/'i') → numpy, no copy)
    proj, num, itype = a(org.proj, np.int8).astype(np.int64), a(org.num, np.int32), a(org.itype, np.int8)
    parent, deleted = a(org.parent, np.int32).astype(np.int64), a(org.deleted, np.int8).astype(bool)
    n = len(proj)
    live = ~deleted
    pkeys = np.array([p.key for p in PROJECTS], dtype=object)
    keys = pkeys[proj] + "-" + num.astype(str).astype(object)
    levels = np.array([t.level for t in ISSUE_TYPES])
    level = levels[itype]

    has_parent = (parent >= 0) & ~deleted[np.maximum(parent, 0)]
    parent_key = np.where(has_parent, keys[np.maximum(parent, 0)], None)
    tm = np.isin(proj, [i for i, p in enumerate(PROJECTS) if p.key in TEAM_MANAGED])
    parent_is_epic = has_parent & (itype[np.maximum(parent, 0)] == T_EPIC)
    epic_key = np.where((level == 0) & parent_is_epic, parent_key, None)
    for pos, dangling in org.dangling_epic.items():  # Epic Link to an epic that does not exist
        if level[pos] == 0 and not tm[pos] and not parent_is_epic[pos]:
            epic_key[pos] = dangling
            if parent_key[pos] is None:
                parent_key[pos] = dangling

    st = a(org.status, np.int8)
    status_names = np.array([s.name for s in STATUSES], dtype=object)
    status_cats = np.array([s.category for s in STATUSES], dtype=object)

    def utc(col) -> pd.DatetimeIndex:
        secs = a(col, np.int32).astype(np.int64)
        return pd.to_datetime(np.where(secs > 0, secs, np.iinfo(np.int64).min), unit="s", utc=True)

    def day(col) -> np.ndarray:
        ords = a(col, np.int32).astype(np.int64)
        epoch = date(1970, 1, 1).toordinal()
        return np.where(ords > 0, ords - epoch, np.iinfo(np.int64).min).astype("datetime64[D]")

    users = org.users
    acc = np.array([u.account_id for u in users] + [None], dtype=object)
    disp = np.array([u.display_name for u in users] + [None], dtype=object)
    active = np.array([u.active for u in users] + [None], dtype=object)
    assignee = a(org.assignee, np.int16).astype(np.int64)  # -1 → the trailing None
    sp = a(org.sp, np.int8).astype(np.float64)
    sp[sp < 0] = np.nan
    sprint = a(org.sprint, np.int32).astype(np.int64)
    sprint_names = np.array([s.name for s in org.sprints] + [None], dtype=object)
    team_names = np.array([p.name for p in PROJECTS], dtype=object)
    tuples = [list(t) for t in org.tuples]
    labels = [tuples[i] for i in org.labels]
    comps = [tuples[i] for i in org.comps]
    fixv = [tuples[i] for i in org.fixv]
    invest = a(org.invest, np.int8).astype(np.int64)
    invest_values = np.array(list(INVESTMENT_OPTIONS) + [None], dtype=object)
    custom = [{name: (v if name == "Investment" else None) for name in extra_fields}
              for v in invest_values[invest]]
    summaries = [org.summary(pos) for pos in range(n)]
    renderer = Renderer(org, "cloud", "http://localhost", "UTC")
    cache: dict = {}
    desc = []
    for pos in range(n):
        k = (org.desc[pos],
             summaries[pos] if org.desc[pos] >= 2 else pos % 5)  # render: SHORT_DESCRIPTIONS[1 + pos % 5]
        text = cache.get(k)
        if text is None:
            text = cache[k] = adf_to_text(renderer.description(pos, 3))
        desc.append(text)
    itype_names = np.array([t.name for t in ISSUE_TYPES], dtype=object)
    raw = pd.DataFrame({
        "id": org.ID_BASE + np.arange(n, dtype=np.int64),
        "key": keys,
        "project_key": pkeys[proj],
        "issue_type": itype_names[itype],
        "hierarchy_level": level,
        "parent_key": parent_key,
        "epic_key": epic_key,
        "status": status_names[st],
        "status_category": status_cats[st],
        "assignee_id": acc[assignee],
        "assignee_name": disp[assignee],
        "assignee_active": active[assignee],
        "created": utc(org.created),
        "updated": utc(org.updated),
        "resolved": utc(org.resolved),
        "story_points": sp,
        "start_date": day(org.start),
        "target_date": day(org.target),
        "due_date": day(org.due),
        "labels": labels,
        "components": comps,
        "fix_versions": fixv,
        "team": team_names[proj],
        "sprint": sprint_names[sprint],
        "summary": summaries,
        "description": desc,
        "description_length": np.fromiter(map(len, desc), dtype=np.int64, count=n),
        "custom": custom,
        "changelog_complete": True,
    })
    return issues_frame(raw[live].reset_index(drop=True))


def week_old_snapshot(issues: pd.DataFrame, config, as_of: date) -> pd.DataFrame:
    """The epic snapshot a report a week earlier would have stored (run 1), for changes and trend."""
    from rollup.mapping import apply
    from rollup.views import epics as epics_view

    before = as_of - timedelta(days=7)
    epics = epics_view.compute(apply(issues, config).issues, config, as_of=before, lint=None, forecast=None)
    rows = epics_view.snapshot_payload(epics)
    taken = datetime.combine(before, datetime.min.time(), tzinfo=UTC) + timedelta(hours=6)
    return pd.DataFrame({"run_id": 1, "taken_at": taken, "issue_id": [r[0] for r in rows],
                         "key": [r[1] for r in rows], "payload": [r[2] for r in rows]})


def forecast_snapshots(issues: pd.DataFrame, config, as_of: date) -> pd.DataFrame:
    """The snapshots the weekly reports of the accuracy check's past weeks stored, forecasts included.

    A store in its steady state holds one per week (every Monday's report writes it); the accuracy
    check scores those forecasts as they were made instead of rebuilding the weeks. Built here from the
    portfolio as it stood each week (``rollup.forecast.backtest.as_of_frame``), the way that week's
    report forecast it.
    """
    from rollup.forecast.backtest import as_of_frame
    from rollup.mapping import apply
    from rollup.views import epics as epics_view
    from rollup.views import forecast as forecast_view
    from rollup.views.changes import iso_week

    mapped = apply(issues, config).issues
    options = config.forecast
    parts = []
    for k in range(options.backtest_every, options.backtest_weeks + 1, options.backtest_every):
        day = as_of - timedelta(days=7 * k)
        then = as_of_frame(mapped, day)
        predicted = forecast_view.compute(then, config, as_of=day, snapshots=None)
        epics = epics_view.compute(then, config, as_of=day, lint=None, forecast=predicted)
        rows = epics_view.snapshot_payload(epics)
        taken = datetime.combine(day, datetime.min.time(), tzinfo=UTC) + timedelta(hours=6)
        parts.append(pd.DataFrame({"week": iso_week(day), "as_of": day, "run_id": 100 + k, "taken_at": taken,
                                   "issue_id": [r[0] for r in rows], "key": [r[1] for r in rows],
                                   "payload": [r[2] for r in rows]}))
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()


# ---------------------------------------------------------------------------------------- one run


def _clock() -> tuple[float, float]:
    return time.perf_counter(), time.process_time()


def _since(t: tuple[float, float]) -> dict:
    w, c = _clock()
    return {"wall_s": round(w - t[0], 3), "cpu_s": round(c - t[1], 3)}


def calibrate() -> float:
    """A fixed CPU workload (numpy sort + a Python loop), in seconds: how busy the machine is now."""
    t = time.perf_counter()
    rng = np.random.default_rng(0)
    np.sort(rng.random(2_000_000))
    sum(i * i for i in range(1_000_000))
    return round(time.perf_counter() - t, 3)


def child(frame_path: str, out_dir: str, profile: str | None) -> dict:
    from rollup.config import load_config
    from rollup.jobs.report import as_mapped, build_views, lint_mapped, write_outputs
    from rollup.mapping import apply

    out: dict = {"calibration_s": calibrate()}
    t = _clock()
    with open(frame_path, "rb") as fh:
        data = pickle.load(fh)
    out["load"] = _since(t)
    issues, snapshots, as_of = data["issues"], data["snapshots"], data["as_of"]
    config = load_config(MAPPINGS)
    out["rss_after_load_mb"] = peak_rss_mb()
    prof = None
    if profile:
        import cProfile

        prof = cProfile.Profile()
        prof.enable()
    t = _clock()
    mapped = apply(issues, config).issues
    out["mapping"] = _since(t)
    t = _clock()
    lint = lint_mapped(as_mapped(mapped), config, as_of=as_of)
    out["lint"] = _since(t)
    t = _clock()
    views = build_views(mapped, config, as_of=as_of, snapshots=snapshots, lint=lint,
                        sync_runs=[{"id": 2, "finished": data["now"], "status": "ok", "mode": "full"}],
                        now=data["now"])
    out["views"] = _since(t)
    out["views_rows"] = {k: len(v) for k, v in views.items()}
    out["peak_rss_views_mb"] = peak_rss_mb()
    t = _clock()
    workbook, charts = write_outputs(views, out_dir, as_of=as_of, base_url="https://clinicloud.atlassian.net")
    out["write"] = _since(t)
    if prof:
        prof.disable()
        prof.dump_stats(profile)
    out["workbook_mb"] = round(workbook.stat().st_size / 2**20, 2)
    out["peak_rss_mb"] = peak_rss_mb()
    return out


def run_child(frame_path: Path, profile: str | None = None) -> dict:
    with tempfile.TemporaryDirectory() as out_dir:
        cmd = [PY, __file__, "--child", str(frame_path), "--out", out_dir]
        if profile:
            cmd += ["--profile", profile]
        proc = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT)
    if proc.returncode != 0:
        raise RuntimeError(f"child failed ({proc.returncode}):\n{proc.stderr[-4000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


# ---------------------------------------------------------------------------------------- verify


def verify(issues: int, seed: int) -> dict:
    """Sync ``issues`` from the local Jira and compare load_frames() with the frame built here."""
    from _common import local_jira, run_client

    from rollup.config import load_config
    from rollup.frames import load_frames
    from rollup.jobs.report import REQUIRED_COLUMNS as VIEW_COLUMNS
    from rollup.localjira.sampleorg import SampleOrg
    from rollup.mapping.engine import REQUIRED_COLUMNS as MAPPING_COLUMNS
    from rollup.store import Store

    config = load_config(MAPPINGS)
    with local_jira(issues, seed=seed) as url, tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "store.db"
        run_client(url, "sync", "--db", str(db), "--full")
        with Store.open(f"sqlite:///{db}") as store:
            synced = load_frames(store).issues
    built = org_issues(SampleOrg.generate(seed=seed, issues=issues), extra_fields=list(config.jira.extra_fields))
    used = set(MAPPING_COLUMNS) | set(VIEW_COLUMNS) - {"epic", "initiative", "pillar", "okr", "key_result", "bucket",
                                                        "team_id"}
    wanted = list(synced.columns)  # every column; the ones mapping and views read are listed in the result
    problems = []
    if list(synced.columns) != list(built.columns):
        problems.append(f"columns differ: {list(synced.columns)} vs {list(built.columns)}")
    if len(synced) != len(built):
        problems.append(f"rows differ: {len(synced)} synced vs {len(built)} built")
    for col in wanted:
        a, b = synced[col], built[col]
        if str(a.dtype) != str(b.dtype):
            problems.append(f"{col}: dtype {a.dtype} (synced) vs {b.dtype} (built)")
        try:
            pd.testing.assert_series_equal(a.reset_index(drop=True), b.reset_index(drop=True), check_dtype=False,
                                           check_categorical=False)
        except AssertionError as exc:
            problems.append(f"{col}: {str(exc).splitlines()[0]} {str(exc)[-300:]}")
    mapped = {"synced": None, "built": None}
    from rollup.mapping import apply

    for name, frame in (("synced", synced), ("built", built)):
        mapped[name] = apply(frame, config).issues
    for col in ("epic", "initiative", "pillar", "okr", "key_result", "bucket", "team_id", "pillar_source"):
        if not mapped["synced"][col].astype(object).fillna("").equals(mapped["built"][col].astype(object).fillna("")):
            problems.append(f"mapped {col} differs")
    return {"issues": issues, "rows": len(built), "columns_used_by_mapping_and_views": sorted(used),
            "columns_compared": wanted, "equal": not problems,
            "problems": problems,
            "dtypes_all_equal": bool((synced.dtypes.astype(str) == built.dtypes.astype(str)).all())}


# ---------------------------------------------------------------------------------------- main


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--issues", type=int, default=1_000_000)
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--runs", type=int, default=3)
    p.add_argument("--verify", type=int, default=0, help="also check the frame against a synced store of N issues")
    p.add_argument("--profile", help="cProfile the first run into this file")
    p.add_argument("--rebuild-accuracy", action="store_true",
                   help="hold only the week-old snapshot, so the accuracy check rebuilds its past weeks")
    p.add_argument("--name", default="portfolio_1m")
    p.add_argument("--child", help=argparse.SUPPRESS)
    p.add_argument("--out", help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.child:
        print(json.dumps(child(args.child, args.out, args.profile)))
        return

    from rollup.config import load_config
    from rollup.localjira.sampleorg import SampleOrg

    result: dict = {"issues_requested": args.issues, "seed": args.seed}
    if args.verify:
        result["verify"] = verify(args.verify, args.seed)
        print(json.dumps(result["verify"], indent=2), flush=True)
    config = load_config(MAPPINGS)
    t = time.perf_counter()
    org = SampleOrg.generate(seed=args.seed, issues=args.issues)
    result["generate_s"] = round(time.perf_counter() - t, 1)
    t = time.perf_counter()
    issues = org_issues(org, extra_fields=list(config.jira.extra_fields))
    result["frame_s"] = round(time.perf_counter() - t, 1)
    as_of = org.now.date()
    levels = issues["hierarchy_level"].value_counts().to_dict()
    result.update(issues=len(issues), epics=int(levels.get(1, 0)), initiatives=int(levels.get(2, 0)),
                  sub_tasks=int(levels.get(-1, 0)), story_level=int(levels.get(0, 0)), as_of=as_of.isoformat())
    t = time.perf_counter()
    snapshots = week_old_snapshot(issues, config, as_of)
    if not args.rebuild_accuracy:
        snapshots = pd.concat([snapshots, forecast_snapshots(issues, config, as_of)], ignore_index=True)
    result["snapshot_s"] = round(time.perf_counter() - t, 1)
    result["accuracy_weeks"] = "rebuilt" if args.rebuild_accuracy else "stored snapshots"
    del org
    print(json.dumps(result, indent=2), flush=True)
    with tempfile.TemporaryDirectory() as tmp:
        frame_path = Path(tmp) / "frame.pkl"
        with open(frame_path, "wb") as fh:
            pickle.dump({"issues": issues, "snapshots": snapshots, "as_of": as_of,
                         "now": datetime.combine(as_of, datetime.min.time(), tzinfo=UTC) + timedelta(hours=9)},
                        fh, protocol=pickle.HIGHEST_PROTOCOL)
        del issues, snapshots
        runs = []
        for i in range(args.runs):
            runs.append(run_child(frame_path, args.profile if i == 0 else None))
            print(json.dumps(runs[-1]), flush=True)
    med = {phase: {k: median([r[phase][k] for r in runs]) for k in ("wall_s", "cpu_s")}
           for phase in ("mapping", "lint", "views", "write")}
    views_wall = median([r["mapping"]["wall_s"] + r["views"]["wall_s"] for r in runs])
    views_cpu = median([r["mapping"]["cpu_s"] + r["views"]["cpu_s"] for r in runs])
    rss = max(r["peak_rss_views_mb"] for r in runs)
    write_wall = med["write"]["wall_s"]
    result.update(
        runs=runs, median=med,
        mapping_views_wall_s=views_wall, mapping_views_cpu_s=views_cpu, peak_rss_views_mb=rss,
        peak_rss_total_mb=max(r["peak_rss_mb"] for r in runs),
        calibration_s=median([r["calibration_s"] for r in runs]),
        targets={"mapping_views_s": TARGET_VIEWS_S, "peak_rss_mb": TARGET_RSS_MB, "write_s": TARGET_WRITE_S},
        ratios={"mapping_views": round(views_wall / TARGET_VIEWS_S, 3), "peak_rss": round(rss / TARGET_RSS_MB, 3),
                "write": round(write_wall / TARGET_WRITE_S, 3)},
    )
    result["met"] = views_wall <= TARGET_VIEWS_S and rss <= TARGET_RSS_MB and write_wall <= TARGET_WRITE_S
    write_result(args.name, result)


if __name__ == "__main__":
    main()
