"""Charts with matplotlib (Agg, object API): one function per chart, each returns [png, svg] paths.

Titles say what the reader learns; axes carry units. A chart's title comes from the ``titles``
view (:mod:`rollup.views.titles`), which uses the same functions as the sheets that print the same
figures; SVG files keep their text as text, so a title can be read (and searched) in the file. The
same data gives the same bytes: SVGs carry no creation date, and their element ids are salted with
the chart's name instead of at random. A figure's tight bounding box is measured once and both
files are cropped to it (:func:`_tight_bbox`). Every file is written atomically and every figure is
closed after saving.
"""

from __future__ import annotations

import re
import textwrap
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")

import matplotlib.dates as mdates  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from matplotlib.backends.backend_agg import FigureCanvasAgg  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.lines import Line2D  # noqa: E402
from matplotlib.patches import Patch  # noqa: E402
from matplotlib.ticker import PercentFormatter  # noqa: E402
from matplotlib.transforms import Bbox  # noqa: E402

from rollup.views.titles import roadmap_rows  # noqa: E402
from rollup.views.titles import title as view_title  # noqa: E402
from rollup.writers.safe import atomic_write  # noqa: E402
from rollup.writers.style import BUCKET_COLOURS, PILLAR_COLOURS, UNMAPPED_COLOUR, colour_map  # noqa: E402

FORMATS = ("png", "svg")

#: Resolution of the PNG files.
DPI = 150
#: zlib level of the PNG files (1: fastest; the default 6 takes a sixth longer to save for 7 % smaller files).
PNG_COMPRESS_LEVEL = 1

#: Characters a line of a chart's subtitle holds before it wraps.
SUBTITLE_CHARS = 120

#: The marker colour of epics at risk or off track.
LATE_COLOUR = "#C00000"
#: The forecast's P50–P85 range on the roadmap.
RANGE_COLOUR = "#222222"


def _tight_bbox(fig: Figure) -> Bbox:
    """The area ``savefig(bbox_inches="tight", dpi=DPI)`` keeps, measured once for both formats.

    Measured as savefig measures it (the figure's tight bounding box at the PNG's resolution, padded
    by ``savefig.pad_inches``), so the PNG is the same image; given an explicit box, savefig does not
    lay out and measure the figure again for each format.
    """
    canvas = fig.canvas
    assert isinstance(canvas, FigureCanvasAgg), "charts are drawn on the Agg backend"
    dpi = fig.dpi
    fig.dpi = DPI
    try:
        return fig.get_tightbbox(canvas.get_renderer()).padded(matplotlib.rcParams["savefig.pad_inches"])
    finally:
        fig.dpi = dpi


def _save(fig: Figure, out_dir: Path, name: str) -> list[Path]:
    import matplotlib.pyplot as plt

    paths = []
    try:
        with warnings.catch_warnings():
            # Emoji and some scripts in Jira summaries have no glyph in the default font; they render as boxes.
            warnings.filterwarnings("ignore", message="Glyph .* missing from font", category=UserWarning)
            fig.tight_layout()
            bbox = _tight_bbox(fig)
            for fmt in FORMATS:
                # Text stays text in the SVG (not glyph outlines): readable, searchable, re-stylable.
                target = Path(out_dir) / f"{name}.{fmt}"
                metadata = {"Date": None} if fmt == "svg" else None
                # PNG: zlib's fastest level, a sixth less time for a file about 7 % larger.
                extra = {"pil_kwargs": {"compress_level": PNG_COMPRESS_LEVEL}} if fmt == "png" else {}

                def save(tmp: Path, fmt: str = fmt, metadata: dict[str, None] | None = metadata,
                         extra: dict[str, Any] = extra) -> None:
                    fig.savefig(tmp, format=fmt, dpi=DPI, bbox_inches=bbox, metadata=metadata, **extra)

                with matplotlib.rc_context({"svg.hashsalt": name, "svg.fonttype": "none"}):
                    atomic_write(target, save)
                paths.append(target)
    finally:
        plt.close(fig)
    return paths


def _figure(width: float = 8, height: float = 4.5) -> Figure:
    import matplotlib.pyplot as plt

    # At the files' resolution from the start: the text measured for the layout is then measured once for
    # the layout, the bounding box and the PNG alike (matplotlib keeps text extents per resolution).
    return plt.figure(figsize=(width, height), dpi=DPI)


