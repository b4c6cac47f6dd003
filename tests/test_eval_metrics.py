"""Ranking and answer metrics checked against hand-worked cases, and the gold loader's errors."""
from __future__ import annotations

import json
import math
from pathlib import Path

import ir_measures
import pytest

from evaluation.gold import GoldQuestion, load_gold
from evaluation.metrics import (
    RANKING_MEASURES, QuestionScore, aggregate, answer_is_correct, first_hit_rank, passage_is_hit, per_tag,
    ranking_run, ranking_scores,
)

CORPUS_GOLD = Path(__file__).resolve().parent.parent / "corpus" / "gold"


def flags_with_hit_at(rank: int | None, length: int = 10) -> list[bool]:
    return [position == rank for position in range(1, length + 1)]


def gold(**overrides) -> GoldQuestion:
    fields = dict(id="q", question="How many?", answers=["6,681"], doc="000_suffolk", evidence=["6681 referrals"], tags=["seed"])
    return GoldQuestion(**{**fields, **overrides})


def test_hits_at_ranks_two_none_one_give_the_hand_worked_means():
    scores = ranking_scores({"a": flags_with_hit_at(2), "b": flags_with_hit_at(None), "c": flags_with_hit_at(1)})
    questions = [QuestionScore(q, ["t"], scores[q], True, None) for q in scores]
    means = aggregate(questions).ranking
    assert means["recall@1"] == pytest.approx(1 / 3)
    assert means["recall@3"] == pytest.approx(2 / 3)
    assert means["recall@5"] == means["recall@10"] == pytest.approx(2 / 3)
    assert means["mrr@10"] == pytest.approx((0.5 + 0 + 1) / 3)
    # nDCG with one relevant passage at rank r is 1 / log2(r + 1).
    assert means["ndcg@10"] == pytest.approx((1 / math.log2(3) + 0 + 1) / 3)


def test_recall_at_k_counts_a_question_once_however_many_hits_it_has():
    scores = ranking_scores({"a": [False, False, False, True, True, False]})["a"]
    assert (scores["recall@3"], scores["recall@5"]) == (0.0, 1.0)
    assert scores["mrr@10"] == pytest.approx(0.25)
    dcg = 1 / math.log2(5) + 1 / math.log2(6)
    ideal = 1 + 1 / math.log2(3)
    assert scores["ndcg@10"] == pytest.approx(dcg / ideal)


def test_a_hit_beyond_rank_ten_scores_nothing_and_an_empty_ranking_scores_zero():
    scores = ranking_scores({"late": flags_with_hit_at(11, length=12), "empty": []})
    assert all(value == 0.0 for value in scores["late"].values())
    assert all(value == 0.0 for value in scores["empty"].values())


def test_means_agree_with_ir_measures_own_aggregate():
    relevance = {"a": flags_with_hit_at(3), "b": [True, True, False], "c": flags_with_hit_at(None), "d": flags_with_hit_at(7)}
    qrels, run = ranking_run(relevance)
    reference = ir_measures.calc_aggregate(list(RANKING_MEASURES.values()), qrels, run)
    means = aggregate([QuestionScore(q, [], s, True, None) for q, s in ranking_scores(relevance).items()]).ranking
    for key, measure in RANKING_MEASURES.items():
        assert means[key] == pytest.approx(reference[measure]), key


def test_first_hit_rank_is_one_based_or_none():
    assert first_hit_rank([False, True, True]) == 2
    assert first_hit_rank([False, False]) is None


def test_passage_hit_needs_the_gold_paper_and_normalised_evidence():
    question = gold()
    assert passage_is_hit("000_suffolk", "There were 6,681\nREFERRALS in the year.", question)
    assert not passage_is_hit("002_other", "There were 6681 referrals.", question)
    assert not passage_is_hit("000_suffolk", "There were 6,682 referrals.", question)
    assert passage_is_hit("002_other", "6681 referrals", gold(doc=None, docs=["002_other"]))
    assert passage_is_hit("anything", "6681 referrals", gold(doc=None))


def test_answer_correct_is_normalised_containment_and_never_a_refusal():
    question = gold(answers=["£4 million", "6,681"])
    assert answer_is_correct(True, "\u201cSuffolk received 6681  referrals.\u201d [1]", question)
    assert answer_is_correct(True, "savings of \u00a34 MILLION a year", question)
    assert not answer_is_correct(True, "Suffolk received 668 referrals.", question)
    assert not answer_is_correct(False, "nearest passage: 6,681 referrals", question)


