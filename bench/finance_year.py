"""Finance at scale: a year of allocation over the 1,000,000-issue sample organisation.

Target: mapping + capitalization windows + all three effort models over twelve months + costed,
classified detail rows + every table of twelve monthly exports <= 30 s and <= 2 GB peak RSS.

The frames are built straight from the sample organisation's columns (a 1M-issue sync over HTTP takes
far too long): issues with ``bench/portfolio_1m.org_issues``, and here the status and assignee
transitions and the worklogs, as ``rollup.frames.load_frames`` gives them after a Cloud sync.
``--verify N`` checks that on a small organisation: it syncs N issues from the local Jira in-process
and compares transitions and worklogs (and the finance detail of one month) with the frames built here.
The teams that log work (PAY, CLIN, DATA, SEC) use worklogs; the others person-days, as the shipped
mappings.yaml says. Rates come from ``rollup.jobs.sample_rates``.

The frames are pickled once; each run is a child process that loads them and times each phase (wall
and CPU). Peak RSS is measured from the moment the frames are resident (the peak is reset after
unpickling, whose own transient peak is reported apart as ``peak_rss_load_mb``), so it covers the
frames plus everything the allocation holds. A baseline in the same run — one month instead of
twelve — shows how the cost grows with the period.

    .venv/bin/python bench/finance_year.py                      # 1,000,000 issues, 3 runs
    .venv/bin/python bench/finance_year.py --issues 50000 --runs 1 --verify 1500
"""

from __future__ import annotations

import argparse
import json
import pickle
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from _common import PY, ROOT, median, write_result  # noqa: E402
from portfolio_1m import calibrate, org_issues, peak_rss_mb  # noqa: E402

MAPPINGS = ROOT / "mappings.yaml"
TARGET_S = 30.0
TARGET_RSS_MB = 2048.0
YEAR = [f"2025-{m:02d}" for m in (12,)] + [f"2026-{m:02d}" for m in range(1, 12)]


# ---------------------------------------------------------------------------------------- frames


def org_transitions(org) -> pd.DataFrame:
    """Status and assignee changes of live issues, as the connector stores them (Cloud: account ids)."""
    from rollup.frames import TRANSITION_COLUMNS
    from rollup.localjira.sampledata import STATUSES

    a = lambda arr, dt: np.frombuffer(arr, dtype=dt)  # noqa: E731
    n = org.size
    start, count = a(org.hstart, np.int32).astype(np.int64), a(org.hcount, np.int16).astype(np.int64)
    pos = np.repeat(np.arange(n), count)
    offset = np.arange(len(pos)) - np.repeat(np.cumsum(count) - count, count)
    hist = np.repeat(start, count) + offset
    extra_pos = [p for p, hs in org.h_extra.items() for _ in hs]
    extra_h = [h for _, hs in org.h_extra.items() for h in hs]
    pos = np.concatenate([pos, np.array(extra_pos, dtype=np.int64)])
    hist = np.concatenate([hist, np.array(extra_h, dtype=np.int64)])
    live = ~a(org.deleted, np.int8).astype(bool)
    kind = a(org.h_kind, np.int8)[hist]
    keep = live[pos] & np.isin(kind, (0, 1))
    pos, hist, kind = pos[keep], hist[keep], kind[keep]
    frm, to = a(org.h_from, np.int32)[hist].astype(np.int64), a(org.h_to, np.int32)[hist].astype(np.int64)
    names = np.array([s.name for s in STATUSES], dtype=object)
    cats = np.array([s.category for s in STATUSES], dtype=object)
    users = np.array([u.account_id for u in org.users] + [None], dtype=object)
    status = kind == 0
    frame = pd.DataFrame({
        "issue_id": org.ID_BASE + pos,
        "history_id": org.HIST_BASE + hist,
        "field": np.where(status, "status", "assignee"),
        "at": pd.to_datetime(a(org.h_ts, np.int32)[hist].astype(np.int64), unit="s", utc=True),
        "from_value": np.where(status, names[np.clip(frm, 0, 3)], users[np.where(frm < 0, -1, frm)]),
        "to_value": np.where(status, names[np.clip(to, 0, 3)], users[np.where(to < 0, -1, to)]),
        "to_category": np.where(status, cats[np.clip(to, 0, 3)], None),
        "author_id": users[a(org.h_author, np.int16)[hist].astype(np.int64)],
    })
    order = np.lexsort((frame["field"].to_numpy(), frame["history_id"].to_numpy(), frame["at"].to_numpy(),
                        frame["issue_id"].to_numpy()))
    return frame.iloc[order].reset_index(drop=True)[list(TRANSITION_COLUMNS)]


