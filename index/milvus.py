"""The `milvus` backend: chunks, dense vectors, Milvus's BM25 and sentence vectors in one Milvus collection.

The same code talks to Milvus Lite (a local folder named `*.db`, for tests and small installs) and to a
Milvus server or cluster (`http://host:19530`). What lives where:

- Milvus collection (one row per chunk): the chunk's text and place, its document's council (the
  partition key), committee and date (for filter expressions), the dense vector, a BM25 sparse vector
  made by Milvus's BM25 function from `search_text`, the sentence vectors the answer step weighs (float16,
  base64, in `units`), the generation that wrote the row (`written`) and `extra`, a JSON object for chunk
  fields this schema does not name (so new chunk fields need no new collection).
- Catalog (SQLite, in the index folder, published in generations like the embedded index): documents,
  which generation holds each document's live rows, document frequencies for the answer step's idf, and
  the commitments register.

A paper's rows are written first and made live by publishing the catalog: a reader of generation G only
sees rows written at or before G whose generation is the one its catalog lists for their document, so a
half-written paper is never visible. Rows a new generation replaced are deleted after it is published.
`search_text` holds the same Snowball stems as the embedded BM25 (Milvus Lite's analyzer has no stemmer,
and stemming here makes Lite and a cluster rank alike); Milvus's standard analyzer and BM25 function do
the rest.
"""
from __future__ import annotations

import base64
import contextlib
import json
import os
import shutil
import sqlite3
import threading
import time
from dataclasses import asdict, fields
from pathlib import Path
from typing import Iterable

import numpy as np

from core.records import Chunk, Document, DocumentMeta, Filters
from core.settings import Settings
from index.lexical import B, K1, Terms, idf, unpacked_counts
from index.store import (
    DB_NAME, DOCUMENT_COLUMNS, DOCUMENTS_SCHEMA, MANIFEST_NAME, SCHEMA_VERSION, DocumentCatalog, IndexCorrupt, IndexError_,
    IndexMissing, _next_generation_name, delete_derived_rows, document_from_row, file_record, insert_document,
    manifest_backend, publish_generation, read_current, table_rows_from_json, table_rows_json, update_document_meta,
)

CATALOG_SCHEMA = DOCUMENTS_SCHEMA + """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT);
CREATE TABLE IF NOT EXISTS live_rows (doc_id TEXT PRIMARY KEY, written INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS doc_terms (doc_id TEXT PRIMARY KEY, keys BLOB NOT NULL, counts BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS term_df (term INTEGER PRIMARY KEY, df INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS stale_rows (doc_id TEXT NOT NULL, below INTEGER NOT NULL);
"""
# Chunk fields with columns of their own; any other field of core.records.Chunk goes into `extra`.
CHUNK_FIELDS = ("id", "doc_id", "ordinal", "kind", "page", "page_end", "section", "text", "units", "extra")
TEXT_LIMIT = 65_535  # Milvus's VARCHAR maximum, in bytes
# BM25 as the embedded index has it (index.lexical), k1 doubled because body terms are counted twice.
BM25_K1 = 2 * K1
BM25_B = B
DELETE_BATCH = 500
ID_FILE = "MILVUS_NEXT_ID"
NONE_ALLOWED = "1 == 0"  # an expression no row satisfies: a filter that names nothing in the index
# Milvus Lite's gRPC server keeps grpc's default ping policy (no more than one ping in five minutes without data)
# and answers pymilvus's 10-second keepalive with GOAWAY "too_many_pings" once a busy client falls quiet; the
# connection is then lost. A Lite server is on this machine, where a keepalive finds nothing, so it is off.
LITE_GRPC_OPTIONS = {"grpc.keepalive_time_ms": 2**31 - 1, "grpc.keepalive_permit_without_calls": 0}


class MilvusUnavailable(IndexError_):
    pass


def milvus_string(value: str) -> str:
    """A string literal for a Milvus filter expression (C-style escapes, as Milvus and Milvus Lite parse them)."""
    escaped = value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\r", "\\r").replace("\t", "\\t")
    return f'"{escaped}"'


def milvus_list(values: Iterable[str]) -> str:
    return "[" + ", ".join(milvus_string(v) for v in values) + "]"


def milvus_uri(settings: Settings) -> str:
    """The configured server address or Lite folder; empty means milvus.db in the index folder."""
    return settings.backend.milvus_uri or str(Path(settings.index_dir) / "milvus.db")


