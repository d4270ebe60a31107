"""The layering rules, checked on the source: every import statement (lazy, TYPE_CHECKING and all).

- ``connectors`` never imports ``rollup``;
- the pure packages — views, lint rules and engine, mapping, finance allocation, writers, the feed — never
  import the jobs, the CLI, the scheduler, doctor, the local Jira or the configuration *loader*
  (they take validated models, so they import ``rollup.config.models`` and the section modules,
  never the ``rollup.config`` package, which re-exports ``load_config``);
- nothing imports ``rollup.localjira`` except the demo jobs, the CLI's registration of the local
  Jira's own commands, the local Jira itself, tests and bench.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

PURE = ("rollup.views", "rollup.forecast", "rollup.lint.rules", "rollup.lint.engine", "rollup.lint.base",
        "rollup.lint.result", "rollup.lint.context", "rollup.mapping", "rollup.finance.allocation",
        "rollup.finance.effort", "rollup.finance.policy", "rollup.writers", "rollup.feed")
ABOVE = ("rollup.jobs", "rollup.cli", "rollup.schedule", "rollup.doctor", "rollup.localjira",
         "rollup.config.loader", "rollup.config.mappings")
#: Modules that may import the local Jira (besides itself, tests and bench), and what they may import.
LOCALJIRA_USERS = {
    "rollup.jobs.demo": ("rollup.localjira",),
    "rollup.jobs.sample_rates": ("rollup.localjira.sampleorg", "rollup.localjira.sampledata"),
    "rollup.cli.main": ("rollup.localjira.cli",),
}


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports_of(path: Path) -> set[str]:
    """Every module ``path`` imports, absolute; ``from pkg import name`` also yields ``pkg.name``."""
    package = module_name(path).rsplit(".", 1)[0] if path.name != "__init__.py" else module_name(path)
    return imports_in(path.read_text(encoding="utf-8"), package)


def imports_in(text: str, package: str) -> set[str]:
    """Every module ``text`` (a module of ``package``) imports, relative imports made absolute."""
    tree = ast.parse(text)
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                base = ".".join([*anchor, *([base] if base else [])])
            found.add(base)
            found.update(f"{base}.{alias.name}" for alias in node.names)
    return found


def sources(*folders: str) -> dict[str, set[str]]:
    return {module_name(p): imports_of(p) for folder in folders for p in sorted((ROOT / folder).rglob("*.py"))}


def within(name: str, prefixes: tuple[str, ...]) -> bool:
    return any(name == p or name.startswith(p + ".") for p in prefixes)


GRAPH = sources("rollup", "connectors")


def test_the_graph_is_read() -> None:
    # The checks below mean something only if the walk finds the imports it is meant to judge.
    assert "rollup.jobs.report" in GRAPH and "rollup.views.registry" in GRAPH
    assert "rollup.views" in GRAPH["rollup.jobs.report"] or any(
        within(m, ("rollup.views",)) for m in GRAPH["rollup.jobs.report"])
    assert "rollup.localjira.sampleorg" in GRAPH["rollup.jobs.demo"]


def test_connectors_never_import_rollup() -> None:
    bad = {m: sorted(d for d in deps if within(d, ("rollup",)))
           for m, deps in GRAPH.items() if within(m, ("connectors",))}
    assert {m: d for m, d in bad.items() if d} == {}


def above(dependency: str) -> bool:
    """What a pure module must not import: the layers above it, or the config package beyond its models."""
    if within(dependency, ABOVE) or dependency == "rollup.config":
        return True
    return dependency.startswith("rollup.config.") and dependency.split(".")[2] not in CONFIG_MODELS


#: What of ``rollup.config`` a pure module may import: the models, their value types, the hash, the wording.
CONFIG_MODELS = ("models", "lint", "finance", "forecast", "types", "hashing", "names")


@pytest.mark.parametrize("package", PURE)
def test_pure_packages_import_nothing_above_them(package: str) -> None:
    modules = {m: deps for m, deps in GRAPH.items() if within(m, (package,))}
    assert modules, f"no module under {package}"
    bad = {m: sorted(d for d in deps if above(d)) for m, deps in modules.items()}
    assert {m: d for m, d in bad.items() if d} == {}


def test_only_the_demo_jobs_import_the_local_jira() -> None:
    bad = {}
    for module, deps in GRAPH.items():
        if within(module, ("rollup.localjira",)):
            continue
        used = sorted(d for d in deps if within(d, ("rollup.localjira",)))
        allowed = LOCALJIRA_USERS.get(module, ())
        wrong = [d for d in used if not within(d, allowed)]
        if wrong:
            bad[module] = wrong
    assert bad == {}


def test_the_rules_catch_violations() -> None:
    # Lazy imports inside a function, relative imports and the config package's loader are all seen.
    text = ("def f():\n    from ..jobs.report import run_portfolio\n    import rollup.cli\n"
            "from rollup.config import load_config\nfrom rollup.config.models import RollupConfig\n")
    found = imports_in(text, "rollup.views")
    assert sorted(d for d in found if above(d)) == ["rollup.cli", "rollup.config", "rollup.config.load_config",
                                                   "rollup.jobs.report", "rollup.jobs.report.run_portfolio"]
    assert not above("rollup.config.models.RollupConfig") and not above("rollup.frames")
