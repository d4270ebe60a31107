"""Lint write-back: the pure plan (no HTTP), then the whole round trip against the local Jira in both
flavours — labels and comments really change there, a second run changes nothing, fixed epics are
cleaned up, a dry run touches nothing, one broken epic does not stop the others, 429 storms are paced."""

from __future__ import annotations

from datetime import date

import pandas as pd
import pytest

from connectors.jira import JiraSettings
from connectors.jira.transport import Transport
from connectors.jira.write import IssueComment, JiraWriter
from rollup.config.lint import WritebackOptions
from rollup.jobs.writeback import (
    MARKER,
    EpicState,
    WritebackReport,
    cleanup_jql,
    comment_blocks,
    plan,
    run_writeback,
)
from rollup.lint.result import FINDING_COLUMNS, LintResult
from rollup.localjira import LocalJira, SampleOrg
from rollup.localjira.render import Renderer
from rollup.localjira.sampledata import S_DONE, T_EPIC

AS_OF = date(2026, 11, 23)
#: Severity given to each injected defect in these tests (the default min_severity is "warning").
SEVERITY = {"no-initiative": "info", "few-children": "warning", "stale": "warning", "short-description": "warning"}


def finding(key: str, issue_id: int, rule: str, severity: str = "error", message: str | None = None) -> dict:
    return {"key": key, "issue_id": issue_id, "summary": f"Epic {key}", "team_id": "pay", "team": "Payments",
            "owner": None, "owner_id": None, "rule": rule, "name": f"rule-{rule.lower()}", "group": "strategy",
            "severity": severity, "message": message or f"{rule} fired on {key}",
            "how_to_fix": f"Fix {rule}.", "link": None}


def result_of(rows: list[dict]) -> LintResult:
    frame = pd.DataFrame(rows, columns=FINDING_COLUMNS)
    return LintResult(as_of=AS_OF, findings=frame, epics=len({r["key"] for r in rows}))


def ours(blocks) -> IssueComment:
    """A marked comment as Jira would give it back (first line = the marker line)."""
    return IssueComment("900", "\n".join(b if isinstance(b, str) else "\n".join(b) for b in blocks))


# -- plan: pure ----------------------------------------------------------------------------------
def test_plan_labels_and_comments_a_new_offender():
    rows = [finding("PAY-1", 1, "EQ001"), finding("PAY-1", 1, "EQ005", "warning")]
    acts = plan(result_of(rows).findings, WritebackOptions(), {1: EpicState(1, "PAY-1", ("hospital",))})
    assert [(a.key, a.action, a.status) for a in acts] == [("PAY-1", "add-label", "planned"),
                                                          ("PAY-1", "add-comment", "planned")]
    assert acts[0].detail == "rollup-lint"
    assert acts[1].detail == "2 problems: EQ001, EQ005"
    first, intro, items, footer = acts[1].blocks
    assert first.startswith(f"{MARKER} · 2 problems · ref ")
    assert items == ["Error EQ001 (rule-eq001): EQ001 fired on PAY-1. How to fix: Fix EQ001.",
                     "Warning EQ005 (rule-eq005): EQ005 fired on PAY-1. How to fix: Fix EQ005."]


def test_plan_is_all_unchanged_when_jira_already_matches():
    rows = [finding("PAY-1", 1, "EQ001")]
    frame = result_of(rows).findings
    state = EpicState(1, "PAY-1", ("rollup-lint",), (IssueComment("5", "someone else's note"),
                                                     ours(comment_blocks(frame))))
    acts = plan(frame, WritebackOptions(), {1: state})
    assert [(a.action, a.status) for a in acts] == [("add-label", "unchanged"), ("update-comment", "unchanged")]
    assert acts[1].comment_id == "900"


def test_plan_edits_the_comment_in_place_when_findings_change_and_drops_duplicates():
    old = result_of([finding("PAY-1", 1, "EQ001")]).findings
    new = result_of([finding("PAY-1", 1, "EQ001"), finding("PAY-1", 1, "EQ009")]).findings
    dup = IssueComment("901", ours(comment_blocks(old)).text)
    state = EpicState(1, "PAY-1", ("rollup-lint",), (ours(comment_blocks(old)), dup))
    acts = plan(new, WritebackOptions(), {1: state})
    assert [(a.action, a.status, a.comment_id) for a in acts] == [
        ("add-label", "unchanged", None), ("update-comment", "planned", "900"), ("delete-comment", "planned", "901")]
    assert acts[2].detail == "duplicate comment (comment 901)"


