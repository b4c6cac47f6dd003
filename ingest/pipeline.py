"""ingest_paths: files in, a new published index generation out.

Only new or changed files (by content hash) are parsed and embedded; documents
whose files have gone are dropped. Everything is written to a fresh generation
that replaces the current one atomically, so an interrupted run changes nothing.
"""
from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable

import numpy as np

from core.records import Chunk, Document, DocumentMeta, ParsedDocument
from core.settings import Settings
from core.text import fold_characters, folded_offsets

PAPER_SUFFIXES = {".pdf", ".txt", ".text", ".md", ".markdown", ".docx"}
IGNORED_SUFFIXES = {".yaml", ".yml", ".json", ".jsonl", ".csv"}
# A folder of papers may describe itself; those notes are not papers.
IGNORED_STEMS = {"readme", "sources", "license", "changelog"}


@dataclass
class Skipped:
    path: str
    reason: str


@dataclass
class IngestReport:
    files: int = 0
    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)
    chunks_total: int = 0
    chunks_embedded: int = 0
    embed_seconds: float = 0.0
    seconds: float = 0.0
    generation: str | None = None

    @property
    def failed(self) -> bool:
        return bool(self.skipped)


@dataclass
class PreparedDocument:
    document: Document
    chunks: list[Chunk]
    bodies: list[str]
    contexts: list[str]
    embed_texts: list[str]
    unit_spans: list[list[tuple[int, int]]]  # sentences within each embedding text, for their own vectors
    # The commitments register's statements (commitments.register.statement_spans), and per chunk, (key, span)
    # of each in the chunk's embedding text, so their vectors come from the same forward pass.
    extracted: tuple | None = None
    statements: list[list[tuple[str, tuple[int, int]]]] = field(default_factory=list)


class Progress:
    """Callbacks the pipeline reports through; the CLI draws them as bars."""

    def start(self, stage: str, total: int) -> None: ...
    def extend(self, stage: str, amount: int) -> None: ...  # more work found for a stage already started
    def advance(self, stage: str, amount: int = 1) -> None: ...
    def note(self, message: str) -> None: ...


def discover_files(paths: Iterable[Path]) -> list[Path]:
    """Paper files under `paths` in a stable order; sidecars and gold files are not papers."""
    found: list[Path] = []
    for root in paths:
        root = Path(root)
        candidates = [root] if root.is_file() else sorted(p for p in root.rglob("*") if p.is_file())
        for path in candidates:
            if any(part.startswith(".") for part in path.relative_to(root.parent if root.is_file() else root).parts):
                continue
            suffix = path.suffix.lower()
            if suffix in IGNORED_SUFFIXES or path.name.endswith(".meta.json") or path.stem.lower() in IGNORED_STEMS:
                continue
            if suffix in PAPER_SUFFIXES or root.is_file():
                found.append(path)
    return found


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def search_body(text: str) -> str:
    return fold_characters(text)


def search_context(meta: DocumentMeta, doc_id: str, section: str | None) -> str:
    """Words about a chunk that are not in it: council, meeting, paper, year and section."""
    year = (meta.date or "")[:4]
    parts = [meta.authority, meta.committee, meta.title, meta.reference, year, section]
    return fold_characters(" ".join(p for p in parts if p))


def embedding_prefix(meta: DocumentMeta, chunk: Chunk) -> str:
    """Council and section, embedded ahead of a chunk's text so its vector knows where it comes from."""
    heading = " - ".join(p for p in (meta.authority, chunk.section) if p)
    return fold_characters(f"{heading}: ") if heading else ""


def embedding_text(meta: DocumentMeta, chunk: Chunk) -> str:
    return embedding_prefix(meta, chunk) + fold_characters(chunk.text)


def embedded_unit_spans(meta: DocumentMeta, chunk: Chunk) -> list[tuple[int, int]]:
    """Where each sentence of the chunk (as the answer step splits it) lies in the chunk's embedding text."""
    from index.answer import sentence_units

    shift = len(embedding_prefix(meta, chunk))
    offsets = folded_offsets(chunk.text)
    return [(shift + offsets[start], shift + offsets[end]) for start, end in sentence_units(chunk.text)]


