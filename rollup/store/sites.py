"""Several Jira sites in one store: who a row belongs to, and the store as one site sees it.

Jira's issue, worklog, sprint and field ids are unique within a site only, and so are its keys: two
sites both have ``PAY-12`` and both have issue ``10001``. The store keeps every site's rows side by
side, told apart once, where they come in:

- the first site (slot 0) keeps Jira's ids and keys as they are, so a store of one site that gains
  a second needs nothing re-read;
- every further site has a *slot* (1, 2, … in the order it was first synced, kept in ``sync_state``):
  its ids are stored as ``slot × SITE_ID_SPAN + id`` and its keys as ``<site>:<KEY>`` (``dc:PAY-12``),
  parent and epic keys included, so every view, rule, sheet and link tells them apart;
- each row's ``site`` column names its site; sync state (cursors, the deletion sweep, the deployment
  and base URL) is kept per site under ``site.<name>.``.

:class:`SiteStore` is the store as the sync of one site sees it: Jira's own ids and keys in and out,
that site's rows only (its deletion sweep never sees another site's issues).
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from rollup.errors import ConfigError

if TYPE_CHECKING:  # pragma: no cover
    from connectors.jira.rows import FieldRow, IssueRow, TransitionRow, WorklogRow
    from rollup.store.core import Store

#: Ids of a site in slot ``n`` are stored as ``n × SITE_ID_SPAN + id`` (Jira ids are far below 10¹²).
SITE_ID_SPAN = 10**12
#: ``sync_state`` key holding ``{site name: slot}`` for a store of several sites.
STATE_SITE_SLOTS = "sites.slots"
_KEY = re.compile(r"^[A-Z][A-Z0-9_]*-\d+$")


@dataclass(frozen=True)
class SiteIdentity:
    """One site's place in the store: its name (None: a store of one site) and slot."""

    name: str | None = None
    slot: int = 0

    @property
    def offset(self) -> int:
        """What this site adds to Jira's ids."""
        return self.slot * SITE_ID_SPAN

    @property
    def prefix(self) -> str:
        """What this site puts before Jira's keys (``dc:``; nothing for the first site)."""
        return f"{self.name}:" if self.slot and self.name else ""

    def key(self, key: str | None) -> str | None:
        """A Jira key as stored: ``dc:PAY-12`` for a site after the first, unchanged for the first."""
        return f"{self.prefix}{key}" if key and self.prefix else key

    def raw_key(self, key: str) -> str:
        """The key as the site itself writes it."""
        return key[len(self.prefix):] if self.prefix and key.startswith(self.prefix) else key

    def store_id(self, jira_id: int) -> int:
        """A Jira id of this site as stored."""
        return jira_id + self.offset

    def jira_id(self, stored_id: int) -> int:
        """A stored id as this site's Jira knows it."""
        return stored_id - self.offset

    def person(self, account: str | None) -> str | None:
        """A user's id as stored: a later site's users are its own (two Data Centers may both have ``jsmith``)."""
        return f"{self.prefix}{account}" if account and self.prefix else account

    def value(self, field: str, value: str | None) -> str | None:
        """A changelog value as stored: an epic or parent (a key, or an issue id) or an assignee of this site."""
        if value is None or not self.slot:
            return value
        if field == "assignee":
            return self.person(value)
        if field not in ("epic", "parent"):
            return value
        if value.isdigit():
            return str(int(value) + self.offset)
        return self.key(value) if _KEY.match(value) else value

    def state_key(self, key: str) -> str:
        """A ``sync_state`` key of this site: the first site's are the store's own."""
        return f"site.{self.name}.{key}" if self.slot and self.name else key

    def field_id(self, field_id: str) -> str:
        """A field id of this site as the field catalogue keeps it."""
        return f"{self.prefix}{field_id}" if self.prefix else field_id


def split_key(key: str) -> tuple[str | None, str]:
    """``dc:PAY-12`` → (``dc``, ``PAY-12``); a key of the first site → (None, key)."""
    site, sep, raw = key.partition(":")
    return (site, raw) if sep else (None, key)


class JiraLinks:
    """Links to issues on several sites: ``<site base URL>/browse/<the site's own key>``."""

    def __init__(self, first: str | None, others: Mapping[str, str]) -> None:
        self.first = first.rstrip("/") if first else None
        self.others = {name: url.rstrip("/") for name, url in others.items()}

    def browse(self, key: str) -> str | None:
        """The page of ``key`` on its own site, or None when that site's base URL is not known."""
        site, raw = split_key(key)
        base = self.first if site is None else self.others.get(site)
        return f"{base}/browse/{raw}" if base else None

    def __bool__(self) -> bool:
        return bool(self.first or self.others)


