"""ingest_paths: files in, a new published index generation out.

Only new or changed files (by content hash) are parsed and embedded; documents
whose files have gone are dropped. Everything is written to a fresh generation
that replaces the current one atomically, so an interrupted run changes nothing.
"""
from __future__ import annotations

import hashlib
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable

import numpy as np

from core.records import Chunk, Document, DocumentMeta, ParsedDocument
from core.settings import Settings
from core.text import display_path, fold_characters, folded_offsets, has_undecodable_name

PAPER_SUFFIXES = {".pdf", ".txt", ".text", ".md", ".markdown", ".docx", ".html", ".htm"}
IGNORED_SUFFIXES = {".yaml", ".yml", ".json", ".jsonl", ".csv"}
# A folder of papers may describe itself; those notes are not papers.
IGNORED_STEMS = {"readme", "sources", "license", "changelog"}


@dataclass
class Skipped:
    path: str
    reason: str  # "<path>: <problem>", the path shown safely even when its name is not UTF-8


def skipped(path, problem: str) -> Skipped:
    return Skipped(display_path(path), f"{display_path(path)}: {problem}")


@dataclass
class IngestReport:
    files: int = 0
    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)
    repaired: list[str] = field(default_factory=list)  # damage found in the published index, rebuilt by this run
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

    def start(self, stage: str, total: int | None) -> None: ...  # total None: a stage with no count to show
    def extend(self, stage: str, amount: int) -> None: ...  # more work found for a stage already started
    def advance(self, stage: str, amount: int = 1) -> None: ...
    def finish(self, stage: str) -> None: ...
    def note(self, message: str) -> None: ...


def discover_files(paths: Iterable[Path]) -> list[Path]:
    """Paper files under `paths` in a stable order; sidecars and gold files are not papers."""
    return discover_papers(paths)[0]


def is_ignored_name(relative: Path) -> bool:
    """Hidden files, sidecars, gold files and a folder's notes about itself are not papers."""
    if any(part.startswith(".") for part in relative.parts):
        return True
    suffix = relative.suffix.lower()
    return suffix in IGNORED_SUFFIXES or relative.name.endswith(".meta.json") or relative.stem.lower() in IGNORED_STEMS


def discover_papers(paths: Iterable[Path]) -> tuple[list[Path], list[Skipped]]:
    """Paper files under `paths` (absolute, in a stable order), and every path passed over with the reason.

    Symbolic links are followed only to files inside the folder being ingested: a link leading
    elsewhere (to /etc/passwd), round in a loop or to nothing is reported and never read.
    """
    found: list[Path] = []
    passed_over: list[Skipped] = []
    for root in paths:
        root = Path(os.path.abspath(root))
        if not root.is_dir():
            if not is_ignored_name(Path(root.name)):
                problem = unusable_name_problem(root)
                found.append(root) if problem is None else passed_over.append(skipped(root, problem))
            continue
        files, problems = papers_in_folder(root)
        found += files
        passed_over += problems
    return found, passed_over


def papers_in_folder(root: Path) -> tuple[list[Path], list[Skipped]]:
    base = root.resolve()
    files: list[Path] = []
    passed_over: list[Skipped] = []

    def unreadable(error: OSError) -> None:
        passed_over.append(skipped(error.filename or root, f"folder cannot be read ({error.strerror})"))

    for folder, subfolders, names in os.walk(root, onerror=unreadable):
        folder = Path(folder)
        for name in sorted(subfolders):
            path = folder / name
            if is_ignored_name(path.relative_to(root)):
                continue
            if path.is_symlink():
                passed_over.append(skipped(path, folder_link_problem(path, base)))
            elif path.suffix.lower() in PAPER_SUFFIXES:
                passed_over.append(skipped(path, "a folder named like a paper, not a file; the papers inside it are read"))
        for name in names:
            path = folder / name
            relative = path.relative_to(root)
            if is_ignored_name(relative) or path.suffix.lower() not in PAPER_SUFFIXES:
                continue
            problem = link_problem(path, base) or unusable_name_problem(path)
            files.append(path) if problem is None else passed_over.append(skipped(path, problem))
    return sorted(files), sorted(passed_over, key=lambda s: s.path)