def _empty(ax, message: str) -> None:
    ax.text(0.5, 0.5, message, ha="center", va="center", transform=ax.transAxes, color="#666666")
    ax.set_axis_off()


def _short(text: str, n: int = 38) -> str:
    text = re.sub(r"[\x00-\x1f\x7f]", " ", str(text))
    return text if len(text) <= n else text[: n - 1] + "…"


def allocation_vs_target(pillars: pd.DataFrame, out_dir: Path, title: str | None = None) -> list[Path]:
    """Bars of actual effort share per pillar beside the target share (from the pillar view)."""
    fig = _figure()
    ax = fig.add_subplot()
    if pillars.empty:
        _empty(ax, "No completed work yet")
        return _save(fig, out_dir, "allocation-vs-target")
    colours = colour_map(list(pillars["pillar"]), PILLAR_COLOURS)
    y = np.arange(len(pillars))
    ax.barh(y - 0.2, pillars["actual_share"], height=0.4, color=[colours[p] for p in pillars["pillar"]], label="actual")
    ax.barh(y + 0.2, pillars["target_share"].fillna(0), height=0.4, color="none", edgecolor="#333333",
            hatch="//", label="target")
    ax.set_yticks(y, [_short(n, 30) for n in pillars["pillar_name"]])
    ax.invert_yaxis()
    ax.xaxis.set_major_formatter(PercentFormatter(1.0))
    ax.set_xlabel("share of completed effort (%)")
    ax.set_title(title or "Effort by pillar: actual vs target")
    ax.legend(loc="lower right")
    ax.grid(axis="x", alpha=0.3)
    return _save(fig, out_dir, "allocation-vs-target")


def allocation_by_bucket(allocation: pd.DataFrame, out_dir: Path, title: str | None = None) -> list[Path]:
    """Stacked bars of effort per bucket per month (from the allocation view)."""
    fig = _figure()
    ax = fig.add_subplot()
    months = allocation[allocation["period_type"] == "month"] if len(allocation) else allocation
    if months.empty:
        _empty(ax, "No completed work yet")
        return _save(fig, out_dir, "allocation-by-bucket")
    table = (months.assign(bucket_name=months["bucket_name"].astype(str))
             .pivot_table(index="period", columns="bucket", values="effort", aggfunc="sum", observed=True)
             .fillna(0.0).sort_index())
    labels = months.drop_duplicates("bucket").set_index("bucket")["bucket_name"].astype(str)
    colours = colour_map([str(c) for c in table.columns], BUCKET_COLOURS)
    bottom = np.zeros(len(table))
    for bucket in table.columns:
        ax.bar(table.index, table[bucket], bottom=bottom, label=labels.get(bucket, str(bucket)),
               color=colours[str(bucket)])
        bottom += table[bucket].to_numpy()
    unit = str(months["unit"].iloc[0])
    ax.set_ylabel(f"completed effort ({unit})")
    ax.set_xlabel("month resolved")
    ax.set_title(title or "Effort by allocation bucket per month")
    ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    ax.grid(axis="y", alpha=0.3)
    return _save(fig, out_dir, "allocation-by-bucket")


