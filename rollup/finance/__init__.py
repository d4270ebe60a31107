"""Finance: R&D effort and cost by team, pillar, initiative and bucket, capex vs opex, closed months.

Layers: :mod:`~rollup.finance.effort` (the three effort models), :mod:`~rollup.finance.policy`
(capitalization windows and clauses), :mod:`~rollup.finance.rates` (the rates CSV),
:mod:`~rollup.finance.allocation` (detail rows and the tables derived from them, pure),
:mod:`~rollup.finance.adjustments` (changes to closed months) and :mod:`~rollup.finance.ledger`
(closed months in the store). The month's export, close and reopen are the job
:mod:`rollup.jobs.finance`; the workbook and CSVs are written by :mod:`rollup.writers.finance`.
"""