def connect(settings: Settings):
    """A pymilvus client for the configured URI, with a message naming the URI when Milvus cannot be reached."""
    try:
        from pymilvus import MilvusClient
    except ImportError as exc:
        raise MilvusUnavailable("the milvus backend needs the scale extra: pip install '.[scale]'") from exc
    uri = milvus_uri(settings)
    address = settings.backend.milvus_lite_server or uri  # a Lite folder already open in a server process is reached through it
    lite = bool(settings.backend.milvus_lite_server) or is_lite(settings)
    try:
        return MilvusClient(uri=address, token=settings.backend.milvus_token or "", grpc_options=LITE_GRPC_OPTIONS if lite else {})
    except Exception as exc:  # pymilvus raises its own exception types, and OSError for a locked Lite folder
        raise MilvusUnavailable(f"cannot open Milvus at {uri}: {exc}") from exc


def release_lite(settings: Settings) -> None:
    """Close this process's Milvus Lite server for the configured folder, so another process may open it."""
    uri = milvus_uri(settings)
    if uri.endswith(".db") and not settings.backend.milvus_lite_server:
        from milvus_lite.server_manager import server_manager_instance

        server_manager_instance.release_server(uri)


def packed_units(units: np.ndarray | None) -> str:
    """Sentence vectors as base64 float16, or "" when there are none or they would not fit a VARCHAR."""
    if units is None or not len(units):
        return ""
    text = base64.b64encode(np.asarray(units, np.float16).tobytes()).decode("ascii")
    return text if len(text) <= TEXT_LIMIT else ""  # the answer step then encodes those sentences at question time


def unpacked_units(text: str, dimension: int) -> np.ndarray | None:
    if not text:
        return None
    return np.frombuffer(base64.b64decode(text), np.float16).reshape(-1, dimension).astype(np.float32)


def clipped(value: str | None, limit: int) -> str:
    """A string cut to `limit` UTF-8 bytes (a VARCHAR's size), whole characters only."""
    encoded = (value or "").encode("utf-8")
    return value or "" if len(encoded) <= limit else encoded[:limit].decode("utf-8", "ignore")


def chunk_extra(chunk: Chunk) -> dict:
    """Fields of a Chunk that have no column of their own (kept so later fields survive the round trip); the
    table rows as the embedded index stores them ([[line, page, row], ...])."""
    extra = {k: v for k, v in asdict(chunk).items() if k not in CHUNK_FIELDS and k not in ("chunk_id", "table_rows")}
    return {**extra, "table_rows": table_rows_json(chunk.table_rows)}


def chunk_from_entity(entity: dict) -> Chunk:
    names = {f.name for f in fields(Chunk)} - {"table_rows"}
    stored = entity.get("extra") or {}
    extra = {k: v for k, v in stored.items() if k in names}
    return Chunk(chunk_id=int(entity["id"]), doc_id=entity["doc_id"], ordinal=int(entity["ordinal"]), text=entity["text"],
                 kind=entity["kind"], page=entity.get("page"), page_end=entity.get("page_end"), section=entity.get("section"),
                 table_rows=table_rows_from_json(stored.get("table_rows")), **extra)


def stemmed_text(terms: Terms, *texts: str) -> str:
    return " ".join(word for text in texts for word in terms.words(text))


def bm25_text(terms: Terms, body: str, context: str) -> str:
    """What Milvus's BM25 function reads for a chunk: its stems twice and its context's once. With k1 doubled
    (BM25_K1) this ranks as the embedded index does, where context words count half (index.lexical)."""
    words = stemmed_text(terms, body)
    return " ".join(part for part in (words, words, stemmed_text(terms, context)) if part)


def signed(keys: np.ndarray) -> list[int]:
    """uint64 term keys as SQLite's signed 64-bit integers."""
    return np.asarray(keys, np.uint64).view(np.int64).tolist()


def is_lite(settings: Settings) -> bool:
    return milvus_uri(settings).endswith(".db")