def org_worklogs(org) -> pd.DataFrame:
    """Live worklogs of live issues, as the connector stores them."""
    from rollup.frames import WORKLOG_COLUMNS

    a = lambda arr, dt: np.frombuffer(arr, dtype=dt)  # noqa: E731
    issue = a(org.wl_issue, np.int32).astype(np.int64)
    live = ~a(org.deleted, np.int8).astype(bool)
    gone = np.zeros(len(issue), dtype=bool)
    gone[list(org.wl_deleted)] = True
    keep = live[issue] & ~gone
    author = a(org.wl_author, np.int16).astype(np.int64)[keep]
    ids = np.array([u.account_id for u in org.users], dtype=object)
    shown = np.array([u.display_name for u in org.users], dtype=object)
    frame = pd.DataFrame({
        "id": org.WL_BASE + np.flatnonzero(keep),
        "issue_id": org.ID_BASE + issue[keep],
        "author_id": ids[author],
        "author_name": shown[author],
        "started": pd.to_datetime(a(org.wl_started, np.int32).astype(np.int64)[keep], unit="s", utc=True),
        "seconds": a(org.wl_seconds, np.int32).astype(np.int64)[keep],
        "updated": pd.to_datetime(a(org.wl_updated_ms, np.int64)[keep], unit="ms", utc=True),
    })
    return frame[list(WORKLOG_COLUMNS)]


def org_frames(org, extra_fields: list[str]):
    from rollup.frames import Frames

    return Frames(issues=org_issues(org, extra_fields=extra_fields), transitions=org_transitions(org),
                  worklogs=org_worklogs(org),
                  snapshots=pd.DataFrame(columns=["run_id", "taken_at", "issue_id", "key", "payload"]))


# ---------------------------------------------------------------------------------------- one run


def _clock() -> tuple[float, float]:
    return time.perf_counter(), time.process_time()


def _since(t: tuple[float, float]) -> dict:
    w, c = _clock()
    return {"wall_s": round(w - t[0], 3), "cpu_s": round(c - t[1], 3)}


def allocate(frames, config, months: list[str], rates_path: str, as_of: datetime) -> tuple[dict, dict]:
    """Mapping, windows, effort over ``months``, detail rows and every table per month; timings and sizes."""
    from rollup.finance.allocation import build_tables, detail_rows, person_names
    from rollup.finance.calendar import WorkCalendar, parse_month
    from rollup.finance.effort import compute_effort
    from rollup.finance.policy import epic_windows
    from rollup.finance.rates import load_rates
    from rollup.mapping import apply

    finance = config.finance
    out: dict = {}
    t = _clock()
    mapped = apply(frames.issues, config).issues.reset_index(drop=True)
    out["mapping"] = _since(t)
    out["mapping"].update(rss_mb=_status_mb("VmRSS"), peak_mb=_status_mb("VmHWM"))
    t = _clock()
    calendar = WorkCalendar(finance.calendar)
    rates = load_rates(rates_path, finance)
    windows = epic_windows(mapped, finance, calendar)
    as_of_day = int(calendar.days_of(pd.DatetimeIndex([pd.Timestamp(as_of)]))[0])
    effort = compute_effort(mapped, frames.transitions, frames.worklogs, windows, finance, calendar,
                            [parse_month(m) for m in months], as_of_day,
                            max_story_points=config.report.max_story_points)
    out["effort"] = _since(t)
    out["effort"].update(rss_mb=_status_mb("VmRSS"), peak_mb=_status_mb("VmHWM"))
    t = _clock()
    detail = detail_rows(effort.rows, mapped, config, calendar, rates, person_names(mapped, frames.worklogs))
    out["detail"] = _since(t)
    out["detail"].update(rss_mb=_status_mb("VmRSS"), peak_mb=_status_mb("VmHWM"))
    t = _clock()
    sizes = {"effort_rows": len(effort.rows), "detail_rows": len(detail)}
    bases = list(finance.bases)
    checks_ok = True
    for month in months:
        part = detail[detail["effort_month"] == month]
        tables = build_tables(month, part, bases, sources={}, policy_rows=[], info={},
                              capacity_hours=calendar.capacity_hours(parse_month(month)))
        checks_ok &= bool(tables.reconciliation["ok"].all())
    out["tables"] = _since(t)
    out["tables"].update(rss_mb=_status_mb("VmRSS"), peak_mb=_status_mb("VmHWM"))
    sizes.update(reconciled=checks_ok, hours=round(float(detail["hours"].sum()), 1),
                 cost=round(float(detail["cost"].sum()), 2),
                 by_method={k: round(float(v), 1) for k, v in detail.groupby("method")["hours"].sum().items()},
                 max_person_days_fte=round(float(effort.person_days.assign(
                     fte=(effort.person_days["allocated_days"] + effort.person_days["unallocated_days"])
                     / effort.person_days["month"].map(lambda m: max(1, calendar.working_days(
                         parse_month(f"{m // 12}-{m % 12 + 1:02d}"))))).fte.max()), 4))
    return out, sizes


