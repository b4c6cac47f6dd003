"""compose_answer: the line that answers, up to two supporting quotes, and how sure to be.

Candidates are the quotable lines of the best passages (index.features); the fitted line model
(index.scorer) picks the lead, a line that holds what the question asks for about its subject.
Supporting quotes are the best lines of other councils that answer the same question, or a
further line of the same paper that scores nearly as well. The confidence model turns the
evidence into a probability and the calibrated thresholds into a level: `answer`, `possible`
("check the source") or `not_found`. Every line is a quotation with its citation.
"""
from __future__ import annotations

import functools
import math
import operator
import re
from dataclasses import dataclass, field

import numpy as np

from core.records import Answer, AnswerLine, Citation, Hit, TableRowRef, Verdict
from core.text import long_date
from core.settings import AnswerSettings
from index.features import (FEATURES, NO_WORDS, WORDS_FOR_KIND, AskedQuestion, Candidate, Words, feature_rows, feature_value, fresh_features, line_holds,
                            months_said, overlap_of_words, records_role, year_absent, year_conflict)
from index.query import MONTH_NAMES, periods_named, tokens_of
from index.scorer import AnswerModel, Logistic

NOT_FOUND = "The papers do not appear to answer this question. The nearest passages are shown below."
POSSIBLE = "Possible answer (check the source):"
# The confidence model's inputs, each with the way it may move the confidence: +1 up, -1 down, 0 either way
# (fitted freely: correlated inputs share their effect). Fixed where a question unlike dev's would otherwise
# be judged backwards: one whose passages are all far from it, or that names something no paper holds ("Paris").
CONFIDENCE_SIGNS = {"lead_probability": 0, "margin": 0, "subject_coverage": 0, "missing_specific": -1, "lead_missing_specific": -1,
                    "lead_overlap": 0, "lead_kind_match": 0, "top_cosine": 1, "asks_kind": 0, "period_absent": -1,
                    "lead_year_conflict": -1, "name_missing": -1, "plan_for_actual": -1, "lead_log_odds": 0,
                    "role_missing": -1, "lead_cell_named": 1}
CONFIDENCE_FEATURES = list(CONFIDENCE_SIGNS)
_QUARTER = re.compile(r"\b(?:q|quarter\s*)([1-4])\b", re.I)
_MONTH_WORDS = re.compile(rf"\b(?:{'|'.join(MONTH_NAMES)})\b", re.I)


@dataclass
class Reading:
    """The answer step's work on one question: every candidate scored, the lines chosen, the confidence."""

    question: AskedQuestion
    candidates: list[Candidate]  # best first
    lead: Candidate | None
    supports: list[Candidate] = field(default_factory=list)
    evidence: dict[str, float] = field(default_factory=dict)  # the confidence model's inputs
    confidence: float = 0.0
    level: str = "not_found"
    reason: str | None = None  # why a rule refused it, when one did


def scored_candidates(question: AskedQuestion, candidates: list[Candidate], model: AnswerModel, limit: int) -> list[Candidate]:
    """Candidates with the line model's probability, best first. Only the lines that may lead, at most `limit` of
    them nearest the question, are described by every feature: the rest score 0 (see line_probabilities), so
    their features would go unused."""
    if not candidates:
        return []
    fresh_features(candidates, question)
    nearness = FEATURES[nearness_feature(model.line.features)]
    mask = nearest_lines(leadable(candidates, question), np.array([nearness(c, question) for c in candidates]), limit)
    leading = [candidate for candidate, may_lead in zip(candidates, mask) if may_lead]
    probabilities = line_probabilities(model.line, feature_rows(leading, question, model.line.features), mask)
    for candidate, probability in zip(candidates, probabilities):
        candidate.probability = float(probability)
    return sorted(candidates, key=lambda c: (-c.probability, c.hit_rank, c.start))


def leadable(candidates: list[Candidate], question: AskedQuestion) -> np.ndarray:
    """Which candidates may lead (see can_lead)."""
    return np.array([can_lead(candidate, question) for candidate in candidates], dtype=bool)


def nearness_feature(names: list[str]) -> str:
    """The feature that says which lines a line model over `names` scores (nearest_lines): the learned closeness,
    or the cosine for a model without it."""
    return "learned_closeness" if "learned_closeness" in names else "closeness"


