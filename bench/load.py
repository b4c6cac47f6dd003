"""Load: many concurrent clients ask real questions of `scrutiny serve` for a fixed time.

    python -m bench.load [--index DIR] [--seconds 60] [--clients 32]
    python -m bench.load --concurrency [--clients 20] [--seconds 30]

The server runs on loopback over a real index (built from corpus/ into a temporary
folder when none is given). Every request must succeed, and the server's resident
memory after the run may be at most 10% above its memory after a warm-up pass.
"""
from __future__ import annotations

import argparse
import contextlib
import json
import socket
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from bench.figures import percentile

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "corpus"
SCRUTINY = Path(sys.executable).parent / "scrutiny"
HOST = "127.0.0.1"
START_TIMEOUT = 240.0
REQUEST_TIMEOUT = 120.0
WARM_UP_SECONDS = 120.0
MAX_REQUESTS_PER_CLIENT = 100_000
RSS_GROWTH_LIMIT_PCT = 10.0
FALLBACK_QUESTIONS = (
    "What did Kent's cabinet decide about family hubs?",
    "How many agency social workers did Sunderland have?",
    "What is the forecast overspend in the quarter 3 finance monitoring report?",
    "Which indicators were rated red in the quarterly performance report?",
)


@dataclass
class ClientTally:
    """What one client thread saw; merged after the run so threads share nothing while it lasts."""

    latencies: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


@dataclass
class LoadFigures:
    clients: int
    seconds: float
    requests: int
    errors: int
    requests_per_second: float
    p50_ms: float
    p95_ms: float
    p99_ms: float
    max_ms: float
    rss_started_mb: float
    rss_before_mb: float
    rss_after_mb: float
    rss_growth_pct: float
    error_samples: list[str]

    @property
    def ok(self) -> bool:
        return self.errors == 0 and self.requests > 0 and self.rss_growth_pct <= RSS_GROWTH_LIMIT_PCT

    def to_json(self) -> dict:
        return {**asdict(self), "ok": self.ok}


def real_questions(corpus: Path = CORPUS) -> list[str]:
    """The gold questions, in file order, without repeats; a few hand-written ones when there are none."""
    questions = []
    for path in sorted((corpus / "gold").glob("*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                questions.append(json.loads(line)["question"])
    return list(dict.fromkeys(questions)) or list(FALLBACK_QUESTIONS)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return probe.getsockname()[1]


def stop_server(process: subprocess.Popen) -> None:
    """Terminate, then kill if it has not gone within 20 s."""
    process.terminate()
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmRSS for process {pid}")


def ensure_index(index_dir: Path | None, scratch: Path) -> Path:
    """`index_dir` when it holds an index; otherwise the corpus ingested into `scratch`."""
    from index.store import read_current

    if index_dir is not None and read_current(Path(index_dir)):
        return Path(index_dir)
    built = scratch / "index"
    subprocess.run([str(SCRUTINY), "ingest", str(CORPUS), "--index", str(built), "--quiet"], cwd=ROOT, check=True)
    return built


def start_server(index_dir: Path, port: int, log) -> subprocess.Popen:
    return subprocess.Popen(
        [str(SCRUTINY), "serve", "--index", str(index_dir), "--host", HOST, "--port", str(port)],
        stdout=log, stderr=subprocess.STDOUT, cwd=ROOT,
    )


def wait_until_ready(process: subprocess.Popen, port: int, log_path: Path) -> None:
    import httpx

    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"scrutiny serve exited with {process.returncode}:\n{log_path.read_text()[-2000:]}")
        try:
            health = httpx.get(f"http://{HOST}:{port}/api/health", timeout=5).json()
            if health.get("index_loaded"):
                return
        except (httpx.HTTPError, ValueError):
            pass
        time.sleep(0.2)
    raise RuntimeError(f"scrutiny serve did not answer within {START_TIMEOUT:.0f} s:\n{log_path.read_text()[-2000:]}")


def ask_until(port: int, questions: list[str], first: int, stride: int, deadline: float, limit: int, tally: ClientTally) -> None:
    """One client: POST /api/ask over its own keep-alive connection until the deadline or `limit` requests."""
    import httpx

    with httpx.Client(base_url=f"http://{HOST}:{port}", timeout=REQUEST_TIMEOUT) as client:
        for number in range(limit):
            if time.monotonic() >= deadline:
                return
            question = questions[(first + number * stride) % len(questions)]
            started = time.perf_counter()
            try:
                response = client.post("/api/ask", json={"question": question})
                body = response.json()
                if response.status_code != 200 or "answer" not in body:
                    tally.errors.append(f"{response.status_code} for {question!r}: {response.text[:160]}")
            except (httpx.HTTPError, ValueError) as exc:
                tally.errors.append(f"{type(exc).__name__} for {question!r}: {exc}")
            tally.latencies.append(time.perf_counter() - started)


def run_clients(port: int, questions: list[str], clients: int, seconds: float, limit: int) -> tuple[list[ClientTally], float]:
    """`clients` threads asking at once; returns their tallies and the wall-clock seconds taken."""
    tallies = [ClientTally() for _ in range(clients)]
    deadline = time.monotonic() + seconds
    threads = [
        threading.Thread(target=ask_until, args=(port, questions, index, clients, deadline, limit, tally), daemon=True)
        for index, tally in enumerate(tallies)
    ]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=seconds + REQUEST_TIMEOUT + 30)
    return tallies, time.perf_counter() - started


