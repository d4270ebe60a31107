"""Jira: the connection and credentials, TLS, the projects the token can see, the field roles, the count.

The connector is the one ``rollup sync`` uses, built from the same ``JIRA_*`` variables
(:meth:`JiraSettings.from_env`) and ``jira.deployment``, but with short timeouts and few retries:
a doctor reports a slow or failing site, it does not wait it out. Messages are the connector's
own (they name the URL, the cause and the variables to check, never a token).
"""

from __future__ import annotations

import ipaddress
import socket
import ssl
from datetime import datetime, timezone
from pathlib import Path
from urllib.parse import urlsplit

from connectors.jira import ROLE_NAMES, FieldMap, JiraConnector, JiraSettings, Transport
from connectors.jira.client import count_tolerance
from connectors.jira.errors import JiraAuthError, JiraConfigError, JiraError, JiraFieldError
from rollup.config import JiraScope
from rollup.config.names import did_you_mean
from rollup.doctor.model import Check, Context, check, fail, ok, skip, warn

#: Requests in flight during the checks (server info asks four things at once).
WORKERS = 4
#: A certificate expiring within this many days is a warning.
CERT_WARN_DAYS = 14
#: Roles Jira Cloud does without: every level links up through ``parent``.
CLOUD_OPTIONAL_ROLES = frozenset({"epic_link", "parent_link"})


def jira_settings(ctx: Context) -> JiraSettings:
    """The settings ``rollup sync`` would use, with the doctor's short timeout; JiraConfigError when incomplete."""
    if ctx.site is not None:
        from rollup.jobs.sync import site_settings

        settings = site_settings(ctx.site, ctx.options.env)
    else:
        settings = JiraSettings.from_env(ctx.options.env)
    update: dict[str, object] = {"timeout": min(settings.timeout, ctx.options.network_timeout)}
    if ctx.site is None and ctx.config is not None and ctx.config.jira.deployment and settings.deployment is None:
        update["deployment"] = ctx.config.jira.deployment
    return settings.model_copy(update=update)


def open_connector(settings: JiraSettings) -> JiraConnector:
    """A connector that gives up quickly: two attempts per request, short waits, no long Retry-After."""
    transport = Transport(settings, max_concurrency=WORKERS, max_attempts=2, max_throttles=3, backoff_base=0.2,
                          max_retry_after=5)
    return JiraConnector(settings, max_workers=WORKERS, transport=transport)


def split_todo(message: str) -> tuple[str, str]:
    """The connector's ``… What to do: …`` message as (what was wrong, what to do)."""
    detail, marker, todo = message.partition(" What to do: ")
    return (detail, todo.rstrip(".")) if marker else (message, "")


def _credentials_todo(settings: JiraSettings, status: int | None) -> str:
    variables = settings.credential_variables
    if status == 403:
        return (f"give the account behind {variables} access to the projects in the scope, or unblock it "
                "(e.g. a CAPTCHA after failed logins: sign in once in a browser)")
    if settings.variables:  # a site of several, with variables of its own
        return f"put valid credentials for {settings.url} in {variables}"
    if settings.uses_basic_auth:
        return ("put a valid API token of the account JIRA_EMAIL names in JIRA_API_TOKEN (create one at "
                "https://id.atlassian.com/manage-profile/security/api-tokens)")
    return "put a valid personal access token in JIRA_PAT (Jira: Profile → Personal Access Tokens)"


