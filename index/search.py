"""search_hits: BM25 (index.lexical), dense (FAISS) or a weighted fusion of both."""
from __future__ import annotations

import re
from dataclasses import replace
from typing import Callable

import numpy as np

from core.records import Chunk, Document, Filters, Hit
from core.settings import RetrievalSettings
from index.features import TextFacts, asked_kinds, carries_kind, figures_in
from index.query import QueryAnalysis, analyse_question, distinctive_words, lexical_query, named_authority

MODES = ("hybrid", "bm25", "dense")
YEAR_BOOST = 0.08
EVERY_CHUNK = 1 << 40  # a BM25 limit no index reaches: every chunk holding the word


class UnknownMode(ValueError):
    pass


def steered_authority(question: str, filters: Filters, authorities: list[str]) -> str | None:
    """The council the question names, unless the caller already chose a council or a paper."""
    if filters.authority or filters.doc_id:
        return None
    return named_authority(question, authorities)


def mentions_council(authority: str) -> re.Pattern:
    """The council's distinctive words as a phrase ("Bristol", "West Sussex"), as a paper of another body names it."""
    between = r"(?:\W+(?:of|the|and))*\W+"  # "West of England" for the words west, england
    return re.compile(r"\b" + between.join(map(re.escape, distinctive_words(authority))) + r"\b", re.IGNORECASE)


def min_max(values: dict[int, float]) -> dict[int, float]:
    if not values:
        return {}
    low, high = min(values.values()), max(values.values())
    span = high - low
    return {key: (value - low) / span if span > 1e-9 else 1.0 for key, value in values.items()}


def fused_scores(bm25: dict[int, float], dense: dict[int, float], settings: RetrievalSettings) -> dict[int, float]:
    """Weighted sum of min-max normalised scores; a retriever that missed a candidate gives it 0."""
    bm25_norm, dense_norm = min_max(bm25), min_max(dense)
    keys = set(bm25) | set(dense)
    return {
        key: settings.bm25_weight * bm25_norm.get(key, 0.0) + settings.dense_weight * dense_norm.get(key, 0.0)
        for key in keys
    }


def kind_boosts(question: str, analysis: QueryAnalysis, passages: dict[int, TextFacts | str], boost: float) -> dict[int, float]:
    """`boost` for each passage holding the kind of answer asked for, shared between the kinds asked: for "How
    did the committee vote on ...?" the minutes' "8 voting FOR, 1 against" outranks the report that proposed it.
    A passage may come as its text or as the TextFacts kept for it, which remember what was read of it before."""
    kinds = asked_kinds(analysis)
    if not kinds:
        return {}
    asked = figures_in(question)
    held = {cid: sum(carries_kind(kind, question, passage, asked) for kind in kinds) / len(kinds) for cid, passage in passages.items()}
    return {cid: boost * share for cid, share in held.items() if share}


def exact_cosines(reader, query_vector: np.ndarray, chunk_ids: list[int]) -> dict[int, float]:
    if not chunk_ids:
        return {}
    vectors = reader.vectors_of(chunk_ids)
    return dict(zip(chunk_ids, (vectors @ query_vector).tolist()))


def year_boosts(documents: dict[str, Document], chunk_docs: dict[int, str], years: list[str]) -> dict[int, float]:
    if not years:
        return {}
    return {
        cid: YEAR_BOOST
        for cid, doc_id in chunk_docs.items()
        if (documents[doc_id].meta.date or "")[:4] in years
    }


def retrieved(reader, analysis: QueryAnalysis, query_vector, allowed, mode: str, settings: RetrievalSettings) -> tuple[dict[int, float], dict[int, float]]:
    """Each retriever's own scores for its best candidates among `allowed`."""
    limit = settings.candidates
    bm25 = dict(reader.bm25(lexical_query(analysis), allowed, limit)) if mode != "dense" else {}
    dense = dict(reader.dense(query_vector, allowed, limit)) if mode != "bm25" else {}
    return bm25, dense


def fused_candidates(reader, bm25: dict[int, float], dense: dict[int, float], query_vector, mode: str,
                     settings: RetrievalSettings) -> dict[int, float]:
    if mode == "bm25":
        return bm25
    if mode == "dense":
        return dense
    # Score every candidate by both retrievers so fusion never sees a missing value for a chunk that was merely ranked low.
    dense = {**dense, **exact_cosines(reader, query_vector, [cid for cid in bm25 if cid not in dense])}
    return fused_scores(bm25, dense, settings)


def backend_fused(reader, analysis: QueryAnalysis, query_vector, allowed, mode: str, settings: RetrievalSettings) -> dict[int, float] | None:
    """Hybrid scores from the backend's own ranker (Milvus's weighted or RRF) when it is configured to fuse."""
    if mode != "hybrid":
        return None
    return reader.fused(lexical_query(analysis), query_vector, allowed, settings.candidates, settings.bm25_weight, settings.dense_weight)


