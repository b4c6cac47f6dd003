"""A decision's trail: every paper that carries its reference, oldest first, with what each decided or recommended.

References come from two places: a paper's own metadata (`reference`, and the title) and the
text of its passages, indexed at ingest in `decision_mentions`. For a paper that is about the
decision (its reference or title names it) the trail quotes the paper's decisions and
recommendations; for minutes, the resolutions under the item whose heading names it; for any
other paper, the sentences that mention it.
"""
from __future__ import annotations

import re
import sqlite3
from dataclasses import dataclass, field

from core.records import Chunk, Document
from core.text import fold_characters
from decisions.references import decision_references, normalise_reference, reference_spans

SCHEMA = """
CREATE TABLE IF NOT EXISTS decision_mentions (
    ref TEXT NOT NULL, doc_id TEXT NOT NULL, chunk_id INTEGER NOT NULL, start INTEGER NOT NULL,
    PRIMARY KEY (ref, doc_id, chunk_id, start)
);
CREATE INDEX IF NOT EXISTS decision_mentions_by_doc ON decision_mentions(doc_id);
"""
MAX_STATEMENTS = 6
MAX_QUOTE_CHARS = 600

DECIDED, RECOMMENDED, MENTIONED = "decided", "recommended", "mentioned"

# A line that introduces what was decided or recommended: "I agree to:", "Cabinet is asked to:", "RESOLVED that Cabinet agree to:".
LEAD = re.compile(r"(?:\bI agree to|\bis asked to|\bare asked to|\bresolved(?: the following| that [^:]{0,120})?|"
                  r"\bagreed the following(?: motion)?|\bRecommendation\(?s?\)?|\bDecision taken|\bmay[^:]{0,80}resolve one of the following|"
                  r"\bdecided(?: the following)?|\bThe Policy Committee|\bThat Committee)\s*:\s*$"
                  r"|^(?:\d{1,2}\s*[|.]?\s*)?Recommendations?\s*$", re.IGNORECASE)
RECOMMENDING_LEAD = re.compile(r"asked to|recommend|\bmay\b|officer recommendations", re.IGNORECASE)
# A statement standing on its own: "RESOLVED that ...", "Option d) was agreed.", "Decision: ... I agree to APPROVE ...".
RESOLVED_PARAGRAPH = re.compile(r"^\s*(?:\d+\)\s*)?RESOLVED\b")
RESOLUTION = re.compile(r"^\s*(?:\d+\)\s*)?RESOLVED\b|\bwas agreed\b|\bunanimously agreed\b|\bCabinet resolved\b", re.I)
RECOMMENDATION = re.compile(r"^\s*Recommendation\(?s?\)?\s*:\s*\S|\bthe Committee (?:is asked|recommends)\b|"
                            r"\b(?:is|are) asked to (?:agree|approve|note|endorse|adopt|consider|confirm)\b", re.I)
# List items after a lead-in, by enumerator style; a list keeps to the style of its first item.
ITEM_STYLES = (
    ("letter", re.compile(r"^\s*\(?[a-zA-Z][.)]\s+\S")),
    ("roman", re.compile(r"^\s*\(?[ivx]{1,4}[.)]\s*\S")),
    ("number", re.compile(r"^\s*\(?\d{1,2}[.)]\s+\S")),
    ("decimal", re.compile(r"^\s*\d{1,2}\.\d{1,2}\.?\s+\S")),
    ("bullet", re.compile(r"^\s*[•·-]\s+\S")),
    ("verb", re.compile(r"^\s*(?:APPROVE|DELEGATE|AGREE|NOTE|CONFIRM|ENDORSE|ADOPT|AUTHORISE|REQUEST|RESCIND|AMEND)\b|"
                        r"^\s*(?:Approved?|Delegated?|Agreed?|Noted?|Endorsed?|Adopted?|Authorised?|Initiated)\b")),
)
# A minute item's heading: "300.   Review of Decision 24/00093 - Commissioned Family Hubs (Item 9)".
MINUTE_HEADING = re.compile(r"^\s*\d{1,4}\.\s+.{3,240}\(Item\s+\d+[a-z]?\)\s*$|^\s*\(a\)\s*Subject:", re.I)
ITEM_TAIL = re.compile(r"\(Item\s+\d+[a-z]?\)\s*$", re.I)
MINUTE_NUMBER = re.compile(r"^\s*\d{1,4}\.\s+\S")
SENTENCE = re.compile(r"(?<=[.!?])[\"”’)]?\s+(?=[A-Z(\"“])")
STEP_ORDER = (("decision report", 0), ("record of decision", 1), ("decision notice", 1), ("call-in", 2),
              ("scrutiny", 2), ("executive response", 3), ("response", 3), ("minutes", 4))


