"""The files a user hands the tool, read once and refused at the door when they cannot be trusted.

One implementation for every file the tool reads: ``mappings.yaml``, ``schedules/*.yaml`` and the
rates CSV go through :func:`decode_text`; both YAML files through :func:`load_yaml`.

* Bytes that are not UTF-8 are a :class:`~rollup.errors.ConfigError` naming the file, the line and
  the byte offset of the first bad byte (a UTF-8 byte order mark is accepted and dropped).
* A key given twice in one YAML mapping is an error naming the key and both lines. PyYAML would
  keep the last one silently, so a second ``sync:`` section or a rule with two ``set:`` keys would
  change the result without a word. Merge keys (``<<: *base``) are not duplicates: keys written
  beside them override the merged ones, as YAML says.
* Aliases are counted as they are read: a document whose aliases expand to more than
  :data:`MAX_YAML_VALUES` values (the "billion laughs" attack), an alias inside the value it names,
  or nesting deeper than :data:`MAX_YAML_DEPTH` levels is refused with the line where it happens,
  before anything is built from it.

:func:`load_yaml` also records the line of every key and list item by path, so later checks can
say ``<file>, line N`` (:func:`line_for`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from rollup.errors import ConfigError

#: At most this many values (scalars, lists and mappings) once every alias is expanded. The shipped
#: mappings.yaml holds about 1,300; a very large organisation's file stays far below this.
MAX_YAML_VALUES = 100_000
#: At most this many levels of nested lists and mappings (the shipped files use fewer than ten).
MAX_YAML_DEPTH = 64

_MERGE_TAG = "tag:yaml.org,2002:merge"


def decode_text(data: bytes, source: str) -> str:
    """``data`` as UTF-8 text; ConfigError naming ``source``, the line and the byte offset otherwise."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise ConfigError(f"{source}, line {line}: not UTF-8 text (byte 0x{data[exc.start]:02x} at byte offset "
                          f"{exc.start}); save the file as UTF-8") from None


def read_text(path: Path) -> str:
    """The UTF-8 text of ``path`` (OSError propagates for the caller to word; bad bytes are a ConfigError)."""
    return decode_text(path.read_bytes(), str(path))


class _BoundedLoader(yaml.SafeLoader):
    """PyYAML's safe loader, counting what aliases expand to and refusing duplicate keys as it composes."""

    def __init__(self, text: str, source: str):
        super().__init__(text)
        self.source = source
        self.values = 0
        self.depth = 0
        self._sizes: dict[int, int] = {}
        self._open: dict[str, int] = {}

    def _where(self, mark: Any) -> str:
        return f"{self.source}, line {mark.line + 1}"

    def compose_node(self, parent: Any, index: Any) -> Any:
        event = self.peek_event()
        if isinstance(event, yaml.AliasEvent):
            if event.anchor in self._open:
                raise ConfigError(f"{self._where(event.start_mark)}: alias *{event.anchor} is inside the value it "
                                  f"names (anchored on line {self._open[event.anchor]}); a value cannot contain "
                                  "itself")
            if event.anchor in self.anchors:
                self._count(self._expanded(self.anchors[event.anchor]), event.start_mark)
            return super().compose_node(parent, index)
        self._count(1, event.start_mark)
        self.depth += 1
        if self.depth > MAX_YAML_DEPTH:
            raise ConfigError(f"{self._where(event.start_mark)}: nested more than {MAX_YAML_DEPTH} levels deep; "
                              "no file the tool reads needs that many")
        anchor = getattr(event, "anchor", None)
        if anchor is not None:
            self._open[anchor] = event.start_mark.line + 1
        try:
            return super().compose_node(parent, index)
        finally:
            self.depth -= 1
            if anchor is not None:
                self._open.pop(anchor, None)

    def compose_mapping_node(self, anchor: Any) -> Any:
        node = super().compose_mapping_node(anchor)
        seen: dict[tuple[str, str], int] = {}
        for key, _ in node.value:
            if not isinstance(key, yaml.ScalarNode) or key.tag == _MERGE_TAG:
                continue
            line = key.start_mark.line + 1
            first = seen.get((key.tag, key.value))
            if first is not None:
                lines = f"lines {first} and {line}" if first != line else f"twice on line {line}"
                raise ConfigError(f"{self.source}, line {line}: key '{key.value}' is given twice in one mapping "
                                  f"({lines}); YAML would keep only the second, so remove one")
            seen[(key.tag, key.value)] = line
        return node

    def _count(self, values: int, mark: Any) -> None:
        self.values += values
        if self.values > MAX_YAML_VALUES:
            raise ConfigError(f"{self._where(mark)}: the document expands to more than {MAX_YAML_VALUES:,} values "
                              "through its aliases (*name); write the values out or use fewer aliases")

    def _expanded(self, node: Any) -> int:
        """How many values ``node`` stands for once every alias inside it is expanded (memoised)."""
        known = self._sizes.get(id(node))
        if known is not None:
            return known
        if isinstance(node, yaml.MappingNode):
            size = 1 + sum(self._expanded(k) + self._expanded(v) for k, v in node.value)
        elif isinstance(node, yaml.SequenceNode):
            size = 1 + sum(self._expanded(v) for v in node.value)
        else:
            size = 1
        # Saturate: past the limit the exact figure does not matter, and it keeps the numbers small.
        self._sizes[id(node)] = size = min(size, MAX_YAML_VALUES + 1)
        return size

    def construct_object(self, node: Any, deep: bool = False) -> Any:
        try:
            return super().construct_object(node, deep=deep)
        except (ValueError, OverflowError) as exc:  # a scalar PyYAML cannot build, e.g. the date 2027-13-01
            raise ConfigError(f"{self._where(node.start_mark)}: not valid YAML: {exc} (a date that does not exist? "
                              "write dates as YYYY-MM-DD)") from None


def load_yaml(text: str, source: str) -> tuple[Any, dict[tuple, int]]:
    """Parse YAML text; return the data and the line of every key and list item, by path.

    Raises :class:`ConfigError` naming ``source`` and the line for invalid YAML, a duplicate key,
    an alias bomb or a value nested too deeply.
    """
    loader = None
    try:
        loader = _BoundedLoader(text, source)  # checks the characters first
        node = loader.get_single_node()
        data = loader.construct_document(node) if node is not None else None
    except yaml.reader.ReaderError as exc:
        line = text.count("\n", 0, exc.position) + 1
        raise ConfigError(f"{source}, line {line}: not valid YAML: character #x{exc.character:04x} is not allowed "
                          "in a YAML file") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f", line {mark.line + 1}" if mark is not None else ""
        # PyYAML's "found unexpected end of stream" is bad input like any other: say what was found.
        problem = (getattr(exc, "problem", None) or str(exc)).replace("found unexpected ", "found an early ")
        context, context_mark = getattr(exc, "context", None), getattr(exc, "context_mark", None)
        if context and context_mark is not None:
            problem += f" ({context}, line {context_mark.line + 1})"
        raise ConfigError(f"{source}{where}: not valid YAML: {problem}") from None
    except RecursionError:
        raise ConfigError(f"{source}: nested too deeply to read") from None
    finally:
        if loader is not None:
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


def line_for(loc: tuple, lines: dict[tuple, int]) -> int | None:
    """The line of ``loc`` (a path of keys and list indexes), or of its nearest recorded parent."""
    while True:
        if loc in lines:
            return lines[loc]
        if not loc:
            return None
        loc = loc[:-1]
