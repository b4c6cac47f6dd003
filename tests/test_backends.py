"""The Milvus backend against the embedded one: the same corpus, questions, filters and gold set on both.

Milvus runs as Milvus Lite in a temporary folder, started by the tests themselves (through pymilvus, in
this process), with the real model, so every figure below comes from real vectors and Milvus's own BM25.
"""
from __future__ import annotations

import shutil
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from core.records import Filters
from core.settings import Settings, load_settings
from index.backend import open_builder, open_view
from index.milvus import MilvusView
from index.service import Scrutiny
from index.store import IndexCorrupt, writer_lock
from ingest.pipeline import ingest_paths
from test_answers import QUESTIONS, assert_most_answered, cited_if_given

CORPUS = Path(__file__).resolve().parent.parent / "corpus"
GOLD = CORPUS / "gold" / "test.jsonl"
# R@5 and MRR@10 of the two backends on each half of the test split. Dense search is exact on both, so
# equal; Milvus's BM25 counts context words as the embedded one does but normalises length over them all,
# which gains two seed questions in hybrid R@5 (docs/scale.md), so Milvus is held to no worse, not to equal.
PARITY = 0.02
SEEDS = ["001_29f912cc4fd0f26b.txt", "003_eccd24399c49994d.txt"]


def milvus_settings(root: Path) -> Settings:
    settings = load_settings(root / "index")
    settings.backend.kind = "milvus"
    settings.backend.milvus_uri = str(root / "milvus.db")
    return settings


@pytest.fixture(scope="session")
def milvus_index(tmp_path_factory, shared_embedder) -> Settings:
    """Every paper of corpus/ ingested into Milvus Lite."""
    settings = milvus_settings(tmp_path_factory.mktemp("milvus-index"))
    report = ingest_paths([CORPUS], settings, shared_embedder)
    assert not report.skipped, report.skipped
    return settings


@pytest.fixture(scope="session")
def milvus_scrutiny(milvus_index, shared_embedder) -> Scrutiny:
    return Scrutiny(milvus_index, shared_embedder)


def test_the_milvus_index_holds_the_same_documents_and_chunks(milvus_scrutiny, corpus_scrutiny):
    milvus, embedded = milvus_scrutiny.state().reader, corpus_scrutiny.state().reader
    assert isinstance(milvus, MilvusView)
    assert milvus.integrity_problems() == []
    assert [d.doc_id for d in milvus.documents()] == [d.doc_id for d in embedded.documents()]
    assert milvus.chunk_count() == embedded.chunk_count()
    for doc_id in ("001_29f912cc4fd0f26b", "kent_2025-03_cabinet_qpr-q3-2024-25-cover-report"):
        assert [(c.ordinal, c.text, c.page, c.section) for c in milvus.chunks_of(doc_id)] == \
               [(c.ordinal, c.text, c.page, c.section) for c in embedded.chunks_of(doc_id)]
    assert milvus.stats()["model"] == embedded.stats()["model"]


def test_sentence_vectors_and_idf_are_served_by_milvus_as_by_the_embedded_index(milvus_scrutiny, corpus_scrutiny):
    milvus, embedded = milvus_scrutiny.state().reader, corpus_scrutiny.state().reader
    by_text = {c.text: c.chunk_id for c in embedded.chunks_of("001_29f912cc4fd0f26b")}
    pairs = [(c.chunk_id, by_text[c.text]) for c in milvus.chunks_of("001_29f912cc4fd0f26b")]
    stored_milvus = milvus.unit_vectors_of(m for m, _ in pairs)
    stored_embedded = embedded.unit_vectors_of(e for _, e in pairs)
    assert stored_milvus and len(stored_milvus) == len(stored_embedded)
    for m, e in pairs:
        np.testing.assert_allclose(stored_milvus[m], stored_embedded[e], atol=2e-3)  # both keep float16
        np.testing.assert_allclose(milvus.vectors_of([m])[0], embedded.vectors_of([e])[0], atol=1e-5)
    for word in ("agency", "re-referral", "sunderland", "the", "zyzzyva"):
        assert milvus.idf(word) == pytest.approx(embedded.idf(word), rel=1e-6), word


@pytest.fixture(scope="module")
def milvus_answers(milvus_scrutiny) -> dict[str, object]:
    return {question: milvus_scrutiny.ask(question) for question, _, _ in QUESTIONS}


def test_milvus_answers_most_questions(milvus_answers):
    assert_most_answered(milvus_answers)


