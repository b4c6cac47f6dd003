"""One typed record per concept. Stages pass these, never loose dicts."""
from __future__ import annotations

from dataclasses import asdict, dataclass, field


@dataclass
class Block:
    """A structural unit of a paper: a heading, a numbered paragraph or a table.

    A table block keeps its header row with every body row, so it is never cut
    between them; `section` is the paragraph number ("3.5") or heading it sits under.
    """

    kind: str  # "heading" | "paragraph" | "table"
    text: str
    page: int | None = None
    page_end: int | None = None
    section: str | None = None


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
    highlight: tuple[int, int] | None
    score: float
    chunk_id: int = 0
    reference: str | None = None
    source_url: str | None = None  # the paper on the council's website
    ocr: bool = False  # the passage's text was recognised from a scan

    def to_json(self) -> dict:
        data = asdict(self)
        data["highlight"] = list(self.highlight) if self.highlight else None
        return data


@dataclass
class Answer:
    question: str
    found: bool
    answer: str
    citations: list[Citation]
    mode: str = "hybrid"
    lines: list[tuple[str, int]] = field(default_factory=list)  # (quoted sentence, citation number)

    def to_json(self) -> dict:
        return {
            "question": self.question,
            "found": self.found,
            "answer": self.answer,
            "mode": self.mode,
            "lines": [{"text": text, "citation": number} for text, number in self.lines],
            "citations": [citation.to_json() for citation in self.citations],
        }
