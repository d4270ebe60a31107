"""The store package's boundary: only rollup/store/ touches the SQLAlchemy engine."""

from __future__ import annotations

import ast
from pathlib import Path

import rollup.store
import rollup.store.columns

ROOT = Path(__file__).resolve().parents[2]
STORE = ROOT / "rollup" / "store"


def engine_reads(path: Path) -> list[int]:
    """Lines of ``path`` that read an attribute named ``engine`` (``store.engine``, ``self.store.engine``…)."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    return sorted(node.lineno for node in ast.walk(tree) if isinstance(node, ast.Attribute) and node.attr == "engine")


def test_nothing_outside_the_store_package_reads_the_engine():
    found = [f"{path.relative_to(ROOT)}:{line}"
             for top in ("rollup", "connectors")
             for path in sorted((ROOT / top).rglob("*.py")) if STORE not in path.parents
             for line in engine_reads(path)]
    assert found == [], ("reach the database through Store (connect, begin, its query methods), not .engine: "
                         + ", ".join(found))


def test_the_check_sees_an_engine_read(tmp_path):
    sample = tmp_path / "sample.py"
    sample.write_text("from rollup.mapping.engine import apply\n\ndef f(store):\n    return store.engine.connect()\n")
    assert engine_reads(sample) == [4]


def test_every_table_has_one_schema_module():
    owners = {}
    for path in sorted(STORE.glob("schema_*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in tree.body:
            if isinstance(node, ast.Assign) and isinstance(node.value, ast.Call) and \
                    getattr(node.value.func, "id", None) == "Table":
                owners[node.value.args[0].value] = path.name
    assert set(owners) == set(rollup.store.columns.metadata.tables)
