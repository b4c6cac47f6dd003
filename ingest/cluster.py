"""Bulk ingest on Ray: `scrutiny ingest --ray [ADDRESS]`.

The pipeline (ingest.pipeline.ingest_paths) is unchanged; RayRunner replaces where it parses and embeds:
- parsing, chunking and finding the register's statements run as Ray tasks, one per file, on any CPU of the
  cluster (a failure is that file's, worded as in a plain ingest; a file still being read `ingest.parse_seconds`
  after it is wanted is cancelled and reported; a task whose worker dies is retried). Unlike the plain ingest's
  child process, a task has no address-space limit of its own: Ray's memory monitor stops one that exhausts
  its node;
- embedding runs in a pool of actors that each load the model once (on a GPU when the cluster has one),
  a few batches of chunks at a time; an actor that dies is restarted and its batch retried;
- this process keeps the one writer: results come back in file order and are written in batches, so a Ray
  ingest gives the same chunks, ids and answers as a plain one.

The papers must be readable at the same path on every node (a shared folder), as each task opens its file.
"""
from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path

from core.settings import Settings
from ingest.pipeline import IngestReport, PreparedDocument, Progress, Written, embed_prepared

LOCAL = "local"


@dataclass
class RayPlan:
    """How many actors, and what each reserves, for the cluster at hand."""

    workers: int
    actor_cpus: float
    actor_gpus: float
    threads: int