def _status_mb(field: str) -> float:
    """A ``/proc/self/status`` figure (VmRSS, VmHWM) in MB."""
    for line in open("/proc/self/status"):
        if line.startswith(field + ":"):
            return round(int(line.split()[1]) / 1024, 1)
    return float("nan")


def _reset_peak() -> bool:
    """Reset the process's peak RSS (Linux: ``clear_refs`` 5), so the next peak is the allocation's own."""
    try:
        with open("/proc/self/clear_refs", "w") as fh:
            fh.write("5")
        return True
    except OSError:
        return False


def child(frame_path: str, months: list[str]) -> dict:
    from rollup.config import load_config

    out: dict = {"calibration_s": calibrate()}
    t = _clock()
    with open(frame_path, "rb") as fh:
        data = pickle.load(fh)
    out["load"] = _since(t)
    # Unpickling a million-row frame has a transient peak of its own; what the allocation needs is the
    # frames resident (as load_frames leaves them) plus its own working memory, so the peak is reset here.
    out["peak_rss_load_mb"] = peak_rss_mb()
    out["rss_frames_mb"] = _status_mb("VmRSS")
    out["peak_reset"] = _reset_peak()
    config = load_config(MAPPINGS)
    t = _clock()
    phases, sizes = allocate(data["frames"], config, months, data["rates"], data["as_of"])
    out["total"] = _since(t)
    out.update(phases)
    out["sizes"] = sizes
    out["peak_rss_mb"] = _status_mb("VmHWM") if out["peak_reset"] else peak_rss_mb()
    return out


