"""Jira portfolio rollup: portfolio, lint and finance views built from Jira."""
__version__ = "0.1.0"
