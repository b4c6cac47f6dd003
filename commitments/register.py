"""The commitments register in the index: built during ingest, read by the CLI, the pages and the chat.

Extraction runs only for papers that changed; follow-up links are recomputed over every
commitment on each ingest, because a new paper can report on promises made years before.
"""
from __future__ import annotations

import json
import re
import sqlite3
from dataclasses import asdict, dataclass, field

import numpy as np

from commitments.extract import (
    BROAD_LABELS, LIST_ITEM, MEASURE_LABELS, Commitment, MeasureReport, Value, extract_document, is_outcome_record,
    known_measure,
)
from commitments.link import STATUSES, Link, link_commitments, status_of
from core.records import DocumentMeta
from core.text import fold_characters

# A label the lexicon knows is given to an unlabelled commitment when its text is this close to it.
PROTOTYPE_SIMILARITY = 0.45
EMBED_CHARS = 320

SCHEMA = """
CREATE TABLE IF NOT EXISTS commitments (
    id INTEGER PRIMARY KEY,
    doc_id TEXT NOT NULL, chunk_id INTEGER NOT NULL, authority TEXT, date TEXT, page INTEGER, section TEXT,
    text TEXT NOT NULL, kind TEXT NOT NULL, measure TEXT NOT NULL, measure_known INTEGER NOT NULL, phrase TEXT NOT NULL,
    target TEXT, target_number REAL, target_unit TEXT, direction INTEGER NOT NULL DEFAULT 0,
    due TEXT, owner TEXT, status TEXT NOT NULL DEFAULT 'no later report', status_evidence INTEGER,
    vector BLOB NOT NULL
);
CREATE INDEX IF NOT EXISTS commitments_by_doc ON commitments(doc_id);
CREATE TABLE IF NOT EXISTS measure_reports (
    id INTEGER PRIMARY KEY,
    doc_id TEXT NOT NULL, chunk_id INTEGER NOT NULL, authority TEXT, date TEXT, page INTEGER, section TEXT,
    text TEXT NOT NULL, measure TEXT NOT NULL, measure_known INTEGER NOT NULL, vals TEXT NOT NULL, verdict TEXT,
    vector BLOB NOT NULL
);
CREATE INDEX IF NOT EXISTS measure_reports_by_doc ON measure_reports(doc_id);
CREATE TABLE IF NOT EXISTS commitment_followups (
    commitment_id INTEGER NOT NULL, report_id INTEGER NOT NULL, relation TEXT NOT NULL,
    similarity REAL NOT NULL, outcome TEXT NOT NULL, value TEXT,
    PRIMARY KEY (commitment_id, report_id)
);
"""


# ------------------------------------------------------------------ records for readers


@dataclass
class FollowUp:
    report_id: int
    doc_id: str
    chunk_id: int
    authority: str | None
    date: str | None
    page: int | None
    section: str | None
    text: str
    value: str | None
    outcome: str
    relation: str
    title: str | None = None  # the later paper's title

    def to_json(self) -> dict:
        return {"doc_id": self.doc_id, "date": self.date, "text": self.text, "value": self.value,
                "outcome": self.outcome, "chunk_id": self.chunk_id, "page": self.page, "section": self.section,
                **({"authority": self.authority} if self.relation == "comparison" else {})}


@dataclass
class RegisterEntry:
    commitment: Commitment
    follow_ups: list[FollowUp] = field(default_factory=list)
    comparisons: list[FollowUp] = field(default_factory=list)
    title: str | None = None  # the title of the paper that made the commitment

    @property
    def evidence(self) -> FollowUp | None:
        """The follow-up that settled the status (the latest decisive one), else the latest."""
        chosen = [f for f in self.follow_ups if f.report_id == self.commitment.status_evidence]
        return chosen[0] if chosen else (max(self.follow_ups, key=lambda f: f.date or "") if self.follow_ups else None)

    def to_json(self) -> dict:
        c = self.commitment
        return {
            "id": c.id, "doc_id": c.doc_id, "chunk_id": c.chunk_id, "authority": c.authority, "date": c.date,
            "section": c.section, "page": c.page, "text": c.text, "kind": c.kind, "measure": c.phrase,
            "target": c.target, "due": c.due, "owner": c.owner, "status": c.status,
            "follow_ups": [f.to_json() for f in self.follow_ups],
            "comparisons": [f.to_json() for f in self.comparisons],
        }


