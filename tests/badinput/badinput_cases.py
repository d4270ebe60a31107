"""The bad-input corpus: every input a user gives, wrong in the ways people get it wrong.

Each :class:`Case` is one run of the real ``rollup`` command line in its own folder. The folder
holds a copy of the shipped ``mappings.yaml`` (``{config}``), a good rates CSV (``{rates}``), a
small synced store ``rollup.db`` (``{store}``; ``ROLLUP_DATABASE_URL`` points at it) and whatever
``files`` the case adds or replaces. Placeholders in ``args``, ``env``, ``expect`` and ``forbid``:
``{dir}``, ``{config}``, ``{rates}``, ``{store}`` and ``{schedule}`` (``{dir}/schedule.yaml``).

The corpora kept beside the code they test (``tests/mapping/bad``, ``tests/schedule/bad``,
``tests/finance/bad``) are collected here as well, so this is the one place that counts them all.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from corpus import expectation

TESTS = Path(__file__).resolve().parents[1]
FAMILIES = ("config", "schedule", "rates", "env", "store", "cli")


@dataclass(frozen=True)
class Case:
    """One bad input and what the tool must say about it."""

    family: str
    name: str
    #: The ``rollup`` arguments.
    args: tuple[str, ...]
    #: Parts of the message that name what is wrong and where (file and line, variable, or option).
    expect: tuple[str, ...]
    #: Files written into the case folder (replacing the defaults of the same name).
    files: Mapping[str, str | bytes] = field(default_factory=dict)
    #: Environment variables set for the run (every JIRA_*, ROLLUP_* and CONFLUENCE_* is cleared first).
    env: Mapping[str, str] = field(default_factory=dict)
    #: The store in the case folder: ``synced`` (a few issues), ``empty`` (a schema, no issues), ``none``.
    store: str = "synced"
    #: Run ``python -m rollup.cli`` in a child process with a timeout: the cases that used to hang.
    subprocess: bool = False
    #: Text that must never appear (a password, a token).
    forbid: tuple[str, ...] = ()
    exit_code: int = 2

    @property
    def id(self) -> str:
        return f"{self.family}/{self.name}"


@dataclass(frozen=True)
class Outcome:
    """What one case did, for the corpus summary (``conftest.pytest_terminal_summary``)."""

    case: str
    family: str
    seconds: float
    exit_ok: bool
    traceback: bool
    hung: bool
    in_subprocess: bool


#: Every case's outcome in this session.
RESULTS: list[Outcome] = []


def _good_config() -> str:
    return (TESTS.parent / "mappings.yaml").read_text()


def _replace(old: str, new: str) -> str:
    """The shipped mappings.yaml with one passage replaced (it must be there)."""
    text = _good_config()
    assert old in text, old
    return text.replace(old, new, 1)


def _literal(text: str) -> str:
    """``text`` with its braces kept through the placeholder formatting."""
    return text.replace("{", "{{").replace("}", "}}")


def _line_of(text: str, needle: str) -> int:
    return text[:text.index(needle)].count("\n") + 1


def _config_case(name: str, text: str | bytes, expect: tuple[str, ...], *, command: str = "mapping check",
                 subprocess: bool = False) -> Case:
    args = {"mapping check": ("mapping", "check", "--config", "{config}", "--database", "{store}"),
            "lint": ("lint", "--config", "{config}", "--out", "{dir}/out"),
            "report": ("report", "portfolio", "--config", "{config}", "--out", "{dir}/out")}[command]
    return Case("config", name, args, expect, files={"mappings.yaml": text}, subprocess=subprocess)


def _bomb(levels: int) -> str:
    """A "billion laughs": each level lists the one before it ten times (10**levels values)."""
    rows = ["x-laugh0: &l0 [" + ", ".join(["lol"] * 10) + "]"]
    rows += [f"x-laugh{n}: &l{n} [" + ", ".join([f"*l{n - 1}"] * 10) + "]" for n in range(1, levels)]
    return "\n".join(rows) + "\n"


# ---------------------------------------------------------------------------------------- config files

_LONG_FIELD_RULE = """  - id: investment-{name}
    when: {{field: {{name: Investment, regex: '{regex}'}}}}
    set: {{pillar: platform}}
