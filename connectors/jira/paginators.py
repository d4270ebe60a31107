"""Paginators, one small class per paging scheme (singer-sdk style).

Both iterate pages (lists of items) and drop items already seen, by ``key``.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterator
from typing import Any

from .errors import JiraPaginationError

Page = dict[str, Any]


def _issue_id(item: dict[str, Any]) -> Hashable:
    return item.get("id")


class TokenPaginator:
    """Cloud ``nextPageToken`` paging (``/rest/api/3/search/jql``, ``changelog/bulkfetch``).

    ``fetch_page(token)`` is called with ``None`` first, then with each ``nextPageToken``
    until the response says ``isLast`` or carries no token. A token handed out twice
    raises :class:`JiraPaginationError` ("loop detected") instead of spinning forever.
    """

    def __init__(
        self,
        fetch_page: Callable[[str | None], Page],
        *,
        items_key: str = "issues",
        key: Callable[[dict[str, Any]], Hashable] | None = _issue_id,
        endpoint: str = "",
    ) -> None:
        self.fetch_page = fetch_page
        self.items_key = items_key
        self.key = key
        self.endpoint = endpoint
        self.pages = 0

    def __iter__(self) -> Iterator[list[dict[str, Any]]]:
        seen_tokens: set[str] = set()
        seen_items: set[Hashable] = set()
        token: str | None = None
        while True:
            page = self.fetch_page(token) or {}
            self.pages += 1
            items = [i for i in page.get(self.items_key) or [] if self._first_time(i, seen_items)]
            yield items
            token = page.get("nextPageToken")
            if page.get("isLast") or not token:
                return
            if token in seen_tokens:
                message = (
                    f"loop detected: {self.endpoint or 'the endpoint'} handed back nextPageToken {token!r} "
                    f"a second time after {self.pages} pages; stopping instead of re-reading the same pages."
                )
                raise JiraPaginationError(message)
            seen_tokens.add(token)

    def _first_time(self, item: dict[str, Any], seen: set[Hashable]) -> bool:
        if self.key is None:
            return True
        k = self.key(item)
        if k in seen:
            return False
        seen.add(k)
        return True


class OffsetPaginator:
    """Data Center ``startAt`` paging (``/rest/api/2/search``).

    ``fetch_page(start_at, max_results)`` returns a page. The page size is read back from each
    response (``maxResults``) and the offset advances by the number of items actually returned,
    so a server that caps the page size or returns a short page loses nothing. Stops at
    ``total`` or at an empty page.
    """

    def __init__(
        self,
        fetch_page: Callable[[int, int], Page],
        *,
        page_size: int = 1000,
        items_key: str = "issues",
        key: Callable[[dict[str, Any]], Hashable] | None = _issue_id,
    ) -> None:
        self.fetch_page = fetch_page
        self.page_size = page_size
        self.items_key = items_key
        self.key = key
        self.pages = 0

    def __iter__(self) -> Iterator[list[dict[str, Any]]]:
        seen: set[Hashable] = set()
        start_at = 0
        page_size = self.page_size
        while True:
            page = self.fetch_page(start_at, page_size) or {}
            self.pages += 1
            raw = page.get(self.items_key) or []
            if not raw:
                return
            items = []
            for item in raw:
                k = self.key(item) if self.key else None
                if k is None or k not in seen:
                    if k is not None:
                        seen.add(k)
                    items.append(item)
            yield items
            # The server's effective page size may be smaller than asked: ask for that from now on.
            effective = page.get("maxResults")
            if isinstance(effective, int) and 0 < effective < page_size:
                page_size = effective
            start_at += len(raw)
            total = page.get("total")
            if isinstance(total, int) and start_at >= total:
                return


def search_pages(get: Callable[..., Page], jql: str, fields: str, *, cloud: bool, page_size: int) -> Iterator[list[Any]]:
    """Pages of issues matching ``jql`` with ``fields``, each issue once, from the site's search endpoint.

    Cloud: ``GET /rest/api/3/search/jql`` with token paging; Data Center: ``GET /rest/api/2/search``
    with ``startAt`` paging (the page size read back). ``get(path, params=…)`` sends one request.
    """
    if cloud:
        path = "/rest/api/3/search/jql"

        def fetch_token(token: str | None) -> Page:
            params: dict[str, Any] = {"jql": jql, "fields": fields, "maxResults": page_size}
            if token:
                params["nextPageToken"] = token
            return get(path, params=params)

        return iter(TokenPaginator(fetch_token, endpoint=f"GET {path}"))

    def fetch_offset(start_at: int, max_results: int) -> Page:
        params = {"jql": jql, "fields": fields, "maxResults": max_results, "startAt": start_at}
        return get("/rest/api/2/search", params=params)

    return iter(OffsetPaginator(fetch_offset, page_size=page_size))