@dataclass
class Statement:
    text: str
    chunk_id: int
    kind: str  # decided | recommended | mentioned


@dataclass
class TrailStep:
    document: Document
    statements: list[Statement] = field(default_factory=list)
    about: bool = False  # the paper is about this decision (its reference or title names it)

    @property
    def date(self) -> str | None:
        return self.document.meta.date


@dataclass
class DecisionTrail:
    ref: str
    title: str | None  # the decision's subject, from the paper that carries its reference
    authorities: list[str]
    steps: list[TrailStep]

    def to_json(self) -> dict:
        return {
            "ref": self.ref, "title": self.title, "authorities": self.authorities,
            "steps": [{"doc_id": s.document.doc_id, "title": s.document.title, "date": s.date,
                       "committee": s.document.meta.committee, "authority": s.document.meta.authority, "about": s.about,
                       "statements": [{"kind": t.kind, "text": t.text, "chunk_id": t.chunk_id} for t in s.statements]}
                      for s in self.steps],
        }


@dataclass
class TrailSummary:
    ref: str
    title: str | None
    authorities: list[str]
    papers: int
    first: str | None
    last: str | None


# ------------------------------------------------------------------ building (ingest)


def index_decisions(writer, changed_doc_ids: list[str]) -> None:
    """Record the references each changed paper's passages mention in `writer.conn` (an index.backend
    IndexBuilder: its chunks may live elsewhere, so they are read through it); rows of papers gone are dropped.

    An index built before the table existed gets every paper's references on its next ingest.
    """
    conn = writer.conn
    if not has_mentions(conn):
        changed_doc_ids = [row[0] for row in conn.execute("SELECT doc_id FROM documents")]
    conn.executescript(SCHEMA)
    conn.execute("DELETE FROM decision_mentions WHERE doc_id NOT IN (SELECT doc_id FROM documents)")
    for doc_id in changed_doc_ids:
        conn.execute("DELETE FROM decision_mentions WHERE doc_id = ?", (doc_id,))
        conn.executemany(
            "INSERT OR IGNORE INTO decision_mentions VALUES (?,?,?,?)",
            [(ref, doc_id, chunk.chunk_id, start) for chunk in writer.chunks_of(doc_id) for start, _, ref in reference_spans(chunk.text)],
        )


def has_mentions(conn: sqlite3.Connection) -> bool:
    return conn.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'decision_mentions'").fetchone() is not None


# ------------------------------------------------------------------ reading


def metadata_references(document: Document) -> list[str]:
    """References a paper carries as its own: the metadata's `reference` and any in its title."""
    refs = [normalise_reference(document.meta.reference)] if document.meta.reference else []
    return list(dict.fromkeys(refs + decision_references(document.meta.title or "")))


def document_references(reader, doc_id: str) -> list[str]:
    """Every reference a paper carries or mentions: its own first, then those its text cites."""
    document = reader.document(doc_id)
    if document is None:
        return []
    own = metadata_references(document)
    cited = [row[0] for row in reader.conn.execute(
        "SELECT ref FROM decision_mentions WHERE doc_id = ? ORDER BY chunk_id, start", (doc_id,))] if has_mentions(reader.conn) else []
    return list(dict.fromkeys(own + cited))


LOOKBACK_CHUNKS = 6  # how far back a minute item's heading may sit from a quoted resolution


def decision_reference_for(reader, cited: list[tuple[str, int | None, str]], text: str = "") -> str | None:
    """The decision an answer is about, for its `decision_ref`.

    `cited` holds (doc_id, chunk_id, quoted sentence) of the answer's cited passages. The reference is
    one named in `text` (the question or the answer's lines) that a paper carries; else one a cited
    paper carries as its own; else the one heading the minute item a quote sits under ("90. 24/00109 -
    Transfer ..." above "RESOLVED that Cabinet agree to transfer ..."); else None.
    """
    for ref in decision_references(text):
        if _papers_of(reader, ref):
            return ref
    for doc_id, chunk_id, quote in cited:
        document = reader.document(doc_id)
        if document is not None and (own := metadata_references(document)):
            return own[0]
        if chunk_id is not None and (ref := reference_before(reader.chunks_of(doc_id), chunk_id, quote)):
            return ref
    return None


def reference_before(chunks: list[Chunk], chunk_id: int, quote: str) -> str | None:
    """The last reference printed before `quote` in its passage, or in the few passages before it."""
    ordered = sorted(chunks, key=lambda c: c.ordinal)
    index = next((i for i, c in enumerate(ordered) if c.chunk_id == chunk_id), None)
    if index is None:
        return None
    for back, chunk in enumerate(reversed(ordered[max(0, index - LOOKBACK_CHUNKS):index + 1])):
        text = chunk.text
        if back == 0 and quote and (position := text.find(quote)) >= 0:
            text = text[:position]
        spans = reference_spans(text)
        if spans:
            return spans[-1][2]
    return None


