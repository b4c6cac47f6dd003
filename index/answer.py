"""compose_answer: the sentences from the best passages that answer the question, with citations.

Every line of an answer is a quotation from a paper. When nothing scores well
enough the answer says so and shows the nearest passages instead.
"""
from __future__ import annotations

import functools
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
_TITLED_NAME = re.compile(r"\b(?:Mr|Mrs|Ms|Miss|Dr|Cllr|Councillor|Sir|Dame)\.?\s+(?:[A-Z]\.?\s+){0,3}[A-Z][a-z]+")
_NAME = re.compile(r"\b[A-Z][a-z]+\s+(?:[A-Z]\.?\s+)?[A-Z][a-z]+(?:-[A-Z][a-z]+)?\b")
_NOT_NAME_WORDS = frozenset(
    """council county city borough district cabinet committee member members panel board chamber house hall services
    service children young people education health social care adult public the this that report strategy plan
    director directorate officer officers team teams school schools family hub hubs kent suffolk sunderland
    peterborough west sussex england local authority government department national regional corporate""".split()
)
_NUMBER_WORD = re.compile(
    r"\b(?:two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|thirteen|fourteen|fifteen|sixteen|seventeen|"
    r"eighteen|nineteen|twenty|thirty|forty|fifty|sixty|seventy|eighty|ninety|hundred|thousand|million|half|quarter|third)\b"
)
_RATING = re.compile(r"\b(?:RED|AMBER|GREEN|Red|Amber|Green)\b")
_MAX_SENTENCE_CHARS = 600


@dataclass
class Sentence:
    hit_rank: int
    start: int
    end: int
    text: str
    context: str  # what the sentence is scored on: a table row carries its header row
    unit: int = 0  # its place in `sentence_units(chunk text)`, where its stored vector sits
    score: float = 0.0
    overlap: float = 0.0
    closeness: float = 0.0
    cue: float = 0.0
    prior: float = 0.0


def sentence_spans(text: str) -> list[tuple[int, int]]:
    """(start, end) of each sentence or table row in `text`, in order, trimmed of whitespace."""
    spans = []
    for line_match in re.finditer(r"[^\n]+", text):
        line_start = line_match.start()
        line = line_match.group()
        cursor = 0
        if "\t" not in line:
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


def split_long_span(text: str, start: int, end: int, limit: int = 300) -> list[tuple[int, int]]:
    """Cut a run-on sentence (a list of attendees, a table flattened into one line) at commas or semicolons."""
    if end - start <= _MAX_SENTENCE_CHARS:
        return [(start, end)]
    pieces = []
    piece_start = start
    for match in re.finditer(r"[,;]\s+", text[start:end]):
        cut = start + match.end()
        if cut - piece_start >= limit:
            pieces.append((piece_start, start + match.start() + 1))
            piece_start = cut
    pieces.append((piece_start, end))
    return [(a, b) for a, b in pieces if b - a <= _MAX_SENTENCE_CHARS]


def merged_short_spans(text: str, spans: list[tuple[int, int]], min_words: int = 4) -> list[tuple[int, int]]:
    """Join fragments (a heading, a label, a line broken by layout) onto the next span so a quote reads as a sentence.

    Table rows are left alone: a short row is still a whole row.
    """
    merged: list[tuple[int, int]] = []
    pending: tuple[int, int] | None = None
    for start, end in spans:
        is_row = "\t" in text[start:end]
        if pending is not None and not is_row:
            start = pending[0]
            pending = None
        elif pending is not None:
            merged.append(pending)
            pending = None
        if not is_row and len(text[start:end].split()) < min_words:
            pending = (start, end)
            continue
        merged.append((start, end))
    if pending is not None:
        if merged and pending[0] >= merged[-1][1]:
            merged[-1] = (merged[-1][0], pending[1])
        else:
            merged.append(pending)
    return merged


def table_headers(text: str) -> dict[int, str]:
    """For each table row (a tab-separated line), the header row of its table and the caption above it."""
    headers: dict[int, str] = {}
    lines = list(re.finditer(r"[^\n]*", text))
    header = None
    caption = ""
    for match in lines:
        line = match.group()
        if "\t" in line:
            if header is None:
                header = caption + " " + line
            else:
                headers[match.start()] = header
        elif line.strip():
            header = None
            caption = line.strip()
    return headers


def term_matches(term: str, sentence_tokens: set[str], sentence_prefixes: set[str]) -> bool:
    if term in sentence_tokens:
        return True
    return len(term) >= 5 and term[:5] in sentence_prefixes


def overlap_score(analysis: QueryAnalysis, tokens: list[str], weights: dict[str, float]) -> float:
    """Share of the question's (idf-weighted) content words that the sentence contains."""
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


@functools.lru_cache(maxsize=256)  # the question's figures are asked for once per sentence
def figures_in(text: str) -> frozenset[str]:
    """Numbers a text states, in digits or in words ("nine indicators")."""
    return frozenset(re.findall(r"\d+(?:[.,]\d+)*", text)) | frozenset(_NUMBER_WORD.findall(text.lower()))


