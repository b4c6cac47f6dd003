"""evaluation.check_gold: each evidence string is looked for, page by page, in its paper's parsed and raw text."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from evaluation.check_gold import gold_problems, main
from evaluation.gold import load_gold
from sample_files import text_pdf

ROOT = Path(__file__).resolve().parent.parent
HEADER = "Transport Committee 12 September 2024"  # printed on every page, so cleaning drops it as a running header


@pytest.fixture
def corpus(tmp_path) -> Path:
    folder = tmp_path / "corpus"
    folder.mkdir()
    body = [
        ["The levy was first studied in 2011.", "Nottingham's annual levy charge is currently", "GBP 550 per space."],
        ["Stage One would take approximately a year.", "It could cost up to 1m pounds."],
        ["The committee approved the report.", "Meeting ended at 8.10 pm."],
    ]
    text_pdf(folder / "report.pdf", [[HEADER, *lines, HEADER] for lines in body])
    (folder / "minutes.txt").write_text("Minutes\n\nThe recommendation was CARRIED (8 voting FOR, 1 against).\n")
    return folder


def gold_file(tmp_path: Path, *records: dict) -> Path:
    path = tmp_path / "gold.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in records) + "\n", encoding="utf-8")
    return path


def question(id_: str, doc: str | None, evidence: list[str], **extra) -> dict:
    return {"id": id_, "question": "Q?", "answers": ["x"], "doc": doc, "evidence": evidence, "tags": [], **extra}


def problems(tmp_path: Path, corpus: Path, *records: dict) -> list[str]:
    return [p.line() for p in gold_problems(load_gold(gold_file(tmp_path, *records)), corpus)]


def test_evidence_is_found_after_normalising_case_spacing_and_quotes(tmp_path, corpus):
    assert problems(
        tmp_path, corpus,
        question("a", "report", ["NOTTINGHAM\u2019S annual   levy charge"]),
        question("b", "minutes", ["carried (8 voting for, 1 against)"]),
        question("c", None, [], answers=[]),  # unanswerable: nothing to look for
        question("d", "minutes", ["levy was first studied"], docs=["report"]),  # found in one of its papers
    ) == []


def test_missing_evidence_a_missing_paper_and_evidence_without_a_paper_are_each_reported(tmp_path, corpus):
    found = problems(
        tmp_path, corpus,
        question("a", "report", ["approximately a year", "GBP 600 per space"]),
        question("b", "no_such_paper", ["anything"]),
        question("c", None, ["some words"]),
    )
    assert found == [
        "a [report]: 'GBP 600 per space' not found in the paper's text",
        "b [no_such_paper]: paper not in the corpus",
        "c: has evidence but no doc to look for it in",
    ]


def test_a_phrase_cleaned_out_of_the_parsed_text_still_counts_through_the_raw_pdf_text(tmp_path, corpus):
    from ingest.parse import parse_file

    assert not any(HEADER in page for page in parse_file(corpus / "report.pdf").pages)
    assert problems(tmp_path, corpus, question("a", "report", [HEADER])) == []


def test_a_phrase_across_a_page_break_does_not_count(tmp_path, corpus):
    assert problems(tmp_path, corpus, question("a", "report", ["GBP 550 per space. Stage One"])) == [
        "a [report]: 'GBP 550 per space. Stage One' not found in the paper's text"
    ]


def test_exit_status_is_0_when_clean_1_with_problems_and_2_for_an_unreadable_gold_file(tmp_path, corpus, capsys):
    clean = gold_file(tmp_path, question("a", "report", ["Meeting ended at 8.10 pm"]))
    assert main([str(clean), "--corpus", str(corpus)]) == 0
    assert "1 questions, 1 evidence strings checked, 0 problem(s)" in capsys.readouterr().out
    broken = gold_file(tmp_path, question("a", "report", ["Meeting ended at 9.10 pm"]))
    assert main([str(broken), "--corpus", str(corpus)]) == 1
    assert "'Meeting ended at 9.10 pm' not found" in capsys.readouterr().out
    (tmp_path / "bad.jsonl").write_text("{not json\n")
    assert main([str(tmp_path / "bad.jsonl"), "--corpus", str(corpus)]) == 2
    assert "bad.jsonl:1" in capsys.readouterr().err
    assert main([str(clean), "--corpus", str(tmp_path / "nowhere")]) == 2


@pytest.mark.slow
def test_every_bundled_gold_evidence_string_occurs_in_its_paper():
    questions = load_gold(ROOT / "corpus" / "gold")
    assert [p.line() for p in gold_problems(questions, ROOT / "corpus")] == []