def plan_for(settings: Settings, workers: int, local: bool) -> RayPlan:
    """On a local Ray the machine's cores are shared among the actors; on a cluster each actor reserves
    `ray.embed_cpus` (and a GPU when the cluster has them and `ray.embed_gpus` does not say otherwise)."""
    import ray

    workers = max(1, workers)
    if local:
        cores = len(os.sched_getaffinity(0))
        threads = max(1, cores // workers)
        # The actors' reservations leave room for a parse task, or no file could be parsed while they live.
        room = (ray.cluster_resources().get("CPU", cores) - settings.ray.parse_cpus) / workers
        return RayPlan(workers, actor_cpus=max(0.1, min(threads, room)), actor_gpus=0.0, threads=threads)
    gpus = settings.ray.embed_gpus or (1.0 if ray.cluster_resources().get("GPU", 0) >= workers else 0.0)
    return RayPlan(workers, actor_cpus=settings.ray.embed_cpus, actor_gpus=gpus, threads=max(1, int(settings.ray.embed_cpus)))


def start_ray(address: str | None, settings: Settings, workers: int) -> bool:
    """Connect to the cluster at `address`, or start a local Ray sized for `workers` actors and parse tasks;
    returns whether it started a local one (which `stop_ray` shuts down)."""
    import ray

    if ray.is_initialized():
        return False
    environment = {"env_vars": {"HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false"}}
    if address and address != LOCAL:
        ray.init(address=address, runtime_env=environment, log_to_driver=False)
        return False
    cores = len(os.sched_getaffinity(0))
    # Logical CPUs for the actors (which share the cores) and one parse task beside them.
    start_local_ray(num_cpus=cores + max(1, int(settings.ray.parse_cpus)), runtime_env=environment, configure_logging=False)
    return True


def start_local_ray(attempts: int = 3, **options) -> None:
    """Start a local Ray head, trying again when its node does not come up.

    Ray gives the head's GCS 30 s to start (raised here to 120 s; a value set outside stands) and its raylet a
    fixed 30 s to register; now and then the raylet never does, even on an idle machine, and a fresh start
    works."""
    import ray

    os.environ.setdefault("RAY_gcs_server_port_wait_time_s", "120")
    for attempt in range(1, attempts + 1):
        try:
            ray.init(include_dashboard=False, log_to_driver=False, **options)
            return
        except Exception as error:  # Ray raises a bare Exception for a node that timed out during start-up
            ray.shutdown()
            if attempt == attempts or "timed out during startup" not in str(error):
                raise


def stop_ray(started: bool) -> None:
    import ray

    if started and ray.is_initialized():
        ray.shutdown()


@dataclass
class FileFailure:
    """A file's own problem, sent back as a value: Ray cannot rebuild a ParseError from its pickled form."""

    path: str
    problem: str


def prepared_or_failure(path: Path, sha: str, sidecars: dict, settings: Settings, statements: bool):
    """The prepared file, or its problem worded as a plain ingest words it (whatever a parsing library raised)."""
    from ingest.worker import prepared_or_problem

    kind, value = prepared_or_problem((str(path), sha, sidecars, statements), settings)
    return value if kind == "ok" else FileFailure(str(path), value)


def parse_remote(settings: Settings):
    import ray

    return ray.remote(num_cpus=settings.ray.parse_cpus, max_retries=2)(prepared_or_failure)


class EmbedWorker:
    """An actor holding the model: loaded once, then given groups of parsed papers to embed."""

    def __init__(self, settings: Settings, threads: int):
        from ingest.embed import Embedder

        self.embedder = Embedder(settings.embed.model_copy(update={"threads": threads}))
        self.embedder.encode(["warm up"])

    def embed(self, items: list[PreparedDocument]):
        return embed_prepared(self.embedder, items)


class RayParse:
    """Every changed file parsed as a Ray task, a bounded number in flight; results are taken in file order."""

    def __init__(self, jobs: list[tuple[Path, str]], sidecars: dict[str, dict], settings: Settings, statements: bool, in_flight: int):
        import ray

        self._remote = parse_remote(settings)
        self._jobs = list(jobs)
        self._sidecars = ray.put(sidecars)
        self._settings, self._statements, self._in_flight = settings, statements, in_flight
        self._refs: dict[Path, object] = {}
        self._next = 0
        self._fill()

    def _fill(self) -> None:
        while self._next < len(self._jobs) and len(self._refs) < self._in_flight:
            path, sha = self._jobs[self._next]
            self._refs[path] = self._remote.remote(path, sha, self._sidecars, self._settings, self._statements)
            self._next += 1

    def result(self, path: Path) -> PreparedDocument:
        """The prepared file; raises ParseError as a plain ingest would, also for a file still being read
        `ingest.parse_seconds` after it is asked for (its task is then cancelled)."""
        import ray
        from ray.exceptions import GetTimeoutError

        from ingest.parse import ParseError

        ref = self._refs.pop(path)
        self._fill()
        seconds = self._settings.ingest.parse_seconds
        try:
            result = ray.get(ref, timeout=seconds)
        except GetTimeoutError:
            ray.cancel(ref, force=True)
            raise ParseError(path, f"took longer than {seconds:g} s to read; the limit is the setting ingest.parse_seconds") from None
        if isinstance(result, FileFailure):
            raise ParseError(result.path, result.problem)  # reported as a plain ingest reports the file
        return result

    def close(self) -> None:
        import ray

        for ref in self._refs.values():
            ray.cancel(ref)
        self._refs.clear()


class RayEmbedding(Written):
    """Groups of parsed papers embedded by the actor pool, several in flight, written in the order they came."""

    def __init__(self, settings: Settings, plan: RayPlan, embedder, writer, progress: Progress, report: IngestReport):
        import ray
        from ray.util import ActorPool

        super().__init__(writer, progress, report)
        actor = ray.remote(num_cpus=plan.actor_cpus, num_gpus=plan.actor_gpus, max_restarts=2, max_task_retries=2)(EmbedWorker)
        self.pool = ActorPool([actor.remote(settings, plan.threads) for _ in range(plan.workers)])
        self.group = settings.ray.batch_chunks
        self.max_in_flight = 2 * plan.workers
        self.waiting: list[PreparedDocument] = []
        self.in_flight: list[list[PreparedDocument]] = []
        self.started = time.perf_counter()
        self.papers = 0

    def add(self, item: PreparedDocument) -> None:
        self.waiting.append(item)
        self.progress.extend("embed", len(item.chunks))
        self.progress.extend("store", 1)
        if sum(len(i.chunks) for i in self.waiting) >= self.group:
            self._submit()

    def _submit(self) -> None:
        if not self.waiting:
            return
        self.pool.submit(lambda worker, items: worker.embed.remote(items), self.waiting)
        self.in_flight.append(self.waiting)
        self.waiting = []
        while len(self.in_flight) >= self.max_in_flight:
            self._write_next()

    def _write_next(self) -> None:
        started = time.perf_counter()
        embedded = self.pool.get_next()
        self.report.embed_seconds += time.perf_counter() - started  # time this process waited for the cluster
        items = self.in_flight.pop(0)
        self.write(items, embedded)
        self.papers += len(items)
        self.progress.advance("embed", len(embedded[0]))
        seconds = time.perf_counter() - self.started
        self.progress.note(f"{self.papers} papers, {self.report.chunks_embedded} chunks: "
                           f"{self.papers / seconds:.2f} papers/s, {self.report.chunks_embedded / seconds:.1f} chunks/s across the cluster")

    def flush(self) -> None:
        self._submit()
        while self.in_flight:
            self._write_next()


class RayRunner:
    """ingest_paths' runner for a Ray cluster (see ingest.pipeline.LocalRunner)."""

    def __init__(self, settings: Settings, workers: int, local: bool):
        self.settings = settings
        self.plan = plan_for(settings, workers, local)

    def parser(self, jobs, sidecars, settings: Settings, statements: bool) -> RayParse:
        import ray

        cpus = int(ray.cluster_resources().get("CPU", 1))
        return RayParse(jobs, sidecars, settings, statements, in_flight=max(2, 2 * cpus))

    def embedding(self, embedder, writer, progress: Progress, report: IngestReport) -> RayEmbedding:
        return RayEmbedding(self.settings, self.plan, embedder, writer, progress, report)


def ingest_on_ray(paths: list[Path], settings: Settings, embedder, address: str | None, workers: int | None = None, **options) -> IngestReport:
    """ingest_paths with parsing and embedding on Ray (a local Ray when `address` is None or "local")."""
    from ingest.pipeline import ingest_paths

    workers = workers or settings.ray.embed_workers
    started = start_ray(address, settings, workers)
    try:
        runner = RayRunner(settings, workers, local=not address or address == LOCAL)
        return ingest_paths(paths, settings, embedder, runner=runner, **options)
    finally:
        stop_ray(started)
