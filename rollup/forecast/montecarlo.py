"""Monte Carlo completion forecasts over a team's throughput history: the numeric core, arrays in, arrays out.

The model, for one team:

* **Throughput.** Each trial draws the team's items finished per week, week after week, from its
  own weekly history (with replacement). ``C[t, w]`` is trial ``t``'s items finished by the end of
  week ``w + 1``; it never decreases along ``w``.
* **Work in progress.** The team works on ``wip`` epics at once, each getting an equal share of the
  throughput. Epics start in backlog order: the next one starts when a slot frees — it joins the
  *lane* whose work ends first (list scheduling). Epic ``i`` is therefore done when the team has
  finished ``Q_i = wip × (the work of its lane up to and including it)`` items: its *target* in
  team items (:func:`lane_targets`). With ``wip = 1`` that is the running total of the backlog.
  When fewer epics than ``wip`` remain, the model keeps each at its equal share (a slightly late
  tail, never an early one).
* **Completion week.** Trial ``t`` finishes epic ``i`` in the first week ``w`` with ``C[t, w] ≥ Q_i``.

Because ``C`` never decreases, "done by week ``w``" is the event ``C[t, w] ≥ Q_i``, so the share of
trials done by week ``w`` is read from the sorted column ``C[:, w]`` — exactly, without finding each
trial's completion week. The P-th percentile week of every epic is then one binary search of its
target in the per-week order statistic (:func:`percentile_weeks`), and its chance of making a date
one search in that week's sorted column (:func:`chance_by`): the cost grows with trials × weeks,
not trials × epics. An initiative or key result is done when its latest epic is: within one team
that is its epic with the largest target, and teams are simulated independently, so its share done
by week ``w`` is the product over its teams of that epic's share (:func:`done_share`), and its
percentiles are read from that curve (:func:`first_week`).

Weeks are counted from the as-of date: week index ``w`` (0-based) ends ``7 × (w + 1)`` days after
it. An index equal to the horizon means "not within the horizon".
"""

from __future__ import annotations

import heapq
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

#: Percentiles every forecast reports.
PERCENTILES = (50, 85, 95)


@dataclass(frozen=True)
class TeamRun:
    """One team's simulated throughput, week-major: ``cumulative[w, t]`` is ``C[t, w]``.

    ``sorted_cumulative[w]`` is week ``w``'s row sorted ascending (the trials' order statistics).
    """

    cumulative: np.ndarray
    sorted_cumulative: np.ndarray

    @property
    def trials(self) -> int:
        """Number of trials."""
        return int(self.cumulative.shape[1])

    @property
    def horizon(self) -> int:
        """Weeks simulated."""
        return int(self.cumulative.shape[0])


def simulate(throughput: Sequence[float] | np.ndarray, *, trials: int, horizon: int,
             rng: np.random.Generator) -> TeamRun:
    """Draw ``trials`` futures of ``horizon`` weeks from the weekly ``throughput`` history (with replacement).

    Whole counts whose total over the horizon fits in 16 bits are kept as int16, which numpy sorts
    by radix: the sort that dominates the cost is then linear.
    """
    history = np.asarray(throughput, dtype=np.float64)
    if history.ndim != 1 or history.size == 0:
        raise ValueError("throughput history must be a non-empty list of weekly counts")
    if np.any(history < 0) or not np.all(np.isfinite(history)):
        raise ValueError("throughput history must hold finite counts of zero or more")
    whole = bool(np.all(history == np.round(history)))
    most = float(history.max(initial=0)) * horizon
    dtype = (np.int16 if most < 2**15 else np.int32 if most < 2**31 else np.float64) if whole else np.float64
    draws = rng.integers(0, history.size, size=(horizon, trials), dtype=np.int32)
    cumulative = np.cumsum(history.astype(dtype)[draws], axis=0, dtype=dtype)
    ordered = np.sort(cumulative, axis=1, kind="stable" if dtype == np.int16 else "quicksort")
    return TeamRun(cumulative=cumulative, sorted_cumulative=ordered)


def lane_targets(remaining: Sequence[float] | np.ndarray, wip: int) -> np.ndarray:
    """Each epic's target in team items, epics in backlog order, ``wip`` at a time (see the module docstring).

    >>> lane_targets([8, 8], 1).tolist(), lane_targets([8, 8], 2).tolist()
    ([8.0, 16.0], [16.0, 16.0])
    """
    if wip < 1:
        raise ValueError("wip must be at least 1")
    work = np.asarray(remaining, dtype=np.float64)
    if np.any(work < 0):
        raise ValueError("remaining work cannot be negative")
    lanes = [(0.0, lane) for lane in range(min(wip, max(work.size, 1)))]
    heapq.heapify(lanes)
    targets = np.empty(work.size, dtype=np.float64)
    for index, size in enumerate(work):
        load, lane = heapq.heappop(lanes)
        load += float(size)
        targets[index] = wip * load
        heapq.heappush(lanes, (load, lane))
    return targets


def percentile_weeks(run: TeamRun, targets: np.ndarray, percentiles: Sequence[int] = PERCENTILES) -> np.ndarray:
    """``[len(percentiles), len(targets)]`` week indexes: the first week by which ``p`` % of trials are done.

    ``horizon`` where fewer than ``p`` % are done within it.
    """
    n = run.trials
    out = np.empty((len(percentiles), len(targets)), dtype=np.int64)
    for row, p in enumerate(percentiles):
        need = int(np.ceil(p / 100 * n))  # trials that must be done
        # The need-th largest value of each week: done by week w for p % ⇔ target ≤ it.
        curve = run.sorted_cumulative[:, n - need]
        out[row] = np.searchsorted(curve, targets, side="left")
    return out


def chance_by(run: TeamRun, targets: np.ndarray, weeks: np.ndarray) -> np.ndarray:
    """Share of trials that finish each target within ``weeks[i]`` whole weeks (0 weeks: none, unless no work)."""
    targets = np.asarray(targets, dtype=np.float64)
    weeks = np.asarray(weeks, dtype=np.int64)
    chance = np.where(targets <= 0, 1.0, 0.0)
    n = run.trials
    for week in np.unique(weeks[(weeks > 0) & (targets > 0)]):
        pick = (weeks == week) & (targets > 0)
        column = run.sorted_cumulative[min(int(week), run.horizon) - 1]
        not_done = np.searchsorted(column, targets[pick], side="left")
        chance[pick] = (n - not_done) / n
    return chance


def done_share(run: TeamRun, targets: np.ndarray) -> np.ndarray:
    """``[len(targets), horizon]``: the share of trials that have finished each target by the end of each week."""
    targets = np.asarray(targets, dtype=np.float64)
    out = np.empty((targets.size, run.horizon), dtype=np.float64)
    for week in range(run.horizon):
        out[:, week] = run.trials - np.searchsorted(run.sorted_cumulative[week], targets, side="left")
    return out / run.trials


def first_week(share: np.ndarray, percentiles: Sequence[int] = PERCENTILES) -> np.ndarray:
    """``[len(percentiles), len(share)]``: the first week index whose done share reaches ``p`` % (else the horizon).

    ``share`` is ``[n, horizon]`` of done shares, each row non-decreasing (as :func:`done_share` gives).
    """
    horizon = share.shape[1]
    out = np.empty((len(percentiles), share.shape[0]), dtype=np.int64)
    for row, p in enumerate(percentiles):
        reached = share >= p / 100 - 1e-12
        out[row] = np.where(reached.any(axis=1), reached.argmax(axis=1), horizon)
    return out