def collection_schema(dimension: int, model: str, partition_key: bool = True):
    """The chunk collection. The council is the partition key on a Milvus server; Milvus Lite keeps BM25
    statistics per partition, which for a small council's few chunks ranks badly (measured on the gold set:
    seed-half hybrid MRR@10 0.73 against 0.87), so there the council is an ordinary filtered field."""
    from pymilvus import DataType, Function, FunctionType, MilvusClient

    schema = MilvusClient.create_schema(auto_id=False, description=f"Scrutiny chunks; model {model}, dimension {dimension}")
    schema.add_field("id", DataType.INT64, is_primary=True)
    schema.add_field("doc_id", DataType.VARCHAR, max_length=512)
    schema.add_field("authority", DataType.VARCHAR, max_length=512, is_partition_key=partition_key)
    schema.add_field("committee", DataType.VARCHAR, max_length=1024)
    schema.add_field("date", DataType.VARCHAR, max_length=16)
    schema.add_field("ordinal", DataType.INT64)
    schema.add_field("kind", DataType.VARCHAR, max_length=64)
    schema.add_field("page", DataType.INT64, nullable=True)
    schema.add_field("page_end", DataType.INT64, nullable=True)
    schema.add_field("section", DataType.VARCHAR, max_length=1024, nullable=True)
    schema.add_field("text", DataType.VARCHAR, max_length=TEXT_LIMIT)
    schema.add_field("search_text", DataType.VARCHAR, max_length=TEXT_LIMIT, enable_analyzer=True,
                     analyzer_params={"tokenizer": "standard", "filter": ["lowercase"]})
    schema.add_field("sparse", DataType.SPARSE_FLOAT_VECTOR)
    schema.add_field("vector", DataType.FLOAT_VECTOR, dim=dimension)
    schema.add_field("units", DataType.VARCHAR, max_length=TEXT_LIMIT)
    schema.add_field("written", DataType.INT64)
    schema.add_field("extra", DataType.JSON)
    schema.add_function(Function(name="bm25", function_type=FunctionType.BM25, input_field_names=["search_text"],
                                 output_field_names=["sparse"]))
    return schema


def vector_index_params(settings: Settings) -> tuple[str, dict]:
    kind = settings.backend.milvus_index.upper()
    if kind == "HNSW":
        return kind, {"M": settings.backend.hnsw_m, "efConstruction": settings.backend.hnsw_ef_construction}
    if kind == "IVF_FLAT":
        return kind, {"nlist": 4096}
    return kind, {}


def vector_search_params(settings: Settings) -> dict:
    kind = settings.backend.milvus_index.upper()
    params = {"ef": settings.backend.hnsw_ef} if kind == "HNSW" else {"nprobe": 128} if kind == "IVF_FLAT" else {}
    return {"metric_type": "IP", "params": params}


def ensure_collection(client, settings: Settings, model: str, dimension: int) -> None:
    """Create the chunk collection and its indexes, or check that an existing one holds vectors of this size."""
    name = settings.backend.milvus_collection
    if client.has_collection(name):
        described = client.describe_collection(name)
        for field in described.get("fields", []):
            if field.get("name") == "vector":
                held = int(field.get("params", {}).get("dim", dimension))
                if held != dimension:
                    raise IndexCorrupt(
                        f"Milvus collection {name!r} at {milvus_uri(settings)} holds {held}-dimensional vectors "
                        f"({described.get('description', '')}); model {model} gives {dimension}: choose another "
                        f"--milvus-collection or drop that one")
        client.load_collection(name)
        return
    index_type, params = vector_index_params(settings)
    indexes = client.prepare_index_params()
    indexes.add_index(field_name="vector", index_type=index_type, metric_type="IP", params=params)
    indexes.add_index(field_name="sparse", index_type="SPARSE_INVERTED_INDEX", metric_type="BM25",
                      params={"bm25_k1": BM25_K1, "bm25_b": BM25_B})
    indexes.add_index(field_name="doc_id", index_type="INVERTED")
    indexes.add_index(field_name="written", index_type="INVERTED")
    client.create_collection(name, schema=collection_schema(dimension, model, partition_key=not is_lite(settings)),
                             index_params=indexes)
    client.load_collection(name)


def generation_number(generation: str | None) -> int:
    return int(generation.split("-")[1]) if generation else 0


def read_manifest(index_dir: Path, generation: str) -> dict:
    return json.loads((index_dir / generation / MANIFEST_NAME).read_text())


def milvus_manifest_problem(manifest: dict, settings: Settings) -> str | None:
    """Why a published catalog does not belong to the configured Milvus collection, or None."""
    if manifest_backend(manifest) != "milvus":
        return f"it was built with the {manifest_backend(manifest)} backend"
    held = manifest.get("milvus", {})
    wanted = {"uri": milvus_uri(settings), "collection": settings.backend.milvus_collection}
    if held.get("uri") != wanted["uri"] or held.get("collection") != wanted["collection"]:
        return f"it describes Milvus collection {held.get('collection')!r} at {held.get('uri')}, not {wanted['collection']!r} at {wanted['uri']}"
    return None


