"""Checks on user input shared by the CLI and the API, with messages a user can act on."""
from __future__ import annotations

import re
import unicodedata
from datetime import date

from core.records import Filters
from core.text import long_date

MAX_QUESTION_CHARS = 1000
MAX_FILTER_CHARS = 200
FILTER_NAMES = ("authority", "committee", "since", "until", "doc_id")
# Day first, as dates are written in the UK: 15/03/2005 or 5/3/2005.
_UK_DATE = re.compile(r"([0-9]{1,2})/([0-9]{1,2})/([0-9]{4})")
_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


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


def parsed_date(text: str) -> date | None:
    """A date written as 2005-03-15 or 15/03/2005; None for anything else or a day that does not exist."""
    try:
        if _ISO_DATE.fullmatch(text):
            return date.fromisoformat(text)
        uk = _UK_DATE.fullmatch(text)
        if uk:
            return date(int(uk.group(3)), int(uk.group(2)), int(uk.group(1)))
    except ValueError:
        return None
    return None


def uk_date(value: str | None) -> str:
    """An ISO date as a date field shows it (15/03/2005); anything else as given."""
    day = parsed_date((value or "").strip())
    return f"{day:%d/%m/%Y}" if day and _ISO_DATE.fullmatch(value.strip()) else (value or "")


def checked_iso_date(value: str | None, label: str) -> str | None:
    """The ISO form of a date given either way; `label` names the field as the user sees it."""
    if value in (None, ""):
        return None
    day = parsed_date(value.strip())
    if day is None:
        raise ValidationError(f"{label} must be a date like 15/03/2005 or 2005-03-15, not {value!r}")
    return day.isoformat()



def optional_text(value: str | None, label: str) -> str | None:
    text = (value or "").strip()
    if len(text) > MAX_FILTER_CHARS:
        raise ValidationError(f"{label} is longer than {MAX_FILTER_CHARS} characters")
    return text or None


def checked_filter_values(authority: str | None = None, committee: str | None = None, since: str | None = None,
                          until: str | None = None, doc_id: str | None = None, labels: dict[str, str] | None = None) -> Filters:
    """Filters from user input: blanks dropped, lengths and dates checked, the dates in order.
    `labels` names the fields in messages as the user sees them (by default, their names)."""
    label = {name: name for name in FILTER_NAMES} | (labels or {})
    filters = Filters(
        authority=optional_text(authority, label["authority"]),
        committee=optional_text(committee, label["committee"]),
        since=checked_iso_date(since, label["since"]),
        until=checked_iso_date(until, label["until"]),
        doc_id=optional_text(doc_id, label["doc_id"]),
    )
    if filters.since and filters.until and filters.since > filters.until:
        raise ValidationError(f"{label['since']} ({long_date(filters.since)}) is after {label['until']} ({long_date(filters.until)})")
    return filters


MAX_SPANS = 20
_SPANS = re.compile(r"[0-9]{1,6}-[0-9]{1,6}(?:,[0-9]{1,6}-[0-9]{1,6})*")
_ROW = re.compile(r"[0-9]{1,4}")


def checked_spans(value: str | None, length: int | None) -> list[tuple[int, int]]:
    """Character ranges "120-188,240-301" within a passage of `length` characters (None: no passage chosen)."""
    if value is None:
        return []
    if not _SPANS.fullmatch(value) or value.count(",") >= MAX_SPANS:
        raise ValidationError(f"spans must be up to {MAX_SPANS} character ranges like 120-188,240-301, not {value[:40]!r}")
    if length is None:
        raise ValidationError("spans need hl, the number of the passage they are in")
    spans = [tuple(int(number) for number in part.split("-")) for part in value.split(",")]
    for start, end in spans:
        if start >= end:
            raise ValidationError(f"the span {start}-{end} is empty: it must end after it starts")
        if end > length:
            raise ValidationError(f"the span {start}-{end} runs past the end of the passage ({length} characters)")
    return spans


def checked_row(value: str | None, rows: list[int] | None) -> int | None:
    """A table row number among the `rows` a passage holds (None: no passage chosen)."""
    if value is None:
        return None
    if not _ROW.fullmatch(value):
        raise ValidationError(f"row must be a row number like 3, not {value[:40]!r}")
    if rows is None:
        raise ValidationError("row needs hl, the number of the passage it is in")
    if int(value) not in rows:
        held = f"rows {min(rows)} to {max(rows)}" if rows else "no table rows"
        raise ValidationError(f"row {int(value)} is not in the passage, which holds {held}")
    return int(value)