@dataclass
class RegisterQuery:
    authority: str | None = None  # substring, case-insensitive
    measure: str | None = None  # substring of the measure label or of the commitment's text
    due_before: str | None = None  # ISO date, exclusive
    status: str | None = None
    doc_id: str | None = None
    limit: int | None = None
    offset: int = 0
    sort: str = "date"  # a key of REGISTER_SORTS, "-" in front for descending


# Sort keys of the register, each with the SQL that orders by it; ties go oldest paper first.
REGISTER_SORTS = {
    "date": "c.date IS NULL, c.date {dir}",
    "council": "c.authority COLLATE NOCASE {dir}",
    "paper": "d.title COLLATE NOCASE {dir}",
    "measure": "c.phrase COLLATE NOCASE {dir}",
    "target": "c.target IS NULL, c.target_unit {dir}, c.target_number {dir}",
    "due": "c.due IS NULL, c.due {dir}",
    "status": "CASE c.status WHEN 'not met' THEN 0 WHEN 'met' THEN 1 WHEN 'unclear' THEN 2 ELSE 3 END {dir}",
}


# ------------------------------------------------------------------ building (ingest)


def ensure_tables(conn: sqlite3.Connection) -> list[str]:
    """Create the register's tables; a register of an older shape is dropped, and every paper is then returned
    so that it is extracted again."""
    stale = conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'commitments'").fetchone() and not has_register(conn)
    if stale:
        conn.executescript("DROP TABLE commitments; DROP TABLE IF EXISTS measure_reports; DROP TABLE IF EXISTS commitment_followups;")
    conn.executescript(SCHEMA)
    return [row[0] for row in conn.execute("SELECT doc_id FROM documents")] if stale else []


def index_commitments(writer, changed_doc_ids: list[str], embedder, known_vectors: dict[str, np.ndarray] | None = None,
                      known_extractions: dict[str, tuple[list[Commitment], list[MeasureReport]]] | None = None) -> None:
    """Extract commitments of the changed papers into `writer.conn`, then relink every follow-up.

    Ingest passes what it already has: `known_extractions`, each paper's statements as extracted while it
    was parsed (`statement_spans`), and `known_vectors`, their vectors pooled from their chunks' forward
    pass, keyed by `embedding_key`; only what they lack is extracted or encoded here.
    """
    conn = writer.conn
    changed_doc_ids = list(dict.fromkeys([*changed_doc_ids, *ensure_tables(conn)]))
    drop_orphans(conn)
    extracted = []
    for doc_id in changed_doc_ids:
        meta = document_meta(conn, doc_id)
        if meta is None:
            continue
        conn.execute("DELETE FROM commitments WHERE doc_id = ?", (doc_id,))
        conn.execute("DELETE FROM measure_reports WHERE doc_id = ?", (doc_id,))
        known = (known_extractions or {}).get(doc_id)
        extracted.append(known if known is not None else extract_document(doc_id, meta, writer.chunks_of(doc_id)))
    if extracted:
        # One encode over every paper's statements: batches of similar length waste little on padding.
        known = known_vectors or {}
        texts = list(dict.fromkeys(embedding_key(item.text) for commitments, reports in extracted for item in [*commitments, *reports]))
        missing = [text for text in texts if text not in known]
        vectors = {**{text: known[text] for text in texts if text in known}, **dict(zip(missing, embedder.encode(missing)))}
        prototypes = embedder.encode(list(MEASURE_LABELS))
        for commitments, reports in extracted:
            store_extracted(conn, commitments, reports, vectors, prototypes)
    refresh_document_fields(conn)
    relink(conn)


