"""Faults: ingests killed mid-way, two ingests at once, a server reading while an ingest publishes, broken indexes.

The kill machinery is shared with `bench/kill_loop.py`, which runs many more kills than these.
"""
from __future__ import annotations

import contextlib
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from bench.kill_loop import (
    index_problems, ingest_to_completion, kill_in_stage, modify_papers, paper_files, stale_documents, start_ingest,
    wait_for_stage,
)
from core.settings import load_settings
from index.service import Scrutiny
from index.store import CURRENT_NAME, DB_NAME, VECTORS_NAME, IndexCorrupt, IndexError_, IndexMissing, IndexReader
from ingest.pipeline import ingest_paths
from server.cli import cli

CORPUS = Path(__file__).resolve().parent.parent / "corpus"
SMALL_PDF = CORPUS / "kent_2025-03_cabinet_family-hubs-call-in-report.pdf"
SEED_PAPERS = [CORPUS / "000_8455fbcf33d06d16.txt", CORPUS / "001_29f912cc4fd0f26b.txt"]
SUNDERLAND_DOC = "001_29f912cc4fd0f26b"
SUNDERLAND_QUESTION = "How many agency social workers did Sunderland have?"


def small_papers(folder: Path, sources: list[Path]) -> Path:
    folder.mkdir(parents=True)
    for source in sources:
        shutil.copy(source, folder)
    return folder


def test_sigkill_in_parse_embed_and_publish_leaves_a_readable_index_and_a_rerun_finishes(tmp_path):
    papers = small_papers(tmp_path / "papers", [*SEED_PAPERS, SMALL_PDF])
    count = len(paper_files(papers))
    index_dir = tmp_path / "index"
    seed = random.SystemRandom().randrange(1 << 30)
    rng = random.Random(seed)

    landed = kill_in_stage(start_ingest([papers], index_dir), "parse", rng)
    # A first ingest killed before publishing leaves no index; one killed after leaves a whole one.
    assert index_problems(index_dir, None) == [], (seed, landed)
    if (index_dir / CURRENT_NAME).exists():
        assert index_problems(index_dir, count) == [], (seed, landed)

    code, output = ingest_to_completion([papers], index_dir)
    assert code == 0, output[-2000:]
    first = IndexReader.open(index_dir).generation

    for run, stage in ((1, "embed"), (2, "publish")):
        modify_papers(paper_files(papers), run)
        landed = kill_in_stage(start_ingest([papers], index_dir), stage, rng)
        assert index_problems(index_dir, count) == [], (seed, stage, landed)
        assert IndexReader.open(index_dir).document_count() == count

    code, output = ingest_to_completion([papers], index_dir)
    assert code == 0, output[-2000:]
    assert index_problems(index_dir, count) == []
    assert stale_documents(index_dir, paper_files(papers)) == []
    assert IndexReader.open(index_dir).generation != first
    assert not list(index_dir.glob("gen-*.tmp"))


def test_a_second_ingest_is_refused_and_one_with_wait_runs_after_the_first(tmp_path):
    papers = small_papers(tmp_path / "papers", [*SEED_PAPERS, SMALL_PDF])
    index_dir = tmp_path / "index"
    first = start_ingest([papers], index_dir)
    waiting = None
    try:
        assert wait_for_stage(first, "parse"), first.text()[-2000:]
        # Frozen while it holds the lock, so the overlap does not depend on timing.
        first.process.send_signal(signal.SIGSTOP)

        refused = CliRunner().invoke(cli, ["ingest", str(papers), "--index", str(index_dir), "--quiet"])
        assert refused.exit_code == 2, refused.output
        assert "another ingest" in refused.stderr
        assert str(index_dir) in refused.stderr

        waiting = start_ingest([papers], index_dir, "--wait")
        time.sleep(3)
        assert waiting.process.poll() is None, waiting.text()[-2000:]
        assert "parse" not in waiting.seen
    finally:
        first.process.send_signal(signal.SIGCONT)
    assert first.wait() == 0, first.text()[-2000:]
    assert waiting.wait() == 0, waiting.text()[-2000:]
    assert "3 unchanged" in waiting.text()
    assert index_problems(index_dir, 3) == []


