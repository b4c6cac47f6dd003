"""Records the templates render: an answer card built from the answer record (the JSON of `scrutiny ask
--json`), excerpts split around every quoted span, a paper's chunks with the cited passage, quote and row
marked. Jinja escapes every part separately. static/app.js builds the same card from the same record."""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from urllib.parse import quote, urlencode

from core.records import Chunk, Document, Filters
from index.answer import span_of
from server.routes.common import share_url
from server.validation import long_date, parsed_date

# A citation marker ends its line; a "[115]" quoted from a paper sits inside the quotation marks.
_MARKER = re.compile(r"\[(\d+)\](?=[ \t]*(?:\n|$))")
_ISO_DATE = re.compile(r"\b(\d{4})-(\d{2})-(\d{2})\b")
# A numbered paragraph or heading at the start of a line ("3.3 The council ..."), not a table row or a figure.
_PARAGRAPH_LABEL = re.compile(r"^[ \t]*([0-9]{1,3}(?:\.[0-9]{1,3}){0,3})\.?[ \t]+(?=[^\s|0-9])", re.M)

CONFIDENCE_TITLES = {
    "answer": "Answer",
    "possible": "Possible answer: check the source",
    "not_found": "Not found in the papers",
}
VERDICT_LABELS = {"met": "Target met", "not met": "Target not met", "unclear": "Unclear whether the target was met"}
EXCERPT_CONTEXT_CHARS = 200  # shown either side of each quoted span; the paper page has the rest
OPENING_CHARS = 280  # of a passage that is not quoted


@dataclass
class Segment:
    text: str
    citation: int | None = None  # a "[n]" marker when set


@dataclass
class Piece:
    text: str
    marked: bool = False


@dataclass
class CardLine:
    role: str  # "lead" | "support" | "message"
    segments: list[Segment]


@dataclass
class MetaPart:
    text: str
    date: str | None = None  # the ISO date when this part is one


@dataclass
class SourceView:
    number: int
    citation: dict  # the citation as in the answer record
    pieces: list[Piece]
    href: str
    meta: list[MetaPart]
    source_url: str | None
    ocr: bool  # the text was read from a scan


@dataclass
class Chip:
    label: str
    value: str
    name: str
    remove_url: str


@dataclass
class AnswerCard:
    answer_id: str
    question: str
    confidence: str
    title: str
    lines: list[CardLine]
    read_as: str | None
    notice: str | None
    verdict: dict | None
    verdict_label: str
    decision_ref: str | None
    decision_href: str | None
    cited: list[SourceView]
    others: list[SourceView]
    share_url: str
    chips: list[Chip] = field(default_factory=list)


@dataclass
class ChunkView:
    chunk: Chunk
    label: str
    new_page: int | None  # the page number when this chunk starts a page
    cited: bool
    pieces: list[Piece]  # the text, with quoted spans marked when cited
    rows: list[tuple[str, bool]]  # a cited table's lines, the cited row's flagged; else empty
    new_page_scanned: bool = False  # the page it starts (new_page) had its text recognised from a scan


# ---------------------------------------------------------------- small text helpers

def with_long_dates(text: str) -> str:
    """ISO dates in running text written the way the rest of the page writes them."""
    return _ISO_DATE.sub(lambda m: long_date(m.group(0)), text)


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


def merged_spans(spans: list, length: int) -> list[tuple[int, int]]:
    """Spans clamped to the text, sorted, overlapping ones joined; empty ones dropped."""
    clamped = sorted((max(0, min(int(s), length)), max(0, min(int(e), length))) for s, e in spans)
    merged: list[tuple[int, int]] = []
    for start, end in clamped:
        if end <= start:
            continue
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def window_start(text: str, position: int, context: int) -> int:
    """Where an excerpt opens, about `context` characters before `position`, at the start of a word."""
    start = position - context
    if start <= 0:
        return 0
    space = text.find(" ", start, position)
    return space + 1 if 0 <= space < start + context // 2 else start