def test_plan_cleans_up_a_fixed_epic_and_leaves_other_comments_alone():
    blocks = comment_blocks(result_of([finding("PAY-2", 2, "EQ001")]).findings)
    state = EpicState(2, "PAY-2", ("hospital", "rollup-lint"), (IssueComment("5", "keep me"), ours(blocks)))
    acts = plan(result_of([]).findings, WritebackOptions(), {2: state})
    assert [(a.action, a.status, a.comment_id) for a in acts] == [("remove-label", "planned", None),
                                                                  ("delete-comment", "planned", "900")]
    assert acts[1].detail == "epic is clean (comment 900)"


def test_plan_counts_only_findings_at_or_above_min_severity():
    rows = [finding("PAY-1", 1, "EQ001", "info"), finding("PAY-2", 2, "EQ002", "warning")]
    states = {1: EpicState(1, "PAY-1", ("rollup-lint",)), 2: EpicState(2, "PAY-2", ())}
    warn = plan(result_of(rows).findings, WritebackOptions(), states)
    assert [(a.key, a.action) for a in warn] == [("PAY-1", "remove-label"), ("PAY-2", "add-label"),
                                                 ("PAY-2", "add-comment")]
    errors_only = plan(result_of(rows).findings, WritebackOptions(min_severity="error"), states)
    assert [(a.key, a.action) for a in errors_only] == [("PAY-1", "remove-label")]
    everything = plan(result_of(rows).findings, WritebackOptions(min_severity="info", comment=False), states)
    assert [(a.key, a.action, a.status) for a in everything] == [("PAY-1", "add-label", "unchanged"),
                                                                ("PAY-2", "add-label", "planned")]


def test_plan_without_label_only_comments():
    acts = plan(result_of([finding("PAY-1", 1, "EQ001")]).findings, WritebackOptions(label=None),
                {1: EpicState(1, "PAY-1", ("rollup-lint",))})
    assert [a.action for a in acts] == ["add-comment"]


def test_plan_reports_epics_jira_does_not_have_or_whose_comments_are_unreadable():
    rows = [finding("PAY-1", 1, "EQ001"), finding("PAY-3", 3, "EQ001")]
    states = {3: EpicState(3, "PAY-3", (), None, "could not read its comments: 500")}
    acts = plan(result_of(rows).findings, WritebackOptions(), states)
    assert [(a.key, a.action, a.status) for a in acts] == [
        ("PAY-1", "add-label", "failed"), ("PAY-1", "add-comment", "failed"),
        ("PAY-3", "add-label", "planned"), ("PAY-3", "add-comment", "failed")]
    assert "not found in Jira" in acts[0].error and acts[3].error == "could not read its comments: 500"


def test_comment_digest_follows_content_not_row_order():
    a = [finding("PAY-1", 1, "EQ001"), finding("PAY-1", 1, "EQ002", "warning")]
    assert comment_blocks(result_of(a).findings) == comment_blocks(result_of(a[::-1]).findings)
    changed = [finding("PAY-1", 1, "EQ001", message="now a different message"), a[1]]
    assert comment_blocks(result_of(changed).findings)[0] != comment_blocks(result_of(a).findings)[0]


def test_comment_names_the_ignore_label_the_site_configured():
    rows = [finding("PAY-1", 1, "EQ001")]
    default = plan(result_of(rows).findings, WritebackOptions(), {1: EpicState(1, "PAY-1", ())})[1].blocks
    custom = plan(result_of(rows).findings, WritebackOptions(), {1: EpicState(1, "PAY-1", ())},
                  ignore_label_prefix="hygiene-skip-")[1].blocks
    assert "add the label lint-ignore-<code>." in default[-1]
    assert "add the label hygiene-skip-<code>." in custom[-1] and "lint-ignore-" not in custom[-1]
    assert custom[0] != default[0]  # the digest follows the text, so an existing comment is brought up to date


