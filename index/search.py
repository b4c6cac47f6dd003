"""search_hits: BM25 (index.lexical), dense (FAISS) or a weighted fusion of both."""
from __future__ import annotations

from dataclasses import replace

import numpy as np

from core.records import Document, Filters, Hit
from core.settings import RetrievalSettings
from index.query import QueryAnalysis, analyse_question, lexical_query, named_authority

MODES = ("hybrid", "bm25", "dense")
YEAR_BOOST = 0.08


class UnknownMode(ValueError):
    pass


def steered_filters(question: str, filters: Filters, authorities: list[str]) -> Filters:
    """Restrict to a council the question names, unless the caller already chose one."""
    if filters.authority or filters.doc_id:
        return filters
    authority = named_authority(question, authorities)
    return replace(filters, authority=authority) if authority else filters


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


def candidate_scores(reader, analysis: QueryAnalysis, query_vector, filters: Filters, mode: str, settings: RetrievalSettings) -> dict[int, float]:
    limit = settings.candidates
    allowed = reader.restriction(filters)  # resolved once: both retrievers need it
    if mode == "bm25":
        return dict(reader.bm25(lexical_query(analysis), allowed, limit))
    if mode == "dense":
        return dict(reader.dense(query_vector, allowed, limit))
    fused = reader.fused(lexical_query(analysis), query_vector, allowed, limit, settings.bm25_weight, settings.dense_weight)
    if fused is not None:  # the backend's own ranker (Milvus's weighted or RRF) when it is configured to fuse
        return fused
    bm25 = dict(reader.bm25(lexical_query(analysis), allowed, limit))
    dense = dict(reader.dense(query_vector, allowed, limit))
    # Score every candidate by both retrievers so fusion never sees a missing value for a chunk that was merely ranked low.
    dense.update(exact_cosines(reader, query_vector, [cid for cid in bm25 if cid not in dense]))
    return fused_scores(bm25, dense, settings)


def search_hits(
    reader,
    question: str,
    query_vector: np.ndarray | None,
    filters: Filters | None = None,
    mode: str = "hybrid",
    k: int = 5,
    settings: RetrievalSettings | None = None,
    documents: dict[str, Document] | None = None,
) -> list[Hit]:
    """The k best passages for `question`, best first."""
    if mode not in MODES:
        raise UnknownMode(f"unknown mode {mode!r}: choose one of {', '.join(MODES)}")
    settings = settings or RetrievalSettings()
    documents = documents if documents is not None else {d.doc_id: d for d in reader.documents()}
    analysis = analyse_question(question)
    filters = steered_filters(question, filters or Filters(), sorted({d.meta.authority for d in documents.values() if d.meta.authority}))
    scores = candidate_scores(reader, analysis, query_vector, filters, mode, settings)
    if not scores:
        return []
    boosts = year_boosts(documents, reader.document_ids_of(scores), analysis.years)
    ranked = sorted(scores, key=lambda cid: (-(scores[cid] + boosts.get(cid, 0.0)), cid))[:k]
    chunks = reader.chunks_by_id(ranked)
    return [
        Hit(chunk=chunks[cid], document=documents[chunks[cid].doc_id], score=round(scores[cid] + boosts.get(cid, 0.0), 4),
            scores={mode: scores[cid]})
        for cid in ranked
    ]