def prepare_document(path: Path, sha: str, sidecars: dict[str, dict], settings: Settings) -> PreparedDocument:
    """Parse, chunk and describe one file; raises ParseError for a file that cannot be read."""
    from ingest.chunk import chunk_blocks
    from ingest.metadata import detect_metadata, resolve_metadata
    from ingest.parse import parse_file
    from ingest.structure import blocks_from_document

    parsed: ParsedDocument = parse_file(path)
    meta = resolve_metadata(detect_metadata(parsed), sidecars.get(parsed.doc_id))
    chunks = chunk_blocks(parsed.doc_id, blocks_from_document(parsed), settings.chunk)
    document = Document(
        doc_id=parsed.doc_id, path=str(path), format=parsed.format, sha256=sha,
        pages=len(parsed.pages) if parsed.has_pages else None, chunks=len(chunks), meta=meta,
    )
    return PreparedDocument(
        document=document,
        chunks=chunks,
        bodies=[search_body(c.text) for c in chunks],
        contexts=[search_context(meta, parsed.doc_id, c.section) for c in chunks],
        embed_texts=[embedding_text(meta, c) for c in chunks],
        unit_spans=[embedded_unit_spans(meta, c) for c in chunks],
    )


def prepared_with_statements(path: Path, sha: str, sidecars: dict[str, dict], settings: Settings, statements: bool) -> PreparedDocument:
    """prepare_document, refusing a file without text, plus where the register's statements lie in its chunks."""
    from ingest.parse import ParseError

    item = prepare_document(path, sha, sidecars, settings)
    if not item.chunks:
        raise ParseError(path, "no text found")
    if statements:
        from commitments.register import statement_spans

        item.extracted, item.statements = statement_spans(item.document.doc_id, item.document.meta, item.chunks, item.embed_texts)
    return item


class ParseAhead:
    """Parses the files to ingest on a worker thread, a few ahead of the one asked for, so the model
    encodes one group of papers while the next are read (torch does its work outside the GIL)."""

    def __init__(self, jobs: list[tuple[Path, str]], sidecars: dict[str, dict], settings: Settings, statements: bool, ahead: int = 8):
        from concurrent.futures import ThreadPoolExecutor

        self._jobs = list(jobs)
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="parse")
        self._submit = lambda path, sha: self._pool.submit(prepared_with_statements, path, sha, sidecars, settings, statements)
        self._futures = {}
        self._ahead = ahead
        self._next = 0
        self._fill()

    def _fill(self) -> None:
        while self._next < len(self._jobs) and len(self._futures) < self._ahead:
            path, sha = self._jobs[self._next]
            self._futures[path] = self._submit(path, sha)
            self._next += 1

    def result(self, path: Path) -> PreparedDocument:
        """The prepared file, or the exception parsing it raised; files must be asked for in order."""
        future = self._futures.pop(path)
        self._fill()
        return future.result()

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)


def embed_prepared(embedder, items: list[PreparedDocument], progress=None) -> tuple[np.ndarray, list[np.ndarray], dict[str, np.ndarray]]:
    """Every chunk's vector, each chunk's sentence vectors, and the register's statement vectors (by key), all
    from one forward pass per chunk: statements are pooled like sentences, so they cost no model time."""
    spans, owners = [], []
    for item in items:
        statements = item.statements or [[] for _ in item.chunks]
        for sentence_spans, own in zip(item.unit_spans, statements):
            spans.append([*sentence_spans, *(span for _, span in own)])
            owners.append((len(sentence_spans), [key for key, _ in own]))
    texts = [text for item in items for text in item.embed_texts]
    vectors, pooled = embedder.encode_with_units(texts, spans, progress=progress)
    units, statement_vectors = [], {}
    for rows, (sentences, keys) in zip(pooled, owners):
        units.append(rows[:sentences])
        for key, vector in zip(keys, rows[sentences:]):
            if not np.isnan(vector[0]):  # past the model's window: the register encodes it on its own
                statement_vectors[key] = vector
    return vectors, units, statement_vectors


class Written:
    """What the embedding stage hands on to the commitments register: statements and vectors it already has."""

    def __init__(self, writer, report: IngestReport):
        self.writer, self.report = writer, report
        self.statement_vectors: dict[str, np.ndarray] = {}
        self.extractions: dict[str, tuple] = {}

    def write(self, items: list[PreparedDocument], embedded: tuple[np.ndarray, list[np.ndarray], dict[str, np.ndarray]]) -> None:
        """Write embedded papers in order; their statements then point at the chunk ids the index gave."""
        vectors, units, statements = embedded
        self.report.chunks_embedded += len(vectors)
        self.statement_vectors.update(statements)
        offset = 0
        for item in items:
            part = slice(offset, offset + len(item.chunks))
            self.writer.add_document(item.document, item.chunks, vectors[part], item.contexts, item.bodies, units[part])
            offset += len(item.chunks)
            if item.extracted is not None:
                for statement in [*item.extracted[0], *item.extracted[1]]:
                    statement.chunk_id = item.chunks[statement.chunk_id].chunk_id
                self.extractions[item.document.doc_id] = item.extracted