@pytest.mark.parametrize(("question", "doc_ids", "figures"), QUESTIONS, ids=[q for q, _, _ in QUESTIONS])
def test_milvus_answers_quote_the_figure_and_cite_its_paper(milvus_answers, question, doc_ids, figures):
    """As over the embedded index: an answer may be withheld, never wrong."""
    cited_if_given(milvus_answers[question], doc_ids, figures)


FILTERS = [
    Filters(authority="sunderland"),
    Filters(authority="Kent", since="2025-03-01"),
    Filters(until="2005-12-31"),
    Filters(committee="Cabinet"),
    Filters(doc_id="003_eccd24399c49994d"),
    Filters(authority="Nowhere Borough"),
]


@pytest.mark.parametrize("filters", FILTERS, ids=[str({k: v for k, v in vars(f).items() if v}) for f in FILTERS])
@pytest.mark.parametrize("mode", ["bm25", "dense"])
def test_filters_become_milvus_expressions_that_keep_the_same_papers(milvus_scrutiny, corpus_scrutiny, filters, mode):
    question = "How many children were looked after and what was the target?"
    milvus = milvus_scrutiny.search(question, filters, mode, k=20)
    embedded = corpus_scrutiny.search(question, filters, mode, k=20)
    assert {h.document.doc_id for h in milvus} <= {h.document.doc_id for h in corpus_scrutiny.search(question, filters, mode, k=200)}
    assert all(_passes(h.document, filters) for h in milvus)
    if mode == "dense":  # exact search on both sides: the same passages in the same order
        assert [h.chunk.text for h in milvus] == [h.chunk.text for h in embedded]
    assert bool(milvus) == bool(embedded)


def _passes(document, filters: Filters) -> bool:
    meta = document.meta
    return ((not filters.authority or filters.authority.lower() in (meta.authority or "").lower())
            and (not filters.committee or filters.committee.lower() in (meta.committee or "").lower())
            and (not filters.since or (meta.date or "") >= filters.since)
            and (not filters.until or (bool(meta.date) and meta.date <= filters.until))
            and (not filters.doc_id or document.doc_id == filters.doc_id))


@pytest.fixture(scope="module")
def gate(corpus_scrutiny, milvus_scrutiny):
    from evaluation.gold import load_gold
    from evaluation.run import evaluate_modes

    gold = load_gold(GOLD)
    return {"embedded": evaluate_modes(corpus_scrutiny, gold, ["bm25", "dense", "hybrid"]),
            "milvus": evaluate_modes(milvus_scrutiny, gold, ["bm25", "dense", "hybrid"])}


@pytest.mark.parametrize("half", ["seed", "kent"])
@pytest.mark.parametrize("metric", ["recall@5", "mrr@10"])
@pytest.mark.parametrize("mode", ["dense", "hybrid"])
def test_the_quality_gate_scores_agree_between_backends(gate, mode, metric, half, capsys):
    embedded, milvus = gate["embedded"][mode].metric(metric, half), gate["milvus"][mode].metric(metric, half)
    with capsys.disabled():
        print(f"\n{mode} {half} {metric}: embedded {embedded:.3f}, milvus {milvus:.3f}")
    assert milvus >= embedded - PARITY
    if mode == "dense":
        assert milvus == pytest.approx(embedded, abs=1e-9)  # the same exact search over the same vectors


@pytest.mark.parametrize("half", ["seed", "kent"])
@pytest.mark.parametrize("metric", ["recall@5", "mrr@10"])
def test_milvus_bm25_stays_above_the_embedded_floors(gate, metric, half):
    import json

    floors = json.loads((CORPUS.parent / "evaluation" / "floors.json").read_text())["floors"]["bm25"][half]
    assert gate["milvus"]["bm25"].metric(metric, half) >= floors[metric] - PARITY


def test_milvus_answers_the_gold_set_as_well_as_the_embedded_index(gate):
    for mode in ("bm25", "dense", "hybrid"):
        embedded, milvus = (gate[b][mode].metric("answer_accuracy") for b in ("embedded", "milvus"))
        assert milvus >= embedded - PARITY, (mode, embedded, milvus)


# ------------------------------------------------------------------ incremental ingest and visibility


@pytest.fixture
def papers(tmp_path: Path) -> Path:
    folder = tmp_path / "papers"
    folder.mkdir()
    for name in SEEDS:
        shutil.copy(CORPUS / name, folder / name)
    return folder


def rows_of(settings: Settings, doc_id: str) -> int:
    view = open_view(settings)
    found = view.client.query(settings.backend.milvus_collection, filter=f'doc_id == "{doc_id}"', output_fields=["count(*)"])
    return int(found[0]["count(*)"])