"""


def _with_rule(name: str, regex: str) -> str:
    """The shipped file with one more rule reading the Investment field with ``regex``."""
    text = _good_config()
    head, tail = text.split("\nrules:\n", 1)
    return head + "\nrules:\n" + _LONG_FIELD_RULE.format(name=name, regex=regex) + tail


def config_cases() -> list[Case]:
    good = _good_config()
    sync_line = _line_of(good, "\nsync:") + 1
    nested, overlap, slow = _with_rule("nested", "(a+)+$"), _with_rule("overlap", "^(a|aa)+$"), \
        _with_rule("slow", "(?:.*)(?:.*)(?:.*)x")
    rules_line = _line_of(nested, "  - id: investment-") + 1
    cases = [
        _config_case("not-utf8", good.encode().replace(b"# ", b"# \xff", 1),
                     ("{config}, line 1: not UTF-8 text (byte 0xff at byte offset 2)",)),
        _config_case("utf16", good.encode("utf-16"), ("{config}, line 1: not UTF-8 text (byte 0xff",)),
        _config_case("latin1-comment", _replace("# The projects in scope.", "# Caf\xe9: the projects in scope.")
                     .encode().replace("Caf\xe9".encode(), b"Caf\xe9"),  # one word saved as Latin-1
                     ("{config}, line 6: not UTF-8 text (byte 0xe9",), command="lint"),
        _config_case("nul-character", _replace("overlap_minutes: 15", "overlap_minutes: 15\x00"),
                     ("{config}, line", "character #x0000 is not allowed"), command="report"),
        _config_case("duplicate-sync-section", good + "sync:\n  max_workers: 4\n",
                     (f"{{config}}, line {good.count(chr(10)) + 1}: key 'sync' is given twice in one mapping "
                      f"(lines {sync_line} and {good.count(chr(10)) + 1})",), command="lint"),
        _config_case("regex-nested-quantifier", nested,
                     (f"{{config}}, line {rules_line}: rule 'investment-nested': regex '(a+)+$' is refused",),
                     subprocess=True),
        _config_case("regex-overlapping-alternatives", overlap,
                     (f"{{config}}, line {rules_line}: rule 'investment-overlap': regex '^(a|aa)+$' is refused",),
                     command="lint", subprocess=True),
        _config_case("regex-slow-polynomial", slow,
                     (f"rule investment-slow (mappings.yaml:{rules_line - 1}): regex", "took more than 2 s"),
                     subprocess=True),
        _config_case("alias-bomb", good + _bomb(10), ("{config}, line", "expands to more than 100,000 values"),
                     command="report", subprocess=True),
        _config_case("deep-nesting", good + "x-deep: " + "[" * 5000 + "]" * 5000 + "\n",
                     ("{config}, line", "nested more than 64 levels deep"), subprocess=True),
        _config_case("alias-inside-itself", good + "x-loop: &loop\n  again: *loop\n",
                     ("{config}, line", "alias *loop is inside the value it names"), command="lint"),
        _config_case("empty-file", "", ("{config}: the file is empty",)),
        _config_case("a-list-not-sections", "- jira\n- sync\n", ("{config}, line 1: expected a mapping of sections",)),
        _config_case("tab-indentation", _replace("  overlap_minutes: 15", "\toverlap_minutes: 15"),
                     ("{config}, line", "not valid YAML"), command="report"),
        _config_case("project-key-with-space", _replace("projects: [PAY, SCH,", "projects: [PAY, 'SCH X',"),
                     ("{config}, line", "'SCH X' is not a Jira project key"), command="lint"),
        _config_case("project-key-jql-injection", _replace("projects: [PAY, SCH,", "projects: [PAY, 'SCH) OR (1=1',"),
                     ("{config}, line", "is not a Jira project key"), command="report"),
        _config_case("date-that-does-not-exist", _replace("holidays: [2026-01-01,", "holidays: [2026-02-30,"),
                     ("{config}, line", "day is out of range for month"), command="report"),
        Case("config", "missing-file", ("mapping", "check", "--config", "{dir}/nope.yaml", "--database", "{store}"),
             ("{dir}/nope.yaml: file not found; pass --config PATH",)),
        Case("config", "missing-file-report",
             ("report", "portfolio", "--config", "{dir}/nope.yaml", "--out", "{dir}/out"),
             ("{dir}/nope.yaml: file not found",)),
        Case("config", "a-folder", ("report", "portfolio", "--config", "{dir}", "--out", "{dir}/out"),
             ("Invalid value for '--config'", "'{dir}' is a directory")),
    ]
    for path in sorted((TESTS / "mapping" / "bad").glob("*.yaml")):
        message, line = expectation(path)
        command = "lint" if path.stem.startswith("lint-") else "mapping check"
        cases.append(_config_case(f"mapping-bad/{path.stem}", path.read_text(),
                                  (f"{{config}}, line {line}:", _literal(message)), command=command))
    for path in sorted((TESTS / "finance" / "bad").glob("*.yaml")):
        message, line = expectation(path)
        cases.append(Case("config", f"finance-bad/{path.stem}",
                          ("finance", "export", "--month", "2026-10", "--config", "{config}", "--rates", "{rates}",
                           "--out", "{dir}/out", "--database", "{store}"),
                          (f"{{config}}, line {line}:", _literal(message)), files={"mappings.yaml": path.read_text()}))
    return cases


# ---------------------------------------------------------------------------------------- schedule files

_JOB = """jobs:
  - name: weekly
    cron: "0 7 * * mon"
    steps: [portfolio]