def test_the_service_answers_from_the_old_index_during_an_ingest_and_then_from_the_new_one(tmp_path, shared_embedder):
    papers = small_papers(tmp_path / "papers", [SEED_PAPERS[0]])
    settings = load_settings(tmp_path / "index")
    ingest_paths([papers], settings, shared_embedder)
    scrutiny = Scrutiny(settings, shared_embedder)
    old_reader = scrutiny.state().reader
    before = scrutiny.ask(SUNDERLAND_QUESTION)
    assert SUNDERLAND_DOC not in {c.doc_id for c in before.citations}

    shutil.copy(SEED_PAPERS[1], papers)
    run = start_ingest([papers], settings.index_dir)
    answered_during = 0
    while run.process.poll() is None:
        answer = scrutiny.ask(SUNDERLAND_QUESTION)
        assert answer.question == SUNDERLAND_QUESTION
        answered_during += 1
    assert run.wait() == 0, run.text()[-2000:]
    assert answered_during > 0

    after = scrutiny.ask(SUNDERLAND_QUESTION)
    assert after.citations[0].doc_id == SUNDERLAND_DOC
    assert scrutiny.state().reader.generation != old_reader.generation
    # The previous generation stays on disk, so a request still holding the old reader finishes.
    assert old_reader.chunk_count() > 0 and old_reader.integrity_problems() == []


def test_a_missing_index_says_how_to_build_it(tmp_path, shared_embedder):
    index_dir = tmp_path / "never-built"
    with pytest.raises(IndexMissing, match=r"build it with `scrutiny ingest --index .*never-built`"):
        IndexReader.open(index_dir)
    with pytest.raises(IndexMissing):
        Scrutiny(load_settings(index_dir), shared_embedder).state()
    result = CliRunner().invoke(cli, ["status", "--index", str(index_dir)])
    assert result.exit_code == 1
    assert result.stderr.startswith("error: no index at") and "scrutiny ingest" in result.stderr


@pytest.fixture(scope="module")
def one_paper_index(tmp_path_factory, shared_embedder) -> Path:
    """A real one-paper index; each corruption test damages its own copy."""
    root = tmp_path_factory.mktemp("one-paper")
    papers = small_papers(root / "papers", [SEED_PAPERS[1]])
    settings = load_settings(root / "index")
    ingest_paths([papers], settings, shared_embedder)
    return settings.index_dir


def truncate(path: Path, keep: float) -> None:
    data = path.read_bytes()
    path.write_bytes(data[: int(len(data) * keep)])


def generation_of(index_dir: Path) -> Path:
    return index_dir / (index_dir / CURRENT_NAME).read_text().strip()


CORRUPTIONS = {
    "garbage CURRENT": lambda d: (d / CURRENT_NAME).write_text("not-a-generation\n"),
    "binary CURRENT": lambda d: (d / CURRENT_NAME).write_bytes(b"\xff\xfe\x00\x9c garbage"),
    "truncated vectors": lambda d: truncate(generation_of(d) / VECTORS_NAME, 0.5),
    "empty vectors": lambda d: truncate(generation_of(d) / VECTORS_NAME, 0.0),
    "truncated database": lambda d: truncate(generation_of(d) / DB_NAME, 0.5),
    "generation folder gone": lambda d: shutil.rmtree(generation_of(d)),
    "manifest not JSON": lambda d: (generation_of(d) / "manifest.json").write_text("{not json"),
}


