"""The local Jira HTTP server: answers like Jira Cloud or Data Center, serving a :class:`SampleOrg`.

Page-size caps (read them back, as with the real Jira):

- Cloud ``/rest/api/3/search/jql``: default 50; at most 5000 when only ``id``/``key``/``updated``/
  ``created`` are requested without expand, else 100. Embedded changelog: newest 100 histories.
- Cloud ``/rest/api/3/issue/bulkfetch``: at most 100 ids; embedded changelog: newest 40 histories.
- Cloud ``/rest/api/3/changelog/bulkfetch``: at most 1000 ids, 10 fieldIds; 1000 histories per page
  whatever ``maxResults`` asks (no field reports it: follow ``nextPageToken``).
- Data Center ``/rest/api/2/search``: default 50, at most 1000 (reported back in ``maxResults``);
  embedded changelog is complete (unless the fault ``embedded_changelog_cap`` cuts it). Each read is
  matched afresh at ``startAt=0``; its later pages reuse that match while the organisation is
  unchanged, as a search index answers them (any change through the organisation matches afresh).
- ``/rest/api/2/worklog/updated`` and ``/deleted``: 1000 per page; ``worklog/list`` at most 1000 ids.
- ``GET /rest/api/{2|3}/issue/{idOrKey}/comment``: ``startAt`` paging; at most 100 per page on v3, 5000
  on v2. Cloud reports the page size in ``maxResults``, Data Center the number of comments returned.

Edits (both flavours; Cloud under v2 and v3, Data Center under v2):

- ``PUT /rest/api/{2|3}/issue/{idOrKey}`` with ``{"update": {"labels": [{"add"|"remove"|"set": …}]}}`` or
  ``{"fields": {"labels": […]}}``: 204 (200 with the issue when ``returnIssue=true``); a real change moves
  ``updated`` and records a ``labels`` history. Any other field, a label with spaces or a body without
  ``fields``/``update`` is a 400 in Jira's ``errors`` shape.
- ``POST …/comment`` (201), ``GET``/``PUT …/comment/{id}`` (200), ``DELETE …/comment/{id}`` (204): the body
  is an ADF document on v3 and wiki text on v2; each change moves ``updated`` (comments have no history).
- Unknown issue or comment: 404. The fault ``fail_issues`` makes edits of the named issues answer 500.

The faults ``max_page_size``, ``short_page_rate`` and ``repeat_token`` (see :class:`Faults`) bend the
search pages further: lower caps, short pages that are not the last, a repeated ``nextPageToken``.
"""

from __future__ import annotations

import base64
import bisect
import hashlib
import json
import re
import socket
import struct
import threading
import time
from collections import Counter, OrderedDict
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from rollup.localjira import jql as jqlmod
from rollup.localjira.credentials import demo_credentials
from rollup.localjira.faults import Faults
from rollup.localjira.render import BOT_ACCOUNT_ID, BOT_DISPLAY_NAME, BOT_EMAIL, BOT_KEY, BOT_NAME, Renderer
from rollup.localjira.sampleorg import API_USER, SampleOrg

LIGHT_FIELDS = frozenset({"id", "key", "updated", "created"})
GONE = ("The requested API has been removed. Please migrate to the /rest/api/3/search/jql API. A full "
        "migration guideline is available at https://developer.atlassian.com/changelog/#CHANGE-2046")
UNBOUNDED = "Unbounded JQL queries are not allowed here. Please add a search restriction to your query."
NO_ISSUE = "Issue does not exist or you do not have permission to see it."
#: Comment page caps per API version.
COMMENT_PAGE_CAP = {2: 5000, 3: 100}
_ISSUE_PATH = re.compile(r"^/rest/api/(2|3)/issue/([^/]+)(?:/(comment)(?:/([^/]+))?)?$")


class JiraError(Exception):
    """An error answered in Jira's shape: {"errorMessages": [...], "errors": {field: message}}."""

    def __init__(self, status: int, message: str, headers: dict | None = None,
                 errors: dict[str, str] | None = None) -> None:
        super().__init__(message or "; ".join(f"{k}: {v}" for k, v in (errors or {}).items()))
        self.status, self.message, self.headers, self.errors = status, message, headers or {}, errors or {}

    def body(self) -> dict:
        """The error in Jira's JSON shape."""
        return {"errorMessages": [self.message] if self.message else [], "errors": self.errors}


def _b64(obj: Any) -> str:
    return base64.urlsafe_b64encode(json.dumps(obj, separators=(",", ":")).encode()).decode().rstrip("=")


def _unb64(token: str) -> Any:
    try:
        return json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
    except Exception as exc:  # noqa: BLE001 - any garbage token is the client's error
        raise JiraError(400, "The provided next page token is invalid or expired.") from exc


