"""`make bench`: ingest, query, vector-index, start-up and load figures, each beside its target.

    python -m bench.run [--quick] [--skip load,kill,...]

Writes bench/results/latest.md and latest.json. Sections: tables (the table stage's CPU time against
pypdf's text extraction of the same PDFs), ingest, startup, query (latency at the real corpus and at a
synthetic 100,000-chunk index, the in-process floor, and the server's memory), concurrency (p95
with 1 client and with 20, and their ratio), ann (flat against IVF and HNSW up to 1,000,000
vectors), scale (the ingest ratios, a Ray ingest, Milvus Lite against the embedded index), load, kill.
"""
from __future__ import annotations

import argparse
import contextlib
import http.client
import json
import math
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterator

import numpy as np

from bench.figures import BenchReport, Figure, Target, figure_line, now_text, percentile, this_machine, write_results
from bench.load import free_port, stop_server

ROOT = Path(__file__).resolve().parent.parent
RESULTS_DIR = Path(__file__).resolve().parent / "results"
SCRUTINY = Path(sys.executable).parent / "scrutiny"
SECTIONS = ("tables", "ingest", "startup", "query", "concurrency", "ann", "scale", "load", "kill")
CONCURRENT_CLIENTS = 20
CONCURRENCY_RATIO_TARGET = 4.0  # 20-client p95 within 4x the single-client p95
SERVER_START_TIMEOUT = 240.0
FLAT_P95_LIMIT_MS = 20.0  # of the 50 ms an answer may take at 100k, what exact search may use
QUERY_P95_TARGET_MS = 50.0
RSS_TARGET_MB = 1.2 * 1024
TABLE_STAGE_RATIO = 0.55  # a fifth of the pdfminer-based stage's 2.75 × pypdf's text extraction
HANDWRITTEN_QUESTIONS = (
    "What did Kent's cabinet decide about family hubs?",
    "What is the forecast overspend in the quarter 3 finance monitoring report?",
    "Why was the family hubs decision called in?",
    "How many children in care does Kent have?",
    "What does the education commissioning plan say about school places?",
    "Which indicators were rated red in the quarterly performance report?",
    "What is the 18-25 strengthening independence service?",
    "Who chaired the corporate parenting panel?",
    "What are the priorities of the integrated care strategy?",
    "What questions were asked at the council meeting in March 2025?",
)


@dataclass
class Plan:
    """How much each section measures; --quick trims every size and count."""

    quick: bool
    skip: set[str]
    repeats: int = 3
    ingest_runs: int = 3
    requests_real: int = 200  # per run
    requests_synthetic: int = 1000  # across all runs, so memory is read after 1,000 requests
    query_seconds: float = 300.0  # time box for each index's HTTP requests; a slow answer path ends a run early
    synthetic_chunks: int = 100_000
    ann_sizes: tuple[int, ...] = (50_000, 100_000, 200_000, 500_000, 1_000_000)
    hnsw_sizes: tuple[int, ...] = (200_000, 1_000_000)
    hnsw_budget_seconds: float = 1800.0
    ann_queries: int = 200
    help_runs: int = 5
    ask_cold_runs: int = 3
    load_seconds: int = 60
    load_clients: int = 32
    concurrency_seconds: int = 30
    concurrency_single_requests: int = 200
    kill_runs: int = 20

    def runs(self, section: str) -> bool:
        return section not in self.skip


def plan_for(quick: bool, skip: set[str]) -> Plan:
    if not quick:
        return Plan(quick=False, skip=skip)
    return Plan(
        quick=True, skip=skip, repeats=3, ingest_runs=2, requests_real=60, requests_synthetic=300, query_seconds=90.0,
        ann_sizes=(50_000, 100_000, 200_000), hnsw_sizes=(200_000,), hnsw_budget_seconds=240.0,
        ann_queries=100, help_runs=5, ask_cold_runs=2, load_seconds=10, load_clients=4, kill_runs=3,
        concurrency_seconds=10, concurrency_single_requests=60,
    )


@dataclass
class Bench:
    """What the sections share: the plan, the report, a scratch folder, and the warm model."""

    plan: Plan
    report: BenchReport
    workdir: Path
    corpus_dir: Path
    corpus_index: Path | None = None
    _embedder: object = None
    extras: dict = field(default_factory=dict)

    @property
    def embedder(self):
        if self._embedder is None:
            from core.settings import load_settings
            from ingest.embed import Embedder

            self._embedder = Embedder(load_settings().embed)
            self._embedder.encode(["warm up"])
        return self._embedder

    def record(self, figure: Figure) -> Figure:
        self.report.figures.append(figure)
        print(figure_line(figure), flush=True)
        return figure

    def note(self, text: str) -> None:
        self.report.notes.append(text)
        print(f"  note: {text}", flush=True)


# helpers ------------------------------------------------------------------

