"""Synthetic indexes and vectors made from a real index, for measuring at sizes the corpus does not reach.

Text is the corpus' own sentences recombined; vectors (and each sentence's stored vector) are
real chunk embeddings with Gaussian noise, re-normalised (embedding 100,000 texts on two cores
would take hours).
"""
from __future__ import annotations

import re
import time
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from core.records import Chunk, Document, DocumentMeta
from core.settings import Settings

SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9(\"'])")
WORD = re.compile(r"[A-Za-z][A-Za-z'-]{3,}")
# Noise norm relative to a unit vector: keeps a noisy copy near its source (cosine ~0.9) without duplicating it.
CHUNK_NOISE = 0.5
VECTOR_NOISE = 0.3
QUESTION_TEMPLATES = (
    "What does the paper say about {}?",
    "What was decided about {}?",
    "How much is spent on {}?",
    "When will {} be reviewed?",
    "Who is responsible for {}?",
    "What are the risks of {}?",
)


@dataclass
class SourceCorpus:
    """The real chunks a synthetic index is made from."""

    texts: list[str]
    vectors: np.ndarray  # (len(texts), dimension), unit rows
    documents: list[Document]
    model: str

    @property
    def dimension(self) -> int:
        return int(self.vectors.shape[1])


@dataclass
class SyntheticIndex:
    index_dir: Path
    chunks: int
    documents: int
    seconds: float


def source_corpus(index_dir: Path) -> SourceCorpus:
    """Every chunk's text and stored vector from a published index."""
    from index.store import IndexReader

    reader = IndexReader.open(index_dir)
    rows = reader.conn.execute("SELECT text, vector FROM chunks ORDER BY chunk_id").fetchall()
    dimension = int(reader.manifest["dimension"])
    vectors = np.frombuffer(b"".join(row[1] for row in rows), dtype=np.float32).reshape(len(rows), dimension)
    return SourceCorpus(texts=[row[0] for row in rows], vectors=vectors.copy(), documents=reader.documents(),
                        model=reader.model_name)


def corpus_sentences(texts: list[str], min_words: int = 6) -> list[tuple[str, int]]:
    """(sentence, index of the text it came from) for every sentence of at least `min_words` words."""
    found = []
    for row, text in enumerate(texts):
        for sentence in SENTENCE_END.split(" ".join(text.split())):
            if len(sentence.split()) >= min_words:
                found.append((sentence, row))
    return found


