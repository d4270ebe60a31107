"""``rollup doctor``: is this installation healthy? One line per check: ok, or what to do.

    from rollup.doctor import DoctorOptions, run_checks
    checks = run_checks(DoctorOptions(config_path=Path("mappings.yaml")))
    for c in checks:
        print(c.line())

The checks, in order (:data:`rollup.doctor.runner.CHECKS`): the configuration files
(:mod:`~rollup.doctor.files`); Jira — connection and credentials, TLS, the projects the token can
see, every field role (:mod:`~rollup.doctor.jira`); the store, its field roles and last sync
(:mod:`~rollup.doctor.store`); the server's issue count against the store; the schedules and SMTP
(:mod:`~rollup.doctor.schedules`). Each runs within a time bound; one failing never stops the others.
"""

from rollup.doctor.model import Check, DoctorOptions, exit_code, report_dict, summary_line
from rollup.doctor.runner import CHECKS, run_checks

__all__ = ["CHECKS", "Check", "DoctorOptions", "exit_code", "report_dict", "run_checks", "summary_line"]