def _papers_by_reference(reader) -> dict[str, dict[str, set[int]]]:
    """reference -> doc_id -> chunk ids that mention it (empty when only the metadata names it)."""
    papers: dict[str, dict[str, set[int]]] = {}
    for document in reader.documents():
        for ref in metadata_references(document):
            papers.setdefault(ref, {}).setdefault(document.doc_id, set())
    if has_mentions(reader.conn):
        for ref, doc_id, chunk_id in reader.conn.execute("SELECT ref, doc_id, chunk_id FROM decision_mentions"):
            papers.setdefault(ref, {}).setdefault(doc_id, set()).add(chunk_id)
    return papers


def _papers_of(reader, ref: str) -> dict[str, set[int]]:
    papers: dict[str, set[int]] = {}
    for document in reader.documents():
        if ref in metadata_references(document):
            papers.setdefault(document.doc_id, set())
    if has_mentions(reader.conn):
        for doc_id, chunk_id in reader.conn.execute("SELECT doc_id, chunk_id FROM decision_mentions WHERE ref = ?", (ref,)):
            papers.setdefault(doc_id, set()).add(chunk_id)
    return papers


def step_order(document: Document) -> tuple[str, int, str]:
    """Date first; on one day a report comes before its record of decision, and minutes last."""
    title = (document.meta.title or "").casefold()
    rank = next((rank for word, rank in STEP_ORDER if word in title), 0)
    return (document.meta.date or "9999", rank, document.doc_id)


def decision_title(documents: list[Document], ref: str) -> str | None:
    """The decision's subject, from the title of the paper that carries its reference: "Decision 24/00093 - X" gives X."""
    for document in sorted(documents, key=step_order):
        if ref in metadata_references(document) and document.meta.title:
            title = re.sub(r"^.*?" + re.escape(ref) + r"\s*[-–:]\s*", "", document.meta.title)
            return re.sub(r"\s*\((?:decision report|supplementary[^)]*)\)\s*$", "", title, flags=re.I) or document.meta.title
    return None


def decision_trail(reader, ref: str) -> DecisionTrail | None:
    """Every paper carrying `ref`, oldest first, each with what it decided or recommended; None when no paper does."""
    ref = normalise_reference(ref)
    papers = _papers_of(reader, ref)
    if not papers:
        return None
    documents = [d for d in (reader.document(doc_id) for doc_id in papers) if d is not None]
    steps = []
    for document in sorted(documents, key=step_order):
        about = ref in metadata_references(document)
        chunks = reader.chunks_of(document.doc_id)
        steps.append(TrailStep(document, step_statements(chunks, ref, about, papers[document.doc_id]), about))
    authorities = list(dict.fromkeys(d.meta.authority for d in documents if d.meta.authority))
    return DecisionTrail(ref, decision_title(documents, ref), authorities, steps)


def decision_trails(reader) -> list[TrailSummary]:
    """One line per reference in the index: the most papers first, then the newest."""
    summaries = []
    for ref, papers in _papers_by_reference(reader).items():
        documents = [d for d in (reader.document(doc_id) for doc_id in papers) if d is not None]
        dates = sorted(d.meta.date for d in documents if d.meta.date)
        summaries.append(TrailSummary(ref, decision_title(documents, ref),
                                      list(dict.fromkeys(d.meta.authority for d in documents if d.meta.authority)),
                                      len(documents), dates[0] if dates else None, dates[-1] if dates else None))
    return sorted(summaries, key=lambda s: (-s.papers, "" if s.last is None else s.last, s.ref), reverse=False)


# ------------------------------------------------------------------ what a paper decided


@dataclass
class _Paragraph:
    text: str
    chunk_id: int


def paragraphs_of(chunks: list[Chunk]) -> list[_Paragraph]:
    """Blank-line separated paragraphs in reading order, each with the chunk it sits in."""
    paragraphs = []
    for chunk in sorted(chunks, key=lambda c: c.ordinal):
        for block in re.split(r"\n\s*\n", chunk.text):
            text = " ".join(block.split())
            if text:
                paragraphs.append(_Paragraph(text, chunk.chunk_id))
    return paragraphs


def quoted(text: str) -> str:
    """A statement as quoted: whole, or cut at a word with an ellipsis when very long."""
    return text if len(text) <= MAX_QUOTE_CHARS else text[:MAX_QUOTE_CHARS].rsplit(" ", 1)[0] + " …"


