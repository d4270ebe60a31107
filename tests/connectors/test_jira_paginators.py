"""Paginators: token loops, short pages, page size read back, de-duplication."""

from __future__ import annotations

import pytest

from connectors.jira import JiraPaginationError, OffsetPaginator, TokenPaginator


def issues(*ids):
    return [{"id": str(i)} for i in ids]


def test_token_paginator_follows_tokens_until_is_last():
    pages = {None: {"issues": issues(1, 2), "nextPageToken": "a"}, "a": {"issues": issues(3), "nextPageToken": "b", "isLast": True}}
    calls = []

    def fetch(token):
        calls.append(token)
        return pages[token]

    got = [i["id"] for page in TokenPaginator(fetch) for i in page]
    assert got == ["1", "2", "3"] and calls == [None, "a"]


def test_token_paginator_repeated_token_is_a_loop():
    pages = {None: {"issues": issues(1), "nextPageToken": "a"}, "a": {"issues": issues(2), "nextPageToken": "a"}}
    with pytest.raises(JiraPaginationError, match="loop detected"):
        list(TokenPaginator(lambda t: pages[t]))


def test_token_paginator_dedupes_issue_seen_on_an_earlier_page():
    pages = {None: {"issues": issues(1, 2), "nextPageToken": "a"}, "a": {"issues": issues(2, 3)}}
    got = [i["id"] for page in TokenPaginator(lambda t: pages[t]) for i in page]
    assert got == ["1", "2", "3"]


def test_offset_paginator_reads_page_size_back():
    """Asked for 1000, the server caps at 2: next requests ask for 2 from offset 2, 4."""
    data = issues(*range(1, 6))
    calls = []

    def fetch(start, size):
        calls.append((start, size))
        return {"startAt": start, "maxResults": 2, "total": 5, "issues": data[start : start + 2]}

    got = [i["id"] for page in OffsetPaginator(fetch, page_size=1000) for i in page]
    assert got == ["1", "2", "3", "4", "5"]
    assert calls == [(0, 1000), (2, 2), (4, 2)]


def test_offset_paginator_short_page_mid_stream_loses_nothing():
    """A page shorter than maxResults (but total says more) must not end the read nor skip issues."""
    data = issues(*range(1, 8))
    sizes = iter([3, 1, 3])  # the second page comes back short

    def fetch(start, size):
        n = next(sizes)
        return {"startAt": start, "maxResults": 3, "total": 7, "issues": data[start : start + n]}

    got = [i["id"] for page in OffsetPaginator(fetch, page_size=3) for i in page]
    assert got == [str(i) for i in range(1, 8)]


def test_offset_paginator_stops_on_empty_page_without_total():
    def fetch(start, size):
        return {"issues": issues(*range(start + 1, min(start + size, 5) + 1))}

    got = [i["id"] for page in OffsetPaginator(fetch, page_size=2) for i in page]
    assert got == ["1", "2", "3", "4", "5"]


def test_offset_paginator_dedupes_an_issue_that_moved_pages():
    pages = {0: issues(1, 2), 2: issues(2, 3)}

    def fetch(start, size):
        return {"startAt": start, "maxResults": 2, "total": 4, "issues": pages.get(start, [])}

    got = [i["id"] for page in OffsetPaginator(fetch, page_size=2) for i in page]
    assert got == ["1", "2", "3"]
