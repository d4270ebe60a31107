"""The sample organisation's fixed data, as named records: issue types, statuses, projects (teams and how
they tag strategy), strategy pillars and OKRs, and the word lists summaries, descriptions and people's
names are made from.

:mod:`rollup.localjira.sampleorg` builds issues from these; the index of a record in its tuple is what
the organisation's columns store (``org.proj[pos]`` indexes :data:`PROJECTS`, ``org.itype[pos]``
:data:`ISSUE_TYPES`, ``org.status[pos]`` :data:`STATUSES`, ``org.invest[pos]`` :data:`PILLARS`).
"""

from __future__ import annotations

from dataclasses import dataclass

#: Seconds in a day.
DAY = 86400


@dataclass(frozen=True, slots=True)
class IssueType:
    """An issue type and its place in the hierarchy."""

    name: str
    level: int  # 2 initiative, 1 epic, 0 story / task / bug, -1 sub-task
    subtask: bool


@dataclass(frozen=True, slots=True)
class Status:
    """A workflow status."""

    id: str
    name: str
    category: str  # a key of STATUS_CATEGORIES


@dataclass(frozen=True, slots=True)
class StatusCategory:
    """A status category as Jira renders it."""

    id: int
    color: str
    name: str


@dataclass(frozen=True, slots=True)
class Project:
    """A Jira project: one team (or the portfolio) and how it tags strategy."""

    key: str
    name: str
    tagging: str  # "portfolio", "labels", "components", "investment", "none" or "mixed"


@dataclass(frozen=True, slots=True)
class Pillar:
    """A strategy pillar and the three ways teams name it."""

    slug: str  # the label is "pillar-" + slug
    name: str  # the option of the "Investment" select field
    component: str
    share: float  # intended share of investment

    @property
    def label(self) -> str:
        """The pillar's label, e.g. ``pillar-enterprise``."""
        return "pillar-" + self.slug


@dataclass(frozen=True, slots=True)
class Okr:
    """A quarterly OKR, under one pillar."""

    label: str
    quarter: str
    objective: str
    pillar: int  # index into PILLARS

    @property
    def component(self) -> str:
        """The OKR's component name, e.g. ``OKR 2026-Q4: ...``."""
        return f"OKR {self.quarter}: {self.objective}"


ISSUE_TYPES = (
    IssueType("Initiative", 2, False),
    IssueType("Epic", 1, False),
    IssueType("Story", 0, False),
    IssueType("Task", 0, False),
    IssueType("Bug", 0, False),
    IssueType("Sub-task", -1, True),
)
T_INIT, T_EPIC, T_STORY, T_TASK, T_BUG, T_SUB = range(6)

STATUSES = (
    Status("10000", "To Do", "new"),
    Status("3", "In Progress", "indeterminate"),
    Status("10001", "In Review", "indeterminate"),
    Status("10002", "Done", "done"),
)
S_TODO, S_PROG, S_REVIEW, S_DONE = range(4)
STATUS_CATEGORIES = {
    "new": StatusCategory(2, "blue-gray", "To Do"),
    "indeterminate": StatusCategory(4, "yellow", "In Progress"),
    "done": StatusCategory(3, "green", "Done"),
}

#: Index 0 is the portfolio project; the others are the eight teams.
PROJECTS = (
    Project("STRAT", "Strategy portfolio", "portfolio"),
    Project("PAY", "Payments", "labels"),
    Project("SCH", "Scheduling", "components"),
    Project("CLIN", "Clinical records", "investment"),
    Project("INT", "Integrations", "none"),
    Project("MOB", "Mobile", "mixed"),
    Project("PLAT", "Platform", "mixed"),
    Project("DATA", "Data", "mixed"),
    Project("SEC", "Security", "mixed"),
)
#: MOB is a team-managed ("simplified") project on Cloud.
TEAM_MANAGED = frozenset({"MOB"})
#: Teams that log work; the others never log time.
LOGGING_TEAMS = frozenset({"PAY", "CLIN", "DATA", "SEC"})
#: A legacy "Team" select field still holds old squad names (the duplicate-name field), one per team.
LEGACY_TEAM_NAMES = ("Billing", "Calendar", "EHR", "Interfaces", "Apps", "Infra", "Analytics", "AppSec")

