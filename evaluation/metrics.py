"""Scoring a ranking and an answer against a gold question.

Ranking metrics come from `ir_measures`. A retrieved passage has no stable id
shared with the gold set (chunk ids change when the chunker does), so each
question's run names passages by their rank ("r1", "r2", ...) and the qrels
mark which ranks hold a hit. Consequently nDCG's ideal ranking is built from
the hits that were retrieved, not from every supporting passage in the index.

Recall@k here means "at least one hit in the top k" (ir_measures' Success@k),
which is what a reader of the first k passages experiences.
"""
from __future__ import annotations

from dataclasses import dataclass
from statistics import fmean

import ir_measures
from ir_measures import RR, Qrel, ScoredDoc, Success, nDCG

from core.text import normalise_for_matching
from evaluation.gold import GoldQuestion

RANKING_MEASURES = {
    "recall@1": Success @ 1,
    "recall@3": Success @ 3,
    "recall@5": Success @ 5,
    "recall@10": Success @ 10,
    "mrr@10": RR @ 10,
    "ndcg@10": nDCG @ 10,
}
RANKING_KEYS = tuple(RANKING_MEASURES)
NO_HIT_DOC = "no-hit"  # a judged-irrelevant placeholder so a question without hits still counts as 0


def contains_any(text: str, needles: list[str]) -> bool:
    haystack = normalise_for_matching(text)
    return any(normalise_for_matching(needle) in haystack for needle in needles if needle.strip())


def passage_is_hit(doc_id: str, text: str, gold: GoldQuestion) -> bool:
    """From one of the gold papers (any paper when none is named) and quoting its evidence.

    A question with no evidence strings is satisfied by any passage of its paper.
    """
    if gold.source_docs and doc_id not in gold.source_docs:
        return False
    return contains_any(text, gold.evidence) if gold.evidence else True


def answer_is_correct(found: bool, answer_text: str, gold: GoldQuestion) -> bool:
    """The answer quotes an accepted answer; a "not found" reply never counts, whatever its wording."""
    return found and contains_any(answer_text, gold.answers)


def first_hit_rank(relevance: list[bool]) -> int | None:
    return next((rank for rank, hit in enumerate(relevance, start=1) if hit), None)


def ranking_run(relevance: dict[str, list[bool]]) -> tuple[list[Qrel], list[ScoredDoc]]:
    """qrels and run for ir_measures, passages keyed by rank, scores falling with rank."""
    qrels, run = [], []
    for query_id, flags in relevance.items():
        qrels.append(Qrel(query_id, NO_HIT_DOC, 0))
        for rank, hit in enumerate(flags, start=1):
            key = f"r{rank}"
            run.append(ScoredDoc(query_id, key, float(len(flags) - rank + 1)))
            if hit:
                qrels.append(Qrel(query_id, key, 1))
    return qrels, run


def ranking_scores(relevance: dict[str, list[bool]]) -> dict[str, dict[str, float]]:
    """Per question: recall@1/3/5/10, mrr@10 and ndcg@10 of its ranked passages' hit flags."""
    scores = {query_id: dict.fromkeys(RANKING_KEYS, 0.0) for query_id in relevance}
    qrels, run = ranking_run(relevance)
    if not run:
        return scores
    key_of = {measure: key for key, measure in RANKING_MEASURES.items()}
    for metric in ir_measures.iter_calc(list(RANKING_MEASURES.values()), qrels, run):
        scores[metric.query_id][key_of[metric.measure]] = float(metric.value)
    return scores


@dataclass
class QuestionScore:
    """What one gold question scored; `ranking` is None for an unanswerable question."""

    id: str
    tags: list[str]
    ranking: dict[str, float] | None
    answer_correct: bool | None
    refusal_correct: bool | None
    confidence: str = "not_found"  # the level the answer came back with
    score: float = 0.0  # the calibrated probability behind it

    @property
    def right(self) -> bool:
        """An answer given for an answerable question that quotes an accepted answer."""
        return bool(self.answer_correct)


@dataclass
class Scores:
    """Means over a set of questions. None where the set has no question of that kind."""

    n: int
    ranking: dict[str, float | None]
    answer_accuracy: float | None
    refusal_accuracy: float | None
    answer_precision: float | None = None  # share of `answer`-level answers that are right
    answer_level_share: float | None = None  # share of answerable questions answered at the `answer` level

    def to_json(self) -> dict:
        return {"n": self.n, **self.ranking, "answer_accuracy": self.answer_accuracy,
                "refusal_accuracy": self.refusal_accuracy, "answer_precision": self.answer_precision,
                "answer_level_share": self.answer_level_share}


def mean_or_none(values: list[float]) -> float | None:
    return fmean(values) if values else None


def aggregate(questions: list[QuestionScore]) -> Scores:
    answerable = [q for q in questions if q.ranking is not None]
    refusals = [q.refusal_correct for q in questions if q.refusal_correct is not None]
    firm = [q for q in questions if q.confidence == "answer"]
    return Scores(
        n=len(questions),
        ranking={key: mean_or_none([q.ranking[key] for q in answerable]) for key in RANKING_KEYS},
        answer_accuracy=mean_or_none([float(bool(q.answer_correct)) for q in answerable]),
        refusal_accuracy=mean_or_none([float(correct) for correct in refusals]),
        answer_precision=mean_or_none([float(q.right) for q in firm]),
        answer_level_share=mean_or_none([float(q.confidence == "answer") for q in answerable]),
    )


def reliability(questions: list[QuestionScore], buckets: int = 5) -> list[dict]:
    """Share of answers right per confidence-score bucket: whether a score of 0.8 means right 8 times in 10.

    Every question counts (an unanswerable one is never right), so the table reads as
    "of the questions that came back with this score, how many were answered correctly".
    """
    rows = []
    for b in range(buckets):
        low, high = b / buckets, (b + 1) / buckets
        inside = [q for q in questions if low <= q.score < high or (b == buckets - 1 and q.score >= 1.0)]
        rows.append({"from": round(low, 2), "to": round(high, 2), "n": len(inside),
                     "right": mean_or_none([float(q.right) for q in inside])})
    return rows


def per_tag(questions: list[QuestionScore]) -> dict[str, Scores]:
    tags = sorted({tag for q in questions for tag in q.tags})
    return {tag: aggregate([q for q in questions if tag in q.tags]) for tag in tags}
