"""Paginators, one small class per paging scheme (singer-sdk style).

Both iterate pages (lists of items) and believe no page blindly. Each page is checked before it is
used — its shape, its position (Data Center ``startAt``), and that it repeats no item already read
in this read — and a page that fails is a fault: the fetch function receives the check as
``check=`` and hands it to the transport, which retries the request until an answer passes or fails
loudly (:class:`~connectors.jira.errors.JiraAnswerError`). A fetch function that ignores ``check``
still gets its pages checked here, and a bad one raises at once.

After the last page, ``read`` is the number of distinct items read and (Data Center) ``total`` the
server's own count, so a caller can prove the read complete before it deletes anything.
"""

from __future__ import annotations

from collections.abc import Callable, Generator, Hashable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, wait
from typing import Any

from .errors import BadAnswer, JiraAnswerError

Page = dict[str, Any]
Check = Callable[[Any], None]


def _issue_id(item: dict[str, Any]) -> Hashable:
    return item.get("id")


def _ids_summary(ids: list[Hashable], limit: int = 5) -> str:
    shown = ", ".join(str(i) for i in ids[:limit])
    more = f" and {len(ids) - limit} more" if len(ids) > limit else ""
    return f"{len(ids)} id(s) ({shown}{more})"


def _items(page: Any, items_key: str, where: str) -> list[Any]:
    """The item list of a page, or :class:`BadAnswer` when the page is not a JSON object with one."""
    if not isinstance(page, dict):
        raise BadAnswer(f"a {type(page).__name__} where a page object was expected", asked=where,
                        got=f"a JSON {type(page).__name__}")
    items = page.get(items_key)
    if items is None:
        items = []
    if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
        raise BadAnswer(f"a page whose '{items_key}' is not a list of objects", asked=where)
    return items


class _Seen:
    """Items already read in one paged read, by key: a page repeating any of them is refused."""

    def __init__(self, key: Callable[[dict[str, Any]], Hashable] | None) -> None:
        self.key = key
        self.ids: set[Hashable] = set()

    def check(self, items: list[dict[str, Any]], where: str) -> list[Hashable]:
        """The keys of ``items``; raises :class:`BadAnswer` when the page repeats itself or earlier pages."""
        if self.key is None:
            return []
        keys = [self.key(i) for i in items]
        if any(k is None for k in keys):
            raise BadAnswer("a page with items that carry no id", asked=where)
        repeated = [k for k in keys if k in self.ids]
        if repeated or len(set(keys)) != len(keys):
            raise BadAnswer(f"a page repeating {len(repeated) or len(keys) - len(set(keys))} item(s) already read "
                            "(a replayed or shifted page)", asked=where, got=_ids_summary(repeated or keys))
        return keys

    def add(self, keys: list[Hashable]) -> None:
        self.ids.update(keys)


def _fail(exc: BadAnswer, endpoint: str) -> JiraAnswerError:
    asked = f" Asked: {exc.asked}." if exc.asked else ""
    got = f" Got: {exc.got}." if exc.got else ""
    return JiraAnswerError(f"{endpoint or 'a paged endpoint'} answered {exc.problem}; the answer cannot be "
                           f"believed, so the read stops here.{asked}{got}", endpoint=endpoint)


class _Paginator:
    """What both paginators hold: the page reader, where the items are, how an item is told apart, counts.

    ``items_key``: the list of items in a page; ``key(item)``: its identity (repeats are refused;
    None: not checked); ``endpoint``: named in errors; ``check_items(items)``: the caller's own check.
    """

    def __init__(
        self,
        fetch_page: Callable[..., Page],
        *,
        items_key: str = "issues",
        key: Callable[[dict[str, Any]], Hashable] | None = _issue_id,
        endpoint: str = "",
        check_items: Callable[[list[dict[str, Any]]], None] | None = None,
    ) -> None:
        self.fetch_page = fetch_page
        self.items_key = items_key
        self.key = key
        self.endpoint = endpoint
        self.check_items = check_items
        #: Pages and items read so far.
        self.pages = 0
        self.read = 0


