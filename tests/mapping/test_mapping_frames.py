"""load_frames: the store as typed pandas frames, read once."""

from __future__ import annotations

import pandas as pd
import pytest
from mapping_helpers import REPO_ROOT, frame, issue

from rollup.config import load_config
from rollup.frames import ISSUE_COLUMNS, load_frames
from rollup.mapping import apply
from rollup.store import Store


@pytest.mark.slow
def test_load_frames_types(sample):
    _, url, issues = sample
    assert list(issues.columns) == list(ISSUE_COLUMNS)
    assert len(issues) == 3000 and issues["id"].is_monotonic_increasing
    for column in ("project_key", "issue_type", "status", "status_category", "team", "sprint"):
        assert isinstance(issues[column].dtype, pd.CategoricalDtype), column
    assert all(isinstance(v, list) for v in issues["labels"]) and all(isinstance(v, list) for v in issues["components"])
    assert all(isinstance(v, dict) for v in issues["custom"])
    assert str(issues["created"].dt.tz) == "UTC"
    assert set(issues["custom"].map(lambda d: d.get("Investment")).dropna()) == {
        "Win enterprise hospitals", "Retain and delight clinics", "Grow new practices",
        "Platform reliability and compliance"}
    with Store.open(url) as store:
        frames = load_frames(store)
    assert len(frames.transitions) > 0 and len(frames.worklogs) > 0
    assert list(frames.snapshots.columns) == ["week", "as_of", "run_id", "taken_at", "issue_id", "key", "payload"]


def test_empty_store_gives_empty_frames_with_columns(tmp_path):
    with Store.open(f"sqlite:///{tmp_path / 'empty.db'}") as store:
        frames = load_frames(store)
    assert frames.issues.empty and list(frames.issues.columns) == list(ISSUE_COLUMNS)
    assert frames.transitions.empty and "at" in frames.transitions.columns


@pytest.mark.slow
def test_mapping_at_scale_keeps_inheritance_and_buckets():
    """200,000 rows map with the same routes as small frames (speed is measured in bench/, not here)."""
    config = load_config(REPO_ROOT / "mappings.yaml")
    rows = []
    for i in range(1, 5001):
        rows += [
            issue(f"STRAT-{i}", "Initiative", labels=["pillar-enterprise", "okr-q4-hl7"]),
            issue(f"INT-{i}", "Epic", parent_key=f"STRAT-{i}", team="Integrations"),
            issue(f"PAY-{i}", "Epic", labels=["pillar-growth"], custom={"Investment": "Grow new practices"}),
        ]
        rows += [issue(f"INT-{i}x{k}", "Story", epic_key=f"INT-{i}", story_points=3.0) for k in range(20)]
        rows += [issue(f"PAY-{i}x{k}", "Bug", parent_key=f"PAY-{i}") for k in range(17)]
    issues = frame(*rows)
    assert len(issues) == 200_000
    mapped = apply(issues, config)
    out = mapped.issues
    assert (out.loc[out["key"].str.startswith("INT-") & ~out["key"].str.contains("x"), "pillar_source"]
            .str.startswith("inherited from STRAT-")).all()
    assert out["bucket"].notna().sum() > 190_000


def test_stored_json_lists_decode_what_python_wrote():
    """Lists are decoded by orjson; what only Python's encoder writes (NaN, a lone surrogate) still reads."""
    import math

    from rollup.frames import _decode

    assert _decode('["a", "b"]', list) == ["a", "b"]
    assert _decode('{"k": 1}', list) == []
    assert math.isnan(_decode("[NaN]", list)[0])
    assert _decode('["\\ud800x"]', list) == ["\ud800x"]
    assert _decode('{"x": [1]}', dict) == {"x": [1]}
