"""A hand-made epics frame for the roadmap: more open epics with a target date than the chart draws."""

from __future__ import annotations

import pandas as pd

#: The report date the frame is made for.
REPORT_DAY = pd.Timestamp("2026-11-23")
PILLARS = ["ENT", "RET", "GROW", "PLAT", "Unmapped"]
NAMES = {"ENT": "Win enterprise hospitals", "RET": "Retain and delight clinics", "GROW": "Grow new practices",
         "PLAT": "Platform reliability and compliance", "Unmapped": "Unmapped"}


def epic(key: str, target: str | None, *, pillar: str = "ENT", initiative: str | None = "INIT-1",
         rag: str = "on track", start: str | None = None) -> dict:
    """One row of the epics view, with the columns the roadmap reads."""
    return {"key": key, "summary": f"Epic {key}", "initiative": initiative,
            "initiative_summary": f"Initiative {initiative}" if initiative else None, "pillar": pillar,
            "pillar_name": NAMES[pillar], "rag": rag, "start_date": pd.Timestamp(start) if start else pd.NaT,
            "target_date": pd.Timestamp(target) if target else pd.NaT}


def roadmap_epics() -> pd.DataFrame:
    """41 open epics, 39 with a target date, 2 done; the 30 due earliest are PAY-11..PAY-39 and PAY-9.

    PAY-39 … PAY-11 are due on consecutive days from ten days before the report (overdue first); PAY-9
    and PAY-10 share the next day (PAY-9 comes first by key); PAY-1 … PAY-8 are due later, on the
    Grow pillar, which the chart therefore does not draw. Two done epics are due earliest of all.
    """
    first = REPORT_DAY - pd.Timedelta(days=10)
    rows = []
    for n in range(11, 40):
        day = first + pd.Timedelta(days=39 - n)
        rows.append(epic(f"PAY-{n}", str(day.date()), pillar="ENT" if n < 26 else "RET",
                         initiative=("INIT-1", "INIT-2", "INIT-10", None)[n % 4],
                         rag="off track" if day < REPORT_DAY else "on track",
                         start=str((day - pd.Timedelta(days=60)).date()) if n % 3 else None))
    tie = str((first + pd.Timedelta(days=29)).date())
    rows += [epic("PAY-10", tie), epic("PAY-9", tie, pillar="Unmapped", initiative=None, rag="at risk")]
    rows += [epic(f"PAY-{n}", "2027-06-30", pillar="GROW") for n in range(1, 9)]
    rows += [epic("PAY-40", None), epic("PAY-41", None, pillar="PLAT")]
    rows += [epic("DONE-1", "2026-01-05", rag="done"), epic("DONE-2", "2026-02-05", rag="done")]
    frame = pd.DataFrame(rows).sample(frac=1, random_state=3).reset_index(drop=True)  # not in any useful order
    return frame.assign(pillar=pd.Categorical(frame["pillar"], categories=PILLARS, ordered=True))