@pytest.mark.parametrize("damage", list(CORRUPTIONS), ids=lambda name: name.replace(" ", "-"))
def test_a_corrupt_index_is_reported_with_the_rebuild_command(tmp_path, one_paper_index, shared_embedder, damage):
    index_dir = tmp_path / "index"
    shutil.copytree(one_paper_index, index_dir)
    CORRUPTIONS[damage](index_dir)

    with pytest.raises(IndexCorrupt, match=r"scrutiny ingest --rebuild --index"):
        IndexReader.open(index_dir)
    with pytest.raises(IndexError_):
        Scrutiny(load_settings(index_dir), shared_embedder).state()
    result = CliRunner().invoke(cli, ["status", "--index", str(index_dir)])
    assert result.exit_code == 1 and isinstance(result.exception, SystemExit), result.output
    assert result.stderr.startswith("error: ") and "--rebuild" in result.stderr


def test_following_the_rebuild_hint_repairs_a_corrupt_index(tmp_path, one_paper_index, shared_embedder):
    index_dir = tmp_path / "index"
    shutil.copytree(one_paper_index, index_dir)
    truncate(generation_of(index_dir) / VECTORS_NAME, 0.5)
    papers = small_papers(tmp_path / "papers", [SEED_PAPERS[1]])

    ingest_paths([papers], load_settings(index_dir), shared_embedder, rebuild=True)
    reader = IndexReader.open(index_dir)
    assert reader.integrity_problems() == [] and reader.document_count() == 1
    answer = Scrutiny(load_settings(index_dir), shared_embedder).ask(SUNDERLAND_QUESTION)
    assert answer.citations[0].doc_id == SUNDERLAND_DOC


# ---------------------------------------------------------------- operator errors: one line, exit 1, old index kept

FS_IOC_GETFLAGS, FS_IOC_SETFLAGS, FS_IMMUTABLE_FL = 0x80086601, 0x40086602, 0x10


@contextlib.contextmanager
def immutable(path: Path):
    """The file or folder made immutable (chattr +i): refused even to root, as a read-only mount would be."""
    import array
    import fcntl

    fd = os.open(path, os.O_RDONLY)
    try:
        flags = array.array("l", [0])
        fcntl.ioctl(fd, FS_IOC_GETFLAGS, flags, True)
        fcntl.ioctl(fd, FS_IOC_SETFLAGS, array.array("l", [flags[0] | FS_IMMUTABLE_FL]))
        try:
            yield path
        finally:
            fcntl.ioctl(fd, FS_IOC_SETFLAGS, flags)
    finally:
        os.close(fd)


def ingest_cli(papers: Path, index_dir: Path, *options: str):
    return CliRunner().invoke(cli, ["ingest", str(papers), "--index", str(index_dir), "--quiet", *options])


def assert_one_line_error(result, *words: str) -> str:
    assert result.exit_code == 1, result.output
    assert isinstance(result.exception, SystemExit), result.exception
    # The model loader may draw its own progress bar; of ours there is the one error line and no traceback.
    lines = [line for line in result.stderr.splitlines() if line.startswith("error: ")]
    assert len(lines) == 1 and "Traceback" not in result.stderr, result.stderr
    for word in words:
        assert word in lines[0], lines[0]
    return lines[0]


def index_state(index_dir: Path) -> tuple:
    reader = IndexReader.open(index_dir)
    return reader.generation, reader.document_count(), reader.integrity_problems()


@pytest.mark.parametrize("target", ["folder", "LOCK"])
def test_an_index_that_cannot_be_written_is_one_line_exit_1_and_the_old_index_stays(tmp_path, one_paper_index, target):
    index_dir = tmp_path / "index"
    shutil.copytree(one_paper_index, index_dir)
    (index_dir / "LOCK").touch()
    papers = small_papers(tmp_path / "papers", [SEED_PAPERS[0], SEED_PAPERS[1]])
    before = index_state(index_dir)
    with immutable(index_dir if target == "folder" else index_dir / "LOCK"):
        result = ingest_cli(papers, index_dir)
    line = assert_one_line_error(result, f"cannot write the index at {index_dir}", "write access",
                                 "previous index is still in use")
    assert "Traceback" not in line
    assert index_state(index_dir) == before