def browse_url(base: str | JiraLinks | None, key: str) -> str | None:
    """The Jira page of ``key``: ``base`` is one site's base URL, or :class:`JiraLinks` for several."""
    if not base or not key:
        return None
    if isinstance(base, JiraLinks):
        return base.browse(key)
    return f"{base.rstrip('/')}/browse/{key}"


def stored_slots(store: Store) -> dict[str, int]:
    """``{site name: slot}`` recorded in the store (empty: a store of one site)."""
    raw = store.get_state(STATE_SITE_SLOTS)
    return {str(k): int(v) for k, v in json.loads(raw).items()} if raw else {}


def assign_slots(store: Store, sites: Sequence[tuple[str, str]]) -> dict[str, SiteIdentity]:
    """The identity of every site in ``sites`` (``(name, url)`` in the ``sites:`` order), recording new ones.

    The first site listed is slot 0, the site whose keys are stored unchanged; once recorded, it must
    stay first (its keys and ids would otherwise change meaning). A site seen for the first time takes
    the next free slot; a site dropped from the list keeps its slot and its rows.

    A store synced from one site before it had several holds that site's issues as Jira wrote them:
    the first site listed must be that one (its base URL is compared with the one the store recorded),
    and it then takes those issues as its own (their ``site`` is set).
    """
    from rollup.store.schema_sync import STATE_SERVER_BASE_URL

    names = [name for name, _ in sites]
    slots = stored_slots(store)
    first = next((name for name, slot in slots.items() if slot == 0), None)
    if first is not None and first != names[0]:
        raise ConfigError(
            f"mappings.yaml: sites: the store's first site is '{first}' (its keys are stored as Jira writes them), "
            f"but sites: now lists '{names[0]}' first; put '{first}' first again"
            + ("" if first in names else " (a site's name cannot change once synced: it is part of its keys)"))
    if not slots and store.all_issue_ids():
        synced = (store.get_state(STATE_SERVER_BASE_URL) or "").rstrip("/")
        if synced and not _same_site(synced, sites[0][1]):
            listed = next((name for name, url in sites if _same_site(synced, url)), None)
            hint = (f"list '{listed}' first" if listed else
                    f"list the site at {synced} first, or sync the sites into a new store")
            raise ConfigError(
                f"mappings.yaml: sites: the store at {store.location} holds the issues of {synced}, but the first "
                f"site listed is '{names[0]}' at {sites[0][1]}: its issues would be taken for another site's; {hint}")
        store.adopt_unsited_issues(names[0])
    for name in names:
        if name not in slots:
            slots[name] = 0 if not slots and name == names[0] else max(slots.values(), default=0) + 1
    store.set_state(STATE_SITE_SLOTS, json.dumps(slots, sort_keys=True))
    return {name: SiteIdentity(name, slots[name]) for name in names}


def _same_site(a: str, b: str) -> bool:
    """Two addresses of one site: the same scheme-less host and path, any case, any trailing slash."""
    def bare(url: str) -> str:
        parts = urlsplit(url.strip())
        return f"{(parts.hostname or '').lower()}:{parts.port or ''}{parts.path.rstrip('/')}"
    return bare(a) == bare(b)


def links_for(store: Store, base_state: str) -> str | JiraLinks | None:
    """What links to issues: the one site's base URL, or :class:`JiraLinks` for a store of several sites."""
    first = store.get_state(base_state)
    slots = stored_slots(store)
    if len(slots) <= 1:
        return first
    others = {}
    for name, slot in slots.items():
        if slot:
            url = store.get_state(SiteIdentity(name, slot).state_key(base_state))
            if url:
                others[name] = url
    return JiraLinks(first, others)