def figures_of(tallies: list[ClientTally], clients: int, seconds: float, rss: tuple[float, float, float]) -> LoadFigures:
    latencies = [s * 1000 for tally in tallies for s in tally.latencies]
    errors = [e for tally in tallies for e in tally.errors]
    started, before, after = rss
    return LoadFigures(
        clients=clients, seconds=round(seconds, 1), requests=len(latencies), errors=len(errors),
        requests_per_second=round(len(latencies) / seconds, 2) if seconds else 0.0,
        p50_ms=round(percentile(latencies, 50), 1), p95_ms=round(percentile(latencies, 95), 1),
        p99_ms=round(percentile(latencies, 99), 1), max_ms=round(max(latencies, default=0.0), 1),
        rss_started_mb=round(started, 1), rss_before_mb=round(before, 1), rss_after_mb=round(after, 1),
        rss_growth_pct=round(100 * (after - before) / before, 2) if before else 0.0,
        error_samples=errors[:5],
    )


def figures_table(figures: LoadFigures) -> str:
    rows = [
        ("clients", f"{figures.clients}"),
        ("duration", f"{figures.seconds:.1f} s"),
        ("requests", f"{figures.requests}"),
        ("errors", f"{figures.errors} (must be 0)"),
        ("throughput", f"{figures.requests_per_second:.2f} req/s"),
        ("latency p50", f"{figures.p50_ms:.0f} ms"),
        ("latency p95", f"{figures.p95_ms:.0f} ms"),
        ("latency p99", f"{figures.p99_ms:.0f} ms"),
        ("latency max", f"{figures.max_ms:.0f} ms"),
        ("server RSS at start", f"{figures.rss_started_mb:.0f} MB"),
        ("server RSS after warm-up", f"{figures.rss_before_mb:.0f} MB"),
        ("server RSS after load", f"{figures.rss_after_mb:.0f} MB"),
        ("RSS growth", f"{figures.rss_growth_pct:+.1f}% (limit {RSS_GROWTH_LIMIT_PCT:.0f}%)"),
        ("verdict", "ok" if figures.ok else "FAILED"),
    ]
    width = max(len(name) for name, _ in rows)
    return "\n".join(f"{name:<{width}}  {value}" for name, value in rows)


@contextlib.contextmanager
def served_index(index_dir: Path | str | None):
    """`scrutiny serve` over `index_dir` (or a fresh index of corpus/), ready; yields (process, port)."""
    with tempfile.TemporaryDirectory(prefix="scrutiny-load-") as tmp:
        scratch = Path(tmp)
        index_dir = ensure_index(Path(index_dir) if index_dir else None, scratch)
        port = free_port()
        log_path = scratch / "serve.log"
        with open(log_path, "w") as log:
            process = start_server(index_dir, port, log)
        try:
            wait_until_ready(process, port, log_path)
            yield process, port
        finally:
            stop_server(process)