class LocalJira:
    """A Jira Cloud or Data Center look-alike on a local port.

    Every Jira endpoint requires credentials, as a real site does: by default the sample
    organisation's demo credentials (:mod:`rollup.localjira.credentials`: Basic with the demo email
    and API token on Cloud, the demo Bearer PAT on Data Center); ``credentials`` names others —
    ``("email", "api-token")`` for that Basic auth, a string for that Bearer token.
    ``require_auth=False`` accepts any request, with or without credentials. Anything else answers
    401. The ``/_local`` control endpoints need none. ``forbidden`` paths answer 403.
    ``language`` (``en``, ``de``, ``zh``) serves a site whose custom fields are named in that language,
    as Jira keeps them: Cloud with the English name in ``untranslatedName``, Data Center in the clause
    names. ``field_names`` (role → name) renames fields with no trace of the standard name.
    Use ``with LocalJira(org) as jira: jira.url`` or ``start()`` / ``stop()``.
    """

    def __init__(self, org: SampleOrg, flavour: str = "cloud", faults: Faults | None = None, port: int = 0,
                 credentials: tuple[str, str] | str | None = None, host: str = "127.0.0.1",
                 time_zone: str = "America/Los_Angeles", forbidden: tuple[str, ...] = (),
                 require_auth: bool = True, language: str = "en", field_names: dict[str, str] | None = None) -> None:
        if flavour not in ("cloud", "datacenter"):
            raise ValueError(f"flavour must be 'cloud' or 'datacenter', not {flavour!r}")
        if credentials is not None and not require_auth:
            raise ValueError("credentials name what to require; they cannot be given with require_auth=False")
        self.org = org
        self.flavour = flavour
        self.cloud = flavour == "cloud"
        self.faults = faults or Faults()
        #: What a request must authenticate with; None when any request is accepted.
        self.credentials = (credentials or demo_credentials(flavour)) if require_auth else None
        self.time_zone = time_zone
        self.forbidden = forbidden
        self.stats: Counter = Counter()
        self.throttled: Counter = Counter()
        self.errors: Counter = Counter()
        #: Requests being answered now, and the most at once, by endpoint.
        self.in_flight: Counter = Counter()
        self.peak_in_flight: Counter = Counter()
        self._stats_lock = threading.Lock()
        self._snapshots: OrderedDict[str, list[int]] = OrderedDict()
        self._hits_cache: OrderedDict[tuple[str, int, int], list[int]] = OrderedDict()
        self._snap_lock = threading.Lock()
        self._snap_counter = 0
        self._last_answer: dict[str, Any] = {}
        self._httpd = ThreadingHTTPServer((host, port), _Handler)
        self._httpd.daemon_threads = True
        self._httpd.app = self  # type: ignore[attr-defined]
        self.port = self._httpd.server_address[1]
        self.url = f"http://{host}:{self.port}"
        self.render = Renderer(org, flavour, self.url, time_zone, language=language, field_names=field_names)
        self._thread: threading.Thread | None = None

    # ------------------------------------------------------------------ lifecycle
    def start(self) -> "LocalJira":
        """Serve in a background daemon thread."""
        self._thread = threading.Thread(target=self._httpd.serve_forever, name="localjira", daemon=True)
        self._thread.start()
        return self

    def serve_forever(self) -> None:
        """Serve in this thread until interrupted (the CLI)."""
        try:
            self._httpd.serve_forever()
        finally:
            self._httpd.server_close()

    def stop(self) -> None:
        """Stop serving and wait for the background thread."""
        self._httpd.shutdown()
        self._httpd.server_close()
        if self._thread:
            self._thread.join(timeout=5)

    def __enter__(self) -> "LocalJira":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def stats_snapshot(self) -> dict:
        """Requests, throttled answers and errors so far, by endpoint and in total."""
        with self._stats_lock:
            return {"requests": sum(self.stats.values()), "by_endpoint": dict(self.stats),
                    "throttled": dict(self.throttled), "throttled_total": sum(self.throttled.values()),
                    "errors": dict(self.errors), "peak_in_flight": dict(self.peak_in_flight)}

    # ------------------------------------------------------------------ routing
    def endpoint(self, method: str, path: str) -> str:
        """The endpoint a request counts under, with issue keys and ids replaced by placeholders."""
        parts = path.rstrip("/").split("/")
        if len(parts) == 6 and parts[1:4] == ["rest", "api", parts[3]] and parts[4] == "issue" \
                and parts[5] != "bulkfetch":
            return f"{method} /rest/api/{parts[3]}/issue/{{idOrKey}}"
        if len(parts) in (7, 8) and parts[1:3] == ["rest", "api"] and parts[4] == "issue" and parts[6] == "comment":
            tail = "/{id}" if len(parts) == 8 else ""
            return f"{method} /rest/api/{parts[3]}/issue/{{idOrKey}}/comment{tail}"
        return f"{method} {path.rstrip('/')}"

    def failing_edit(self, method: str, path: str) -> bool:
        """Whether this request edits an issue named in the ``fail_issues`` fault (it then answers 500)."""
        if method == "GET" or not self.faults.fail_issues:
            return False
        m = _ISSUE_PATH.match(path.rstrip("/"))
        if not m:
            return False
        with self.org.lock:
            pos = self.org.position(m.group(2))
            if pos is None:
                return False
            names = {self.org.key(pos), str(self.org.issue_id(pos))}
        return bool(names.intersection(str(i).upper() for i in self.faults.fail_issues))

    def check_auth(self, headers: Any) -> None:
        """Raise a 401 unless the request carries the required credentials (nothing is required when None)."""
        if self.credentials is None:
            return
        auth = headers.get("Authorization", "")
        ok = False
        if isinstance(self.credentials, tuple) and auth.startswith("Basic "):
            try:
                user, _, token = base64.b64decode(auth[6:]).decode().partition(":")
                ok = (user, token) == tuple(self.credentials)
            except Exception:  # noqa: BLE001
                ok = False
        elif isinstance(self.credentials, str) and auth.startswith("Bearer "):
            ok = auth[7:] == self.credentials
        if not ok:
            raise JiraError(401, "Client must be authenticated to access this resource.",
                            {"WWW-Authenticate": 'Basic realm="protected-area"' if self.cloud else
                             'OAuth realm="Jira"', "X-Seraph-LoginReason": "AUTHENTICATED_FAILED"})

    def handle(self, method: str, raw_path: str, headers: Any, body: bytes) -> tuple[int, dict, Any, int]:
        """Answer one Jira request: (status, headers, JSON body, full issues rendered)."""
        split = urlsplit(raw_path)
        path = split.path.rstrip("/") or "/"
        q = {k: v[-1] for k, v in parse_qs(split.query, keep_blank_values=True).items()}
        data: Any = {}
        if method in ("POST", "PUT") and body:
            try:
                data = json.loads(body)
            except ValueError as exc:
                raise JiraError(400, f"Invalid request payload. Refer to the REST API documentation and try "
                                     f"again. ({exc})") from exc
        if any(path.startswith(f) for f in self.forbidden):
            raise JiraError(403, "You do not have permission to perform this operation.")
        cloud = self.cloud
        r = self.render
        with self.org.lock:
            if path in ("/rest/api/2/serverInfo", "/rest/api/3/serverInfo") and (cloud or "/2/" in path):
                return 200, {}, self.server_info(), 0
            if path in ("/rest/api/2/myself", "/rest/api/3/myself") and (cloud or "/2/" in path):
                return 200, {}, self.myself(), 0
            if path in ("/rest/api/2/status", "/rest/api/3/status") and (cloud or "/2/" in path):
                return 200, {}, r.statuses(), 0
            if path in ("/rest/api/2/field", "/rest/api/3/field") and (cloud or "/2/" in path):
                return 200, {}, r.field_catalogue(), 0
            if path in ("/rest/api/2/project", "/rest/api/3/project") and method == "GET" and (cloud or "/2/" in path):
                return 200, {}, r.project_list(), 0
            if path in ("/rest/api/2/search", "/rest/api/3/search"):
                if cloud:
                    raise JiraError(410, GONE)
                if "/3/" in path:
                    raise JiraError(404, "null for uri: " + self.url + path)
                return self.dc_search(q if method == "GET" else data)
            if cloud and path in ("/rest/api/2/search/jql", "/rest/api/3/search/jql"):
                # Cloud serves enhanced search under both versions; v2 renders descriptions as wiki text.
                return self.cloud_search(q if method == "GET" else data, method, 3 if "/3/" in path else 2)
            if cloud and path == "/rest/api/3/search/approximate-count" and method == "POST":
                return self.approximate_count(data)
            if cloud and path == "/rest/api/3/issue/bulkfetch" and method == "POST":
                return self.bulkfetch(data)
            if cloud and path == "/rest/api/3/changelog/bulkfetch" and method == "POST":
                return self.changelog_bulkfetch(data)
            if path.startswith(("/rest/api/2/issue/", "/rest/api/3/issue/")) and method == "GET" \
                    and path.count("/") == 5 and (cloud or "/2/" in path):
                return self.get_issue(path.rsplit("/", 1)[1], q, 3 if "/3/" in path else 2)
            edit = _ISSUE_PATH.match(path)
            if edit and (cloud or edit.group(1) == "2"):
                api, ident, comments, comment_id = int(edit.group(1)), edit.group(2), edit.group(3), edit.group(4)
                if not comments and method == "PUT":
                    return self.edit_issue(ident, data, q, api)
                if comments and comment_id is None and method in ("GET", "POST"):
                    return self.list_comments(ident, q, api) if method == "GET" else \
                        self.add_comment(ident, data, api)
                if comment_id is not None and method in ("GET", "PUT", "DELETE"):
                    return self.one_comment(method, ident, comment_id, data, api)
            if path in ("/rest/api/2/worklog/updated", "/rest/api/3/worklog/updated") and (cloud or "/2/" in path):
                return 200, {}, self.worklogs_changed(q, path, deleted=False), 0
            if path in ("/rest/api/2/worklog/deleted", "/rest/api/3/worklog/deleted") and (cloud or "/2/" in path):
                return 200, {}, self.worklogs_changed(q, path, deleted=True), 0
            if path in ("/rest/api/2/worklog/list", "/rest/api/3/worklog/list") and method == "POST" \
                    and (cloud or "/2/" in path):
                return self.worklog_list(data, 3 if "/3/" in path else 2)
        raise JiraError(404, f"null for uri: {self.url}{path}")

    def handle_local(self, method: str, raw_path: str, body: bytes) -> tuple[int, Any]:
        """The control endpoints under ``/_local``."""
        path = urlsplit(raw_path).path.rstrip("/")
        data = json.loads(body) if body else {}
        if path == "/_local/advance" and method == "POST":
            out = self.org.advance(days=float(data.get("days", 1)), seed=data.get("seed"))
            with self._snap_lock:
                self._snapshots.clear()
            return 200, out
        if path == "/_local/faults" and method == "POST":
            try:
                self.faults.update(**data)
            except ValueError as exc:
                return 400, {"errorMessages": [str(exc)], "errors": {}}
            return 200, self.faults.settings()
        if path == "/_local/faults" and method == "GET":
            return 200, self.faults.settings()
        if path == "/_local/ground-truth":
            return 200, self.org.ground_truth
        if path == "/_local/stats":
            return 200, self.stats_snapshot()
        return 404, {"errorMessages": [f"no control endpoint {method} {path}"], "errors": {}}

    def _count_fault(self, name: str) -> None:
        with self._stats_lock:
            self.errors[name] += 1

    def odd_answer(self, endpoint: str, out: Any) -> Any:
        """``out``, or the odd answer a fault asks for: an empty field list, or the endpoint's previous answer."""
        faults = self.faults
        if endpoint.endswith("/field") and faults.chance("empty-fields", endpoint, faults.empty_fields_rate):
            with self._stats_lock:
                self.errors["empty-fields"] += 1
            return []
        if endpoint.endswith(_STALE_PRONE):
            with self._stats_lock:
                previous = self._last_answer.get(endpoint)
                self._last_answer[endpoint] = out
            if previous is not None and faults.chance("stale", endpoint, faults.stale_rate):
                with self._stats_lock:
                    self.errors["stale"] += 1
                return previous
        return out

    def approximate_count(self, data: dict) -> tuple[int, dict, Any, int]:
        """``POST /rest/api/3/search/approximate-count``: ``{"count": n}`` for a bounded JQL."""
        query = self._query(str(data.get("jql") or ""))
        if not query.bounded:
            raise JiraError(400, UNBOUNDED)
        hits = query.run(self.org)
        if self.faults.count_offset:
            with self._stats_lock:
                self.errors["count-lags"] += 1
        return 200, {}, {"count": max(0, len(hits) + int(self.faults.count_offset))}, 0

    # ------------------------------------------------------------------ simple resources
    def server_info(self) -> dict:
        """``GET /rest/api/2/serverInfo`` in the flavour's shape."""
        now = datetime.now(UTC).timestamp()
        info: dict[str, Any] = {"baseUrl": self.url, "displayUrl": self.url, "serverTitle": "Clinicloud Jira (local)",
                "serverTime": self.render.ts(int(now), int(now * 1000) % 1000),
                "serverTimeZone": self.time_zone, "scmInfo": "localjira"}
        if self.cloud:
            info.update(version="1001.0.0-SNAPSHOT", versionNumbers=[1001, 0, 0], deploymentType="Cloud",
                        buildNumber=100289, buildDate="2026-11-20T00:00:00.000+0000")
        else:
            info.update(version="9.12.15", versionNumbers=[9, 12, 15], deploymentType="Server",
                        buildNumber=9120015, buildDate="2026-09-01T00:00:00.000+0000")
        return info

    def myself(self) -> dict:
        """``GET /rest/api/2/myself``: the bot user the API token belongs to."""
        avatars = {"48x48": f"{self.url}/secure/useravatar?size=48x48"}
        if self.cloud:
            return {"self": f"{self.url}/rest/api/2/user?accountId={BOT_ACCOUNT_ID}",
                    "accountId": BOT_ACCOUNT_ID, "accountType": "atlassian",
                    "emailAddress": BOT_EMAIL, "avatarUrls": avatars,
                    "displayName": BOT_DISPLAY_NAME, "active": True, "timeZone": self.time_zone, "locale": "en_US"}
        return {"self": f"{self.url}/rest/api/2/user?username={BOT_NAME}", "key": BOT_KEY,
                "name": BOT_NAME, "emailAddress": BOT_EMAIL, "avatarUrls": avatars,
                "displayName": BOT_DISPLAY_NAME, "active": True, "timeZone": self.time_zone, "locale": "en_US"}

    # ------------------------------------------------------------------ helpers
    @staticmethod
    def _list(value: Any) -> list[str]:
        if value is None:
            return []
        if isinstance(value, str):
            return [v.strip() for v in value.split(",") if v.strip()]
        return [str(v).strip() for v in value if str(v).strip()]

    def _wanted(self, value: Any, default_all: bool) -> set[str] | None:
        """Requested fields: None = every navigable field; a set otherwise (may be empty)."""
        items = self._list(value)
        if not items:
            return None if default_all else set()
        if "*all" in items or "*navigable" in items:
            return None
        return {i for i in items if not i.startswith("-")}

    @staticmethod
    def _int(value: Any, name: str, default: int) -> int:
        if value in (None, ""):
            return default
        try:
            return int(value)
        except (TypeError, ValueError) as exc:
            raise JiraError(400, f"The value '{value}' is invalid for the '{name}' parameter.") from exc

    def _query(self, jql: str) -> jqlmod.Query:
        try:
            return jqlmod.parse(self.org, jql, self.time_zone)
        except jqlmod.JqlError as exc:
            raise JiraError(400, str(exc)) from exc

    def _hits(self, jql: str, *, fresh: bool) -> list[int]:
        """The positions ``jql`` matches. A read's later pages (``fresh`` False) reuse the match of its
        first page while the organisation is unchanged (its version and edit count), as a search index
        would answer them, instead of matching every issue again per page; any change matches afresh."""
        stamp = (jql, self.org.version, self.org.edits)
        with self._snap_lock:
            cached = self._hits_cache.get(stamp)
        if cached is not None and not fresh:
            return cached
        hits = self._query(jql).run(self.org)
        with self._snap_lock:
            self._hits_cache[stamp] = hits
            while len(self._hits_cache) > 8:
                self._hits_cache.popitem(last=False)
        return hits

    def _snapshot(self, hits: list[int]) -> str:
        with self._snap_lock:
            self._snap_counter += 1
            sid = f"{self.org.version}.{self._snap_counter}"
            self._snapshots[sid] = hits
            while len(self._snapshots) > 64:
                self._snapshots.popitem(last=False)
        return sid

    # ------------------------------------------------------------------ search
    def cloud_search(self, p: dict, method: str, version: int = 3) -> tuple[int, dict, Any, int]:
        """Cloud's token-paged search (``/rest/api/3/search/jql``) over the issues the JQL matches."""
        expand = set(self._list(p.get("expand")))
        wanted = self._wanted(p.get("fields"), default_all=False)
        changelog = "changelog" in expand
        requested = self._int(p.get("maxResults"), "maxResults", 50)
        light = wanted is not None and wanted <= LIGHT_FIELDS and not expand
        cap = 5000 if light else 100
        size = self.faults.page_size(max(0, min(requested, cap)))
        token = p.get("nextPageToken")
        if token:
            state = _unb64(token)
            with self._snap_lock:
                hits = self._snapshots.get(state.get("s"))
            if hits is None:
                raise JiraError(400, "The provided next page token is invalid or expired.")
            offset = int(state.get("o", 0))
        else:
            query = self._query(p.get("jql") or "")
            if not query.bounded:
                raise JiraError(400, UNBOUNDED)
            hits = query.run(self.org)
            offset = 0
        if size > 1 and offset + size < len(hits) and self.faults.short_page("search/jql"):
            size = size // 2  # a short page that is not the last
            self._count_fault("short-page")
        page = [h for h in hits[offset:offset + size] if not self.org.deleted[h]]
        fields = (wanted or set()) - {"id"} if wanted is not None else None
        issues = []
        full = 0
        for pos in page:
            if wanted is not None and not wanted - {"id"} and not changelog:
                issues.append({"id": str(self.org.issue_id(pos))})
                continue
            issues.append(self.render.issue(pos, version, fields, changelog=changelog))
            full += 0 if light else 1
        out: dict[str, Any] = {"issues": issues}
        end = offset + size
        if end < len(hits):
            sid = state["s"] if token else self._snapshot(hits)
            repeat = bool(token and self.faults.repeat_token)
            if repeat:
                with self._stats_lock:
                    self.errors["repeated-token"] += 1
            out["nextPageToken"] = token if repeat else _b64({"s": sid, "o": end})
            out["isLast"] = False
        else:
            out["isLast"] = True
        return 200, {}, out, full

    def dc_search(self, p: dict) -> tuple[int, dict, Any, int]:
        """Data Center's offset-paged ``/rest/api/2/search`` over the issues the JQL matches."""
        expand = set(self._list(p.get("expand")))
        wanted = self._wanted(p.get("fields"), default_all=True)
        start = max(0, self._int(p.get("startAt"), "startAt", 0))
        size = self.faults.page_size(max(0, min(self._int(p.get("maxResults"), "maxResults", 50), 1000)))
        hits = self._hits(p.get("jql") or "", fresh=start == 0)
        take = size
        if size > 1 and start + size < len(hits) and self.faults.short_page("search"):
            take = size // 2  # a short page that is not the last; maxResults still says ``size``
            self._count_fault("short-page")
        page = hits[start:start + take]
        light = wanted is not None and wanted <= LIGHT_FIELDS and not expand
        fields = wanted - {"id"} if wanted is not None else None
        cap = self.faults.embedded_changelog_cap
        issues = [self.render.issue(pos, 2, fields, changelog="changelog" in expand, changelog_cap=cap or None)
                  for pos in page]
        out = {"expand": "schema,names", "startAt": start, "maxResults": size, "total": len(hits),
               "issues": issues}
        return 200, {}, out, 0 if light else len(issues)

    def bulkfetch(self, data: dict) -> tuple[int, dict, Any, int]:
        """Cloud's ``POST /rest/api/3/issue/bulkfetch``: up to 100 issues by id or key."""
        ids = self._list(data.get("issueIdsOrKeys"))
        if not ids:
            raise JiraError(400, "issueIdsOrKeys must not be empty.")
        if len(ids) > 100:
            raise JiraError(400, f"The number of issueIdsOrKeys ({len(ids)}) exceeds the maximum of 100.")
        wanted = self._wanted(data.get("fields"), default_all=True)
        changelog = "changelog" in set(self._list(data.get("expand")))
        issues, seen = [], set()
        for ident in ids:
            pos = self.org.position(ident)
            if pos is None or pos in seen:
                continue
            seen.add(pos)
            fields = wanted - {"id"} if wanted is not None else None
            issues.append(self.render.issue(pos, 3, fields, changelog=changelog, changelog_cap=40))
        return 200, {}, {"issues": issues, "issueErrors": []}, len(issues)

    def changelog_bulkfetch(self, data: dict) -> tuple[int, dict, Any, int]:
        """Cloud's ``POST /rest/api/3/changelog/bulkfetch``: the changelogs of up to 1000 issues."""
        ids = self._list(data.get("issueIdsOrKeys"))
        if not ids:
            raise JiraError(400, "issueIdsOrKeys must contain between 1 and 1000 items.")
        if len(ids) > 1000:
            raise JiraError(400, f"issueIdsOrKeys must contain between 1 and 1000 items, got {len(ids)}.")
        field_ids = set(self._list(data.get("fieldIds")))
        if len(field_ids) > 10:
            raise JiraError(400, "fieldIds must contain at most 10 items.")
        requested = self._int(data.get("maxResults"), "maxResults", 1000)
        if not 1 <= requested <= 10000:
            raise JiraError(400, "maxResults must be between 1 and 10000.")
        size = min(requested, 1000)
        digest = hashlib.blake2b(json.dumps([ids, sorted(field_ids)]).encode(), digest_size=6).hexdigest()
        i, h = 0, 0
        if data.get("nextPageToken"):
            state = _unb64(data["nextPageToken"])
            if state.get("q") != digest:
                raise JiraError(400, "The provided next page token is invalid or expired.")
            i, h = int(state["i"]), int(state["h"])
        positions: list[int] = []
        seen = set()
        for ident in ids:
            pos = self.org.position(ident)
            if pos is not None and pos not in seen:
                seen.add(pos)
                positions.append(pos)
        out_logs = []
        budget = size
        r = self.render
        while i < len(positions) and budget > 0:
            pos = positions[i]
            hs = [x for x in self.org.histories(pos) if not field_ids or r.history_field(x) in field_ids]
            chunk = hs[h:h + budget]
            if chunk:
                out_logs.append({"issueId": str(self.org.issue_id(pos)),
                                 "changeHistories": [r.history(x) for x in chunk]})
            budget -= len(chunk)
            if h + len(chunk) >= len(hs):
                i, h = i + 1, 0
            else:
                h += len(chunk)
        out: dict[str, Any] = {"issueChangeLogs": out_logs}
        if i < len(positions):
            out["nextPageToken"] = _b64({"q": digest, "i": i, "h": h})
        return 200, {}, out, 0

    def get_issue(self, ident: str, q: dict, api: int) -> tuple[int, dict, Any, int]:
        """``GET /rest/api/{2,3}/issue/{idOrKey}`` with its ``fields`` and ``expand`` parameters."""
        pos = self.org.position(ident)
        if pos is None:
            raise JiraError(404, "Issue does not exist or you do not have permission to see it.")
        if "fields" in q and q["fields"] == "":
            wanted: set[str] | None = set()
        else:
            wanted = self._wanted(q.get("fields"), default_all=True)
        changelog = "changelog" in set(self._list(q.get("expand")))
        fields = wanted - {"id"} if wanted is not None else None
        return 200, {}, self.render.issue(pos, api, fields, changelog=changelog), 1

    # ------------------------------------------------------------------ edits
    def _live(self, ident: str) -> int:
        pos = self.org.position(ident)
        if pos is None:
            raise JiraError(404, NO_ISSUE)
        return pos

    def edit_issue(self, ident: str, data: Any, q: dict, api: int) -> tuple[int, dict, Any, int]:
        """``PUT /issue/{idOrKey}``: labels through ``update`` (add/remove/set) or ``fields`` (set)."""
        pos = self._live(ident)
        if not isinstance(data, dict) or not (data.get("fields") or data.get("update")):
            raise JiraError(400, "one of 'fields' or 'update' required")
        fields, update = data.get("fields") or {}, data.get("update") or {}
        if not isinstance(fields, dict) or not isinstance(update, dict):
            raise JiraError(400, "Can not deserialize instance of java.util.LinkedHashMap out of START_ARRAY token")
        unknown = sorted((set(fields) | set(update)) - {"labels"})
        if unknown:
            raise JiraError(400, "", errors={f: f"Field '{f}' cannot be set. It is not on the appropriate screen, "
                                                "or unknown." for f in unknown})
        if "labels" in fields and "labels" in update:
            raise JiraError(400, "", errors={"labels": "Field 'labels' cannot be set in both 'fields' and 'update'."})
        labels = list(self.org.tuples[self.org.labels[pos]])
        ops = [{"set": fields["labels"]}] if "labels" in fields else update.get("labels")
        if not isinstance(ops, list):
            raise JiraError(400, "", errors={"labels": "Operations on 'labels' must be a list."})
        for op in ops:
            if not isinstance(op, dict) or len(op) != 1 or next(iter(op)) not in ("add", "remove", "set"):
                raise JiraError(400, "", errors={"labels": f"Unsupported operation {json.dumps(op)}: use one of "
                                                           "add, remove, set."})
            verb, value = next(iter(op.items()))
            values = value if verb == "set" else [value]
            if not isinstance(values, list) or not all(isinstance(v, str) and v for v in values):
                raise JiraError(400, "", errors={"labels": f"Invalid value for '{verb}' on 'labels'."})
            bad = next((v for v in values if any(c.isspace() for c in v) or len(v) > 255), None)
            if bad is not None:
                raise JiraError(400, "", errors={"labels": f"The label '{bad}' contains spaces which is invalid."
                                                 if len(bad) <= 255 else "The label must not exceed 255 characters."})
            if verb == "set":
                labels = list(dict.fromkeys(values))
            elif verb == "add" and value not in labels:
                labels.append(value)
            elif verb == "remove" and value in labels:
                labels.remove(value)
        self.org.set_labels(pos, tuple(labels), API_USER)
        if str(q.get("returnIssue", "")).lower() == "true":
            return 200, {}, self.render.issue(pos, api, None), 1
        return 204, {}, None, 0

    def _comment_body(self, data: Any, api: int) -> Any:
        """The ``body`` of a comment request, checked like Jira: ADF on v3, text on v2."""
        body = data.get("body") if isinstance(data, dict) else None
        if api == 3:
            if body is None or (isinstance(body, str) and not body.strip()):
                raise JiraError(400, "", errors={"comment": "Comment body can not be empty!"})
            if not (isinstance(body, dict) and body.get("type") == "doc" and isinstance(body.get("content"), list)):
                raise JiraError(400, "", errors={"comment": "Comment body is not valid!"})
            if not self.render.comment_text(body).strip():
                raise JiraError(400, "", errors={"comment": "Comment body can not be empty!"})
            return body
        if not isinstance(body, str) or not body.strip():
            raise JiraError(400, "", errors={"comment": "Comment body can not be empty!"})
        return body

    def list_comments(self, ident: str, q: dict, api: int) -> tuple[int, dict, Any, int]:
        """``GET /issue/{idOrKey}/comment``: one page of comments, oldest first unless ``orderBy=-created``."""
        pos = self._live(ident)
        order = q.get("orderBy") or "created"
        if order not in ("created", "+created", "-created"):
            raise JiraError(400, f"The orderBy value '{order}' is not supported; use 'created' or '-created'.")
        start = max(0, self._int(q.get("startAt"), "startAt", 0))
        size = max(0, min(self._int(q.get("maxResults"), "maxResults", COMMENT_PAGE_CAP[api]), COMMENT_PAGE_CAP[api]))
        comments = list(self.org.comments.get(pos, ()))
        if order == "-created":
            comments.reverse()
        page = [self.render.comment(pos, c, api) for c in comments[start:start + size]]
        return 200, {}, {"comments": page, "maxResults": size if self.cloud else len(page),
                         "total": len(comments), "startAt": start}, 0

    def add_comment(self, ident: str, data: Any, api: int) -> tuple[int, dict, Any, int]:
        """``POST …/issue/{idOrKey}/comment``: add a comment as the API user."""
        pos = self._live(ident)
        comment = self.org.add_comment(pos, self._comment_body(data, api), API_USER)
        return 201, {}, self.render.comment(pos, comment, api), 0

    def one_comment(self, method: str, ident: str, comment_id: str, data: Any,
                    api: int) -> tuple[int, dict, Any, int]:
        """``GET``, ``PUT`` or ``DELETE`` of one comment of an issue."""
        pos = self._live(ident)
        comment = self.org.comment(pos, comment_id)
        if comment is None:
            raise JiraError(404, f"Can not find a comment for the id: {comment_id}.")
        if method == "DELETE":
            self.org.delete_comment(pos, comment)
            return 204, {}, None, 0
        if method == "PUT":
            self.org.edit_comment(pos, comment, self._comment_body(data, api))
        return 200, {}, self.render.comment(pos, comment, api), 0

    # ------------------------------------------------------------------ worklogs
    def worklogs_changed(self, q: dict, path: str, *, deleted: bool) -> dict:
        """``GET /rest/api/2/worklog/updated`` or ``/deleted``: worklog ids changed since a time, paged."""
        since = max(0, self._int(q.get("since"), "since", 0))
        o = self.org
        if deleted:
            rows = sorted((ms, w) for w, ms in o.wl_deleted.items())
        else:
            rows = [(o.wl_updated_ms[w], w) for w in o.worklog_positions() if w not in o.wl_deleted]
        start = bisect.bisect_right(rows, (since, float("inf")))
        page = rows[start:start + 1000]
        values = [{"worklogId": o.WL_BASE + w, "updatedTime": ms, "properties": []} for ms, w in page]
        until = page[-1][0] if page else since
        last = start + 1000 >= len(rows)
        out: dict[str, Any] = {"values": values, "since": since, "until": until,
                               "self": f"{self.url}{path}?since={since}", "lastPage": last}
        if not last:
            out["nextPage"] = f"{self.url}{path}?since={until}"
        return out

    def worklog_list(self, data: dict, api: int) -> tuple[int, dict, Any, int]:
        """``POST /rest/api/2/worklog/list``: up to 1000 worklogs by id."""
        ids = data.get("ids") or []
        if len(ids) > 1000:
            raise JiraError(400, f"The number of worklog ids ({len(ids)}) exceeds the maximum of 1000.")
        o = self.org
        out = []
        for wid in ids:
            try:
                w = int(wid) - o.WL_BASE
            except (TypeError, ValueError) as exc:
                raise JiraError(400, f"Invalid worklog id '{wid}'.") from exc
            if 0 <= w < len(o.wl_issue) and w not in o.wl_deleted and not o.deleted[o.wl_issue[w]]:
                out.append(self.render.worklog(w, api))
        return 200, {}, out, 0