def test_a_full_disk_is_one_line_exit_1_and_the_old_index_stays(tmp_path, one_paper_index):
    """The index on a small tmpfs (in a private mount namespace) that the new generation cannot fit on."""
    papers = small_papers(tmp_path / "papers", [SEED_PAPERS[0], SEED_PAPERS[1], SMALL_PDF])
    used = sum(p.stat().st_size for p in one_paper_index.rglob("*") if p.is_file())
    mount = tmp_path / "small-disk"
    mount.mkdir()
    scrutiny = Path(sys.executable).parent / "scrutiny"
    script = (
        'set -e; mount -t tmpfs -o size="$1" tmpfs "$2"; cp -a "$3" "$2/index"; set +e; '
        '"$4" ingest "$5" --index "$2/index" --quiet; echo "exit $?" >&2; '
        '"$4" status --index "$2/index" --json'
    )
    size = used + 256 * 1024
    result = subprocess.run(
        ["unshare", "--mount", "--propagation", "private", "sh", "-c", script, "sh", str(size), str(mount),
         str(one_paper_index), str(scrutiny), str(papers)],
        capture_output=True, text=True, timeout=600,
    )
    errors = [line for line in result.stderr.splitlines() if line.startswith("error: ")]
    assert len(errors) == 1, result.stderr[-3000:]
    assert "no space left writing the index" in errors[0] and "previous index is still in use" in errors[0]
    assert "exit 1" in result.stderr and "Traceback" not in result.stderr
    status = json.loads(result.stdout)
    assert status["documents"] == 1 and status["problems"] == []
    assert status["generation"] == (one_paper_index / CURRENT_NAME).read_text().strip()


# ---------------------------------------------------------------- a damaged index is found and rebuilt

DAMAGE = {
    "truncated vectors": lambda d: truncate(generation_of(d) / VECTORS_NAME, 0.5),
    "garbled BM25": lambda d: (generation_of(d) / "lexical.npz").write_bytes(b"\x00garbage" * 100),
    "truncated database": lambda d: truncate(generation_of(d) / DB_NAME, 0.5),
}


@pytest.mark.parametrize("damage", list(DAMAGE), ids=lambda name: name.replace(" ", "-"))
def test_a_plain_ingest_finds_a_damaged_index_says_so_and_rebuilds_it(tmp_path, one_paper_index, damage):
    index_dir = tmp_path / "index"
    shutil.copytree(one_paper_index, index_dir)
    DAMAGE[damage](index_dir)
    papers = small_papers(tmp_path / "papers", [SEED_PAPERS[1]])

    result = ingest_cli(papers, index_dir)
    assert result.exit_code == 0, result.output
    repaired = [line for line in result.stderr.splitlines() if line.startswith("repaired: ")]
    assert repaired and "has been rebuilt" in repaired[0], result.stderr
    generation, documents, problems = index_state(index_dir)
    assert documents == 1 and problems == []
    again = ingest_cli(papers, index_dir)
    assert again.exit_code == 0 and "1 unchanged" in again.stdout and "repaired" not in again.stderr


# ---------------------------------------------------------------- an empty folder does not wipe the index


def test_an_ingest_that_would_drop_most_papers_is_refused_unless_allowed(tmp_path, shared_embedder):
    papers = small_papers(tmp_path / "papers", [*SEED_PAPERS, SMALL_PDF])
    index_dir = tmp_path / "index"
    ingest_paths([papers], load_settings(index_dir), shared_embedder)
    before = index_state(index_dir)
    for paper in papers.iterdir():
        paper.unlink()  # as an unmounted share looks

    result = ingest_cli(papers, index_dir)
    assert_one_line_error(result, "would drop 3 of the 3 papers", "nothing was published", "--allow-shrink")
    assert index_state(index_dir) == before

    allowed = ingest_cli(papers, index_dir, "--allow-shrink")
    assert allowed.exit_code == 0, allowed.output
    assert IndexReader.open(index_dir).document_count() == 0