def link_problem(path: Path, base: Path) -> str | None:
    """Why `path` is not read as a paper (a link out of the corpus, a loop, a dangling link, not a file), or None."""
    if path.is_symlink():
        try:
            target = path.resolve(strict=True)
        except FileNotFoundError:
            return f"a symbolic link to nothing ({display_path(os.readlink(path))} does not exist)"
        except (RuntimeError, OSError):
            return "a symbolic link that leads round in a loop"
        if target != base and base not in target.parents:
            return (f"a symbolic link to {display_path(target)}, outside {display_path(base)}; "
                    "links are followed only within the folder being ingested")
        path = target
    if not path.is_file():
        return "not a regular file (a pipe, socket or device)"
    return None


def folder_link_problem(path: Path, base: Path) -> str:
    try:
        target = path.resolve(strict=True)
    except (RuntimeError, OSError):
        return "a symbolic link to a folder that does not exist or leads round in a loop"
    if target == base or base in target.parents:
        return f"a symbolic link to {display_path(target)}, whose papers are read where they are"
    return (f"a symbolic link to the folder {display_path(target)}, outside {display_path(base)}; "
            "links are followed only within the folder being ingested")


def unusable_name_problem(path: Path) -> str | None:
    if has_undecodable_name(path):
        return "the file's name is not valid UTF-8 (undecodable bytes shown as \\xNN); rename it to ingest it"
    return None


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def search_body(text: str) -> str:
    return fold_characters(text)


def search_context(meta: DocumentMeta, doc_id: str, section: str | None, spelled_out: list[str] = ()) -> str:
    """Words about a chunk that are not in it: council, meeting, paper, year, section, and the spelled-out
    form of acronyms it uses that its paper defines elsewhere ("HNB": "High Needs Block")."""
    year = (meta.date or "")[:4]
    parts = [meta.authority, meta.committee, meta.title, meta.reference, year, section, *spelled_out]
    return fold_characters(" ".join(p for p in parts if p))


def embedding_prefix(meta: DocumentMeta, chunk: Chunk) -> str:
    """Council and section, embedded ahead of a chunk's text so its vector knows where it comes from."""
    heading = " - ".join(p for p in (meta.authority, chunk.section) if p)
    return fold_characters(f"{heading}: ") if heading else ""


def embedding_text(meta: DocumentMeta, chunk: Chunk) -> str:
    return embedding_prefix(meta, chunk) + fold_characters(chunk.text)


def embedded_unit_spans(meta: DocumentMeta, chunk: Chunk) -> list[tuple[int, int]]:
    """Where each sentence of the chunk (as the answer step splits it) lies in the chunk's embedding text."""
    from index.units import row_lines_of, sentence_units

    shift = len(embedding_prefix(meta, chunk))
    offsets = folded_offsets(chunk.text)
    return [(shift + offsets[start], shift + offsets[end]) for start, end in sentence_units(chunk.text, row_lines_of(chunk))]


def prepare_document(path: Path, sha: str, sidecars: dict[str, dict], settings: Settings) -> PreparedDocument:
    """Parse, chunk and describe one file; raises ParseError for a file that cannot be read."""
    from ingest.acronyms import acronym_expansions, defined_acronyms
    from ingest.chunk import chunk_blocks
    from ingest.metadata import detect_metadata, resolve_metadata
    from ingest.parse import parse_file
    from ingest.structure import blocks_from_document

    parsed: ParsedDocument = parse_file(path, settings.ingest, settings.ocr)
    meta = resolve_metadata(detect_metadata(parsed), sidecars.get(parsed.doc_id))
    chunks = chunk_blocks(parsed.doc_id, blocks_from_document(parsed), settings.chunk)
    glossary = defined_acronyms("\n".join(c.text for c in chunks))
    document = Document(
        doc_id=parsed.doc_id, path=str(path), format=parsed.format, sha256=sha,
        pages=len(parsed.pages) if parsed.has_pages else None, chunks=len(chunks), meta=meta, ocr_pages=parsed.ocr_pages,
    )
    return PreparedDocument(
        document=document,
        chunks=chunks,
        bodies=[search_body(c.text) for c in chunks],
        contexts=[search_context(meta, parsed.doc_id, c.section, acronym_expansions(c.text, glossary)) for c in chunks],
        embed_texts=[embedding_text(meta, c) for c in chunks],
        unit_spans=[embedded_unit_spans(meta, c) for c in chunks],
    )


