"""evaluate: put every gold question to a Scrutiny instance and score the ranking and the answer.

Pass one Scrutiny instance for every mode so the query-vector cache is shared.
"""
from __future__ import annotations

from dataclasses import dataclass

from core.records import Answer, Hit
from evaluation.gold import GoldQuestion
from index.units import printed_text, row_lines_of
from evaluation.metrics import (
    QuestionScore, Scores, aggregate, answer_is_correct, first_hit_rank, passage_is_hit, per_tag, ranking_scores, reliability,
)

TOP_TEXT_CHARS = 300


@dataclass
class QuestionResult:
    gold: GoldQuestion
    rank: int | None  # 1-based rank of the first hit; None for a miss or an unanswerable question
    ranking: dict[str, float] | None
    answer_correct: bool | None
    found: bool
    refusal_correct: bool | None
    answer: str
    top_doc: str | None
    top_text: str | None
    confidence: str = "not_found"
    confidence_score: float = 0.0  # the calibrated probability behind `confidence`
    read_as: str | None = None

    @property
    def is_miss(self) -> bool:
        """Retrieval found no hit, the answer was wrong, or the refusal was."""
        if self.gold.answerable:
            return self.rank is None or not self.answer_correct
        return not self.refusal_correct

    def score(self) -> QuestionScore:
        return QuestionScore(self.gold.id, self.gold.tags, self.ranking, self.answer_correct, self.refusal_correct,
                             self.confidence, self.confidence_score)

    def to_json(self) -> dict:
        return {
            "id": self.gold.id, "rank": self.rank, "answer_correct": self.answer_correct, "found": self.found,
            "refusal_correct": self.refusal_correct, "answer": self.answer, "confidence": self.confidence,
            "score": round(self.confidence_score, 4), "read_as": self.read_as, "top_doc": self.top_doc, "top_text": self.top_text,
        }


@dataclass
class EvalResult:
    mode: str
    questions: list[QuestionResult]
    overall: Scores
    tags: dict[str, Scores]

    def metric(self, key: str, tag: str | None = None) -> float | None:
        """One figure of `to_json()`, overall or for one tag."""
        scores = self.overall if tag is None else self.tags[tag]
        return scores.to_json()[key]

    def misses(self) -> list[QuestionResult]:
        return [question for question in self.questions if question.is_miss]

    def reliability(self) -> list[dict]:
        return reliability([question.score() for question in self.questions])

    def to_json(self) -> dict:
        overall = self.overall.to_json()
        return {
            "n": overall.pop("n"), "mode": self.mode, **overall, "reliability": self.reliability(),
            "per_tag": {tag: scores.to_json() for tag, scores in self.tags.items()},
            "per_question": [question.to_json() for question in self.questions],
        }


def excerpt(text: str) -> str:
    collapsed = " ".join(text.split())
    return collapsed if len(collapsed) <= TOP_TEXT_CHARS else collapsed[: TOP_TEXT_CHARS - 1] + "\u2026"


def top_passage(hits: list[Hit], answer: Answer) -> tuple[str | None, str | None]:
    """The first ranked passage, or for a question asked without a ranking, the answer's first citation."""
    if hits:
        return hits[0].document.doc_id, excerpt(hits[0].chunk.text)
    if answer.citations:
        return answer.citations[0].doc_id, excerpt(answer.citations[0].text)
    return None, None


def readings(hit: Hit) -> tuple[str, ...]:
    """A passage's text, its table rows as the paper prints them (cells only), and with the bars between cells dropped."""
    text = hit.chunk.text
    return text, printed_text(text, row_lines_of(hit.chunk)), text.replace(" | ", " ")


def hit_flags(hits: list[Hit], gold: GoldQuestion) -> list[bool]:
    """Whether each passage holds the evidence, however its table rows are written."""
    return [any(passage_is_hit(hit.document.doc_id, text, gold) for text in readings(hit)) for hit in hits]


def evaluate(scrutiny, gold: list[GoldQuestion], mode: str, k: int = 10) -> EvalResult:
    """Rank passages (top k) and ask each answerable question; only ask the unanswerable ones."""
    relevance: dict[str, list[bool]] = {}
    asked: list[tuple[GoldQuestion, list[Hit], Answer]] = []
    for question in gold:
        # A follow-up is searched as it is read in the light of the questions before it.
        read = scrutiny.read(question.question, question.history)
        searched = read.search_analysis(read.analysis())
        hits = scrutiny.search(searched.text, None, mode, k, searched) if question.answerable else []
        if question.answerable:
            relevance[question.id] = hit_flags(hits, question)
        asked.append((question, hits, scrutiny.ask(question.question, None, mode, history=question.history)))
    ranking = ranking_scores(relevance)
    results = []
    for question, hits, answer in asked:
        top_doc, top_text = top_passage(hits, answer)
        answerable = question.answerable
        results.append(QuestionResult(
            gold=question,
            rank=first_hit_rank(relevance[question.id]) if answerable else None,
            ranking=ranking[question.id] if answerable else None,
            answer_correct=answer_is_correct(answer.found, answer.answer, question) if answerable else None,
            found=answer.found,
            refusal_correct=None if answerable else not answer.found,
            answer=answer.answer,
            top_doc=top_doc,
            top_text=top_text,
            confidence=answer.confidence,
            confidence_score=answer.score,
            read_as=answer.read_as,
        ))
    scores = [result.score() for result in results]
    return EvalResult(mode=mode, questions=results, overall=aggregate(scores), tags=per_tag(scores))


def evaluate_modes(scrutiny, gold: list[GoldQuestion], modes: list[str], k: int = 10) -> dict[str, EvalResult]:
    return {mode: evaluate(scrutiny, gold, mode, k) for mode in modes}
