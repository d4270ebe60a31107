"""The pipelines: the one place that knows the order of the stages, called by the CLI and the scheduler.

:mod:`~rollup.jobs.sync` (Jira → store), :mod:`~rollup.jobs.report` (store → mapping → views →
portfolio and team workbooks), :mod:`~rollup.jobs.lint` (the lint run, its outputs and history),
:mod:`~rollup.jobs.writeback` (lint fixes written to Jira), :mod:`~rollup.jobs.finance` (the
month's export, close and reopen), :mod:`~rollup.jobs.demo` (the sample organisation's weeks on a
local Jira) and :mod:`~rollup.jobs.sample_rates` (its rates CSV). The packages below them —
mapping, views, lint rules, finance allocation, writers — import nothing from here.
"""