def style_of(text: str) -> str | None:
    return next((name for name, pattern in ITEM_STYLES if pattern.match(text)), None)


def decisions_in(paragraphs: list[_Paragraph]) -> list[Statement]:
    """What these paragraphs decide or recommend: the items after a lead-in ("I agree to:") and resolutions."""
    statements: list[Statement] = []
    lead_kind: str | None = None
    style: str | None = None
    for paragraph in paragraphs:
        text = paragraph.text
        if lead_kind and not text.endswith(":") and (item_style := style_of(text)) and style in (None, item_style):
            style = item_style
            statements.append(Statement(quoted(text), paragraph.chunk_id, lead_kind))
            continue
        lead_kind, style = None, None
        last_sentence = SENTENCE.split(text)[-1]
        if LEAD.search(last_sentence):
            lead_kind = RECOMMENDED if RECOMMENDING_LEAD.search(last_sentence) else DECIDED
            if len(last_sentence) > 40 and not re.search(r"Recommendations?\)?\s*:?\s*$", last_sentence, re.I):
                statements.append(Statement(quoted(last_sentence), paragraph.chunk_id, lead_kind))
            continue
        if RESOLVED_PARAGRAPH.match(text):
            statements.append(Statement(quoted(text), paragraph.chunk_id, DECIDED))
            continue
        for sentence in SENTENCE.split(text):
            if RESOLUTION.search(sentence):
                statements.append(Statement(quoted(sentence), paragraph.chunk_id, DECIDED))
            elif RECOMMENDATION.search(sentence):
                statements.append(Statement(quoted(sentence), paragraph.chunk_id, RECOMMENDED))
    return _distinct(statements)


def _distinct(statements: list[Statement]) -> list[Statement]:
    """Each statement once (reports repeat their recommendations at the end); decisions before recommendations."""
    seen, kept = set(), []
    for statement in statements:
        text = re.sub(r"^\s*(?:\d{1,2}(?:\.\d{1,2})*\.?|\(?[a-z]\)|[a-z]\.)\s+", "", statement.text, flags=re.I)
        key = re.sub(r"\W+", " ", fold_characters(text).casefold()).strip()
        if key not in seen:
            seen.add(key)
            kept.append(statement)
    decided = [s for s in kept if s.kind == DECIDED]
    return (decided + [s for s in kept if s.kind != DECIDED])[:MAX_STATEMENTS]


def joined_headings(paragraphs: list[_Paragraph]) -> list[_Paragraph]:
    """A minute heading broken over two paragraphs ("91. 24/00115 - Kent ..." / "Delivery Plan (Item 8)") made one."""
    joined: list[_Paragraph] = []
    for paragraph in paragraphs:
        previous = joined[-1] if joined else None
        if (previous and ITEM_TAIL.search(paragraph.text) and not MINUTE_NUMBER.match(paragraph.text)
                and MINUTE_NUMBER.match(previous.text) and len(previous.text) < 240 and len(paragraph.text) < 240):
            joined[-1] = _Paragraph(f"{previous.text} {paragraph.text}", previous.chunk_id)
        else:
            joined.append(paragraph)
    return joined


def minute_item(paragraphs: list[_Paragraph], ref: str) -> list[_Paragraph]:
    """The paragraphs of the minute item whose heading names `ref`, up to the next item's heading."""
    paragraphs = joined_headings(paragraphs)
    for i, paragraph in enumerate(paragraphs):
        if MINUTE_HEADING.match(paragraph.text) and ref in decision_references(paragraph.text):
            end = next((j for j in range(i + 1, len(paragraphs)) if MINUTE_HEADING.match(paragraphs[j].text)), len(paragraphs))
            return paragraphs[i + 1:end]
    return []


def mentions_in(paragraphs: list[_Paragraph], ref: str) -> list[Statement]:
    statements = []
    for paragraph in paragraphs:
        for sentence in SENTENCE.split(paragraph.text):
            if ref in decision_references(sentence):
                statements.append(Statement(quoted(sentence), paragraph.chunk_id, MENTIONED))
    return _distinct(statements)


def step_statements(chunks: list[Chunk], ref: str, about: bool, mention_chunks: set[int]) -> list[Statement]:
    """What one paper of the trail decided or recommended about `ref`, else the sentences that mention it."""
    paragraphs = paragraphs_of(chunks)
    if about:
        found = decisions_in(paragraphs)
        if found:
            return found
    item = minute_item(paragraphs, ref)
    if item and (found := decisions_in(item)):
        return found
    mentioning = [p for p in paragraphs if p.chunk_id in mention_chunks] or paragraphs
    return mentions_in(mentioning, ref)
