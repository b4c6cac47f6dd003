"""Follow-ups: what later papers of the same council said about each commitment, and whether it was kept.

A follow-up is a statement on the same measure in a later paper of the same council. The same
measure in another council's paper is a comparison, never evidence about this council's promise.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from commitments.extract import BROAD_LABELS, DECIDED, Commitment, MeasureReport, Value

# Cosine similarity above which two statements are about the same thing even when their labels differ
# (or are too broad to decide): checked by eye on the seed papers. Every threshold here is for statements
# encoded alone; vectors pooled from their chunk's forward pass (commitments.pooled_vectors) sit closer
# together and blur one statement into its neighbours, so with them follow-up links lose precision.
SAME_MEASURE_SIMILARITY = 0.72
BROAD_LABEL_SIMILARITY = 0.55
# On a shared topic, the least similarity for a promise's follow-up and for a target's follow-up without a figure:
# from the labelled links (commitments/links_labelled.jsonl), where wrong links to promises sat below 0.31.
PROMISE_TOPIC_SIMILARITY = 0.32
TARGET_TOPIC_SIMILARITY = 0.2
# A figure settles a target on a broad topic ("savings and budgets") only from a statement this close to it.
BROAD_VALUE_SIMILARITY = 0.65
# Words like "has been established" settle a commitment only when the statement is plainly about it.
VERDICT_SIMILARITY = 0.6
MAX_FOLLOW_UPS = 6
MAX_COMPARISONS = 3

MET = "met"
NOT_MET = "not met"
NO_LATER_REPORT = "no later report"
UNCLEAR = "unclear"
STATUSES = (MET, NOT_MET, NO_LATER_REPORT, UNCLEAR)

FROM_TO = re.compile(r"from\s+\S+\s+to\s+(\S+)", re.I)


@dataclass
class Link:
    commitment_id: int
    report_id: int
    relation: str  # "follow_up" | "comparison"
    similarity: float
    outcome: str  # met | not met | unclear, as far as this one statement shows
    value: str | None


def same_authority(a: str | None, b: str | None) -> bool:
    return bool(a and b) and a.strip().casefold() == b.strip().casefold()


def measure_similarity(commitment: Commitment, report: MeasureReport, similarity: float) -> bool:
    """Whether a statement is about the commitment's measure: the same specific label, or close in meaning.

    A topic is wide ("looked after children numbers" holds a pilot's findings and a headcount), so a
    promise must also be somewhat close in meaning to a statement on its topic, and a target must be
    unless the statement gives a figure in the target's unit.
    """
    if commitment.measure == report.measure and commitment.measure_known and commitment.measure not in BROAD_LABELS:
        if commitment.kind == "promise":
            return similarity >= PROMISE_TOPIC_SIMILARITY
        if commitment.kind == "target" and comparable_value(commitment, report) is None:
            return similarity >= TARGET_TOPIC_SIMILARITY
        return True
    if commitment.measure == report.measure:
        return similarity >= BROAD_LABEL_SIMILARITY
    if commitment.measure_known and report.measure_known and commitment.measure not in BROAD_LABELS:
        return False  # two specific labels that differ: "core" is not "initial" assessments, however alike the words
    return similarity >= SAME_MEASURE_SIMILARITY


def comparable_value(commitment: Commitment, report: MeasureReport) -> Value | None:
    """The report's value in the unit of the commitment's target; "from 23% to 20%" gives the later 20%."""
    if commitment.target_value is None:
        return None
    unit = commitment.target_value.unit
    candidates = [v for v in report.values if v.unit == unit and plausible_against(v, commitment.target_value)]
    if not candidates:
        return None
    moved = FROM_TO.search(report.text)
    if moved:
        for value in candidates:
            if moved.group(1).startswith(value.text):
                return value
    return candidates[0]


def plausible_against(value: Value, target: Value) -> bool:
    """A count far from the target ("4000 active cases" against 640 children) is another quantity."""
    if value.unit == "%" or target.number == 0:
        return True
    return 0.5 <= value.number / target.number <= 2.0


def outcome_of(commitment: Commitment, report: MeasureReport, similarity: float) -> tuple[str, Value | None]:
    """What one later statement shows: the target met or not, or nothing decisive yet."""
    value = comparable_value(commitment, report)
    if value is not None and commitment.measure in BROAD_LABELS and similarity < BROAD_VALUE_SIMILARITY:
        value = None  # "£128m of Government funding" is not the outturn of a £108.8m savings target
    if value is not None and commitment.target_value is not None:
        target = commitment.target_value.number
        reached = value.number <= target if commitment.direction < 0 else value.number >= target
        if reached:
            return MET, value
        past_due = commitment.due is None or (report.date is not None and report.date >= commitment.due)
        return (NOT_MET if past_due else UNCLEAR), value
    if report.verdict in (MET, NOT_MET) and similarity >= VERDICT_SIMILARITY:
        return report.verdict, report.values[0] if report.values else None
    return UNCLEAR, report.values[0] if report.values else None


def status_of(links: list[Link], reports: dict[int, MeasureReport]) -> tuple[str, int | None]:
    """The commitment's status from its follow-ups: the latest decisive one wins."""
    follow_ups = [link for link in links if link.relation == "follow_up"]
    if not follow_ups:
        return NO_LATER_REPORT, None
    ordered = sorted(follow_ups, key=lambda link: (reports[link.report_id].date or "", link.similarity))
    decisive = [link for link in ordered if link.outcome in (MET, NOT_MET)]
    chosen = decisive[-1] if decisive else ordered[-1]
    return (chosen.outcome if decisive else UNCLEAR), chosen.report_id


def is_later(commitment: Commitment, report: MeasureReport, outcome_docs: frozenset[str]) -> bool:
    """A later paper, or a resolution in the minutes or record of decision of the same day (it settles what the
    day's reports proposed)."""
    if report.date > commitment.date:
        return True
    return (report.date == commitment.date and report.doc_id in outcome_docs and commitment.doc_id not in outcome_docs
            and bool(DECIDED.search(report.text)))


def link_commitments(
    commitments: list[Commitment],
    commitment_vectors: np.ndarray,
    reports: list[MeasureReport],
    report_vectors: np.ndarray,
    outcome_docs: frozenset[str] = frozenset(),
) -> list[Link]:
    """Follow-ups (same council, later paper) and comparisons (another council) for every commitment.

    `outcome_docs` are the papers that record decisions (minutes, records of decision), which follow
    up the same day's reports.
    """
    if not commitments or not reports:
        return []
    similarities = commitment_vectors @ report_vectors.T
    links: list[Link] = []
    for row, commitment in enumerate(commitments):
        if commitment.date is None:
            continue
        follow_ups: list[Link] = []
        comparisons: dict[str, Link] = {}
        for col, report in enumerate(reports):
            if report.doc_id == commitment.doc_id or report.date is None:
                continue
            similarity = float(similarities[row, col])
            if not measure_similarity(commitment, report, similarity):
                continue
            if same_authority(commitment.authority, report.authority):
                if is_later(commitment, report, outcome_docs):
                    outcome, value = outcome_of(commitment, report, similarity)
                    follow_ups.append(Link(commitment.id, report.id, "follow_up", similarity, outcome,
                                           value.text if value else None))
            elif report.authority:
                best = comparisons.get(report.doc_id)
                if best is None or similarity > best.similarity:
                    first = report.values[0].text if report.values else None
                    comparisons[report.doc_id] = Link(commitment.id, report.id, "comparison", similarity, UNCLEAR, first)
        # Statements that carry a comparable figure are the evidence; keep them ahead of mere mentions.
        follow_ups.sort(key=lambda link: (link.value is None or link.outcome == UNCLEAR, -link.similarity))
        links.extend(follow_ups[:MAX_FOLLOW_UPS])
        links.extend(sorted(comparisons.values(), key=lambda link: -link.similarity)[:MAX_COMPARISONS])
    return links
