"""The scope ledger's history over real HTTP: epic moves, target-date moves and story-point changes,
as each flavour writes them, land in the store with who and when (both flavours)."""

from __future__ import annotations

from datetime import date

import pytest
from e2e_helpers import FLAVOURS, run_sync, serve

from rollup.localjira.sampleorg import H_EPIC, H_POINTS, H_TARGET, SampleOrg
from rollup.store import Store


def _expected(org: SampleOrg, flavour: str) -> set[tuple]:
    """(issue id, history id, field, from, to, author name) for every scope history of a live issue."""
    out = set()
    for pos in range(org.size):
        if not org.live(pos):
            continue
        for h in org.histories(pos):
            kind, frm, to = org.h_kind[h], org.h_from[h], org.h_to[h]
            author = org.users[org.h_author[h]].display_name if org.h_author[h] >= 0 else None
            if kind == H_EPIC:
                # Cloud names the epics by id (IssueParentAssociation), Data Center by key (Epic Link).
                def ref(p: int) -> str | None:
                    if p < 0:
                        return None
                    return str(org.issue_id(p)) if flavour == "cloud" else org.key(p)
                row = ("parent" if flavour == "cloud" else "epic", ref(frm), ref(to))
            elif kind == H_TARGET:
                row = ("target_date", date.fromordinal(frm).isoformat() if frm else None,
                       date.fromordinal(to).isoformat() if to else None)
            elif kind == H_POINTS:
                row = ("story_points", str(frm) if frm >= 0 else None, str(to))
            else:
                continue
            out.add((org.issue_id(pos), org.HIST_BASE + h, *row, author))
    return out


@pytest.mark.slow
@pytest.mark.parametrize("flavour", FLAVOURS)
def test_scope_histories_reach_the_store(flavour, tmp_path):
    org = SampleOrg.generate(seed=7, issues=400)
    with Store.open(f"sqlite:///{tmp_path / 'scope.db'}") as store, serve(org, flavour) as server:
        run_sync(store, server, flavour)
        moved = []
        for _ in range(3):
            org.advance(days=7)
            moved += org.plan_week()["child_moved"]
            run_sync(store, server, flavour)
        want = _expected(org, flavour)
        live = {org.issue_id(p) for p in range(org.size) if org.live(p)}  # deletions wait for a full sync
        got = {(t["issue_id"], t["history_id"], t["field"], t["from_value"], t["to_value"], t["author_name"])
               for t in store.transition_rows()
               if t["field"] in ("parent", "epic", "target_date", "story_points") and t["issue_id"] in live}
    kinds = {w[2] for w in want}
    # The weeks moved stories between epics and target dates, and changed points: all three are tested.
    assert moved and kinds == {"parent" if flavour == "cloud" else "epic", "target_date", "story_points"}
    assert got == want
