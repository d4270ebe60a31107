"""429 storms, 5xx, connection resets and truncated bodies: the store still equals a clean sync."""

from __future__ import annotations

import pytest
from e2e_helpers import FLAVOURS, assert_same_content, clean_sync, run_sync, serve

from rollup.localjira import Faults, SampleOrg
from rollup.store import Store


@pytest.mark.parametrize("flavour", FLAVOURS)
def test_rate_limit_storm_and_server_errors_leave_the_store_equal_to_a_clean_sync(flavour, tmp_path):
    org = SampleOrg.generate(seed=31, issues=300)
    # 3 requests per second per endpoint, bursts of 3. Cloud pages its sweep 60 issues at a time, so
    # the 4th page comes within milliseconds of the 3rd; Data Center's three parallel fetches follow
    # straight after the sweep on the same endpoint: a 429 is certain on both, whatever the timing.
    faults = Faults(seed=4, rate_limit_per_s=3, error_5xx_rate=0.1, reset_rate=0.03, truncate_rate=0.03,
                    max_page_size=60 if flavour == "cloud" else 100, short_page_rate=0.3)
    with Store.open(f"sqlite:///{tmp_path / 'storm.db'}") as store:
        with serve(org, flavour, faults) as server:
            result = run_sync(store, server, flavour)
            seen = server.stats_snapshot()
        assert seen["throttled_total"] > 0 and result.throttled > 0, (seen, result)
        assert seen["errors"].get("5xx", 0) > 0 and result.retries > 0
        assert result.failed == 0
        with clean_sync(org, flavour, f"sqlite:///{tmp_path / 'clean.db'}") as clean:
            assert_same_content(store, clean)