def rss_mb(pid: int) -> float:
    """Resident memory of a process in MB; NaN once it has gone, so a figure is missing rather than the run."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return math.nan


def milliseconds(seconds: list[float]) -> list[float]:
    return [s * 1000 for s in seconds]


def timed(call: Callable[[], object]) -> float:
    started = time.perf_counter()
    call()
    return time.perf_counter() - started


def latency_figures(section: str, label: str, runs: list[list[float]], targets: dict[int, list[Target]] | None = None, note: str = "") -> list[Figure]:
    """p50/p95/p99 of each run's latencies (ms), as three figures whose runs are the per-run percentiles."""
    targets = targets or {}
    return [
        Figure(section, f"{label} p{q}", "ms", [percentile(run, q) for run in runs], targets.get(q, []), note)
        for q in (50, 95, 99)
    ]


def bench_questions(count: int, seed: int = 7) -> list[str]:
    """Hand-written questions first, then distinct ones built from corpus sentences (so the query cache rarely hits)."""
    from bench.synthetic import corpus_sentences, questions_from_sentences

    texts = [p.read_text(errors="ignore") for p in sorted((ROOT / "corpus").glob("*.txt"))]
    generated = questions_from_sentences(corpus_sentences(texts), count, np.random.default_rng(seed))
    return list(dict.fromkeys([*HANDWRITTEN_QUESTIONS, *generated]))[:count]


# the real corpus index ----------------------------------------------------

def ingested_index(bench: Bench, index_dir: Path, rebuild: bool = True, commitments: bool = True):
    from core.settings import load_settings
    from ingest.pipeline import ingest_paths

    settings = load_settings(index_dir)
    return ingest_paths([bench.corpus_dir], settings, bench.embedder, rebuild=rebuild, commitments=commitments)


def corpus_index(bench: Bench) -> Path:
    """The real corpus ingested once (by the ingest section when it ran, untimed otherwise)."""
    if bench.corpus_index is None:
        index_dir = bench.workdir / "corpus-index"
        report = ingested_index(bench, index_dir)
        if report.skipped:
            bench.note(f"{len(report.skipped)} corpus files were skipped by ingest: {report.skipped[0].reason}")
        bench.corpus_index = index_dir
    return bench.corpus_index


def embedding_texts(index_dir: Path) -> list[str]:
    """The texts ingest embedded, rebuilt from the index: the same strings in the same order."""
    from index.store import IndexReader
    from ingest.pipeline import embedding_text

    reader = IndexReader.open(index_dir)
    texts = []
    for document in sorted(reader.documents(), key=lambda d: d.path):
        texts += [embedding_text(document.meta, chunk) for chunk in reader.chunks_of(document.doc_id)]
    return texts


# sections ------------------------------------------------------------------

def run_ingest(bench: Bench) -> None:
    end_to_end, raw, ratios, embed_only, unchanged, chunks = [], [], [], [], [], 0
    core_ratios = []
    batch = bench.embedder.settings.batch_size
    for run in range(bench.plan.ingest_runs):
        index_dir = bench.workdir / f"ingest-{run}"
        report = ingested_index(bench, index_dir)
        chunks = report.chunks_embedded
        texts = embedding_texts(index_dir)
        raw_seconds = timed(lambda: bench.embedder.model.encode(texts, batch_size=batch, normalize_embeddings=True,
                                                                 convert_to_numpy=True, show_progress_bar=False))
        end_to_end.append(report.chunks_embedded / report.seconds)
        embed_only.append(report.chunks_embedded / report.embed_seconds)
        raw.append(len(texts) / raw_seconds)
        ratios.append(end_to_end[-1] / raw[-1])
        core_dir = bench.workdir / f"ingest-core-{run}"
        core = ingested_index(bench, core_dir, commitments=False)
        core_ratios.append(core.chunks_embedded / core.seconds / raw[-1])
        shutil.rmtree(core_dir, ignore_errors=True)
        unchanged.append(timed(lambda: ingested_index(bench, index_dir, rebuild=False)))
        if bench.corpus_index is None:
            bench.corpus_index = index_dir
        elif index_dir != bench.corpus_index:
            shutil.rmtree(index_dir, ignore_errors=True)
    note = f"{chunks} chunks, batch {batch}, model warm"
    bench.record(Figure("ingest", "ingest_paths end to end (fresh index)", "chunks/s", end_to_end, note=note))
    bench.record(Figure("ingest", "ingest's own embedding step", "chunks/s", embed_only))
    bench.record(Figure("ingest", "sentence-transformers encode alone, same texts and batch size", "chunks/s", raw))
    bench.record(Figure("ingest", "end to end / raw encode", "ratio", ratios, [Target(">=", 0.85)]))
    bench.record(Figure("ingest", "without the commitments register / raw encode", "ratio", core_ratios,
                        note="parse, chunk, embed, SQLite, BM25 and FAISS only: the register embeds its statements too"))
    bench.record(Figure("ingest", "no-change re-ingest (in process)", "s", unchanged, [Target("<", 2.0)]))
    cli = [timed(lambda: subprocess.run([str(SCRUTINY), "ingest", str(bench.corpus_dir), "--index", str(bench.corpus_index), "--quiet"],
                                        check=True, capture_output=True)) for _ in range(bench.plan.repeats)]
    bench.record(Figure("ingest", "no-change `scrutiny ingest` (new process)", "s", cli,
                        note="a new Python process each time"))


