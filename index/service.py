"""Scrutiny: the one object the CLI and the web app ask questions through.

It holds the embedding model and the open index, loaded once, and notices
when ingest publishes a new index generation so a running server picks it up.
"""
from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass

import numpy as np

from core.records import Answer, Document, Filters, Hit
from core.settings import Settings
from index.answer import compose_answer
from index.query import analyse_question
from index.search import MODES, UnknownMode, search_hits

QUERY_CACHE_SIZE = 256
SENTENCE_CACHE_SIZE = 2_000


@dataclass
class IndexState:
    reader: object
    documents: dict[str, Document]
    authorities: list[str]


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


class Scrutiny:
    def __init__(self, settings: Settings, embedder=None):
        from ingest.embed import Embedder

        self.settings = settings
        self.embedder = embedder or Embedder(settings.embed)
        self._state: IndexState | None = None
        self._lock = threading.Lock()
        # One encode at a time: torch already uses every core, and the caches below are shared by request threads.
        self._encode_lock = threading.Lock()
        self._query_vectors: OrderedDict[str, np.ndarray] = OrderedDict()
        self._sentence_vectors: OrderedDict[str, np.ndarray] = OrderedDict()

    # index lifecycle -------------------------------------------------------
    def state(self) -> IndexState:
        """The open index, reopened when ingest has published a newer generation."""
        from index.backend import open_view

        state = self._state
        if state is not None and state.reader.is_current():
            return state
        with self._lock:
            if self._state is None or not self._state.reader.is_current():
                reader = open_view(self.settings)
                documents = {d.doc_id: d for d in reader.documents()}
                authorities = sorted({d.meta.authority for d in documents.values() if d.meta.authority})
                self._state = IndexState(reader, documents, authorities)
            return self._state

    def reload(self) -> str:
        self._state = None
        return self.state().reader.generation

    def warm_up(self) -> None:
        self.query_vector("warm up")

    # questions -------------------------------------------------------------
    def query_vector(self, text: str) -> np.ndarray:
        with self._encode_lock:
            cached = self._query_vectors.get(text)
            if cached is not None:
                self._query_vectors.move_to_end(text)
                return cached
            vector = self.embedder.encode_query(text)
            self._query_vectors[text] = vector
            if len(self._query_vectors) > QUERY_CACHE_SIZE:
                self._query_vectors.popitem(last=False)
            return vector

    def search(self, question: str, filters: Filters | None = None, mode: str | None = None, k: int | None = None) -> list[Hit]:
        mode = mode or self.settings.retrieval.mode
        if mode not in MODES:
            raise UnknownMode(f"unknown mode {mode!r}: choose one of {', '.join(MODES)}")
        state = self.state()
        vector = self.query_vector(question) if mode != "bm25" else None
        return search_hits(
            state.reader, question, vector, filters, mode, k or self.settings.retrieval.k,
            self.settings.retrieval, state.documents,
        )

    def term_weights(self, question: str) -> dict[str, float]:
        """Inverse document frequency of the question's words, so rare words count for more in answer selection."""
        state = self.state()
        analysis = analyse_question(question)
        return {term: state.reader.idf(term) for term in [*analysis.terms, *analysis.expansions]}

    def ask(self, question: str, filters: Filters | None = None, mode: str | None = None, k: int | None = None) -> Answer:
        """The extractive answer with its citations; the CLI and POST /api/ask both come here."""
        mode = mode or self.settings.retrieval.mode
        k = k or self.settings.retrieval.k
        from_register = self.answer_from_register(question, filters, mode)
        if from_register is not None:
            return from_register
        wide = self.search(question, filters, mode, max(k, self.settings.answer.diversity_pool))
        hits = wide[:k]
        reading = min(self.settings.answer.sentence_hits, len(hits))
        others = other_council_hits(hits, wide, self.settings.answer.max_lines - 1)
        # Passages of other councils are read right after the best ones, so a question several councils answer gets a line from each.
        ordered = hits[:reading] + others + hits[reading:]
        return compose_answer(
            question, ordered, self.settings.answer, self.term_weights(question),
            similarity=lambda sentences, hits: self.similarities(question, sentences, hits), mode=mode,
            authorities=self.state().authorities, extra_hits=len(others),
        )

    def answer_from_register(self, question: str, filters: Filters | None, mode: str) -> Answer | None:
        """Questions about promises kept ("did they achieve it?") are answered from the commitments register."""
        from commitments.answer import asks_about_commitments, register_answer
        from commitments.register import commitments_for_question

        if not asks_about_commitments(question):
            return None
        state = self.state()
        entries = commitments_for_question(state.reader.conn, question, filters.authority if filters else None)
        return register_answer(question, entries, state.reader, state.documents, mode)

    def similarities(self, question: str, sentences: list, hits: list[Hit]) -> np.ndarray:
        """Cosine of each sentence to the question, from the sentence vectors ingest stored; a sentence
        without one (past the model's window when its chunk was embedded) is encoded now."""
        from index.answer import sentence_units

        query = self.query_vector(question)
        stored = self.state().reader.unit_vectors_of(hits[s.hit_rank].chunk.chunk_id for s in sentences)
        found: list[np.ndarray | None] = []
        for sentence in sentences:
            chunk = hits[sentence.hit_rank].chunk
            vectors = stored.get(chunk.chunk_id)
            # Rows line up with the units only while sentences are split as they were at ingest.
            usable = vectors is not None and len(vectors) == len(sentence_units(chunk.text)) and not np.isnan(vectors[sentence.unit, 0])
            found.append(vectors[sentence.unit] if usable else None)
        missing = [" ".join(s.context.split()[: self.settings.answer.similarity_words]) for s, v in zip(sentences, found) if v is None]
        encoded = iter(self.encoded_sentences(missing))
        return np.array([float((v if v is not None else next(encoded)) @ query) for v in found])

    def encoded_sentences(self, texts: list[str]) -> list[np.ndarray]:
        """Sentence vectors computed at question time, cached, as popular passages recur."""
        if not texts:
            return []
        with self._encode_lock:
            missing = [t for t in dict.fromkeys(texts) if t not in self._sentence_vectors]
            vectors = dict(zip(missing, self.embedder.encode(missing))) if missing else {}
            vectors.update((t, self._sentence_vectors[t]) for t in texts if t not in vectors)
            self._sentence_vectors.update(vectors)
            while len(self._sentence_vectors) > SENTENCE_CACHE_SIZE:
                self._sentence_vectors.popitem(last=False)
        return [vectors[t] for t in texts]

    @property
    def documents(self) -> dict[str, Document]:
        return self.state().documents
