"""One typed record per concept. Stages pass these, never loose dicts."""
from __future__ import annotations

from dataclasses import asdict, dataclass, field


@dataclass
class PdfTable:
    """A table found in a PDF, with its cells; a table continued over pages is one PdfTable.

    Coordinates are PDF points from the page's top-left corner (x0, top, x1, bottom).
    `regions` holds the area the table covers on each page it occupies, so the page's
    loose text can leave it out.
    """

    page: int
    bbox: tuple[float, float, float, float]
    caption: str
    header: list[str]
    rows: list[list[str]]
    row_pages: list[int]
    regions: list[tuple[int, tuple[float, float, float, float]]] = field(default_factory=list)


@dataclass
class TableRowRef:
    """Where a table row's line sits in a chunk's text and where it came from."""

    line: int  # 0-based line index within the chunk text
    page: int | None  # page the row is printed on (None for formats without pages)
    row: int  # 1-based body row number within its table


@dataclass
class Block:
    """A structural unit of a paper: a heading, a numbered paragraph or a table.

    A table block has its cells (`caption`, `header`, `rows`, `row_pages`) and its
    `text` is the caption line followed by one line per row (see ingest.tables.row_line),
    so every row reads on its own; `section` is the paragraph number ("3.5") or heading
    it sits under, `heading` the last heading above it ("299 Kent Minerals and Waste Local Plan").
    """

    kind: str  # "heading" | "paragraph" | "table"
    text: str
    page: int | None = None
    page_end: int | None = None
    section: str | None = None
    heading: str | None = None
    caption: str = ""
    header: list[str] = field(default_factory=list)
    rows: list[list[str]] = field(default_factory=list)
    row_pages: list[int | None] = field(default_factory=list)
    first_row: int = 1  # the table's row number of rows[0] (a piece of a split table starts further on)


TRUE_WORDS = frozenset({"true", "yes", "1"})


@dataclass
class DocumentMeta:
    authority: str | None = None
    committee: str | None = None
    date: str | None = None  # ISO yyyy-mm-dd: the meeting's date, else the paper's
    title: str | None = None
    reference: str | None = None
    # Where the paper came from, as a connector (scrutiny fetch) records it in the sidecar.
    source_url: str | None = None  # the page or file on the council's website
    agenda_item: str | None = None  # the item's number on the agenda, e.g. "6" or "6a"
    agenda_item_title: str | None = None
    decision: bool | None = None  # the paper records a decision
    fetched_at: str | None = None  # ISO timestamp of the download

    def merged_with(self, override: dict) -> "DocumentMeta":
        """Values in `override` win; unknown keys are ignored."""
        values = asdict(self)
        for key, value in override.items():
            if key in values and value not in (None, ""):
                values[key] = meta_value(key, value)
        return DocumentMeta(**values)


def meta_value(key: str, value) -> str | bool:
    """A metadata value as DocumentMeta keeps it: the decision flag as a bool, everything else as text."""
    if key == "decision":
        return value if isinstance(value, bool) else str(value).strip().lower() in TRUE_WORDS
    return str(value)


@dataclass
class ParsedDocument:
    doc_id: str
    path: str
    format: str  # "pdf" | "txt" | "md" | "docx"
    pages: list[str]  # cleaned text per page; one entry for formats without pages
    has_pages: bool
    meta: DocumentMeta = field(default_factory=DocumentMeta)
    warnings: list[str] = field(default_factory=list)
    tables: list[PdfTable] = field(default_factory=list)  # a page line ingest.tables.TABLE_MARK + index stands where each sits
    ocr_pages: list[int] = field(default_factory=list)  # pages whose text was recognised from a scan


@dataclass
class Chunk:
    chunk_id: int
    doc_id: str
    ordinal: int
    text: str  # display text, as printed in the paper (after layout repair)
    kind: str
    page: int | None = None
    page_end: int | None = None
    section: str | None = None
    table_rows: list[TableRowRef] = field(default_factory=list)  # one per table-row line of `text`


@dataclass
class Document:
    doc_id: str
    path: str
    format: str
    sha256: str
    pages: int | None
    chunks: int
    meta: DocumentMeta
    ocr_pages: list[int] = field(default_factory=list)  # pages whose text was recognised from a scan

    @property
    def title(self) -> str:
        return self.meta.title or self.doc_id

    def recognised_from_scan(self, page: int | None, page_end: int | None = None) -> bool:
        """True when any page from `page` to `page_end` had its text recognised by OCR."""
        if not page or not self.ocr_pages:
            return False
        return any(page <= number <= (page_end or page) for number in self.ocr_pages)


@dataclass
class Filters:
    authority: str | None = None
    committee: str | None = None
    since: str | None = None  # ISO date, inclusive
    until: str | None = None
    doc_id: str | None = None

    def is_empty(self) -> bool:
        return not any(asdict(self).values())


@dataclass
class Hit:
    chunk: Chunk
    document: Document
    score: float
    scores: dict[str, float] = field(default_factory=dict)  # per retriever, for inspection


@dataclass
class Citation:
    doc_id: str
    title: str
    authority: str
    committee: str
    date: str | None
    page: int | None
    section: str | None
    text: str
    highlight: tuple[int, int] | None  # the first quoted span in `text` (all of them are in `highlights`)
    score: float
    chunk_id: int = 0
    reference: str | None = None
    highlights: list[tuple[int, int]] = field(default_factory=list)
    cited: bool = False  # a line of the answer quotes it; otherwise it is one of the other passages found
    row: int | None = None  # the table row quoted (1-based), when the quote is a row
    source_url: str | None = None  # the paper on the council's website
    ocr: bool = False  # the passage's text was recognised from a scan

    def to_json(self) -> dict:
        data = asdict(self)
        data["highlight"] = list(self.highlight) if self.highlight else None
        data["highlights"] = [list(span) for span in self.highlights]
        return data


@dataclass
class AnswerLine:
    text: str
    citation: int  # 1-based number of the citation it quotes
    role: str = "lead"  # "lead": the line that answers; "support": a further quote

    def to_json(self) -> dict:
        return asdict(self)


@dataclass
class Verdict:
    """Whether a target was met, from the commitments register: what was promised and what was reported."""

    status: str  # "met" | "not met" | "unclear"
    text: str

    def to_json(self) -> dict:
        return asdict(self)


@dataclass
class Answer:
    question: str
    found: bool
    answer: str
    citations: list[Citation]
    mode: str = "hybrid"
    lines: list[AnswerLine] = field(default_factory=list)
    confidence: str = "not_found"  # "answer" | "possible" | "not_found"
    score: float = 0.0  # the calibrated probability that the answer is right
    read_as: str | None = None  # how a follow-up question was read
    complete_question: str | None = None  # a follow-up completed from the conversation, to ask (and link to) on its own
    notice: str | None = None  # something the reader should know: an unknown council, say
    verdict: Verdict | None = None
    decision_ref: str | None = None

    def to_json(self) -> dict:
        return {
            "question": self.question,
            "found": self.found,
            "confidence": self.confidence,
            "score": round(self.score, 4),
            "answer": self.answer,
            "mode": self.mode,
            "read_as": self.read_as,
            "complete_question": self.complete_question,
            "notice": self.notice,
            "lines": [line.to_json() for line in self.lines],
            "verdict": self.verdict.to_json() if self.verdict else None,
            "decision_ref": self.decision_ref,
            "citations": [citation.to_json() for citation in self.citations],
        }
