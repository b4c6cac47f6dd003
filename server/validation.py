"""Checks on user input shared by the CLI and the API, with messages a user can act on."""
from __future__ import annotations

import re
import unicodedata
from datetime import date

MAX_QUESTION_CHARS = 1000


class ValidationError(ValueError):
    pass


def checked_question(question: str | None) -> str:
    """The question with control characters removed; empty or over-long questions are refused."""
    text = "".join(ch if unicodedata.category(ch)[0] != "C" or ch in "\t\n" else " " for ch in (question or ""))
    text = re.sub(r"\s+", " ", text).strip()
    if not text:
        raise ValidationError("the question is empty")
    if len(text) > MAX_QUESTION_CHARS:
        raise ValidationError(f"the question is {len(text)} characters long; the limit is {MAX_QUESTION_CHARS}")
    return text


def checked_iso_date(value: str | None, name: str) -> str | None:
    if value in (None, ""):
        return None
    try:
        return date.fromisoformat(value.strip()).isoformat()
    except ValueError as exc:
        raise ValidationError(f"{name} must be a date like 2005-03-15, not {value!r}") from exc