class SiteStore:
    """The store as the sync of one site sees it: Jira's ids and keys, this site's rows only.

    ``write_lock`` is shared by the syncs of every site running at once, so SQLite (one writer) is
    written by one of them at a time; reads go on in parallel.
    """

    def __init__(self, store: Store, site: SiteIdentity, write_lock: threading.Lock | None = None) -> None:
        self.store, self.site = store, site
        self._lock = write_lock or threading.Lock()

    @property
    def location(self) -> str:
        """Where the store is (masked)."""
        return self.store.location

    @property
    def dialect(self) -> str:
        """The store's SQL dialect."""
        return self.store.dialect

    # state
    def get_state(self, key: str, default: str | None = None) -> str | None:
        """A ``sync_state`` value of this site."""
        return self.store.get_state(self.site.state_key(key), default)

    def set_state(self, key: str, value: str | None) -> None:
        """Set a ``sync_state`` value of this site."""
        with self._lock:
            self.store.set_state(self.site.state_key(key), value)

    def get_datetime(self, key: str) -> datetime | None:
        """A ``sync_state`` instant of this site."""
        return self.store.get_datetime(self.site.state_key(key))

    def set_datetime(self, key: str, value: datetime) -> None:
        """Set a ``sync_state`` instant of this site."""
        with self._lock:
            self.store.set_datetime(self.site.state_key(key), value)

    # runs
    def record_run(self, **values: Any) -> int:
        """A ``sync_runs`` row for this site."""
        with self._lock:
            return self.store.record_run(site=self.site.name, **values)

    def update_run(self, run_id: int, **values: Any) -> None:
        """Finish this site's ``sync_runs`` row."""
        with self._lock:
            self.store.update_run(run_id, **values)

    def abandon_running_runs(self, finished: datetime) -> int:
        """Nothing: done once for every site before their syncs start."""
        return 0

    # fields
    def field_roles(self) -> dict[str, str]:
        """This site's field roles, by its own field ids."""
        return self.store.field_roles(site=self.site)

    def replace_fields(self, rows: Iterable[FieldRow]) -> None:
        """Replace this site's part of the field catalogue."""
        with self._lock:
            self.store.replace_fields(rows, site=self.site)

    # issues
    def stored_updated(self, ids: Iterable[int] | None = None, *,
                       require_complete_changelog: bool = False) -> dict[int, datetime | None]:
        """``{Jira id: updated}`` of this site's stored issues."""
        return self.store.stored_updated(ids, require_complete_changelog=require_complete_changelog, site=self.site)

    def all_issue_ids(self) -> set[int]:
        """Jira ids of this site's live stored issues."""
        return self.store.all_issue_ids(site=self.site)

    def upsert_batch(self, issue_rows: Sequence[IssueRow], transitions_by_issue: Mapping[int, Sequence[TransitionRow]],
                     changelog_complete: bool | Mapping[int, bool] | Collection[int] = True) -> None:
        """Write one fetched batch of this site."""
        with self._lock:
            self.store.upsert_batch(issue_rows, transitions_by_issue, changelog_complete, site=self.site)

    def upsert_worklogs(self, rows: Iterable[WorklogRow]) -> int:
        """Write worklogs of this site's issues."""
        rows = list(rows)
        with self._lock:
            return self.store.upsert_worklogs(rows, site=self.site)

    def delete_worklogs(self, ids: Iterable[int]) -> int:
        """Delete worklogs of this site by Jira id."""
        ids = list(ids)
        with self._lock:
            return self.store.delete_worklogs(ids, site=self.site)

    def delete_issues(self, ids: Iterable[int], *, at: datetime | None = None) -> int:
        """Mark issues of this site deleted, by Jira id."""
        ids = list(ids)
        with self._lock:
            return self.store.delete_issues(ids, at=at, site=self.site)


#: Where links to issues go: one site's base URL, or :class:`JiraLinks` for several sites.
JiraBase = str | JiraLinks


def runs_by_site(runs: Iterable[Mapping[str, Any]]) -> dict[str | None, list[Mapping[str, Any]]]:
    """``sync_runs`` rows (oldest first) per site. Once any run names a site, the runs from before the store
    had several (no site) no longer count: each listed site's own runs say how fresh its data is."""
    groups: dict[str | None, list[Mapping[str, Any]]] = {}
    for run in runs:
        groups.setdefault(run.get("site"), []).append(run)
    if len(groups) > 1:
        groups.pop(None, None)
    return groups


def last_ok_finished(runs: Iterable[Mapping[str, Any]], *, latest: bool = False) -> datetime | None:
    """When the data was last read whole: when the last sync that ended ``ok`` finished (``latest``: the latest
    such time, whichever run it was) — with several sites, the oldest of each site's (None while a site has
    never finished ok)."""
    lasts = []
    for site_runs in runs_by_site(runs).values():
        finished = [r["finished"] for r in site_runs if r.get("status") == "ok" and r.get("finished")]
        if not finished:
            return None
        lasts.append(max(finished) if latest else finished[-1])
    return min(lasts) if lasts else None


def worst_last_run(runs: Iterable[Mapping[str, Any]]) -> Mapping[str, Any] | None:
    """The latest run of the site whose data is least to be trusted: a site whose last sync did not end ok,
    else the site synced longest ago (the one site's last run for a store of one)."""
    lasts = [site_runs[-1] for site_runs in runs_by_site(runs).values() if site_runs]
    if not lasts:
        return None
    failing = [r for r in lasts if r.get("status") != "ok"]
    if failing:
        return failing[0]
    return min(lasts, key=lambda r: r.get("finished") or datetime.min.replace(tzinfo=timezone.utc))
