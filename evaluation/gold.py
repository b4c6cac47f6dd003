"""The gold question set: JSON Lines of questions with accepted answers and the evidence that supports them.

    {"id": "q1", "question": "...", "answers": ["6,681"], "doc": "000_8455fbcf33d06d16",
     "evidence": ["6681 referrals"], "tags": ["seed"], "docs": [...], "history": [...]}   # last two optional

`answers: []` marks a question the papers cannot answer; `history` holds the earlier questions
(oldest first) that a follow-up question depends on; `tags`, `docs` and `history` are optional; unknown
keys are ignored.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

REQUIRED_KEYS = ("id", "question", "answers", "doc", "evidence")


@dataclass(frozen=True)
class GoldQuestion:
    id: str
    question: str
    answers: list[str]
    doc: str | None
    evidence: list[str]
    tags: list[str]
    docs: list[str] = field(default_factory=list)
    history: list[str] = field(default_factory=list)  # earlier questions of a follow-up, oldest first

    @property
    def answerable(self) -> bool:
        return bool(self.answers)

    @property
    def source_docs(self) -> set[str]:
        """Papers a supporting passage may come from; empty means any paper."""
        return ({self.doc} if self.doc else set()) | set(self.docs)


def gold_files(path: Path) -> list[Path]:
    """`path` itself, or the *.jsonl files of a folder in name order."""
    if path.is_dir():
        files = sorted(path.glob("*.jsonl"))
        if not files:
            raise FileNotFoundError(f"no *.jsonl gold files in {path}")
        return files
    if not path.exists():
        raise FileNotFoundError(f"gold file not found: {path}")
    return [path]


def string_list(value, key: str) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise ValueError(f"{key!r} must be a list of strings")
    return value


def optional_list(record: dict, key: str):
    """The value of an optional list key; absent or null means empty, anything else is validated as given."""
    value = record.get(key)
    return [] if value is None else value


def question_from_record(record) -> GoldQuestion:
    """A GoldQuestion from one parsed line; ValueError says what is wrong with it."""
    if not isinstance(record, dict):
        raise ValueError("expected a JSON object")
    missing = [key for key in REQUIRED_KEYS if key not in record]
    if missing:
        raise ValueError(f"missing key(s): {', '.join(missing)}")
    for key in ("id", "question"):
        if not isinstance(record[key], str) or not record[key].strip():
            raise ValueError(f"{key!r} must be a non-empty string")
    if record["doc"] is not None and not isinstance(record["doc"], str):
        raise ValueError("'doc' must be a string or null")
    return GoldQuestion(
        id=record["id"],
        question=record["question"],
        answers=string_list(record["answers"], "answers"),
        doc=record["doc"] or None,
        evidence=string_list(record["evidence"], "evidence"),
        tags=string_list(record.get("tags") or [], "tags"),
        docs=string_list(record.get("docs") or [], "docs"),
        history=string_list(optional_list(record, "history"), "history"),
    )


def questions_in_file(path: Path) -> list[GoldQuestion]:
    questions = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            questions.append(question_from_record(json.loads(line)))
        except ValueError as exc:  # json.JSONDecodeError is a ValueError too
            raise ValueError(f"{path}:{number}: malformed gold question: {exc}") from exc
    return questions


def load_gold(path: Path) -> list[GoldQuestion]:
    """Every question in a gold file, or in all *.jsonl files of a folder; ids must be unique."""
    path = Path(path)
    questions: list[GoldQuestion] = []
    seen: dict[str, Path] = {}
    for file in gold_files(path):
        for question in questions_in_file(file):
            if question.id in seen:
                raise ValueError(f"{file}: duplicate gold id {question.id!r} (first in {seen[question.id]})")
            seen[question.id] = file
            questions.append(question)
    return questions
