"""What the commitments register says about a quoted target: was it met, and what did a later paper report."""
from __future__ import annotations

import re

from commitments.register import RegisterEntry, RegisterQuery, commitments_for_question, has_register, load_register
from core.text import normalise_for_matching

COMMITMENT_QUESTION = re.compile(
    r"\b(promis\w*|pledg\w*|commit(?:s|ted|ments?)?\b|undertak(?:e|en|ing|ings)\b|did (?:they|it|we|\w+) (?:achieve|meet|deliver|hit|keep|reach)|"
    r"(?:was|were) (?:it|they|the targets?) (?:met|achieved|kept|reached)|deliver(?:ed)? on|on track)\b",
    re.I,
)
DECIDED = ("met", "not met")


def asks_about_commitments(question: str) -> bool:
    """Whether a question asks about a promise or target being kept ("did they meet it?")."""
    return bool(COMMITMENT_QUESTION.search(question))


def shared_words(a: str, b: str) -> float:
    """Share of the shorter text's words that the other holds."""
    left, right = set(normalise_for_matching(a).split()), set(normalise_for_matching(b).split())
    return len(left & right) / min(len(left), len(right)) if left and right else 0.0


def entry_for_quote(conn, doc_id: str, chunk_id: int, quote: str, min_shared: float = 0.6) -> RegisterEntry | None:
    """The register's commitment stated in a quoted line: same passage, most of the same words."""
    if not has_register(conn):
        return None
    entries = [e for e in load_register(conn, RegisterQuery(doc_id=doc_id)) if e.commitment.chunk_id == chunk_id]
    scored = sorted(((shared_words(e.commitment.text, quote), e) for e in entries), key=lambda pair: -pair[0])
    return scored[0][1] if scored and scored[0][0] >= min_shared else None


def settled_entry(conn, question: str, quoted: list[tuple[str, int, str]], authority: str | None) -> RegisterEntry | None:
    """The register entry that settles a target question: the commitment a quoted line states, when a later paper
    reported on it; else, for a question about a promise kept, the best such entry the question's words find."""
    for doc_id, chunk_id, quote in quoted:
        entry = entry_for_quote(conn, doc_id, chunk_id, quote)
        if entry is not None and entry.commitment.status in DECIDED and entry.follow_ups:
            return entry
    if asks_about_commitments(question):
        for entry in commitments_for_question(conn, question, authority):
            if entry.commitment.status in DECIDED and entry.follow_ups:
                return entry
    return None