def roadmap(epics: pd.DataFrame, out_dir: Path, *, as_of=None, title: str | None = None,
            subtitle: str | None = None) -> list[Path]:
    """Gantt of the open epics due earliest (:func:`~rollup.views.titles.roadmap_rows`) under a row per
    initiative, start → target date, coloured by pillar, at risk / off track marked; the legend on the right."""
    rows = roadmap_rows(epics)
    groups = list(rows.groupby("initiative", sort=False, dropna=False)) if len(rows) else []
    lines = textwrap.wrap(subtitle or "", SUBTITLE_CHARS)
    fig = _figure(11, 2.2 + 0.14 * len(lines) + 0.28 * max(len(rows) + len(groups), 4))
    ax = fig.add_subplot()
    if rows.empty:
        _empty(ax, subtitle or "No open epics with a target date")
        return _save(fig, out_dir, "roadmap")
    pillars = rows["pillar"].astype("object").where(rows["pillar"].notna(), "Unmapped").astype(str)
    declared = [str(p) for p in epics["pillar"].cat.categories] if hasattr(epics["pillar"], "cat") \
        else list(dict.fromkeys(pillars))
    colours = colour_map(declared, PILLAR_COLOURS)
    y, labels, headers = _initiative_rows(groups)
    starts = mdates.date2num(pd.to_datetime(rows["start"]))
    ends = mdates.date2num(pd.to_datetime(rows["target_date"]))
    ax.barh(y, ends - starts, left=starts, color=[colours.get(p, UNMAPPED_COLOUR) for p in pillars], height=0.6)
    late = rows["rag"].isin(["at risk", "off track"]).to_numpy()
    ax.scatter(ends[late], y[late], marker="D", color=LATE_COLOUR, zorder=3)
    # The forecast's P50–P85 range of each epic, against its bar (start → target date).
    ranged = rows["p50"].notna().to_numpy() if "p50" in rows else np.zeros(len(rows), dtype=bool)
    if ranged.any():
        p50 = mdates.date2num(pd.to_datetime(rows["p50"][ranged]))
        p85 = pd.to_datetime(rows["p85"][ranged])
        horizon = pd.Timestamp(as_of or pd.Timestamp.now()) + pd.Timedelta(days=7 * 156)
        p85_num = mdates.date2num(p85.fillna(horizon))
        ax.hlines(y[ranged], p50, p85_num, color=RANGE_COLOUR, linewidth=2.2, zorder=4)
        ax.scatter(p50, y[ranged], marker="|", color=RANGE_COLOUR, s=60, zorder=4)
    lo = min(starts.min(), mdates.date2num(pd.Timestamp(as_of or pd.Timestamp.now())))
    hi = max(ends.max(), mdates.date2num(pd.Timestamp(as_of or pd.Timestamp.now())))
    if ranged.any():
        # Keep the bars readable: the ranges are drawn at most two years past the last target date.
        hi = min(max(hi, float(p85_num.max())), float(ends.max()) + 730)
    ax.set_xlim(lo - 14, hi + 14)
    ax.set_yticks(range(len(labels)), labels, fontsize=7)
    for tick in headers:
        ax.get_yticklabels()[tick].set_fontweight("bold")
        if tick:
            ax.axhline(tick - 0.5, color="#D0D0D0", linewidth=0.8)
    ax.set_ylim(len(labels) - 0.5, -0.7)
    ax.xaxis_date()
    ax.xaxis.set_major_locator(mdates.MonthLocator(bymonth=[1, 4, 7, 10]))
    ax.xaxis.set_major_formatter(mdates.DateFormatter("%Y-%m"))
    ax.set_xlabel("calendar date (quarter starts marked)")
    day = pd.Timestamp(as_of or pd.Timestamp.now()).normalize()
    ax.axvline(mdates.date2num(day), color="#333333", linestyle=":", linewidth=1)
    ax.set_title(title or "Roadmap: open epics by initiative", pad=6 + 10 * len(lines) + (4 if lines else 0))
    if lines:
        ax.annotate("\n".join(lines), xy=(0.5, 1), xycoords="axes fraction", xytext=(0, 5),
                    textcoords="offset points", ha="center", va="bottom", fontsize=8, color="#404040")
    ax.grid(axis="x", alpha=0.3)
    ax.legend(handles=_roadmap_legend(rows.assign(pillar=pillars), declared, colours, bool(late.any()), day,
                                      bool(ranged.any())),
              loc="upper left", bbox_to_anchor=(1.01, 1.0), borderaxespad=0, fontsize=8)
    return _save(fig, out_dir, "roadmap")


