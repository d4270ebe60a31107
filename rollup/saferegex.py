"""Regular expressions from ``mappings.yaml``: refused at the door when they can backtrack without end,
and bounded when they run.

Python's ``re`` backtracks: ``(a+)+$`` against forty ``a`` and a ``!`` tries every way of splitting
the ``a`` between the two ``+`` — about 2**40 attempts — and a rule like that would hang
``rollup mapping check`` on one long custom-field value. So a rule's ``regex:`` is read with the
parser ``re`` itself uses (``re._parser``) and refused, naming the file, the line and the rule, when

* a quantifier (``+``, ``*``, ``{n,m}``) sits inside a repeated group and can match the same
  character the group's next round starts with (``(a+)+``, ``(\\w+\\s?)*``, ``(.*,){10}``); or
* two alternatives inside a repeated group can start with the same character, or one can match
  nothing where the other could go on (``(a|ab)*x`` is fine, ``(\\w|\\d)+`` and ``(a|)+`` are not).

Possessive quantifiers (``a++``) and atomic groups (``(?>…)``) never give back what they matched, so
they are not counted. Character sets are compared on a sample of characters (ASCII, Latin-1 and
Latin Extended, a few others, and every character the pattern names), so ranges and literals are
compared exactly and classes such as ``\\w`` closely.

Nothing slips through unbounded: when a rule runs, its regex sees at most the first
:data:`MAX_MATCH_LENGTH` characters of each value, and matching all the values of the field for one
rule may take at most :data:`MATCH_SECONDS` seconds; past that the run stops with an error naming
the rule (a slow regex must be fixed, not half-applied).
"""

from __future__ import annotations

import re
import signal
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from re import _constants as sre  # type: ignore[attr-defined]  # private module typeshed leaves out
from re import _parser as sre_parse  # type: ignore[attr-defined]  # private module typeshed leaves out
from typing import Any

from rollup.errors import ConfigError

#: A rule's regex is run against at most this many leading characters of a field value.
MAX_MATCH_LENGTH = 1_000
#: Matching one rule's regex against every value of its field may take at most this long (seconds).
MATCH_SECONDS = 2.0

_REPEATS = (sre.MAX_REPEAT, sre.MIN_REPEAT)  # possessive repeats never backtrack
_SAMPLE = [*range(0x00, 0x250), 0x391, 0x3B1, 0x410, 0x430, 0x5D0, 0x627, 0x2028, 0x212A, 0x3000, 0x4E00,
           0xFEFF, 0x1F600]
_CATEGORIES = {"DIGIT": r"\d", "SPACE": r"\s", "WORD": r"\w", "LINEBREAK": r"\n"}

NESTED = ("a quantifier inside a repeated group can match what the group's next round starts with, so the "
          "text can be split between them in exponentially many ways (e.g. (a+)+ or (\\w+\\s?)*); "
          "write the repetition once (a+, [\\w\\s]*)")
OVERLAP = ("two alternatives inside a repeated group can start with the same character (e.g. (\\w|\\d)+ or "
           "(a|a?b)*); merge them into one character class or make them start differently")


def backtracking_problem(pattern: str) -> str | None:
    """Why ``pattern`` can take exponential time, or None when it cannot (see the module docstring)."""
    try:
        parsed = sre_parse.parse(pattern)
    except (re.error, RecursionError, OverflowError):
        return None  # compiling reports it
    return _Analysis(parsed).problem()