def run_tables(bench: Bench) -> None:
    """The table stage's CPU time against pypdf's text extraction of the same PDFs, per page and over the corpus.

    CPU time (time.process_time), not wall time: the machine is shared, and the stage runs in this process only.
    """
    from ingest.parse import read_pdf

    papers = sorted(bench.corpus_dir.glob("*.pdf"))
    pages = 0
    text_only, with_tables = [], []
    for _ in range(bench.plan.repeats):
        plain = full = 0.0
        pages = 0
        for path in papers:
            started = time.process_time()
            text, _, _, _ = read_pdf(path, tables=False)
            plain += time.process_time() - started
            started = time.process_time()
            read_pdf(path)
            full += time.process_time() - started
            pages += len(text)
        text_only.append(plain)
        with_tables.append(full)
    stage = [full - plain for full, plain in zip(with_tables, text_only)]
    note = f"{len(papers)} PDFs, {pages} pages, CPU seconds; PDFium reads only the pages the pre-check picks"
    bench.record(Figure("tables", "pypdf text extraction (baseline), CPU", "s/page", [t / pages for t in text_only], note=note))
    bench.record(Figure("tables", "table stage (pre-check, PDFium, finders, joining), CPU", "s/page", [t / pages for t in stage]))
    bench.record(Figure("tables", "pypdf text extraction, whole corpus, CPU", "s", text_only))
    bench.record(Figure("tables", "table stage, whole corpus, CPU", "s", stage, [Target("<", 20.0)]))
    bench.record(Figure("tables", "table stage / pypdf text extraction", "ratio", [a / b for a, b in zip(stage, text_only)],
                        [Target("<", TABLE_STAGE_RATIO)], note="pdfminer-based stage measured 2.75 this way (docs/tables.md)"))


def run_startup(bench: Bench) -> None:
    help_times = [timed(lambda: subprocess.run([str(SCRUTINY), "--help"], check=True, capture_output=True))
                  for _ in range(bench.plan.help_runs)]
    bench.record(Figure("startup", "`scrutiny --help` wall time", "s", help_times, [Target("<", 0.5)]))
    index_dir = corpus_index(bench)
    ask = [str(SCRUTINY), "ask", HANDWRITTEN_QUESTIONS[0], "--index", str(index_dir)]
    alone = [seconds_to_first_line([*ask, "--no-server"]) for _ in range(bench.plan.ask_cold_runs)]
    baseline = bench.record(Figure("startup", "`scrutiny ask` cold, no server: first answer line", "s", alone,
                                   note="loads the model in the process"))
    with running_server(index_dir, bench.workdir / "serve-for-ask.log"):
        reused = [seconds_to_first_line(ask) for _ in range(bench.plan.ask_cold_runs)]
        same = all(answer_json([*ask, "--json", "--no-server", "--mode", mode]) == answer_json([*ask, "--json", "--mode", mode])
                   for mode in ("hybrid", "bm25"))
    bench.record(Figure("startup", "`scrutiny ask` cold, `scrutiny serve` running: first answer line", "s", reused,
                        [Target("<", 2.0)],
                        note=f"{baseline.median / statistics.median(reused):.0f}x faster than without a server; "
                             f"answers {'identical' if same else 'DIFFERENT'} to the in-process ones"))
    if not same:
        raise RuntimeError("scrutiny ask gave a different answer through the server than in the process")


def answer_json(command: list[str]) -> dict:
    done = subprocess.run(command, check=True, capture_output=True, text=True)
    return json.loads(done.stdout)


def seconds_to_first_line(command: list[str]) -> float:
    started = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    first = process.stdout.readline()
    seconds = time.perf_counter() - started
    process.stdout.read()
    if process.wait() != 0 or not first.strip():
        raise RuntimeError(f"{' '.join(command)} failed (exit {process.returncode})")
    return seconds


@dataclass
class Server:
    process: subprocess.Popen
    port: int
    log: Path

    def rss_mb(self) -> float:
        return rss_mb(self.process.pid)

    def log_tail(self) -> str:
        return "\n".join(self.log.read_text(errors="ignore").splitlines()[-20:])


