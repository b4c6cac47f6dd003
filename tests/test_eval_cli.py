"""`scrutiny eval` end to end over a small gold file and the corpus index."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from evaluation.cli import eval_command

TINY_GOLD = [
    {"id": "seed-agency", "question": "How many agency social workers did Sunderland have?", "answers": ["79"],
     "doc": "001_29f912cc4fd0f26b", "evidence": ["currently 79 agency social workers"], "tags": ["seed", "number"]},
    {"id": "kent-chair", "question": "Who chaired Kent's Corporate Parenting Panel on 29 October 2024?",
     "answers": ["Shellina Prendergast"], "doc": "kent_2024-10_corporate-parenting-panel-minutes",
     "evidence": ["Shellina Prendergast (Chair)"], "tags": ["kent", "person"], "reviewer": "unknown keys are ignored"},
    {"id": "none-adoption", "question": "What was Sunderland's adoption scorecard target for 2019?", "answers": [],
     "doc": None, "evidence": [], "tags": ["unanswerable"]},
]
TOP_KEYS = {"n", "mode", "recall@1", "recall@3", "recall@5", "recall@10", "mrr@10", "ndcg@10", "answer_accuracy",
            "refusal_accuracy", "answer_precision", "answer_level_share", "reliability", "per_tag", "per_question"}
QUESTION_KEYS = {"id", "rank", "answer_correct", "found", "refusal_correct", "answer", "confidence", "score", "read_as",
                 "top_doc", "top_text"}


@pytest.fixture
def gold_file(tmp_path: Path) -> Path:
    path = tmp_path / "tiny.jsonl"
    path.write_text("\n".join(json.dumps(record) for record in TINY_GOLD) + "\n", encoding="utf-8")
    return path


def run_eval(*args: str):
    return CliRunner().invoke(eval_command, list(args), catch_exceptions=False)


def test_json_gives_the_scores_object_for_one_mode(corpus_index, gold_file):
    result = run_eval("--gold", str(gold_file), "--index", str(corpus_index.index_dir), "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert set(data) == TOP_KEYS
    assert (data["n"], data["mode"]) == (3, "hybrid")
    assert sorted(data["per_tag"]) == ["kent", "number", "person", "seed", "unanswerable"]
    assert data["per_tag"]["seed"]["n"] == 1 and data["per_tag"]["unanswerable"]["recall@5"] is None
    questions = {q["id"]: q for q in data["per_question"]}
    assert all(set(q) == QUESTION_KEYS for q in questions.values())
    agency = questions["seed-agency"]
    assert agency["answer_correct"] is True and agency["found"] is True and "79" in agency["answer"]
    assert isinstance(agency["rank"], int) and 1 <= agency["rank"] <= 10
    assert agency["refusal_correct"] is None
    unanswerable = questions["none-adoption"]
    assert unanswerable["rank"] is None and unanswerable["answer_correct"] is None
    assert unanswerable["refusal_correct"] is (not unanswerable["found"])
    assert data["refusal_accuracy"] == float(unanswerable["refusal_correct"])
    # Accuracy is the share of the two answerable questions answered correctly.
    assert data["answer_accuracy"] == sum(q["answer_correct"] for q in data["per_question"][:2]) / 2
    # Each answer's level: firm answers are scored for precision, and counted among the answerable questions.
    assert all(q["found"] == (q["confidence"] != "not_found") and 0.0 <= q["score"] <= 1.0 for q in questions.values())
    answerable = data["per_question"][:2]
    firm = [q for q in data["per_question"] if q["confidence"] == "answer"]
    assert data["answer_precision"] == (sum(bool(q["answer_correct"]) for q in firm) / len(firm) if firm else None)
    assert data["answer_level_share"] == sum(q["confidence"] == "answer" for q in answerable) / 2
    assert sum(bucket["n"] for bucket in data["reliability"]) == 3


def test_mode_all_compares_the_three_retrievers(corpus_index, gold_file):
    result = run_eval("--gold", str(gold_file), "--index", str(corpus_index.index_dir), "--mode", "all", "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert list(data) == ["modes"]
    assert sorted(data["modes"]) == ["bm25", "dense", "hybrid"]
    for mode, scores in data["modes"].items():
        assert set(scores) == TOP_KEYS and scores["mode"] == mode and scores["n"] == 3


def test_table_and_report_show_every_metric_and_the_misses(corpus_index, gold_file, tmp_path):
    report_dir = tmp_path / "report"
    result = run_eval("--gold", str(gold_file), "--index", str(corpus_index.index_dir), "--mode", "all",
                      "--tag", "seed", "--report", str(report_dir))
    assert result.exit_code == 0, result.output
    for label in ("Recall@1", "Recall@10", "MRR@10", "nDCG@10", "Answer accuracy", "Refusal accuracy", "Per tag", "seed", "bm25", "dense", "hybrid"):
        assert label in result.stdout, label
    assert "kent" not in result.stdout  # --tag kept only the seed question
    markdown = (report_dir / "eval-report.md").read_text(encoding="utf-8")
    assert "## Overall" in markdown and "| Recall@5 |" in markdown and "| seed | 1 | hybrid |" in markdown and "## Misses: hybrid" in markdown
    assert (report_dir / "eval-metrics.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_the_report_lists_a_miss_with_what_came_back_first(corpus_index, tmp_path):
    gold = tmp_path / "miss.jsonl"
    gold.write_text(json.dumps({
        "id": "wrong-paper", "question": "How many agency social workers did Sunderland have?", "answers": ["seventy-nine"],
        "doc": "003_eccd24399c49994d", "evidence": ["agency social workers"], "tags": ["seed"],
    }) + "\n", encoding="utf-8")
    report_dir = tmp_path / "report"
    result = run_eval("--gold", str(gold), "--index", str(corpus_index.index_dir), "--mode", "bm25", "--json",
                      "--report", str(report_dir))
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["recall@10"] == 0.0 and data["answer_accuracy"] == 0.0
    markdown = (report_dir / "eval-report.md").read_text(encoding="utf-8")
    miss = markdown.split("## Misses: bm25 (1)")[1]
    assert "**wrong-paper**" in miss and "no supporting passage retrieved" in miss and "`seventy-nine`" in miss
    assert f"first passage ({data['per_question'][0]['top_doc']})" in miss


def test_a_malformed_gold_line_is_named_by_file_and_line(tmp_path, gold_file):
    with gold_file.open("a", encoding="utf-8") as handle:
        handle.write('{"id": "broken", "question": "Q?"\n')
    result = run_eval("--gold", str(gold_file), "--index", str(tmp_path / "unused"))
    assert result.exit_code == 2
    assert f"{gold_file}:4" in result.stderr


def test_missing_gold_file_and_missing_index_are_clear_errors(tmp_path, gold_file):
    missing_gold = run_eval("--gold", str(tmp_path / "absent.jsonl"))
    assert missing_gold.exit_code == 2 and "gold file not found" in missing_gold.stderr
    missing_index = run_eval("--gold", str(gold_file), "--index", str(tmp_path / "no-index"))
    assert missing_index.exit_code == 2
    assert "no-index" in missing_index.stderr


def test_a_gold_file_without_tags_is_scored(corpus_index, tmp_path):
    untagged = tmp_path / "untagged.jsonl"
    untagged.write_text("\n".join(json.dumps({k: v for k, v in record.items() if k != "tags"}) for record in TINY_GOLD),
                        encoding="utf-8")
    result = run_eval("--gold", str(untagged), "--index", str(corpus_index.index_dir), "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["n"] == 3 and data["per_tag"] == {}
    table = run_eval("--gold", str(untagged), "--index", str(corpus_index.index_dir))
    assert table.exit_code == 0 and "Per tag" not in table.stdout