class GroupEmbedding(Written):
    """Parsed papers wait here until a few batches' worth of chunks have gathered; then they are encoded
    together (batches sorted by length waste little on padding) and written, in the order they arrived.
    The first group is one batch, so the model starts as soon as one batch's worth is parsed."""

    def __init__(self, embedder, writer, progress: Progress, report: IngestReport):
        super().__init__(writer, report)
        self.embedder, self.progress = embedder, progress
        self.group = embedder.settings.batch_size
        self.waiting: list[PreparedDocument] = []

    def add(self, item: PreparedDocument) -> None:
        self.waiting.append(item)
        self.progress.extend("embed", len(item.chunks))
        if sum(len(i.chunks) for i in self.waiting) >= self.group:
            self.flush()
            self.group = 4 * self.embedder.settings.batch_size

    def flush(self) -> None:
        if not self.waiting:
            return
        started = time.perf_counter()
        embedded = embed_prepared(self.embedder, self.waiting, lambda n: self.progress.advance("embed", n))
        self.report.embed_seconds += time.perf_counter() - started
        self.write(self.waiting, embedded)
        self.waiting = []


class LocalRunner:
    """Where ingest parses and embeds: here, in this process (the default). ingest.cluster.RayRunner does both
    on a Ray cluster instead, with the same two methods."""

    def parser(self, jobs: list[tuple[Path, str]], sidecars: dict[str, dict], settings: Settings, statements: bool) -> ParseAhead:
        return ParseAhead(jobs, sidecars, settings, statements)

    def embedding(self, embedder, writer, progress: Progress, report: IngestReport) -> GroupEmbedding:
        return GroupEmbedding(embedder, writer, progress, report)


def load_sidecars(files: Iterable[Path]) -> tuple[dict[str, dict], list[Skipped]]:
    """Sidecar metadata from every folder that holds a paper, and the sidecars that could not be read."""
    from ingest.metadata import load_sidecar_metadata

    sidecars: dict[str, dict] = {}
    problems: list[Skipped] = []
    for folder in sorted({Path(f).parent for f in files}):
        try:
            sidecars.update(load_sidecar_metadata(folder))
        except ValueError as exc:
            # The papers still go in, with the metadata their text states.
            problems.append(Skipped(str(folder), f"metadata ignored: {exc}"))
    return sidecars, problems


def _under(path: str, roots: list[Path]) -> bool:
    resolved = Path(path).resolve()
    return any(resolved == root or root in resolved.parents for root in roots)


def ingest_paths(
    paths: list[Path],
    settings: Settings,
    embedder,
    progress: Progress | None = None,
    strict: bool = False,
    rebuild: bool = False,
    wait: bool = False,
    commitments: Callable | bool = True,
    runner=None,
) -> IngestReport:
    """Bring the index up to date with the papers under `paths` and publish it.

    `commitments` extracts the commitments register from the changed papers (True: the
    built-in extractor; a callable: that one; False: skip it). `runner` parses and embeds
    (LocalRunner, the default, or ingest.cluster.RayRunner).
    """
    from index.backend import open_builder
    from index.store import read_current, writer_lock
    from ingest.parse import ParseError

    progress = progress or Progress()
    started = time.perf_counter()
    report = IngestReport()
    paths = [Path(p) for p in paths]
    for path in paths:
        if not path.exists():
            raise FileNotFoundError(f"{path}: no such file or folder")
    files = discover_files(paths)
    sidecars, sidecar_problems = load_sidecars(files)
    report.skipped.extend(sidecar_problems)
    report.files = len(files)
    index_dir = Path(settings.index_dir)

    with writer_lock(index_dir, wait=wait):
        snapshot = {"chunking": settings.chunk.model_dump()}
        if not rebuild and index_is_up_to_date(index_dir, files, sidecars, embedder.name, snapshot, settings.backend.kind):
            report.unchanged = [f.stem for f in files]
            report.generation = read_current(index_dir)
            report.chunks_total = _count_chunks(index_dir, report.generation)
            report.seconds = time.perf_counter() - started
            return report
        writer = open_builder(settings, embedder.name, embedder.dimension, fresh=rebuild)
        try:
            known = writer.document_hashes()
            known_paths = writer.document_paths()
            roots = [p.resolve() for p in paths]
            seen_ids: dict[str, Path] = {}
            prepared: list[PreparedDocument] = []
            metadata_changed = False

            hashes: dict[Path, str | OSError] = {}
            for path in files:
                try:
                    hashes[path] = file_sha256(path)
                except OSError as exc:
                    hashes[path] = exc
            first_of_id = {path.stem: path for path in reversed(files)}  # a second file with the same id is refused below
            to_parse = [(path, sha) for path, sha in hashes.items()
                        if isinstance(sha, str) and known.get(path.stem) != sha and first_of_id[path.stem] == path]
            runner = runner or LocalRunner()
            ahead = runner.parser(to_parse, sidecars, settings, statements=bool(commitments))
            embedding = runner.embedding(embedder, writer, progress, report)
            progress.start("parse", len(files))
            progress.start("embed", 0)
            try:
                for path in files:
                    progress.advance("parse")
                    doc_id = path.stem
                    if doc_id in seen_ids:
                        report.skipped.append(Skipped(str(path), f"same document id as {seen_ids[doc_id]}; rename one of them"))
                        continue
                    seen_ids[doc_id] = path
                    try:
                        sha = hashes[path]
                        if isinstance(sha, OSError):
                            raise sha
                        if known.get(doc_id) == sha:
                            report.unchanged.append(doc_id)
                            metadata_changed |= _refresh_metadata(writer, path, doc_id, sidecars, known_paths)
                            continue
                        item = ahead.result(path)
                    except (ParseError, OSError, ValueError) as exc:
                        message = str(exc) if isinstance(exc, ParseError) else f"{path}: {exc}"
                        if strict:
                            raise
                        report.skipped.append(Skipped(str(path), message))
                        progress.note(message)
                        # A file that fails keeps its previous version in the index rather than vanishing.
                        continue
                    (report.updated if doc_id in known else report.added).append(doc_id)
                    prepared.append(item)
                    embedding.add(item)  # encodes and writes once a group's worth of chunks has gathered
                embedding.flush()
            finally:
                ahead.close()

            for doc_id, old_path in known_paths.items():
                if doc_id not in seen_ids and _under(old_path, roots) and not Path(old_path).exists():
                    writer.delete_document(doc_id)
                    report.removed.append(doc_id)

            if not prepared and not report.removed and not metadata_changed and writer.reused_previous:
                # Nothing to do: keep the current generation rather than publish an identical copy.
                writer.abandon()
                report.generation = writer.previous
                report.chunks_total = _count_chunks(index_dir, writer.previous)
                report.seconds = time.perf_counter() - started
                return report

            if commitments is True:
                from commitments.register import index_commitments as commitments
            if commitments:
                commitments(writer, [item.document.doc_id for item in prepared], embedder,
                            known_vectors=embedding.statement_vectors, known_extractions=embedding.extractions)
            report.generation = writer.publish()
            report.chunks_total = _count_chunks(index_dir, report.generation)
        except BaseException:
            writer.abandon()
            raise
    report.seconds = time.perf_counter() - started
    return report


