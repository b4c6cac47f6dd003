"""SIGKILL `scrutiny ingest` at random points of many runs; the index must survive every one.

    python -m bench.kill_loop [--runs 20] [--seed N]

Runs alternate between a fresh index (nothing published yet) and an existing index
whose papers were modified, and aim their kill at reading, embedding or publishing.
After each kill the index must open with no integrity problems and hold every paper
(or be absent, when nothing was ever published); at the end a re-run must finish and
leave an index that matches every file on disk.
"""
from __future__ import annotations

import argparse
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "corpus"
SCRUTINY = Path(sys.executable).parent / "scrutiny"
RUN_TIMEOUT = 900.0
POLL_SECONDS = 0.005
# How long after a stage begins the kill may land; a later stage starting first cuts the wait short.
KILL_WINDOW = {"parse": 3.0, "embed": 8.0, "publish": 0.3}
SCENARIOS = (("fresh", "parse"), ("modified", "embed"), ("fresh", "embed"), ("modified", "publish"), ("modified", "parse"))
STAGE_ORDER = ("startup", "parse", "embed", "publish", "finished")


@dataclass
class IngestRun:
    """A running `scrutiny ingest` whose progress bars are read to learn which stage it is in."""

    process: subprocess.Popen
    index_dir: Path
    previous: str | None
    before: frozenset[str]
    seen: dict[str, float] = field(default_factory=dict)
    output: list[str] = field(default_factory=list)
    reader: threading.Thread | None = None

    def text(self) -> str:
        return "".join(self.output)

    def stage(self) -> str:
        """Where the ingest is now: startup, parse, embed, publish or finished."""
        if self.process.poll() is not None:
            return "finished"
        if is_publishing(self.index_dir, self.previous, self.before):
            return "publish"
        for stage in ("embed", "parse"):
            if stage in self.seen:
                return stage
        return "startup"

    def wait(self, timeout: float = RUN_TIMEOUT) -> int:
        code = self.process.wait(timeout=timeout)
        if self.reader is not None:
            self.reader.join(timeout=10)
        return code


def stage_marks() -> dict[str, str]:
    """The progress-bar labels that show a stage has begun, as the CLI draws them."""
    from server.progress import STAGE_LABELS

    return dict(STAGE_LABELS)


def generation_folders(index_dir: Path) -> frozenset[str]:
    return frozenset(p.name for p in index_dir.glob("gen-*")) if index_dir.is_dir() else frozenset()


def is_publishing(index_dir: Path, previous: str | None, before: frozenset[str]) -> bool:
    """True once this writer has written its vectors, i.e. it is inside IndexWriter.publish().

    Folders left by earlier killed runs (`before`) say nothing about this one.
    """
    from index.store import VECTORS_NAME, read_current

    new = [index_dir / name for name in generation_folders(index_dir) - before]
    if any((folder / VECTORS_NAME).exists() for folder in new):
        return True
    return read_current(index_dir) != previous if index_dir.is_dir() else False


def start_ingest(paths: list[Path], index_dir: Path, *options: str) -> IngestRun:
    """`scrutiny ingest` as a child process, with its progress bars drawn to a pipe we watch."""
    from index.store import read_current

    previous = read_current(index_dir) if index_dir.is_dir() else None
    before = generation_folders(index_dir)
    # rich draws live bars only to a terminal; TTY_COMPATIBLE makes it draw them to our pipe too.
    env = {**os.environ, "TTY_COMPATIBLE": "1", "COLUMNS": "120", "PYTHONUNBUFFERED": "1"}
    process = subprocess.Popen(
        [str(SCRUTINY), "ingest", *[str(p) for p in paths], "--index", str(index_dir), *options],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, cwd=ROOT, env=env,
    )
    run = IngestRun(process, Path(index_dir), previous, before)
    run.reader = threading.Thread(target=_read_output, args=(run, stage_marks()), daemon=True)
    run.reader.start()
    return run


def _read_output(run: IngestRun, marks: dict[str, str]) -> None:
    stream = run.process.stdout
    tail = ""
    for chunk in iter(lambda: stream.read1(4096), b""):
        text = chunk.decode("utf-8", "replace")
        run.output.append(text)
        tail = (tail + text)[-4096:]
        for stage, label in marks.items():
            if stage not in run.seen and label in tail:
                run.seen[stage] = time.monotonic()


def wait_for_stage(run: IngestRun, stage: str, timeout: float = RUN_TIMEOUT) -> bool:
    """Block until `stage` (or a later one) has begun; False when the ingest ended first."""
    deadline = time.monotonic() + timeout
    wanted = STAGE_ORDER.index(stage)
    while time.monotonic() < deadline:
        now = run.stage()
        if now == "finished":
            return False
        if STAGE_ORDER.index(now) >= wanted:
            return True
        time.sleep(POLL_SECONDS)
    raise TimeoutError(f"ingest did not reach {stage} within {timeout:.0f} s:\n{run.text()[-2000:]}")


def kill_in_stage(run: IngestRun, stage: str, rng: random.Random) -> str:
    """SIGKILL the ingest at a random moment of `stage`; returns the stage it was actually in."""
    if wait_for_stage(run, stage):
        started = STAGE_ORDER.index(stage)
        deadline = time.monotonic() + rng.uniform(0.0, KILL_WINDOW[stage])
        while time.monotonic() < deadline and STAGE_ORDER.index(run.stage()) == started:
            time.sleep(POLL_SECONDS)
    landed = run.stage()
    if run.process.poll() is None:
        run.process.send_signal(signal.SIGKILL)
    run.wait()
    return landed