def test_report_counts_text_and_dict():
    rows = [finding("PAY-1", 1, "EQ001")]
    acts = plan(result_of(rows).findings, WritebackOptions(),
                {1: EpicState(1, "PAY-1", ("rollup-lint",)), 2: EpicState(2, "PAY-2", ("rollup-lint",))})
    report = WritebackReport(acts, applied=False, options=WritebackOptions(), epics=2)
    assert (report.planned, report.unchanged, report.changed, report.failed) == (2, 1, 0, 0)
    text = report.format_text()
    assert "dry run" in text and "PAY-1  add-comment" in text and "PAY-2  remove-label" in text
    assert "add-label       unchanged" not in text  # unchanged actions are counted, not listed
    assert text.splitlines()[-1] == "2 epics: 2 to change, 1 unchanged, 0 failed"
    d = report.to_dict()
    assert d["applied"] is False and d["planned"] == 2 and d["label"] == "rollup-lint"
    assert {a["status"] for a in d["actions"]} == {"planned", "unchanged"}
    assert set(d["actions"][0]) == {"key", "action", "detail", "status", "error"}


def test_cleanup_search_quotes_and_scopes():
    assert cleanup_jql(WritebackOptions(label='odd"label'), "project in (PAY)") == \
        f'(labels = "odd\\"label" OR comment ~ "\\"{MARKER}\\"") AND (project in (PAY))'
    assert cleanup_jql(WritebackOptions(comment=False), None) == 'labels = "rollup-lint"'
    assert cleanup_jql(WritebackOptions(label=None, comment=False), "x") is None


# -- against the local Jira ----------------------------------------------------------------------
SCOPE = "project in (PAY, SCH, CLIN, INT, MOB, PLAT, DATA, SEC)"


def lint_from_truth(org: SampleOrg) -> LintResult:
    """Findings as the lint reports the generator's injected defects (its ground truth)."""
    rows = []
    for key, defects in sorted(org.compute_defects().items()):
        pos = org.position(key)
        rows.extend(finding(key, org.issue_id(pos), f"EQ{i:03d}-{d}", SEVERITY.get(d, "error"), f"{d} on {key}")
                    for i, d in enumerate(defects))
    return result_of(rows)


def offenders(org: SampleOrg) -> set[str]:
    return {k for k, d in org.compute_defects().items() if any(SEVERITY.get(x, "error") != "info" for x in d)}


def settings_for(jira: LocalJira) -> JiraSettings:
    env = {"JIRA_URL": jira.url, "JIRA_EMAIL": "bot@clinicloud.example", "JIRA_API_TOKEN": "tok-wb"} if jira.cloud \
        else {"JIRA_URL": jira.url, "JIRA_PAT": "pat-wb"}
    return JiraSettings.from_env(env, use_keyring=False)


def fast_writer(jira: LocalJira) -> JiraWriter:
    s = settings_for(jira)
    return JiraWriter(s, transport=Transport(s, backoff_base=0.01, max_attempts=3, max_concurrency=4))


def jira_state(org: SampleOrg) -> dict[str, tuple[tuple[str, ...], list[tuple[int, str]]]]:
    """Every epic's labels and comments (id, text) as the local Jira holds them."""
    def comments(p: int) -> list[tuple[int, str]]:
        return [(c.id, Renderer.comment_text(c.body)) for c in org.comments.get(p, [])]

    return {org.key(p): (org.tuples[org.labels[p]], comments(p))
            for p in range(org.size) if org.itype[p] == T_EPIC and not org.deleted[p]}


def edits(jira: LocalJira) -> int:
    return sum(n for ep, n in jira.stats_snapshot()["by_endpoint"].items() if not ep.startswith("GET"))


@pytest.fixture(params=["cloud", "datacenter"])
def jira(request):
    org = SampleOrg.generate(seed=7, issues=1000)
    creds = ("bot@clinicloud.example", "tok-wb") if request.param == "cloud" else "pat-wb"
    with LocalJira(org, flavour=request.param, credentials=creds) as server:
        yield server