@contextlib.contextmanager
def running_server(index_dir: Path, log: Path, options: tuple[str, ...] = ()) -> Iterator[Server]:
    """`scrutiny serve` on a free loopback port, waited for until /api/health answers."""
    port = free_port()
    with open(log, "w") as handle:
        process = subprocess.Popen([str(SCRUTINY), "serve", "--index", str(index_dir), "--port", str(port), *options],
                                   stdout=handle, stderr=subprocess.STDOUT, cwd=ROOT)
    server = Server(process, port, log)
    try:
        deadline = time.monotonic() + SERVER_START_TIMEOUT
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"scrutiny serve exited with {process.returncode}:\n{server.log_tail()}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"scrutiny serve did not answer within {SERVER_START_TIMEOUT:.0f} s:\n{server.log_tail()}")
            with contextlib.suppress(OSError, http.client.HTTPException):
                connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
                connection.request("GET", "/api/health")
                response = connection.getresponse()
                health = json.loads(response.read() or b"{}")
                connection.close()
                if response.status == 200 and health.get("index_loaded"):
                    break
            time.sleep(0.2)
        yield server
    finally:
        stop_server(process)


def ask_latencies(port: int, questions: list[str], budget: float = math.inf) -> list[float]:
    """Seconds per `POST /api/ask`, one keep-alive connection, one request at a time, until `budget` seconds pass."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    headers = {"Content-Type": "application/json"}
    seconds = []
    deadline = time.monotonic() + budget
    try:
        for question in questions:
            if time.monotonic() > deadline:
                break
            body = json.dumps({"question": question})
            started = time.perf_counter()
            connection.request("POST", "/api/ask", body, headers)
            response = connection.getresponse()
            payload = response.read()
            seconds.append(time.perf_counter() - started)
            if response.status != 200:
                raise RuntimeError(f"POST /api/ask {question!r}: {response.status} {payload[:200]!r}")
    finally:
        connection.close()
    return seconds


def backend_options(settings) -> tuple[str, ...]:
    """The command-line options that select `settings`' backend."""
    if settings is None or settings.backend.kind == "embedded":
        return ()
    from index.milvus import milvus_uri

    return ("--backend", settings.backend.kind, "--milvus-uri", milvus_uri(settings))


def floor_latencies(index_dir: Path, embedder, questions: list[str], settings=None) -> list[float]:
    """Seconds per question for query encode + dense search + BM25 search alone, in process."""
    from core.settings import load_settings
    from index.backend import open_view
    from index.query import analyse_question, lexical_query

    settings = settings or load_settings(index_dir)
    reader = open_view(settings)
    limit = settings.retrieval.candidates
    reader.dense(embedder.encode_query("warm up"), None, limit)
    seconds = []
    for question in questions:
        started = time.perf_counter()
        vector = embedder.encode_query(question)
        reader.dense(vector, None, limit)
        reader.bm25(lexical_query(analyse_question(question)), None, limit)
        seconds.append(time.perf_counter() - started)
    return seconds


def split_runs(questions: list[str], runs: int) -> list[list[str]]:
    size = math.ceil(len(questions) / runs)
    return [questions[i : i + size] for i in range(0, len(questions), size)]


def measure_queries(bench: Bench, label: str, index_dir: Path, questions: list[str], memory: bool, settings=None,
                    section: str = "query") -> None:
    """HTTP latency through a real server, then the in-process floor on the same questions."""
    warm, measured = questions[:5], questions[5:]
    runs = split_runs(measured, bench.plan.repeats)
    budget = bench.plan.query_seconds / len(runs)
    with running_server(index_dir, bench.workdir / f"serve-{label}.log", backend_options(settings)) as server:
        started_rss = server.rss_mb()
        ask_latencies(server.port, warm)
        http_runs = [milliseconds(ask_latencies(server.port, run, budget)) for run in runs]
        after_rss = server.rss_mb()
    asked = sum(len(run) for run in http_runs)
    if asked < len(measured):
        bench.note(f"{label}: the {bench.plan.query_seconds:.0f} s time box ended the HTTP runs after {asked} of {len(measured)} requests")
    if settings is not None and settings.backend.kind == "milvus":
        from index.milvus import release_lite

        release_lite(settings)  # the server has let go of the Lite folder; the floor opens it here
    floor_runs = [milliseconds(floor_latencies(index_dir, bench.embedder, run[: len(timed_run)], settings))
                  for run, timed_run in zip(runs, http_runs)]
    if settings is not None and settings.backend.kind == "milvus":
        release_lite(settings)
    floor_p95 = statistics.median(percentile(run, 95) for run in floor_runs)
    targets = {95: [Target("<=", round(2 * floor_p95, 1), "2 × floor p95")]}
    if label == "100k":
        targets[95].insert(0, Target("<=", QUERY_P95_TARGET_MS))
    note = f"{asked // len(runs)} distinct questions per run"
    for figure in latency_figures(section, f"POST /api/ask, {label}", http_runs, targets, note):
        bench.record(figure)
    for figure in latency_figures(section, f"floor (encode+dense+BM25), {label}", floor_runs):
        bench.record(figure)
    if memory:
        requests = len(warm) + asked
        bench.record(Figure("memory", f"server RSS after start-up, {label}", "MB", [started_rss], [Target("<=", RSS_TARGET_MB, "1.2 GB")]))
        bench.record(Figure("memory", f"server RSS after {requests} requests, {label}", "MB", [after_rss], [Target("<=", RSS_TARGET_MB, "1.2 GB")]))
        bench.record(Figure("memory", f"RSS growth over {requests} requests, {label}", "%", [100 * (after_rss / started_rss - 1)], [Target("<=", 10.0)]))


