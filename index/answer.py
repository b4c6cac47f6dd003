"""compose_answer: the sentences from the best passages that answer the question, with citations.

Every line of an answer is a quotation from a paper. When nothing scores well
enough the answer says so and shows the nearest passages instead.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from core.records import Answer, Citation, Hit
from core.settings import AnswerSettings
from index.query import QueryAnalysis, analyse_question, tokens_of

NOT_FOUND = "The papers do not appear to answer this question. The nearest passages are shown below."

_SENTENCE_END = re.compile(r"(?<=[.!?;:])[\"'\u201d\u2019)]*\s+(?=[\"'\u201c\u2018(\[]?[A-Z0-9\u00a3])")
_ABBREVIATION_END = re.compile(r"\b(?:e\.g|i\.e|etc|no|nos|para|paras|cllr|mr|mrs|ms|dr|st|vs|approx|fig|ref)\.$", re.I)
_DIGIT = re.compile(r"\d")
_DATE = re.compile(
    r"\b(?:\d{1,2}(?:st|nd|rd|th)?\s+)?(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|"
    r"sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)\b\.?\s*(?:\d{2,4})?|\b(?:19|20)\d{2}\b|\b\d{1,2}/\d{1,2}/\d{2,4}\b",
    re.I,
)
_NAME = re.compile(r"\b(?:Mr|Mrs|Ms|Miss|Dr|Cllr|Councillor)\.?\s+[A-Z][a-z]+|\b[A-Z][a-z]+\s+[A-Z][a-z]+(?:-[A-Z][a-z]+)?\b")
_RATING = re.compile(r"\b(?:RED|AMBER|GREEN|Red|Amber|Green)\b")
_MAX_SENTENCE_CHARS = 600


@dataclass
class Sentence:
    hit_rank: int
    start: int
    end: int
    text: str
    score: float = 0.0


def sentence_spans(text: str) -> list[tuple[int, int]]:
    """(start, end) of each sentence or table row in `text`, in order, trimmed of whitespace."""
    spans = []
    for line_match in re.finditer(r"[^\n]+", text):
        line_start = line_match.start()
        line = line_match.group()
        cursor = 0
        for boundary in _SENTENCE_END.finditer(line):
            if _ABBREVIATION_END.search(line[cursor : boundary.start()]):
                continue
            spans.append((line_start + cursor, line_start + boundary.start()))
            cursor = boundary.end()
        spans.append((line_start + cursor, line_start + len(line)))
    trimmed = []
    for start, end in spans:
        segment = text[start:end]
        left = len(segment) - len(segment.lstrip())
        right = len(segment.rstrip())
        if right > left:
            trimmed.append((start + left, start + right))
    return trimmed


def merged_short_spans(text: str, spans: list[tuple[int, int]], min_words: int = 4) -> list[tuple[int, int]]:
    """Join fragments (a heading, a label, a row split by layout) onto the next span so a quote reads as a sentence."""
    merged: list[tuple[int, int]] = []
    pending: tuple[int, int] | None = None
    for start, end in spans:
        if pending is not None:
            start = pending[0]
            pending = None
        if len(text[start:end].split()) < min_words:
            pending = (start, end)
            continue
        merged.append((start, end))
    if pending is not None:
        if merged and pending[0] >= merged[-1][1]:
            merged[-1] = (merged[-1][0], pending[1])
        else:
            merged.append(pending)
    return merged


def term_matches(term: str, sentence_tokens: set[str], sentence_prefixes: set[str]) -> bool:
    if term in sentence_tokens:
        return True
    return len(term) >= 5 and term[:5] in sentence_prefixes


def overlap_score(analysis: QueryAnalysis, tokens: list[str], weights: dict[str, float]) -> float:
    """Share of the question's (weighted) content words that the sentence contains."""
    token_set = set(tokens)
    prefixes = {t[:5] for t in tokens if len(t) >= 5}
    total = matched = 0.0
    for term in analysis.terms:
        weight = weights.get(term, 1.0)
        total += weight
        if term_matches(term, token_set, prefixes):
            matched += weight
    for term in analysis.expansions:
        if term_matches(term, token_set, prefixes):
            matched += 0.5 * weights.get(term, 1.0)
    return min(1.0, matched / total) if total else 0.0


