"""Paginators: token loops, short pages, page size read back, and pages that are refused.

A fetch function here ignores the ``check`` it is handed (no transport to retry with), so a bad page
raises at once; with the real transport the same check makes it retry (see test_jira_transport).
"""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from connectors.jira import OffsetPaginator, TokenPaginator
from connectors.jira.errors import BadAnswer, JiraAnswerError


def issues(*ids):
    return [{"id": str(i)} for i in ids]


def test_token_paginator_follows_tokens_until_is_last():
    pages = {None: {"issues": issues(1, 2), "nextPageToken": "a", "isLast": False},
             "a": {"issues": issues(3), "nextPageToken": "b", "isLast": True}}
    calls = []

    def fetch(token, check=None):
        calls.append(token)
        return pages[token]

    pager = TokenPaginator(fetch)
    got = [i["id"] for page in pager for i in page]
    assert got == ["1", "2", "3"] and calls == [None, "a"]
    assert pager.read == 3


def test_token_paginator_repeated_token_is_a_loop():
    pages = {None: {"issues": issues(1), "nextPageToken": "a"}, "a": {"issues": issues(2), "nextPageToken": "a"}}
    with pytest.raises(JiraAnswerError, match="loop detected"):
        list(TokenPaginator(lambda t, check=None: pages[t]))


def test_token_paginator_refuses_a_page_repeating_an_earlier_one():
    """A replayed page used to be read as new and the real page lost: now it is refused."""
    pages = {None: {"issues": issues(1, 2), "nextPageToken": "a"}, "a": {"issues": issues(2, 3), "isLast": True}}
    with pytest.raises(JiraAnswerError, match="repeating 1 item"):
        list(TokenPaginator(lambda t, check=None: pages[t]))


def test_token_paginator_refuses_not_last_without_token_and_non_objects():
    with pytest.raises(JiraAnswerError, match="not the last but gives no nextPageToken"):
        list(TokenPaginator(lambda t, check=None: {"issues": issues(1), "isLast": False}))
    with pytest.raises(JiraAnswerError, match="where a page object was expected"):
        list(TokenPaginator(lambda t, check=None: None))
    with pytest.raises(JiraAnswerError, match="without isLast"):
        list(TokenPaginator(lambda t, check=None: {"issues": issues(1)}, needs_is_last=True))


def test_token_paginator_hands_its_check_to_the_fetch_which_can_retry():
    """The check handed to fetch refuses the replayed answer; the fetch asks again and gets the real page."""
    answers = iter([{"issues": issues(1, 2), "nextPageToken": "a"},
                    {"issues": issues(1, 2), "nextPageToken": "b"},  # stale: page 1 again
                    {"issues": issues(3), "isLast": True}])

    def fetch(token, check=None):
        while True:
            page = next(answers)
            try:
                check(page)
                return page
            except BadAnswer:
                continue

    assert [i["id"] for p in TokenPaginator(fetch) for i in p] == ["1", "2", "3"]


def test_offset_paginator_reads_page_size_back():
    """Asked for 1000, the server caps at 2: next requests ask for 2 from offset 2, 4."""
    data = issues(*range(1, 6))
    calls = []

    def fetch(start, size, check=None):
        calls.append((start, size))
        return {"startAt": start, "maxResults": 2, "total": 5, "issues": data[start : start + 2]}

    pager = OffsetPaginator(fetch, page_size=1000)
    got = [i["id"] for page in pager for i in page]
    assert got == ["1", "2", "3", "4", "5"]
    assert calls == [(0, 1000), (2, 2), (4, 2)]
    assert (pager.read, pager.total) == (5, 5)


def test_offset_paginator_short_page_mid_stream_loses_nothing():
    """A page shorter than maxResults (but total says more) must not end the read nor skip issues."""
    data = issues(*range(1, 8))
    sizes = iter([3, 1, 3])  # the second page comes back short

    def fetch(start, size, check=None):
        n = next(sizes)
        return {"startAt": start, "maxResults": 3, "total": 7, "issues": data[start : start + n]}

    got = [i["id"] for page in OffsetPaginator(fetch, page_size=3) for i in page]
    assert got == [str(i) for i in range(1, 8)]


def test_offset_paginator_stops_on_empty_page_without_total():
    def fetch(start, size, check=None):
        return {"issues": issues(*range(start + 1, min(start + size, 5) + 1))}

    got = [i["id"] for page in OffsetPaginator(fetch, page_size=2) for i in page]
    assert got == ["1", "2", "3", "4", "5"]


def test_offset_paginator_refuses_a_shifted_page():
    """An issue seen again on the next page means the pages moved under the read: refused, not deduplicated."""
    pages = {0: issues(1, 2), 2: issues(2, 3)}

    def fetch(start, size, check=None):
        return {"startAt": start, "maxResults": 2, "total": 4, "issues": pages.get(start, [])}

    with pytest.raises(JiraAnswerError, match="repeating 1 item"):
        list(OffsetPaginator(fetch, page_size=2))