def run_child(frame_path: Path, months: list[str]) -> dict:
    cmd = [PY, __file__, "--child", str(frame_path), "--months", ",".join(months)]
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT)
    if proc.returncode != 0:
        raise RuntimeError(f"child failed ({proc.returncode}):\n{proc.stderr[-4000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


# ---------------------------------------------------------------------------------------- verify


def verify(issues: int, seed: int, rates_path: str) -> dict:
    """Sync ``issues`` over HTTP and compare transitions, worklogs and one month's detail with the built frames."""
    from connectors.jira import JiraConnector
    from rollup.config import load_config
    from rollup.frames import load_frames
    from rollup.jobs.demo import demo_scope, demo_settings, local_jira
    from rollup.jobs.finance import month_figures
    from rollup.jobs.sync import sync
    from rollup.localjira.sampleorg import SampleOrg
    from rollup.store import Store

    config = load_config(MAPPINGS)
    org = SampleOrg.generate(seed=seed, issues=issues)
    problems = []
    with tempfile.TemporaryDirectory() as tmp, local_jira(org) as server:
        url = f"sqlite:///{Path(tmp) / 'store.db'}"
        with Store.open(url) as store, JiraConnector(demo_settings(server.url, "cloud")) as connector:
            sync(store, connector, demo_scope("cloud", config), full=True)
            synced = load_frames(store)
            built = org_frames(org, list(config.jira.extra_fields))
            for name in ("transitions", "worklogs"):
                a = getattr(synced, name).reset_index(drop=True)
                b = getattr(built, name).reset_index(drop=True)
                try:
                    pd.testing.assert_frame_equal(a, b, check_dtype=False)
                except AssertionError as exc:
                    problems.append(f"{name}: {str(exc)[:300]}")
            as_of = store.sync_run_rows()[-1]["finished"]
            from_store = month_figures(store, config, "2026-10", rates_path_option=rates_path).detail
        # The built frames through the same pipeline, beside an empty store that knows the same data time.
        with Store.open(f"sqlite:///{Path(tmp) / 'empty.db'}") as empty:
            empty.record_run(started=as_of, finished=as_of, mode="full", status="ok")
            from_frames = month_figures(empty, config, "2026-10", rates_path_option=rates_path, frames=built).detail
    try:
        pd.testing.assert_frame_equal(from_store.reset_index(drop=True), from_frames.reset_index(drop=True))
    except AssertionError as exc:
        problems.append(f"finance detail 2026-10: {str(exc)[:300]}")
    return {"issues": issues, "transitions": len(synced.transitions), "worklogs": len(synced.worklogs),
            "detail_rows": len(from_store), "equal": not problems, "problems": problems}


# ---------------------------------------------------------------------------------------- main


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--issues", type=int, default=1_000_000)
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--runs", type=int, default=3)
    p.add_argument("--verify", type=int, default=0, help="also check the frames against a synced store of N issues")
    p.add_argument("--name", default="finance_year")
    p.add_argument("--child", help=argparse.SUPPRESS)
    p.add_argument("--months", help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.child:
        print(json.dumps(child(args.child, args.months.split(","))))
        return

    from rollup.config import load_config
    from rollup.jobs.sample_rates import write_sample_rates
    from rollup.localjira.sampleorg import SampleOrg

    result: dict = {"issues_requested": args.issues, "seed": args.seed, "months": YEAR}
    config = load_config(MAPPINGS)
    with tempfile.TemporaryDirectory() as tmp:
        rates = str(Path(tmp) / "rates.csv")
        if args.verify:
            write_sample_rates(SampleOrg.generate(seed=args.seed, issues=300), rates)
            result["verify"] = verify(args.verify, args.seed, rates)
            print(json.dumps(result["verify"], indent=2), flush=True)
        t = time.perf_counter()
        org = SampleOrg.generate(seed=args.seed, issues=args.issues)
        result["generate_s"] = round(time.perf_counter() - t, 1)
        write_sample_rates(org, rates)
        t = time.perf_counter()
        frames = org_frames(org, list(config.jira.extra_fields))
        result["frames_s"] = round(time.perf_counter() - t, 1)
        result.update(issues=len(frames.issues), transitions=len(frames.transitions), worklogs=len(frames.worklogs),
                      people=len(org.users), as_of=org.now.isoformat())
        as_of = org.now
        del org
        print(json.dumps(result, indent=2), flush=True)
        frame_path = Path(tmp) / "frames.pkl"
        with open(frame_path, "wb") as fh:
            pickle.dump({"frames": frames, "rates": rates, "as_of": as_of}, fh, protocol=pickle.HIGHEST_PROTOCOL)
        del frames
        runs, baseline = [], []
        for _ in range(args.runs):
            runs.append(run_child(frame_path, YEAR))
            print(json.dumps(runs[-1]), flush=True)
            baseline.append(run_child(frame_path, YEAR[-2:-1]))
            print(json.dumps(baseline[-1]), flush=True)
    wall = median([r["total"]["wall_s"] for r in runs])
    one = median([r["total"]["wall_s"] for r in baseline])
    rss = max(r["peak_rss_mb"] for r in runs)
    result.update(
        runs=runs, baseline_one_month=baseline,
        median={phase: {k: median([r[phase][k] for r in runs]) for k in ("wall_s", "cpu_s")}
                for phase in ("mapping", "effort", "detail", "tables", "total")},
        year_wall_s=wall, one_month_wall_s=one, year_over_one_month=round(wall / one, 2) if one else None,
        peak_rss_mb=rss, calibration_s=median([r["calibration_s"] for r in runs]),
        targets={"year_s": TARGET_S, "peak_rss_mb": TARGET_RSS_MB},
        ratios={"year": round(wall / TARGET_S, 3), "peak_rss": round(rss / TARGET_RSS_MB, 3)},
    )
    result["met"] = wall <= TARGET_S and rss <= TARGET_RSS_MB
    write_result(args.name, result)


if __name__ == "__main__":
    main()
