"""Connection settings: where Jira is and how to authenticate, from the environment or keyring."""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Mapping
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, SecretStr, ValidationError, field_validator

from connectors.urls import site_url

from .errors import JiraConfigError

#: The keyring service under which secrets may be stored (usernames "api_token" and "pat").
KEYRING_SERVICE = "jira-portfolio-rollup"

Deployment = Literal["cloud", "datacenter"]

#: The words an on/off environment variable accepts (any case).
TRUE_WORDS = ("true", "yes", "on", "1")
FALSE_WORDS = ("false", "no", "off", "0")


def parse_flag(name: str, raw: str) -> bool:
    """An on/off environment variable's value; ValueError naming ``name`` and the accepted words otherwise."""
    word = raw.strip().lower()
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    raise ValueError(f"{name} must be true or false ({'/'.join(TRUE_WORDS)} or {'/'.join(FALSE_WORDS)}), "
                     f"got {raw!r}")


def parse_seconds(name: str, raw: str) -> float:
    """A number of seconds greater than 0; ValueError naming ``name`` and an example otherwise."""
    try:
        value = float(raw)
    except ValueError:
        value = math.nan
    if not (math.isfinite(value) and value > 0):
        raise ValueError(f"{name} must be a number of seconds greater than 0 (e.g. 60), got {raw!r}")
    return value


def _from_keyring(username: str) -> str | None:
    """Read one secret from the system keyring; any keyring failure counts as "not there"."""
    try:
        import keyring

        return keyring.get_password(KEYRING_SERVICE, username) or None
    except Exception:  # noqa: BLE001 - no backend, locked keychain, ...: fall through to the error
        return None


