"""The index on disk: SQLite (documents, chunks), BM25 postings and FAISS (vectors keyed by chunk id).

An index folder holds numbered generations. A writer builds the next generation
beside the current one and publishes it by atomically replacing the CURRENT
pointer, so a reader (or a crash) only ever sees a complete generation.

    var/index/CURRENT          -> "gen-000007"
    var/index/LOCK             held by the one writer at a time
    var/index/gen-000007/      scrutiny.db, vectors.faiss, lexical.npz, manifest.json
"""
from __future__ import annotations

import contextlib
import errno
import fcntl
import hashlib
import json
import os
import re
import shutil
import sqlite3
import threading
import time
from dataclasses import asdict, fields
from pathlib import Path
from typing import Iterable, Iterator

import numpy as np

from core.records import Chunk, Document, DocumentMeta, Filters, TableRowRef
from index.lexical import LexicalIndex, Terms

SCHEMA_VERSION = 4  # 3: chunks.table_rows; 4: documents carry their source URL, agenda item and OCR pages
DB_NAME = "scrutiny.db"
VECTORS_NAME = "vectors.faiss"
MANIFEST_NAME = "manifest.json"
CURRENT_NAME = "CURRENT"
LOCK_NAME = "LOCK"

DOCUMENTS_SCHEMA = """
CREATE TABLE IF NOT EXISTS documents (
    doc_id TEXT PRIMARY KEY,
    path TEXT NOT NULL,
    format TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    pages INTEGER,
    chunks INTEGER NOT NULL,
    authority TEXT, committee TEXT, date TEXT, title TEXT, reference TEXT,
    source_url TEXT, agenda_item TEXT, agenda_item_title TEXT, decision INTEGER, fetched_at TEXT,
    ocr_pages TEXT  -- comma-separated numbers of the pages whose text OCR recognised
);
"""
_SCHEMA = DOCUMENTS_SCHEMA + """
CREATE TABLE IF NOT EXISTS chunks (
    chunk_id INTEGER PRIMARY KEY,
    doc_id TEXT NOT NULL REFERENCES documents(doc_id) ON DELETE CASCADE,
    ordinal INTEGER NOT NULL,
    kind TEXT NOT NULL,
    page INTEGER, page_end INTEGER, section TEXT,
    text TEXT NOT NULL,
    vector BLOB NOT NULL,
    length REAL NOT NULL,  -- terms in the chunk and its context, for BM25's length normalisation
    terms BLOB NOT NULL,   -- packed term keys and frequencies (index.lexical.Terms.term_counts)
    unit_vectors BLOB,     -- float16 vector per sentence (index.answer.sentence_units), NaN where unknown
    table_rows TEXT        -- JSON [[line, page, row], ...]: the table-row lines of the text (core.records.TableRowRef)
);
CREATE INDEX IF NOT EXISTS chunks_by_doc ON chunks(doc_id, ordinal);
"""

META_COLUMNS = tuple(f.name for f in fields(DocumentMeta))
DOCUMENT_COLUMNS = "doc_id, path, format, sha256, pages, chunks, " + ", ".join(META_COLUMNS) + ", ocr_pages"
CHUNK_COLUMNS = "chunk_id, doc_id, ordinal, kind, page, page_end, section, text, table_rows"


class IndexError_(RuntimeError):
    """Base for index problems, with a message a user can act on."""


class IndexMissing(IndexError_):
    pass


class IndexCorrupt(IndexError_):
    pass


class IndexBusy(IndexError_):
    pass


class IndexUnwritable(IndexError_):
    """The index folder cannot be written (permissions, read-only, full disk); nothing was published."""


class IndexShrinkRefused(IndexError_):
    """An ingest would drop most of the papers; nothing was published."""


FULL_DISK_ERRNOS = {errno.ENOSPC, errno.EDQUOT, errno.EFBIG}
NO_ACCESS_ERRNOS = {errno.EACCES, errno.EPERM, errno.EROFS}


def unwritable_message(exc: BaseException, index_dir: Path, published: bool = False) -> str:
    """One line for an operator: what went wrong writing `index_dir`, what to do, and that the old index stands."""
    detail = " ".join(str(exc).split()) or type(exc).__name__
    code = getattr(exc, "errno", None)
    text = detail.lower()
    outcome = "the new index was published" if published else "nothing was published and the previous index is still in use"
    if code in FULL_DISK_ERRNOS or "disk is full" in text or "no space" in text:
        return f"no space left writing the index at {index_dir} ({detail}): free some space and run the ingest again; {outcome}"
    if code in NO_ACCESS_ERRNOS or "readonly" in text or "read-only" in text or "permission" in text or "unable to open" in text:
        return (f"cannot write the index at {index_dir} ({detail}): give this user write access to the folder, or choose "
                f"another with --index; {outcome}")
    return f"could not write the index at {index_dir} ({detail}); {outcome}"