"""


def _schedule_case(name: str, text: str | bytes, expect: tuple[str, ...], *, args: tuple[str, ...] | None = None,
                   subprocess: bool = False, files: Mapping[str, str] | None = None) -> Case:
    return Case("schedule", name, args or ("run", "weekly", "--schedules", "{schedule}"), expect,
                files={"schedule.yaml": text, **(files or {})}, subprocess=subprocess)


def schedule_cases() -> list[Case]:
    cases = [
        _schedule_case("not-utf8", _JOB.encode() + b"# r\xe9sum\xe9\n", ("{schedule}, line 5: not UTF-8 text",)),
        _schedule_case("alias-bomb", _JOB + _bomb(10), ("{schedule}, line", "expands to more than 100,000 values"),
                       subprocess=True),
        _schedule_case("duplicate-job-key", _JOB + "    cron: \"0 8 * * fri\"\n",
                       ("{schedule}, line 5: key 'cron' is given twice in one mapping (lines 3 and 5)",)),
        _schedule_case("as-of-out-of-range", _JOB + "    as_of: 1999-12-31\n",
                       ("{schedule}, line 5", "1999-12-31 is out of range")),
        _schedule_case("output-is-a-file", _JOB + "    output: report.xlsx\n",
                       ("{schedule}:2: job 'weekly' writes to report.xlsx, but report.xlsx is a file",),
                       files={"report.xlsx": "not a folder"}),
        _schedule_case("config-is-a-folder", _JOB + "    config: sub\n", ("{schedule}:2:", "'config: sub' is a folder"),
                       files={"sub/keep.txt": "x"}),
        _schedule_case("config-missing", _JOB + "    config: other.yaml\n",
                       ("{schedule}:2:", "mappings file other.yaml not found")),
        _schedule_case("empty-file", "", ("{schedule}: the file is empty",), args=("schedule", "list", "--schedules",
                                                                                  "{schedule}")),
        _schedule_case("unknown-job", _JOB, ("no job named 'weekly-portfolo' in {schedule}; jobs: weekly",),
                       args=("run", "weekly-portfolo", "--schedules", "{schedule}")),
        Case("schedule", "missing-path", ("schedule", "list", "--schedules", "{dir}/nope"),
             ("{dir}/nope: not found; pass --schedules",)),
        Case("schedule", "folder-without-yaml", ("schedule", "run", "--once", "--schedules", "{dir}/sub"),
             ("{dir}/sub: no *.yaml schedule files",), files={"sub/notes.txt": "x"}),
    ]
    for path in sorted((TESTS / "schedule" / "bad").glob("*.yaml")):
        message, line = expectation(path)
        cases.append(_schedule_case(f"schedule-bad/{path.stem}", path.read_text(),
                                    (f"{{schedule}}, line {line}:", _literal(message))))
    return cases


# ---------------------------------------------------------------------------------------- rates CSVs

GOOD_RATES = """level,id,name,role,hourly_rate,monthly_cost,currency,valid_from,valid_to
team,payments,,,90,,EUR,2026-01-01,
team,scheduling,,,85,,EUR,2026-01-01,
team,clinical-records,,,88,,EUR,2026-01-01,
team,integrations,,,87,,EUR,2026-01-01,
team,mobile,,,86,,EUR,2026-01-01,
team,platform,,,92,,EUR,2026-01-01,
team,data,,,91,,EUR,2026-01-01,
team,security,,,95,,EUR,2026-01-01,
"""


def _rates_case(name: str, text: str | bytes, expect: tuple[str, ...], **kwargs: object) -> Case:
    args = ("finance", "export", "--month", "2026-10", "--config", "{config}", "--rates", "{rates}",
            "--out", "{dir}/out", "--database", "{store}")
    return Case("rates", name, args, expect, files={"rates.csv": text}, **kwargs)  # type: ignore[arg-type]


#: Rows added after the good ones, each wrong in one way, and what the message says about its line.
_BAD_ROWS = {
    "nan-rate": ("team,data,,,nan,,EUR,2027-01-01,", "hourly_rate 'nan' is not a number"),
    "infinite-rate": ("team,data,,,,inf,EUR,2027-01-01,", "monthly_cost 'inf' is not a number"),
    "negative-rate": ("team,data,,,-5,,EUR,2027-01-01,", "hourly_rate -5 is negative"),
    "too-many-values": ("team,data,,,1,,EUR,2027-01-01,,x", "10 values, but the header names 9 columns"),
    "field-too-large": ("team,data," + "x" * 200_000 + ",,1,,EUR,2027-01-01,",
                        "not a CSV file the rates can be read from"),
    "decimal-comma": ('team,data,,,"88,5",,EUR,2027-01-01,', "hourly_rate '88,5' is not a number; write decimals"),
    "unknown-currency": ("team,data,,,1,,EUX,2027-01-01,", "unknown currency 'EUX'; did you mean 'EUR'?"),
    "bad-date": ("team,data,,,1,,EUR,2027-02-30,", "valid_from '2027-02-30' is not a date"),
    "ends-before-it-starts": ("team,data,,,1,,EUR,2027-05-01,2027-01-01",
                              "valid_to 2027-01-01 is before valid_from 2027-05-01"),
    "both-rates": ("team,data,,,1,2,EUR,2027-01-01,", "give hourly_rate or monthly_cost, not both"),
}


def _located(*rows: str) -> str:
    """The good rates with the optional work_location column, and ``rows`` after them."""
    lines = GOOD_RATES.splitlines()
    return "\n".join([lines[0] + ",work_location", *(line + "," for line in lines[1:]), *rows]) + "\n"


def rates_cases() -> list[Case]:
    last = GOOD_RATES.count("\n") + 1
    cases = [_rates_case(name, GOOD_RATES + row + "\n", (f"{{rates}}, line {last}: {message}",))
             for name, (row, message) in _BAD_ROWS.items()]
    return cases + [
        _rates_case("not-utf8", (GOOD_RATES + "team,data,Caf\xe9,,1,,EUR,2027-01-01,\n").encode("latin-1"),
                    (f"{{rates}}, line {last}: not UTF-8 text (byte 0xe9",)),
        _rates_case("column-twice", GOOD_RATES.replace("valid_to", "valid_to,level", 1),
                    ("{rates}, line 1: column 'level' appears 2 times",)),
        _rates_case("semicolons", GOOD_RATES.replace(",", ";"), ("{rates}, line 1: the columns are separated by ';'",)),
        _rates_case("misspelt-column", GOOD_RATES.replace("monthly_cost", "monthly_costs", 1),
                    ("{rates}, line 1: unknown column 'monthly_costs'; did you mean 'monthly_cost'?",)),
        _rates_case("overlapping-periods", GOOD_RATES + "team,payments,,,99,,EUR,2026-06-01,\n",
                    (f"{{rates}}, lines 2 and {last}: overlapping rate periods for team 'payments'",)),
        _rates_case("empty-file", "", ("{rates}, line 1: missing column(s) level, id, currency, valid_from",)),
        _rates_case("work-location-not-a-country", _located("team,data,,,1,,EUR,2027-01-01,,Germany"),
                    (f"{{rates}}, line {last}: work_location 'Germany' is not a country code",)),
        _rates_case("work-location-on-a-role", _located("role,lead,,,,9000,EUR,2027-01-01,,US"),
                    (f"{{rates}}, line {last}: work_location 'US' on a role row",)),
        _rates_case("two-locations-at-once", _located("person,u1,,,80,,EUR,2026-01-01,,US",
                                                      "person,u1,,lead,,,,2026-06-01,,DE"),
                    (f"{{rates}}, lines {last} and {last + 1}: person 'u1' works in US and DE at once",)),
        Case("rates", "missing-file", ("finance", "export", "--month", "2026-10", "--config", "{config}", "--rates",
                                       "{dir}/nope.csv", "--out", "{dir}/out", "--database", "{store}"),
             ("{dir}/nope.csv: rates file not found (named by --rates)",)),
    ]


# ---------------------------------------------------------------------------------------- environment

_JIRA = {"JIRA_URL": "http://127.0.0.1:9", "JIRA_PAT": "tok-SECRET-1234"}
_SYNC = ("sync", "--config", "{config}")
_EMAIL_JOB = _JOB + "    deliver: {email: {to: [ceo@clinicloud.example]}}\n"
_CONFLUENCE_JOB = _JOB + "    deliver: {confluence: {space: PORT}}\n"


def _env_case(name: str, env: Mapping[str, str], expect: tuple[str, ...], *, args: tuple[str, ...] = _SYNC,
              files: Mapping[str, str] | None = None, forbid: tuple[str, ...] = ("tok-SECRET-1234",),
              store: str = "synced") -> Case:
    return Case("env", name, args, expect, files=files or {}, env=env, forbid=forbid, store=store)


def env_cases() -> list[Case]:
    report = ("report", "portfolio", "--config", "{config}", "--out", "{dir}/out")
    run = ("run", "weekly", "--schedules", "{schedule}")
    smtp = {"ROLLUP_SMTP_HOST": "smtp.example"}
    return [
        _env_case("database-url-not-a-url", {"ROLLUP_DATABASE_URL": "not a url"},
                  ("ROLLUP_DATABASE_URL='not a url' is not a database URL; give sqlite:///PATH",), args=report),
        _env_case("database-url-unsupported", {"ROLLUP_DATABASE_URL": "mysql://u:hunter2@db/rollup"},
                  ("ROLLUP_DATABASE_URL='mysql://u:***@db/rollup': 'mysql' databases are not supported",),
                  args=("lint", "--config", "{config}", "--out", "{dir}/out"), forbid=("hunter2",)),
        _env_case("database-url-bad-port", {"ROLLUP_DATABASE_URL": "postgresql://u:hunter2@db:port/rollup"},
                  ("ROLLUP_DATABASE_URL=", "is not a database URL"), args=report, forbid=("hunter2",)),
        _env_case("database-url-a-folder", {"ROLLUP_DATABASE_URL": "sqlite:///{dir}/sub"},
                  ("ROLLUP_DATABASE_URL='sqlite:///{dir}/sub': {dir}/sub is a folder",), args=report,
                  files={"sub/keep.txt": "x"}),
        _env_case("jira-timeout-negative", {**_JIRA, "JIRA_TIMEOUT": "-1"},
                  ("JIRA_TIMEOUT must be a number of seconds greater than 0 (e.g. 60), got '-1'",), store="none"),
        _env_case("jira-timeout-zero", {**_JIRA, "JIRA_TIMEOUT": "0"}, ("JIRA_TIMEOUT must be a number",),
                  store="none"),
        _env_case("jira-timeout-text", {**_JIRA, "JIRA_TIMEOUT": "abc"}, ("JIRA_TIMEOUT", "got 'abc'"), store="none"),
        _env_case("jira-timeout-nan", {**_JIRA, "JIRA_TIMEOUT": "nan"}, ("JIRA_TIMEOUT", "got 'nan'"), store="none"),
        _env_case("jira-verify-ssl-word", {**_JIRA, "JIRA_VERIFY_SSL": "maybe"},
                  ("JIRA_VERIFY_SSL must be true or false", "got 'maybe'"), store="none"),
        _env_case("jira-deployment", {**_JIRA, "JIRA_DEPLOYMENT": "onprem"},
                  ("JIRA_DEPLOYMENT must be 'cloud' or 'datacenter', got 'onprem'",), store="none"),
        _env_case("jira-url-not-http", {**_JIRA, "JIRA_URL": "ftp://jira.example"},
                  ("JIRA_URL must be an http:// or https:// address",), store="none"),
        _env_case("jira-url-with-password", {**_JIRA, "JIRA_URL": "https://me:hunter2@jira.example"},
                  ("JIRA_URL must not contain a user name or password",), forbid=("hunter2", "tok-SECRET-1234"),
                  store="none"),
        _env_case("jira-url-missing", {"JIRA_PAT": "tok-SECRET-1234"}, ("JIRA_URL is not set",), store="none"),
        _env_case("jira-timeout-in-a-scheduled-sync", {**_JIRA, "JIRA_TIMEOUT": "-1"},
                  ("{schedule}:2: job 'weekly' syncs from Jira", "JIRA_TIMEOUT must be a number"),
                  args=run, files={"schedule.yaml": _JOB.replace("[portfolio]", "[sync, portfolio]")}),
        _env_case("smtp-port-text", {**smtp, "ROLLUP_SMTP_PORT": "abc"},
                  ("ROLLUP_SMTP_PORT must be a port number from 1 to 65535, got 'abc'",), args=run,
                  files={"schedule.yaml": _EMAIL_JOB}),
        _env_case("smtp-port-too-big", {**smtp, "ROLLUP_SMTP_PORT": "70000"}, ("ROLLUP_SMTP_PORT must be a port",),
                  args=run, files={"schedule.yaml": _EMAIL_JOB}),
        _env_case("smtp-ssl-word", {**smtp, "ROLLUP_SMTP_SSL": "maybe"}, ("ROLLUP_SMTP_SSL must be true or false",),
                  args=run, files={"schedule.yaml": _EMAIL_JOB}),
        _env_case("smtp-timeout-negative", {**smtp, "ROLLUP_SMTP_TIMEOUT": "-5"},
                  ("ROLLUP_SMTP_TIMEOUT must be a number of seconds greater than 0",), args=run,
                  files={"schedule.yaml": _EMAIL_JOB}),
        _env_case("smtp-host-missing", {}, ("email delivery needs ROLLUP_SMTP_HOST",), args=run,
                  files={"schedule.yaml": _EMAIL_JOB}),
        _env_case("confluence-url-not-http", {"CONFLUENCE_URL": "wiki.acme", "CONFLUENCE_PAT": "tok-SECRET-1234"},
                  ("CONFLUENCE_URL must be an http:// or https:// address",), args=run,
                  files={"schedule.yaml": _CONFLUENCE_JOB}),
        _env_case("rates-variable-names-a-missing-file", {"ROLLUP_RATES": "{dir}/nope.csv"},
                  ("{dir}/nope.csv: rates file not found (named by ROLLUP_RATES)",),
                  args=("finance", "export", "--month", "2026-10", "--config", "{config}", "--out", "{dir}/out",
                        "--database", "{store}")),
    ]


# ---------------------------------------------------------------------------------------- store files

def _store_case(name: str, args: tuple[str, ...], expect: tuple[str, ...], *, store: str = "synced",
                files: Mapping[str, str | bytes] | None = None, env: Mapping[str, str] | None = None) -> Case:
    return Case("store", name, args, expect, files=files or {}, store=store, env=env or {})


def store_cases() -> list[Case]:
    report = ("report", "portfolio", "--config", "{config}", "--out", "{dir}/out")
    empty = "the store at sqlite:///{dir}/rollup.db holds no issues; run `rollup sync` first"
    rates = ("--rates", "{rates}", "--out", "{dir}/out")
    return [
        _store_case("text-file", report, ("{dir}/rollup.db is not a rollup store (file is not a database)",),
                    store="none", files={"rollup.db": "these are my notes\n"}),
        _store_case("text-file-by-option", ("mapping", "check", "--config", "{config}", "--database",
                                            "sqlite:///{dir}/notes.db"),
                    ("{dir}/notes.db is not a rollup store",), files={"notes.db": "hello\n"}),
        _store_case("binary-garbage", ("finance", "export", "--month", "2026-10", "--config", "{config}", *rates,
                                       "--database", "sqlite:///{dir}/junk.db"),
                    ("{dir}/junk.db is not a rollup store",), files={"junk.db": bytes(range(256)) * 64}),
        _store_case("a-folder-by-option", ("mapping", "check", "--config", "{config}", "--database", "sqlite:///{dir}"),
                    ("--database='sqlite:///{dir}': {dir} is a folder",)),
        _store_case("empty-portfolio", report, (empty,), store="empty"),
        _store_case("empty-team-report", ("report", "team", "payments", "--config", "{config}", "--out", "{dir}/out"),
                    (empty,), store="empty"),
        _store_case("empty-lint", ("lint", "--config", "{config}", "--out", "{dir}/out"), (empty,), store="empty"),
        _store_case("empty-mapping-check", ("mapping", "check", "--config", "{config}", "--database", "{store}"),
                    (empty,), store="empty"),
        _store_case("empty-finance-export", ("finance", "export", "--month", "2026-10", "--config", "{config}",
                                             *rates, "--database", "{store}"), (empty,), store="empty"),
        _store_case("zero-byte-file", report, (empty,), store="none", files={"rollup.db": b""}),
        _store_case("missing-file", report, (empty,), store="none"),
        _store_case("missing-default-store", ("lint", "--config", "{config}", "--out", "{dir}/out"),
                    ("holds no issues; run `rollup sync` first",), store="none", env={"ROLLUP_DATABASE_URL": ""}),
    ]


# ---------------------------------------------------------------------------------------- CLI values

def _cli_case(name: str, args: tuple[str, ...], expect: tuple[str, ...], **kwargs: object) -> Case:
    return Case("cli", name, args, expect, **kwargs)  # type: ignore[arg-type]


def cli_cases() -> list[Case]:
    portfolio = ("report", "portfolio", "--config", "{config}")
    lint = ("lint", "--config", "{config}", "--out", "{dir}/out")
    export = ("finance", "export", "--config", "{config}", "--rates", "{rates}", "--out", "{dir}/out", "--database",
              "{store}")
    return [
        _cli_case("as-of-month-13", (*portfolio, "--as-of", "2026-13-01"),
                  ("Invalid value for '--as-of'", "'2026-13-01' is not a date; write it as YYYY-MM-DD")),
        _cli_case("as-of-year-1", (*portfolio, "--as-of", "0001-01-01"),
                  ("Invalid value for '--as-of': 0001-01-01 is out of range",)),
        _cli_case("as-of-year-9999", (*lint, "--as-of", "9999-12-31"),
                  ("Invalid value for '--as-of': 9999-12-31 is out of range",)),
        _cli_case("as-of-a-word", (*lint, "--as-of", "tomorrow"), ("Invalid value for '--as-of': 'tomorrow'",)),
        _cli_case("month-13", (*export, "--month", "2026-13"),
                  ("month '2026-13' is not a month; write it as YYYY-MM",)),
        _cli_case("month-year-0", (*export, "--month", "0000-01"), ("month '0000-01' is out of range",)),
        _cli_case("month-a-word", (*export, "--month", "October"), ("'October' is not a month",)),
        _cli_case("close-month-13", ("finance", "close", "13", "--config", "{config}", "--database", "{store}"),
                  ("month '13' is not a month",)),
        _cli_case("reopen-without-reason", ("finance", "reopen", "2026-10", "--confirm", "--database", "{store}"),
                  ("reopening needs a reason", "--reason")),
        _cli_case("unknown-team-portfolio", (*portfolio, "--team", "nobody", "--out", "{dir}/out"),
                  ("unknown team 'nobody'; known teams:",)),
        _cli_case("unknown-team-report", ("report", "team", "nobody", "--config", "{config}", "--out", "{dir}/out"),
                  ("unknown team 'nobody'",)),
        _cli_case("unknown-team-lint", (*lint, "--team", "nobody"), ("unknown team 'nobody' (--team)",)),
        _cli_case("blank-team-portfolio", (*portfolio, "--team", " ", "--out", "{dir}/out"),
                  ("Invalid value for '--team': must not be empty",)),
        _cli_case("blank-team-report", ("report", "team", "", "--config", "{config}", "--out", "{dir}/out"),
                  ("Invalid value for 'TEAM': must not be empty",)),
        _cli_case("unknown-rule", (*lint, "--select", "EQ999"), ("--select: unknown rule or group 'EQ999'",)),
        _cli_case("empty-select", (*lint, "--select", ","), ("Invalid value for --select: give at least one rule",)),
        _cli_case("apply-with-team", (*lint, "--apply", "--team", "payments"),
                  ("--apply writes back the whole lint result; it cannot be combined with --select or --team",)),
        _cli_case("out-is-a-file", (*portfolio, "--out", "{dir}/report.xlsx"),
                  ("Invalid value for '--out': Directory '{dir}/report.xlsx' is a file",),
                  files={"report.xlsx": "a workbook"}),
        _cli_case("out-inside-a-file-lint", ("lint", "--config", "{config}", "--out", "{dir}/report.xlsx/lint"),
                  ("Invalid value for '--out'", "which is a file, not a folder"), files={"report.xlsx": "x"}),
        _cli_case("out-inside-a-file-finance", ("finance", "export", "--month", "2026-10", "--config", "{config}",
                                                "--rates", "{rates}", "--out", "{dir}/report.xlsx/f", "--database",
                                                "{store}"),
                  ("Invalid value for '--out'", "which is a file"), files={"report.xlsx": "x"}),
        _cli_case("sample-rates-inside-a-file", ("finance", "sample-rates", "--out", "{dir}/report.xlsx/rates.csv"),
                  ("Invalid value for '--out'", "which is a file"), files={"report.xlsx": "x"}),
        _cli_case("base-url-not-http", (*portfolio, "--base-url", "jira.example", "--out", "{dir}/out"),
                  ("Invalid value for '--base-url': 'jira.example' is not an http:// or https:// address",)),
        _cli_case("since-in-the-future", ("sync", "--since", "2999-01-01", "--config", "{config}"),
                  ("Invalid value for --since", "is in the future"), env=_JIRA, store="none"),
        _cli_case("since-before-2000", ("sync", "--since", "1900-01-01", "--config", "{config}"),
                  ("Invalid value for --since: 1900-01-01 is out of range",), env=_JIRA, store="none"),
        _cli_case("format-unknown", ("mapping", "check", "--config", "{config}", "--format", "xml"),
                  ("Invalid value for '--format'",)),
        _cli_case("fail-on-unknown", (*lint, "--fail-on", "fatal"), ("Invalid value for '--fail-on'",)),
        _cli_case("runs-limit-zero", ("runs", "--limit", "0"), ("Invalid value for '--limit'",)),
        _cli_case("demo-too-few-issues", ("demo", "--issues", "10"), ("Invalid value for '--issues'",), store="none"),
        _cli_case("job-without-once", ("schedule", "run", "--job", "weekly", "--schedules", "{schedule}"),
                  ("Invalid value for --job: --job only applies with --once",), files={"schedule.yaml": _JOB}),
        _cli_case("config-a-folder", ("mapping", "check", "--config", "{dir}"),
                  ("Invalid value for '--config'", "is a directory")),
        _cli_case("diff-missing-file", ("mapping", "diff", "{config}", "{dir}/proposed.yaml"),
                  ("'{dir}/proposed.yaml' does not exist",)),
    ]


def all_cases() -> list[Case]:
    """Every case, family by family."""
    cases = [*config_cases(), *schedule_cases(), *rates_cases(), *env_cases(), *store_cases(), *cli_cases()]
    ids = [c.id for c in cases]
    assert len(ids) == len(set(ids)), "case names must be unique"
    return cases