def document_meta(conn: sqlite3.Connection, doc_id: str) -> DocumentMeta | None:
    row = conn.execute("SELECT authority, committee, date, title, reference FROM documents WHERE doc_id = ?", (doc_id,)).fetchone()
    return DocumentMeta(*row) if row else None


def drop_orphans(conn: sqlite3.Connection) -> None:
    """Rows of papers that have left the index (a deletion path that did not clean up after itself)."""
    for table in ("commitments", "measure_reports"):
        conn.execute(f"DELETE FROM {table} WHERE doc_id NOT IN (SELECT doc_id FROM documents)")


def refresh_document_fields(conn: sqlite3.Connection) -> None:
    """Council and date are copied from `documents`, whose sidecar metadata may have been edited since."""
    for table in ("commitments", "measure_reports"):
        conn.execute(
            f"UPDATE {table} SET authority = (SELECT d.authority FROM documents d WHERE d.doc_id = {table}.doc_id), "
            f"date = (SELECT d.date FROM documents d WHERE d.doc_id = {table}.doc_id)"
        )


def assign_measures(items: list, vectors: np.ndarray, prototypes: np.ndarray | None) -> None:
    """Give items the lexicon gave no label the nearest known measure, when their text is close to it."""
    if prototypes is None or not len(items):
        return
    scores = vectors @ prototypes.T
    for item, row in zip(items, scores):
        if item.measure_known:
            continue
        best = int(np.argmax(row))
        if row[best] >= PROTOTYPE_SIMILARITY and MEASURE_LABELS[best] not in BROAD_LABELS:
            item.measure, item.measure_known = MEASURE_LABELS[best], True


def embedding_key(text: str) -> str:
    """What is embedded for a statement: its opening, which names what it is about, keeps encoding cheap."""
    return fold_characters(text)[:EMBED_CHARS]


def span_of(needle: str, haystack: str) -> tuple[int, int] | None:
    """Where `needle` occurs in `haystack`, allowing the whitespace between its words to differ."""
    start = haystack.find(needle)
    if start >= 0:
        return start, start + len(needle)
    words = needle.split()
    match = re.search(r"\s+".join(re.escape(w) for w in words), haystack) if words else None
    return (match.start(), match.end()) if match else None


def statement_spans(doc_id: str, meta: DocumentMeta, chunks: list, embed_texts: list[str]
                    ) -> tuple[tuple[list[Commitment], list[MeasureReport]], list[list[tuple[str, tuple[int, int]]]]]:
    """A paper's statements, extracted while it is parsed (each `chunk_id` is the chunk's position until the
    index gives it an id), and for each chunk, (embedding key, span in the chunk's embedding text) of every
    statement the register embeds, so ingest can pool their vectors from the chunk's own forward pass
    instead of encoding them again. A statement that does not lie within one chunk's text (a table row
    across a page break) has no span and is encoded on its own."""
    from dataclasses import replace

    numbered = [replace(chunk, chunk_id=position) for position, chunk in enumerate(chunks)]
    commitments, reports = extract_document(doc_id, meta, numbered)
    found: list[list[tuple[str, tuple[int, int]]]] = [[] for _ in chunks]
    seen: set[str] = set()
    for item in [*commitments, *reports]:
        key = embedding_key(item.text)
        if key in seen:
            continue
        span = span_of(key, embed_texts[item.chunk_id])
        if span is not None:
            seen.add(key)
            found[item.chunk_id].append((key, span))
    return (commitments, reports), found