def window_end(text: str, position: int, context: int) -> int:
    """Where an excerpt closes, about `context` characters after `position`, at the end of a word."""
    end = position + context
    if end >= len(text):
        return len(text)
    space = text.rfind(" ", position, end)
    return space if space > end - context // 2 else end


def excerpt_pieces(text: str, spans: list, context: int = EXCERPT_CONTEXT_CHARS) -> list[Piece]:
    """The passage cut to a window around each quoted span (windows that meet are joined, gaps shown as
    "…"), the spans marked; without spans, the passage's opening."""
    spans = merged_spans(spans, len(text))
    if not spans:
        end = window_end(text, 0, 2 * context)
        return [Piece(text[:end] + ("\u2026" if end < len(text) else ""))]
    windows: list[list[int]] = []
    for start, end in spans:
        opening, closing = window_start(text, start, context), window_end(text, end, context)
        if windows and opening <= windows[-1][1]:
            windows[-1][1] = max(windows[-1][1], closing)
        else:
            windows.append([opening, closing])
    pieces: list[Piece] = []
    for opening, closing in windows:
        cursor = opening
        plain = "\u2026" if opening > 0 else ""
        for start, end in spans:
            if start < opening or end > closing:
                continue
            pieces.append(Piece(plain + text[cursor:start]))
            pieces.append(Piece(text[start:end], marked=True))
            cursor, plain = end, ""
        pieces.append(Piece(plain + text[cursor:closing] + ("\u2026 " if closing < len(text) else "")))
    return [piece for piece in pieces if piece.text]


def quote_section(text: str, position: int, fallback: str | None) -> str | None:
    """The numbered paragraph a quote sits in: the last label at a line start before it in the passage
    (a passage often holds several paragraphs), else the passage's own section."""
    labels = [m.group(1) for m in _PARAGRAPH_LABEL.finditer(text, 0, max(0, position) + 1) if m.start(1) <= position]
    return labels[-1] if labels else fallback


def quote_sections(text: str, spans: list[tuple[int, int]], fallback: str | None) -> list[str]:
    """The sections the quoted spans sit in, in order, each once; the passage's own section without spans."""
    found = [quote_section(text, start, fallback) for start, _ in spans] if spans else [fallback]
    return [section for section in dict.fromkeys(found) if section]


def location_label(page: int | None, page_end: int | None, sections: list[str]) -> str:
    parts = []
    if page:
        parts.append(f"pages {page}\u2013{page_end}" if page_end and page_end != page else f"page {page}")
    if len(sections) == 1:
        parts.append(f"section {sections[0]}")
    elif sections:
        parts.append(f"sections {', '.join(sections[:-1])} and {sections[-1]}")
    return ", ".join(parts)


def cited_href(doc_id: str, chunk_id: int, spans: list[tuple[int, int]], row: int | None) -> str:
    """Link to the passage on the paper's page, carrying the quoted spans and the cited table row to mark."""
    params = {"hl": str(chunk_id)}
    if spans:
        params["spans"] = ",".join(f"{start}-{end}" for start, end in spans)
    if row:
        params["row"] = str(row)
    return f"/documents/{quote(doc_id, safe='')}?{urlencode(params, safe=',')}#chunk-{chunk_id}"


def decision_href(ref: str | None) -> str | None:
    """The decision's trail; its "/" is escaped too, so a reference is always one path segment."""
    return f"/decisions/{quote(ref, safe='')}" if ref else None


# ---------------------------------------------------------------- the answer card

def confidence_of(record: dict) -> str:
    """The answer's confidence level; a record without one is an answer when found."""
    level = record.get("confidence")
    if level in CONFIDENCE_TITLES:
        return level
    return "answer" if record.get("found") else "not_found"


def cited_numbers(record: dict) -> set[int]:
    """Citations the answer quotes: flagged `cited`, else referred to by a line or carrying a highlight."""
    citations = record.get("citations") or []
    if any("cited" in c for c in citations):
        return {n for n, c in enumerate(citations, start=1) if c.get("cited")}
    by_line = {line.get("citation") for line in record.get("lines") or []}
    return {n for n, c in enumerate(citations, start=1) if n in by_line or c.get("highlight")}


