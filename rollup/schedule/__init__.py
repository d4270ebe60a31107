"""Scheduled jobs and delivery: ``schedules/*.yaml`` → runs of the same pipeline → outputs, email, history.

* :mod:`rollup.schedule.models` — the schedule files, validated at the door;
* :mod:`rollup.schedule.steps` — the step registry (sync, portfolio, team_reports, lint, finance);
* :mod:`rollup.schedule.runner` — one run of one job (``rollup run`` and the scheduler);
* :mod:`rollup.schedule.scheduler` — the APScheduler daemon (``rollup schedule run``);
* :mod:`rollup.schedule.locks`, :mod:`~rollup.schedule.outputs`, :mod:`~rollup.schedule.delivery`,
  :mod:`~rollup.schedule.history`, :mod:`~rollup.schedule.logs`, :mod:`~rollup.schedule.triggers`.

See ``docs/scheduling.md``.
"""