# ---------------------------------------------------------------- a damaged manifest or pointer is a 503, never a 500


def drop_manifest_key(key: str):
    def damage(index_dir: Path) -> None:
        path = generation_of(index_dir) / "manifest.json"
        manifest = json.loads(path.read_text())
        del manifest[key]
        path.write_text(json.dumps(manifest))
    return damage


def current_as_folder(index_dir: Path) -> None:
    (index_dir / CURRENT_NAME).unlink()
    (index_dir / CURRENT_NAME).mkdir()


SERVER_DAMAGE = {
    "manifest without model": drop_manifest_key("model"),
    "manifest without dimension": drop_manifest_key("dimension"),
    "CURRENT a folder": current_as_folder,
}


@pytest.mark.parametrize("damage", list(SERVER_DAMAGE), ids=lambda name: name.replace(" ", "-"))
def test_a_damaged_manifest_or_pointer_is_reported_by_the_server_not_a_500(tmp_path, one_paper_index, shared_embedder, damage):
    from fastapi.testclient import TestClient

    from server.app import create_app

    index_dir = tmp_path / "index"
    shutil.copytree(one_paper_index, index_dir)
    SERVER_DAMAGE[damage](index_dir)
    settings = load_settings(index_dir)
    with TestClient(create_app(settings, Scrutiny(settings, shared_embedder))) as client:
        health = client.get("/api/health")
        assert health.status_code == 200 and health.json()["index_loaded"] is False
        assert health.json()["hint"] == "run scrutiny ingest --rebuild"
        assert client.post("/api/ask", json={"question": SUNDERLAND_QUESTION}).status_code == 503
        assert client.get("/", params={"q": SUNDERLAND_QUESTION}).status_code == 503
    result = CliRunner().invoke(cli, ["status", "--index", str(index_dir)])
    assert result.exit_code == 1 and result.stderr.startswith("error: ")


def test_a_damaged_sentence_vector_blob_is_ignored_and_the_question_answered(tmp_path, one_paper_index, shared_embedder):
    import sqlite3

    from fastapi.testclient import TestClient

    from server.app import create_app

    index_dir = tmp_path / "index"
    shutil.copytree(one_paper_index, index_dir)
    conn = sqlite3.connect(generation_of(index_dir) / DB_NAME)
    conn.execute("UPDATE chunks SET unit_vectors = x'0102030405'")
    conn.commit()
    conn.close()
    settings = load_settings(index_dir)
    with TestClient(create_app(settings, Scrutiny(settings, shared_embedder))) as client:
        asked = client.post("/api/ask", json={"question": SUNDERLAND_QUESTION})
        assert asked.status_code == 200, asked.text[:300]
        assert asked.json()["citations"][0]["doc_id"] == SUNDERLAND_DOC
        assert client.get("/", params={"q": SUNDERLAND_QUESTION}).status_code == 200


def test_ingest_replaces_a_current_pointer_that_is_a_folder(tmp_path, one_paper_index):
    index_dir = tmp_path / "index"
    shutil.copytree(one_paper_index, index_dir)
    current_as_folder(index_dir)
    papers = small_papers(tmp_path / "papers", [SEED_PAPERS[1]])
    result = ingest_cli(papers, index_dir)
    assert result.exit_code == 0, result.output
    assert "repaired: " in result.stderr
    assert index_state(index_dir)[1:] == (1, [])
    assert list(index_dir.glob(f"{CURRENT_NAME}.damaged-*"))


# ---------------------------------------------------------------- progress shows in a log too


