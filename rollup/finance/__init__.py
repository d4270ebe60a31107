"""Finance: R&D effort and cost by team, pillar, initiative and bucket, capex vs opex, closed months.

>>> result = run_export(store, config, month="2026-10", out_dir="outputs")   # doctest: +SKIP
>>> result.paths                                                              # doctest: +SKIP

Layers: :mod:`~rollup.finance.effort` (the three effort models), :mod:`~rollup.finance.policy`
(capitalization windows and clauses), :mod:`~rollup.finance.rates` (the rates CSV),
:mod:`~rollup.finance.allocation` (detail rows and the tables derived from them, pure),
:mod:`~rollup.finance.adjustments` (changes to closed months), :mod:`~rollup.finance.ledger`
(closed months in the store) and :mod:`~rollup.finance.export` (the pipeline). The workbook and CSVs
are written by :mod:`rollup.writers.finance`.
"""

from rollup.finance.export import ExportResult, close_month, month_status, reopen_month, run_export

__all__ = ["ExportResult", "close_month", "month_status", "reopen_month", "run_export"]