def store_extracted(conn, commitments: list[Commitment], reports: list[MeasureReport], by_text: dict[str, np.ndarray], prototypes) -> None:
    """Rows for one paper's commitments and measure statements; `by_text` holds each statement's vector."""
    commitment_vectors = np.array([by_text[embedding_key(c.text)] for c in commitments]) if commitments else np.zeros((0, 1))
    assign_measures(commitments, commitment_vectors, prototypes)
    conn.executemany(
        "INSERT INTO commitments (doc_id, chunk_id, authority, date, page, section, text, kind, measure, measure_known, phrase, "
        "target, target_number, target_unit, direction, due, owner, vector) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
        [
            (c.doc_id, c.chunk_id, c.authority, c.date, c.page, c.section, c.text, c.kind, c.measure, int(c.measure_known),
             named_measure(c),
             c.target, c.target_value.number if c.target_value else None, c.target_value.unit if c.target_value else None,
             c.direction, c.due, c.owner, np.asarray(by_text[embedding_key(c.text)], np.float32).tobytes())
            for c in commitments
        ],
    )
    conn.executemany(
        "INSERT INTO measure_reports (doc_id, chunk_id, authority, date, page, section, text, measure, measure_known, vals, "
        "verdict, vector) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
        [
            (r.doc_id, r.chunk_id, r.authority, r.date, r.page, r.section, r.text, r.measure, int(r.measure_known),
             json.dumps([asdict(v) for v in r.values]), r.verdict,
             np.asarray(by_text[embedding_key(r.text)], np.float32).tobytes())
            for r in reports
        ],
    )


def relink(conn: sqlite3.Connection) -> None:
    """Recompute every follow-up and comparison, and each commitment's status, from the stored rows."""
    commitments, commitment_vectors = stored_commitments(conn)
    reports, report_vectors = stored_reports(conn)
    outcome_docs = frozenset(doc_id for doc_id, title, committee in conn.execute("SELECT doc_id, title, committee FROM documents")
                             if is_outcome_record(DocumentMeta(committee=committee, title=title)))
    links = link_commitments(commitments, commitment_vectors, reports, report_vectors, outcome_docs)
    conn.execute("DELETE FROM commitment_followups")
    conn.executemany(
        "INSERT OR REPLACE INTO commitment_followups VALUES (?,?,?,?,?,?)",
        [(l.commitment_id, l.report_id, l.relation, l.similarity, l.outcome, l.value) for l in links],
    )
    by_commitment: dict[int, list[Link]] = {}
    for link in links:
        by_commitment.setdefault(link.commitment_id, []).append(link)
    report_by_id = {r.id: r for r in reports}
    conn.executemany(
        "UPDATE commitments SET status = ?, status_evidence = ? WHERE id = ?",
        [(*status_of(by_commitment.get(c.id, []), report_by_id), c.id) for c in commitments],
    )


_COMMITMENT_COLUMNS = ("id, doc_id, chunk_id, authority, date, page, section, text, kind, measure, measure_known, phrase, target, "
                       "target_number, target_unit, direction, due, owner, status, status_evidence")


def commitment_from_row(row: tuple) -> Commitment:
    (id_, doc_id, chunk_id, authority, date, page, section, text, kind, measure, known, phrase, target, number, unit,
     direction, due, owner, status, evidence) = row
    value = Value(target, number, unit) if number is not None else None
    return Commitment(doc_id=doc_id, chunk_id=chunk_id, text=text, kind=kind, measure=measure, authority=authority,
                      date=date, page=page, section=section, target=target, target_value=value, direction=direction,
                      due=due, owner=owner, measure_known=bool(known), id=id_, status=status, status_evidence=evidence,
                      phrase=phrase)


def stored_commitments(conn: sqlite3.Connection) -> tuple[list[Commitment], np.ndarray]:
    rows = conn.execute(f"SELECT {_COMMITMENT_COLUMNS}, vector FROM commitments ORDER BY id").fetchall()
    return [commitment_from_row(row[:-1]) for row in rows], _vectors([row[-1] for row in rows])


def stored_reports(conn: sqlite3.Connection) -> tuple[list[MeasureReport], np.ndarray]:
    rows = conn.execute(
        "SELECT id, doc_id, chunk_id, authority, date, page, section, text, measure, measure_known, vals, verdict, vector "
        "FROM measure_reports ORDER BY id"
    ).fetchall()
    reports = [
        MeasureReport(doc_id=r[1], chunk_id=r[2], text=r[7], measure=r[8], values=[Value(**v) for v in json.loads(r[10])],
                      verdict=r[11], authority=r[3], date=r[4], page=r[5], section=r[6], measure_known=bool(r[9]), id=r[0])
        for r in rows
    ]
    return reports, _vectors([r[-1] for r in rows])


