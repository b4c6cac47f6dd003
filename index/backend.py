"""The storage seam: what ingest writes through, and what search, answers, the register and the pages read through.

Two backends implement it, chosen by `settings.backend.kind`:
- `embedded` (index.store, the default): SQLite, FAISS and the BM25 postings in generation folders.
- `milvus` (index.milvus): chunks, their dense vectors, Milvus's own BM25 and the sentence vectors in a
  Milvus collection (a Milvus Lite file or a server), with the documents and the commitments register
  in a small SQLite catalog published in generations exactly like the embedded index.

Both publish through the index folder's CURRENT pointer, so readers notice a new generation the same way,
and both record the model name and dimension, so vectors of two models are never mixed.
"""
from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Iterable, Protocol

import numpy as np

from core.records import Chunk, Document, DocumentMeta, Filters
from core.settings import Settings

BACKENDS = ("embedded", "milvus")


class UnknownBackend(ValueError):
    pass


class IndexView(Protocol):
    """One published generation, read-only; shared by request threads."""

    generation: str
    manifest: dict
    conn: sqlite3.Connection  # documents and the commitments register

    @property
    def model_name(self) -> str: ...
    def is_current(self) -> bool: ...
    def document_count(self) -> int: ...
    def chunk_count(self) -> int: ...
    def documents(self) -> list[Document]: ...
    def document(self, doc_id: str) -> Document | None: ...
    def authorities(self) -> list[str]: ...
    def committees(self) -> list[str]: ...
    def chunks_of(self, doc_id: str) -> list[Chunk]: ...
    def chunks_by_id(self, chunk_ids: Iterable[int]) -> dict[int, Chunk]: ...
    def document_ids_of(self, chunk_ids: Iterable[int]) -> dict[int, str]: ...
    def unit_vectors_of(self, chunk_ids: Iterable[int]) -> dict[int, np.ndarray]: ...
    def vectors_of(self, chunk_ids: list[int]) -> np.ndarray: ...
    def restriction(self, filters: Filters | None) -> object | None:
        """`filters` in the backend's own terms (chunk ids, an expression), resolved once per question; None: all."""
    def bm25(self, query: str, restriction: object | None, limit: int) -> list[tuple[int, float]]: ...
    def dense(self, vector: np.ndarray, restriction: object | None, limit: int) -> list[tuple[int, float]]: ...
    def fused(self, query: str, vector: np.ndarray, restriction: object | None, limit: int, bm25_weight: float,
              dense_weight: float) -> dict[int, float] | None:
        """Hybrid scores from the backend's own ranker, or None to leave fusion to index.search."""
    def idf(self, word: str) -> float: ...
    def unseen_idf(self) -> float:
        """The idf of a word no chunk holds, which puts the others on a 0-1 scale for the answer step."""
    def stats(self) -> dict: ...
    def integrity_problems(self) -> list[str]: ...


class IndexBuilder(Protocol):
    """The next generation, built beside the current one; nothing is visible to readers until `publish()`."""

    previous: str | None
    reused_previous: bool
    conn: sqlite3.Connection  # documents and the commitments register

    def previous_document_count(self) -> int | None:
        """Papers in the published generation this one replaces (for the shrink guard); None when unknown."""
    def document_count(self) -> int: ...
    def document_hashes(self) -> dict[str, str]: ...
    def document_paths(self) -> dict[str, str]: ...
    def document_meta(self, doc_id: str) -> DocumentMeta | None: ...
    def chunks_of(self, doc_id: str) -> list[Chunk]: ...
    def delete_document(self, doc_id: str) -> None: ...
    def update_document_path(self, doc_id: str, path: str, meta: DocumentMeta) -> None: ...
    def add_document(self, document: Document, chunks: list[Chunk], vectors: np.ndarray, contexts: list[str],
                     bodies: list[str], unit_vectors: list[np.ndarray] | None = None) -> list[int]: ...
    def publish(self) -> str: ...
    def abandon(self) -> None: ...


def checked_backend(settings: Settings) -> str:
    kind = settings.backend.kind
    if kind not in BACKENDS:
        raise UnknownBackend(f"unknown backend {kind!r}: choose one of {', '.join(BACKENDS)}")
    return kind


def open_view(settings: Settings) -> IndexView:
    """The current generation of the configured backend (IndexMissing / IndexCorrupt when there is none)."""
    if checked_backend(settings) == "milvus":
        from index.milvus import MilvusView

        return MilvusView.open(settings)
    from index.store import IndexReader

    return IndexReader.open(settings.index_dir)


def open_builder(settings: Settings, model: str, dimension: int, fresh: bool = False) -> IndexBuilder:
    """A writer for the next generation; use under `index.store.writer_lock(settings.index_dir)`."""
    snapshot = {"chunking": settings.chunk.snapshot()}
    if checked_backend(settings) == "milvus":
        from index.milvus import MilvusBuilder

        return MilvusBuilder(settings, model, dimension, snapshot, fresh=fresh)
    from index.store import IndexWriter

    return IndexWriter(Path(settings.index_dir), model, dimension, settings.retrieval.ann_threshold, snapshot, fresh=fresh)