class MilvusView:
    """One published catalog generation and the Milvus rows it makes live; safe to share between threads."""

    def __init__(self, settings: Settings, generation: str, manifest: dict, client):
        self.settings = settings
        self.index_dir = Path(settings.index_dir)
        self.generation = generation
        self.manifest = manifest
        self.db_path = self.index_dir / generation / DB_NAME
        self.collection = settings.backend.milvus_collection
        self.client = client
        self.terms = Terms()
        self._local = threading.local()
        self._search_params = vector_search_params(settings)
        self._visible = f"written <= {generation_number(generation)}"
        self.live = dict(self.conn.execute("SELECT doc_id, written FROM live_rows"))
        self._chunks = sum(self.conn.execute("SELECT coalesce(sum(chunks), 0) FROM documents").fetchone())

    @classmethod
    def open(cls, settings: Settings) -> "MilvusView":
        index_dir = Path(settings.index_dir)
        generation = read_current(index_dir)
        if generation is None:
            raise IndexMissing(f"no index at {index_dir}: build it with `scrutiny ingest --backend milvus --index {index_dir}`")
        try:
            manifest = read_manifest(index_dir, generation)
        except (OSError, ValueError) as exc:
            raise IndexCorrupt(f"index at {index_dir} ({generation}) is unreadable: {exc}; rebuild it with "
                               f"`scrutiny ingest --rebuild --backend milvus --index {index_dir}`") from exc
        problem = milvus_manifest_problem(manifest, settings)
        if problem:
            raise IndexCorrupt(f"index at {index_dir} cannot be read with the milvus backend: {problem}; rebuild it with "
                               f"`scrutiny ingest --rebuild --backend milvus --index {index_dir}`")
        client = connect(settings)
        if not client.has_collection(settings.backend.milvus_collection):
            raise IndexCorrupt(f"Milvus at {milvus_uri(settings)} has no collection {settings.backend.milvus_collection!r}; "
                               f"rebuild it with `scrutiny ingest --rebuild --backend milvus --index {index_dir}`")
        client.load_collection(settings.backend.milvus_collection)
        try:
            return cls(settings, generation, manifest, client)
        except sqlite3.Error as exc:
            raise IndexCorrupt(f"index at {index_dir} ({generation}) has an unreadable catalog: {exc}") from exc

    @property
    def conn(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = sqlite3.connect(f"file:{self.db_path}?mode=ro&immutable=1", uri=True, check_same_thread=False)
            self._local.conn = conn
        return conn

    @property
    def model_name(self) -> str:
        return self.manifest["model"]

    @property
    def dimension(self) -> int:
        return int(self.manifest["dimension"])

    def is_current(self) -> bool:
        return read_current(self.index_dir) == self.generation

    # the catalog ------------------------------------------------------------
    def document_count(self) -> int:
        return self.conn.execute("SELECT count(*) FROM documents").fetchone()[0]

    def chunk_count(self) -> int:
        return self._chunks

    def documents(self) -> list[Document]:
        rows = self.conn.execute(f"SELECT {DOCUMENT_COLUMNS} FROM documents ORDER BY date DESC, doc_id")
        return [document_from_row(row) for row in rows]

    def document(self, doc_id: str) -> Document | None:
        row = self.conn.execute(f"SELECT {DOCUMENT_COLUMNS} FROM documents WHERE doc_id = ?", (doc_id,)).fetchone()
        return document_from_row(row) if row else None

    def authorities(self) -> list[str]:
        rows = self.conn.execute("SELECT DISTINCT authority FROM documents WHERE authority IS NOT NULL ORDER BY authority")
        return [row[0] for row in rows]

    def committees(self) -> list[str]:
        rows = self.conn.execute("SELECT DISTINCT committee FROM documents WHERE committee IS NOT NULL ORDER BY committee")
        return [row[0] for row in rows]

    def unseen_idf(self) -> float:
        """The idf of a word no chunk holds: the most specific a word can be."""
        return float(idf(0, self._chunks))

    def idf(self, word: str) -> float:
        """The embedded index's idf, from document frequencies the catalog keeps as papers come and go."""
        keys = self.terms.keys(word)
        if not len(keys):
            return self.unseen_idf()
        found = dict(self.conn.execute(f"SELECT term, df FROM term_df WHERE term IN ({','.join('?' * len(keys))})", signed(keys)))
        frequency = min(found.values()) if len(found) == len(set(signed(keys))) else 0
        return float(idf(frequency, self._chunks))

    # rows -------------------------------------------------------------------
    def _query(self, expression: str, output: list[str]) -> list[dict]:
        return self.client.query(self.collection, filter=expression, output_fields=output)

    def _rows_by_id(self, chunk_ids: Iterable[int], output: list[str]) -> list[dict]:
        ids = list(dict.fromkeys(int(i) for i in chunk_ids))
        rows: list[dict] = []
        for start in range(0, len(ids), DELETE_BATCH):
            rows += self._query(f"id in {ids[start:start + DELETE_BATCH]}", output)
        return rows

    def chunks_of(self, doc_id: str) -> list[Chunk]:
        written = self.live.get(doc_id)
        if written is None:
            return []
        rows = self._query(f"doc_id == {milvus_string(doc_id)} and written == {written}", list(CHUNK_FIELDS))
        return sorted((chunk_from_entity(row) for row in rows), key=lambda c: c.ordinal)

    def chunks_by_id(self, chunk_ids: Iterable[int]) -> dict[int, Chunk]:
        return {int(row["id"]): chunk_from_entity(row) for row in self._rows_by_id(chunk_ids, list(CHUNK_FIELDS))}

    def document_ids_of(self, chunk_ids: Iterable[int]) -> dict[int, str]:
        return {int(row["id"]): row["doc_id"] for row in self._rows_by_id(chunk_ids, ["doc_id"])}

    def unit_vectors_of(self, chunk_ids: Iterable[int]) -> dict[int, np.ndarray]:
        rows = self._rows_by_id(chunk_ids, ["units"])
        found = {int(row["id"]): unpacked_units(row["units"], self.dimension) for row in rows}
        return {key: value for key, value in found.items() if value is not None}

    def vectors_of(self, chunk_ids: list[int]) -> np.ndarray:
        if not chunk_ids:
            return np.zeros((0, 1), np.float32)
        by_id = {int(row["id"]): row["vector"] for row in self._rows_by_id(chunk_ids, ["vector"])}
        return np.array([by_id[int(i)] for i in chunk_ids], dtype=np.float32)

    # search -----------------------------------------------------------------
    def restriction(self, filters: Filters | None) -> str:
        """`filters` as a Milvus expression. Council and committee are substrings, as in the embedded index, so
        they are resolved against the catalog to the names they match (the council then picks partitions)."""
        clauses = [self._visible]
        filters = filters or Filters()
        for field, value in (("authority", filters.authority), ("committee", filters.committee)):
            if value:
                names = [row[0] for row in self.conn.execute(f"SELECT DISTINCT {field} FROM documents WHERE {field} LIKE ?", (f"%{value}%",))]
                if not names:
                    return NONE_ALLOWED
                clauses.append(f"{field} in {milvus_list(names)}")
        if filters.since:
            clauses.append(f"date >= {milvus_string(filters.since)}")
        if filters.until:
            clauses.append(f'date <= {milvus_string(filters.until)} and date != ""')
        if filters.doc_id:
            clauses.append(f"doc_id == {milvus_string(filters.doc_id)}")
        return " and ".join(clauses)

    def _live_hits(self, results, limit: int, bm25: bool = False) -> list[tuple[int, float]]:
        """Hits whose rows are the live ones of their document: rows a newer generation replaced are skipped
        in the moment between its publication and their deletion."""
        hits = []
        for hit in results[0] if results else []:
            entity = hit.get("entity", hit)
            if self.live.get(entity.get("doc_id")) == entity.get("written"):
                # Milvus Lite reports a BM25 match as its negated score (a distance), a server as the score.
                score = abs(float(hit["distance"])) if bm25 else float(hit["distance"])
                hits.append((int(hit["id"]), score))
        return hits[:limit]

    def bm25(self, query: str, restriction: str | None, limit: int) -> list[tuple[int, float]]:
        """(chunk_id, BM25 score) best first, scored by Milvus's BM25 function over the stemmed text."""
        text = stemmed_text(self.terms, query)
        if not text or restriction == NONE_ALLOWED:
            return []
        results = self.client.search(self.collection, data=[text], anns_field="sparse", limit=limit,
                                     filter=restriction or self._visible, output_fields=["doc_id", "written"],
                                     search_params={"metric_type": "BM25"})
        return self._live_hits(results, limit, bm25=True)

    def dense(self, vector: np.ndarray, restriction: str | None, limit: int) -> list[tuple[int, float]]:
        """(chunk_id, cosine) best first, from Milvus's vector index (vectors are unit length, so IP is cosine)."""
        if restriction == NONE_ALLOWED:
            return []
        results = self.client.search(self.collection, data=[np.asarray(vector, np.float32).tolist()], anns_field="vector",
                                     limit=limit, filter=restriction or self._visible, output_fields=["doc_id", "written"],
                                     search_params=self._search_params)
        return self._live_hits(results, limit)

    def fused(self, query: str, vector: np.ndarray, restriction: str | None, limit: int, bm25_weight: float,
              dense_weight: float) -> dict[int, float] | None:
        """Hybrid scores from Milvus's own ranker (`backend.milvus_fusion` weighted or rrf); None leaves fusion to
        index.search, as the embedded index does."""
        from pymilvus import AnnSearchRequest, RRFRanker, WeightedRanker

        fusion = self.settings.backend.milvus_fusion
        if fusion == "client":
            return None
        text = stemmed_text(self.terms, query)
        if restriction == NONE_ALLOWED:
            return {}
        expression = restriction or self._visible
        requests = [AnnSearchRequest(data=[np.asarray(vector, np.float32).tolist()], anns_field="vector",
                                     param=self._search_params, limit=limit, expr=expression)]
        weights = [dense_weight]
        if text:
            requests.insert(0, AnnSearchRequest(data=[text], anns_field="sparse", param={"metric_type": "BM25"},
                                                limit=limit, expr=expression))
            weights.insert(0, bm25_weight)
        ranker = RRFRanker(60) if fusion == "rrf" else WeightedRanker(*weights)
        results = self.client.hybrid_search(self.collection, requests, ranker, limit=limit, output_fields=["doc_id", "written"])
        return dict(self._live_hits(results, limit))

    # status -----------------------------------------------------------------
    def stats(self) -> dict:
        return {
            "generation": self.generation,
            "documents": self.document_count(),
            "chunks": self.chunk_count(),
            "model": self.model_name,
            "built": self.manifest.get("built"),
            "backend": "milvus",
            "milvus": self.manifest.get("milvus"),
        }

    def integrity_problems(self) -> list[str]:
        """What disagrees between the catalog and Milvus; empty when consistent."""
        problems = []
        check = self.conn.execute("PRAGMA quick_check").fetchone()[0]
        if check != "ok":
            problems.append(f"sqlite: {check}")
        by_generation: dict[int, list[str]] = {}
        for doc_id, written in self.live.items():
            by_generation.setdefault(written, []).append(doc_id)
        rows = 0
        for written, doc_ids in by_generation.items():
            for start in range(0, len(doc_ids), DELETE_BATCH):
                part = doc_ids[start:start + DELETE_BATCH]
                found = self._query(f"written == {written} and doc_id in {milvus_list(part)}", ["count(*)"])
                rows += int(found[0]["count(*)"]) if found else 0
        if rows != self._chunks:
            problems.append(f"Milvus holds {rows} live chunk rows for the catalog's {self._chunks} chunks")
        documents = {row[0] for row in self.conn.execute("SELECT doc_id FROM documents")}
        if documents != set(self.live):
            problems.append(f"{len(documents ^ set(self.live))} documents lack live rows or have rows but no entry")
        return problems


class MilvusBuilder(DocumentCatalog):
    """The next catalog generation and the Milvus rows it will make live. Use under `writer_lock`.

    Rows are inserted as papers arrive (batched), carrying this generation's number; publish() flushes
    them, publishes the catalog, then deletes the rows it replaced.
    """

    def __init__(self, settings: Settings, model: str, dimension: int, settings_snapshot: dict, fresh: bool = False):
        self.settings = settings
        self.index_dir = Path(settings.index_dir)
        self.model = model
        self.dimension = dimension
        self.settings_snapshot = settings_snapshot
        self.collection = settings.backend.milvus_collection
        self.generation = _next_generation_name(self.index_dir)
        self.number = generation_number(self.generation)
        self.work_dir = self.index_dir / f"{self.generation}.tmp"
        for stale in self.index_dir.glob("gen-*.tmp"):
            shutil.rmtree(stale, ignore_errors=True)
        self.previous = read_current(self.index_dir)
        self.client = connect(settings)
        ensure_collection(self.client, settings, model, dimension)
        self.work_dir.mkdir(parents=True)
        self.conn = sqlite3.connect(self.work_dir / DB_NAME)
        self.reused_previous = False if fresh else self._start_from_previous()
        self.conn.executescript(CATALOG_SCHEMA)
        self.conn.execute("PRAGMA journal_mode = OFF")  # the whole folder is discarded on failure
        self.conn.execute("PRAGMA synchronous = OFF")
        self.terms = Terms()
        self._pending: list[dict] = []
        self._added: dict[str, list[Chunk]] = {}
        # Rows of an ingest that never published (killed, or abandoned) are not anybody's live rows.
        self.client.delete(self.collection, filter=f"written >= {self.number}")
        self._delete_stale_rows()

    def _start_from_previous(self) -> bool:
        """Copy the current catalog when it belongs to this collection and was built with this model and chunking."""
        if self.previous is None:
            return False
        try:
            manifest = read_manifest(self.index_dir, self.previous)
        except (OSError, ValueError):
            return False
        if (milvus_manifest_problem(manifest, self.settings) or manifest.get("schema") != SCHEMA_VERSION
                or manifest.get("model") != self.model or manifest.get("chunking") != self.settings_snapshot.get("chunking")):
            return False
        try:
            source = sqlite3.connect(f"file:{self.index_dir / self.previous / DB_NAME}?mode=ro", uri=True)
            source.backup(self.conn)
            source.close()
        except sqlite3.Error:
            return False
        return True

    def _delete_stale_rows(self) -> None:
        """Rows replaced by an earlier generation whose ingest ended before deleting them."""
        for doc_id, below in self.conn.execute("SELECT doc_id, below FROM stale_rows").fetchall():
            self.client.delete(self.collection, filter=f"doc_id == {milvus_string(doc_id)} and written < {below}")
        self.conn.execute("DELETE FROM stale_rows")

    # what the pipeline and the register read ---------------------------------
    def chunks_of(self, doc_id: str) -> list[Chunk]:
        if doc_id in self._added:
            return self._added[doc_id]
        written = self.conn.execute("SELECT written FROM live_rows WHERE doc_id = ?", (doc_id,)).fetchone()
        if written is None:
            return []
        rows = self.client.query(self.collection, filter=f"doc_id == {milvus_string(doc_id)} and written == {written[0]}",
                                 output_fields=list(CHUNK_FIELDS))
        return sorted((chunk_from_entity(row) for row in rows), key=lambda c: c.ordinal)

    # changes ---------------------------------------------------------------------
    def delete_document(self, doc_id: str) -> None:
        self._forget_terms(doc_id)
        for table in ("documents", "live_rows"):
            self.conn.execute(f"DELETE FROM {table} WHERE doc_id = ?", (doc_id,))
        delete_derived_rows(self.conn, doc_id)  # as in the embedded index
        self._retire(doc_id)
        self._added.pop(doc_id, None)

    def _retire(self, doc_id: str) -> None:
        self.conn.execute("INSERT INTO stale_rows VALUES (?, ?)", (doc_id, self.number))

    def update_document_path(self, doc_id: str, path: str, meta: DocumentMeta) -> None:
        """New path or sidecar metadata: the document's rows are rewritten with the council, committee and date
        their filters use, and made live with this generation."""
        update_document_meta(self.conn, doc_id, path, meta)
        written = self.conn.execute("SELECT written FROM live_rows WHERE doc_id = ?", (doc_id,)).fetchone()
        if written is None:
            return
        rows = self.client.query(self.collection, filter=f"doc_id == {milvus_string(doc_id)} and written == {written[0]}",
                                 output_fields=[*CHUNK_FIELDS, "search_text", "vector"])
        first = self._next_chunk_id(len(rows))
        for offset, row in enumerate(sorted(rows, key=lambda r: r["ordinal"])):
            row.update(id=first + offset, written=self.number, authority=clipped(meta.authority, 512),
                       committee=clipped(meta.committee, 1024), date=meta.date or "")
            self._pending.append(row)
        self.conn.execute("UPDATE live_rows SET written = ? WHERE doc_id = ?", (self.number, doc_id))
        self._retire(doc_id)
        self._flush_rows()

    def _next_chunk_id(self, count: int) -> int:
        """Chunk ids are never reused, so a reader holding an older generation never confuses two chunks, and
        Milvus never sees a deleted id again (Milvus Lite's search could miss a row re-inserted under a
        deleted id). The catalog keeps the next id; ID_FILE keeps it too, for ids an unpublished ingest used."""
        row = self.conn.execute("SELECT value FROM meta WHERE key = 'next_chunk_id'").fetchone()
        marker = self.index_dir / ID_FILE
        used = int(marker.read_text()) if marker.exists() else 1
        first = max(int(row[0]) if row else 1, used)
        self.conn.execute("INSERT OR REPLACE INTO meta VALUES ('next_chunk_id', ?)", (str(first + count),))
        pending = marker.with_suffix(".tmp")
        pending.write_text(str(first + count))
        os.replace(pending, marker)  # before the rows are sent: a killed ingest's ids stay used
        return first

    def add_document(self, document: Document, chunks: list[Chunk], vectors: np.ndarray, contexts: list[str], bodies: list[str],
                     unit_vectors: list[np.ndarray] | None = None) -> list[int]:
        """Queue a document's rows for Milvus and enter it in the catalog; returns the new chunk ids."""
        if len(chunks) != len(vectors):
            raise ValueError(f"{document.doc_id}: {len(chunks)} chunks but {len(vectors)} vectors")
        if self.conn.execute("SELECT 1 FROM documents WHERE doc_id = ?", (document.doc_id,)).fetchone():
            self.delete_document(document.doc_id)
        insert_document(self.conn, document, len(chunks))
        first = self._next_chunk_id(len(chunks))
        ids = list(range(first, first + len(chunks)))
        meta = document.meta
        units = unit_vectors or [None] * len(chunks)
        keys: dict[int, int] = {}
        for cid, chunk, vector, context, body, unit in zip(ids, chunks, vectors, contexts, bodies, units):
            chunk.chunk_id = cid
            blob, _ = self.terms.term_counts(body, context)
            for key in unpacked_counts(blob)[0].tolist():
                keys[key] = keys.get(key, 0) + 1
            self._pending.append({
                "id": cid, "doc_id": document.doc_id, "authority": clipped(meta.authority, 512),
                "committee": clipped(meta.committee, 1024), "date": meta.date or "", "ordinal": chunk.ordinal,
                "kind": chunk.kind, "page": chunk.page, "page_end": chunk.page_end,
                "section": None if chunk.section is None else clipped(chunk.section, 1024), "text": chunk.text,
                "search_text": bm25_text(self.terms, body, context), "vector": np.asarray(vector, np.float32).tolist(),
                "units": packed_units(unit), "written": self.number, "extra": chunk_extra(chunk),
            })
        self._count_terms(document.doc_id, keys)
        self.conn.execute("INSERT OR REPLACE INTO live_rows VALUES (?, ?)", (document.doc_id, self.number))
        self._added[document.doc_id] = chunks
        self._flush_rows()
        return ids

    def _count_terms(self, doc_id: str, keys: dict[int, int]) -> None:
        """Add a document's chunks to the document frequencies (how many chunks hold each term)."""
        terms = np.fromiter(keys.keys(), np.uint64, len(keys))
        counts = np.fromiter(keys.values(), np.int64, len(keys))
        self.conn.execute("INSERT OR REPLACE INTO doc_terms VALUES (?, ?, ?)", (doc_id, terms.tobytes(), counts.tobytes()))
        self.conn.executemany("INSERT INTO term_df VALUES (?, ?) ON CONFLICT(term) DO UPDATE SET df = df + excluded.df",
                              zip(signed(terms), counts.tolist()))

    def _forget_terms(self, doc_id: str) -> None:
        row = self.conn.execute("SELECT keys, counts FROM doc_terms WHERE doc_id = ?", (doc_id,)).fetchone()
        if row is None:
            return
        terms, counts = np.frombuffer(row[0], np.uint64), np.frombuffer(row[1], np.int64)
        self.conn.executemany("UPDATE term_df SET df = df - ? WHERE term = ?", zip(counts.tolist(), signed(terms)))
        self.conn.execute("DELETE FROM term_df WHERE df <= 0")
        self.conn.execute("DELETE FROM doc_terms WHERE doc_id = ?", (doc_id,))

    def _flush_rows(self, everything: bool = False) -> None:
        size = max(self.settings.backend.write_batch, 1)
        while self._pending and (everything or len(self._pending) >= size):
            batch, self._pending = self._pending[:size], self._pending[size:]
            self.client.insert(self.collection, batch)

    def publish(self) -> str:
        """Flush the rows, publish the catalog (the moment they become live), then delete the rows it replaced."""
        self._flush_rows(everything=True)
        self.client.flush(self.collection)
        self.conn.execute("INSERT OR REPLACE INTO meta VALUES ('model', ?)", (self.model,))
        self.conn.commit()
        counts = self.conn.execute("SELECT count(*), coalesce(sum(chunks), 0) FROM documents").fetchone()
        stale = self.conn.execute("SELECT doc_id, below FROM stale_rows").fetchall()
        self.conn.execute("VACUUM") if not self.reused_previous else None
        self.conn.close()
        manifest = {
            "schema": SCHEMA_VERSION, "backend": "milvus", "model": self.model, "dimension": self.dimension,
            "documents": counts[0], "chunks": counts[1], "built": time.strftime("%Y-%m-%dT%H:%M:%S"),
            "milvus": {"uri": milvus_uri(self.settings), "collection": self.collection, "index": self.settings.backend.milvus_index},
            # What the catalog held when published, so the next ingest can tell a damaged one from a sound one.
            "files": {path.name: file_record(path) for path in sorted(self.work_dir.iterdir()) if path.is_file()},
            **self.settings_snapshot,
        }
        publish_generation(self.index_dir, self.work_dir, self.generation, manifest, self.previous)
        for doc_id, below in stale:
            self.client.delete(self.collection, filter=f"doc_id == {milvus_string(doc_id)} and written < {below}")
        if not self.reused_previous:  # a fresh build (or a new model) replaced every row
            self.client.delete(self.collection, filter=f"written < {self.number}")
        return self.generation

    def abandon(self) -> None:
        with contextlib.suppress(Exception):
            self.conn.close()
        with contextlib.suppress(Exception):
            self.client.delete(self.collection, filter=f"written >= {self.number}")
        shutil.rmtree(self.work_dir, ignore_errors=True)