class TokenPaginator(_Paginator):
    """Cloud ``nextPageToken`` paging (``/rest/api/3/search/jql``, ``changelog/bulkfetch``).

    ``fetch_page(token, check=…)`` is called with ``None`` first, then with each ``nextPageToken``
    until the response says ``isLast`` (or, with ``needs_is_last=False``, carries no token). A page is
    refused when it is not an object with a list of items, repeats an item already read, hands back a
    token already given ("loop detected"), or says it is not the last without giving a token.
    """

    def __init__(self, fetch_page: Callable[..., Page], *, needs_is_last: bool = False, **options: Any) -> None:
        super().__init__(fetch_page, **options)
        self.needs_is_last = needs_is_last

    def __iter__(self) -> Iterator[list[dict[str, Any]]]:
        seen_tokens: set[str] = set()
        seen = _Seen(self.key)
        token: str | None = None
        while True:
            where = f"page {self.pages + 1}" + (f" (nextPageToken {token[:16]}…)" if token else "")

            def check(page: Any, where: str = where) -> None:
                items = _items(page, self.items_key, where)
                seen.check(items, where)
                if self.check_items is not None:
                    self.check_items(items)
                nxt = page.get("nextPageToken")
                if nxt is not None and not isinstance(nxt, str):
                    raise BadAnswer("a nextPageToken that is not a string", asked=where)
                if nxt and nxt in seen_tokens | ({token} if token else set()):
                    raise BadAnswer(f"nextPageToken {nxt[:16]}… a second time (loop detected)", asked=where)
                last = page.get("isLast")
                if last is False and not nxt:
                    raise BadAnswer("a page that is not the last but gives no nextPageToken", asked=where)
                if self.needs_is_last and last is None and not nxt:
                    raise BadAnswer("a page without isLast", asked=where)

            page = self.fetch_page(token, check=check)
            try:
                check(page)
            except BadAnswer as exc:
                raise _fail(exc, self.endpoint) from None
            items = page.get(self.items_key) or []
            keys = seen.check(items, where)
            seen.add(keys)
            self.pages += 1
            self.read += len(items)
            yield items
            nxt = page.get("nextPageToken")
            if page.get("isLast") or not nxt:
                return
            if token:
                seen_tokens.add(token)
            token = nxt


class OffsetPaginator(_Paginator):
    """Data Center ``startAt`` paging (``/rest/api/2/search``, comment lists).

    ``fetch_page(start_at, max_results, check=…)`` returns a page. The page size is read back from
    each response (``maxResults``) and the offset advances by the number of items actually returned,
    so a server that caps the page size or returns a short page loses nothing. A page is refused
    when its ``startAt`` is not the one asked, when it is empty before ``total`` is reached, or when
    it repeats an item already read. Stops at ``total`` or, without one, at an empty page.
    ``check_items(items)`` may add the caller's own check (e.g. only the ids asked).

    With ``submit`` (an executor's ``submit``), the pages after the first — whose ``total`` and
    ``maxResults`` say where every other page starts — are asked for in parallel, at most
    ``in_flight`` at a time, and yielded as they arrive (not in offset order). A short page gets the
    gap after it asked for at once; issues the count gained during the read are read after the
    planned pages, one page after another as without ``submit``.

    After the read, ``total`` is the server's count (the largest any page gave) and ``shrank`` says
    whether a page counted fewer than an earlier answer did: issues left the result while it was
    read, so later pages may have shifted past one that no count reveals — such a read proves
    nothing about completeness.
    """

    def __init__(self, fetch_page: Callable[..., Page], *, page_size: int = 1000,
                 submit: Callable[..., Future[Any]] | None = None, in_flight: int = 8, **options: Any) -> None:
        super().__init__(fetch_page, **options)
        self.page_size = page_size
        self.submit = submit
        self.in_flight = max(1, in_flight)
        #: The server's count from the pages (None when it gives none).
        self.total: int | None = None
        #: Whether a page counted fewer issues than an earlier page (see the class docstring).
        self.shrank = False
        self._seen = _Seen(self.key)

    def _check(self, start_at: int, page_size: int, *, repeats: bool = True) -> Check:
        where = f"startAt={start_at}, maxResults={page_size}"

        def check(page: Any) -> None:
            items = _items(page, self.items_key, where)
            answered = page.get("startAt")
            if answered is not None and answered != start_at:
                raise BadAnswer(f"startAt={answered!r} for a request of startAt={start_at}", asked=where)
            total = page.get("total")
            if total is not None and (not isinstance(total, int) or total < 0):
                raise BadAnswer(f"total={total!r}, not a count", asked=where)
            if not items and isinstance(total, int) and start_at < total:
                raise BadAnswer(f"an empty page while total={total} says more follow", asked=where,
                                got="no items")
            if repeats:
                self._seen.check(items, where)
            else:
                # Pages read in parallel are checked against each other when they arrive, in one thread.
                _Seen(self.key).check(items, where)
            if self.check_items is not None:
                self.check_items(items)

        return check

    def _read(self, start_at: int, page_size: int, *, repeats: bool = True) -> Page:
        """One page, checked (the check handed to the fetch, which may retry); a page that fails raises."""
        check = self._check(start_at, page_size, repeats=repeats)
        page = self.fetch_page(start_at, page_size, check=check)
        try:
            check(page)
        except BadAnswer as exc:
            raise _fail(exc, self.endpoint) from None
        return page

    def _count(self, page: Page) -> None:
        total = page.get("total")
        if isinstance(total, int):
            if self.total is not None and total < self.total:
                self.shrank = True
            self.total = total if self.total is None else max(self.total, total)

    def _accept(self, page: Page, start_at: int, page_size: int) -> list[dict[str, Any]]:
        """The page's items once they repeat nothing read before (a repeating page is asked again once)."""
        raw = page.get(self.items_key) or []
        where = f"startAt={start_at}, maxResults={page_size}"
        try:
            keys = self._seen.check(raw, where)
        except BadAnswer:
            # A stale answer, or the result moved under the read: ask again, now checked against
            # everything read, so the transport retries it; still repeating, it fails.
            page = self._read(start_at, page_size)
            self._count(page)
            raw = page.get(self.items_key) or []
            keys = self._seen.check(raw, where)
        self._seen.add(keys)
        self.pages += 1
        self.read += len(raw)
        return raw

    def __iter__(self) -> Iterator[list[dict[str, Any]]]:
        start_at = 0
        page_size = self.page_size
        while True:
            page = self._read(start_at, page_size)
            self._count(page)
            raw = self._accept(page, start_at, page_size)
            if not raw:
                return
            yield raw
            # The server's effective page size may be smaller than asked: ask for that from now on.
            effective = page.get("maxResults")
            if isinstance(effective, int) and 0 < effective < page_size:
                page_size = effective
            start_at += len(raw)
            if self.total is not None and start_at >= self.total:
                return
            if self.submit is not None and self.total is not None:
                start_at = yield from self._parallel(start_at, page_size)
                if start_at >= (self.total or 0):
                    return

    def _parallel(self, start_at: int, page_size: int) -> Generator[list[dict[str, Any]], None, int]:
        """Every page from ``start_at`` to the count known now, in parallel; returns where reading stopped."""
        assert self.submit is not None and self.total is not None
        total = self.total
        planned = [(at, page_size) for at in range(start_at, total, page_size)]
        waiting: dict[Future[Page], tuple[int, int]] = {}
        end = start_at
        try:
            while planned or waiting:
                while planned and len(waiting) < self.in_flight:
                    at, size = planned.pop(0)
                    waiting[self.submit(self._read, at, size, repeats=False)] = (at, size)
                done, _ = wait(list(waiting), return_when=FIRST_COMPLETED)
                for fut in sorted(done, key=lambda f: waiting[f][0]):
                    at, size = waiting.pop(fut)
                    page = fut.result()
                    self._count(page)
                    raw = self._accept(page, at, size)
                    end = max(end, at + len(raw))
                    counted = page.get("total")
                    limit = counted if isinstance(counted, int) else total
                    # A short page: the issues after it were asked for by no planned page.
                    if raw and len(raw) < size and at + len(raw) < limit:
                        planned.insert(0, (at + len(raw), size - len(raw)))
                    if raw:
                        yield raw
        finally:
            for fut in waiting:
                fut.cancel()
        return end


