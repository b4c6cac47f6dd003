"""Answers to questions about promises and whether they were kept, from the commitments register."""
from __future__ import annotations

import re

from core.records import Answer, Chunk, Citation, Document

COMMITMENT_QUESTION = re.compile(
    r"\b(promis\w*|pledg\w*|commit(?:s|ted|ments?)?\b|undertak(?:e|en|ing|ings)\b|did (?:they|it|we) (?:achieve|meet|deliver|hit|keep)|"
    r"(?:was|were) (?:it|they|the targets?) (?:met|achieved|kept)|deliver(?:ed)? on)\b",
    re.I,
)


def asks_about_commitments(question: str) -> bool:
    return bool(COMMITMENT_QUESTION.search(question))


def span_in(chunk_text: str, quote: str) -> tuple[int, int] | None:
    """Where a stored sentence sits in its passage (whitespace may differ), for highlighting."""
    start = chunk_text.find(quote)
    if start >= 0:
        return start, start + len(quote)
    words = quote.split()
    if not words:
        return None
    pattern = r"\s+".join(re.escape(w) for w in words)
    match = re.search(pattern, chunk_text)
    return (match.start(), match.end()) if match else None


def citation_of(document: Document, chunk: Chunk, quote: str) -> Citation:
    meta = document.meta
    return Citation(
        doc_id=document.doc_id, title=document.title, authority=meta.authority or "", committee=meta.committee or "",
        date=meta.date, page=chunk.page, section=chunk.section, text=chunk.text, highlight=span_in(chunk.text, quote),
        score=1.0, chunk_id=chunk.chunk_id, reference=meta.reference, source_url=meta.source_url,
        ocr=document.recognised_from_scan(chunk.page, chunk.page_end),
    )


def register_answer(question: str, entries, reader, documents: dict[str, Document], mode: str, limit: int = 3) -> Answer | None:
    """One line per commitment: what was promised, its status, and what a later paper said, all quoted and cited."""
    entries = [e for e in entries if e.commitment.doc_id in documents][:limit]
    if not entries:
        return None
    chunk_ids = {e.commitment.chunk_id for e in entries} | {f.chunk_id for e in entries for f in e.follow_ups[:1]}
    chunks = reader.chunks_by_id(chunk_ids)
    citations: list[Citation] = []
    numbers: dict[tuple[int, str], int] = {}
    lines: list[tuple[str, int]] = []
    rendered: list[str] = []

    def cite(doc_id: str, chunk_id: int, quote: str) -> int | None:
        if chunk_id not in chunks:
            return None
        key = (chunk_id, quote)
        if key not in numbers:
            citations.append(citation_of(documents[doc_id], chunks[chunk_id], quote))
            numbers[key] = len(citations)
        lines.append((quote, numbers[key]))
        return numbers[key]

    for entry in entries:
        c = entry.commitment
        number = cite(c.doc_id, c.chunk_id, c.text)
        if number is None:
            continue
        source = ", ".join(p for p in (c.authority, c.date) if p)
        line = f"{source}: \u201c{c.text}\u201d [{number}] Status: {c.status}."
        if entry.follow_ups and entry.follow_ups[0].doc_id in documents:
            later = entry.follow_ups[0]
            later_number = cite(later.doc_id, later.chunk_id, later.text)
            if later_number is not None:
                line += f" Later ({later.date}): \u201c{later.text}\u201d [{later_number}]"
        rendered.append(line)
    if not rendered:
        return None
    return Answer(question=question, found=True, answer="\n".join(rendered), citations=citations, mode=mode, lines=lines)