def recombined_texts(sentences: list[tuple[str, int]], count: int, target_words: int, rng: np.random.Generator) -> list[tuple[str, int]]:
    """`count` texts of about `target_words` words of random corpus sentences, each with its first sentence's source."""
    picks = rng.integers(0, len(sentences), size=count * max(2, target_words // 8))
    lengths = np.array([len(s.split()) for s, _ in sentences])
    texts, cursor = [], 0
    for _ in range(count):
        parts, words, source = [], 0, None
        while words < target_words:
            if cursor == len(picks):
                picks, cursor = rng.integers(0, len(sentences), size=len(picks)), 0
            index = picks[cursor]
            cursor += 1
            parts.append(sentences[index][0])
            words += int(lengths[index])
            source = sentences[index][1] if source is None else source
        texts.append((" ".join(parts), source))
    return texts


def noisy_unit_vectors(base: np.ndarray, rows: np.ndarray, noise: float, rng: np.random.Generator, block: int = 65536) -> np.ndarray:
    """base[rows] plus Gaussian noise of expected norm `noise`, re-normalised; built in blocks to bound memory."""
    dimension = base.shape[1]
    out = np.empty((len(rows), dimension), dtype=np.float32)
    sigma = noise / np.sqrt(dimension)
    for start in range(0, len(rows), block):
        part = base[rows[start : start + block]].astype(np.float32)
        part += rng.standard_normal(part.shape, dtype=np.float32) * np.float32(sigma)
        part /= np.linalg.norm(part, axis=1, keepdims=True)
        out[start : start + len(part)] = part
    return out


def mixed_unit_vectors(base: np.ndarray, count: int, noise: float, rng: np.random.Generator, block: int = 65536) -> np.ndarray:
    """`count` vectors, each a random blend of two real vectors plus noise, re-normalised.

    Blending spreads a million points over the region real embeddings occupy, instead of
    piling hundreds of near-identical copies on each of a few thousand real vectors, which
    would make nearest-neighbour ranks near-ties and recall meaningless.
    """
    dimension = base.shape[1]
    out = np.empty((count, dimension), dtype=np.float32)
    sigma = np.float32(noise / np.sqrt(dimension))
    for start in range(0, count, block):
        size = min(block, count - start)
        first = base[rng.integers(0, len(base), size)]
        second = base[rng.integers(0, len(base), size)]
        weight = rng.random((size, 1), dtype=np.float32)
        part = weight * first + (1 - weight) * second
        part += rng.standard_normal(part.shape, dtype=np.float32) * sigma
        part /= np.linalg.norm(part, axis=1, keepdims=True)
        out[start : start + size] = part
    return out


def questions_from_sentences(sentences: list[tuple[str, int]], count: int, rng: np.random.Generator) -> list[str]:
    """Distinct questions built from runs of corpus words, so each asks about something the papers mention."""
    questions: list[str] = []
    seen: set[str] = set()
    attempts = 0
    while len(questions) < count and attempts < count * 20:
        attempts += 1
        words = WORD.findall(sentences[int(rng.integers(0, len(sentences)))][0])
        if len(words) < 3:
            continue
        size = int(rng.integers(2, min(5, len(words)) + 1))
        start = int(rng.integers(0, len(words) - size + 1))
        topic = " ".join(words[start : start + size]).lower()
        question = QUESTION_TEMPLATES[int(rng.integers(0, len(QUESTION_TEMPLATES)))].format(topic)
        if question not in seen:
            seen.add(question)
            questions.append(question)
    return questions


def sentence_vectors(chunk_vectors: np.ndarray, texts: list[str], rng: np.random.Generator) -> list[np.ndarray]:
    """A vector per sentence unit of each text: its chunk's vector plus noise, as ingest would store."""
    from index.units import sentence_units

    counts = [len(sentence_units(text)) for text in texts]
    noisy = noisy_unit_vectors(chunk_vectors, np.repeat(np.arange(len(texts)), counts), CHUNK_NOISE, rng)
    return np.split(noisy, np.cumsum(counts)[:-1]) if texts else []


def synthetic_document(template: Document, number: int, chunks: int) -> Document:
    doc_id = f"synthetic_{number:06d}"
    meta: DocumentMeta = replace(template.meta, title=f"{template.meta.title or template.doc_id} (synthetic {number})")
    return Document(doc_id=doc_id, path=f"synthetic/{doc_id}.txt", format="txt", sha256=f"{number:064x}",
                    pages=None, chunks=chunks, meta=meta)


def build_synthetic_index(
    index_dir: Path,
    source: SourceCorpus,
    chunks: int,
    settings: Settings,
    seed: int = 0,
    chunks_per_document: int = 200,
) -> SyntheticIndex:
    """A published index of `chunks` recombined chunks, written through the configured backend's writer (the
    embedded index's SQLite, BM25 and FAISS, or Milvus)."""
    from index.backend import open_builder
    from index.store import writer_lock
    from ingest.pipeline import search_body, search_context

    started = time.perf_counter()
    rng = np.random.default_rng(seed)
    texts = recombined_texts(corpus_sentences(source.texts), chunks, settings.chunk.target_words, rng)
    vectors = noisy_unit_vectors(source.vectors, np.array([row for _, row in texts]), CHUNK_NOISE, rng)
    index_dir = Path(index_dir)
    documents = 0
    with writer_lock(index_dir):
        writer = open_builder(settings, source.model, source.dimension)
        try:
            for start in range(0, chunks, chunks_per_document):
                part = texts[start : start + chunks_per_document]
                document = synthetic_document(source.documents[documents % len(source.documents)], documents, len(part))
                records = [Chunk(chunk_id=0, doc_id=document.doc_id, ordinal=i, text=text, kind="paragraph")
                           for i, (text, _) in enumerate(part)]
                part_vectors = vectors[start : start + len(part)]
                writer.add_document(
                    document, records, part_vectors,
                    [search_context(document.meta, document.doc_id, None)] * len(part),
                    [search_body(text) for text, _ in part],
                    sentence_vectors(part_vectors, [text for text, _ in part], rng),
                )
                documents += 1
            writer.publish()
        except BaseException:
            writer.abandon()
            raise
    return SyntheticIndex(index_dir=index_dir, chunks=chunks, documents=documents, seconds=time.perf_counter() - started)