def test_ingest_prints_progress_lines_when_stderr_is_not_a_terminal(tmp_path):
    papers = small_papers(tmp_path / "papers", [SEED_PAPERS[1]])
    result = CliRunner().invoke(cli, ["ingest", str(papers), "--index", str(tmp_path / "index")])
    assert result.exit_code == 0, result.output
    assert "Reading papers: 0/1" in result.stderr and "Reading papers: 1/1" in result.stderr
    assert "Embedding chunks: 0/" in result.stderr
    assert "\x1b[" not in result.stderr  # plain lines, no terminal control codes


# ---------------------------------------------------------------- reloads beside searches, under uvicorn

STORM_TOKEN = "storm-token"


@contextlib.contextmanager
def live_server(settings, scrutiny):
    """The real app under uvicorn on a free loopback port, in a thread; stopped on exit."""
    import socket
    import threading

    import uvicorn

    from server.app import create_app

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(create_app(settings, scrutiny), host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 120
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=30)


def test_a_reload_storm_beside_searches_gives_no_error_and_no_reset(tmp_path, one_paper_index, shared_embedder):
    import threading

    import httpx

    index_dir = tmp_path / "index"
    shutil.copytree(one_paper_index, index_dir)
    settings = load_settings(index_dir)
    settings.server.admin_token = STORM_TOKEN
    failures: list[str] = []
    statuses: list[int] = []

    def reloads(url: str) -> None:
        headers = {"authorization": f"Bearer {STORM_TOKEN}", "content-type": "application/json"}
        with httpx.Client(base_url=url, timeout=60) as http:
            for _ in range(25):
                try:
                    response = http.post("/api/reload", headers=headers, content=b"{}")
                    statuses.append(response.status_code)
                    if response.status_code != 200 or response.json()["index_loaded"] is not True:
                        failures.append(f"reload {response.status_code}: {response.text[:200]}")
                except httpx.HTTPError as exc:
                    failures.append(f"reload {type(exc).__name__}: {exc}")

    def searches(url: str, stop: threading.Event) -> None:
        with httpx.Client(base_url=url, timeout=60) as http:
            while not stop.is_set():
                try:
                    response = http.get("/api/search", params={"q": "agency social workers", "k": 3})
                    statuses.append(response.status_code)
                    if response.status_code != 200 or not response.json():
                        failures.append(f"search {response.status_code}: {response.text[:200]}")
                except httpx.HTTPError as exc:
                    failures.append(f"search {type(exc).__name__}: {exc}")

    with live_server(settings, Scrutiny(settings, shared_embedder)) as url:
        stop = threading.Event()
        searchers = [threading.Thread(target=searches, args=(url, stop)) for _ in range(4)]
        reloaders = [threading.Thread(target=reloads, args=(url,)) for _ in range(20)]
        for thread in searchers + reloaders:
            thread.start()
        for thread in reloaders:
            thread.join(timeout=300)
        stop.set()
        for thread in searchers:
            thread.join(timeout=60)
    assert failures == [], (len(failures), failures[:5])
    assert statuses.count(200) >= 20 * 25


def test_a_generation_published_while_a_question_is_answered_is_used_from_the_next_question(tmp_path, one_paper_index, shared_embedder):
    index_dir = tmp_path / "index"
    shutil.copytree(one_paper_index, index_dir)
    settings = load_settings(index_dir)
    scrutiny = Scrutiny(settings, shared_embedder)
    before = scrutiny.state()
    with scrutiny.held_state():
        ingest_paths([small_papers(tmp_path / "more", [SEED_PAPERS[0]])], settings, shared_embedder)
        assert scrutiny.state() is before  # every step of this question reads the generation it began with
        with scrutiny.held_state():  # held already: the inner block changes nothing, and leaving it releases nothing
            assert scrutiny.state() is before
        assert scrutiny.state() is before
    after = scrutiny.state()
    assert after.reader.generation != before.reader.generation and len(after.documents) == len(before.documents) + 1
    assert scrutiny.ask("How many agency social workers did Sunderland have?").citations  # asks open the new generation
