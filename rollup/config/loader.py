"""Reading a configuration file at the door: one loader for ``mappings.yaml`` and ``schedules/*.yaml``.

:func:`parse_document` reads YAML with the line of every key (:func:`rollup.inputfiles.load_yaml`:
duplicate keys, alias bombs and bad bytes are refused there), validates it into a pydantic model
and turns pydantic's errors into ``<file>, line N: what`` lines (:func:`describe_errors`), with
"did you mean …" for a misspelt key (:func:`did_you_mean`, difflib as pip-tools does). The
cross-checks of each section word an unknown reference with :func:`unknown_name`.
"""

from __future__ import annotations

import types
import typing
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, Literal, TypeVar

from pydantic import BaseModel, ValidationError

from rollup.config.names import did_you_mean, unknown_name
from rollup.errors import ConfigError
from rollup.inputfiles import line_for, load_yaml, read_text

__all__ = ["allowed_keys", "describe_errors", "did_you_mean", "line_for", "load_yaml", "parse_document",
           "read_config_text", "unknown_name", "unwrap", "yaml_path"]

M = TypeVar("M", bound=BaseModel)
#: Words one kind of pydantic error for one file (``error``, ``where``, ``dotted``), or None for the usual words.
SpecialError = Callable[[Any, str, str], "str | None"]


def read_config_text(path: Path, *, missing: str) -> str:
    """The UTF-8 text of ``path``; ConfigError ``<path>: <missing>`` when it does not exist."""
    try:
        return read_text(path)
    except FileNotFoundError:
        raise ConfigError(f"{path}: {missing}") from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read: {exc.strerror}") from None


def parse_document(text: str, source: str, root: type[M], *, empty: str, not_mapping: str, title: str,
                   special: SpecialError | None = None) -> tuple[M, dict[tuple, int]]:
    """Validate YAML text into ``root``; return the model and the line of every key and list item.

    ``empty`` and ``not_mapping`` say what the file needs when it holds nothing or no mapping;
    ``title`` heads the list of validation errors (``invalid configuration``).
    """
    data, lines = load_yaml(text, source)
    if data is None:
        raise ConfigError(f"{source}: {empty}")
    if not isinstance(data, dict):
        raise ConfigError(f"{source}, line 1: {not_mapping}")
    try:
        return root.model_validate(data), lines
    except ValidationError as exc:
        raise ConfigError(describe_errors(exc, source, lines, root, title=title, special=special)) from None


def describe_errors(exc: ValidationError, source: str, lines: dict[tuple, int], root: type[BaseModel], *,
                    title: str, special: SpecialError | None = None) -> str:
    """Pydantic's errors as ``<file>, line N: what`` lines, with "did you mean" for a misspelt key."""
    messages = []
    for error in exc.errors():
        loc = yaml_path(root, tuple(error["loc"]))
        line = line_for(loc, lines)
        where = f"{source}, line {line}" if line else source
        dotted = ".".join(str(p) for p in loc) or "(top level)"
        message = special(error, where, dotted) if special is not None else None
        if message is not None:
            messages.append(message)
        elif error["type"] == "extra_forbidden":
            allowed = allowed_keys(root, tuple(error["loc"])[:-1])
            hint = did_you_mean(str(loc[-1]), allowed) or f"expected one of: {', '.join(allowed)}"
            messages.append(f"{where}: unknown key '{dotted}'; {hint}")
        elif error["type"] == "missing":
            messages.append(f"{where}: '{dotted}' is required")
        else:
            messages.append(f"{where}: '{dotted}': {error['msg'].removeprefix('Value error, ')}")
    return f"{title}:\n  " + "\n  ".join(messages)


def allowed_keys(root: type[BaseModel], parent: tuple) -> list[str]:
    """The keys of the model at ``parent`` (a pydantic location inside ``root``), or [] when it is none."""
    model = _walk(root, parent)[0]
    if isinstance(model, type) and issubclass(model, BaseModel):
        return list(_by_alias(model))
    return []


def yaml_path(root: type[BaseModel], loc: tuple) -> tuple:
    """A pydantic location as a path in the file: without the tags it inserts for a tagged union."""
    return _walk(root, loc)[1]


def _walk(root: type[BaseModel], loc: tuple) -> tuple[Any, tuple]:
    """Follow ``loc`` from ``root``: the type reached (None when lost) and the file path walked."""
    model: Any = root
    path: list[Any] = []
    for part in loc:
        tagged = _tagged_members(model)
        if tagged and part in tagged:
            model = tagged[part]
            continue
        path.append(part)
        if isinstance(model, type) and issubclass(model, BaseModel) and part in _by_alias(model):
            model = unwrap(_by_alias(model)[part].annotation)
        elif typing.get_origin(model) is list and isinstance(part, int):
            model = unwrap(typing.get_args(model)[0])
        else:
            model = None
    return model, tuple(path)


def _tagged_members(model: Any) -> dict[str, type[BaseModel]]:
    """A union of models told apart by a one-value ``Literal`` field they all have: tag → model."""
    if typing.get_origin(model) not in (typing.Union, types.UnionType):
        return {}
    members = [unwrap(m) for m in typing.get_args(model)]
    if not members or not all(isinstance(m, type) and issubclass(m, BaseModel) for m in members):
        return {}
    for name in members[0].model_fields:
        tags = [typing.get_args(m.model_fields[name].annotation) if name in m.model_fields
                and typing.get_origin(m.model_fields[name].annotation) is Literal else () for m in members]
        if all(len(t) == 1 for t in tags):
            return {str(t[0]): m for t, m in zip(tags, members)}
    return {}


def _by_alias(model: type[BaseModel]) -> dict[str, Any]:
    return {f.alias or name: f for name, f in model.model_fields.items()}


def unwrap(annotation: Any) -> Any:
    """``X | None`` → ``X``; ``Annotated[X, …]`` → ``X``."""
    if typing.get_origin(annotation) is Annotated:
        return unwrap(typing.get_args(annotation)[0])
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        if len(args) == 1:
            return unwrap(args[0])
    return annotation