@check("jira", provides=("connector", "server"), seconds=40)
def connection(ctx: Context) -> list[Check]:
    """serverInfo and myself answer with the configured credentials: deployment, version, who signs in."""
    try:
        settings = jira_settings(ctx)
    except JiraConfigError as exc:
        return [fail("jira", str(exc), "set the variables named (README, \"Jira connection\")")]
    connector = open_connector(settings)
    try:
        info = connector.server_info()
    except JiraAuthError as exc:
        connector.close()
        return [fail("jira", str(exc), _credentials_todo(settings, exc.status))]
    except JiraError as exc:
        connector.close()
        detail, todo = split_todo(str(exc))
        return [fail("jira", detail, todo or f"check JIRA_URL ({settings.url}) and that Jira is up, then run "
                                             "rollup doctor again")]
    except OSError as exc:  # e.g. requests refusing a JIRA_CA_BUNDLE path before connecting
        connector.close()
        return [fail("jira", f"cannot connect to Jira at {settings.url}: {exc}",
                     "check JIRA_CA_BUNDLE and JIRA_URL")]
    ctx.connector, ctx.server = connector, info
    kind = "Jira Cloud" if info.deployment == "cloud" else "Jira Data Center"
    who = f"signed in as {info.user}" if info.user else "signed in"
    return [ok("jira", f"{settings.url} answers: {kind} {info.version}; {who} ({settings.credential_variables}); "
                       f"user time zone {info.time_zone or 'not reported (UTC assumed)'}")]


# ---------------------------------------------------------------------------------------- TLS


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _ca_file(settings: JiraSettings, env: dict[str, str]) -> tuple[str, str]:
    """(CA file, how it was chosen) as requests would verify with: JIRA_CA_BUNDLE, REQUESTS_CA_BUNDLE, certifi."""
    if settings.ca_bundle:
        return settings.ca_bundle, f"JIRA_CA_BUNDLE={settings.ca_bundle}"
    for name in ("REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE"):
        if env.get(name):
            return env[name], f"{name}={env[name]}"
    import requests.certs

    where = requests.certs.where()  # type: ignore[attr-defined]  # types-requests leaves out certs.where
    return where, "the default CA bundle (certifi)"


def _proxied(url: str) -> bool:
    import requests.utils

    return bool(requests.utils.get_environ_proxies(url))


@check("tls", seconds=20)
def tls(ctx: Context) -> list[Check]:
    """https with certificate verification (JIRA_VERIFY_SSL, JIRA_CA_BUNDLE); the certificate's chain and expiry."""
    try:
        settings = jira_settings(ctx)
    except JiraConfigError:
        return [skip("tls", "not checked: the JIRA_* variables are incomplete (see 'jira' above)")]
    parts = urlsplit(settings.url)
    host, port = parts.hostname or "", parts.port or (443 if parts.scheme == "https" else 80)
    if parts.scheme == "http":
        if _loopback(host):
            return [ok("tls", f"plain http to {host}, a loopback address: nothing leaves this machine")]
        return [warn("tls", f"{settings.url} is plain http: the credentials cross the network unencrypted",
                     "use the site's https:// address in JIRA_URL")]
    if settings.ca_bundle and not Path(settings.ca_bundle).is_file():
        return [fail("tls", f"JIRA_CA_BUNDLE={settings.ca_bundle} is not a file",
                     "point JIRA_CA_BUNDLE at the PEM file of the CA that signed the site's certificate")]
    if not settings.verify_ssl and not settings.ca_bundle:
        return [warn("tls", "https without certificate verification (JIRA_VERIFY_SSL=false): anyone on the path "
                            "could pose as the site and read the token",
                     "set JIRA_CA_BUNDLE to the CA that signed the site's certificate and remove JIRA_VERIFY_SSL")]
    cafile, source = _ca_file(settings, dict(ctx.options.env))
    if _proxied(settings.url):
        return [ok("tls", f"https through a proxy (proxy variables): verification on, with {source}")]
    try:
        if Path(cafile).is_dir():
            context = ssl.create_default_context(capath=cafile)
        else:
            context = ssl.create_default_context(cafile=cafile)
    except (OSError, ssl.SSLError) as exc:
        return [fail("tls", f"the CA bundle {source} cannot be read: {exc}",
                     "point it at a PEM file of CA certificates")]
    try:
        with socket.create_connection((host, port), timeout=ctx.options.network_timeout) as sock, \
                context.wrap_socket(sock, server_hostname=host) as conn:
            cert = conn.getpeercert() or {}
            version = conn.version()
    except ssl.SSLCertVerificationError as exc:
        return [fail("tls", f"the certificate of {host}:{port} is not trusted by {source}: "
                            f"{exc.verify_message or exc.reason}",
                     "point JIRA_CA_BUNDLE at the CA bundle that signed the site's certificate (a company CA), "
                     "or have the site serve its full certificate chain")]
    except ssl.SSLError as exc:
        return [fail("tls", f"the TLS handshake with {host}:{port} failed: {exc.reason or exc}",
                     "check that JIRA_URL names the https port of the site")]
    except OSError as exc:
        return [skip("tls", f"not checked: cannot connect to {host}:{port} ({exc.strerror or exc}; see 'jira' above)")]
    expires = datetime.fromtimestamp(ssl.cert_time_to_seconds(str(cert["notAfter"])), timezone.utc)
    days = (expires - (ctx.options.now or datetime.now(timezone.utc))).days
    detail = (f"https verified with {source}: {version}, certificate valid until {expires:%Y-%m-%d}"
              f" ({days} days)")
    if days < CERT_WARN_DAYS:
        return [warn("tls", detail, "the site's certificate expires soon: ask its administrators to renew it")]
    return [ok("tls", detail)]


