"""Faults the local Jira can inject, deterministic by seed: latency, server time per issue, rate limits
(429 with ``Retry-After``), 5xx errors, connection resets and truncated bodies — and the odd answers
real servers and proxies give: empty 200 bodies, stale (replayed) answers, an empty field list, slow
answers, a huge ``Retry-After`` and a wrong issue count."""

from __future__ import annotations

import hashlib
import math
import threading
import time
from dataclasses import dataclass, field, fields


@dataclass
class Faults:
    """What can go wrong, and how often.

    - ``latency_ms``: added to every Jira request.
    - ``per_issue_ms``: server time per full issue returned (not for id-only pages).
    - ``rate_limit_per_s``: per-endpoint token bucket (capacity = one second's worth, at least 1). A
      request without a token gets 429 with ``Retry-After`` = whole seconds until the next token
      (rounded down, so it may be 0); rejected requests consume no token.
    - ``error_5xx_rate``, ``reset_rate`` (close without answering), ``truncate_rate`` (Content-Length
      promises more than is sent, then close): probabilities per request.
    - ``max_page_size``: a site-wide cap on search pages (Cloud ``search/jql``, Data Center ``search``),
      below what the client asks for and below the usual caps; Data Center reports it in ``maxResults``.
    - ``short_page_rate``: probability that a search page which is not the last holds fewer issues
      than its page size (about half, at least one) — the next page starts right after them.
    - ``repeat_token``: Cloud ``search/jql`` answers a request that carries a ``nextPageToken`` with
      that same token again (a server bug a client must detect, not loop on).
    - ``empty_body_rate``: probability that a read (any Jira endpoint but edits) answers 200 with an
      empty body — what a proxy sends when its upstream dropped the connection.
    - ``stale_rate``: probability that a search page, an issue or changelog bulk fetch or a worklog list
      is answered with the *previous* answer of that endpoint (a caching proxy serving the wrong entry):
      a repeated search page, or a bulk fetch naming other ids than those asked.
    - ``empty_fields_rate``: probability that ``/field`` answers an empty list.
    - ``slow_rate``, ``slow_ms``: probability that an answer is held back ``slow_ms`` milliseconds
      (longer than the client's timeout, say).
    - ``huge_retry_after_rate``, ``huge_retry_after_s``: probability of a 429 whose ``Retry-After`` is
      ``huge_retry_after_s`` seconds (an hour, say) instead of the rate limiter's honest wait.
    - ``embedded_changelog_cap``: Data Center ``search`` embeds at most this many histories of each
      issue's changelog (the newest, with the true ``total``), as a server limiting the expansion
      does; the rest must be read per issue.
    - ``count_offset``: added to what ``search/approximate-count`` answers (a count that lags).
    - ``fail_issues``: issue keys or ids whose edits (``PUT``/``POST``/``DELETE`` under
      ``/issue/{idOrKey}``: labels, comments) always answer 500 — one broken issue among healthy ones.

    Whether the n-th request to an endpoint fails depends only on ``seed``, the endpoint and n, so a
    sequential client sees the same faults on every run.
    """

    seed: int = 0
    latency_ms: float = 0
    per_issue_ms: float = 0
    rate_limit_per_s: float | None = None
    error_5xx_rate: float = 0
    reset_rate: float = 0
    truncate_rate: float = 0
    max_page_size: int | None = None
    short_page_rate: float = 0
    repeat_token: bool = False
    empty_body_rate: float = 0
    stale_rate: float = 0
    empty_fields_rate: float = 0
    slow_rate: float = 0
    slow_ms: float = 0
    huge_retry_after_rate: float = 0
    huge_retry_after_s: int = 3600
    count_offset: int = 0
    embedded_changelog_cap: int | None = None
    fail_issues: tuple[str, ...] = ()
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)
    _counters: dict = field(default_factory=dict, repr=False, compare=False)
    _buckets: dict = field(default_factory=dict, repr=False, compare=False)

    def update(self, **changes) -> None:
        """Change settings at runtime (``POST /_local/faults``); unknown names raise ValueError."""
        names = {f.name for f in fields(self) if not f.name.startswith("_")}
        unknown = set(changes) - names
        if unknown:
            raise ValueError(f"unknown fault setting(s) {sorted(unknown)}; known: {sorted(names)}")
        with self._lock:
            for k, v in changes.items():
                setattr(self, k, v)
            self._counters.clear()
            self._buckets.clear()

    def settings(self) -> dict:
        """The public fault settings by name, as ``configure`` accepts them."""
        return {f.name: getattr(self, f.name) for f in fields(self) if not f.name.startswith("_")}

    def decide(self, endpoint: str) -> str | None:
        """The fault for the next request to ``endpoint``: "5xx", "reset", "truncate" or None."""
        if not (self.error_5xx_rate or self.reset_rate or self.truncate_rate):
            return None
        with self._lock:
            n = self._counters.get(endpoint, 0)
            self._counters[endpoint] = n + 1
        digest = hashlib.blake2b(f"{self.seed}|{endpoint}|{n}".encode(), digest_size=8).digest()
        r = int.from_bytes(digest, "big") / 2**64
        for name, rate in (("5xx", self.error_5xx_rate), ("reset", self.reset_rate),
                           ("truncate", self.truncate_rate)):
            if r < rate:
                return name
            r -= rate
        return None

    def short_page(self, endpoint: str) -> bool:
        """Whether the next search page of ``endpoint`` is served short (by seed, endpoint and count)."""
        return self.chance("short", endpoint, self.short_page_rate)

    def chance(self, kind: str, endpoint: str, rate: float) -> bool:
        """Whether the next request of ``endpoint`` gets fault ``kind`` at ``rate`` (by seed, endpoint, count)."""
        if not rate:
            return False
        with self._lock:
            n = self._counters.get((kind, endpoint), 0)
            self._counters[(kind, endpoint)] = n + 1
        digest = hashlib.blake2b(f"{self.seed}|{kind}|{endpoint}|{n}".encode(), digest_size=8).digest()
        return int.from_bytes(digest, "big") / 2**64 < rate

    def page_size(self, size: int) -> int:
        """``size`` capped by ``max_page_size``."""
        cap = self.max_page_size
        return min(size, int(cap)) if cap and cap > 0 else size

    def take_token(self, endpoint: str, now: float | None = None) -> int | None:
        """None if the request may go ahead, else the Retry-After seconds to send with a 429."""
        rate = self.rate_limit_per_s
        if not rate:
            return None
        now = time.monotonic() if now is None else now
        capacity = max(1.0, float(rate))
        with self._lock:
            tokens, last = self._buckets.get(endpoint, (capacity, now))
            tokens = min(capacity, tokens + (now - last) * rate)
            if tokens >= 1:
                self._buckets[endpoint] = (tokens - 1, now)
                return None
            self._buckets[endpoint] = (tokens, now)
            return int(math.floor((1 - tokens) / rate))

    def sleep(self, issues: int = 0) -> None:
        """Model network latency and server time for ``issues`` full issues."""
        total = self.latency_ms + self.per_issue_ms * issues
        if total > 0:
            time.sleep(total / 1000)