PILLARS = (
    Pillar("enterprise", "Win enterprise hospitals", "Enterprise hospitals", 0.35),
    Pillar("retention", "Retain and delight clinics", "Clinic retention", 0.25),
    Pillar("growth", "Grow new practices", "New practices", 0.15),
    Pillar("platform", "Platform reliability and compliance", "Reliability & compliance", 0.25),
)
PILLAR_LABELS = frozenset(p.label for p in PILLARS)
PILLAR_COMPONENTS = frozenset(p.component for p in PILLARS)
INVESTMENT_OPTIONS = tuple(p.name for p in PILLARS)

OKRS = (
    Okr("okr-q3-pilots", "2026-Q3", "Land 3 hospital pilots", 0),
    Okr("okr-q3-churn", "2026-Q3", "Cut churn of small clinics to 2%/month", 1),
    Okr("okr-q3-onboarding", "2026-Q3", "Self-serve onboarding for new practices", 2),
    Okr("okr-q3-uptime", "2026-Q3", "99.9% uptime for scheduling and records", 3),
    Okr("okr-q4-sso", "2026-Q4", "Land 5 hospital systems: SSO and audit logs GA", 0),
    Okr("okr-q4-hl7", "2026-Q4", "Land 5 hospital systems: HL7 integration certified", 0),
    Okr("okr-q4-churn", "2026-Q4", "Cut churn of small clinics to 1.5%/month", 1),
    Okr("okr-q4-growth", "2026-Q4", "Grow new practices 20% quarter on quarter", 2),
    Okr("okr-q4-soc2", "2026-Q4", "SOC 2 Type II and HIPAA audit with no findings", 3),
)
OKR_LABELS = frozenset(o.label for o in OKRS)
OKR_COMPONENTS = frozenset(o.component for o in OKRS)

#: Labels some epics carry besides strategy tags (one of them, drawn by index).
EPIC_EXTRA_LABELS = ("hospital", "q4-commit", "customer-ask", "tech-debt")
#: The label every bug reported by a customer carries.
CUSTOMER_REPORTED = "customer-reported"

FIRST_NAMES = ("Ana", "Ben", "Chloe", "Dev", "Elif", "Femi", "Grace", "Hiro", "Ines", "Jon", "Kemi", "Lars",
               "Maya", "Nils", "Omar", "Priya", "Quinn", "Rosa", "Sam", "Tariq")
LAST_NAMES = ("Alvarez", "Brown", "Chen", "Diallo", "Eriksen", "Fischer", "Garcia", "Haddad", "Ito", "Jensen",
              "Kowalski", "Lopez", "Mensah", "Novak", "Okafor", "Patel")

EPIC_TOPICS = (
    "SSO with SAML for hospital networks", "Audit log export for compliance officers",
    "HL7 v2 ADT feed certification", "FHIR patient summary API", "Card-on-file for recurring visits",
    "Clinic no-show reminders by SMS", "Multi-site scheduling for hospital groups", "E-prescribing renewals",
    "Offline mode for home-visit nurses", "Usage-based invoicing", "Role-based access for departments",
    "Data warehouse for clinic benchmarks", "Encryption key rotation", "Self-serve practice onboarding",
    "Waitlist auto-fill", "Lab results inbox", "Insurance eligibility checks", "Uptime SLO dashboards",
)
STORY_VERBS = ("add", "show", "export", "validate", "retry", "sync", "filter", "audit", "cache", "migrate")
STORY_OBJECTS = ("appointment slots", "patient consent", "invoice lines", "HL7 messages", "SSO sessions",
                 "push notifications", "lab orders", "practice settings", "payment refunds", "audit events")

#: Short descriptions (at most 10 words); index 0, the empty one, is never drawn for a "short" description.
SHORT_DESCRIPTIONS = ("", "TBD", "See Slack thread.", "Follow-up from the hospital pilot.",
                      "Needed for the enterprise deal.", "As discussed in planning.")
#: The long description's two parts ({topic} is the issue's summary, lower-cased); >= 30 words together.
DESCRIPTION_WHY = ("Hospitals and clinics told us that {topic} blocks their rollout. Without it "
                   "admins keep spreadsheets on the side and our enterprise deals stall in security review.")
DESCRIPTION_METRIC = ("Success metric: adoption by at least 60% of active practices within one quarter of "
                      "release, and support tickets on this topic down by half.")
