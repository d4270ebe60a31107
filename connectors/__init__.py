"""Connectors: talk to source systems and yield normalized rows. Never imports ``rollup``."""
