"""Records the templates render: an answer split into text and citation markers, excerpts split around
their highlight, a paper's chunks with page and section labels. Jinja escapes every part separately."""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from urllib.parse import urlencode

from core.records import Answer, Chunk, Citation, Document, Filters
from server.routes.common import document_href, share_url

# A citation marker ends its line; a "[115]" quoted from a paper sits inside the quotation marks.
_MARKER = re.compile(r"\[(\d+)\](?=[ \t]*(?:\n|$))")


@dataclass
class Segment:
    text: str
    citation: int | None = None  # a "[n]" marker when set


@dataclass
class Excerpt:
    before: str
    marked: str
    after: str


@dataclass
class CitationView:
    number: int
    citation: Citation
    excerpt: Excerpt
    href: str
    location: str
    date_label: str
    source_href: str | None = None  # the paper on the council's website


@dataclass
class Chip:
    label: str
    value: str
    name: str
    remove_url: str


@dataclass
class AnswerView:
    answer_id: str
    answer: Answer
    segments: list[Segment]
    citations: list[CitationView]
    share_url: str
    chips: list[Chip]


@dataclass
class ChunkView:
    chunk: Chunk
    label: str
    new_page: int | None  # the page number when this chunk starts a page
    cited: bool
    ocr: bool = False  # the chunk's text was recognised from a scan


def answer_segments(text: str, citations: int) -> list[Segment]:
    """Plain text and "[n]" citation markers (1 <= n <= `citations`), in order."""
    segments, cursor = [], 0
    for match in _MARKER.finditer(text):
        if not 1 <= int(match.group(1)) <= citations:
            continue
        if match.start() > cursor:
            segments.append(Segment(text[cursor : match.start()]))
        segments.append(Segment(match.group(0), int(match.group(1))))
        cursor = match.end()
    if cursor < len(text):
        segments.append(Segment(text[cursor:]))
    return segments


EXCERPT_CONTEXT_CHARS = 300  # shown either side of the highlight; the paper page has the rest


def leading_context(text: str, limit: int) -> str:
    """The last `limit` characters of `text`, starting at a word, with an ellipsis when cut."""
    if len(text) <= limit:
        return text
    cut = text[-limit:]
    space = cut.find(" ")
    return "…" + (cut[space + 1 :] if 0 <= space < limit // 2 else cut)


def trailing_context(text: str, limit: int) -> str:
    """The first `limit` characters of `text`, ending at a word, with an ellipsis when cut."""
    if len(text) <= limit:
        return text
    cut = text[:limit]
    space = cut.rfind(" ")
    return (cut[:space] if space > limit // 2 else cut) + "…"


def excerpt_parts(citation: Citation, context: int = EXCERPT_CONTEXT_CHARS) -> Excerpt:
    """The excerpt cut around its highlight (offsets outside the text are clamped); without one, its opening."""
    text = citation.text
    if not citation.highlight:
        return Excerpt(trailing_context(text, 2 * context), "", "")
    start = max(0, min(citation.highlight[0], len(text)))
    end = max(start, min(citation.highlight[1], len(text)))
    return Excerpt(leading_context(text[:start], context), text[start:end], trailing_context(text[end:], context))


def location_label(page: int | None, page_end: int | None, section: str | None) -> str:
    parts = []
    if page:
        parts.append(f"pages {page}\u2013{page_end}" if page_end and page_end != page else f"page {page}")
    if section:
        parts.append(f"section {section}")
    return ", ".join(parts)


def human_date(iso: str | None) -> str:
    """"2016-02-01" as "1 February 2016"; anything unparseable as given."""
    if not iso:
        return ""
    try:
        day = date.fromisoformat(iso)
    except ValueError:
        return iso
    return f"{day.day} {day:%B %Y}"


def citation_view(number: int, citation: Citation) -> CitationView:
    return CitationView(
        number=number,
        citation=citation,
        excerpt=excerpt_parts(citation),
        href=document_href(citation.doc_id, citation.chunk_id),
        location=location_label(citation.page, None, citation.section),
        date_label=human_date(citation.date),
        source_href=web_link(citation.source_url),
    )


def web_link(url: str | None) -> str | None:
    """`url` when it is an http(s) address, the only kind a page links to (never javascript: or data:)."""
    return url if url and re.match(r"https?://[^\s/]+", url, re.IGNORECASE) else None


FILTER_LABELS = {"authority": "Council", "committee": "Committee", "since": "From", "until": "Until", "doc_id": "Paper"}


def filter_chips(values: dict[str, str | None], question: str | None, mode: str | None) -> list[Chip]:
    """One chip per filter in use; its link re-asks the question without that filter."""
    chips = []
    for name, label in FILTER_LABELS.items():
        value = values.get(name)
        if not value:
            continue
        kept = {k: v for k, v in values.items() if v and k != name}
        params = {**({"q": question} if question else {}), **kept, **({"mode": mode} if mode else {})}
        chips.append(Chip(label, value, name, "/?" + urlencode(params) if params else "/"))
    return chips


def answer_view(answer: Answer, answer_id: str, filters: Filters, mode: str | None) -> AnswerView:
    values = {name: getattr(filters, name) for name in FILTER_LABELS}
    return AnswerView(
        answer_id=answer_id,
        answer=answer,
        segments=answer_segments(answer.answer, len(answer.citations)),
        citations=[citation_view(n, c) for n, c in enumerate(answer.citations, start=1)],
        share_url=share_url(answer.question, filters, mode),
        chips=filter_chips(values, None, None),
    )


def chunk_views(chunks: list[Chunk], cited_chunk: int | None, document: Document | None = None) -> list[ChunkView]:
    """Chunks in reading order, each labelled with its page and section, marking where a new page starts
    and whether its text was recognised from a scan."""
    views, page = [], None
    for chunk in sorted(chunks, key=lambda c: c.ordinal):
        new_page = chunk.page if chunk.page and chunk.page != page else None
        page = chunk.page or page
        ocr = document is not None and document.recognised_from_scan(chunk.page, chunk.page_end)
        views.append(ChunkView(chunk, location_label(chunk.page, chunk.page_end, chunk.section), new_page,
                               chunk.chunk_id == cited_chunk, ocr))
    return views