def cue_bonus(analysis: QueryAnalysis, text: str) -> float:
    bonus = 0.0
    if analysis.wants_number:
        bonus += 0.12 if _DIGIT.search(text) else -0.08
    if analysis.wants_date:
        bonus += 0.1 if _DATE.search(text) else -0.05
    if analysis.wants_person:
        bonus += 0.08 if _NAME.search(text) else -0.04
    if analysis.wants_rating and _RATING.search(text):
        bonus += 0.08
    return bonus


def scored_sentences(hits: list[Hit], analysis: QueryAnalysis, weights: dict[str, float]) -> list[Sentence]:
    sentences = []
    top = max((hit.score for hit in hits), default=1.0) or 1.0
    for rank, hit in enumerate(hits):
        text = hit.chunk.text
        prior = 0.25 * max(hit.score, 0.0) / top - 0.02 * rank
        for start, end in merged_short_spans(text, sentence_spans(text)):
            quote = text[start:end]
            if len(quote) > _MAX_SENTENCE_CHARS:
                continue
            tokens = tokens_of(quote)
            if not tokens:
                continue
            score = 0.65 * overlap_score(analysis, tokens, weights) + cue_bonus(analysis, quote) + prior
            sentences.append(Sentence(rank, start, end, quote, round(score, 4)))
    return sorted(sentences, key=lambda s: (-s.score, s.hit_rank, s.start))


def citation_for(hit: Hit, highlight: tuple[int, int] | None) -> Citation:
    meta = hit.document.meta
    return Citation(
        doc_id=hit.document.doc_id,
        title=hit.document.title,
        authority=meta.authority or "",
        committee=meta.committee or "",
        date=meta.date,
        page=hit.chunk.page,
        section=hit.chunk.section,
        text=hit.chunk.text,
        highlight=highlight,
        score=hit.score,
        chunk_id=hit.chunk.chunk_id,
        reference=meta.reference,
    )


def chosen_sentences(sentences: list[Sentence], hits: list[Hit], settings: AnswerSettings) -> list[Sentence]:
    """The best sentence, plus the best of each other paper that answers about as well (one line per source)."""
    best = sentences[0]
    chosen = [best]
    seen_docs = {hits[best.hit_rank].document.doc_id}
    for sentence in sentences[1:]:
        if len(chosen) >= settings.max_lines:
            break
        doc_id = hits[sentence.hit_rank].document.doc_id
        if doc_id in seen_docs or sentence.score < max(settings.min_score, 0.9 * best.score):
            continue
        chosen.append(sentence)
        seen_docs.add(doc_id)
    # Newest paper first when several answer.
    if len(chosen) > 1:
        chosen.sort(key=lambda s: hits[s.hit_rank].document.meta.date or "", reverse=True)
    return chosen


def source_label(hit: Hit) -> str:
    meta = hit.document.meta
    return ", ".join(p for p in (meta.authority, meta.date) if p) or hit.document.doc_id


def compose_answer(question: str, hits: list[Hit], settings: AnswerSettings, weights: dict[str, float] | None = None, mode: str = "hybrid") -> Answer:
    analysis = analyse_question(question)
    sentences = scored_sentences(hits, analysis, weights or {}) if hits else []
    if not sentences or sentences[0].score < settings.min_score:
        citations = [citation_for(hit, None) for hit in hits]
        return Answer(question=question, found=False, answer=NOT_FOUND, citations=citations, mode=mode)

    chosen = chosen_sentences(sentences, hits, settings)
    citations: list[Citation] = []
    lines: list[tuple[str, int]] = []
    for sentence in chosen:
        hit = hits[sentence.hit_rank]
        citations.append(citation_for(hit, (sentence.start, sentence.end)))
        lines.append((sentence.text, len(citations)))
    cited_chunks = {c.chunk_id for c in citations}
    # The other retrieved passages follow as supporting excerpts, without a highlight.
    citations.extend(citation_for(hit, None) for hit in hits if hit.chunk.chunk_id not in cited_chunks)
    if len(lines) == 1:
        text = f"\u201c{lines[0][0]}\u201d [1]"
    else:
        text = "\n".join(
            f"{source_label(hits[s.hit_rank])}: \u201c{quote}\u201d [{number}]" for s, (quote, number) in zip(chosen, lines)
        )
    return Answer(question=question, found=True, answer=text, citations=citations, mode=mode, lines=lines)