def new_figures(question: str, text: str) -> bool:
    """Whether the sentence states a number the question does not already contain."""
    return bool(figures_in(text) - figures_in(question))


def names_a_person(question: str, text: str) -> bool:
    """Whether the sentence names someone the question does not already name."""
    asked = set(tokens_of(question))
    if any(set(tokens_of(m.group())[1:]) - asked for m in _TITLED_NAME.finditer(text)):
        return True
    for match in _NAME.finditer(text):
        words = set(tokens_of(match.group()))
        if not words & _NOT_NAME_WORDS and not words <= asked:
            return True
    return False


def cue_bonus(analysis: QueryAnalysis, text: str) -> float:
    bonus = 0.0
    if analysis.wants_number:
        bonus += 0.1 if new_figures(analysis.text, text) else -0.1
    if analysis.wants_date:
        bonus += 0.08 if _DATE.search(text) else -0.05
    if analysis.wants_person:
        bonus += 0.12 if names_a_person(analysis.text, text) else -0.08
    if analysis.wants_rating and _RATING.search(text):
        bonus += 0.08
    return bonus


@functools.lru_cache(maxsize=1024)  # the passages of popular questions recur
def sentence_units(text: str) -> tuple[tuple[int, int], ...]:
    """(start, end) of each quotable unit of a chunk: a sentence, a table row, a piece of a run-on list.

    Ingest gives each unit its own vector, so this must split exactly as answers do.
    """
    spans = [piece for span in merged_short_spans(text, sentence_spans(text)) for piece in split_long_span(text, *span)]
    return tuple((start, end) for start, end in spans if tokens_of(text[start:end]))


def candidate_sentences(hits: list[Hit], max_hits: int) -> list[Sentence]:
    sentences = []
    for rank, hit in enumerate(hits[:max_hits]):
        text = hit.chunk.text
        headers = table_headers(text)
        for unit, (start, end) in enumerate(sentence_units(text)):
            quote = text[start:end]
            line_start = text.rfind("\n", 0, start) + 1
            header = headers.get(line_start, "")
            context = f"{header} {quote}".replace("\t", " ") if header else quote
            sentences.append(Sentence(rank, start, end, quote, context, unit))
    return sentences


def sentence_score(sentence: Sentence, settings: AnswerSettings, has_similarity: bool) -> float:
    lexical = settings.lexical_weight if has_similarity else settings.lexical_weight + settings.dense_weight
    dense = settings.dense_weight if has_similarity else 0.0
    return round(lexical * sentence.overlap + dense * sentence.closeness + sentence.cue + settings.prior_weight * sentence.prior, 4)


def scored_sentences(
    hits: list[Hit],
    analysis: QueryAnalysis,
    weights: dict[str, float],
    similarity=None,
    settings: AnswerSettings | None = None,
    extra_hits: int = 0,
) -> list[Sentence]:
    """Sentences of the top passages, best first.

    A sentence scores on the question words it contains (rare words count more),
    its meaning's closeness to the question (`similarity`, when given), whether
    it holds the kind of fact asked for, and the rank of its passage.
    """
    settings = settings or AnswerSettings()
    sentences = candidate_sentences(hits, settings.sentence_hits + extra_hits)
    if not sentences:
        return []
    top = max((hit.score for hit in hits), default=1.0) or 1.0
    for sentence in sentences:
        hit = hits[sentence.hit_rank]
        sentence.prior = max(hit.score, 0.0) / top - 0.1 * sentence.hit_rank
        if analysis.years and (hit.document.meta.date or "")[:4] in analysis.years:
            sentence.prior += 0.3
        # The council and paper are part of every sentence's context: "according to Peterborough" is met by the paper.
        described = f"{hit.document.meta.authority or ''} {hit.document.meta.title or ''} {sentence.context}"
        sentence.overlap = overlap_score(analysis, tokens_of(described), weights)
        sentence.cue = cue_bonus(analysis, sentence.text)
        sentence.score = sentence_score(sentence, settings, False)
    if similarity is not None and settings.rerank_sentences > 0:
        # Meaning is weighed only for the few sentences that words already favour (measured best on dev).
        shortlist = sorted(sentences, key=lambda s: -s.score)[: settings.rerank_sentences]
        for sentence, close in zip(shortlist, similarity(shortlist, hits)):
            sentence.closeness = float(close)
        for sentence in sentences:
            sentence.score = sentence_score(sentence, settings, True)
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
        source_url=meta.source_url,
        ocr=hit.document.recognised_from_scan(hit.chunk.page, hit.chunk.page_end),
    )