def nearest_lines(mask: np.ndarray, nearness: np.ndarray, limit: int) -> np.ndarray:
    """`mask` narrowed to its `limit` lines of highest `nearness` (the first in order on a tie): the line model's
    features cost most of the answer step, and a line far from the question in meaning seldom leads."""
    if mask.sum() <= limit:
        return mask
    nearest = np.argsort(-np.where(mask, nearness, -np.inf), kind="stable")[:limit]
    narrowed = np.zeros_like(mask)
    narrowed[nearest] = True
    return narrowed


def line_probabilities(line: Logistic, leading: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """The line model's probabilities over the lines that may lead (`mask`; `leading` holds their feature rows,
    in order), 0 for the rest: a heading that can never lead takes no share from the line that answers, so the
    lead's probability and margin mean what they say."""
    probabilities = np.zeros(len(mask))
    if mask.any():
        probabilities[mask] = line.probabilities(leading)
    return probabilities


def can_lead(candidate: Candidate, question: AskedQuestion) -> bool:
    """A heading, an "as follows:" fragment, a line that only restates the question, one from a passage
    about another year than the one asked, or one that does not name the council asked about when that
    council has no papers of its own, never leads. A label naming someone ("Question 2 – Melissa Blackburn")
    may lead an answer to "who?"."""
    names_councils = all(name.lower() in f"{candidate.caption} {candidate.text}".lower() for name in question.absent_councils)
    statement = feature_value("fragment", candidate, question) < 1.0 or feature_value("person_match", candidate, question)
    return (statement and feature_value("restatement", candidate, question) < 0.9
            and not year_absent(candidate, question) and names_councils)


def lead_line(candidates: list[Candidate], question: AskedQuestion) -> Candidate | None:
    return next((c for c in candidates if can_lead(c, question)), None)


def supporting_lines(lead: Candidate, candidates: list[Candidate], question: AskedQuestion, settings: AnswerSettings) -> list[Candidate]:
    """At most `settings.support_lines` further quotes: first the best line of each other council that
    answers about as well (when the question names no council), then the next best lines of any paper,
    each scoring at least a share of the lead's score."""
    hits = question.hits
    chosen: list[Candidate] = []
    texts = {lead.text}

    def eligible(candidate: Candidate, ratio: float) -> bool:
        return candidate.probability >= ratio * lead.probability and candidate.text not in texts and can_lead(candidate, question)

    if not question.named_authority:
        councils = {hits[lead.hit_rank].document.meta.authority}
        for candidate in candidates:
            authority = hits[candidate.hit_rank].document.meta.authority
            answers_alike = not question.kinds or any(line_holds(kind, candidate, question) for kind in question.kinds)
            if (len(chosen) < settings.support_lines and authority not in councils and answers_alike
                    and eligible(candidate, settings.other_council_ratio)):
                councils.add(authority)
                chosen.append(candidate)
                texts.add(candidate.text)
    for candidate in candidates:
        if len(chosen) < settings.support_lines and eligible(candidate, settings.support_ratio):
            chosen.append(candidate)
            texts.add(candidate.text)
    return chosen


def words_read(parts: list[list[Words]]) -> Words:
    """The words of every passage read, from the given parts of each (its framing, its text)."""
    return functools.reduce(operator.or_, (words for part in parts for words in part), NO_WORDS)


def subject_coverage(question: AskedQuestion) -> float:
    """How much of what the question is about appears anywhere in the passages read (with their papers' council, title and section)."""
    read = words_read([question.framing_words, question.passage_words])
    return overlap_of_words(question.subject_terms, question.analysis.expansions, question.weights, read)


def most_specific_absent(question: AskedQuestion, words: Words, answered: frozenset[str] = frozenset(),
                         among: frozenset[str] | None = None) -> float:
    """How specific (idf, 0-1) the most specific subject word is that `words` do not hold:
    1 for a word no paper holds at all ("gritting", "Paris"), 0 when every subject word is there.
    Words naming a kind in `answered` (kinds the text holds) are not looked for; `among` limits the words looked for."""
    named = set().union(*(WORDS_FOR_KIND.get(kind, set()) for kind in answered))
    absent = [term for term in question.analysis.subject
              if term not in named and (among is None or term in among) and not words.holds(term)]
    return max((min(question.weights.get(term, question.unseen_idf) / question.unseen_idf, 1.0) for term in absent), default=0.0)


def answered_kinds(question: AskedQuestion, line: Candidate) -> frozenset[str]:
    """The kinds of answer asked for that the line holds."""
    return frozenset(kind for kind in question.kinds if line_holds(kind, line, question))


def missing_specific(question: AskedQuestion, read: Words) -> float:
    """The most specific subject word that none of the passages read holds (see most_specific_absent); `read` is
    every word of the passages and of their papers' council and title."""
    return most_specific_absent(question, read)


_CAPITALISED = re.compile(r"(?<!^)\b[A-Z][\w'\u2019-]*")


def capitalised_words(text: str) -> frozenset[str]:
    """The words a question writes with a capital, the first word aside: names of places, schemes and bodies, and
    acronyms. Months and quarters are periods (period_absent reads them), not names."""
    return frozenset(word for match in _CAPITALISED.finditer(_QUARTER.sub(" ", _MONTH_WORDS.sub(" ", text)))
                     for word in tokens_of(match.group()))


def name_missing(question: AskedQuestion, read: Words) -> float:
    """missing_specific over the words the question capitalises. A question put in other words than the paper's
    changes its common words ("scrap" for "remove"), seldom its names: a name no passage holds ("Glasgow",
    "Oracle Cloud") is about something the papers read do not cover."""
    return most_specific_absent(question, read, among=capitalised_words(question.analysis.text))


def lead_context(question: AskedQuestion, lead: Candidate) -> str:
    """The lead line with what frames it: its paper's council, title and date, its section, caption and the line before."""
    hit = question.hits[lead.hit_rank]
    meta = hit.document.meta
    return f"{meta.authority or ''} {meta.title or ''} {long_date(meta.date)} {hit.chunk.section or ''} {lead.caption} {lead.previous} {lead.text}"


# The months of each quarter: of the financial year (April to March), as councils report, and of the calendar year.
_FINANCIAL_QUARTERS = {"1": ("apr", "may", "jun"), "2": ("jul", "aug", "sep"), "3": ("oct", "nov", "dec"), "4": ("jan", "feb", "mar")}
_CALENDAR_QUARTERS = {"1": ("jan", "feb", "mar"), "2": ("apr", "may", "jun"), "3": ("jul", "aug", "sep"), "4": ("oct", "nov", "dec")}


def quarter_months(text: str) -> frozenset[str]:
    """The months of the quarters a text names: "Q3 2024/25" is October to December; a quarter without a
    financial year beside it may be either year's."""
    quarters = set(_QUARTER.findall(text))
    if not quarters:
        return frozenset()
    financial, _ = periods_named(text)
    tables = (_FINANCIAL_QUARTERS,) if financial else (_FINANCIAL_QUARTERS, _CALENDAR_QUARTERS)
    return frozenset(month for table in tables for quarter in quarters for month in table[quarter])


def period_absent(question: AskedQuestion, lead: Candidate) -> float:
    """The question names a month ("in March 2016", said "Mar 16", "31/03/16" or in full, or within a quarter the
    lead's paper reports on) or a quarter ("Quarter 2", "Q2") that the lead, its framing and its paper's date do not.
    A follow-up naming a period of its own asks about that one alone (ReadQuestion.period_text)."""
    asked = question.period_words
    months = months_said(asked)  # "in Feb 2016" as well as "in February 2016"
    quarters = set(_QUARTER.findall(asked))
    context = lead_context(question, lead).lower()
    said_quarters = set(_QUARTER.findall(context))
    columns = months_said(" ".join(header for header, _ in lead.row.cells).lower()) if lead.row is not None else frozenset()
    # A row whose columns are months answers for those months alone ("Leeds | July: 1903 | ... | October: 1800").
    said_months = (columns | months_said(f"{lead.row.label} {lead.caption}".lower()) if columns
                   else months_said(context) | quarter_months(context))
    return float(bool(months) and not months & said_months
                 or bool(quarters) and not quarters & said_quarters)


# What happened, against what was planned: finance and performance papers give both for the same measure
# ("Revenue Forecast: 588.4" before the year's outturn; "the target of £25,000" for the sum raised).
_ACTUAL = re.compile(r"\b(?:actual(?:ly)?|outturn|spent|raised|achieved|came in|end(?:ed)? up)\b", re.I)
_PLANNED = re.compile(r"\b(?:targets?|forecast(?:s|ed)?|projected|projections?|estimated?|estimates|expected|anticipated|aims?|"
                      r"ambition|trajectory|planned|budgeted)\b", re.I)


def role_missing(question: AskedQuestion, lead: Candidate) -> float:
    """The question asks who played a part ("Who chairs the task and finish group?") and the lead names someone
    without saying they played it ("Cllr Rippington thanked the members of the Task and Finish Group")."""
    if "person" not in question.kinds or not question.role_cues:
        return 0.0
    return float(not (feature_value("role_match", lead, question) or feature_value("role_record", lead, question)
                      or records_role(question.role_cues, lead.previous)))


def plan_for_actual(question: AskedQuestion, lead: Candidate) -> float:
    """The question asks what actually happened and the lead only says what was planned: a forecast, a target."""
    framed = f"{lead.caption} {lead.text}"
    return float(bool(_ACTUAL.search(question.analysis.text)) and bool(_PLANNED.search(framed)) and not _ACTUAL.search(framed))


def confidence_evidence(question: AskedQuestion, candidates: list[Candidate], lead: Candidate | None, top_cosine: float) -> dict[str, float]:
    """The question-level evidence the confidence model weighs."""
    read = words_read([question.paper_words, question.passage_words])
    coverage = {"subject_coverage": subject_coverage(question), "missing_specific": missing_specific(question, read), "top_cosine": top_cosine,
                "lead_missing_specific": 1.0, "name_missing": name_missing(question, read)}
    if lead is None:
        return dict.fromkeys(CONFIDENCE_FEATURES, 0.0) | coverage
    runner_up = next((c.probability for c in candidates if c is not lead and c.text != lead.text), 0.0)
    return coverage | {
        "lead_probability": lead.probability,
        "margin": lead.probability - runner_up,
        "lead_overlap": feature_value("context_overlap", lead, question),
        "lead_kind_match": feature_value("kind_match", lead, question),
        "asks_kind": float(bool(question.kinds)),
        "lead_missing_specific": most_specific_absent(question, Words.of(tokens_of(lead_context(question, lead))),
                                                      answered_kinds(question, lead)),
        "period_absent": period_absent(question, lead),
        "lead_year_conflict": max(year_conflict(lead, question), framed_in_another_year(question, lead)),
        "plan_for_actual": plan_for_actual(question, lead),
        "lead_log_odds": lead_log_odds(candidates, lead),
        "role_missing": role_missing(question, lead),
        "lead_cell_named": cell_named(question, lead),
    }


def cell_named(question: AskedQuestion, lead: Candidate) -> float:
    """For a table row leading, how fully the question names both its row and a column holding a value: "How many
    contacts did Sunderland receive in July?" of "Sunderland | July: 2351 | August: 1817" names the very cell."""
    if lead.row is None:
        return 0.0
    return min(feature_value("label_named", lead, question), feature_value("header_named", lead, question))


# Above odds of about 20 to 1 a surer line model is no surer of being right (dev, out of fold: leads at log-odds 2-4
# right 0.95 of the time, at 6-8 0.89, above 8 0.75), so the confidence reads no further up.
LOG_ODDS_CAP = 3.0


def lead_log_odds(candidates: list[Candidate], lead: Candidate) -> float:
    """The lead's odds, on a log scale, against none of the lines answering (the line model's outside option):
    its own score, before the lines share the probability. Several lines that say the same (a vote recorded for
    each item of the minutes) split the probability between them, not this. Capped at LOG_ODDS_CAP."""
    none = max(1.0 - sum(c.probability for c in candidates), 1e-9)
    return min(math.log(max(lead.probability, 1e-9) / none), LOG_ODDS_CAP)


def framed_in_another_year(question: AskedQuestion, lead: Candidate) -> float:
    """The question names a financial year; the lead names no year, and what frames it (its caption, section and
    paper's title) names financial years, none of them the one asked: "Target: 31,000" of a Q3 2024/25 report does
    not answer "What is the target for 2025/26?"."""
    asked, _ = question.periods
    if not asked or any(lead.periods):
        return 0.0
    hit = question.hits[lead.hit_rank]
    framed, _ = periods_named(f"{lead.caption} {hit.chunk.section or ''} {hit.document.meta.title or ''}")
    return float(bool(framed) and not framed & asked)


def refusal_rule(question: AskedQuestion, lead: Candidate | None) -> str | None:
    """Why there is no answer whatever the scores: no line can lead (none of the passages concerns the year asked, say)."""
    if lead is not None:
        return None
    if question.absent_councils:
        return f"no papers from {' or '.join(question.absent_councils)}"
    if question.analysis.years:
        return f"nothing found for {', '.join(question.analysis.years)}"
    return "nothing matched"


def read_passages(question: AskedQuestion, candidates: list[Candidate], model: AnswerModel, settings: AnswerSettings,
                  top_cosine: float) -> Reading:
    """Score the candidates, choose the lead and its support, and judge how sure the answer is."""
    ranked = scored_candidates(question, candidates, model, settings.scored_lines)
    lead = lead_line(ranked, question)
    evidence = confidence_evidence(question, ranked, lead, top_cosine)
    confidence = float(model.confidence.probabilities(np.array([[evidence[n] for n in model.confidence.features]]))[0])
    reading = Reading(question, ranked, lead, evidence=evidence, confidence=confidence, level=model.level(confidence))
    if reading.level == "answer" and lead is not None and misses_own_words(question, lead):
        reading.level = "possible"
    reading.reason = refusal_rule(question, lead)
    if reading.reason is not None:
        reading.level = "not_found"
    if reading.level != "not_found" and lead is not None:
        reading.supports = supporting_lines(lead, ranked, question, settings)
    return reading


def misses_own_words(question: AskedQuestion, lead: Candidate) -> bool:
    """A follow-up whose own words ("and to Bristol City Council?") the lead line and its caption never say: it may
    quote the line that answered the question before, however sure the model is, so it is at most a possible
    answer (dev and test: 5 of 9 such leads given were wrong)."""
    return bool(question.own_terms) and feature_value("own_overlap", lead, question) == 0.0


# ------------------------------------------------------------------ composition


def citation_for(hit: Hit, spans: list[tuple[int, int]] | None = None, row: TableRowRef | None = None) -> Citation:
    """A passage as cited: `spans` are the quoted stretches of its text; a quoted table `row` gives the page and row."""
    meta = hit.document.meta
    spans = sorted(spans or [])
    return Citation(
        doc_id=hit.document.doc_id,
        title=hit.document.title,
        authority=meta.authority or "",
        committee=meta.committee or "",
        date=meta.date,
        page=row.page if row is not None and row.page is not None else hit.chunk.page,
        section=hit.chunk.section,
        text=hit.chunk.text,
        highlight=spans[0] if spans else None,
        score=hit.score,
        chunk_id=hit.chunk.chunk_id,
        reference=meta.reference,
        highlights=spans,
        cited=bool(spans),
        row=row.row if row is not None else None,
        source_url=meta.source_url,
        ocr=hit.document.recognised_from_scan(hit.chunk.page, hit.chunk.page_end),
    )


def row_ref(hit: Hit, candidate: Candidate) -> TableRowRef | None:
    """The table row a quoted row line is (its page and number), when ingest recorded the chunk's rows."""
    line = hit.chunk.text.count("\n", 0, candidate.start)
    return next((ref for ref in hit.chunk.table_rows if ref.line == line), None)


def source_label(hit: Hit) -> str:
    meta = hit.document.meta
    return ", ".join(p for p in (meta.authority, long_date(meta.date)) if p) or hit.document.doc_id


def quoted(text: str) -> str:
    """A quote reads as one line even when it spans a heading or a layout break."""
    return " ".join(text.split())


def not_found_answer(question: str, hits: list[Hit], mode: str, score: float, notice: str | None = None) -> Answer:
    return Answer(question=question, found=False, answer=NOT_FOUND, citations=[citation_for(hit) for hit in hits],
                  mode=mode, confidence="not_found", score=score, notice=notice)


def compose_answer(question: str, reading: Reading, mode: str = "hybrid", notice: str | None = None) -> Answer:
    """The Answer record: lead line first, then the supporting quotes, each cited; the cited passages
    first among the citations with every quoted span highlighted, then the other passages found."""
    hits = reading.question.hits
    if reading.level == "not_found" or reading.lead is None:
        return not_found_answer(question, hits, mode, reading.confidence, notice)
    chosen = [reading.lead, *reading.supports]
    spans: dict[int, list[tuple[int, int]]] = {}
    rows: dict[int, TableRowRef | None] = {}
    for candidate in chosen:
        spans.setdefault(candidate.hit_rank, []).append((candidate.start, candidate.end))
        rows.setdefault(candidate.hit_rank, row_ref(hits[candidate.hit_rank], candidate))
    order = list(dict.fromkeys(c.hit_rank for c in chosen))
    number = {rank: i + 1 for i, rank in enumerate(order)}
    citations = [citation_for(hits[rank], spans[rank], rows[rank]) for rank in order]
    cited_chunks = {hits[rank].chunk.chunk_id for rank in order}
    citations.extend(citation_for(hit) for hit in hits if hit.chunk.chunk_id not in cited_chunks)

    lines = [AnswerLine(quoted(c.text), number[c.hit_rank], "lead" if i == 0 else "support") for i, c in enumerate(chosen)]
    several_sources = len({hits[c.hit_rank].document.doc_id for c in chosen}) > 1
    rendered = []
    for candidate, line in zip(chosen, lines):
        label = f"{source_label(hits[candidate.hit_rank])}: " if several_sources else ""
        rendered.append(f"{label}\u201c{line.text}\u201d [{line.citation}]")
    if reading.level == "possible":
        rendered[0] = f"{POSSIBLE} {rendered[0]}"
    return Answer(
        question=question, found=True, answer="\n".join(rendered), citations=citations, mode=mode, lines=lines,
        confidence=reading.level, score=reading.confidence, notice=notice,
    )


def span_of(text: str, quote: str) -> tuple[int, int] | None:
    """Where a quote sits in a passage, whitespace aside."""
    words = quote.split()
    if not words:
        return None
    match = re.search(r"\s+".join(re.escape(w) for w in words), text)
    return (match.start(), match.end()) if match else None


def quote_in_answer(answer: Answer, hit: Hit, quote: str) -> AnswerLine | None:
    """Cite `quote` from `hit` as a supporting line: highlighted in its passage's citation, added when new."""
    span = span_of(hit.chunk.text, quote)
    if span is None:
        return None
    number = next((i for i, c in enumerate(answer.citations, start=1) if c.chunk_id == hit.chunk.chunk_id), None)
    if number is None:
        answer.citations.append(citation_for(hit, [span]))
        number = len(answer.citations)
    citation = answer.citations[number - 1]
    if span not in citation.highlights:
        citation.highlights = sorted([*citation.highlights, span])
        citation.highlight = citation.highlights[0]
        citation.cited = True
    renumber = cited_first(answer)
    return AnswerLine(quoted(quote), renumber[number], "support")


def cited_first(answer: Answer) -> dict[int, int]:
    """Cited passages before the others found, so the numbers read in order; the lines' numbers follow.
    Returns each old citation number's new one."""
    order = sorted(range(len(answer.citations)), key=lambda i: (not answer.citations[i].cited, i))
    renumber = {old + 1: new + 1 for new, old in enumerate(order)}
    answer.citations = [answer.citations[i] for i in order]
    for line in answer.lines:
        line.citation = renumber[line.citation]
    return renumber


def unquote(answer: Answer, line: AnswerLine) -> None:
    """A line dropped from the answer is no longer highlighted in its passage (nor the passage cited, if it was its only quote)."""
    citation = answer.citations[line.citation - 1]
    citation.highlights = [span for span in citation.highlights if span != span_of(citation.text, line.text)]
    citation.highlight = citation.highlights[0] if citation.highlights else None
    citation.cited = bool(citation.highlights)


def with_verdict(answer: Answer, status: str, promised: tuple[Hit, str], reported: tuple[Hit, str], support_lines: int) -> Answer:
    """A target answer that says whether the target was met, quoting the target and what a later paper reported."""
    lines = [answer.lines[0]]
    for hit, quote in (promised, reported):
        if any(quoted(quote) in line.text for line in lines):
            continue  # already read in full in a line above (often inside the lead's longer quote)
        line = quote_in_answer(answer, hit, quote)
        if line is not None:
            lines.append(line)
    if len(lines) == 1:
        return answer
    kept_supports = [line for line in answer.lines[1:] if line.text not in {l.text for l in lines}]
    room = max(0, support_lines + 1 - len(lines))
    answer.lines = lines + kept_supports[:room]
    for line in kept_supports[room:]:
        unquote(answer, line)
    cited_first(answer)
    later = reported[0].document.meta
    answer.verdict = Verdict(status, f"{source_label(reported[0])} reported \u201c{quoted(reported[1])}\u201d")
    answer.answer = "\n".join([*answer.answer.splitlines()[:1], *(f"\u201c{line.text}\u201d [{line.citation}]" for line in answer.lines[1:]),
                               f"Target {status} ({later.date or 'later paper'})."])
    return answer