def _vectors(blobs: list[bytes]) -> np.ndarray:
    if not blobs:
        return np.zeros((0, 1), np.float32)
    return np.vstack([np.frombuffer(b, dtype=np.float32) for b in blobs])


# ------------------------------------------------------------------ reading


def has_register(conn: sqlite3.Connection) -> bool:
    """Whether the index holds a register of this shape (one built before measures had phrases needs a re-ingest)."""
    columns = {row[1] for row in conn.execute("PRAGMA table_info(commitments)")}
    return "phrase" in columns


def register_where(query: RegisterQuery, with_status: bool = True) -> tuple[str, list]:
    """The SQL condition (over `commitments c`) and its parameters for the query's filters."""
    clauses, params = [], []
    if query.authority:
        clauses.append("c.authority LIKE ?")
        params.append(f"%{query.authority}%")
    if query.measure:
        clauses.append("(c.phrase LIKE ? OR c.measure LIKE ? OR c.text LIKE ?)")
        params += [f"%{query.measure}%"] * 3
    if query.due_before:
        clauses.append("c.due IS NOT NULL AND c.due < ?")
        params.append(query.due_before)
    if query.status and with_status:
        clauses.append("c.status = ?")
        params.append(query.status)
    if query.doc_id:
        clauses.append("c.doc_id = ?")
        params.append(query.doc_id)
    return " AND ".join(clauses) or "1", params


def register_order(sort: str) -> str:
    """ORDER BY for a sort key ("due", "-due"); an unknown key sorts by the paper's date."""
    key = sort.lstrip("-")
    direction = "DESC" if sort.startswith("-") else "ASC"
    first = REGISTER_SORTS.get(key, REGISTER_SORTS["date"]).format(dir=direction)
    return f"{first}, c.date IS NULL, c.date, c.doc_id, c.id"


def load_register(conn: sqlite3.Connection, query: RegisterQuery | None = None) -> list[RegisterEntry]:
    """Commitments matching `query` in its order (oldest paper first by default), each with its follow-ups and comparisons."""
    query = query or RegisterQuery()
    if not has_register(conn):
        return []
    where, params = register_where(query)
    page = f" LIMIT {int(query.limit)} OFFSET {int(query.offset)}" if query.limit else ""
    columns = ", ".join(f"c.{name.strip()}" for name in _COMMITMENT_COLUMNS.split(","))
    rows = conn.execute(
        f"SELECT {columns}, d.title FROM commitments c LEFT JOIN documents d ON d.doc_id = c.doc_id "
        f"WHERE {where} ORDER BY {register_order(query.sort)}{page}", params
    ).fetchall()
    entries = [RegisterEntry(commitment_from_row(row[:-1]), title=row[-1]) for row in rows]
    attach_links(conn, entries)
    return entries


def status_counts(conn: sqlite3.Connection, query: RegisterQuery | None = None) -> dict[str, int]:
    """How many commitments match the query's other filters, by status (every status present, zero or not)."""
    counts = dict.fromkeys(STATUSES, 0)
    if not has_register(conn):
        return counts
    where, params = register_where(query or RegisterQuery(), with_status=False)
    for status, count in conn.execute(f"SELECT c.status, count(*) FROM commitments c WHERE {where} GROUP BY c.status", params):
        counts[status] = count
    return counts


