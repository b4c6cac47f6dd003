"""Check that every gold evidence string occurs in its paper: `python -m evaluation.check_gold corpus/gold/`.

A string counts as found when it occurs, after the same normalisation the scorer uses
(case, whitespace, typographic quotes and dashes, thousands commas), within one page of
the paper as Scrutiny parses it (`ingest.parse.parse_file`) or within one page of the
raw pypdf text, so a phrase from a single table cell still counts while the table
extraction changes. A phrase that only exists across a page break is reported.

Exit status: 0 when every string is found, 1 when some are not (each is listed),
2 when a gold file or the corpus folder cannot be read.
"""
from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from pathlib import Path

from core.settings import load_settings
from core.text import normalise_for_matching
from evaluation.gold import GoldQuestion, load_gold
from ingest.parse import ParseError, parse_file, sniff_format


@dataclass(frozen=True)
class Problem:
    question_id: str
    doc_id: str | None
    evidence: str | None
    reason: str

    def line(self) -> str:
        where = f" [{self.doc_id}]" if self.doc_id else ""
        quoted = f" {self.evidence!r}" if self.evidence is not None else ""
        return f"{self.question_id}{where}:{quoted} {self.reason}"


def corpus_papers(corpus_dir: Path) -> dict[str, Path]:
    """Every paper of a corpus folder by document id (file stem); sidecars and gold files are not papers."""
    if not corpus_dir.is_dir():
        raise FileNotFoundError(f"corpus folder not found: {corpus_dir}")
    return {
        path.stem: path
        for path in sorted(corpus_dir.iterdir())
        if path.is_file() and path.suffix.lower() in {".pdf", ".txt", ".md", ".docx"}
    }


def raw_pdf_pages(path: Path) -> list[str]:
    """pypdf's own text of each page, before Scrutiny's cleaning and table handling."""
    from pypdf import PdfReader

    return [page.extract_text() or "" for page in PdfReader(path).pages]


def searchable_pages(path: Path) -> list[str]:
    """Normalised page texts to search: the parsed pages, then (for a PDF) the raw pypdf pages."""
    pages = list(parse_file(path).pages)
    if sniff_format(path) == "pdf":
        pages += raw_pdf_pages(path)
    return [normalise_for_matching(page) for page in pages]


def evidence_found(evidence: str, pages: list[str]) -> bool:
    needle = normalise_for_matching(evidence)
    return bool(needle) and any(needle in page for page in pages)


def question_problems(question: GoldQuestion, papers: dict[str, Path], pages_of) -> list[Problem]:
    """What is wrong with one question's evidence; `pages_of(doc_id)` gives a paper's searchable pages."""
    if not question.evidence:
        return []
    if not question.source_docs:
        return [Problem(question.id, None, None, "has evidence but no doc to look for it in")]
    missing_docs = sorted(doc for doc in question.source_docs if doc not in papers)
    if missing_docs:
        return [Problem(question.id, doc, None, "paper not in the corpus") for doc in missing_docs]
    problems = []
    for evidence in question.evidence:
        if not any(evidence_found(evidence, pages_of(doc)) for doc in sorted(question.source_docs)):
            problems.append(Problem(question.id, question.doc, evidence, "not found in the paper's text"))
    return problems


def gold_problems(questions: list[GoldQuestion], corpus_dir: Path) -> list[Problem]:
    """Evidence strings not found in their papers, papers missing from the corpus, unreadable papers."""
    papers = corpus_papers(corpus_dir)
    cache: dict[str, list[str]] = {}
    unreadable: dict[str, str] = {}

    def pages_of(doc_id: str) -> list[str]:
        if doc_id not in cache:
            try:
                cache[doc_id] = searchable_pages(papers[doc_id])
            except ParseError as exc:
                unreadable[doc_id] = str(exc)
                cache[doc_id] = []
        return cache[doc_id]

    problems = [problem for question in questions for problem in question_problems(question, papers, pages_of)]
    return [Problem("-", doc, None, f"unreadable paper: {reason}") for doc, reason in unreadable.items()] + problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m evaluation.check_gold",
        description="Report gold evidence strings that do not occur in their paper's text.",
    )
    parser.add_argument("gold", type=Path, help="a gold .jsonl file or a folder of them")
    parser.add_argument("--corpus", type=Path, default=None, help="folder of papers (default: the corpus_dir setting)")
    args = parser.parse_args(argv)
    corpus_dir = args.corpus or load_settings().corpus_dir
    try:
        questions = load_gold(args.gold)
        problems = gold_problems(questions, corpus_dir)
    except (FileNotFoundError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    for problem in problems:
        print(problem.line())
    checked = sum(len(question.evidence) for question in questions)
    print(f"{len(questions)} questions, {checked} evidence strings checked, {len(problems)} problem(s)")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
