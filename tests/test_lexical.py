"""BM25 postings: scores against the formula worked by hand, stemming, filters and the saved form."""
import math

import numpy as np
import pytest

from index.lexical import B, CONTEXT_WEIGHT, K1, LexicalIndex, Terms

TEXTS = [
    ("The re-referral rate fell to 21.5% against a target of 20%.", "Peterborough Cabinet"),
    ("Re-referrals within twelve months are monitored monthly by the service.", "Kent Cabinet"),
    ("Agency social workers numbered 6,681 across the region.", "Sunderland Scrutiny"),
    ("Family hubs opened in every district.", "Kent Cabinet"),
]


@pytest.fixture(scope="module")
def terms():
    return Terms()


@pytest.fixture(scope="module")
def lexical(terms):
    counts = [terms.term_counts(body, context) for body, context in TEXTS]
    ids = np.array([10, 20, 30, 40])
    return LexicalIndex.build(ids, np.array([length for _, length in counts]), [blob for blob, _ in counts])


def expected_bm25(terms: Terms, query: str, row: int) -> float:
    """BM25 for one chunk, straight from the formula over the stemmed words."""
    bodies = [terms.words(body) for body, _ in TEXTS]
    contexts = [terms.words(context) for _, context in TEXTS]
    lengths = [len(b) + len(c) for b, c in zip(bodies, contexts)]
    average = sum(lengths) / len(lengths)
    score = 0.0
    for word in dict.fromkeys(terms.words(query)):
        frequency = bodies[row].count(word) + CONTEXT_WEIGHT * contexts[row].count(word)
        if not frequency:
            continue
        holding = sum(1 for b, c in zip(bodies, contexts) if word in b or word in c)
        idf = math.log(1 + (len(TEXTS) - holding + 0.5) / (holding + 0.5))
        score += idf * frequency * (K1 + 1) / (frequency + K1 * (1 - B + B * lengths[row] / average))
    return score


def test_words_are_stemmed_folded_and_stripped_of_stopwords(terms):
    assert terms.words("The Referrals were monitored") == ["referr", "monitor"]
    assert terms.words("6,681 social workers") == ["6681", "social", "worker"]
    assert terms.words("Kent\u2019s 21.5% rate") == ["kent", "21.5", "rate"]


def test_a_month_column_is_the_month_and_year_a_question_spells_out(terms):
    # Kent's tables head their columns "Sep-24"; a councillor asks about "September 2024".
    assert terms.words("UASC | Sep-24: 555") == ["uasc", "sep", "2024", "555"]
    assert terms.words("at the end of September 2024") == ["end", "sep", "2024"]
    assert terms.words("Sept 2024 and Mar'99") == ["sep", "2024", "mar", "1999"]
    assert terms.words("2024-25 and 12-24") == ["2024", "25", "12", "24"]  # a financial year and a range stay as printed


def test_scores_match_the_bm25_formula(terms, lexical):
    query = "re-referral target Kent"
    found = dict(lexical.top(terms.keys(query), 10))
    assert set(found) == {10, 20, 40}
    for row, chunk_id in enumerate([10, 20, 30, 40]):
        if chunk_id in found:
            assert found[chunk_id] == pytest.approx(expected_bm25(terms, query, row), rel=1e-5)


def test_best_first_and_limited(terms, lexical):
    ranked = lexical.top(terms.keys("re-referrals target"), 1)
    assert [chunk_id for chunk_id, _ in ranked] == [10]  # holds both words
    assert lexical.top(terms.keys("ofsted inspection"), 5) == []


def test_number_written_with_a_thousands_separator_matches_either_way(terms, lexical):
    assert [c for c, _ in lexical.top(terms.keys("6681 agency"), 5)][0] == 30


def test_allowed_rows_restrict_the_results(terms, lexical):
    allowed = lexical.allowed_rows(np.array([20, 40, 99]))
    assert allowed.tolist() == [False, True, False, True]
    assert [c for c, _ in lexical.top(terms.keys("re-referral target Kent"), 10, allowed)] == [20, 40]


def test_rarer_words_have_higher_idf(terms, lexical):
    common, rare, absent = (lexical.idf(terms.keys(w)) for w in ("kent", "hubs", "ofsted"))
    assert absent > rare > common > 0


def test_saved_postings_load_unchanged(tmp_path, terms, lexical):
    lexical.save(tmp_path)
    loaded = LexicalIndex.load(tmp_path)
    query = terms.keys("referral monitored family")
    assert loaded.top(query, 10) == lexical.top(query, 10)
    assert loaded.chunk_count == 4