def chunks_naming(reader, authority: str, documents: dict[str, Document]) -> np.ndarray:
    """The chunks of other bodies' papers that hold every distinctive word of the council's name ("Bristol"),
    sorted: a combined authority's report on "Bristol City Council's programme" answers a question about Bristol."""
    found: set[int] | None = None
    for word in distinctive_words(authority):
        holding = {chunk_id for chunk_id, _ in reader.bm25(word, None, EVERY_CHUNK)}
        found = holding if found is None else found & holding
    doc_of = reader.document_ids_of(found or [])
    return np.array(sorted(cid for cid in found or () if documents[doc_of[cid]].meta.authority != authority), dtype=np.int64)


def other_bodies_on(reader, scores: dict[int, float], documents: dict[str, Document], authority: str) -> dict[int, float]:
    """Of another search's candidates, the passages of other bodies' papers that name the council."""
    doc_of = reader.document_ids_of(scores)
    others = [cid for cid in scores if documents[doc_of[cid]].meta.authority != authority]
    named = mentions_council(authority)
    chunks = reader.chunks_by_id(others)
    return {cid: scores[cid] for cid in others if named.search(chunks[cid].text)}


def candidate_scores(reader, analysis: QueryAnalysis, query_vector, filters: Filters, steered: str | None, mode: str,
                     settings: RetrievalSettings, documents: dict[str, Document],
                     naming: Callable[[str], np.ndarray]) -> dict[int, float]:
    """Candidates and their scores. A council the question names restricts the search to its papers, and admits
    the passages of other bodies' papers that name it."""
    allowed = reader.restriction(replace(filters, authority=steered) if steered else filters)  # resolved once: both retrievers need it
    wider = None
    if steered:
        wider = reader.restriction(filters)
        if isinstance(allowed, np.ndarray):  # chunk ids: one search over the council's and those naming it
            others = naming(steered)
            allowed = np.union1d(allowed, others if wider is None else np.intersect1d(others, wider))
            steered = None
    fused = backend_fused(reader, analysis, query_vector, allowed, mode, settings)
    if fused is not None:
        if steered:  # a backend that filters by expression searches again without the council and keeps what names it
            fused = {**other_bodies_on(reader, backend_fused(reader, analysis, query_vector, wider, mode, settings), documents, steered), **fused}
        return fused
    bm25, dense = retrieved(reader, analysis, query_vector, allowed, mode, settings)
    if steered:
        more_bm25, more_dense = retrieved(reader, analysis, query_vector, wider, mode, settings)
        admitted = other_bodies_on(reader, {**more_bm25, **more_dense}, documents, steered)
        bm25.update({cid: score for cid, score in more_bm25.items() if cid in admitted})
        dense.update({cid: score for cid, score in more_dense.items() if cid in admitted})
    return fused_candidates(reader, bm25, dense, query_vector, mode, settings)


def search_hits(
    reader,
    question: str,
    query_vector: np.ndarray | None,
    filters: Filters | None = None,
    mode: str = "hybrid",
    k: int = 5,
    settings: RetrievalSettings | None = None,
    documents: dict[str, Document] | None = None,
    naming: Callable[[str], np.ndarray] | None = None,
    analysis: QueryAnalysis | None = None,
    facts_of: Callable[[Chunk], TextFacts] | None = None,
) -> list[Hit]:
    """The k best passages for `question`, best first. `naming` may remember chunks_naming per council;
    `analysis` may bring the question already analysed (a follow-up's kinds are its own); `facts_of` may
    remember what kind_boosts read of each passage."""
    if mode not in MODES:
        raise UnknownMode(f"unknown mode {mode!r}: choose one of {', '.join(MODES)}")
    settings = settings or RetrievalSettings()
    documents = documents if documents is not None else {d.doc_id: d for d in reader.documents()}
    analysis = analysis or analyse_question(question)
    filters = filters or Filters()
    steered = steered_authority(question, filters, sorted({d.meta.authority for d in documents.values() if d.meta.authority}))
    naming = naming or (lambda authority: chunks_naming(reader, authority, documents))
    scores = candidate_scores(reader, analysis, query_vector, filters, steered, mode, settings, documents, naming)
    if not scores:
        return []
    boosts = year_boosts(documents, reader.document_ids_of(scores), analysis.years)
    by_kind = mode == "hybrid" and settings.kind_boost > 0

    def best_first(cid: int) -> tuple[float, int]:
        return -(scores[cid] + boosts.get(cid, 0.0)), cid

    ranked = sorted(scores, key=best_first)[:max(k, settings.kind_pool) if by_kind else k]
    chunks = reader.chunks_by_id(ranked)
    if by_kind:
        facts_of = facts_of or (lambda chunk: TextFacts(chunk.text))
        for cid, boost in kind_boosts(question, analysis, {cid: facts_of(chunks[cid]) for cid in ranked}, settings.kind_boost).items():
            boosts[cid] = boosts.get(cid, 0.0) + boost
        ranked = sorted(ranked, key=best_first)[:k]
    return [
        Hit(chunk=chunks[cid], document=documents[chunks[cid].doc_id], score=round(scores[cid] + boosts.get(cid, 0.0), 4),
            scores={mode: scores[cid]})
        for cid in ranked
    ]