def search_pager(get: Callable[..., Page], jql: str, fields: str, *, cloud: bool, page_size: int,
                 check_items: Callable[[list[dict[str, Any]]], None] | None = None,
                 submit: Callable[..., Future[Any]] | None = None, in_flight: int = 8,
                 params: dict[str, Any] | None = None) -> TokenPaginator | OffsetPaginator:
    """A paginator over the issues matching ``jql`` with ``fields``, from the site's search endpoint.

    Cloud: ``GET /rest/api/3/search/jql`` with token paging; Data Center: ``GET /rest/api/2/search``
    with ``startAt`` paging (the page size read back). ``get(path, params=…, check=…)`` sends one
    request; ``check_items`` adds the caller's check of each page's issues; ``params`` are sent with
    every request (e.g. ``expand``). On Data Center, ``submit`` reads the pages after the first in
    parallel (see :class:`OffsetPaginator`). Iterate it for pages; afterwards ``read`` (and on Data
    Center ``total``) say how many.
    """
    if cloud:
        path = "/rest/api/3/search/jql"

        def fetch_token(token: str | None, check: Check | None = None) -> Page:
            query: dict[str, Any] = {**(params or {}), "jql": jql, "fields": fields, "maxResults": page_size}
            if token:
                query["nextPageToken"] = token
            return get(path, params=query, check=check)

        return TokenPaginator(fetch_token, endpoint=f"GET {path}", needs_is_last=True, check_items=check_items)

    def fetch_offset(start_at: int, max_results: int, check: Check | None = None) -> Page:
        query = {**(params or {}), "jql": jql, "fields": fields, "maxResults": max_results, "startAt": start_at}
        return get("/rest/api/2/search", params=query, check=check)

    return OffsetPaginator(fetch_offset, page_size=page_size, endpoint="GET /rest/api/2/search",
                           check_items=check_items, submit=submit, in_flight=in_flight)


def search_pages(get: Callable[..., Page], jql: str, fields: str, *, cloud: bool,
                 page_size: int) -> Iterator[list[Any]]:
    """Pages of issues matching ``jql`` with ``fields``, each issue once (see :func:`search_pager`)."""
    return iter(search_pager(get, jql, fields, cloud=cloud, page_size=page_size))