# ---------------------------------------------------------------------------------------- projects


@check("projects", requires=("config", "connector"), seconds=25)
def projects(ctx: Context) -> list[Check]:
    """Every configured project is one the token can see (``GET /rest/api/2/project``)."""
    assert ctx.config is not None and ctx.connector is not None  # guaranteed by requires=
    scope = ctx.config.scope_for(ctx.site)
    if not scope.projects:
        return [skip("projects", f"scope is a JQL; not compared ({scope.scope_jql()})")]
    try:
        visible = ctx.connector.projects()
    except JiraError as exc:
        detail, todo = split_todo(str(exc))
        return [fail("projects", f"the project list could not be read: {detail}", todo or "run rollup doctor again")]
    who = f"the account behind {ctx.connector.settings.credential_variables}"
    known = {p.key.casefold() for p in visible} | {p.name.casefold() for p in visible if p.name}
    unseen = [key for key in scope.projects if key.casefold() not in known]
    if not unseen:
        return [ok("projects", f"all {len(scope.projects)} configured projects are visible to {who} "
                               f"({len(visible)} visible in all)")]
    keys = [p.key for p in visible]
    hints = []
    for key in unseen:
        hint = did_you_mean(key.upper(), keys)
        hints.append(f"{key} ({hint})" if hint else key)
    verb = "is" if len(unseen) == 1 else "are"
    return [fail("projects", f"{', '.join(hints)} {verb} not visible to {who}: no such project, or no Browse "
                             f"permission ({len(visible)} projects visible: {', '.join(keys[:20])}"
                             + (" …" if len(keys) > 20 else "") + ")",
                 f"check jira.projects in {ctx.options.config_path}, or ask a Jira administrator to give {who} "
                 f"Browse projects on {', '.join(unseen)}")]


# ---------------------------------------------------------------------------------------- field roles


def _names(fmap: FieldMap) -> dict[str, str]:
    return {str(f["id"]): str(f.get("name") or f["id"]) for f in fmap.fields}


def _describe(ids: list[str], names: dict[str, str]) -> str:
    return ", ".join(f"{fid} '{names.get(fid, fid)}'" for fid in ids)