def prepared_with_statements(path: Path, sha: str, sidecars: dict[str, dict], settings: Settings, statements: bool) -> PreparedDocument:
    """prepare_document, refusing a file without text, plus (when `statements`) the register's statements and
    where they lie in its chunks. Runs where the file is read: the parse child process, or a Ray task."""
    from ingest.parse import ParseError

    item = prepare_document(path, sha, sidecars, settings)
    if not item.chunks:
        raise ParseError(path, "no text found")
    if statements:
        from commitments.register import statement_spans

        item.extracted, item.statements = statement_spans(item.document.doc_id, item.document.meta, item.chunks, item.embed_texts)
    return item


class ParseAhead:
    """Reads the files to ingest a few ahead of the one asked for, so the model encodes one group of papers
    while the next are read (torch does its work outside the GIL). A thread feeds them one at a time to the
    child process that reads files within limits (ingest.worker.ParseWorker)."""

    def __init__(self, jobs: list[tuple[Path, str]], sidecars: dict[str, dict], settings: Settings, statements: bool, ahead: int = 8):
        from concurrent.futures import ThreadPoolExecutor

        from ingest.worker import ParseWorker

        self._jobs = list(jobs)
        self._worker = ParseWorker(settings)
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="parse")
        self._submit = lambda path, sha: self._pool.submit(self._worker.prepare, path, sha, sidecars, statements)
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
        """The prepared file, or the ParseError reading it raised; files must be asked for in order."""
        future = self._futures.pop(path)
        self._fill()
        return future.result()

    def close(self) -> None:
        """Stop reading: files not yet started are dropped, and one being read (the ingest stopped early) is abandoned."""
        self._pool.shutdown(wait=False, cancel_futures=True)
        if any(not future.done() for future in self._futures.values()):
            self._worker.interrupt()
        self._pool.shutdown(wait=True)
        self._worker.close()


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
    """Writes embedded papers, and keeps what the embedding stage hands on to the commitments register:
    the statements found while parsing and the vectors it pooled for them."""

    def __init__(self, writer, progress: Progress, report: IngestReport):
        self.writer, self.progress, self.report = writer, progress, report
        self.statement_vectors: dict[str, np.ndarray] = {}
        self.extractions: dict[str, tuple] = {}

    def register_inputs(self, settings: Settings) -> dict:
        """Keyword arguments for the register (commitments.register.index_commitments): the statements extracted
        while parsing, and their pooled vectors when `commitments.pooled_vectors` is on."""
        pooled = self.statement_vectors if settings.commitments.pooled_vectors else {}
        return {"known_vectors": pooled, "known_extractions": self.extractions}

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
            self.progress.advance("store")
            if item.extracted is not None:
                for statement in [*item.extracted[0], *item.extracted[1]]:
                    statement.chunk_id = item.chunks[statement.chunk_id].chunk_id
                self.extractions[item.document.doc_id] = item.extracted


