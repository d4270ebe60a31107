"""HTTP to Jira: atlassian-python-api sessions, adaptive pacing per endpoint, retries, statistics.

Every request goes through :meth:`Transport.request`, which

* paces requests per endpoint with an AIMD rate: each 429 multiplies the endpoint's rate by
  ``decrease`` and blocks the endpoint for at least ``Retry-After`` (a minimum, possibly 0)
  plus exponential backoff with jitter; every ``increase_after`` successes add ``increase`` req/s;
* bounds concurrency across threads with a semaphore;
* retries 5xx, connection resets, truncated/invalid JSON bodies, empty 200 bodies and answers that
  fail the caller's ``check`` (wrong shape, other ids than asked) a bounded number of times, then
  fails loudly saying what was asked and what came back;
* honours ``Retry-After`` up to ``max_retry_after`` seconds and fails beyond it; every wait longer
  than :data:`NOTICE_WAIT_S` is logged as a warning (stderr): how long, which endpoint, why;
* fails at once, naming the URL and the cause, when Jira cannot be reached at all (connection
  refused before the site ever answered, unknown host, TLS certificate failure);
* turns 401/403 into :class:`JiraAuthError` naming the variables to check — never the token.
"""

from __future__ import annotations

import json
import logging
import random
import re
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import orjson
import requests
from atlassian import Jira

from .errors import (
    BadAnswer,
    JiraAnswerError,
    JiraAuthError,
    JiraHTTPError,
    JiraNotFoundError,
    JiraServerError,
    JiraThrottledError,
    JiraUnreachableError,
)
from .settings import JiraSettings

log = logging.getLogger(__name__)

#: Waits at least this long get a warning line (stderr): how long, which endpoint, why.
NOTICE_WAIT_S = 5.0
#: The default cap on one ``Retry-After`` wait; a server asking for more fails the run.
DEFAULT_MAX_RETRY_AFTER_S = 120.0
#: Methods whose 200 answer may be empty (edits); a read answering an empty 200 is a fault.
_EMPTY_OK = frozenset({"PUT", "DELETE"})

_ID_SEGMENT = re.compile(r"(?<!/api)/(\d+|[A-Z][A-Z0-9_]*-\d+)(?=/|$)")


def endpoint_key(method: str, path: str) -> str:
    """The pacing/statistics bucket of a request: method + path with ids replaced by ``{id}``."""
    path = "/" + path.split("?", 1)[0].lstrip("/")
    return f"{method.upper()} {_ID_SEGMENT.sub('/{id}', path)}"


@dataclass
class EndpointStats:
    """Counters for one endpoint."""

    requests: int = 0
    retries: int = 0
    throttled: int = 0
    errors: int = 0


@dataclass
class RequestStats:
    """Request counters, overall and per endpoint. Safe to update from many threads."""

    requests: int = 0
    retries: int = 0
    throttled: int = 0
    errors: int = 0
    by_endpoint: dict[str, EndpointStats] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def record(self, endpoint: str, *, requests: int = 0, retries: int = 0, throttled: int = 0,
               errors: int = 0) -> None:
        """Add to the counters of ``endpoint`` and to the totals."""
        with self._lock:
            per = self.by_endpoint.setdefault(endpoint, EndpointStats())
            per.requests += requests
            per.retries += retries
            per.throttled += throttled
            per.errors += errors
            self.requests += requests
            self.retries += retries
            self.throttled += throttled
            self.errors += errors

    def as_dict(self) -> dict[str, Any]:
        """A plain snapshot, e.g. for a sync-run record."""
        with self._lock:
            return {
                "requests": self.requests,
                "retries": self.retries,
                "throttled": self.throttled,
                "errors": self.errors,
                "by_endpoint": {k: vars(v).copy() for k, v in self.by_endpoint.items()},
            }


