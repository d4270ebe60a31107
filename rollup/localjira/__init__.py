"""A local Jira: a real HTTP server answering like Jira Cloud or Data Center, with a sample organisation.

    from rollup.localjira import LocalJira, SampleOrg, Faults
    org = SampleOrg.generate(seed=7, issues=3000)
    with LocalJira(org, flavour="cloud") as jira:
        ...  # point the connector at jira.url; org.ground_truth holds the epic hygiene truth
"""

from rollup.localjira.faults import Faults
from rollup.localjira.sampleorg import DEFECTS, SampleOrg
from rollup.localjira.server import LocalJira

__all__ = ["DEFECTS", "Faults", "LocalJira", "SampleOrg"]