def document_from_row(row: sqlite3.Row | tuple) -> Document:
    doc_id, path, fmt, sha, pages, chunks, *values, ocr_pages = row
    meta = DocumentMeta(**dict(zip(META_COLUMNS, values)))
    if meta.decision is not None:
        meta.decision = bool(meta.decision)
    return Document(doc_id=doc_id, path=path, format=fmt, sha256=sha, pages=pages, chunks=chunks, meta=meta,
                    ocr_pages=[int(n) for n in (ocr_pages or "").split(",") if n])


def meta_row(meta: DocumentMeta) -> tuple:
    """A document's metadata in META_COLUMNS order, as SQLite stores it."""
    return tuple(getattr(meta, name) for name in META_COLUMNS)


def document_row(document: Document, chunks: int) -> tuple:
    """A document as the documents table stores it, in DOCUMENT_COLUMNS order."""
    return (document.doc_id, document.path, document.format, document.sha256, document.pages, chunks,
            *meta_row(document.meta), ",".join(str(n) for n in document.ocr_pages))


def insert_document(conn: sqlite3.Connection, document: Document, chunks: int) -> None:
    row = document_row(document, chunks)
    conn.execute(f"INSERT INTO documents ({DOCUMENT_COLUMNS}) VALUES ({','.join('?' * len(row))})", row)


def update_document_meta(conn: sqlite3.Connection, doc_id: str, path: str, meta: DocumentMeta) -> None:
    assignments = ", ".join(f"{name} = ?" for name in META_COLUMNS)
    conn.execute(f"UPDATE documents SET path = ?, {assignments} WHERE doc_id = ?", (path, *meta_row(meta), doc_id))


# Tables of rows derived from a document's text (the commitments register, decision references), in both backends.
DERIVED_TABLES = ("commitments", "decision_mentions")


def delete_derived_rows(conn: sqlite3.Connection, doc_id: str) -> None:
    for table in DERIVED_TABLES:
        if conn.execute("SELECT 1 FROM sqlite_master WHERE name = ?", (table,)).fetchone():
            conn.execute(f"DELETE FROM {table} WHERE doc_id = ?", (doc_id,))


def published_document_count(index_dir: Path, generation: str | None) -> int | None:
    """Papers in a published generation (from its manifest); None when unknown."""
    if generation is None:
        return None
    try:
        count = json.loads((index_dir / generation / MANIFEST_NAME).read_text()).get("documents")
    except (OSError, ValueError, AttributeError):
        return None
    return count if isinstance(count, int) and not isinstance(count, bool) else None


def chunk_from_row(row: sqlite3.Row | tuple) -> Chunk:
    chunk_id, doc_id, ordinal, kind, page, page_end, section, text, table_rows = row
    return Chunk(chunk_id=chunk_id, doc_id=doc_id, ordinal=ordinal, text=text, kind=kind,
                 page=page, page_end=page_end, section=section, table_rows=table_rows_from_json(table_rows))


def table_rows_json(refs: list[TableRowRef]) -> str | None:
    return json.dumps([[r.line, r.page, r.row] for r in refs], separators=(",", ":")) if refs else None


def table_rows_from_json(text: str | None) -> list[TableRowRef]:
    return [TableRowRef(line=line, page=page, row=row) for line, page, row in json.loads(text)] if text else []


def filter_sql(filters: Filters | None) -> tuple[str, list]:
    """A WHERE fragment over `documents d` (and `chunks c`) with its parameters."""
    if filters is None:
        return "1", []
    clauses, params = [], []
    if filters.authority:
        clauses.append("d.authority LIKE ?")
        params.append(f"%{filters.authority}%")
    if filters.committee:
        clauses.append("d.committee LIKE ?")
        params.append(f"%{filters.committee}%")
    if filters.since:
        clauses.append("d.date >= ?")
        params.append(filters.since)
    if filters.until:
        clauses.append("d.date <= ?")
        params.append(filters.until)
    if filters.doc_id:
        clauses.append("d.doc_id = ?")
        params.append(filters.doc_id)
    return (" AND ".join(clauses) or "1"), params


def manifest_backend(manifest: dict) -> str:
    """Which backend published a generation: its manifest says so, except the embedded index's, which predates the choice."""
    return manifest.get("backend", "embedded")


def read_current(index_dir: Path) -> str | None:
    try:
        # Undecodable bytes become U+FFFD, so a damaged pointer names no folder and reads as corrupt, not as a crash.
        name = (index_dir / CURRENT_NAME).read_bytes().decode("utf-8", "replace").strip()
    except FileNotFoundError:
        return None
    except OSError as exc:  # a folder where the pointer belongs, or an unreadable one
        return f"invalid:{CURRENT_NAME} cannot be read ({exc.strerror})"
    if not name:
        return None
    # Only a generation folder of this index: a damaged or edited pointer must not lead elsewhere.
    return name if re.fullmatch(r"gen-\d{6}", name) else f"invalid:{name[:40]}"


