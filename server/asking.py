"""The one place a question is asked: POST /api/ask, the chat page and `scrutiny ask` all come here,
so they give the same answer record (the JSON of `scrutiny ask --json`)."""
from __future__ import annotations

from dataclasses import dataclass

from core.records import Filters

MAX_HISTORY_TURNS = 10


@dataclass
class Turn:
    """An earlier question of the conversation, and how it was read when it was a follow-up."""

    question: str
    read_as: str | None = None


def unknown_council_notice(authority: str | None, authorities: list[str]) -> str | None:
    """What to tell the user when the council filter matches no council in the index (filters match substrings)."""
    if not authority or any(authority.casefold() in known.casefold() for known in authorities):
        return None
    return f"No papers from {authority} are in the index; councils: {', '.join(authorities)}."


def answer_record(scrutiny, question: str, filters: Filters | None = None, mode: str | None = None,
                  k: int | None = None, history: list[Turn] | tuple[Turn, ...] = ()) -> dict:
    """The answer as JSON, with a notice naming a council filter that matches no paper. The service reads
    a follow-up from the earlier questions themselves."""
    filters = filters or Filters()
    record = scrutiny.ask(question, filters, mode, k, history=[turn.question for turn in history]).to_json()
    notice = unknown_council_notice(filters.authority, scrutiny.state().authorities)
    if notice and not record.get("notice"):
        record["notice"] = notice
    return record