def run_query(bench: Bench) -> None:
    from bench.synthetic import CHUNK_NOISE, build_synthetic_index, source_corpus
    from core.settings import load_settings

    index_dir = corpus_index(bench)
    plan = bench.plan
    questions = bench_questions(5 + plan.requests_real * plan.repeats + 5 + plan.requests_synthetic)
    real_questions = questions[: 5 + plan.requests_real * plan.repeats]
    synthetic_questions = questions[len(real_questions) :]
    measure_queries(bench, "corpus", index_dir, real_questions, memory=True)

    synthetic_dir = bench.workdir / "synthetic-index"
    settings = load_settings(synthetic_dir)
    built = build_synthetic_index(synthetic_dir, source_corpus(index_dir), plan.synthetic_chunks, settings)
    bench.note(
        f"synthetic index: {built.chunks:,} chunks in {built.documents} documents, built through IndexWriter in "
        f"{built.seconds:.0f} s; text is the corpus' sentences recombined; embeddings are sampled real chunk "
        f"embeddings plus Gaussian noise (norm {CHUNK_NOISE}), re-normalised, not model output"
    )
    label = f"{plan.synthetic_chunks // 1000}k"
    measure_queries(bench, label, synthetic_dir, synthetic_questions, memory=True)
    shutil.rmtree(synthetic_dir, ignore_errors=True)


# flat against HNSW ----------------------------------------------------------

def search_latencies(index, queries: np.ndarray, k: int, threads: int = 1) -> list[float]:
    """Seconds per single-query search, with OpenMP threads as IndexReader.dense sets them (one)."""
    import faiss

    previous = faiss.omp_get_max_threads()
    faiss.omp_set_num_threads(threads)
    seconds = []
    try:
        for row in queries:
            query = row.reshape(1, -1)
            started = time.perf_counter()
            index.search(query, k)
            seconds.append(time.perf_counter() - started)
    finally:
        faiss.omp_set_num_threads(previous)
    return seconds


def recall_at(found: np.ndarray, truth: np.ndarray, k: int = 10) -> float:
    hits = sum(len(set(f[:k].tolist()) & set(t[:k].tolist())) for f, t in zip(found, truth))
    return hits / (k * len(truth))


def crossing_size(sizes: list[int], p95s: list[float], limit: float) -> int:
    """Vector count where flat p95 reaches `limit`, from a least-squares line (flat search is linear in n)."""
    slope, intercept = np.polyfit(np.array(sizes, dtype=float), np.array(p95s), 1)
    if slope <= 0:
        return max(sizes)
    return int(max(0.0, (limit - intercept) / slope))


