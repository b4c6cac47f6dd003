"""Scrutiny: the one object the CLI and the web app ask questions through.

It holds the embedding model and the open index, loaded once, and notices
when ingest publishes a new index generation so a running server picks it up.
"""
from __future__ import annotations

import threading
from collections import OrderedDict
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Callable, Iterable

import numpy as np

from core.records import Answer, Chunk, Document, Filters, Hit
from core.settings import Settings
from decisions.references import asks_about_decision
from decisions.trail import decision_reference_for
from index.answer import Reading, compose_answer, read_passages, with_verdict
from index.councils import councils_without_papers
from index.features import (AskedQuestion, Candidate, TextFacts, asked_kinds, candidate_lines, chunk_lines, passage_words_of,
                            printed_roles, records_decision, records_decisions_by_title, records_role)
from index.followup import ReadQuestion, read_question
from index.query import QueryAnalysis, named_authority
from index.scorer import AnswerModel, load_answer_model
from index.search import MODES, UnknownMode, chunks_naming, search_hits

QUERY_CACHE_SIZE = 256
NAMING_CACHE_SIZE = 256  # councils whose naming chunks (index.search.chunks_naming) are kept for the open generation


class Recent:
    """The most recently used values, at most `size` of them, shared safely by request threads."""

    def __init__(self, size: int):
        self.size = size
        self._items: OrderedDict = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key, make: Callable[[], object]):
        """The value kept for `key`, or a new one from `make()` (called outside the lock)."""
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
                return self._items[key]
        value = make()
        with self._lock:
            self._items[key] = value
            while len(self._items) > self.size:
                self._items.popitem(last=False)
        return value


@dataclass
class IndexState:
    reader: object
    documents: dict[str, Document]
    authorities: list[str]
    naming: Recent = field(default_factory=lambda: Recent(NAMING_CACHE_SIZE))  # chunks_naming per council, for this generation


def first_unread(hits: list[Hit], others: Iterable[Hit], fits: Callable[[Hit], bool]) -> list[Hit]:
    """The first of `others` that is not among `hits` and `fits`, as a list of at most one."""
    read = {hit.chunk.chunk_id for hit in hits}
    return next(([hit] for hit in others if hit.chunk.chunk_id not in read and fits(hit)), [])


def decision_record_hit(asks: frozenset[str], hits: list[Hit], wide: list[Hit],
                        records: Callable[[Chunk], bool] = lambda chunk: records_decision(chunk.text)) -> list[Hit]:
    """For a question about a decision (`asks`, the kinds of answer it wants), the best passage ranked below `hits`
    that records one ("RESOLVED that", "APPROVE ..."), from a paper that records decisions (minutes, a decision
    notice) if one does: a record of decision's background and a report's discussion often rank above the decision,
    and a report's account of what a committee resolved before ranks above the minutes of what was resolved since.
    `records` may remember what each passage holds."""
    if "decision" not in asks:
        return []
    return (first_unread(hits, wide, lambda hit: records(hit.chunk) and records_decisions_by_title(hit.document.meta.title))
            or first_unread(hits, wide, lambda hit: records(hit.chunk)))


FIGURE_KINDS = frozenset({"amount", "count", "percentage", "date", "target"})


def table_hit(analysis: QueryAnalysis, hits: list[Hit], wide: list[Hit]) -> list[Hit]:
    """For a question asking for a figure or a date, the best table passage ranked below `hits`: a table's rows are
    mostly figures, and rank below the prose that speaks of the same measure ("The number of UASC in care decreased
    by 80 to 475"), though a row holds the figure asked for ("UASC | ... | Sep-24: 555"). Chosen on dev, refitted:
    answer accuracy out of fold 0.651 to 0.660; on test 0.639 to 0.649, the table tag 0.70 to 0.75."""
    if not asked_kinds(analysis) & FIGURE_KINDS:
        return []
    return first_unread(hits, wide, lambda hit: hit.chunk.kind == "table")


def role_record_hit(analysis: QueryAnalysis, hits: list[Hit], wide: list[Hit],
                    chunks_of: Callable[[str], list[Chunk]] = lambda doc_id: []) -> list[Hit]:
    """For a "who" question about a part someone played (wrote the report, chaired the meeting), the passage of the
    best passage's paper that prints who played it: the best ranked below `hits`, or else its first in the paper
    (`chunks_of`, unranked). An attendance list or a contact block says little else, so it ranks low or not at all."""
    printed = printed_roles(analysis.text)
    if "person" not in analysis.asks or not hits or not printed:
        return []
    paper = hits[0].document

    def prints_role(hit: Hit) -> bool:
        return hit.document.doc_id == paper.doc_id and records_role(printed, hit.chunk.text)

    return first_unread(hits, wide, prints_role) or first_unread(
        hits, (Hit(chunk=chunk, document=paper, score=0.0) for chunk in chunks_of(paper.doc_id)), prints_role)


