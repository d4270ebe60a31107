"""A rates CSV for the sample organisation, generated from code (no real personal data in the repository).

Every team of the shipped mappings.yaml gets a loaded monthly cost for the year and a work location; about
one person in five gets an own hourly rate (some in USD, a few working in Canada), and one role
(``staff-engineer``) covers a few more.

>>> run_sample_rates("outputs/rates.csv", seed=7, issues=3000)   # doctest: +SKIP
"""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

from rollup.finance.rates import COLUMNS
from rollup.writers.safe import atomic_write

#: Monthly loaded cost per team (EUR), by the sample organisation's project key.
TEAM_COST = {"PAY": 11800, "SCH": 10400, "CLIN": 11200, "INT": 10900, "MOB": 10600, "PLAT": 12300,
             "DATA": 11900, "SEC": 12600, "STRAT": 13500}
#: The sample organisation's project keys → team ids of mappings.yaml.
TEAM_IDS = {"PAY": "payments", "SCH": "scheduling", "CLIN": "clinical-records", "INT": "integrations",
            "MOB": "mobile", "PLAT": "platform", "DATA": "data", "SEC": "security"}
#: Where each team works (the rates file's work_location): most in the US, integrations in India, mobile in
#: Poland; a few people work elsewhere than their team.
TEAM_LOCATION = {"PAY": "US", "SCH": "US", "CLIN": "US", "INT": "IN", "MOB": "PL", "PLAT": "US", "DATA": "US",
                 "SEC": "US"}


def sample_rate_rows(org: Any, year: int = 2026) -> list[dict[str, str]]:
    """Rows for ``org``'s teams and some of its people, effective for ``year``."""
    from rollup.localjira.sampledata import PROJECTS

    start, end = f"{year}-01-01", f"{year}-12-31"
    rows = [{"level": "role", "id": "staff-engineer", "monthly_cost": "14200", "currency": "EUR",
             "valid_from": start, "valid_to": end}]
    for key, team in TEAM_IDS.items():
        rows.append({"level": "team", "id": team, "monthly_cost": str(TEAM_COST[key]), "currency": "EUR",
                     "valid_from": start, "valid_to": end, "work_location": TEAM_LOCATION[key]})
    for n, user in enumerate(org.users):
        project = PROJECTS[user.team].key
        ident = user.account_id
        if n % 5 == 1:
            currency, hourly = ("USD", 88 + n % 7) if n % 2 else ("EUR", 71 + n % 9)
            rows.append({"level": "person", "id": ident, "name": user.display_name, "hourly_rate": str(hourly),
                         "currency": currency, "valid_from": start, "valid_to": end,
                         "work_location": "CA" if n % 3 == 0 else ""})
        elif n % 7 == 3 or project == "STRAT":
            rows.append({"level": "person", "id": ident, "name": user.display_name, "role": "staff-engineer",
                         "valid_from": start, "valid_to": end})
    return rows


def rates_csv(rows: list[dict[str, str]]) -> str:
    """Rows as rates CSV text."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(COLUMNS), lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({c: row.get(c, "") for c in COLUMNS})
    return buffer.getvalue()


def write_sample_rates(org: Any, path: str | Path, year: int = 2026) -> Path:
    """Write the sample organisation's rates CSV to ``path`` (atomically)."""
    text = rates_csv(sample_rate_rows(org, year))
    return atomic_write(path, lambda tmp: tmp.write_text(text, encoding="utf-8"))


def run_sample_rates(path: str | Path, *, seed: int = 7, issues: int = 3000, year: int = 2026) -> Path:
    """Generate the sample organisation (``seed``, ``issues``) and write its rates CSV to ``path``."""
    from rollup.localjira.sampleorg import SampleOrg

    return write_sample_rates(SampleOrg.generate(seed=seed, issues=issues), path, year)