def highlights_of(record: dict, number: int) -> list[tuple[int, int]]:
    """Every quoted span of citation `number`: its `highlights`, else found from the lines quoting it."""
    citation = record["citations"][number - 1]
    text = citation.get("text") or ""
    if citation.get("highlights") is not None:
        return merged_spans(citation["highlights"], len(text))
    spans = [citation["highlight"]] if citation.get("highlight") else []
    for line in record.get("lines") or []:
        found = span_of(text, line.get("text") or "") if line.get("citation") == number else None
        if found:
            spans.append(found)
    return merged_spans(spans, len(text))


def quoted_lines(record: dict) -> list[CardLine]:
    """The quoted lines, lead first, each with its source's number; labelled with council and date when
    several papers answer."""
    citations = record.get("citations") or []
    lines = [line for line in record.get("lines") or [] if 1 <= (line.get("citation") or 0) <= len(citations)]
    several = len({citations[line["citation"] - 1].get("doc_id") for line in lines}) > 1
    ordered = sorted(lines, key=lambda line: line.get("role") != "lead")
    card_lines = []
    for index, line in enumerate(ordered):
        citation = citations[line["citation"] - 1]
        source = ", ".join(p for p in (citation.get("authority"), long_date(citation.get("date"))) if p)
        label = f"{source}: " if several and source else ""
        role = line.get("role") or ("lead" if index == 0 else "support")
        card_lines.append(CardLine(role, [Segment(f"{label}\u201c{line.get('text', '')}\u201d "),
                                          Segment(f"[{line['citation']}]", line["citation"])]))
    return card_lines


def text_lines(record: dict) -> list[CardLine]:
    """The answer's plain text, line by line, for a record whose lines carry no roles (or a refusal)."""
    count = len(record.get("citations") or [])
    rows = [row for row in (record.get("answer") or "").split("\n") if row.strip()]
    role = "message" if confidence_of(record) == "not_found" else None
    return [CardLine(role or ("lead" if i == 0 else "support"), answer_segments(with_long_dates(row), count))
            for i, row in enumerate(rows)]


def card_lines(record: dict) -> list[CardLine]:
    if confidence_of(record) != "not_found" and "confidence" in record and record.get("lines"):
        return quoted_lines(record)
    return text_lines(record)


def web_url(url: str | None) -> str | None:
    """A link to the paper on the web, only when it is an http(s) address (never javascript: or data:)."""
    return url if url and re.match(r"https?://", url, re.I) else None


def citation_meta(citation: dict, sections: list[str]) -> list[MetaPart]:
    """Council, committee, date, reference and where in the paper, in one line."""
    parts = [MetaPart(citation.get("authority") or ""), MetaPart(citation.get("committee") or ""),
             MetaPart(long_date(citation.get("date")), citation.get("date")),
             MetaPart(f"ref. {citation['reference']}" if citation.get("reference") else ""),
             MetaPart(location_label(citation.get("page"), None, sections))]
    return [part for part in parts if part.text]