class _Analysis:
    """Character sets are bit masks over a sample of characters: bit i stands for ``self.chars[i]``."""

    def __init__(self, parsed: Any):
        self.parsed = parsed
        named: set[int] = set()
        self._named(parsed, named)
        self.chars = sorted(set(_SAMPLE) | named)
        self.everything = (1 << len(self.chars)) - 1
        self._index = {c: i for i, c in enumerate(self.chars)}
        self._categories = {name: self._matching(re.compile(regex)) for name, regex in _CATEGORIES.items()}
        cases: dict[str, int] = {}
        for i, c in enumerate(self.chars):
            cases[chr(c).lower()] = cases.get(chr(c).lower(), 0) | (1 << i)
        self._case_of = [cases[chr(c).lower()] for c in self.chars]

    # -- character sets ---------------------------------------------------------------------

    def _named(self, items: Any, out: set[int]) -> None:
        """Every literal and range end the pattern names: their sets then compare exactly."""
        for op, av in items:
            if op in (sre.LITERAL, sre.NOT_LITERAL):
                out.add(av)
            elif op == sre.RANGE:
                out.update(av)
            elif op == sre.IN:
                self._named(av, out)
            for sub in _children(op, av):
                self._named(sub, out)

    def _matching(self, compiled: re.Pattern) -> int:
        return sum(1 << i for i, c in enumerate(self.chars) if compiled.fullmatch(chr(c)))

    def _char(self, c: int) -> int:
        return 1 << self._index[c]

    def _range(self, low: int, high: int) -> int:
        return sum(1 << i for i, c in enumerate(self.chars) if low <= c <= high)

    def _ignore_case(self, mask: int) -> int:
        out = mask
        for i in range(len(self.chars)):
            if mask >> i & 1:
                out |= self._case_of[i]
        return out

    def _category(self, category: Any) -> int:
        name = str(category).removeprefix("CATEGORY_")
        negated = name.startswith("NOT_")
        mask = self._categories.get(name.removeprefix("NOT_"), self.everything)
        return self.everything & ~mask if negated else mask

    def _set(self, items: Any) -> int:
        mask, negate = 0, False
        for op, av in items:
            if op == sre.NEGATE:
                negate = True
            elif op == sre.LITERAL:
                mask |= self._char(av)
            elif op == sre.RANGE:
                mask |= self._range(*av)
            elif op == sre.CATEGORY:
                mask |= self._category(av)
            else:
                mask = self.everything
        return self.everything & ~mask if negate else mask

    # -- first characters -------------------------------------------------------------------

    def first(self, items: Any, flags: int) -> tuple[int, bool]:
        """The characters a match of ``items`` can start with, and whether it can match nothing."""
        out = 0
        for op, av in items:
            chars, nullable = self._first_item(op, av, flags)
            out |= chars
            if not nullable:
                return out, False
        return out, True

    def _first_item(self, op: Any, av: Any, flags: int) -> tuple[int, bool]:
        if op == sre.LITERAL:
            mask = self._char(av)
            return (self._ignore_case(mask) if flags & re.IGNORECASE else mask), False
        if op == sre.NOT_LITERAL:
            mask = self._ignore_case(self._char(av)) if flags & re.IGNORECASE else self._char(av)
            return self.everything & ~mask, False
        if op == sre.IN:
            mask = self._set(av)
            return (self._ignore_case(mask) if flags & re.IGNORECASE else mask), False
        if op == sre.ANY:
            return self.everything if flags & re.DOTALL else self.everything & ~self._char(ord("\n")), False
        if op == sre.BRANCH:
            out, nullable = 0, False
            for alternative in av[1]:
                chars, empty = self.first(alternative, flags)
                out, nullable = out | chars, nullable or empty
            return out, nullable
        if op == sre.SUBPATTERN:
            return self.first(av[3], _flags(flags, av))
        if op == sre.ATOMIC_GROUP:
            return self.first(av, flags)
        if op in (*_REPEATS, sre.POSSESSIVE_REPEAT):
            chars, nullable = self.first(av[2], flags)
            return chars, nullable or av[0] == 0
        if op == sre.GROUPREF_EXISTS:
            yes, yes_empty = self.first(av[1], flags)
            no, no_empty = self.first(av[2], flags) if av[2] is not None else (0, True)
            return yes | no, yes_empty or no_empty
        if op in (sre.AT, sre.ASSERT, sre.ASSERT_NOT):
            return 0, True
        return self.everything, True  # a back-reference: anything, or nothing

    # -- the checks -------------------------------------------------------------------------

    def problem(self) -> str | None:
        flags = self.parsed.state.flags
        for body, body_flags in self._repeated_bodies(self.parsed, flags):
            next_round, _ = self.first(body, body_flags)
            for op, av, follow, item_flags in self._within(body, next_round, body_flags):
                if op in _REPEATS and av[1] > 1 and self.first(av[2], item_flags)[0] & follow:
                    return NESTED
                if op == sre.BRANCH and self._alternatives_overlap(av[1], follow, item_flags):
                    return OVERLAP
        return None

    def _repeated_bodies(self, items: Any, flags: int) -> Iterator[tuple[Any, int]]:
        """The body of every backtracking quantifier that may repeat more than once, anywhere in the pattern."""
        for op, av in items:
            if op in _REPEATS and av[1] > 1:
                yield av[2], flags
            inner = _flags(flags, av) if op == sre.SUBPATTERN else flags
            for sub in _children(op, av):
                yield from self._repeated_bodies(sub, inner)

    def _within(self, items: Any, after: int, flags: int) -> Iterator[tuple[Any, Any, int, int]]:
        """Every item inside a repeated body with the characters that can come right after it there.

        Atomic groups are not entered: once left they are never backtracked into.
        """
        follow = after
        for op, av in reversed(list(items)):
            yield op, av, follow, flags
            if op == sre.SUBPATTERN:
                yield from self._within(av[3], follow, _flags(flags, av))
            elif op == sre.BRANCH:
                for alternative in av[1]:
                    yield from self._within(alternative, follow, flags)
            elif op in _REPEATS:
                again = self.first(av[2], flags)[0] if av[1] > 1 else 0
                yield from self._within(av[2], again | follow, flags)
            elif op == sre.GROUPREF_EXISTS:
                for sub in av[1:]:
                    if sub is not None:
                        yield from self._within(sub, follow, flags)
            chars, nullable = self._first_item(op, av, flags)
            follow = chars | (follow if nullable else 0)

    def _alternatives_overlap(self, alternatives: Sequence[Any], follow: int, flags: int) -> bool:
        seen = 0
        for alternative in alternatives:
            chars, nullable = self.first(alternative, flags)
            chars |= follow if nullable else 0
            if chars & seen:
                return True
            seen |= chars
        return False