class JiraSettings(BaseModel):
    """How to reach one Jira site.

    Cloud authenticates with Basic ``email`` + ``api_token``; Data Center with a
    personal access token ``pat`` sent as Bearer. ``deployment`` overrides what
    ``/rest/api/2/serverInfo`` reports. Secrets are ``SecretStr``: they never show in
    ``repr`` or ``str``.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    url: str
    email: str | None = None
    api_token: SecretStr | None = None
    pat: SecretStr | None = None
    deployment: Deployment | None = None
    verify_ssl: bool = True
    #: A CA bundle file to verify the site's certificate with (``JIRA_CA_BUNDLE``), e.g. a company CA.
    ca_bundle: str | None = None
    timeout: float = 60.0
    #: The environment variables the credentials came from, for messages (a site of several names its own).
    variables: str | None = None

    @field_validator("url")
    @classmethod
    def _strip_url(cls, value: str) -> str:
        return site_url(value, "JIRA_URL must", "put the credentials in JIRA_EMAIL and JIRA_API_TOKEN (Cloud) "
                                                "or JIRA_PAT (Data Center)")

    @property
    def uses_basic_auth(self) -> bool:
        """True when email + API token (Cloud style) will be sent."""
        return bool(self.email and self.api_token)

    @property
    def credential_variables(self) -> str:
        """The environment variables that hold the credentials in use, for error messages."""
        if self.variables:
            return self.variables
        if self.uses_basic_auth:
            return "JIRA_EMAIL and JIRA_API_TOKEN"
        if self.pat is not None:
            return "JIRA_PAT"
        return "JIRA_EMAIL and JIRA_API_TOKEN (Cloud) or JIRA_PAT (Data Center)"

    @classmethod
    def for_site(cls, url: str, *, email_var: str | None, token_var: str | None, pat_var: str | None,
                 deployment: Deployment | None = None, env: Mapping[str, str] | None = None,
                 label: str | None = None) -> "JiraSettings":
        """Settings for one site of several: ``url`` and ``deployment`` as configured, the credentials read
        from the environment variables named (``email_var`` + ``token_var``, or ``pat_var``).

        ``JIRA_VERIFY_SSL``, ``JIRA_CA_BUNDLE`` and ``JIRA_TIMEOUT`` apply to every site. Messages name the
        site (``label``) and its variables, never a value. No keyring lookup: the keyring holds one site's
        secrets.
        """
        env = os.environ if env is None else env
        renamed = {"JIRA_EMAIL": email_var, "JIRA_API_TOKEN": token_var, "JIRA_PAT": pat_var}
        local = {name: env[name] for name in ("JIRA_VERIFY_SSL", "JIRA_CA_BUNDLE", "JIRA_TIMEOUT") if name in env}
        local["JIRA_URL"] = url
        for standard, var in renamed.items():
            if var and env.get(var):
                local[standard] = env[var]
        if not ((local.get("JIRA_EMAIL") and local.get("JIRA_API_TOKEN")) or local.get("JIRA_PAT")):
            named = [v for v in (email_var, token_var, pat_var) if v]
            unset = [v for v in named if not (env.get(v) or "").strip()]
            what = " and ".join(unset) + (" is" if len(unset) == 1 else " are")
            raise JiraConfigError(f"Jira site '{label or url}' is not configured: {what} not set (the credentials "
                                  f"of {url}: " + ("email and API token" if email_var and not pat_var else
                                                   "personal access token" if pat_var and not email_var else
                                                   "email and API token, or a personal access token") + ")")
        if local.get("JIRA_EMAIL") and local.get("JIRA_API_TOKEN") and local.get("JIRA_PAT"):
            # Both kinds given: the deployment says which one this site uses.
            local.pop("JIRA_PAT" if deployment == "cloud" else "JIRA_EMAIL")
        try:
            settings = cls.from_env(local, use_keyring=False)
        except JiraConfigError as exc:
            message = str(exc)
            for standard, var in renamed.items():
                if var:
                    message = message.replace(standard, var)
            if label:
                message = message.replace("Jira is not configured", f"Jira site '{label}' is not configured", 1)
            raise JiraConfigError(message) from None
        used = (f"{email_var} and {token_var}" if settings.uses_basic_auth else pat_var) or None
        update: dict[str, Any] = {"variables": used}
        if deployment:
            update["deployment"] = deployment
        return settings.model_copy(update=update)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, *, use_keyring: bool = True) -> "JiraSettings":
        """Build settings from ``JIRA_URL``, ``JIRA_EMAIL``, ``JIRA_API_TOKEN``, ``JIRA_PAT``, ``JIRA_DEPLOYMENT``,
        ``JIRA_VERIFY_SSL`` and ``JIRA_TIMEOUT``.

        A missing secret is looked up in the keyring (service ``jira-portfolio-rollup``,
        usernames ``api_token`` / ``pat``). Raises :class:`JiraConfigError` naming the
        variables to set when the URL or every credential is missing, and naming the variable
        and what it accepts when ``JIRA_DEPLOYMENT``, ``JIRA_VERIFY_SSL`` or ``JIRA_TIMEOUT``
        holds something else.
        """
        env = os.environ if env is None else env

        def get(name: str) -> str | None:
            value = env.get(name)
            return value.strip() if value and value.strip() else None

        url = get("JIRA_URL")
        email = get("JIRA_EMAIL")
        api_token = get("JIRA_API_TOKEN")
        pat = get("JIRA_PAT")
        deployment = get("JIRA_DEPLOYMENT")
        if use_keyring:
            if api_token is None and email is not None:
                api_token = _from_keyring("api_token")
            if pat is None and not (email and api_token):
                pat = _from_keyring("pat")

        problems = []
        if url is None:
            problems.append("JIRA_URL is not set (e.g. https://your-site.atlassian.net).")
        if not ((email and api_token) or pat):
            if email and not api_token:
                problems.append(
                    "JIRA_EMAIL is set but JIRA_API_TOKEN is not (nor in the keyring service "
                    f"{KEYRING_SERVICE!r}, username 'api_token')."
                )
            else:
                problems.append(
                    "No credentials: set JIRA_EMAIL and JIRA_API_TOKEN for Jira Cloud, or JIRA_PAT "
                    f"for Data Center (or store them in the keyring service {KEYRING_SERVICE!r})."
                )

        def parsed(name: str, parse: Callable[[str, str], Any], default: Any) -> Any:
            # Checked with the other variables, so a bad value stops the command before the store is opened.
            raw = get(name)
            try:
                return default if raw is None else parse(name, raw)
            except ValueError as exc:
                problems.append(f"{exc}.")
                return default

        verify_ssl = parsed("JIRA_VERIFY_SSL", parse_flag, True)
        timeout = parsed("JIRA_TIMEOUT", parse_seconds, 60.0)
        if deployment is not None:
            deployment = deployment.lower().replace("-", "").replace("_", "").replace(" ", "")
            deployment = {"server": "datacenter", "dc": "datacenter"}.get(deployment, deployment)
            if deployment not in ("cloud", "datacenter"):
                problems.append(f"JIRA_DEPLOYMENT must be 'cloud' or 'datacenter', got {env.get('JIRA_DEPLOYMENT')!r}.")
        if problems:
            message = "Jira is not configured: " + " ".join(problems)
            raise JiraConfigError(message)
        try:
            return cls(
                url=url,
                email=email,
                api_token=SecretStr(api_token) if api_token else None,
                pat=SecretStr(pat) if pat else None,
                deployment=deployment,
                verify_ssl=verify_ssl,
                ca_bundle=get("JIRA_CA_BUNDLE"),
                timeout=timeout,
            )
        except ValidationError as exc:
            # The validators' own sentences only: pydantic's full text would echo the input value.
            reasons = "; ".join(str(e.get("ctx", {}).get("error") or e["msg"]) for e in exc.errors())
            message = f"Jira is not configured correctly: {reasons}"
            raise JiraConfigError(message) from None