def role_line(role: str, fmap: FieldMap, scope: JiraScope, deployment: str, config_path: Path) -> Check:
    """One field role: the field id(s) chosen and why (configured, matched by name), or what to set."""
    names = _names(fmap)
    ids = fmap.roles.get(role, [])
    name = f"field {role}"
    per_project = "".join(f"; in {project}: {_describe(fmap.project_roles[project][role], names)} "
                          f"(configured: jira.project_fields.{project}.{role})"
                          for project, roles in sorted(scope.project_fields.items()) if role in roles)
    if role in scope.fields:
        return ok(name, f"{_describe(ids, names)} (configured: jira.fields.{role}: {scope.fields[role]})" + per_project)
    if ids and fmap.how.get(role) == "type":
        return ok(name, f"{_describe(ids, names)} (no field has the standard name; found as the site's only field of "
                        f"the role's own type)" + per_project)
    if ids:
        matched = list(dict.fromkeys(names.get(fid, fid) for fid in ids))  # in the role's order of preference
        how = f"matched by name '{matched[0]}'" if len(matched) == 1 else \
            "matched by names " + ", ".join(f"'{n}'" for n in matched) + "; the first set on an issue wins"
        return ok(name, f"{_describe(ids, names)} ({how})" + per_project)
    warned = next((w for w in fmap.warnings if w.startswith(f"{role}:")), None)
    if warned:
        return warn(name, warned.removeprefix(f"{role}: ") + per_project,
                    f"set jira.fields.{role}: <field id> in {config_path} if one of those fields holds it")
    wanted = " or ".join(f"'{n}'" for n in ROLE_NAMES[role])
    if deployment == "cloud" and role in CLOUD_OPTIONAL_ROLES:
        return ok(name, f"none (no field named {wanted}): Jira Cloud links issues through 'parent'" + per_project)
    return warn(name, f"not found: no field named {wanted}, so issues are synced without it" + per_project,
                f"if the site keeps it in a field of another name, set jira.fields.{role}: <field id or name> "
                f"in {config_path}")


@check("fields", requires=("config", "connector", "server"), provides=("fields",), seconds=25)
def field_roles(ctx: Context) -> list[Check]:
    """Field discovery as the sync runs it: every role's field id(s) and why, and the extra fields."""
    assert ctx.config is not None and ctx.connector is not None and ctx.server is not None  # guaranteed by requires=
    scope = ctx.config.scope_for(ctx.site)
    try:
        fmap = ctx.connector.discover_fields(
            overrides=dict(scope.fields), extra=list(scope.extra_fields),
            project_overrides={project: dict(roles) for project, roles in scope.project_fields.items()})
    except JiraFieldError as exc:
        return [fail("fields", str(exc), f"choose the field in {ctx.options.config_path} as the message says")]
    except JiraError as exc:
        detail, todo = split_todo(str(exc))
        return [fail("fields", f"the field list could not be read: {detail}", todo or "run rollup doctor again")]
    ctx.fields = fmap
    deployment = ctx.server.deployment
    lines = [role_line(role, fmap, scope, deployment, ctx.options.config_path) for role in ROLE_NAMES]
    names = _names(fmap)
    lines += [ok(f"field {name!r}", f"{fmap.extra[name]} '{names.get(fmap.extra[name], name)}' "
                                    "(configured: jira.extra_fields)") for name in scope.extra_fields]
    return lines


# ---------------------------------------------------------------------------------------- the count


@check("issue count", requires=("config", "connector", "store"), seconds=25)
def issue_count(ctx: Context) -> list[Check]:
    """The store's live issues against the server's own count for the scope, with the sync's tolerance."""
    assert ctx.config is not None and ctx.connector is not None and ctx.store is not None  # guaranteed by requires=
    stored = len(ctx.store.all_issue_ids(site=ctx.site_identity()))
    connector = ctx.connector
    jql = ctx.config.scope_for(ctx.site).scope_jql()
    try:
        counted = connector.count(jql)
    except JiraError as exc:
        detail, todo = split_todo(str(exc))
        return [fail("issue count", f"the server could not count the scope ({jql}): {detail}",
                     todo or f"check the scope in {ctx.options.config_path}")]
    cloud = connector.is_cloud
    tolerance = count_tolerance(counted) if cloud else 0
    counts = f"the store holds {stored:,} issues; the server counts {counted:,}" + (" (approximate)" if cloud else "")
    if abs(stored - counted) <= tolerance:
        return [ok("issue count", counts + (f", within the tolerance of {tolerance}" if stored != counted else ""))]
    if stored < counted:
        return [warn("issue count", f"{counts}: {counted - stored:,} not in the store (created since the last sync, "
                                    "or a sweep that missed them)",
                     "run rollup sync; if the gap stays, run rollup sync --full")]
    return [warn("issue count", f"{counts}: {stored - counted:,} more stored than the scope holds now (deleted or "
                                "moved since the last deletion sweep)",
                 "run rollup sync --full, which sweeps for deleted and moved issues")]
