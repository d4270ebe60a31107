"""Writes to Jira: labels and comments on issues (what lint write-back needs), plus the reads it relies on.

Cloud is written through API v3 with comment bodies in Atlassian Document Format; Data Center through
API v2 with wiki text. Endpoints (shapes as in Atlassian's OpenAPI documents):

==========================================================  ===========================================
``PUT /rest/api/{3|2}/issue/{key}``                         ``{"update": {"labels": [{"add": l}]}}`` or
                                                            ``[{"remove": l}]`` → 204
``GET /rest/api/{3|2}/issue/{key}/comment?startAt=``        page of ``comments`` with ``total``
``POST /rest/api/{3|2}/issue/{key}/comment``                ``{"body": …}`` → 201 and the comment
``PUT /rest/api/{3|2}/issue/{key}/comment/{id}``            ``{"body": …}`` → 200 and the comment
``DELETE /rest/api/{3|2}/issue/{key}/comment/{id}``         → 204
``GET /rest/api/3/search/jql`` / ``GET /rest/api/2/search``  ``fields=labels``, token / ``startAt`` paging
==========================================================  ===========================================

Every request goes through :class:`~connectors.jira.transport.Transport`: paced per endpoint, 429s
waited out (``Retry-After`` plus backoff), 5xx and resets retried. A retried ``POST`` whose first
answer was lost can leave a comment twice; callers that keep one comment per issue recognise their
comments by a marker and delete the extras on their next run.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from .errors import JiraNotFoundError
from .normalize import adf_to_text
from .paginators import OffsetPaginator, search_pages
from .settings import JiraSettings
from .transport import Transport

#: A comment is a list of blocks: a string is a paragraph, a sequence of strings a bullet list.
CommentBlocks = Sequence["str | Sequence[str]"]

SEARCH_PAGE = 100
COMMENT_PAGE = 100


@dataclass(frozen=True)
class IssueLabels:
    """One issue's id, key and current labels, as a search returns them."""

    id: int
    key: str
    labels: tuple[str, ...]


@dataclass(frozen=True)
class IssueComment:
    """One comment: its id and its body as plain text (ADF flattened, wiki text as is), lines kept."""

    id: str
    text: str

    @property
    def first_line(self) -> str:
        """The first non-blank line of the text (where a marker goes)."""
        return next((line.strip() for line in self.text.splitlines() if line.strip()), "")


def comment_adf(blocks: CommentBlocks) -> dict[str, Any]:
    """The blocks as an ADF document (Cloud v3 comment ``body``)."""
    content: list[dict[str, Any]] = []
    for block in blocks:
        if isinstance(block, str):
            content.append(_adf_paragraph(block))
        else:
            items = [{"type": "listItem", "content": [_adf_paragraph(item)]} for item in block]
            content.append({"type": "bulletList", "content": items})
    return {"type": "doc", "version": 1, "content": content}


def _adf_paragraph(text: str) -> dict[str, Any]:
    return {"type": "paragraph", "content": [{"type": "text", "text": text}] if text else []}


def comment_wiki(blocks: CommentBlocks) -> str:
    """The blocks as Jira wiki text (Data Center v2 comment ``body``): paragraphs apart, ``* `` bullets."""
    parts = [_wiki_escape(block) if isinstance(block, str) else "\n".join(f"* {_wiki_escape(item)}" for item in block)
             for block in blocks]
    return "\n\n".join(parts)


def _wiki_escape(text: str) -> str:
    # Braces open macros ({code}) and brackets links ([text|url]): keep them literal.
    return "".join("\\" + c if c in "{}[]" else c for c in text)


def comment_text(body: Any) -> str:
    """A comment body from either API as plain text."""
    return adf_to_text(body) if isinstance(body, dict) else str(body or "")


