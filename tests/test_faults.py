"""Faults: ingests killed mid-way, two ingests at once, a server reading while an ingest publishes, broken indexes.

The kill machinery is shared with `bench/kill_loop.py`, which runs many more kills than these.
"""
from __future__ import annotations

import random
import shutil
import signal
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