def run_ann(bench: Bench) -> None:
    import faiss

    from bench.synthetic import VECTOR_NOISE, mixed_unit_vectors, source_corpus
    from core.settings import load_settings
    from index.store import build_faiss_index

    plan = bench.plan
    faiss.omp_set_num_threads(len(os.sched_getaffinity(0)))  # builds use every core; searches set one thread
    index_dir = corpus_index(bench)
    base = source_corpus(index_dir).vectors
    queries = bench.embedder.encode(bench_questions(plan.ann_queries, seed=11))
    k = load_settings().retrieval.candidates
    largest = max(plan.ann_sizes)
    vectors = mixed_unit_vectors(base, largest, VECTOR_NOISE, np.random.default_rng(3))
    ids = np.arange(largest, dtype=np.int64)
    bench.note(
        f"ann: {largest:,} × {vectors.shape[1]} float32 vectors, each a random blend of two of {len(base):,} real chunk "
        f"embeddings plus Gaussian noise (norm {VECTOR_NOISE}), re-normalised; {len(queries)} real query vectors "
        f"(encoded questions); single-query search for k={k}; faiss OpenMP threads {faiss.omp_get_max_threads()}"
    )
    flat_p95: dict[int, float] = {}
    hnsw_spent, last_build = 0.0, None
    for size in plan.ann_sizes:
        flat = build_faiss_index(ids[:size], vectors[:size], vectors.shape[1], ann_threshold=size)
        _, truth = flat.search(queries, 10)
        runs = [milliseconds(search_latencies(flat, queries, k)) for _ in range(plan.repeats)]
        figures = latency_figures("ann", f"flat {size // 1000}k", runs)[:2]
        for figure in figures:
            bench.record(figure)
        flat_p95[size] = figures[1].median
        if size == plan.ann_sizes[min(1, len(plan.ann_sizes) - 1)]:
            threads = faiss.omp_get_max_threads()
            runs = [milliseconds(search_latencies(flat, queries, k, threads)) for _ in range(plan.repeats)]
            for figure in latency_figures("ann", f"flat {size // 1000}k, {threads} OpenMP threads", runs)[:2]:
                bench.record(figure)
        del flat
        if size not in plan.hnsw_sizes:
            continue
        if last_build is not None:
            predicted = last_build[1] * size / last_build[0] * 1.2
            if hnsw_spent + predicted > plan.hnsw_budget_seconds:
                bench.note(f"ANN indexes at {size:,} skipped: predicted builds of {predicted:.0f} s exceed the remaining time box")
                continue
        started = time.perf_counter()
        ivf = build_faiss_index(ids[:size], vectors[:size], vectors.shape[1], ann_threshold=0)  # what the index builds
        build_seconds = time.perf_counter() - started
        bench.record(Figure("ann", f"IVF {size // 1000}k build", "s", [build_seconds]))
        lists = faiss.downcast_index(ivf.index)
        default_probe = lists.nprobe
        for probe in sorted({default_probe // 2, default_probe, default_probe * 2}):
            lists.nprobe = probe
            _, found = ivf.search(queries, 10)
            runs = [milliseconds(search_latencies(ivf, queries, k)) for _ in range(plan.repeats)]
            targets = {95: [Target("<=", 5.0)]} if probe == default_probe and size == max(plan.hnsw_sizes) else {}
            for figure in latency_figures("ann", f"IVF{lists.nlist} {size // 1000}k nprobe {probe}", runs, targets)[:2]:
                bench.record(figure)
            target = [Target(">=", 0.95)] if probe == default_probe else []
            bench.record(Figure("ann", f"IVF{lists.nlist} {size // 1000}k nprobe {probe} recall@10 vs flat", "", [recall_at(found, truth)], target))
        del ivf
        started = time.perf_counter()
        hnsw = faiss.IndexHNSWFlat(vectors.shape[1], 32, faiss.METRIC_INNER_PRODUCT)  # the graph index it replaced, for comparison
        hnsw.hnsw.efConstruction = 100
        hnsw.add(vectors[:size])
        hnsw_seconds = time.perf_counter() - started
        hnsw_spent += build_seconds + hnsw_seconds
        last_build = (size, build_seconds + hnsw_seconds)
        bench.record(Figure("ann", f"HNSW {size // 1000}k build", "s", [hnsw_seconds]))
        for ef in (1024, 2048):
            hnsw.hnsw.efSearch = ef
            _, found = hnsw.search(queries, 10)
            runs = [milliseconds(search_latencies(hnsw, queries, k)) for _ in range(plan.repeats)]
            for figure in latency_figures("ann", f"HNSW {size // 1000}k efSearch {ef}", runs)[:2]:
                bench.record(figure)
            bench.record(Figure("ann", f"HNSW {size // 1000}k efSearch {ef} recall@10 vs flat", "", [recall_at(found, truth)]))
        del hnsw
    sizes = sorted(flat_p95)
    crossing = crossing_size(sizes, [flat_p95[s] for s in sizes], FLAT_P95_LIMIT_MS)
    suggested = max(10_000, crossing // 10_000 * 10_000)
    current = load_settings().retrieval.ann_threshold
    bench.record(Figure("ann", f"flat p95 reaches {FLAT_P95_LIMIT_MS:.0f} ms at", "vectors", [float(crossing)]))
    bench.note(f"ann_threshold: measured choice {suggested:,} (flat p95 ≈ {FLAT_P95_LIMIT_MS:.0f} ms there); the setting's default is {current:,}")
    bench.extras["ann_threshold"] = {"suggested": suggested, "default": current, "flat_p95_ms": {str(s): flat_p95[s] for s in sizes}}
    del vectors


# beyond one machine: Ray ingest and the Milvus backend -------------------------------

def milvus_settings_at(root: Path):
    from core.settings import load_settings

    settings = load_settings(root / "index")
    settings.backend.kind = "milvus"
    settings.backend.milvus_uri = str(root / "milvus.db")
    return settings


def raw_encode_rate(bench: Bench, index_dir: Path) -> float:
    """sentence-transformers encode alone over the texts ingest embedded, chunks/s: the baseline of every ratio."""
    texts = embedding_texts(index_dir)
    seconds = timed(lambda: bench.embedder.model.encode(texts, batch_size=bench.embedder.settings.batch_size, normalize_embeddings=True,
                                                        convert_to_numpy=True, show_progress_bar=False))
    return len(texts) / seconds


def run_ray_ingest(bench: Bench) -> None:
    """Plain ingest against a local Ray with one and two embedding actors, each beside the raw encode rate."""
    from core.settings import load_settings
    from ingest.cluster import ingest_on_ray, start_ray, stop_ray

    rates: dict[str, list[float]] = {"plain": [], "ray 1": [], "ray 2": []}
    ratios: dict[str, list[float]] = {key: [] for key in rates}
    starts = []
    for run in range(bench.plan.ingest_runs if not bench.plan.quick else 1):
        plain = ingested_index(bench, bench.workdir / f"plain-{run}")
        raw = raw_encode_rate(bench, bench.workdir / f"plain-{run}")
        rates["plain"].append(plain.chunks_embedded / plain.seconds)
        for workers in (1, 2):
            settings = load_settings(bench.workdir / f"ray-{workers}-{run}")
            started = time.perf_counter()
            local = start_ray(None, settings, workers)
            starts.append(time.perf_counter() - started)
            try:
                report = ingest_on_ray([bench.corpus_dir], settings, bench.embedder, address=None, workers=workers, rebuild=True)
            finally:
                stop_ray(local)
            rates[f"ray {workers}"].append(report.chunks_embedded / report.seconds)
            shutil.rmtree(settings.index_dir, ignore_errors=True)
        for key in rates:
            ratios[key].append(rates[key][-1] / raw)
        shutil.rmtree(bench.workdir / f"plain-{run}", ignore_errors=True)
    for key, label in (("plain", "plain ingest (parse thread beside the model)"), ("ray 1", "Ray ingest, 1 embedding actor"),
                       ("ray 2", "Ray ingest, 2 embedding actors")):
        bench.record(Figure("scale", f"{label}", "chunks/s", rates[key]))
        bench.record(Figure("scale", f"{label} / raw encode", "ratio", ratios[key], [Target(">=", 0.85)] if key == "plain" else []))
    bench.record(Figure("scale", "local Ray start-up (not in the Ray rates)", "s", starts,
                        note="actors share this machine's 2 cores: Ray pays off with more nodes, not here"))


def run_milvus_queries(bench: Bench) -> None:
    """Milvus Lite against the embedded index: /api/ask latency and server memory at the corpus and at 100k chunks."""
    from bench.synthetic import build_synthetic_index, source_corpus
    from index.milvus import release_lite

    plan = bench.plan
    questions = bench_questions(5 + plan.requests_real * plan.repeats + 5 + plan.requests_synthetic)
    real_questions = questions[: 5 + plan.requests_real * plan.repeats]
    synthetic_questions = questions[len(real_questions):]

    settings = milvus_settings_at(bench.workdir / "milvus-corpus")
    from ingest.pipeline import ingest_paths

    report = ingest_paths([bench.corpus_dir], settings, bench.embedder)
    bench.record(Figure("scale", "ingest into Milvus Lite end to end", "chunks/s", [report.chunks_embedded / report.seconds]))
    release_lite(settings)
    measure_queries(bench, "Milvus Lite, corpus", settings.index_dir, real_questions, memory=True, settings=settings, section="scale")

    settings = milvus_settings_at(bench.workdir / "milvus-100k")
    built = build_synthetic_index(settings.index_dir, source_corpus(corpus_index(bench)), plan.synthetic_chunks, settings)
    release_lite(settings)
    bench.note(f"Milvus Lite synthetic index: {built.chunks:,} chunks written in {built.seconds:.0f} s")
    label = f"Milvus Lite, {plan.synthetic_chunks // 1000}k"
    measure_queries(bench, label, settings.index_dir, synthetic_questions, memory=True, settings=settings, section="scale")
    shutil.rmtree(bench.workdir / "milvus-100k", ignore_errors=True)


def run_scale(bench: Bench) -> None:
    run_ray_ingest(bench)
    run_milvus_queries(bench)


# the load test and the kill loop ---------------------------------------------------

def numeric_items(result: dict, prefix: str = "") -> Iterator[tuple[str, float]]:
    for key, value in result.items():
        if isinstance(value, bool):
            continue
        if isinstance(value, (int, float)):
            yield f"{prefix}{key}", float(value)
        elif isinstance(value, dict):
            yield from numeric_items(value, f"{prefix}{key}.")


def record_result(bench: Bench, section: str, result: dict) -> None:
    bench.extras[section] = result
    for name, value in numeric_items(result):
        bench.record(Figure(section, name, "", [value]))


def run_load_section(bench: Bench) -> None:
    from bench.load import run_load

    record_result(bench, "load", run_load(corpus_index(bench), bench.plan.load_seconds, bench.plan.load_clients))


def run_concurrency_section(bench: Bench) -> None:
    from bench.load import run_concurrency

    result = run_concurrency(corpus_index(bench), CONCURRENT_CLIENTS, bench.plan.concurrency_seconds,
                             bench.plan.concurrency_single_requests)
    bench.extras["concurrency"] = result
    note = f"gold questions, caches warmed by one pass; {result['single_requests']} requests alone, then {result['concurrent_requests']} from {CONCURRENT_CLIENTS} clients in {bench.plan.concurrency_seconds} s"
    bench.record(Figure("concurrency", "POST /api/ask p95, 1 client", "ms", [result["single_p95_ms"]], note=note))
    bench.record(Figure("concurrency", f"POST /api/ask p95, {CONCURRENT_CLIENTS} clients", "ms", [result["concurrent_p95_ms"]]))
    bench.record(Figure("concurrency", f"{CONCURRENT_CLIENTS}-client p95 / 1-client p95", "ratio", [result["p95_ratio"]],
                        [Target("<=", CONCURRENCY_RATIO_TARGET)]))
    bench.record(Figure("concurrency", f"throughput, {CONCURRENT_CLIENTS} clients", "req/s", [result["requests_per_second"]]))
    bench.record(Figure("concurrency", "errors", "", [float(result["errors"])], [Target("<=", 0.0)]))


def run_kill_section(bench: Bench) -> None:
    from bench.kill_loop import run_kill_loop

    record_result(bench, "kill", run_kill_loop(bench.plan.kill_runs))


SECTION_RUNNERS: dict[str, Callable[[Bench], None]] = {
    "tables": run_tables,
    "ingest": run_ingest,
    "startup": run_startup,
    "query": run_query,
    "concurrency": run_concurrency_section,
    "ann": run_ann,
    "scale": run_scale,
    "load": run_load_section,
    "kill": run_kill_section,
}


def environment_note() -> str:
    import faiss
    import torch

    return (f"threads: torch {torch.get_num_threads()}, faiss OpenMP {faiss.omp_get_max_threads()}, "
            f"CPUs available {len(os.sched_getaffinity(0))}; {load_average_note()}")


def load_average_note() -> str:
    """Other work on the machine skews every figure; the load average says how much there was."""
    one, five, fifteen = os.getloadavg()
    return f"load average {one:.1f} / {five:.1f} / {fifteen:.1f} (1/5/15 min)"


def parsed_arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="Smaller sizes and counts (1M vectors become 200k; 10 s load test).")
    parser.add_argument("--skip", default="", help=f"Comma-separated sections to leave out: {', '.join(SECTIONS)}.")
    parser.add_argument("--out", type=Path, default=RESULTS_DIR, help="Folder for latest.md and latest.json.")
    parser.add_argument("--corpus", type=Path, default=ROOT / "corpus", help="Papers to ingest.")
    parser.add_argument("--index", type=Path, default=None,
                        help="An index of --corpus already built, used instead of ingesting one (the ingest section still ingests).")
    arguments = parser.parse_args(argv)
    unknown = {s for s in arguments.skip.split(",") if s} - set(SECTIONS)
    if unknown:
        parser.error(f"unknown section(s) {', '.join(sorted(unknown))}; choose from {', '.join(SECTIONS)}")
    return arguments


def main(argv: list[str] | None = None) -> int:
    arguments = parsed_arguments(argv)
    plan = plan_for(arguments.quick, {s for s in arguments.skip.split(",") if s})
    report = BenchReport(machine=this_machine(), started=now_text(),
                         options={"quick": plan.quick, "skip": sorted(plan.skip)})
    started = time.perf_counter()
    failed = False
    with tempfile.TemporaryDirectory(prefix="scrutiny-bench-") as scratch:
        bench = Bench(plan=plan, report=report, workdir=Path(scratch), corpus_dir=arguments.corpus.resolve(),
                      corpus_index=arguments.index.resolve() if arguments.index else None)
        print(f"Scrutiny benchmark on {report.machine.nproc} CPUs ({report.machine.cpu_model}), "
              f"{report.machine.ram_gb} GB RAM", flush=True)
        bench.note(environment_note())
        for section in SECTIONS:
            if not plan.runs(section):
                continue
            print(f"[{section}]", flush=True)
            section_started = time.perf_counter()
            try:
                SECTION_RUNNERS[section](bench)
            except Exception as exc:  # one broken section should not lose the others' figures
                failed = True
                traceback.print_exc()
                bench.note(f"{section} failed: {type(exc).__name__}: {exc}")
            print(f"  ({section}: {time.perf_counter() - section_started:.0f} s)", flush=True)
        report.seconds = time.perf_counter() - started
        bench.note(f"at the end: {load_average_note()}")
        report.extras = bench.extras
    markdown, data = write_results(report, arguments.out)
    met = [f for f in report.figures if f.met is not None]
    print(f"\n{sum(bool(f.met) for f in met)} of {len(met)} targets met in {report.seconds / 60:.1f} min; "
          f"wrote {markdown} and {data}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