class GroupEmbedding(Written):
    """Parsed papers wait here until a few batches' worth of chunks have gathered; then they are encoded
    together (batches sorted by length waste little on padding) and written, in the order they arrived.
    The first group is one batch, so the model starts as soon as one batch's worth is parsed."""

    def __init__(self, embedder, writer, progress: Progress, report: IngestReport):
        super().__init__(writer, progress, report)
        self.embedder = embedder
        self.group = embedder.settings.batch_size
        self.waiting: list[PreparedDocument] = []

    def add(self, item: PreparedDocument) -> None:
        self.waiting.append(item)
        self.progress.extend("embed", len(item.chunks))
        self.progress.extend("store", 1)
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
    allow_shrink: bool = False,
    runner=None,
) -> IngestReport:
    """Bring the index up to date with the papers under `paths` and publish it.

    `commitments` extracts the commitments register from the changed papers (True: the
    built-in extractor; a callable: that one; False: skip it). An index that would keep
    less than `ingest.max_drop_share` of its papers is not published unless `allow_shrink`.
    Failures writing the index (permissions, a full disk) raise IndexUnwritable, one line.
    `runner` parses and embeds (LocalRunner, the default, or ingest.cluster.RayRunner).
    """
    import sqlite3

    from index.store import IndexUnwritable, unwritable_message, writer_lock

    progress = progress or Progress()
    started = time.perf_counter()
    report = IngestReport()
    paths = [Path(p) for p in paths]
    for path in paths:
        if not path.exists():
            raise FileNotFoundError(f"{display_path(path)}: no such file or folder")
    files, passed_over = discover_papers(paths)
    for item in passed_over:
        progress.note(item.reason)
    report.skipped.extend(passed_over)
    sidecars, sidecar_problems = load_sidecars(files)
    report.skipped.extend(sidecar_problems)
    report.files = len(files)
    index_dir = Path(settings.index_dir)
    try:
        with writer_lock(index_dir, wait=wait):
            _ingest_locked(report, files, paths, sidecars, settings, embedder, progress, strict, rebuild, commitments,
                           allow_shrink, runner or LocalRunner())
    except (OSError, sqlite3.Error) as exc:
        raise IndexUnwritable(unwritable_message(exc, index_dir, published=report.generation is not None)) from exc
    report.seconds = time.perf_counter() - started
    return report


def _ingest_locked(report: IngestReport, files: list[Path], paths: list[Path], sidecars: dict[str, dict], settings: Settings,
                   embedder, progress: Progress, strict: bool, rebuild: bool, commitments, allow_shrink: bool, runner) -> None:
    from decisions.trail import index_decisions
    from index.backend import open_builder
    from index.lexical import LEXICAL_NAME
    from index.store import DB_NAME, VECTORS_NAME, generation_damage, read_current

    index_dir = Path(settings.index_dir)
    snapshot = {"chunking": settings.chunk.snapshot()}
    damage = generation_damage(index_dir)
    if damage:
        report.repaired = [f"{name}: {problem}" for name, problem in damage.items()]
        # FAISS and BM25 are rebuilt from the database at every publish; only a damaged database needs the papers again.
        whole = DB_NAME in damage or not set(damage) <= {VECTORS_NAME, LEXICAL_NAME}
        progress.note(f"the published index at {index_dir} is damaged ({'; '.join(report.repaired)}); "
                      + ("rebuilding it from the papers" if whole else "rebuilding its vectors and BM25 from its database"))
        rebuild = rebuild or whole
    elif not rebuild and index_is_up_to_date(index_dir, files, sidecars, embedder.name, snapshot, settings.backend.kind):
        report.unchanged = [f.stem for f in files]
        report.generation = read_current(index_dir)
        report.chunks_total = _count_chunks(index_dir, report.generation)
        return
    writer = open_builder(settings, embedder.name, embedder.dimension, fresh=rebuild)
    try:
        before = writer.previous_document_count()
        if commitments is True:
            from commitments.register import index_commitments as commitments
        prepared, metadata_changed, embedding = _parse_and_embed(report, files, sidecars, settings, writer, embedder, progress,
                                                                 strict, runner, statements=bool(commitments))
        roots = [p.resolve() for p in paths]
        present = {f.stem for f in files}
        for doc_id, old_path in writer.document_paths().items():
            if doc_id not in present and _under(old_path, roots) and not Path(old_path).exists():
                writer.delete_document(doc_id)
                report.removed.append(doc_id)

        if not prepared and not report.removed and not metadata_changed and writer.reused_previous and not damage:
            # Nothing to do: keep the current generation rather than publish an identical copy.
            writer.abandon()
            report.generation = writer.previous
            report.chunks_total = _count_chunks(index_dir, writer.previous)
            return

        changed = [item.document.doc_id for item in prepared]
        if commitments:
            progress.start("commitments", None)
            commitments(writer, changed, embedder, **embedding.register_inputs(settings))
            progress.finish("commitments")
        index_decisions(writer, changed)
        check_shrink(before, writer.document_count(), index_dir, paths, settings.ingest.max_drop_share, allow_shrink)
        progress.start("publish", None)
        report.generation = writer.publish()
        progress.finish("publish")
        report.chunks_total = _count_chunks(index_dir, report.generation)
    except BaseException:
        writer.abandon()
        raise


