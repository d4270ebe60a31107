"""``rollup localjira``: serve the sample organisation, or print its hygiene ground truth."""

from __future__ import annotations

import dataclasses
import json

import click

from rollup.localjira.credentials import demo_environment
from rollup.localjira.faults import Faults
from rollup.localjira.sampleorg import SampleOrg
from rollup.localjira.server import LocalJira


@click.group("localjira")
def localjira() -> None:
    """A local Jira (Cloud or Data Center flavour) serving a deterministic sample organisation.

    \b
    Example:
      rollup localjira serve --flavour datacenter --issues 10000 --port 8089
      rollup localjira truth --issues 3000 > ground-truth.json
    """


@localjira.command("serve")
@click.option("--flavour", type=click.Choice(["cloud", "datacenter"]), default="cloud", show_default=True)
@click.option("--issues", type=int, default=3000, show_default=True, help="Size of the sample organisation.")
@click.option("--seed", type=int, default=7, show_default=True)
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", type=click.IntRange(0, 65535), default=8089, show_default=True, help="0 picks a free port.")
@click.option("--time-zone", default="America/Los_Angeles", show_default=True, help="The Jira user's time zone.")
@click.option("--latency-ms", type=float, default=0, help="Added to every request.")
@click.option("--per-issue-ms", type=float, default=0, help="Server time per full issue returned.")
@click.option("--rate-limit", type=float, default=None, help="Requests per second per endpoint (429 beyond).")
@click.option("--error-rate", type=float, default=0, help="Share of requests answered 503.")
@click.option("--reset-rate", type=float, default=0, help="Share of connections closed without an answer.")
@click.option("--truncate-rate", type=float, default=0, help="Share of bodies cut short.")
@click.option("--max-page-size", type=int, default=None, help="Cap search pages at this many issues.")
@click.option("--short-page-rate", type=float, default=0,
              help="Share of search pages (not the last) served with fewer issues than their page size.")
@click.option("--repeat-token", is_flag=True, default=False,
              help="Cloud search answers a nextPageToken with the same token again (a paging loop).")
@click.option("--fault-seed", type=int, default=0)
@click.option("--fault", "extra_faults", multiple=True, metavar="NAME=VALUE",
              help="Any other fault of the local Jira, e.g. --fault empty_body_rate=0.1 --fault stale_rate=0.05 "
                   "(names: see POST /_local/faults or docs/architecture.md). Repeatable.")
@click.option("--require-auth/--no-require-auth", default=True, show_default=True,
              help="Answer 401 to requests without the demo credentials it prints; --no-require-auth accepts any.")
def serve(flavour: str, issues: int, seed: int, host: str, port: int, time_zone: str, latency_ms: float,
          per_issue_ms: float, rate_limit: float | None, error_rate: float, reset_rate: float,
          truncate_rate: float, max_page_size: int | None, short_page_rate: float, repeat_token: bool,
          fault_seed: int, require_auth: bool, extra_faults: tuple[str, ...]) -> None:
    """Serve the sample organisation until Ctrl-C.

    Requests must carry the demo credentials it prints (Cloud: Basic with JIRA_EMAIL and
    JIRA_API_TOKEN; Data Center: Bearer JIRA_PAT), unless --no-require-auth.

    Example:

        rollup localjira serve --flavour cloud --issues 3000 --port 8089 --rate-limit 20
    """
    org = SampleOrg.generate(seed=seed, issues=issues)
    faults = Faults(seed=fault_seed, latency_ms=latency_ms, per_issue_ms=per_issue_ms,
                    rate_limit_per_s=rate_limit, error_5xx_rate=error_rate, reset_rate=reset_rate,
                    truncate_rate=truncate_rate, max_page_size=max_page_size, short_page_rate=short_page_rate,
                    repeat_token=repeat_token)
    faults.update(**_parse_faults(extra_faults))
    try:
        jira = LocalJira(org, flavour=flavour, faults=faults, port=port, host=host, time_zone=time_zone,
                         require_auth=require_auth)
    except OSError as exc:
        raise click.ClickException(f"cannot listen on {host}:{port}: {exc.strerror or exc} "
                                   "(another process holds the port? --port 0 picks a free one)") from None
    click.echo(f"Local Jira ({flavour}, {org.size} issues, seed {seed}) at {jira.url}")
    click.echo("Use:" if require_auth else "Use (any credentials are accepted: --no-require-auth):")
    for name, value in demo_environment(jira.url, flavour).items():
        click.echo(f"  export {name}={value}")
    click.echo("Control: POST /_local/advance {\"days\": 7}, POST /_local/faults, GET /_local/ground-truth, "
               "GET /_local/stats. Ctrl-C stops.")
    try:
        jira.serve_forever()
    except KeyboardInterrupt:
        click.echo("stopped")


def _parse_faults(items: tuple[str, ...]) -> dict:
    """``NAME=VALUE`` pairs → fault settings typed like :class:`Faults`' fields; BadParameter naming the item."""
    kinds = {f.name: str(f.type) for f in dataclasses.fields(Faults) if not f.name.startswith("_")}
    out: dict = {}
    for item in items:
        name, sep, raw = item.partition("=")
        name = name.strip().replace("-", "_")
        if not sep or name not in kinds:
            raise click.BadParameter(f"{item!r}: expected NAME=VALUE with NAME one of {', '.join(sorted(kinds))}",
                                     param_hint="--fault")
        kind, raw = kinds[name], raw.strip()
        try:
            if kind == "bool":
                out[name] = raw.lower() in ("1", "true", "yes", "on")
            elif kind.startswith("tuple"):
                out[name] = tuple(v.strip() for v in raw.split(",") if v.strip())
            elif raw.lower() in ("", "none") and "None" in kind:
                out[name] = None
            else:
                out[name] = int(raw) if kind.startswith("int") else float(raw)
        except ValueError:
            raise click.BadParameter(f"{item!r}: {raw!r} is not a number", param_hint="--fault") from None
    return out


@localjira.command("truth")
@click.option("--seed", type=int, default=7, show_default=True)
@click.option("--issues", type=int, default=3000, show_default=True)
def truth(seed: int, issues: int) -> None:
    """Print the epic hygiene ground truth (epic key -> defect names) as JSON.

    Example:

        rollup localjira truth --seed 7 --issues 3000 > truth.json
    """
    org = SampleOrg.generate(seed=seed, issues=issues)
    click.echo(json.dumps(org.ground_truth, indent=2, sort_keys=True))