def _flags(flags: int, subpattern: Any) -> int:
    """The flags inside a group such as ``(?i:…)`` or ``(?-s:…)``."""
    _, add, remove, _ = subpattern
    return (flags | add) & ~remove


def _children(op: Any, av: Any) -> list[Any]:
    """The sub-patterns inside one parsed item."""
    if op == sre.SUBPATTERN:
        return [av[3]]
    if op == sre.BRANCH:
        return list(av[1])
    if op in (*_REPEATS, sre.POSSESSIVE_REPEAT):
        return [av[2]]
    if op == sre.ATOMIC_GROUP:
        return [av]
    if op in (sre.ASSERT, sre.ASSERT_NOT):
        return [av[1]]
    if op == sre.GROUPREF_EXISTS:
        return [sub for sub in av[1:] if sub is not None]
    return []


# ---------------------------------------------------------------------------------------- running


class _OutOfTime(Exception):
    pass


def _out_of_time(signum: int, frame: Any) -> None:
    raise _OutOfTime


@contextmanager
def _deadline(seconds: float) -> Iterator[None]:
    """Raise :class:`_OutOfTime` in the block after ``seconds`` (``re`` checks for signals while it works).

    Only where a timer can be set without disturbing anyone: the main thread, on a platform with
    ``setitimer``, with no timer already running. Elsewhere the length cap alone bounds the work.
    """
    usable = (hasattr(signal, "setitimer") and threading.current_thread() is threading.main_thread()
              and signal.getitimer(signal.ITIMER_REAL)[0] == 0)
    if not usable:
        yield
        return
    previous = signal.signal(signal.SIGALRM, _out_of_time)
    try:
        signal.setitimer(signal.ITIMER_REAL, seconds)
        try:
            yield
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)  # a one-shot timer: if it fired just before, it is spent
    finally:
        signal.signal(signal.SIGALRM, previous)


def search_values(pattern: str, values: Sequence[str], *, who: str, field: str) -> list[bool]:
    """``re.search(pattern, value)`` for each value's first :data:`MAX_MATCH_LENGTH` characters.

    ``who`` names the rule (``rule r1 (mappings.yaml:12)``) and ``field`` the field, for the error
    raised when matching takes more than :data:`MATCH_SECONDS` seconds.
    """
    compiled = re.compile(pattern)
    try:
        with _deadline(MATCH_SECONDS):
            return [compiled.search(value[:MAX_MATCH_LENGTH]) is not None for value in values]
    except _OutOfTime:
        raise ConfigError(f"{who}: regex {pattern!r} took more than {MATCH_SECONDS:g} s on the values of field "
                          f"'{field}' and was stopped. Simplify it (see docs/mappings.md, "
                          "'Regular expressions')") from None
