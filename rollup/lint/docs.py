"""Generate ``docs/lint-rules.md`` from the rule registry, so the reference cannot drift from the code.

    python -m rollup.lint.docs > docs/lint-rules.md

``tests/lint/test_rule_docs.py`` fails when the committed file differs from what this prints.
:func:`rule_reference` is also what ``rollup lint rules`` can print for one rule or all.
"""

from __future__ import annotations

from typing import Any

from rollup.lint.base import GROUPS, Rule, all_rules

HEADER = """\
# Epic-quality lint rules

Generated from the rules in `rollup/lint/rules/` by `python -m rollup.lint.docs > docs/lint-rules.md`;
do not edit by hand. `rollup lint` runs them over every epic (hierarchy level 1) of the mapped store.

Choose rules in the `lint:` section of `mappings.yaml` by code, name or group: `select: [ALL]` (the
default) runs every rule, `ignore: [size, EQ053]` turns rules off. Each rule's severity and settings
can be changed under `rules:`, by code or name:

```yaml
lint:
  select: [ALL]
  ignore: [epic-not-updated]
  rules:
    EQ023: {weeks: 20, severity: warning}
    epic-stale: {days: 21}
  owner_field: null              # a custom user field holding the owner (in jira.extra_fields)
  description_sections: [Why, Success metric]
  require_initiative: true
  ignore_label_prefix: lint-ignore-
  ignores:
    - {epic: PAY-12, rule: EQ005, reason: "Tags disagree until the Q1 re-plan", expires: 2026-12-31}
```

An epic is excused from one rule by an entry in `ignores` (reason and expiry required) or by a Jira
label `lint-ignore-<code or name>` on the epic. Expired ignores stop silencing the finding and are
reported, as are ignores that silenced nothing.

"Children" of an epic are its live story-level issues (stories, tasks, bugs; sub-tasks are not
counted). The lint date is `--as-of` (today by default).
"""


def _value(value: Any) -> str:
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(str(v) for v in value) + "]"
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def rule_reference(rule: type[Rule]) -> str:
    """The reference section of one rule, in Markdown."""
    lines = [f"### {rule.code} `{rule.name}`", "", f"**{rule.summary}**", "",
             f"Groups: {', '.join(rule.groups)}. Default severity: {rule.severity}."]
    if rule.config_keys:
        settings = ", ".join(f"`{k}` (default `{_value(v)}`)" for k, v in rule.config_keys.items())
        lines.append(f"Settings: {settings}.")
    lines += ["", f"*Why:* {rule.why}", "", f"*How to fix:* {rule.how_to_fix}", ""]
    return "\n".join(lines)


def generate() -> str:
    """The whole of docs/lint-rules.md."""
    rules = all_rules()
    out = [HEADER, "## Rules", "", "| code | name | groups | severity | settings | message |",
           "|---|---|---|---|---|---|"]
    for rule in rules:
        settings = ", ".join(f"`{k}`={_value(v)}" for k, v in rule.config_keys.items()) or "—"
        out.append(f"| {rule.code} | `{rule.name}` | {', '.join(rule.groups)} | {rule.severity} | {settings} | "
                   f"{rule.summary} |")
    out.append("")
    for group in GROUPS:
        members = [r for r in rules if r.groups[0] == group]
        if not members:
            continue
        out += [f"## {group.capitalize()}", ""]
        out += [rule_reference(r) for r in members]
    return "\n".join(out).rstrip("\n") + "\n"


if __name__ == "__main__":
    print(generate(), end="")