def attach_links(conn: sqlite3.Connection, entries: list[RegisterEntry]) -> None:
    by_id = {e.commitment.id: e for e in entries}
    ids = list(by_id)
    for start in range(0, len(ids), 500):
        part = ids[start:start + 500]
        marks = ",".join("?" * len(part))
        rows = conn.execute(
            "SELECT f.commitment_id, f.relation, f.outcome, f.value, r.id, r.doc_id, r.chunk_id, r.authority, r.date, r.page, "
            "r.section, r.text, d.title FROM commitment_followups f JOIN measure_reports r ON r.id = f.report_id "
            f"LEFT JOIN documents d ON d.doc_id = r.doc_id WHERE f.commitment_id IN ({marks}) ORDER BY r.date, f.similarity DESC",
            part,
        )
        for cid, relation, outcome, value, report_id, doc_id, chunk_id, authority, date, page, section, text, title in rows:
            item = FollowUp(report_id, doc_id, chunk_id, authority, date, page, section, text, value, outcome, relation, title)
            target = by_id[cid].follow_ups if relation == "follow_up" else by_id[cid].comparisons
            target.append(item)


def register_json(entries: list[RegisterEntry]) -> list[dict]:
    return [entry.to_json() for entry in entries]


def measures_in_register(conn: sqlite3.Connection) -> list[str]:
    """The measures a user may filter by: the lexicon's topics present in the register."""
    if not has_register(conn):
        return []
    return [row[0] for row in conn.execute("SELECT DISTINCT measure FROM commitments WHERE measure_known ORDER BY measure")]


def named_measure(commitment: Commitment) -> str:
    """What the register calls a commitment's measure: the paper's own phrase, else the topic, else its opening words."""
    if commitment.phrase:
        return commitment.phrase
    if commitment.measure_known:
        return commitment.measure
    words = LIST_ITEM.sub("", " ".join(commitment.text.split())).split()
    return " ".join(words[:6]).rstrip(",.;:") + (" …" if len(words) > 6 else "")


# ------------------------------------------------------------------ questions

_QUESTION_STOP = set("what did does do was were is are the a an of to in on for about and or did they it its their "
                     "promise promised promises commit committed commitment commitments target targets achieve achieved "
                     "meet met council which how has have been any there say said by with".split())


def commitments_for_question(conn: sqlite3.Connection, question: str, authority: str | None = None,
                             limit: int = 10) -> list[RegisterEntry]:
    """Commitments a question asks about ("what did Suffolk promise about vacancy rates and did they achieve it?").

    The council comes from `authority` or is recognised in the question; the measure is the lexicon's
    label for the question's words, else the commitments sharing most of its content words.
    """
    if not has_register(conn):
        return []
    authority = authority or authority_in_question(conn, question)
    measure = known_measure(question)
    if measure is not None:
        entries = load_register(conn, RegisterQuery(authority=authority, measure=measure.label))
        entries = [e for e in entries if e.commitment.measure == measure.label] or entries
        if entries:
            return rank_entries(entries)[:limit]
    words = content_words(question, authority)
    if not words:
        return []
    candidates = load_register(conn, RegisterQuery(authority=authority))
    scored = [(sum(w in content_words(f"{e.commitment.measure} {e.commitment.text}", None) for w in words), e)
              for e in candidates]
    best = [e for score, e in sorted(scored, key=lambda pair: -pair[0]) if score > 0]
    return rank_entries(best)[:limit]


def rank_entries(entries: list[RegisterEntry]) -> list[RegisterEntry]:
    """Targets with a stated value and a known outcome first: they answer "did they achieve it?"."""
    def key(entry: RegisterEntry):
        c = entry.commitment
        return (c.target is None, c.status not in ("met", "not met"), not entry.follow_ups, c.date or "", c.id or 0)
    return sorted(entries, key=key)


def authority_in_question(conn: sqlite3.Connection, question: str) -> str | None:
    folded = fold_characters(question).casefold()
    for (name,) in conn.execute("SELECT DISTINCT authority FROM documents WHERE authority IS NOT NULL"):
        place = re.sub(r"\b(?:county|city|borough|district|metropolitan)?\s*council\b", "", name, flags=re.I).strip()
        if place and re.search(rf"\b{re.escape(place.casefold())}\b", folded):
            return place
    return None


def content_words(text: str, authority: str | None) -> set[str]:
    words = set(re.findall(r"[a-z][a-z-]{2,}", fold_characters(text).casefold()))
    drop = set((authority or "").casefold().split())
    return {w.rstrip("s") for w in words - _QUESTION_STOP - drop}