def other_council_hits(hits: list[Hit], wide: list[Hit], limit: int) -> list[Hit]:
    """The best passage of each council that `hits` does not cover, from a wider ranking."""
    covered = {hit.document.meta.authority for hit in hits}
    extra: list[Hit] = []
    for hit in wide[len(hits):]:
        authority = hit.document.meta.authority
        if authority not in covered and len(extra) < limit:
            extra.append(hit)
            covered.add(authority)
    return extra


WARM_UP_QUESTIONS = ("What was the target?", "What was decided?")


class Scrutiny:
    def __init__(self, settings: Settings, embedder=None):
        from ingest.embed import Embedder

        self.settings = settings
        self.embedder = embedder or Embedder(settings.embed)
        self._state: IndexState | None = None
        self._lock = threading.Lock()
        self._encode_lock = threading.Lock()  # one encode at a time: torch already uses every core
        self._query_vectors = Recent(QUERY_CACHE_SIZE)
        self._chunk_lines = Recent(settings.answer.line_cache)
        self._records_decision = Recent(settings.answer.line_cache)
        self._passage_facts = Recent(settings.answer.line_cache)
        self._answer_model: AnswerModel | None = None
        self._held = threading.local()  # the state a question in this thread is answered from (see held_state)

    # index lifecycle -------------------------------------------------------
    def state(self) -> IndexState:
        """The open index, reopened when ingest has published a newer generation; within held_state, the state
        the question began with."""
        held = getattr(self._held, "state", None)
        if held is not None:
            return held
        state = self._state
        if state is not None and state.reader.is_current():
            return state
        with self._lock:
            if self._state is None or not self._state.reader.is_current():
                self._state = self.opened_state()
            return self._state

    def opened_state(self) -> IndexState:
        """The published index opened afresh; raises IndexError_ when it cannot be."""
        from index.backend import open_view

        reader = open_view(self.settings)
        documents = {d.doc_id: d for d in reader.documents()}
        authorities = sorted({d.meta.authority for d in documents.values() if d.meta.authority})
        return IndexState(reader, documents, authorities)

    @contextmanager
    def held_state(self):
        """Answer one question from one generation: every state() in this thread returns the state it began with,
        so a generation published mid-question never mixes two indexes' passages, and the pointer file is read
        once a question instead of at each step."""
        if getattr(self._held, "state", None) is not None:  # already held by the caller
            yield
            return
        self._held.state = self.state()
        try:
            yield
        finally:
            self._held.state = None

    def reload(self) -> str:
        """Re-open the index; the new state replaces the old in one assignment under the lock, so a request in
        flight keeps the state it started with and none ever sees no state. A failure leaves the old state."""
        with self._lock:
            self._state = self.opened_state()
            return self._state.reader.generation

    def warm_up(self) -> None:
        self.query_vector("warm up")

    def read_ahead(self) -> int:
        """Read every passage's quotable lines, and what every question asks of each line, when the index is
        small enough for the line cache to keep them all: the first question about a paper is then as quick
        as the next. Returns the passages read (0 for a larger index, whose lines are read as asked)."""
        state = self.state()
        if state.reader.chunk_count() > self.settings.answer.line_cache:
            return 0
        read = 0
        for doc_id in state.documents:
            for chunk in state.reader.chunks_of(doc_id):
                for line in self.lines_of(chunk):
                    line.read_ahead()
                self.records_decision(chunk)
                self.passage_facts(chunk).read_ahead()
                read += 1
        return read

    def warm_answering(self) -> None:
        """Put a target question and a decision question once, so the commitments register and the decision trail
        are read before the first user's question, not during it (about 20 ms on the first of each kind)."""
        for question in WARM_UP_QUESTIONS:
            self.ask(question)

    # questions -------------------------------------------------------------
    def query_vector(self, text: str) -> np.ndarray:
        return self._query_vectors.get(text, lambda: self.encoded(text))

    def encoded(self, text: str) -> np.ndarray:
        with self._encode_lock:
            return self.embedder.encode_query(text)

    def lines_of(self, chunk: Chunk) -> list[Candidate]:
        """A passage's quotable lines, kept while it is read often (keyed by its text too, so a rebuilt index
        that reuses the chunk's number never gets another passage's lines)."""
        return self._chunk_lines.get((chunk.chunk_id, chunk.text), lambda: chunk_lines(chunk))

    def passage_facts(self, chunk: Chunk) -> TextFacts:
        """What the retrieval's kind boost has read of a passage, kept while it is read often (see lines_of)."""
        return self._passage_facts.get((chunk.chunk_id, chunk.text), lambda: TextFacts(chunk.text))

    def records_decision(self, chunk: Chunk) -> bool:
        """Whether a passage records a decision, kept while it is read often (see lines_of)."""
        return self._records_decision.get((chunk.chunk_id, chunk.text), lambda: records_decision(chunk.text))

    def search(self, question: str, filters: Filters | None = None, mode: str | None = None, k: int | None = None,
               analysis: QueryAnalysis | None = None) -> list[Hit]:
        mode = mode or self.settings.retrieval.mode
        if mode not in MODES:
            raise UnknownMode(f"unknown mode {mode!r}: choose one of {', '.join(MODES)}")
        state = self.state()
        vector = self.query_vector(question) if mode != "bm25" else None
        return search_hits(
            state.reader, question, vector, filters, mode, k or self.settings.retrieval.k,
            self.settings.retrieval, state.documents,
            lambda authority: state.naming.get(authority, lambda: chunks_naming(state.reader, authority, state.documents)),
            analysis, self.passage_facts,
        )

    def term_weights(self, analysis: QueryAnalysis) -> dict[str, float]:
        """Inverse document frequency of the question's words, so rare words count for more in answer selection."""
        reader = self.state().reader
        return {term: reader.idf(term) for term in [*analysis.terms, *analysis.expansions]}

    @property
    def answer_model(self) -> AnswerModel:
        if self._answer_model is None:
            self._answer_model = load_answer_model(self.settings.answer.model)
        return self._answer_model

    def read(self, question: str, history: list[str] | None = None) -> ReadQuestion:
        """The question as it will be answered: a follow-up completed from the turns before it."""
        return read_question(question, list(history or []), self.state().authorities)

    def passages_to_read(self, analysis: QueryAnalysis, filters: Filters | None, mode: str, k: int) -> list[Hit]:
        """The best passages, then the best passage of each other council, so a question several councils answer gets a line from each,
        for a question about a decision the best further passage that records one, and for one asking for a figure or
        a date the best further table passage."""
        answer = self.settings.answer
        wide = self.search(analysis.text, filters, mode, max(k, answer.diversity_pool), analysis)
        hits = wide[: min(answer.sentence_hits, k)]
        read = hits + other_council_hits(hits, wide, answer.other_councils)
        read += decision_record_hit(analysis.asks, read, wide, self.records_decision)
        read += table_hit(analysis, read, wide)
        return read + role_record_hit(analysis, read, wide, self.state().reader.chunks_of)

    def candidates(self, read: ReadQuestion, filters: Filters | None = None, mode: str | None = None,
                   k: int | None = None) -> tuple[AskedQuestion, list[Candidate], float]:
        """The question analysed once, every quotable line of the passages read (with its closeness to the
        question), and the best passage's cosine: what the answer model scores and `scrutiny fit` learns from."""
        mode = mode or self.settings.retrieval.mode
        k = k or self.settings.retrieval.k
        analysis = read.analysis()
        hits = self.passages_to_read(read.search_analysis(analysis), filters, mode, k)
        state = self.state()
        asked = AskedQuestion(analysis, self.term_weights(analysis), hits,
                              named_authority(read.text, state.authorities), state.reader.unseen_idf(),
                              tuple(councils_without_papers(read.text, state.authorities)), read.own_terms, read.period_text)
        candidates = candidate_lines(hits, self.lines_of)
        asked.passage_words = passage_words_of(candidates, len(hits))  # from the lines' kept words: no passage is split again
        asked.lines = candidates
        return asked, candidates, self.set_closeness(read.text, candidates, hits)

    def reading(self, read: ReadQuestion, filters: Filters | None = None, mode: str | None = None, k: int | None = None) -> Reading:
        """Every candidate line of the passages read, scored; the lead, its support and the confidence."""
        asked, candidates, top_cosine = self.candidates(read, filters, mode, k)
        return read_passages(asked, candidates, self.answer_model, self.settings.answer, top_cosine)

    def ask(self, question: str, filters: Filters | None = None, mode: str | None = None, k: int | None = None,
            history: list[str] | None = None) -> Answer:
        """The extractive answer with its citations; the CLI and POST /api/ask both come here.

        `history` holds the earlier questions of the conversation, oldest first: a follow-up that
        lacks a subject ("and what about 2005?") inherits the council, period and subject of the last.
        """
        with self.held_state():
            return self.composed_answer(question, filters, mode or self.settings.retrieval.mode, k or self.settings.retrieval.k, history)

    def composed_answer(self, question: str, filters: Filters | None, mode: str, k: int, history: list[str] | None) -> Answer:
        read = self.read(question, history)
        reading = self.reading(read, filters, mode, k)
        absent = reading.question.absent_councils
        notice = f"No papers from {' or '.join(absent)} are in the index; councils: {', '.join(self.state().authorities)}." if absent else None
        answer = compose_answer(question, reading, mode, notice if reading.level == "not_found" else None)
        answer.read_as = read.read_as
        answer.complete_question = read.text if read.text != question else None
        if answer.found and reading.question.analysis.asks & {"target", "yes_no"}:
            answer = self.settle_target(answer, reading, read, filters)
        if answer.found and asks_about_decision(read.text):
            cited = [(c.doc_id, c.chunk_id, c.text[c.highlight[0]:c.highlight[1]] if c.highlight else "")
                     for c in answer.citations if c.cited]
            answer.decision_ref = decision_reference_for(self.state().reader, cited, f"{read.text}\n{answer.answer}")
        return answer

    def settle_target(self, answer: Answer, reading: Reading, read: ReadQuestion, filters: Filters | None) -> Answer:
        """A target question also says whether the target was met, when the commitments register knows."""
        from commitments.answer import settled_entry

        state = self.state()
        hits = reading.question.hits
        quoted = [(hits[c.hit_rank].document.doc_id, hits[c.hit_rank].chunk.chunk_id, c.text) for c in [reading.lead, *reading.supports]]
        authority = (filters.authority if filters else None) or read.authority
        entry = settled_entry(state.reader.conn, read.text, quoted, authority)
        if entry is None:
            return answer
        later = entry.evidence  # the follow-up that settled the status
        chunks = state.reader.chunks_by_id([entry.commitment.chunk_id, later.chunk_id])
        if entry.commitment.chunk_id not in chunks or later.chunk_id not in chunks:
            return answer

        def hit(chunk_id: int) -> Hit:
            chunk = chunks[chunk_id]
            return Hit(chunk=chunk, document=state.documents[chunk.doc_id], score=0.0)

        return with_verdict(answer, entry.commitment.status, (hit(entry.commitment.chunk_id), entry.commitment.text),
                            (hit(later.chunk_id), later.text), self.settings.answer.support_lines)

    def line_vectors(self, candidates: list[Candidate], hits: list[Hit]) -> tuple[np.ndarray, np.ndarray]:
        """Each candidate's vector, from the sentence vectors ingest stored (a line without one, past the model's
        window when its chunk was embedded, takes its passage's), and the passages' own vectors."""
        reader = self.state().reader
        chunk_ids = [hit.chunk.chunk_id for hit in hits]
        passages = reader.vectors_of(chunk_ids)
        passage_row = {chunk_id: row for row, chunk_id in enumerate(chunk_ids)}
        stored = reader.unit_vectors_of(chunk_ids)
        units = [len(self.lines_of(hit.chunk)) for hit in hits]
        rows = []
        for candidate in candidates:
            chunk = hits[candidate.hit_rank].chunk
            vectors = stored.get(chunk.chunk_id)
            # Rows line up with the units only while lines are split as they were at ingest.
            usable = vectors is not None and len(vectors) == units[candidate.hit_rank] and not np.isnan(vectors[candidate.unit, 0])
            rows.append(vectors[candidate.unit] if usable else passages[passage_row[chunk.chunk_id]])
        return np.array(rows, dtype=np.float32).reshape(len(candidates), passages.shape[1]), passages

    def set_closeness(self, question: str, candidates: list[Candidate], hits: list[Hit]) -> float:
        """Each candidate's cosine to the question, and its closeness as the answer model's fitted weighting reads
        it; returns the best passage's cosine."""
        if not hits:
            return 0.0
        query = self.query_vector(question)
        lines, passages = self.line_vectors(candidates, hits)
        learned = self.answer_model.learned_closeness(query, lines)
        for candidate, cosine, closeness in zip(candidates, (lines @ query).tolist(), learned.tolist()):
            candidate.closeness = cosine
            candidate.learned_closeness = closeness
        return float(passages[0] @ query)

    @property
    def documents(self) -> dict[str, Document]:
        return self.state().documents