def test_offset_paginator_refuses_an_empty_page_before_total_and_a_wrong_start():
    """An empty page while total says more used to end the read silently (200 of 1,115 issues)."""
    def empty_second(start, size, check=None):
        return {"startAt": start, "maxResults": 2, "total": 5, "issues": issues(1, 2) if start == 0 else []}

    with pytest.raises(JiraAnswerError, match="empty page while total=5"):
        list(OffsetPaginator(empty_second, page_size=2))

    def wrong_start(start, size, check=None):
        return {"startAt": 0, "maxResults": 2, "total": 5, "issues": issues(start + 1, start + 2)}

    with pytest.raises(JiraAnswerError, match="startAt=0 for a request of startAt=2"):
        list(OffsetPaginator(wrong_start, page_size=2))


def test_offset_paginator_runs_the_callers_item_check():
    def only_small(items):
        if any(int(i["id"]) > 3 for i in items):
            raise BadAnswer("issues other than those asked")

    def fetch(start, size, check=None):
        return {"startAt": start, "maxResults": 5, "total": 2, "issues": issues(1, 9)}

    with pytest.raises(JiraAnswerError, match="other than those asked"):
        list(OffsetPaginator(fetch, page_size=5, check_items=only_small))


# -- Data Center pages read in parallel --------------------------------------------------------------

class _Server:
    """An offset-paged result of ``n`` issues; records every request and the most answered at once."""

    def __init__(self, n, *, cap=10, hold=0.0):
        self.ids = list(range(1, n + 1))
        self.cap = cap
        self.hold = hold
        self.calls = []
        self.now = 0
        self.peak = 0
        self.lock = threading.Lock()
        self.short_at = set()

    def fetch(self, start, size, check=None):
        with self.lock:
            self.calls.append((start, size))
            self.now += 1
            self.peak = max(self.peak, self.now)
        try:
            time.sleep(self.hold)
            size = min(size, self.cap)
            take = size // 2 if start in self.short_at else size
            return {"startAt": start, "maxResults": size, "total": len(self.ids),
                    "issues": issues(*self.ids[start:start + take])}
        finally:
            with self.lock:
                self.now -= 1


@pytest.fixture
def pool():
    with ThreadPoolExecutor(max_workers=6) as executor:
        yield executor


def test_offset_pages_after_the_first_are_read_in_parallel(pool):
    server = _Server(95, cap=10, hold=0.05)
    pager = OffsetPaginator(server.fetch, page_size=1000, submit=pool.submit, in_flight=4)
    got = [int(i["id"]) for page in pager for i in page]
    assert sorted(got) == server.ids and len(got) == len(set(got))
    assert server.calls[0] == (0, 1000)
    assert sorted(server.calls[1:]) == [(s, 10) for s in range(10, 95, 10)]
    # Pages went out together, never more than asked for.
    assert server.peak == 4
    assert (pager.read, pager.total, pager.shrank) == (95, 95, False)


def test_offset_parallel_short_page_has_its_gap_read(pool):
    server = _Server(60, cap=10)
    server.short_at = {20, 40}  # pages answering 5 of their 10 issues
    got = [int(i["id"]) for page in OffsetPaginator(server.fetch, page_size=10, submit=pool.submit) for i in page]
    assert sorted(got) == server.ids
    assert (25, 5) in server.calls and (45, 5) in server.calls


def test_offset_parallel_reads_issues_created_during_the_read(pool):
    server = _Server(30, cap=10)
    original = server.fetch

    def growing(start, size, check=None):
        if start > 0 and len(server.ids) == 30:
            with server.lock:
                server.ids.extend(range(31, 46))  # 15 issues created after the first page
        return original(start, size, check)

    pager = OffsetPaginator(growing, page_size=10, submit=pool.submit)
    got = [int(i["id"]) for page in pager for i in page]
    assert sorted(got) == list(range(1, 46))
    assert (pager.read, pager.total, pager.shrank) == (45, 45, False)


def test_offset_parallel_count_that_falls_is_reported(pool):
    """An issue deleted during the read shifts the later pages past one issue no count reveals."""
    server = _Server(40, cap=10)
    original = server.fetch

    def shrinking(start, size, check=None):
        if start >= 20 and 5 in server.ids:
            with server.lock:
                server.ids.remove(5)
        return original(start, size, check)

    pager = OffsetPaginator(shrinking, page_size=10, submit=pool.submit)
    got = {int(i["id"]) for page in pager for i in page}
    assert pager.shrank
    assert pager.total == 40 and pager.read == len(got) < 40


def test_offset_parallel_repeating_page_is_asked_again_then_refused(pool):
    calls = []

    def fetch(start, size, check=None):
        calls.append(start)
        # Every page after the first repeats issue 1: the result moved under the read.
        return {"startAt": start, "maxResults": 2, "total": 6, "issues": issues(1, 2) if start == 0 else
                issues(1, start + 2)}

    with pytest.raises(JiraAnswerError, match="repeating 1 item"):
        list(OffsetPaginator(fetch, page_size=2, submit=pool.submit))
    assert max(calls.count(2), calls.count(4)) == 2  # the first repeating page to arrive was asked again once


def test_offset_parallel_page_check_still_runs_in_the_worker(pool):
    def fetch(start, size, check=None):
        return {"startAt": 0, "maxResults": 2, "total": 6, "issues": issues(start + 1, start + 2)}

    with pytest.raises(JiraAnswerError, match="startAt=0 for a request of startAt=2"):
        list(OffsetPaginator(fetch, page_size=2, submit=pool.submit))