def test_unanswerable_questions_score_only_in_refusal_accuracy():
    questions = [
        QuestionScore("a", ["seed"], ranking_scores({"a": [True]})["a"], True, None),
        QuestionScore("b", ["kent"], ranking_scores({"b": [False, True]})["b"], False, None),
        QuestionScore("c", ["kent", "unanswerable"], None, None, True),
        QuestionScore("d", ["kent", "unanswerable"], None, None, False),
    ]
    overall = aggregate(questions)
    assert overall.n == 4
    assert overall.ranking["recall@1"] == pytest.approx(0.5)
    assert overall.ranking["mrr@10"] == pytest.approx(0.75)
    assert overall.answer_accuracy == pytest.approx(0.5)
    assert overall.refusal_accuracy == pytest.approx(0.5)
    tags = per_tag(questions)
    assert sorted(tags) == ["kent", "seed", "unanswerable"]
    assert tags["seed"].refusal_accuracy is None
    assert (tags["kent"].n, tags["kent"].answer_accuracy, tags["kent"].ranking["mrr@10"]) == (3, 0.0, 0.5)
    assert tags["unanswerable"].ranking["recall@5"] is None and tags["unanswerable"].answer_accuracy is None


def write_lines(path: Path, records: list) -> Path:
    path.write_text("\n".join(r if isinstance(r, str) else json.dumps(r) for r in records) + "\n", encoding="utf-8")
    return path


def record(id_: str, **overrides) -> dict:
    return {"id": id_, "question": "Q?", "answers": ["1"], "doc": None, "evidence": ["1"], "tags": [], **overrides}


def test_load_gold_reads_a_file_or_every_jsonl_in_a_folder_and_ignores_unknown_keys(tmp_path):
    write_lines(tmp_path / "a.jsonl", [record("a1", docs=["x", "y"], note="ignored"), "", record("a2", answers=[])])
    write_lines(tmp_path / "b.jsonl", [record("b1", doc="x")])
    (tmp_path / "notes.txt").write_text("not gold")
    questions = load_gold(tmp_path)
    assert [q.id for q in questions] == ["a1", "a2", "b1"]
    assert questions[0].source_docs == {"x", "y"} and questions[2].source_docs == {"x"}
    assert not questions[1].answerable
    assert [q.id for q in load_gold(tmp_path / "b.jsonl")] == ["b1"]


@pytest.mark.parametrize(("bad_line", "message"), [
    ("{not json", "a.jsonl:2"),
    (json.dumps({"id": "x", "question": "Q?", "answers": ["1"], "doc": None, "tags": []}), "missing key(s): evidence"),
    (json.dumps(record("x", answers="1")), "'answers' must be a list of strings"),
    (json.dumps(record("a1")), "duplicate gold id 'a1'"),
    (json.dumps(record("x", history="What was it in 2004?")), "'history' must be a list of strings"),
    (json.dumps(record("x", history=["What was it in 2004?", 2004])), "'history' must be a list of strings"),
])
def test_load_gold_names_the_file_and_line_of_a_bad_question(tmp_path, bad_line, message):
    write_lines(tmp_path / "a.jsonl", [record("a1"), bad_line])
    with pytest.raises(ValueError, match="a.jsonl") as caught:
        load_gold(tmp_path / "a.jsonl")
    assert message in str(caught.value)


def test_history_holds_the_earlier_questions_of_a_follow_up_oldest_first(tmp_path):
    earlier = ["How many children were looked after in 2004?", "And in 2005?"]
    write_lines(tmp_path / "a.jsonl", [record("f1", history=earlier), record("f2"), record("f3", history=None)])
    follow_up, standalone, null = load_gold(tmp_path / "a.jsonl")
    assert follow_up.history == earlier
    assert standalone.history == [] and null.history == []


def test_load_gold_refuses_a_missing_file_or_an_empty_folder(tmp_path):
    with pytest.raises(FileNotFoundError, match="nope.jsonl"):
        load_gold(tmp_path / "nope.jsonl")
    with pytest.raises(FileNotFoundError, match="no \\*.jsonl"):
        load_gold(tmp_path)


def test_the_corpus_gold_sets_load_with_both_halves_tagged():
    for name in ("dev.jsonl", "test.jsonl"):
        questions = load_gold(CORPUS_GOLD / name)
        tags = {tag for q in questions for tag in q.tags}
        assert {"seed", "kent"} <= tags, name
        assert any(not q.answerable for q in questions), name