def index_is_up_to_date(index_dir: Path, files: list[Path], sidecars: dict[str, dict], model: str, snapshot: dict,
                        backend: str = "embedded") -> bool:
    """True when the current generation already holds exactly these files, unchanged, with this model and metadata.

    Checked before any copying so that a no-change ingest costs only the file hashing.
    """
    import json
    import sqlite3

    from index.store import DOCUMENT_COLUMNS, MANIFEST_NAME, SCHEMA_VERSION, document_from_row, manifest_backend, read_current

    generation = read_current(index_dir)
    if generation is None:
        return False
    try:
        manifest = json.loads((index_dir / generation / MANIFEST_NAME).read_text())
        conn = sqlite3.connect(f"file:{index_dir / generation / 'scrutiny.db'}?mode=ro", uri=True)
        try:
            documents = {row[0]: document_from_row(row) for row in conn.execute(f"SELECT {DOCUMENT_COLUMNS} FROM documents")}
        finally:
            conn.close()
    except (OSError, ValueError, sqlite3.Error):
        return False
    if manifest.get("schema") != SCHEMA_VERSION or manifest.get("model") != model or manifest.get("chunking") != snapshot.get("chunking"):
        return False
    if manifest_backend(manifest) != backend:
        return False
    if {f.stem for f in files} != set(documents):
        return False
    for path in files:
        document = documents[path.stem]
        if document.path != str(path) or document.sha256 != file_sha256(path):
            return False
        sidecar = sidecars.get(path.stem)
        if sidecar and document.meta.merged_with(sidecar) != document.meta:
            return False
    return True


def _refresh_metadata(writer, path: Path, doc_id: str, sidecars: dict[str, dict], known_paths: dict[str, str]) -> bool:
    """An unchanged file may have moved, or its sidecar metadata may have been edited; True when either did."""
    current = writer.document_meta(doc_id)
    sidecar = sidecars.get(doc_id)
    meta = current.merged_with(sidecar) if sidecar else current
    if meta != current or known_paths.get(doc_id) != str(path):
        writer.update_document_path(doc_id, str(path), meta)
        return True
    return False


def _count_chunks(index_dir: Path, generation: str) -> int:
    import sqlite3

    conn = sqlite3.connect(f"file:{index_dir / generation / 'scrutiny.db'}?mode=ro", uri=True)
    try:
        return conn.execute("SELECT coalesce(sum(chunks), 0) FROM documents").fetchone()[0]  # both backends' catalogs
    finally:
        conn.close()
