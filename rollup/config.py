"""``mappings.yaml``: parsed once, at the door, into pydantic models with ``extra="forbid"``.

This module holds the ``jira:`` and ``sync:`` sections. The sections later work adds
(``pillars``, ``okrs``, ``buckets``, ``teams``, ``rules``, ``lint``, ``finance``) are declared
as optional placeholders so the same file can carry them; any other top-level key is an error.

A bad file raises :class:`~rollup.errors.ConfigError` naming the file, the line and the key,
with "did you mean …" for a misspelt key; the CLI turns it into exit code 2.
"""

from __future__ import annotations

import difflib
import re
import types
import typing
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from rollup.errors import ConfigError

#: Where ``rollup`` looks for the configuration unless told otherwise.
DEFAULT_CONFIG_PATH = Path("mappings.yaml")

_BARE_PROJECT_KEY = re.compile(r"^[A-Z][A-Z0-9_]*$")


class JiraScope(BaseModel):
    """Which issues to sync and how to read them: the ``jira:`` section."""

    model_config = ConfigDict(extra="forbid")

    #: Project keys in scope; becomes ``project in (…)``. Give this or ``jql``.
    projects: list[str] | None = None
    #: A JQL filter for the scope (no ORDER BY: the sync appends ``ORDER BY id ASC``).
    jql: str | None = None
    #: Field role → Jira field id or name, overriding discovery by name (e.g. story_points: customfield_10016).
    fields: dict[str, str] = Field(default_factory=dict)
    #: Further fields to read by name; their values land in the issue's ``custom`` column.
    extra_fields: list[str] = Field(default_factory=list)
    #: Force the deployment type instead of trusting serverInfo.
    deployment: Literal["cloud", "datacenter"] | None = None

    @model_validator(mode="after")
    def _one_scope(self) -> JiraScope:
        if bool(self.projects) == bool(self.jql and self.jql.strip()):
            raise ValueError("give exactly one of 'projects' (a list of project keys) or 'jql'")
        if self.jql and re.search(r"\border\s+by\b", self.jql, re.IGNORECASE):
            raise ValueError("'jql' must not contain ORDER BY: the sync always orders by id")
        return self

    def scope_jql(self) -> str:
        """The JQL for the scope, without ordering."""
        if self.projects:
            keys = ", ".join(k if _BARE_PROJECT_KEY.match(k) else f'"{k}"' for k in self.projects)
            return f"project in ({keys})"
        return self.jql.strip()  # type: ignore[union-attr]


class SyncOptions(BaseModel):
    """How the sync behaves: the ``sync:`` section."""

    model_config = ConfigDict(extra="forbid")

    #: Minutes re-read before the cursor on every incremental sync (JQL dates have minute precision).
    overlap_minutes: int = Field(15, ge=0, le=24 * 60)
    #: Hours between deletion sweeps (a full id sweep that removes issues gone from the scope).
    deletion_sweep_hours: float = Field(24, gt=0)
    #: Parallel requests when fetching issues.
    max_workers: int = Field(8, ge=1, le=64)
    #: Issues per fetch request (Jira Cloud's bulk fetch takes at most 100).
    batch_size: int = Field(100, ge=1, le=100)


class RollupConfig(BaseModel):
    """The whole ``mappings.yaml``."""

    model_config = ConfigDict(extra="forbid")

    jira: JiraScope
    sync: SyncOptions = Field(default_factory=SyncOptions)
    # Sections that later work defines; accepted here so one file serves every stage.
    pillars: Any = None
    okrs: Any = None
    buckets: Any = None
    teams: Any = None
    rules: Any = None
    lint: Any = None
    finance: Any = None


# ---------------------------------------------------------------------------------------- loading


def load_config(path: str | Path = DEFAULT_CONFIG_PATH) -> RollupConfig:
    """Read and validate ``mappings.yaml``; raise :class:`ConfigError` naming file, line and key."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(
            f"{path}: file not found; pass --config PATH or create mappings.yaml (see the one at the repository root)"
        ) from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read: {exc.strerror}") from None
    return parse_config(text, source=str(path))


def parse_config(text: str, source: str = "mappings.yaml") -> RollupConfig:
    """Validate YAML text; ``source`` names it in error messages."""
    data, lines = _load_yaml_with_lines(text, source)
    if data is None:
        raise ConfigError(f"{source}: the file is empty; it needs at least a 'jira:' section")
    if not isinstance(data, dict):
        raise ConfigError(f"{source}, line 1: expected a mapping of sections (jira:, sync:, …)")
    try:
        return RollupConfig.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(_describe(exc, source, lines)) from None


def _load_yaml_with_lines(text: str, source: str) -> tuple[Any, dict[tuple, int]]:
    """Parse YAML and record the line of every key and list item, by path."""
    loader = yaml.SafeLoader(text)
    try:
        node = loader.get_single_node()
        data = loader.construct_document(node) if node is not None else None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f", line {mark.line + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise ConfigError(f"{source}{where}: not valid YAML: {problem}") from None
    finally:
        loader.dispose()
    lines: dict[tuple, int] = {}

    def walk(n: yaml.Node, path: tuple) -> None:
        lines.setdefault(path, n.start_mark.line + 1)
        if isinstance(n, yaml.MappingNode):
            for key_node, value_node in n.value:
                key_path = path + (key_node.value,)
                lines[key_path] = key_node.start_mark.line + 1
                walk(value_node, key_path)
        elif isinstance(n, yaml.SequenceNode):
            for index, item in enumerate(n.value):
                walk(item, path + (index,))

    if node is not None:
        walk(node, ())
    return data, lines


def _describe(exc: ValidationError, source: str, lines: dict[tuple, int]) -> str:
    messages = []
    for error in exc.errors():
        loc = tuple(error["loc"])
        line = _line_for(loc, lines)
        where = f"{source}, line {line}" if line else source
        dotted = ".".join(str(p) for p in loc) or "(top level)"
        if error["type"] == "extra_forbidden":
            allowed = _allowed_keys(loc[:-1])
            close = difflib.get_close_matches(str(loc[-1]), allowed, n=1, cutoff=0.6)
            hint = f"; did you mean '{close[0]}'?" if close else f"; expected one of: {', '.join(allowed)}"
            messages.append(f"{where}: unknown key '{dotted}'{hint}")
        elif error["type"] == "missing":
            messages.append(f"{where}: '{dotted}' is required")
        else:
            messages.append(f"{where}: '{dotted}': {error['msg']}")
    return "invalid configuration:\n  " + "\n  ".join(messages)


def _line_for(loc: tuple, lines: dict[tuple, int]) -> int | None:
    while True:
        if loc in lines:
            return lines[loc]
        if not loc:
            return None
        loc = loc[:-1]


def _allowed_keys(parent: tuple) -> list[str]:
    """The field names of the model at ``parent`` (a location inside RollupConfig)."""
    model: Any = RollupConfig
    for part in parent:
        if isinstance(model, type) and issubclass(model, BaseModel) and part in model.model_fields:
            model = _unwrap(model.model_fields[part].annotation)
        elif typing.get_origin(model) is list and isinstance(part, int):
            model = _unwrap(typing.get_args(model)[0])
        else:
            return []
    if isinstance(model, type) and issubclass(model, BaseModel):
        return list(model.model_fields)
    return []


def _unwrap(annotation: Any) -> Any:
    """``X | None`` → ``X``."""
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        if len(args) == 1:
            return args[0]
    return annotation
