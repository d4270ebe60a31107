"""Sprints over real HTTP, both flavours: every sprint an issue's Sprint field lists lands in the store
(name, state, dates, board), each issue keeps the ids of all its sprints, and the epic rollup counts
the sprints its children touched."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest
from e2e_helpers import FLAVOURS, REPO, run_sync, serve

from rollup.config import load_config
from rollup.frames import load_frames
from rollup.localjira.sampleorg import SampleOrg
from rollup.mapping import apply
from rollup.store import Store
from rollup.views import epics as epics_view


def _expected(org: SampleOrg, flavour: str) -> dict[int, list[int]]:
    """Issue id -> the sprint ids its rendered Sprint field lists (what a real site would answer)."""
    from rollup.localjira.render import Renderer

    render = Renderer(org, flavour, "http://local", "UTC")
    out = {}
    for pos in range(org.size):
        if org.live(pos) and org.sprint[pos] >= 0:
            value = render.sprint(org.sprint[pos], org.created[pos])
            out[org.issue_id(pos)] = [v["id"] if isinstance(v, dict) else int(v.split("[id=")[1].split(",")[0])
                                      for v in value]
    return out


@pytest.mark.parametrize("flavour", FLAVOURS)
def test_sprints_reach_the_store_and_the_epic_rollup(flavour, tmp_path):
    org = SampleOrg.generate(seed=7, issues=500)
    with Store.open(f"sqlite:///{tmp_path / 's.db'}") as store, serve(org, flavour) as server:
        run_sync(store, server, flavour)
        want = _expected(org, flavour)
        got = {r["id"]: r["sprint_ids"] for r in store.issue_rows() if r["sprint_ids"]}
        assert got == want and any(len(v) > 1 for v in got.values())  # carried-over issues list several
        sprints = {r["id"]: r for r in store.sprint_rows()}
        assert set(sprints) == {s for ids in want.values() for s in ids}
        for sprint in org.sprints:
            if sprint.id in sprints:
                row = sprints[sprint.id]
                assert (row["name"], row["state"], row["board_id"]) == (sprint.name, sprint.state, sprint.board_id)
                assert row["start_at"] == datetime.fromtimestamp(sprint.start, timezone.utc)
                assert row["end_at"] == datetime.fromtimestamp(sprint.end, timezone.utc)
        frames = load_frames(store)
    config = load_config(REPO / "mappings.yaml")
    mapped = apply(frames.issues, config).issues
    touched = epics_view.sprints_touched(mapped)
    # By hand for one epic: the distinct sprints of its story-level children.
    kids = mapped[mapped["hierarchy_level"].eq(0) & mapped["epic"].notna()]
    epic = touched.idxmax()
    by_hand = {s for ids in kids.loc[kids["epic"].astype(str).eq(epic), "sprint_ids"] for s in ids}
    assert touched[epic] == len(by_hand) > 1
    out = epics_view.compute(mapped, config, as_of=org.now.date(), lint=None, forecast=None).set_index("key")
    assert out.loc[epic, "sprints"] == len(by_hand)