def index_problems(index_dir: Path, expected_documents: int | None) -> list[str]:
    """What is wrong with the index a reader would open; empty when none was ever published."""
    from index.store import IndexError_, IndexReader, read_current

    if not index_dir.is_dir() or read_current(index_dir) is None:
        return [] if expected_documents is None else [f"no index published at {index_dir}"]
    try:
        reader = IndexReader.open(index_dir)
        problems = reader.integrity_problems()
        documents = reader.document_count()
    except IndexError_ as exc:
        return [str(exc)]
    if expected_documents is not None and documents != expected_documents:
        problems.append(f"{documents} documents, expected {expected_documents}")
    return problems


def stale_documents(index_dir: Path, papers: list[Path]) -> list[str]:
    """Papers whose file on disk differs from (or is missing in) the published index."""
    from index.store import IndexReader
    from ingest.pipeline import file_sha256

    reader = IndexReader.open(index_dir)
    indexed = {d.doc_id: d.sha256 for d in reader.documents()}
    return [p.name for p in papers if indexed.get(p.stem) != file_sha256(p)]


def paper_files(folder: Path) -> list[Path]:
    from ingest.pipeline import discover_files

    return discover_files([folder])


def copy_corpus(source: Path, target: Path) -> Path:
    shutil.copytree(source, target, ignore=shutil.ignore_patterns("gold", ".*"))
    return target


def modify_papers(papers: list[Path], run: int) -> list[Path]:
    """Change one text paper and one PDF (a trailing comment keeps the PDF readable), rotating by run."""
    texts = [p for p in papers if p.suffix == ".txt"]
    pdfs = [p for p in papers if p.suffix == ".pdf"]
    changed = []
    if texts:
        text = texts[run % len(texts)]
        with open(text, "a", encoding="utf-8") as handle:
            handle.write(f"\n\n99. Late addendum {run}\n99.1 The committee noted addendum number {run} for the record.\n")
        changed.append(text)
    if pdfs:
        pdf = pdfs[run % len(pdfs)]
        with open(pdf, "ab") as handle:
            handle.write(f"\n% revised {run}\n".encode())
        changed.append(pdf)
    return changed


def ingest_to_completion(paths: list[Path], index_dir: Path, *options: str) -> tuple[int, str]:
    run = start_ingest(paths, index_dir, *options)
    code = run.wait()
    return code, run.text()


@dataclass
class KillResult:
    run: int
    kind: str
    aimed: str
    landed: str
    seconds: float
    problems: list[str]

    @property
    def survived(self) -> bool:
        return not self.problems


def one_kill(run: int, kind: str, stage: str, papers_dir: Path, main_index: Path, scratch: Path, rng: random.Random) -> KillResult:
    papers = paper_files(papers_dir)
    started = time.monotonic()
    if kind == "fresh":
        index_dir = scratch / f"fresh-{run:03d}"
        expected = None  # either nothing published, or a complete index of every paper
    else:
        modify_papers(papers, run)
        index_dir = main_index
        expected = len(papers)
    landed = kill_in_stage(start_ingest([papers_dir], index_dir), stage, rng)
    problems = index_problems(index_dir, expected)
    if kind == "fresh" and not problems and (index_dir / "CURRENT").exists():
        problems = index_problems(index_dir, len(papers))
    if kind == "fresh":
        shutil.rmtree(index_dir, ignore_errors=True)
    return KillResult(run, kind, stage, landed, time.monotonic() - started, problems)


def run_kill_loop(runs: int = 20, seed: int | None = None, corpus: Path = CORPUS) -> dict:
    """Kill `runs` ingests at random points, check the index after each, then finish with a clean re-run."""
    seed = seed if seed is not None else random.SystemRandom().randrange(1 << 30)
    rng = random.Random(seed)
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="scrutiny-kill-") as tmp:
        scratch = Path(tmp)
        papers_dir = copy_corpus(corpus, scratch / "papers")
        main_index = scratch / "index"
        code, output = ingest_to_completion([papers_dir], main_index)
        if code != 0:
            raise RuntimeError(f"the first full ingest failed with exit {code}:\n{output[-2000:]}")
        build_seconds = time.monotonic() - started
        results = []
        for run in range(runs):
            kind, stage = SCENARIOS[run % len(SCENARIOS)]
            result = one_kill(run, kind, stage, papers_dir, main_index, scratch, rng)
            results.append(result)
            print(f"run {run + 1:>2}/{runs}: {kind:<8} aimed at {stage:<7} landed in {result.landed:<8} "
                  f"{'survived' if result.survived else 'FAILED: ' + '; '.join(result.problems)} ({result.seconds:.1f} s)",
                  flush=True)
        code, output = ingest_to_completion([papers_dir], main_index)
        final_problems = index_problems(main_index, len(paper_files(papers_dir)))
        stale = stale_documents(main_index, paper_files(papers_dir)) if not final_problems else []
    survived = sum(result.survived for result in results)
    final_ok = code == 0 and not final_problems and not stale
    print(f"survived {survived}/{runs} kills; final re-run {'finished' if final_ok else 'FAILED'} "
          f"(exit {code}{'; ' + '; '.join(final_problems) if final_problems else ''}"
          f"{'; stale: ' + ', '.join(stale) if stale else ''}); seed {seed}", flush=True)
    return {
        "runs": runs,
        "survived": survived,
        "failed": runs - survived,
        "final_ok": final_ok,
        "landed": dict(Counter(result.landed for result in results)),
        "first_build_seconds": round(build_seconds, 1),
        "seconds": round(time.monotonic() - started, 1),
        "seed": seed,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20, help="Ingests to kill (default 20).")
    parser.add_argument("--seed", type=int, default=None, help="Seed for the kill points, to repeat a run.")
    args = parser.parse_args()
    result = run_kill_loop(args.runs, args.seed)
    sys.exit(0 if result["survived"] == result["runs"] and result["final_ok"] else 1)


if __name__ == "__main__":
    main()