class JiraWriter:
    """Reads labels and comments of issues and changes them, on one Cloud or Data Center site.

    ``issue`` arguments are keys or ids. Errors are the connector's: :class:`JiraAuthError` (401/403),
    :class:`JiraNotFoundError` (404), :class:`JiraHTTPError` (other 4xx, with Jira's own messages),
    :class:`JiraServerError` (still failing after every retry).
    """

    def __init__(self, settings: JiraSettings, *, transport: Transport | None = None,
                 max_concurrency: int = 4) -> None:
        self.settings = settings
        self.transport = transport or Transport(settings, max_concurrency=max_concurrency)
        self._cloud: bool | None = None if settings.deployment is None else settings.deployment == "cloud"

    def __repr__(self) -> str:
        return f"JiraWriter(url={self.settings.url!r})"

    def __enter__(self) -> "JiraWriter":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Release the HTTP sessions."""
        self.transport.close()

    @property
    def stats(self) -> Any:
        """Request counters (:class:`~connectors.jira.transport.RequestStats`)."""
        return self.transport.stats

    @property
    def is_cloud(self) -> bool:
        """Whether the site is Jira Cloud (``JIRA_DEPLOYMENT``, else ``serverInfo``, asked once)."""
        if self._cloud is None:
            info = self.transport.get("/rest/api/2/serverInfo") or {}
            self._cloud = str(info.get("deploymentType") or "").casefold() == "cloud"
        return self._cloud

    @property
    def api(self) -> int:
        """The REST API version written to: 3 on Cloud (ADF bodies), 2 on Data Center (wiki text)."""
        return 3 if self.is_cloud else 2

    def _issue(self, issue: str | int) -> str:
        return f"/rest/api/{self.api}/issue/{issue}"

    # -- reads ----------------------------------------------------------------------------------
    def search_labels(self, jql: str) -> Iterator[IssueLabels]:
        """Every issue matching ``jql`` with its labels, each once."""
        pages = search_pages(self.transport.get, jql, "labels", cloud=self.is_cloud, page_size=SEARCH_PAGE)
        for page in pages:
            for raw in page:
                labels = (raw.get("fields") or {}).get("labels") or []
                yield IssueLabels(int(raw["id"]), str(raw.get("key") or ""), tuple(str(x) for x in labels))

    def comments(self, issue: str | int) -> list[IssueComment]:
        """Every comment of ``issue``, oldest first (``startAt`` paging until ``total``)."""
        path = self._issue(issue) + "/comment"

        def fetch(start_at: int, max_results: int, check: Any = None) -> dict[str, Any]:
            params = {"startAt": start_at, "maxResults": max_results, "orderBy": "created"}
            return self.transport.get(path, params=params, check=check)

        out: list[IssueComment] = []
        pager = OffsetPaginator(fetch, page_size=COMMENT_PAGE, items_key="comments", endpoint=f"GET {path}")
        for page in pager:
            out.extend(IssueComment(str(c["id"]), comment_text(c.get("body"))) for c in page)
        return out

    # -- writes ---------------------------------------------------------------------------------
    def add_label(self, issue: str | int, label: str) -> None:
        """Add ``label`` to ``issue`` (adding a label it has is a no-op in Jira)."""
        self.transport.request("PUT", self._issue(issue), body={"update": {"labels": [{"add": label}]}})

    def remove_label(self, issue: str | int, label: str) -> None:
        """Remove ``label`` from ``issue`` (removing one it lacks is a no-op in Jira)."""
        self.transport.request("PUT", self._issue(issue), body={"update": {"labels": [{"remove": label}]}})

    def _body(self, blocks: CommentBlocks) -> dict[str, Any]:
        return {"body": comment_adf(blocks) if self.is_cloud else comment_wiki(blocks)}

    def add_comment(self, issue: str | int, blocks: CommentBlocks) -> IssueComment:
        """Post a comment made of ``blocks``; return it as Jira stored it."""
        raw = self.transport.post(self._issue(issue) + "/comment", self._body(blocks)) or {}
        return IssueComment(str(raw.get("id") or ""), comment_text(raw.get("body")))

    def update_comment(self, issue: str | int, comment_id: str, blocks: CommentBlocks) -> IssueComment:
        """Replace the body of comment ``comment_id``."""
        raw = self.transport.request("PUT", f"{self._issue(issue)}/comment/{comment_id}", body=self._body(blocks)) or {}
        return IssueComment(str(raw.get("id") or comment_id), comment_text(raw.get("body")))

    def delete_comment(self, issue: str | int, comment_id: str) -> None:
        """Delete comment ``comment_id``; one that is already gone counts as deleted."""
        try:
            self.transport.request("DELETE", f"{self._issue(issue)}/comment/{comment_id}")
        except JiraNotFoundError:
            # A retried DELETE whose first answer was lost finds nothing left to delete.
            if not self._issue_exists(issue):
                raise

    def _issue_exists(self, issue: str | int) -> bool:
        try:
            self.transport.get(self._issue(issue), params={"fields": "labels"})
        except JiraNotFoundError:
            return False
        return True
