"""A local Jira: a real HTTP server answering like Jira Cloud or Data Center, with a sample organisation.

    from rollup.localjira import LocalJira, SampleOrg, Faults
    org = SampleOrg.generate(seed=7, issues=3000)
    with LocalJira(org, flavour="cloud") as jira:
        ...  # point the connector at jira.url; org.ground_truth holds the epic hygiene truth

It requires the demo credentials (:func:`rollup.localjira.credentials.demo_environment` gives the
``JIRA_*`` variables that carry them) unless started with ``require_auth=False``.
"""

from rollup.localjira.defects import DEFECTS
from rollup.localjira.faults import Faults
from rollup.localjira.sampleorg import SampleOrg
from rollup.localjira.server import LocalJira

__all__ = ["DEFECTS", "Faults", "LocalJira", "SampleOrg"]