def source_view(record: dict, number: int, cited: bool) -> SourceView:
    citation = record["citations"][number - 1]
    text = citation.get("text") or ""
    spans = highlights_of(record, number) if cited else []
    sections = quote_sections(text, spans, citation.get("section"))
    return SourceView(
        number=number,
        citation=citation,
        pieces=excerpt_pieces(text, spans) if cited else excerpt_pieces(text, [], OPENING_CHARS // 2),
        href=cited_href(citation.get("doc_id", ""), citation.get("chunk_id", 0), spans, citation.get("row") if cited else None),
        meta=citation_meta(citation, sections),
        source_url=web_url(citation.get("source_url")),
        ocr=bool(citation.get("ocr")),
    )


def answer_card(record: dict, answer_id: str, filters: Filters, mode: str | None) -> AnswerCard:
    """The card for one answer record: the answer first, then only the cited sources, the rest folded."""
    confidence = confidence_of(record)
    cited = cited_numbers(record) if confidence != "not_found" else set()
    numbers = range(1, len(record.get("citations") or []) + 1)
    verdict = record.get("verdict") or None
    values = {name: getattr(filters, name) for name in FILTER_LABELS}
    return AnswerCard(
        answer_id=answer_id,
        question=record.get("question", ""),
        confidence=confidence,
        title=CONFIDENCE_TITLES[confidence],
        lines=card_lines(record),
        read_as=record.get("read_as") or None,
        notice=record.get("notice") or None,
        verdict=verdict,
        verdict_label=VERDICT_LABELS.get((verdict or {}).get("status"), "Target"),
        decision_ref=record.get("decision_ref") or None,
        decision_href=decision_href(record.get("decision_ref")),
        cited=[source_view(record, n, True) for n in numbers if n in cited],
        others=[source_view(record, n, False) for n in numbers if n not in cited],
        share_url=share_url(record.get("complete_question") or record.get("question", ""), filters, mode),
        chips=filter_chips(values, None, None),
    )


def web_link(url: str | None) -> str | None:
    """`url` when it is an http(s) address, the only kind a page links to (never javascript: or data:)."""
    return url if url and re.match(r"https?://[^\s/]+", url, re.IGNORECASE) else None


FILTER_LABELS = {"authority": "Council", "committee": "Committee", "since": "From", "until": "Until", "doc_id": "Paper"}
DATE_FILTERS = ("since", "until")


def filter_chips(values: dict[str, str | None], question: str | None, mode: str | None) -> list[Chip]:
    """One chip per filter in use; its link re-asks the question without that filter."""
    chips = []
    for name, label in FILTER_LABELS.items():
        value = values.get(name)
        if not value:
            continue
        kept = {k: v for k, v in values.items() if v and k != name}
        params = {**({"q": question} if question else {}), **kept, **({"mode": mode} if mode else {})}
        day = parsed_date(value.strip()) if name in DATE_FILTERS else None
        shown = long_date(day.isoformat()) if day else value
        chips.append(Chip(label, shown, name, "/?" + urlencode(params) if params else "/"))
    return chips


# ---------------------------------------------------------------- one paper

def table_lines(chunk: Chunk, row: int) -> list[tuple[str, bool]]:
    """A table passage's lines (its caption, then one per row), the line of the cited table row flagged."""
    cited = {ref.line for ref in chunk.table_rows if ref.row == row}
    return [(line, index in cited) for index, line in enumerate(chunk.text.split("\n"))]


def chunk_views(chunks: list[Chunk], cited_chunk: int | None, spans: list[tuple[int, int]] = (), row: int | None = None,
                document: Document | None = None) -> list[ChunkView]:
    """Chunks in reading order, each labelled with its page and section, marking where a new page starts
    and whether that page of `document` was read from a scan; the cited chunk carries its quoted spans
    and its cited table row, and is labelled with the section the quotation sits in."""
    views, page = [], None
    for chunk in sorted(chunks, key=lambda c: c.ordinal):
        new_page = chunk.page if chunk.page and chunk.page != page else None
        page = chunk.page or page
        cited = chunk.chunk_id == cited_chunk
        marked = merged_spans(list(spans), len(chunk.text)) if cited else []
        pieces = split_marked(chunk.text, marked)
        rows = table_lines(chunk, row) if cited and row else []
        sections = quote_sections(chunk.text, marked, chunk.section)
        scanned = document is not None and document.recognised_from_scan(new_page)
        views.append(ChunkView(chunk, location_label(chunk.page, chunk.page_end, sections), new_page, cited, pieces, rows, scanned))
    return views


def split_marked(text: str, spans: list[tuple[int, int]]) -> list[Piece]:
    """The whole text as plain and marked pieces (spans already merged and clamped)."""
    pieces, cursor = [], 0
    for start, end in spans:
        pieces += [Piece(text[cursor:start]), Piece(text[start:end], marked=True)]
        cursor = end
    pieces.append(Piece(text[cursor:]))
    return [piece for piece in pieces if piece.text]