def initiative_forecast(forecast: pd.DataFrame, out_dir: Path, title: str | None = None) -> list[Path]:
    """The completion distribution of one initiative (the forecast view's ``attrs["curve"]``): the share of
    trials done by each week's end, with its P50, P85 and P95 and its target date marked."""
    curve = forecast.attrs.get("curve")
    fig = _figure(8, 4.2)
    ax = fig.add_subplot()
    if curve is None or curve.empty:
        _empty(ax, title or "No initiative can be dated yet")
        return _save(fig, out_dir, "initiative-forecast")
    row = curve.iloc[0]
    done = curve["share_done"].to_numpy()
    last = int(np.argmax(done >= 0.999)) + 2 if (done >= 0.999).any() else len(done)
    shown = curve.iloc[:max(last, 2)]
    ax.step(mdates.date2num(pd.to_datetime(shown["week_end"])), shown["share_done"] * 100, where="post",
            color=PILLAR_COLOURS[0], linewidth=1.6, label="share of trials done by then")
    for name, style in (("p50", ":"), ("p85", "--"), ("p95", "-.")):
        if not pd.isna(row[name]):
            ax.axvline(mdates.date2num(pd.Timestamp(row[name])), color="#333333", linestyle=style, linewidth=1,
                       label=f"{name.upper()} {pd.Timestamp(row[name]).date().isoformat()}")
    if not pd.isna(row["target_date"]):
        ax.axvline(mdates.date2num(pd.Timestamp(row["target_date"])), color=LATE_COLOUR, linewidth=1.4,
                   label=f"target {pd.Timestamp(row['target_date']).date().isoformat()}")
    ax.set_ylim(0, 100)
    ax.set_ylabel("% of trials done")
    ax.xaxis_date()
    ax.xaxis.set_major_formatter(mdates.DateFormatter("%Y-%m"))
    ax.grid(alpha=0.3)
    ax.set_title(title or f"{row['key']}: completion forecast", fontsize=10)
    ax.annotate(_short(str(row["name"] or ""), 80), xy=(0.5, 1), xycoords="axes fraction", xytext=(0, 18),
                textcoords="offset points", ha="center", va="bottom", fontsize=8, color="#404040")
    ax.legend(loc="lower right", fontsize=8)
    fig.autofmt_xdate()
    return _save(fig, out_dir, "initiative-forecast")


def _initiative_rows(groups: Sequence[tuple[Any, pd.DataFrame]]) -> tuple[np.ndarray, list[str], list[int]]:
    """Roadmap rows: one per initiative (its key and summary), then one per epic under it.

    The epics' row numbers (in the order of the groups' rows), every row's label, the initiatives' row numbers.
    """
    y: list[int] = []
    labels: list[str] = []
    headers: list[int] = []
    for initiative, members in groups:
        about = members["initiative_summary"].dropna()
        headers.append(len(labels))
        labels.append("No initiative" if pd.isna(initiative) else
                      f"{initiative}  {_short(about.iloc[0], 40)}" if len(about) else str(initiative))
        y.extend(range(len(labels), len(labels) + len(members)))
        labels.extend(f"{k}  {_short(s, 36)}" for k, s in zip(members["key"], members["summary"].fillna("")))
    return np.array(y), labels, headers


def _roadmap_legend(rows: pd.DataFrame, declared: list[str], colours: dict[str, str], late: bool,
                    day: pd.Timestamp, ranged: bool = False) -> list:
    """A patch per pillar drawn (declared order, by name), "unmapped" if any, the late marker, the report date."""
    names = rows.drop_duplicates("pillar").set_index("pillar")["pillar_name"]
    handles: list = [Patch(color=colours[p], label=str(names[p]))
                     for p in declared if p in names.index and p != "Unmapped"]
    if "Unmapped" in names.index:
        handles.append(Patch(color=UNMAPPED_COLOUR, label="unmapped"))
    if late:
        handles.append(Line2D([], [], marker="D", linestyle="none", color=LATE_COLOUR, label="at risk / off track"))
    if ranged:
        handles.append(Line2D([], [], color=RANGE_COLOUR, linewidth=2.2, label="forecast P50–P85"))
    handles.append(Line2D([], [], color="#333333", linestyle=":", linewidth=1,
                          label=f"report date {day.date().isoformat()}"))
    return handles


def okr_progress(okrs: pd.DataFrame, out_dir: Path, title: str | None = None) -> list[Path]:
    """Horizontal bars of key result progress with the share of the quarter elapsed marked."""
    okrs = okrs[okrs["level"].eq("key result")] if len(okrs) else okrs
    fig = _figure(8, 2 + 0.4 * max(len(okrs), 3))
    ax = fig.add_subplot()
    if okrs.empty:
        _empty(ax, "No OKRs declared in mappings.yaml")
        return _save(fig, out_dir, "okr-progress")
    colours = {"done": "#4472C4", "on track": "#70AD47", "behind": "#FFC000", "missed": "#C00000",
               "no work planned": "#7F7F7F"}
    y = np.arange(len(okrs))
    ax.barh(y, okrs["progress"], color=[colours.get(s, "#999999") for s in okrs["status"]], height=0.6)
    ax.scatter(okrs["expected"], y, marker="|", s=300, color="#333333", label="share of quarter elapsed")
    ax.set_yticks(y, [_short(n, 40) for n in okrs["key_result_name"]], fontsize=8)
    ax.invert_yaxis()
    ax.set_xlim(0, 1.05)
    ax.xaxis.set_major_formatter(PercentFormatter(1.0))
    ax.set_xlabel("progress of contributing epics (% of story points done)")
    ax.set_title(title or "Key result progress")
    ax.legend(loc="lower right", fontsize=8)
    ax.grid(axis="x", alpha=0.3)
    return _save(fig, out_dir, "okr-progress")