def chosen_sentences(sentences: list[Sentence], hits: list[Hit], settings: AnswerSettings) -> list[Sentence]:
    """The best sentence, the few that score nearly as well (often the figure sits in the next
    sentence), and the best of each other paper that answers about as well (one line per source)."""
    best = sentences[0]
    chosen = [best]
    texts = {best.text}
    sources = {hits[best.hit_rank].document.doc_id}
    for sentence in sentences[1:]:
        if sentence.text in texts or sentence.score < settings.support_ratio * best.score:
            continue
        doc_id = hits[sentence.hit_rank].document.doc_id
        same_source = doc_id in sources
        if same_source and sum(1 for c in chosen if hits[c.hit_rank].document.doc_id == doc_id) >= settings.quotes_per_source:
            continue
        if not same_source and (len(sources) >= settings.max_lines or sentence.score < settings.source_ratio * best.score):
            continue
        chosen.append(sentence)
        texts.add(sentence.text)
        sources.add(doc_id)
    return chosen


def ordered_for_reading(chosen: list[Sentence], hits: list[Hit]) -> list[Sentence]:
    """Newest paper first when several answer; within a paper, in reading order."""
    def key(sentence: Sentence):
        document = hits[sentence.hit_rank].document
        return (document.meta.date or "", document.doc_id)

    newest_first = sorted({key(s) for s in chosen}, reverse=True)
    rank = {k: i for i, k in enumerate(newest_first)}
    return sorted(chosen, key=lambda s: (rank[key(s)], hits[s.hit_rank].chunk.ordinal, s.start))


_NAMED_COUNCIL = re.compile(r"\b((?:[A-Z][a-z]+\s){1,3})(?:County |City |Borough |District |Metropolitan )?Council\b")


def refusal_reason(analysis: QueryAnalysis, best: Sentence, hits: list[Hit], authorities: list[str], settings: AnswerSettings) -> str | None:
    """Why the best sentence cannot be the answer, or None when it can."""
    if best.score < settings.min_score:
        return "no passage answers it closely enough"
    for match in _NAMED_COUNCIL.finditer(analysis.text):
        place = match.group(1).split()[-1].lower()
        if place not in {"the", "county", "city"} and not any(place in a.lower() for a in authorities):
            return f"no paper from {match.group(0)} is in the index"
    if analysis.years:
        hit = hits[best.hit_rank]
        year_of_paper = (hit.document.meta.date or "")[:4]
        stated = f"{hit.document.meta.title or ''} {hit.chunk.text}"
        if year_of_paper not in analysis.years and not any(y in stated for y in analysis.years):
            return f"nothing found for {', '.join(analysis.years)}"
    return None


def source_label(hit: Hit) -> str:
    meta = hit.document.meta
    return ", ".join(p for p in (meta.authority, meta.date) if p) or hit.document.doc_id


def compose_answer(
    question: str,
    hits: list[Hit],
    settings: AnswerSettings,
    weights: dict[str, float] | None = None,
    similarity=None,
    mode: str = "hybrid",
    authorities: list[str] | None = None,
    extra_hits: int = 0,
) -> Answer:
    """`similarity(sentences, hits) -> cosines to the question`, when given, adds meaning to word overlap.

    `extra_hits` widens the passages read for sentences beyond `settings.sentence_hits`
    (the ask step adds the best passage of each other council).
    """
    analysis = analyse_question(question)
    sentences = scored_sentences(hits, analysis, weights or {}, similarity, settings, extra_hits) if hits else []
    reason = "nothing matched" if not sentences else refusal_reason(analysis, sentences[0], hits, authorities or [], settings)
    if reason is not None:
        citations = [citation_for(hit, None) for hit in hits]
        return Answer(question=question, found=False, answer=NOT_FOUND, citations=citations, mode=mode)

    chosen = ordered_for_reading(chosen_sentences(sentences, hits, settings), hits)
    citations: list[Citation] = []
    number_of_chunk: dict[int, int] = {}
    lines: list[tuple[str, int]] = []
    for sentence in chosen:
        hit = hits[sentence.hit_rank]
        if hit.chunk.chunk_id not in number_of_chunk:
            citations.append(citation_for(hit, (sentence.start, sentence.end)))
            number_of_chunk[hit.chunk.chunk_id] = len(citations)
        # A quote may span a heading and its paragraph, or a line break of the layout: read it as one line.
        lines.append((" ".join(sentence.text.split()), number_of_chunk[hit.chunk.chunk_id]))
    # The other retrieved passages follow as supporting excerpts, without a highlight.
    citations.extend(citation_for(hit, None) for hit in hits if hit.chunk.chunk_id not in number_of_chunk)
    several_sources = len({hits[s.hit_rank].document.doc_id for s in chosen}) > 1
    rendered = []
    for sentence, (quote, number) in zip(chosen, lines):
        label = f"{source_label(hits[sentence.hit_rank])}: " if several_sources else ""
        rendered.append(f"{label}\u201c{quote}\u201d [{number}]")
    return Answer(question=question, found=True, answer="\n".join(rendered), citations=citations, mode=mode, lines=lines)