def test_dry_run_reads_but_changes_nothing(jira):
    org = jira.org
    before, updated = jira_state(org), list(org.updated)
    report = run_writeback(lint_from_truth(org), WritebackOptions(), settings_for(jira), apply=False, scope=SCOPE)
    n = len(offenders(org))
    assert n > 10
    assert (report.planned, report.changed, report.unchanged, report.failed) == (2 * n, 0, 0, 0)
    assert report.applied is False and report.epics == n
    assert jira_state(org) == before and list(org.updated) == updated and edits(jira) == 0


def test_apply_then_again_then_after_fixes(jira):
    org = jira.org
    settings = settings_for(jira)
    bad = offenders(org)
    events = []
    first = run_writeback(lint_from_truth(org), WritebackOptions(), settings, apply=True, scope=SCOPE,
                          progress=lambda event, n: events.append(event))
    assert (first.changed, first.failed, first.unchanged) == (2 * len(bad), 0, 0)
    assert events.count("written") == len(bad) and events.count("read") == len(bad)
    state = jira_state(org)
    truth = org.compute_defects()
    for key, (labels, comments) in state.items():
        if key in bad:
            assert "rollup-lint" in labels, key
            [(cid, text)] = comments  # exactly one comment
            lines = text.splitlines()
            assert lines[0].startswith(MARKER)
            listed = [d for d in truth[key] if SEVERITY.get(d, "error") != "info"]
            assert all(f"{d} on {key}" in text for d in listed) and "no-initiative on" not in text
        else:
            assert "rollup-lint" not in labels and comments == [], key

    # Second run: nothing to do, nothing sent.
    sent = edits(jira)
    second = run_writeback(lint_from_truth(org), WritebackOptions(), settings, apply=True, scope=SCOPE)
    assert (second.changed, second.failed, second.planned) == (0, 0, 0)
    assert second.unchanged == len(second.actions) == 2 * len(bad)
    assert edits(jira) == sent and jira_state(org) == state

    # Fix one epic completely, and change the problems of another: the first is cleaned up, the
    # second's comment is edited in place (same id).
    fixed = sorted(bad)[0]
    pos = org.position(fixed)
    _fix_epic(org, pos)
    assert fixed not in offenders(org)
    changed = next(k for k in sorted(bad) if k != fixed and "no-target-date" in org.compute_defects()[k]
                   and len(org.compute_defects()[k]) > 1)
    cpos = org.position(changed)
    org.target[cpos] = AS_OF.toordinal() + 30
    comment_id = state[changed][1][0][0]
    third = run_writeback(lint_from_truth(org), WritebackOptions(), settings, apply=True, scope=SCOPE)
    done = sorted((a.key, a.action) for a in third.actions if a.status == "done")
    assert done == sorted([(fixed, "remove-label"), (fixed, "delete-comment"), (changed, "update-comment")])
    assert third.failed == 0
    after = jira_state(org)
    assert "rollup-lint" not in after[fixed][0] and after[fixed][1] == []
    [(cid, text)] = after[changed][1]
    assert cid == comment_id and "no-target-date" not in text and text != state[changed][1][0][1]
    # And once more: quiet again.
    fourth = run_writeback(lint_from_truth(org), WritebackOptions(), settings, apply=True, scope=SCOPE)
    assert (fourth.changed, fourth.failed, fourth.planned) == (0, 0, 0)


def _fix_epic(org: SampleOrg, pos: int) -> None:
    """Give epic ``pos`` everything the hygiene rules ask for (the org is changed in place)."""
    init = next(p for p in range(org.size) if org.level(p) == 2 and not org.deleted[p])
    org.parent[pos] = init
    org.assignee[pos] = next(i for i, u in enumerate(org.users) if u.active and u.team == org.proj[pos])
    org.target[pos] = AS_OF.toordinal() + 60
    org.start[pos] = AS_OF.toordinal() - 30
    org.desc[pos] = 2
    kids = [p for p in range(org.size) if org.parent[p] == pos and org.level(p) == 0 and not org.deleted[p]]
    spare = [p for p in range(org.size) if org.level(p) == 0 and org.epic_of(p) < 0 and not org.deleted[p]]
    for p in spare[: max(0, 3 - len(kids))]:
        org.parent[p] = pos
        kids.append(p)
    for p in kids:
        org.status[p] = S_DONE if org.status[pos] == S_DONE else org.status[p]
        org.status_at[p] = org.now_ts - 3600
    if org.status[pos] != S_DONE and all(org.status[p] == S_DONE for p in kids):
        org.status[kids[0]] = 1  # one child still in progress