def file_hashes(files: list[Path]) -> dict[Path, str | OSError]:
    """Each file's content hash, or the error reading it gave (reported with the file in its turn)."""
    hashes: dict[Path, str | OSError] = {}
    for path in files:
        try:
            hashes[path] = file_sha256(path)
        except OSError as exc:
            hashes[path] = exc
    return hashes


def _parse_and_embed(report: IngestReport, files: list[Path], sidecars: dict[str, dict], settings: Settings, writer, embedder,
                     progress: Progress, strict: bool, runner, statements: bool) -> tuple[list[PreparedDocument], bool, "Written"]:
    """Every new or changed file read and chunked (by the runner's parser, a few files ahead) and embedded and
    written as groups of them gather; unchanged ones only re-described."""
    from ingest.parse import ParseError

    known = writer.document_hashes()
    known_paths = writer.document_paths()
    hashes = file_hashes(files)
    first_of_id = {path.stem: path for path in reversed(files)}  # a second file with the same id is refused below
    to_parse = [(path, sha) for path, sha in hashes.items()
                if isinstance(sha, str) and known.get(path.stem) != sha and first_of_id[path.stem] == path]
    seen_ids: dict[str, Path] = {}
    prepared: list[PreparedDocument] = []
    metadata_changed = False
    progress.start("parse", len(files))
    progress.start("embed", 0)
    progress.start("store", 0)
    ahead = runner.parser(to_parse, sidecars, settings, statements)
    try:
        embedding = runner.embedding(embedder, writer, progress, report)
        for path in files:
            progress.advance("parse")
            doc_id = path.stem
            if doc_id in seen_ids:
                problem = f"same document id {doc_id!r} as {display_path(seen_ids[doc_id])}; rename one of them"
                report.skipped.append(skipped(path, problem))
                progress.note(report.skipped[-1].reason)
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
            except (ParseError, OSError) as exc:
                error = exc if isinstance(exc, ParseError) else ParseError(path, exc.strerror or str(exc))
                if strict:
                    raise error from exc
                report.skipped.append(Skipped(error.path, str(error)))
                progress.note(str(error))
                # A file that fails keeps its previous version in the index rather than vanishing.
                continue
            (report.updated if doc_id in known else report.added).append(doc_id)
            prepared.append(item)
            embedding.add(item)  # encodes and writes once a group's worth of chunks has gathered
        embedding.flush()
    finally:
        ahead.close()
    return prepared, metadata_changed, embedding


def check_shrink(before: int | None, after: int, index_dir: Path, paths: list[Path], max_drop_share: float,
                 allow_shrink: bool) -> None:
    """Refuse to publish an index that drops more than `max_drop_share` of the papers (an unmounted share looks empty)."""
    from index.store import IndexShrinkRefused

    if allow_shrink or not before or before - after <= max_drop_share * before:
        return
    folders = ", ".join(display_path(p) for p in paths)
    raise IndexShrinkRefused(
        f"this ingest would drop {before - after} of the {before} papers in the index at {index_dir}, leaving {after}; "
        f"nothing was published. Check that {folders} holds the papers (an unmounted share reads as an empty folder), "
        f"or run the ingest again with --allow-shrink to publish it"
    )


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