def ivf_lists(count: int) -> int:
    """Inverted lists for `count` vectors: about 4 × sqrt(count), a power of two."""
    return 1 << max(4, round(np.log2(4 * np.sqrt(max(count, 1)))))


def build_faiss_index(ids: np.ndarray, vectors: np.ndarray, dimension: int, ann_threshold: int):
    """Exact inner-product search up to `ann_threshold` vectors, an inverted-file index (IVF) above it.

    Question vectors sit far from passage vectors, so their neighbours are near-ties, where graph search
    loses recall as the graph grows: measured by bench/run.py on 10^6 vectors like the corpus', HNSW (M 32,
    efSearch 1024) found 84% of the true top 10; IVF with 4,096 lists found 95.5% probing 32 lists, 98.6%
    probing 64 and 99.7% probing 128 (a thirty-second of the vectors, about 31,000 a question). Fewer
    vectors per list at smaller sizes need the larger share (20,000 vectors, 512 lists: 93.5% probing 8).
    """
    import faiss

    if len(ids) > ann_threshold:
        lists = ivf_lists(len(ids))
        base = faiss.IndexIVFFlat(faiss.IndexFlatIP(dimension), dimension, lists, faiss.METRIC_INNER_PRODUCT)
        sample = np.random.default_rng(0).choice(len(ids), size=min(len(ids), 50 * lists), replace=False)
        base.train(np.ascontiguousarray(vectors[np.sort(sample)], dtype=np.float32))
        base.nprobe = max(1, lists // 32)
    else:
        base = faiss.IndexFlatIP(dimension)
    index = faiss.IndexIDMap2(base)
    if len(ids):
        index.add_with_ids(np.ascontiguousarray(vectors, dtype=np.float32), ids.astype(np.int64))
    if isinstance(base, faiss.IndexIVF):
        base.make_direct_map()  # vectors_of reconstructs candidates' vectors by id
    return index


def search_parameters(index, selector, allowed: int):
    """Search parameters carrying an id selector of `allowed` ids, of the kind the wrapped index takes. An IVF
    index probes more lists the fewer ids pass, so a filtered question scans as many candidates as any other."""
    import faiss

    inner = faiss.downcast_index(index.index) if hasattr(index, "index") else index
    if isinstance(inner, faiss.IndexIVF):
        share = max(allowed, 1) / max(index.ntotal, 1)
        return faiss.SearchParametersIVF(sel=selector, nprobe=min(inner.nlist, int(np.ceil(inner.nprobe / share))))
    return faiss.SearchParameters(sel=selector)


def manifest_problem(manifest: dict, vector_dimension: int) -> str | None:
    """What in a manifest a reader cannot rely on, or None."""
    model, dimension = manifest.get("model"), manifest.get("dimension")
    if not isinstance(model, str) or not model:
        return "no model named"
    if isinstance(dimension, bool) or not isinstance(dimension, int) or dimension <= 0:
        return f"dimension {dimension!r} is not a positive whole number"
    if dimension != vector_dimension:
        return f"dimension {dimension} but the vectors have {vector_dimension}"
    return None


class IndexReader:
    """A read-only view of one published generation. Safe to share between threads."""

    def __init__(self, index_dir: Path, generation: str, manifest: dict, faiss_index, lexical: LexicalIndex):
        self.index_dir = index_dir
        self.generation = generation
        self.manifest = manifest
        self.db_path = index_dir / generation / DB_NAME
        self._faiss = faiss_index
        self.lexical = lexical
        self.terms = Terms()
        self._local = threading.local()
        self._doc_of_row: np.ndarray | None = None  # each chunk's doc_id, aligned with lexical.chunk_ids

    @classmethod
    def open(cls, index_dir: str | Path) -> "IndexReader":
        import faiss

        index_dir = Path(index_dir)
        generation = read_current(index_dir)
        if generation is None:
            raise IndexMissing(f"no index at {index_dir}: build it with `scrutiny ingest --index {index_dir}`")
        folder = index_dir / generation
        with contextlib.suppress(OSError, ValueError, AttributeError):  # an unreadable manifest is reported below
            backend = manifest_backend(json.loads((folder / MANIFEST_NAME).read_text()))
            if backend != "embedded":
                raise IndexCorrupt(f"index at {index_dir} was built with the {backend} backend: open it with --backend "
                                   f"{backend}, or rebuild it with `scrutiny ingest --rebuild --index {index_dir}`")
        try:
            manifest = json.loads((folder / MANIFEST_NAME).read_text())
            faiss_index = faiss.read_index(str(folder / VECTORS_NAME))
            lexical = LexicalIndex.load(folder)
        except (OSError, ValueError, KeyError, RuntimeError) as exc:
            raise IndexCorrupt(
                f"index at {index_dir} ({generation}) is unreadable: {exc}; rebuild it with "
                f"`scrutiny ingest --rebuild --index {index_dir}`"
            ) from exc
        if not isinstance(manifest, dict) or manifest.get("schema") != SCHEMA_VERSION:
            schema = manifest.get("schema") if isinstance(manifest, dict) else None
            raise IndexCorrupt(f"index at {index_dir} has schema {schema}, expected {SCHEMA_VERSION}: rebuild it with "
                               f"`scrutiny ingest --rebuild --index {index_dir}`")
        problem = manifest_problem(manifest, faiss_index.d)
        if problem:
            raise IndexCorrupt(f"index at {index_dir} ({generation}) has a damaged manifest: {problem}; rebuild it with "
                               f"`scrutiny ingest --rebuild --index {index_dir}`")
        reader = cls(index_dir, generation, manifest, faiss_index, lexical)
        try:
            chunks = reader.chunk_count()
        except sqlite3.Error as exc:
            raise IndexCorrupt(f"index at {index_dir} ({generation}) has an unreadable database: {exc}; rebuild it with "
                               f"`scrutiny ingest --rebuild --index {index_dir}`") from exc
        if faiss_index.ntotal != chunks or lexical.chunk_count != chunks:
            raise IndexCorrupt(f"index at {index_dir} ({generation}): {faiss_index.ntotal} vectors and "
                               f"{lexical.chunk_count} BM25 rows for {chunks} chunks; "
                               f"rebuild it with `scrutiny ingest --rebuild --index {index_dir}`")
        return reader

    @property
    def conn(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            # A published generation never changes, so SQLite may skip locking entirely.
            conn = sqlite3.connect(f"file:{self.db_path}?mode=ro&immutable=1", uri=True, check_same_thread=False)
            self._local.conn = conn
        return conn

    @property
    def model_name(self) -> str:
        return self.manifest["model"]

    def is_current(self) -> bool:
        return read_current(self.index_dir) == self.generation

    def chunk_count(self) -> int:
        return self.conn.execute("SELECT count(*) FROM chunks").fetchone()[0]

    def document_count(self) -> int:
        return self.conn.execute("SELECT count(*) FROM documents").fetchone()[0]

    def documents(self) -> list[Document]:
        rows = self.conn.execute(f"SELECT {DOCUMENT_COLUMNS} FROM documents ORDER BY date DESC, doc_id")
        return [document_from_row(row) for row in rows]

    def document(self, doc_id: str) -> Document | None:
        row = self.conn.execute(f"SELECT {DOCUMENT_COLUMNS} FROM documents WHERE doc_id = ?", (doc_id,)).fetchone()
        return document_from_row(row) if row else None

    def chunks_of(self, doc_id: str) -> list[Chunk]:
        rows = self.conn.execute(f"SELECT {CHUNK_COLUMNS} FROM chunks WHERE doc_id = ? ORDER BY ordinal", (doc_id,))
        return [chunk_from_row(row) for row in rows]

    def chunks_by_id(self, chunk_ids: Iterable[int]) -> dict[int, Chunk]:
        ids = list(dict.fromkeys(int(i) for i in chunk_ids))
        found: dict[int, Chunk] = {}
        for start in range(0, len(ids), 500):
            part = ids[start : start + 500]
            marks = ",".join("?" * len(part))
            for row in self.conn.execute(f"SELECT {CHUNK_COLUMNS} FROM chunks WHERE chunk_id IN ({marks})", part):
                found[row[0]] = chunk_from_row(row)
        return found

    def document_ids_of(self, chunk_ids: Iterable[int]) -> dict[int, str]:
        """Each chunk's document, from memory: ranking needs it for every candidate, the text only for the best."""
        if self._doc_of_row is None:
            names: dict[str, str] = {}  # one string per document, not one per chunk
            rows = self.conn.execute("SELECT doc_id FROM chunks ORDER BY chunk_id").fetchall()
            self._doc_of_row = np.array([names.setdefault(row[0], row[0]) for row in rows], dtype=object)
        ids = np.fromiter(chunk_ids, dtype=np.int64)
        rows = np.searchsorted(self.lexical.chunk_ids, ids)
        return dict(zip(ids.tolist(), self._doc_of_row[rows].tolist()))

    def unit_vectors_of(self, chunk_ids: Iterable[int]) -> dict[int, np.ndarray]:
        """The stored sentence vectors (float32, one row per `sentence_units` span) of chunks that have them."""
        ids = list(dict.fromkeys(int(i) for i in chunk_ids))
        marks = ",".join("?" * len(ids))
        rows = self.conn.execute(f"SELECT chunk_id, unit_vectors FROM chunks WHERE chunk_id IN ({marks}) AND unit_vectors IS NOT NULL", ids)
        row_bytes = int(self.manifest["dimension"]) * np.dtype(np.float16).itemsize
        # A blob that is not whole rows is damaged: the sentences are then scored as if it were absent.
        return {row[0]: np.frombuffer(row[1], np.float16).reshape(-1, row_bytes // 2).astype(np.float32)
                for row in rows if isinstance(row[1], bytes) and row[1] and len(row[1]) % row_bytes == 0}

    def vectors_of(self, chunk_ids: list[int]) -> np.ndarray:
        return np.vstack([self._faiss.reconstruct(int(i)) for i in chunk_ids]) if chunk_ids else np.zeros((0, 1), np.float32)

    def authorities(self) -> list[str]:
        rows = self.conn.execute("SELECT DISTINCT authority FROM documents WHERE authority IS NOT NULL ORDER BY authority")
        return [row[0] for row in rows]

    def committees(self) -> list[str]:
        rows = self.conn.execute("SELECT DISTINCT committee FROM documents WHERE committee IS NOT NULL ORDER BY committee")
        return [row[0] for row in rows]

    def allowed_chunk_ids(self, filters: Filters | None) -> np.ndarray | None:
        """Ids of the chunks that pass `filters`; None when nothing is filtered out."""
        if filters is None or filters.is_empty():
            return None
        where, params = filter_sql(filters)
        rows = self.conn.execute(
            f"SELECT c.chunk_id FROM chunks c JOIN documents d ON d.doc_id = c.doc_id WHERE {where}", params
        ).fetchall()
        return np.fromiter((row[0] for row in rows), dtype=np.int64, count=len(rows))

    def restriction(self, filters: Filters | None) -> np.ndarray | None:
        """The backend seam's name for `allowed_chunk_ids`: filters resolved to chunk ids."""
        return self.allowed_chunk_ids(filters)

    def bm25(self, query: str, allowed: np.ndarray | None, limit: int) -> list[tuple[int, float]]:
        """(chunk_id, BM25 score) best first for the words of `query`, among `allowed` chunk ids (None: all)."""
        keys = self.terms.keys(query)
        if not len(keys):
            return []
        return self.lexical.top(keys, limit, None if allowed is None else self.lexical.allowed_rows(allowed))

    def unseen_idf(self) -> float:
        """The idf of a word no chunk holds: the most specific a word can be."""
        from index.lexical import idf

        return float(idf(0, len(self.lexical.chunk_ids)))

    def idf(self, word: str) -> float:
        """How rare a question word is among the chunks (its rarest stem when it has several)."""
        return self.lexical.idf(self.terms.keys(word))

    def fused(self, query: str, vector: np.ndarray, allowed: np.ndarray | None, limit: int, bm25_weight: float,
              dense_weight: float) -> None:
        """The embedded index leaves hybrid fusion to index.search."""
        return None

    def dense(self, vector: np.ndarray, allowed: np.ndarray | None, limit: int) -> list[tuple[int, float]]:
        """(chunk_id, cosine) best first, among `allowed` chunk ids (None: all)."""
        import faiss

        if self._faiss.ntotal == 0:
            return []
        query = np.ascontiguousarray(vector.reshape(1, -1), dtype=np.float32)
        params = None
        if allowed is not None:
            if len(allowed) == 0:
                return []
            selector = faiss.IDSelectorBatch(allowed)  # kept referenced until the search returns
            params = search_parameters(self._faiss, selector, len(allowed))
        # One query gains nothing from OpenMP threads, and with busy cores their barriers cost 5x (measured
        # by bench/run.py). The setting is per calling thread and restored, so index builds keep every core.
        previous = faiss.omp_get_max_threads()
        faiss.omp_set_num_threads(1)
        try:
            scores, ids = self._faiss.search(query, min(limit, self._faiss.ntotal), params=params)
        finally:
            faiss.omp_set_num_threads(previous)
        return [(int(i), float(s)) for i, s in zip(ids[0], scores[0]) if i >= 0]

    def integrity_problems(self) -> list[str]:
        """What disagrees between SQLite and FAISS; empty when consistent."""
        problems = []
        check = self.conn.execute("PRAGMA quick_check").fetchone()[0]
        if check != "ok":
            problems.append(f"sqlite: {check}")
        ids = {row[0] for row in self.conn.execute("SELECT chunk_id FROM chunks")}
        lexical = set(self.lexical.chunk_ids.tolist())
        if ids != lexical:
            problems.append(f"BM25 rows {len(lexical)} != chunks {len(ids)}")
        if self._faiss.ntotal != len(ids):
            problems.append(f"faiss vectors {self._faiss.ntotal} != chunks {len(ids)}")
        else:
            import faiss

            faiss_ids = set(faiss.vector_to_array(self._faiss.id_map).tolist())
            if faiss_ids != ids:
                problems.append("faiss ids differ from chunk ids")
        return problems

    def stats(self) -> dict:
        return {
            "generation": self.generation,
            "documents": self.document_count(),
            "chunks": self.chunk_count(),
            "model": self.model_name,
            "built": self.manifest.get("built"),
        }


@contextlib.contextmanager
def writer_lock(index_dir: Path, wait: bool = False) -> Iterator[None]:
    """One ingest at a time per index; the second refuses (or waits) instead of corrupting."""
    index_dir.mkdir(parents=True, exist_ok=True)
    with open(index_dir / LOCK_NAME, "w") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
        except BlockingIOError as exc:
            raise IndexBusy(f"another ingest is writing {index_dir}; try again when it has finished (or use --wait)") from exc
        handle.write(str(os.getpid()))
        handle.flush()
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _next_generation_name(index_dir: Path) -> str:
    numbers = [int(p.name.split("-")[1].split(".")[0]) for p in index_dir.glob("gen-*") if p.name.split("-")[1].split(".")[0].isdigit()]
    return f"gen-{max(numbers, default=0) + 1:06d}"


class DocumentCatalog:
    """What ingest reads of the next generation's documents table, the same in both backends' builders
    (each has `conn`, `index_dir` and `previous`)."""

    conn: sqlite3.Connection
    index_dir: Path
    previous: str | None

    def previous_document_count(self) -> int | None:
        """Papers in the published generation this one replaces; None when unknown."""
        return published_document_count(self.index_dir, self.previous)

    def document_count(self) -> int:
        return self.conn.execute("SELECT count(*) FROM documents").fetchone()[0]

    def document_hashes(self) -> dict[str, str]:
        return dict(self.conn.execute("SELECT doc_id, sha256 FROM documents"))

    def document_paths(self) -> dict[str, str]:
        return dict(self.conn.execute("SELECT doc_id, path FROM documents"))

    def document_meta(self, doc_id: str) -> DocumentMeta | None:
        row = self.conn.execute(f"SELECT {DOCUMENT_COLUMNS} FROM documents WHERE doc_id = ?", (doc_id,)).fetchone()
        return document_from_row(row).meta if row else None


class IndexWriter(DocumentCatalog):
    """Builds the next generation from a copy of the current one, then publishes it.

    Use under `writer_lock`. Nothing is visible to readers until `publish()`.
    """

    def __init__(self, index_dir: Path, model: str, dimension: int, ann_threshold: int, settings_snapshot: dict, fresh: bool = False):
        self.index_dir = Path(index_dir)
        self.model = model
        self.dimension = dimension
        self.ann_threshold = ann_threshold
        self.settings_snapshot = settings_snapshot
        self.generation = _next_generation_name(self.index_dir)
        self.work_dir = self.index_dir / f"{self.generation}.tmp"
        self._remove_stale_work_dirs()
        self.work_dir.mkdir(parents=True)
        self.conn = sqlite3.connect(self.work_dir / DB_NAME)
        self.previous = read_current(self.index_dir)
        self.reused_previous = False if fresh else self._start_from_previous()
        self.conn.executescript(_SCHEMA)
        self.conn.execute("PRAGMA foreign_keys = ON")
        self.conn.execute("PRAGMA journal_mode = OFF")  # the whole folder is discarded on failure
        self.conn.execute("PRAGMA synchronous = OFF")
        self.conn.execute("CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT)")
        self.terms = Terms()

    def _remove_stale_work_dirs(self) -> None:
        for stale in self.index_dir.glob("gen-*.tmp"):
            shutil.rmtree(stale, ignore_errors=True)

    def _start_from_previous(self) -> bool:
        """Copy the current generation's database when it was built with the same model and schema."""
        if self.previous is None:
            return False
        folder = self.index_dir / self.previous
        try:
            manifest = json.loads((folder / MANIFEST_NAME).read_text())
        except (OSError, ValueError):
            return False
        same = (manifest.get("schema") == SCHEMA_VERSION and manifest.get("model") == self.model
                and manifest.get("chunking") == self.settings_snapshot.get("chunking") and manifest_backend(manifest) == "embedded")
        if not same:
            return False
        try:
            source = sqlite3.connect(f"file:{folder / DB_NAME}?mode=ro", uri=True)
            source.backup(self.conn)
            source.close()
        except sqlite3.Error:
            self.conn.close()
            (self.work_dir / DB_NAME).unlink(missing_ok=True)
            self.conn = sqlite3.connect(self.work_dir / DB_NAME)
            return False
        return True

    def chunks_of(self, doc_id: str) -> list[Chunk]:
        rows = self.conn.execute(f"SELECT {CHUNK_COLUMNS} FROM chunks WHERE doc_id = ? ORDER BY ordinal", (doc_id,))
        return [chunk_from_row(row) for row in rows]

    def delete_document(self, doc_id: str) -> None:
        self.conn.execute("DELETE FROM chunks WHERE doc_id = ?", (doc_id,))
        self.conn.execute("DELETE FROM documents WHERE doc_id = ?", (doc_id,))
        self.on_document_deleted(doc_id)

    def on_document_deleted(self, doc_id: str) -> None:
        """Hook for tables derived from a document (commitments, decision references) to drop its rows."""
        delete_derived_rows(self.conn, doc_id)

    def update_document_path(self, doc_id: str, path: str, meta: DocumentMeta) -> None:
        update_document_meta(self.conn, doc_id, path, meta)

    def _next_chunk_id(self) -> int:
        return (self.conn.execute("SELECT max(chunk_id) FROM chunks").fetchone()[0] or 0) + 1

    def add_document(self, document: Document, chunks: list[Chunk], vectors: np.ndarray, contexts: list[str], bodies: list[str],
                     unit_vectors: list[np.ndarray] | None = None) -> list[int]:
        """Store a document, its chunks, their vectors and their sentences' vectors; returns the new chunk ids."""
        if len(chunks) != len(vectors):
            raise ValueError(f"{document.doc_id}: {len(chunks)} chunks but {len(vectors)} vectors")
        self.delete_document(document.doc_id)
        insert_document(self.conn, document, len(chunks))
        first = self._next_chunk_id()
        ids = list(range(first, first + len(chunks)))
        counts = [self.terms.term_counts(body, context) for body, context in zip(bodies, contexts)]
        units = [None if u is None else np.asarray(u, np.float16).tobytes() for u in (unit_vectors or [None] * len(chunks))]
        self.conn.executemany(
            f"INSERT INTO chunks ({CHUNK_COLUMNS}, vector, length, terms, unit_vectors) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
            [
                (cid, document.doc_id, c.ordinal, c.kind, c.page, c.page_end, c.section, c.text, table_rows_json(c.table_rows),
                 np.asarray(v, dtype=np.float32).tobytes(), length, terms, unit)
                for cid, c, v, (terms, length), unit in zip(ids, chunks, vectors, counts, units)
            ],
        )
        for cid, chunk in zip(ids, chunks):
            chunk.chunk_id = cid
        return ids

    def all_vectors(self) -> tuple[np.ndarray, np.ndarray]:
        rows = self.conn.execute("SELECT chunk_id, vector FROM chunks ORDER BY chunk_id").fetchall()
        ids = np.fromiter((row[0] for row in rows), dtype=np.int64, count=len(rows))
        vectors = np.frombuffer(b"".join(row[1] for row in rows), dtype=np.float32).reshape(len(rows), self.dimension) if rows else np.zeros((0, self.dimension), np.float32)
        return ids, vectors

    def lexical_index(self) -> LexicalIndex:
        rows = self.conn.execute("SELECT chunk_id, length, terms FROM chunks ORDER BY chunk_id").fetchall()
        ids = np.fromiter((row[0] for row in rows), dtype=np.int64, count=len(rows))
        lengths = np.fromiter((row[1] for row in rows), dtype=np.float64, count=len(rows))
        return LexicalIndex.build(ids, lengths, [row[2] for row in rows])

    def publish(self) -> str:
        """Write FAISS, the BM25 postings and the manifest, then atomically make this generation current."""
        import faiss

        self.conn.execute("INSERT OR REPLACE INTO meta VALUES ('model', ?)", (self.model,))
        self.conn.commit()
        ids, vectors = self.all_vectors()
        index = build_faiss_index(ids, vectors, self.dimension, self.ann_threshold)
        try:
            faiss.write_index(index, str(self.work_dir / VECTORS_NAME))
        except RuntimeError as exc:  # faiss reports a failed write (a full disk) as RuntimeError
            raise OSError(f"writing {VECTORS_NAME} failed: {' '.join(str(exc).split())[-200:]}") from exc
        self.lexical_index().save(self.work_dir)
        counts = self.conn.execute("SELECT (SELECT count(*) FROM documents), (SELECT count(*) FROM chunks)").fetchone()
        self.conn.execute("VACUUM") if not self.reused_previous else None
        self.conn.close()
        manifest = {
            "schema": SCHEMA_VERSION,
            "model": self.model,
            "dimension": self.dimension,
            "documents": counts[0],
            "chunks": counts[1],
            "faiss": type(faiss.downcast_index(index.index)).__name__,
            "built": time.strftime("%Y-%m-%dT%H:%M:%S"),
            # What each file held when published, so the next ingest can tell a damaged index from a sound one.
            "files": {path.name: file_record(path) for path in sorted(self.work_dir.iterdir()) if path.is_file()},
            **self.settings_snapshot,
        }
        return publish_generation(self.index_dir, self.work_dir, self.generation, manifest, self.previous)

    def abandon(self) -> None:
        with contextlib.suppress(Exception):
            self.conn.close()
        shutil.rmtree(self.work_dir, ignore_errors=True)


def publish_generation(index_dir: Path, work_dir: Path, generation: str, manifest: dict, previous: str | None) -> str:
    """Write the manifest, make `work_dir` the generation `generation` and atomically point CURRENT at it."""
    (work_dir / MANIFEST_NAME).write_text(json.dumps(manifest, indent=2))
    _fsync_folder(work_dir)
    os.replace(work_dir, index_dir / generation)
    _move_aside_if_folder(index_dir / CURRENT_NAME)
    pointer = index_dir / f"{CURRENT_NAME}.tmp"
    pointer.write_text(generation)
    _fsync_file(pointer)
    os.replace(pointer, index_dir / CURRENT_NAME)
    _fsync_folder(index_dir)
    # The previous generation stays: a server may still be reading it.
    for folder in index_dir.glob("gen-*"):
        if folder.name not in {generation, previous} and not folder.name.endswith(".tmp"):
            shutil.rmtree(folder, ignore_errors=True)
    return generation


def _move_aside_if_folder(path: Path) -> None:
    """A folder where the CURRENT pointer belongs is kept, renamed, rather than deleted or left to block publishing."""
    if path.is_dir() and not path.is_symlink():
        os.replace(path, path.with_name(f"{path.name}.damaged-{time.strftime('%Y%m%d%H%M%S')}"))


def file_record(path: Path) -> dict:
    with open(path, "rb") as handle:
        digest = hashlib.file_digest(handle, "sha256").hexdigest()
    return {"bytes": path.stat().st_size, "sha256": digest}


def file_damage(path: Path, published: dict) -> str | None:
    """How `path` differs from what was published, or None."""
    if not path.is_file():
        return "missing"
    size = path.stat().st_size
    if size != published.get("bytes"):
        return f"{size:,} bytes where {published.get('bytes'):,} were published"
    if file_record(path)["sha256"] != published.get("sha256"):
        return "contents changed since it was published"
    return None


def generation_damage(index_dir: Path) -> dict[str, str]:
    """What is damaged in the published generation, {part: problem}; empty when it is sound (or there is none).

    Files are checked against the sizes and digests the manifest recorded at publishing; an
    index published before those were recorded is opened and cross-checked instead.
    """
    pointer = index_dir / CURRENT_NAME
    if pointer.is_dir():
        return {CURRENT_NAME: "is a folder, not the pointer to the published index"}
    generation = read_current(index_dir)
    if generation is None:
        return {}
    if generation.startswith("invalid:"):
        return {CURRENT_NAME: f"names no index generation ({generation.removeprefix('invalid:')})"}
    folder = index_dir / generation
    try:
        manifest = json.loads((folder / MANIFEST_NAME).read_text())
    except (OSError, ValueError) as exc:
        return {MANIFEST_NAME: f"unreadable ({exc.__class__.__name__})"}
    recorded = manifest.get("files") if isinstance(manifest, dict) else None
    if not isinstance(recorded, dict):
        return _opened_damage(index_dir, folder, embedded=not isinstance(manifest, dict) or manifest_backend(manifest) == "embedded")
    damage = {}
    for name, published in recorded.items():
        problem = file_damage(folder / name, published) if isinstance(published, dict) else "no record"
        if problem:
            damage[name] = problem
    return damage


def _opened_damage(index_dir: Path, folder: Path, embedded: bool = True) -> dict[str, str]:
    """Damage found by opening a generation whose manifest records no digests (of another backend's generation,
    only its database is checked: its vectors live elsewhere)."""
    try:
        conn = sqlite3.connect(f"file:{folder / DB_NAME}?mode=ro", uri=True)
        try:
            check = conn.execute("PRAGMA quick_check").fetchone()[0]
        finally:
            conn.close()
    except sqlite3.Error as exc:
        return {DB_NAME: str(exc)}
    if check != "ok":
        return {DB_NAME: check}
    if not embedded:
        return {}
    try:
        problems = IndexReader.open(index_dir).integrity_problems()
    except IndexError_ as exc:
        return {VECTORS_NAME: str(exc)}
    return {VECTORS_NAME: "; ".join(problems)} if problems else {}


def _fsync_file(path: Path) -> None:
    with open(path, "rb") as handle:
        os.fsync(handle.fileno())


def _fsync_folder(path: Path) -> None:
    for child in path.iterdir():
        if child.is_file():
            _fsync_file(child)
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def describe(document: Document) -> dict:
    return {**asdict(document), "title": document.title}