class EndpointPacer:
    """AIMD pacing of one endpoint: requests are spaced ``1/rate`` seconds apart.

    On a 429 the rate is multiplied by ``decrease`` and the endpoint is blocked until the
    given time; after ``increase_after`` consecutive successes ``increase`` req/s is added.
    """

    def __init__(
        self,
        rate: float,
        *,
        min_rate: float = 0.5,
        max_rate: float = 500.0,
        decrease: float = 0.7,
        increase: float = 1.0,
        increase_after: int = 10,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.rate = rate
        self.min_rate = min_rate
        self.max_rate = max_rate
        self.decrease = decrease
        self.increase = increase
        self.increase_after = increase_after
        self._clock = clock
        self._sleep = sleep
        self._next_slot = 0.0
        self._blocked_until = 0.0
        self._successes = 0
        self._last_cut = float("-inf")
        self._lock = threading.Lock()

    def acquire(self) -> float:
        """Wait for this endpoint's next free slot; return the slot's time (when the request goes out)."""
        with self._lock:
            now = self._clock()
            slot = max(now, self._next_slot, self._blocked_until)
            self._next_slot = slot + 1.0 / self.rate
        wait = slot - now
        if wait > 0:
            self._sleep(wait)
        return slot

    def success(self) -> None:
        """Count a success; raise the rate additively after a run of them."""
        with self._lock:
            self._successes += 1
            if self._successes >= self.increase_after:
                self._successes = 0
                self.rate = min(self.max_rate, self.rate + self.increase)

    def throttled(self, block_for: float, sent_at: float | None = None) -> None:
        """A 429: cut the rate multiplicatively and hold the endpoint for ``block_for`` seconds.

        ``sent_at`` is the slot the throttled request went out in (from :meth:`acquire`). A 429 for a
        request sent before the last cut is the same congestion event seen by another request in
        flight: it neither cuts the rate again nor extends the hold (one cut per event, as in TCP),
        so many requests in flight hitting one empty bucket do not collapse the rate.
        """
        with self._lock:
            self._successes = 0
            if sent_at is not None and sent_at < self._last_cut:
                return
            now = self._clock()
            self._last_cut = now
            self.rate = max(self.min_rate, self.rate * self.decrease)
            self._blocked_until = max(self._blocked_until, now + block_for)
            # Requests already given slots at the old rate start after the hold, at the new rate.
            self._next_slot = max(self._next_slot, self._blocked_until)


def parse_retry_after(value: str | None) -> float:
    """Seconds from a ``Retry-After`` header (seconds or HTTP date); 0 when absent or unreadable."""
    if not value:
        return 0.0
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        from datetime import datetime, timezone
        from email.utils import parsedate_to_datetime

        when = parsedate_to_datetime(value)
        if when.tzinfo is None:
            when = when.replace(tzinfo=timezone.utc)
        return max(0.0, (when - datetime.now(timezone.utc)).total_seconds())
    except (TypeError, ValueError):
        return 0.0


#: An answer check: raises :class:`BadAnswer` for an answer not to be believed.
AnswerCheck = Callable[[Any], None]


class Transport:
    """Paced, retrying JSON-over-HTTP to one Jira site; one atlassian ``Jira`` client per thread."""

    def __init__(
        self,
        settings: JiraSettings,
        *,
        max_concurrency: int = 8,
        max_attempts: int = 6,
        max_throttles: int = 30,
        backoff_base: float = 0.5,
        throttle_backoff_base: float = 0.1,
        backoff_max: float = 60.0,
        initial_rate: float = 50.0,
        max_rate: float = 500.0,
        max_retry_after: float = DEFAULT_MAX_RETRY_AFTER_S,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.settings = settings
        self.max_retry_after = max_retry_after
        #: True once the site has answered anything: a refused connection after that is a restart, not a wrong URL.
        self.reached = False
        self.stats = RequestStats()
        self.max_attempts = max_attempts
        self.max_throttles = max_throttles
        self.backoff_base = backoff_base
        self.throttle_backoff_base = throttle_backoff_base
        self.backoff_max = backoff_max
        self.initial_rate = initial_rate
        self.max_rate = max_rate
        self._sleep = sleep
        self._slots = threading.BoundedSemaphore(max(1, max_concurrency))
        self._local = threading.local()
        self._clients: list[Jira] = []
        self._pacers: dict[str, EndpointPacer] = {}
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"Transport(url={self.settings.url!r}, auth={self.settings.credential_variables!r})"

    # -- plumbing -----------------------------------------------------------------------------
    def _client(self) -> Jira:
        client = getattr(self._local, "client", None)
        if client is None:
            s = self.settings
            common: dict[str, Any] = dict(
                timeout=s.timeout,
                verify_ssl=s.ca_bundle or s.verify_ssl,
                advanced_mode=True,
                # We handle 429/Retry-After ourselves so every throttle is counted and paced.
                retry_with_header=False,
                backoff_and_retry=False,
            )
            if s.uses_basic_auth:
                client = Jira(
                    s.url,
                    username=s.email,
                    password=s.api_token.get_secret_value() if s.api_token else None,
                    cloud=True,
                    **common,
                )
            else:
                client = Jira(s.url, token=s.pat.get_secret_value() if s.pat else None, **common)
            # atlassian-python-api rounds the timeout down to whole seconds (0.5 s would become 0, which
            # requests refuses): keep the configured value as it is.
            client.timeout = s.timeout  # type: ignore[assignment]  # the stub says int; requests takes a float
            _read_environment_once(client, s.url)
            self._local.client = client
            with self._lock:
                self._clients.append(client)
        return client

    def pacer(self, endpoint: str) -> EndpointPacer:
        """The pacer of one endpoint (created on first use)."""
        with self._lock:
            pacer = self._pacers.get(endpoint)
            if pacer is None:
                pacer = self._pacers[endpoint] = EndpointPacer(
                    self.initial_rate, max_rate=self.max_rate, sleep=self._sleep
                )
            return pacer

    def _backoff(self, attempt: int, base: float | None = None) -> float:
        base = self.backoff_base if base is None else base
        ceiling = min(self.backoff_max, base * (2 ** (attempt - 1)))
        return random.uniform(ceiling / 2, ceiling)

    def close(self) -> None:
        """Close every per-thread HTTP session."""
        with self._lock:
            clients, self._clients = self._clients, []
        for client in clients:
            try:
                client.close()
            except Exception:  # noqa: BLE001 - closing is best effort
                pass

    # -- the one entry point ------------------------------------------------------------------
    def get(self, path: str, params: dict[str, Any] | None = None, *, check: AnswerCheck | None = None) -> Any:
        """GET ``path`` and return the decoded JSON body (checked by ``check`` when given)."""
        return self.request("GET", path, params=params, check=check)

    def post(self, path: str, body: Any, params: dict[str, Any] | None = None, *,
             check: AnswerCheck | None = None) -> Any:
        """POST ``body`` as JSON to ``path`` and return the decoded JSON body (checked by ``check``)."""
        return self.request("POST", path, params=params, body=body, check=check)

    def _wait(self, seconds: float, endpoint: str, why: str) -> None:
        if seconds >= NOTICE_WAIT_S:
            log.warning("waiting %.0f s before retrying %s: %s", seconds, endpoint, why)
        self._sleep(seconds)

    def request(self, method: str, path: str, *, params: dict[str, Any] | None = None, body: Any = None,
                check: AnswerCheck | None = None) -> Any:
        """Send one request (GET, POST, PUT or DELETE) with pacing and retries; return the decoded JSON body.

        ``check(body)`` raises :class:`BadAnswer` when the decoded answer is not to be believed (wrong
        shape, ids other than asked, …): the request is then retried like a 5xx, and when every attempt
        is refused :class:`JiraAnswerError` says what was asked and what came back. A read (GET, POST)
        answering 200 with an empty body is such a fault too; only edits and 204 may be empty (None).
        """
        method = method.upper()
        endpoint = endpoint_key(method, path)
        pacer = self.pacer(endpoint)
        last_problem = ""
        bad: BadAnswer | None = None  # the last answer refused as unbelievable
        attempt = 0  # failures (5xx, resets, bad bodies) count against max_attempts
        throttles = 0  # 429s get a larger budget: they are the server asking us to slow down
        while attempt < self.max_attempts and throttles <= self.max_throttles:
            if attempt or throttles:
                self.stats.record(endpoint, retries=1)
            attempt += 1
            sent_at = pacer.acquire()
            self.stats.record(endpoint, requests=1)
            try:
                with self._slots:
                    client = self._client()
                    if method == "GET":
                        response = client.get(path, params=params, advanced_mode=True)
                    elif method == "PUT":
                        response = client.put(path, data=body, params=params, advanced_mode=True)
                    elif method == "DELETE":
                        response = client.delete(path, data=body, params=params, advanced_mode=True)
                    else:
                        response = client.post(path, data=body, params=params, advanced_mode=True)
                    status = response.status_code
                    answer = response.content if status < 400 or status in (400, 404) else b""
            except (
                requests.ConnectionError,
                requests.Timeout,
                requests.exceptions.ChunkedEncodingError,
                requests.exceptions.ContentDecodingError,
            ) as exc:
                self.stats.record(endpoint, errors=1)
                unreachable = _unreachable(exc, reached=self.reached)
                if unreachable is not None:
                    raise JiraUnreachableError(self._unreachable_message(endpoint, *unreachable)) from None
                last_problem = f"connection problem ({type(exc).__name__})"
                log.info("%s: %s, attempt %d/%d", endpoint, last_problem, attempt, self.max_attempts)
                self._wait(self._backoff(attempt), endpoint, last_problem)
                continue
            self.reached = True

            if status == 429:
                self.stats.record(endpoint, throttled=1)
                retry_after = parse_retry_after(response.headers.get("Retry-After"))
                # Retry-After is a minimum; add exponential backoff with jitter. Its base is small
                # (0.1 s): Retry-After already carries the server's wait, and the AIMD cut does the
                # slowing down; a long hold would idle the endpoint below its limit.
                if retry_after > self.max_retry_after:
                    message = (
                        f"Jira at {self.settings.url} asked to wait {retry_after:.0f} s before the next {endpoint} "
                        f"(429 with Retry-After), longer than the {self.max_retry_after:.0f} s this run waits at "
                        "most (sync.max_retry_after_seconds in mappings.yaml). Nothing was stored from this "
                        "request; run the sync again later, or raise the cap."
                    )
                    raise JiraThrottledError(message, status=429, endpoint=endpoint)
                wait = retry_after + self._backoff(throttles + 1, self.throttle_backoff_base)
                if wait >= NOTICE_WAIT_S:
                    log.warning("waiting %.0f s before sending more to %s: Jira answered 429 Too Many Requests "
                                "with Retry-After %g s", wait, endpoint, retry_after)
                pacer.throttled(wait, sent_at=sent_at)
                attempt -= 1
                throttles += 1
                last_problem = f"429 Too Many Requests (Retry-After {retry_after:g}s)"
                log.info("%s: %s; rate now %.2f/s, waiting %.2fs", endpoint, last_problem, pacer.rate, wait)
                continue
            if status in (401, 403):
                self.stats.record(endpoint, errors=1)
                raise JiraAuthError(self._auth_message(status, endpoint), status=status)
            if status == 404:
                self.stats.record(endpoint, errors=1)
                message = f"{endpoint} answered 404 Not Found: {_error_text(_text(response, answer))}"
                raise JiraNotFoundError(message, status=404, endpoint=endpoint)
            if status >= 500:
                self.stats.record(endpoint, errors=1)
                last_problem = f"{status} server error"
                log.info("%s: %s, attempt %d/%d", endpoint, last_problem, attempt, self.max_attempts)
                self._wait(self._backoff(attempt), endpoint, last_problem)
                continue
            if status >= 400:
                self.stats.record(endpoint, errors=1)
                message = f"{endpoint} answered {status}: {_error_text(_text(response, answer))}"
                raise JiraHTTPError(message, status=status, endpoint=endpoint)

            if not answer.strip():
                if status == 204 or method in _EMPTY_OK:
                    pacer.success()
                    return None
                self.stats.record(endpoint, errors=1)
                bad = BadAnswer(f"{status} with an empty body", got="an empty body")
                last_problem = bad.problem
                log.info("%s: %s, attempt %d/%d", endpoint, bad.problem, attempt, self.max_attempts)
                self._wait(self._backoff(attempt), endpoint, bad.problem)
                continue
            try:
                data = _json(response, answer)
            except ValueError:
                self.stats.record(endpoint, errors=1)
                last_problem = f"truncated or invalid JSON body ({len(answer)} bytes)"
                log.info("%s: %s, attempt %d/%d", endpoint, last_problem, attempt, self.max_attempts)
                self._wait(self._backoff(attempt), endpoint, last_problem)
                continue
            if check is not None:
                try:
                    check(data)
                except BadAnswer as exc:
                    self.stats.record(endpoint, errors=1)
                    bad, last_problem = exc, exc.problem
                    log.info("%s: %s, attempt %d/%d", endpoint, exc.problem, attempt, self.max_attempts)
                    self._wait(self._backoff(attempt), endpoint, exc.problem)
                    continue
            pacer.success()
            return data

        if bad is not None and last_problem == bad.problem:
            asked = f" Asked: {bad.asked}." if bad.asked else ""
            got = f" Got: {bad.got}." if bad.got else ""
            message = (
                f"{endpoint} at {self.settings.url} kept answering {bad.problem} ({attempt + throttles} attempts); "
                f"the answer cannot be believed, so nothing from it was stored.{asked}{got} "
                "A proxy or the Jira site is answering wrongly; run the sync again later, and if it persists "
                "check the proxy in front of Jira."
            )
            raise JiraAnswerError(message, endpoint=endpoint)
        message = (
            f"{endpoint} still failing after {attempt + throttles} attempts; last problem: {last_problem}. "
            "Jira may be overloaded or down; try again later or lower the number of workers."
        )
        raise JiraServerError(message, endpoint=endpoint)

    def _unreachable_message(self, endpoint: str, cause: str, todo: str) -> str:
        return f"Cannot reach Jira at {self.settings.url} ({endpoint}): {cause}. What to do: {todo}."

    def _auth_message(self, status: int, endpoint: str) -> str:
        variables = self.settings.credential_variables
        if status == 401:
            return (
                f"Jira at {self.settings.url} rejected the credentials (401 Unauthorized on {endpoint}). "
                f"Check {variables}: the token may be expired, revoked or for another site."
            )
        return (
            f"Jira at {self.settings.url} refused access (403 Forbidden on {endpoint}). "
            f"Check that the account behind {variables} may browse the projects in the JQL, "
            "or that the token is not blocked (e.g. by CAPTCHA after failed logins)."
        )


def _unreachable(exc: BaseException, *, reached: bool) -> tuple[str, str] | None:
    """(cause, what to do) when ``exc`` means Jira cannot be reached at all; None for a passing fault.

    A TLS failure and an unknown host are never passing. A refused connection is, once the site has
    answered in this run (a restart); before that it means a wrong URL or port, or Jira is down.
    """
    if isinstance(exc, requests.exceptions.SSLError):
        return ("the TLS certificate could not be verified or the TLS handshake failed",
                "point JIRA_CA_BUNDLE at the CA bundle that signed the site's certificate, or set "
                "JIRA_VERIFY_SSL=false for a test server")
    chain: list[BaseException] = []
    seen: BaseException | None = exc
    while seen is not None and len(chain) < 10:
        chain.append(seen)
        reason = getattr(seen, "reason", None)
        nxt = reason if isinstance(reason, BaseException) else (
            seen.args[0] if seen.args and isinstance(seen.args[0], BaseException) else None)
        seen = nxt or seen.__cause__ or seen.__context__
    text_ = " ".join(f"{type(e).__name__} {e}" for e in chain)
    if any(isinstance(e, socket.gaierror) for e in chain) or "NameResolutionError" in text_ \
            or "Name or service not known" in text_ or "nodename nor servname" in text_ \
            or "Temporary failure in name resolution" in text_:
        return ("the host name could not be resolved", "check the host name in JIRA_URL")
    if any(isinstance(e, requests.exceptions.SSLError) for e in chain) or "SSLError" in text_ \
            or "CERTIFICATE_VERIFY_FAILED" in text_:
        return _unreachable(requests.exceptions.SSLError(), reached=reached)
    if not reached and (any(isinstance(e, ConnectionRefusedError) for e in chain) or "Connection refused" in text_):
        return ("the connection was refused (nothing listens at that address and port)",
                "check the host and port in JIRA_URL, and that Jira is running")
    return None


def _read_environment_once(client: Jira, url: str) -> None:
    """Resolve requests' environment settings (proxy variables and NO_PROXY, ``REQUESTS_CA_BUNDLE`` /
    ``CURL_CA_BUNDLE``) once for the site instead of on every request.

    With ``trust_env`` on, requests re-reads them per request (and looks for ~/.netrc, which it
    never uses here: the session always carries its own auth) — a measurable share of the client's
    CPU over thousands of requests. Every request of this client goes to the one site, so the
    result is the same.
    """
    session = client._session
    if not session.trust_env:
        return
    env = session.merge_environment_settings(url, dict(client.proxies or {}), None, client.verify_ssl, None)
    if env["proxies"]:
        client.proxies = env["proxies"]
    client.verify_ssl = env["verify"]
    session.trust_env = False


def _text(response: requests.Response, body: bytes) -> str:
    """The body as text, in the charset the response declares (UTF-8 when it declares none)."""
    return body.decode(response.encoding or "utf-8", errors="replace") if body else ""


def _json(response: requests.Response, body: bytes) -> Any:
    """The body's JSON: orjson straight from the bytes (about twice as fast as ``json`` on Jira's pages);
    a body it refuses — another charset, a lone surrogate escape — is read by ``json`` from the text,
    which raises ``ValueError`` for what is not JSON at all."""
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError:
        return json.loads(_text(response, body))


def _error_text(text: str) -> str:
    """Jira's own error messages from an error body, shortened."""
    try:
        data = json.loads(text)
        parts = list(data.get("errorMessages") or []) + [f"{k}: {v}" for k, v in (data.get("errors") or {}).items()]
        if parts:
            return "; ".join(str(p) for p in parts)[:500]
    except (ValueError, AttributeError):
        pass
    return text.strip()[:200] or "(empty body)"