def run_load(index_dir: Path | str | None, seconds: float = 60, clients: int = 32) -> dict:
    """Serve `index_dir`, warm it with one pass over the questions, then load it; returns the figures."""
    questions = real_questions()
    with served_index(index_dir) as (process, port):
        rss_started = rss_mb(process.pid)
        # Caches fill on first sight of a question; memory is compared from here, so growth means a leak.
        run_clients(port, questions, clients, WARM_UP_SECONDS, max(1, len(questions) // clients + 1))
        rss_before = rss_mb(process.pid)
        tallies, elapsed = run_clients(port, questions, clients, seconds, MAX_REQUESTS_PER_CLIENT)
        rss_after = rss_mb(process.pid)
    figures = figures_of(tallies, clients, elapsed, (rss_started, rss_before, rss_after))
    print(figures_table(figures), flush=True)
    return figures.to_json()


@dataclass
class ConcurrencyFigures:
    """One client at a time against `clients` at once, same server, same (warmed) questions, same run."""

    clients: int
    single_requests: int
    single_p50_ms: float
    single_p95_ms: float
    concurrent_requests: int
    concurrent_p50_ms: float
    concurrent_p95_ms: float
    p95_ratio: float
    requests_per_second: float
    errors: int
    error_samples: list[str]

    def to_json(self) -> dict:
        return asdict(self)


def run_concurrency(index_dir: Path | str | None, clients: int = 20, seconds: float = 30, single_requests: int = 200) -> dict:
    """p95 of POST /api/ask with one client, then with `clients` at once, and the ratio of the two."""
    questions = real_questions()
    with served_index(index_dir) as (_, port):
        # Every question once, so both phases find the same caches filled.
        warm = ClientTally()
        ask_until(port, questions, 0, 1, time.monotonic() + WARM_UP_SECONDS, len(questions), warm)
        single = ClientTally()
        ask_until(port, questions, 0, 1, time.monotonic() + seconds * 4, single_requests, single)
        tallies, elapsed = run_clients(port, questions, clients, seconds, MAX_REQUESTS_PER_CLIENT)
    alone = [s * 1000 for s in single.latencies]
    together = [s * 1000 for tally in tallies for s in tally.latencies]
    errors = warm.errors + single.errors + [e for tally in tallies for e in tally.errors]
    single_p95, concurrent_p95 = percentile(alone, 95), percentile(together, 95)
    figures = ConcurrencyFigures(
        clients=clients, single_requests=len(alone), single_p50_ms=round(percentile(alone, 50), 1),
        single_p95_ms=round(single_p95, 1), concurrent_requests=len(together),
        concurrent_p50_ms=round(percentile(together, 50), 1), concurrent_p95_ms=round(concurrent_p95, 1),
        p95_ratio=round(concurrent_p95 / single_p95, 2) if single_p95 else 0.0,
        requests_per_second=round(len(together) / elapsed, 1) if elapsed else 0.0,
        errors=len(errors), error_samples=errors[:5],
    )
    print(f"1 client p95 {figures.single_p95_ms:.0f} ms; {clients} clients p95 {figures.concurrent_p95_ms:.0f} ms "
          f"(ratio {figures.p95_ratio:.2f}), {figures.requests_per_second:.1f} req/s, {figures.errors} errors", flush=True)
    return figures.to_json()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--index", type=Path, default=None, help="Index folder (default: build one from corpus/).")
    parser.add_argument("--seconds", type=float, default=60, help="Length of the load phase (default 60).")
    parser.add_argument("--clients", type=int, default=32, help="Concurrent clients (default 32).")
    parser.add_argument("--concurrency", action="store_true",
                        help="Measure p95 with one client and then with --clients at once, and their ratio, instead.")
    args = parser.parse_args()
    if args.concurrency:
        result = run_concurrency(args.index, args.clients, args.seconds)
        sys.exit(0 if result["errors"] == 0 else 1)
    result = run_load(args.index, args.seconds, args.clients)
    sys.exit(0 if result["ok"] else 1)


if __name__ == "__main__":
    main()