def _date_axis(ax, days: pd.Series) -> None:
    """A date axis that fits the points: one tick per week, a few days' margin, never years of empty axis."""
    first, last = pd.Timestamp(days.min()), pd.Timestamp(days.max())
    ax.set_xlim(mdates.date2num(first - pd.Timedelta(days=3)), mdates.date2num(last + pd.Timedelta(days=3)))
    weeks = max(1, int((last - first).days // 7 // 8) + 1)
    ax.xaxis.set_major_locator(mdates.WeekdayLocator(byweekday=first.weekday(), interval=weeks))
    ax.xaxis.set_major_formatter(mdates.DateFormatter("%Y-%m-%d"))


def week_over_week(trend: pd.DataFrame, out_dir: Path, title: str | None = None) -> list[Path]:
    """Epics open, done and at risk per weekly snapshot; below, hygiene and the allocation mix per week."""
    fig = _figure(8, 6.5)
    top, bottom = fig.subplots(2, 1, sharex=True, gridspec_kw={"height_ratios": [3, 2]})
    if trend.empty:
        _empty(top, title or "No weekly snapshot yet")
        bottom.set_axis_off()
        return _save(fig, out_dir, "week-over-week")
    days = pd.to_datetime(trend["day"])
    for col, label, colour in (("epics_open", "open", "#4472C4"), ("epics_done", "done", "#70AD47"),
                               ("epics_at_risk", "at risk or off track", "#C00000")):
        top.plot(days, trend[col], marker="o", label=label, color=colour)
    top.set_ylabel("epics (count)")
    top.legend(fontsize=8, loc="best")
    top.grid(alpha=0.3)
    shares: list[tuple[str, str, str | None]] = [
        ("hygiene", "hygiene (epics fit to roll up)", "#7030A0"),
        ("strategy_share", "effort on strategy (capex buckets)", "#ED7D31")]
    names = trend.attrs.get("labels", {})
    shares += [(c, f"bucket: {names.get(c, c.removeprefix('share_'))}", None)
               for c in trend.columns if c.startswith("share_")]
    for col, label, share_colour in shares:
        if col in trend and trend[col].notna().any():
            style = {"linewidth": 2.2} if share_colour else {"linewidth": 1, "linestyle": "--", "alpha": 0.8}
            bottom.plot(days, trend[col], marker="o", markersize=3, label=label, color=share_colour, **style)
    bottom.yaxis.set_major_formatter(PercentFormatter(1.0))
    bottom.set_ylim(0, 1)
    bottom.set_ylabel("share (%)")
    bottom.set_xlabel("week of the report (as-of date)")
    bottom.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    bottom.grid(alpha=0.3)
    _date_axis(bottom, days)
    fig.autofmt_xdate()
    top.set_title(title or "Epics open, done and at risk per week")
    return _save(fig, out_dir, "week-over-week")


#: Chart name → (function, the view it reads).
CHARTS: dict[str, tuple[Callable[..., list[Path]], str]] = {
    "allocation-vs-target": (allocation_vs_target, "pillars"),
    "allocation-by-bucket": (allocation_by_bucket, "allocation"),
    "roadmap": (roadmap, "epics"),
    "okr-progress": (okr_progress, "okrs"),
    "week-over-week": (week_over_week, "trend"),
    "initiative-forecast": (initiative_forecast, "forecast"),
}


def write_all(views: dict[str, pd.DataFrame], out_dir: Path, *, as_of=None) -> dict[str, list[Path]]:
    """Every chart from the computed views; ``{name: [png, svg]}``."""
    out_dir = Path(out_dir)
    out = {}
    titles = views.get("titles")
    for name, (fn, view) in CHARTS.items():
        given = view_title(titles, name)
        if fn is roadmap:
            out[name] = fn(views[view], out_dir, as_of=as_of, title=given,
                           subtitle=view_title(titles, f"{name}-subtitle"))
        else:
            out[name] = fn(views[view], out_dir, title=given)
    return out
