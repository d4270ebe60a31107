"""The Monte Carlo core against figures worked out by hand."""

from __future__ import annotations

import numpy as np
import pytest

from rollup.forecast import montecarlo as mc


def run(history, *, trials=2000, horizon=60, seed=1):
    return mc.simulate(history, trials=trials, horizon=horizon, rng=np.random.default_rng(seed))


def test_constant_throughput_gives_one_date_for_every_percentile():
    # 4 items a week, 10 items left: 3 weeks in every trial (8 after two, 12 after three).
    team = run([4, 4, 4])
    weeks = mc.percentile_weeks(team, np.array([10.0]))
    assert weeks[:, 0].tolist() == [2, 2, 2]  # week index 2 = the third week
    assert mc.chance_by(team, np.array([10.0]), np.array([3]))[0] == 1.0
    assert mc.chance_by(team, np.array([10.0]), np.array([2]))[0] == 0.0


def test_doubling_wip_pushes_dates_out_as_computed_by_hand():
    # Two epics of 8 items, 4 a week. WIP 1: the first is done in week 2, the second in week 4.
    # WIP 2: each gets 2 a week, so both are done in week 4.
    team = run([4])
    one = mc.percentile_weeks(team, mc.lane_targets([8, 8], 1))[0]
    two = mc.percentile_weeks(team, mc.lane_targets([8, 8], 2))[0]
    assert (one + 1).tolist() == [2, 4]
    assert (two + 1).tolist() == [4, 4]
    # Three epics of 8, 4, 8 with WIP 2: lanes get A (8) and B (4); C joins B's lane when B is done
    # (load 12), so A is done at 2 × 8 = 16 items (week 4), B at 8 (week 2), C at 24 (week 6).
    assert mc.lane_targets([8, 4, 8], 2).tolist() == [16.0, 8.0, 24.0]
    assert (mc.percentile_weeks(team, mc.lane_targets([8, 4, 8], 2))[0] + 1).tolist() == [4, 2, 6]


def each_trials_week(team, targets):
    """Brute force: every trial's first week with C ≥ target (the horizon when never)."""
    by_trial = team.cumulative.T
    return np.array([[int(np.argmax(row >= q)) if row[-1] >= q else team.horizon for q in targets]
                     for row in by_trial])


def test_percentiles_match_each_trials_completion_week():
    # The order-statistic shortcut gives the same percentiles as finding every trial's week.
    team = run([0, 1, 2, 3, 5, 8], trials=3000, horizon=40, seed=3)
    targets = np.array([1.0, 7.0, 20.0, 55.0, 90.0])
    brute = each_trials_week(team, targets)
    for row, p in enumerate(mc.PERCENTILES):
        need = int(np.ceil(p / 100 * team.trials))
        assert (mc.percentile_weeks(team, targets)[row] == np.sort(brute, axis=0)[need - 1]).all()
    assert (mc.first_week(mc.done_share(team, targets)) == mc.percentile_weeks(team, targets)).all()
    for i, q in enumerate(targets):
        for week in (1, 5, 12):
            share = np.mean(brute[:, i] < week)
            assert mc.chance_by(team, np.array([q]), np.array([week]))[0] == pytest.approx(share)
            assert mc.done_share(team, np.array([q]))[0, week - 1] == pytest.approx(share)


def test_the_latest_of_two_independent_teams_is_the_product_of_their_shares():
    # Pairing every trial of one team with every trial of the other: done by week w when both are.
    a, b = run([0, 1, 3], trials=300, horizon=30, seed=8), run([1, 2], trials=200, horizon=30, seed=9)
    wa, wb = each_trials_week(a, [12.0])[:, 0], each_trials_week(b, [20.0])[:, 0]
    latest = np.maximum(wa[:, None], wb[None, :]).ravel()
    product = mc.done_share(a, np.array([12.0]))[0] * mc.done_share(b, np.array([20.0]))[0]
    for week in range(30):
        assert product[week] == pytest.approx(np.mean(latest <= week))


def test_a_spread_history_spreads_the_dates():
    team = run([0, 2, 4, 6], trials=5000, seed=5)
    p50, p85, p95 = mc.percentile_weeks(team, np.array([30.0]))[:, 0]
    assert p50 < p85 <= p95
    # The mean is 3 a week: 30 items take about 10 weeks at the median.
    assert 8 <= p50 <= 11


def test_seeds_reproduce_and_differ():
    a, b, c = run([1, 3, 5], seed=11), run([1, 3, 5], seed=11), run([1, 3, 5], seed=12)
    assert (a.cumulative == b.cumulative).all()
    assert not (a.cumulative == c.cumulative).all()


def test_work_beyond_the_horizon_is_said_so():
    team = run([1], horizon=10)
    assert mc.percentile_weeks(team, np.array([11.0]))[:, 0].tolist() == [10, 10, 10]
    assert mc.first_week(mc.done_share(team, np.array([11.0])))[:, 0].tolist() == [10, 10, 10]


def test_bad_histories_are_refused():
    with pytest.raises(ValueError, match="non-empty"):
        run([])
    with pytest.raises(ValueError, match="zero or more"):
        run([1, -1])
    with pytest.raises(ValueError, match="wip"):
        mc.lane_targets([1], 0)
