"""Whether a commitment was kept, as the answer step reports it: the status with both quotes and their sources.

`target_status(conn, question)` is what an answer to "Did Suffolk meet its target for initial
assessments within 7 working days?" needs: the commitment the question is about, its status, the
sentence that set the target and the later sentence that settled it, each with its paper and date.
"""
from __future__ import annotations

import sqlite3
from dataclasses import dataclass

from commitments.register import RegisterEntry, commitments_for_question


@dataclass
class Quote:
    text: str
    doc_id: str
    chunk_id: int
    date: str | None
    title: str | None


@dataclass
class CommitmentStatus:
    status: str  # "met" | "not met" | "unclear" | "no later report"
    measure: str  # the paper's own phrase for the measure
    target: str | None  # "85%", "no more than 10%"
    due: str | None  # ISO date
    authority: str | None
    commitment: Quote  # the sentence that made the commitment
    follow_up: Quote | None  # the later sentence that settled the status (None: no later report)
    value: str | None  # the figure the follow-up reported, when it gave one

    def to_json(self) -> dict:
        from dataclasses import asdict

        return asdict(self)


def commitment_status(entry: RegisterEntry) -> CommitmentStatus:
    """One register entry as a status with its two quotes."""
    c = entry.commitment
    later = entry.evidence
    return CommitmentStatus(
        status=c.status, measure=c.phrase or c.measure, target=c.target, due=c.due, authority=c.authority,
        commitment=Quote(c.text, c.doc_id, c.chunk_id, c.date, entry.title),
        follow_up=Quote(later.text, later.doc_id, later.chunk_id, later.date, later.title) if later else None,
        value=later.value if later else None,
    )


def target_status(conn: sqlite3.Connection, question: str, authority: str | None = None,
                  limit: int = 3) -> list[CommitmentStatus]:
    """The statuses of the commitments a question asks about, best first (targets with a settled outcome lead).

    The council is `authority` or the one the question names; an empty list when the register has nothing on it.
    """
    return [commitment_status(entry) for entry in commitments_for_question(conn, question, authority)[:limit]]