def test_milvus_reingest_writes_only_the_changed_paper_and_deletes_removed_ones(tmp_path, papers, shared_embedder):
    settings = milvus_settings(tmp_path)
    first = ingest_paths([papers], settings, shared_embedder)
    assert first.chunks_embedded == first.chunks_total > 0
    assert ingest_paths([papers], settings, shared_embedder).chunks_embedded == 0

    changed, removed = papers / SEEDS[1], papers / SEEDS[0]
    changed.write_text(changed.read_text() + "\n\nA new paragraph about the fostering recruitment target of 40 households.\n")
    second = ingest_paths([papers], settings, shared_embedder)
    view = open_view(settings)
    assert second.updated == [changed.stem] and second.chunks_embedded == view.document(changed.stem).chunks
    assert rows_of(settings, changed.stem) == view.document(changed.stem).chunks  # the old rows are gone
    assert "40 households" in " ".join(c.text for c in view.chunks_of(changed.stem))

    removed.unlink()
    third = ingest_paths([papers], settings, shared_embedder)
    assert third.removed == [removed.stem]
    assert rows_of(settings, removed.stem) == 0
    assert open_view(settings).integrity_problems() == []


def test_a_paper_written_to_milvus_is_invisible_until_its_generation_is_published(tmp_path, papers, shared_embedder):
    settings = milvus_settings(tmp_path)
    ingest_paths([papers], settings, shared_embedder)
    before = open_view(settings)
    extra = papers / "extra.txt"
    extra.write_text("1. Purpose\n1.1 The zyzzyva count in the borough reached 9,999 this year.\n")

    from ingest.pipeline import embed_prepared, prepare_document

    item = prepare_document(extra, "0" * 64, {}, settings)
    vectors, units, _ = embed_prepared(shared_embedder, [item])
    with writer_lock(settings.index_dir):
        writer = open_builder(settings, shared_embedder.name, shared_embedder.dimension)
        writer.add_document(item.document, item.chunks, vectors, item.contexts, item.bodies, units)
        writer._flush_rows(everything=True)
        writer.client.flush(settings.backend.milvus_collection)
        assert rows_of(settings, "extra") == len(item.chunks)  # the rows are in Milvus...
        during = Scrutiny(settings, shared_embedder)
        assert "extra" not in {h.document.doc_id for h in during.search("zyzzyva", mode="bm25", k=10)}
        assert "extra" not in {h.document.doc_id for h in during.search("zyzzyva count in the borough", mode="dense", k=50)}
        assert before.bm25("zyzzyva", None, 10) == []  # ...but no reader sees them
        writer.abandon()
    assert rows_of(settings, "extra") == 0  # an abandoned generation takes its rows with it
    published = ingest_paths([papers], settings, shared_embedder)
    assert published.added == ["extra"]
    # Only the new paper has the word. (Its rank among other words' matches is not the point: Milvus Lite keeps
    # BM25 statistics per segment, and a paper just written sits in a small one until Lite compacts.)
    published_view = Scrutiny(settings, shared_embedder)
    assert [h.document.doc_id for h in published_view.search("zyzzyva", mode="bm25", k=3)] == ["extra"]
    assert published_view.search("The zyzzyva count in the borough reached 9,999 this year.", mode="dense", k=1)[0].document.doc_id == "extra"


def test_the_milvus_backend_refuses_an_index_folder_built_by_the_other_backend(corpus_index, tmp_path):
    settings = load_settings(corpus_index.index_dir)
    settings.backend.kind = "milvus"
    settings.backend.milvus_uri = str(tmp_path / "milvus.db")
    with pytest.raises(IndexCorrupt, match="built with the embedded backend"):
        open_view(settings)


def test_mixing_models_of_another_dimension_in_one_collection_is_refused(tmp_path, papers, shared_embedder):
    settings = milvus_settings(tmp_path)
    ingest_paths([papers], settings, shared_embedder)
    with writer_lock(settings.index_dir), pytest.raises(IndexCorrupt, match="384-dimensional"):
        open_builder(settings, "another-model", 768)


def test_milvus_hybrid_through_milvus_rankers_still_finds_the_answer(milvus_index, shared_embedder):
    for fusion in ("weighted", "rrf"):
        settings = milvus_index.model_copy(deep=True)
        settings.backend.milvus_fusion = fusion
        hits = Scrutiny(settings, shared_embedder).search("How many agency social workers did Sunderland have?", k=5)
        assert hits and hits[0].document.doc_id == "001_29f912cc4fd0f26b", fusion
        assert "79 agency social workers" in " ".join(h.chunk.text for h in hits[:3]), fusion