def test_a_failing_epic_does_not_stop_the_others(jira):
    org = jira.org
    bad = sorted(offenders(org))
    broken = bad[len(bad) // 2]
    jira.faults.update(fail_issues=[broken])
    report = run_writeback(lint_from_truth(org), WritebackOptions(), settings_for(jira), apply=True, scope=SCOPE,
                           writer=fast_writer(jira))
    failed = [a for a in report.actions if a.status == "failed"]
    assert {a.key for a in failed} == {broken} and report.failed == len(failed) == 2
    assert all(a.error and "still failing" in a.error for a in failed)
    assert report.changed == 2 * (len(bad) - 1)
    assert f"{report.failed} failed" in report.format_text().splitlines()[-1]
    assert f"{broken}" in report.format_text() and "tok-wb" not in report.format_text()
    state = jira_state(org)
    assert state[broken] == (org.tuples[org.labels[org.position(broken)]], []) and "rollup-lint" not in state[broken][0]
    assert all("rollup-lint" in state[k][0] and len(state[k][1]) == 1 for k in bad if k != broken)
    # Once the epic can be edited again, the next run finishes the job and touches nothing else.
    jira.faults.update(fail_issues=())
    again = run_writeback(lint_from_truth(org), WritebackOptions(), settings_for(jira), apply=True, scope=SCOPE)
    assert sorted((a.key, a.action) for a in again.actions if a.status == "done") == [(broken, "add-comment"),
                                                                                     (broken, "add-label")]


def test_429_storms_are_paced_and_retried(jira):
    org = jira.org
    jira.faults.update(rate_limit_per_s=15)
    try:
        report = run_writeback(lint_from_truth(org), WritebackOptions(), settings_for(jira), apply=True, scope=SCOPE,
                               writer=fast_writer(jira))
    finally:
        jira.faults.update(rate_limit_per_s=None)
    assert report.failed == 0 and report.changed == 2 * len(offenders(org))
    assert jira.stats_snapshot()["throttled_total"] > 0
    assert all("rollup-lint" in jira_state(org)[k][0] for k in offenders(org))


def test_epic_deleted_in_jira_is_reported_not_fatal(jira):
    org = jira.org
    result = lint_from_truth(org)
    gone = sorted(offenders(org))[0]
    org.deleted[org.position(gone)] = 1
    report = run_writeback(result, WritebackOptions(), settings_for(jira), apply=True, scope=SCOPE)
    failed = {(a.key, a.action) for a in report.actions if a.status == "failed"}
    assert failed == {(gone, "add-label"), (gone, "add-comment")}
    assert report.changed == 2 * (len(offenders(org)))


def test_id_search_narrows_a_batch_jira_refuses():
    """Data Center answers 400 for ``id in (…)`` naming a deleted issue: the batch is split down to it."""
    from connectors.jira import JiraHTTPError
    from connectors.jira.write import IssueLabels
    from rollup.jobs.writeback import read_states

    class Writer:
        jqls: list[str] = []

        def search_labels(self, jql: str):
            self.jqls.append(jql)
            ids = [int(x) for x in jql.split("(", 1)[1].split(")", 1)[0].split(",")] if jql.startswith("id in") else []
            if 3 in ids:
                raise JiraHTTPError("GET /rest/api/2/search answered 400: A value with ID '3' does not exist",
                                    status=400)
            return [IssueLabels(i, f"PAY-{i}", ()) for i in ids]

    writer = Writer()
    states = read_states(writer, [1, 2, 3, 4, 5], WritebackOptions(label=None, comment=False))
    assert sorted(states) == [1, 2, 4, 5]
    assert "id in (3) ORDER BY id" in writer.jqls