#: Endpoints whose previous answer a stale proxy may replay (``Faults.stale_rate``).
_STALE_PRONE = ("/search", "/search/jql", "/issue/bulkfetch", "/changelog/bulkfetch", "/worklog/list")
#: POST endpoints that only read.
_POST_READS = (*_STALE_PRONE, "/search/approximate-count")


def _is_read(method: str, endpoint: str) -> bool:
    """Whether a request only reads (odd-answer faults apply to reads, never to edits)."""
    if method == "GET":
        return True
    return method == "POST" and endpoint.endswith(_POST_READS)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "LocalJira/1.0"

    def setup(self) -> None:
        super().setup()
        # Headers and body go out in separate writes; without this, Nagle plus delayed ACKs add ~40 ms
        # to every keep-alive request.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
        pass

    def do_GET(self) -> None:  # noqa: N802 - stdlib naming
        self._answer("GET")

    def do_POST(self) -> None:  # noqa: N802
        self._answer("POST")

    def do_PUT(self) -> None:  # noqa: N802
        self._answer("PUT")

    def do_DELETE(self) -> None:  # noqa: N802
        self._answer("DELETE")

    def _answer(self, method: str) -> None:
        try:
            self._serve(method)
        except (BrokenPipeError, ConnectionResetError):
            # The client gave up first (its timeout, during a slow answer): nothing to answer.
            self.close_connection = True

    def _send(self, status: int, body: Any, headers: dict | None = None, *, truncate: bool = False) -> None:
        raw = b"" if status == 204 else json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode()
        self.send_response(status)
        if status != 204:
            self.send_header("Content-Type", "application/json;charset=UTF-8")
        self.send_header("Content-Length", str(len(raw)))
        for k, v in (headers or {}).items():
            self.send_header(k, str(v))
        if truncate:
            self.send_header("Connection", "close")
        self.end_headers()
        if truncate:
            self.wfile.write(raw[: len(raw) // 2])
            self.wfile.flush()
            self.close_connection = True
            return
        self.wfile.write(raw)

    def _send_empty(self) -> None:
        """A 200 with an empty body (what a proxy sends when its upstream went away)."""
        self.send_response(200)
        self.send_header("Content-Type", "application/json;charset=UTF-8")
        self.send_header("Content-Length", "0")
        self.end_headers()

    def _reset(self) -> None:
        """Close the connection with a TCP reset and no response."""
        try:
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        except OSError:
            pass
        self.close_connection = True
        try:
            self.connection.close()
        except OSError:
            pass

    def _serve(self, method: str) -> None:
        app: LocalJira = self.server.app  # type: ignore[attr-defined]
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        if self.path.startswith("/_local"):
            try:
                status, out = app.handle_local(method, self.path, body)
            except (ValueError, TypeError) as exc:
                status, out = 400, {"errorMessages": [str(exc)], "errors": {}}
            self._send(status, out)
            return
        endpoint = app.endpoint(method, urlsplit(self.path).path)
        with app._stats_lock:
            app.stats[endpoint] += 1
            app.in_flight[endpoint] += 1
            app.peak_in_flight[endpoint] = max(app.peak_in_flight[endpoint], app.in_flight[endpoint])
        try:
            self._answer_jira(app, method, endpoint, body)
        finally:
            with app._stats_lock:
                app.in_flight[endpoint] -= 1

    def _answer_jira(self, app: LocalJira, method: str, endpoint: str, body: bytes) -> None:
        faults = app.faults
        try:
            app.check_auth(self.headers)
            wait = faults.take_token(endpoint)
            if wait is not None:
                with app._stats_lock:
                    app.throttled[endpoint] += 1
                raise JiraError(429, "Rate limit exceeded.", {"Retry-After": wait})
            if app.failing_edit(method, urlsplit(self.path).path):
                with app._stats_lock:
                    app.errors["issue"] += 1
                raise JiraError(500, "Internal server error: the issue could not be updated.")
            if faults.chance("huge-retry-after", endpoint, faults.huge_retry_after_rate):
                with app._stats_lock:
                    app.throttled[endpoint] += 1
                raise JiraError(429, "Rate limit exceeded.", {"Retry-After": int(faults.huge_retry_after_s)})
            if faults.chance("slow", endpoint, faults.slow_rate):
                with app._stats_lock:
                    app.errors["slow"] += 1
                time.sleep(faults.slow_ms / 1000)
            fault = faults.decide(endpoint)
            if fault == "reset":
                with app._stats_lock:
                    app.errors["reset"] += 1
                self._reset()
                return
            if fault == "5xx":
                with app._stats_lock:
                    app.errors["5xx"] += 1
                faults.sleep(0)
                self._send(503, {"errorMessages": ["The service is temporarily unavailable. Try again later."],
                                 "errors": {}})
                return
            status, headers, out, full = app.handle(method, self.path, self.headers, body)
            faults.sleep(full)
            if status == 200 and _is_read(method, endpoint):
                out = app.odd_answer(endpoint, out)
                if faults.chance("empty-body", endpoint, faults.empty_body_rate):
                    with app._stats_lock:
                        app.errors["empty-body"] += 1
                    self._send_empty()
                    return
            if fault == "truncate":
                with app._stats_lock:
                    app.errors["truncate"] += 1
            self._send(status, out, headers, truncate=fault == "truncate")
        except JiraError as err:
            self._send(err.status, err.body(), err.headers)
        except Exception as exc:  # noqa: BLE001 - a bug must still answer like Jira, not hang
            self._send(500, {"errorMessages": [f"Internal server error: {type(exc).__name__}: {exc}"],
                             "errors": {}})
