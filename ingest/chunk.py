"""chunk_blocks: blocks in, retrieval-sized chunks out.

A unit (numbered paragraph, heading with what follows it, table) is kept whole
and merged with neighbours up to about target_words. Only a unit longer than
max_words is cut: prose at sentence boundaries with overlap, tables between rows
with the header row repeated, so no row is ever without its header.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from core.records import Block, Chunk, TableRowRef
from core.settings import ChunkSettings
from core.text import word_count

# Abbreviations that end in a full stop without ending a sentence.
_NOT_SENTENCE_END = re.compile(r"(?:\b(?:e\.g|i\.e|etc|Mr|Mrs|Ms|Dr|No|para|paras|cf|vs|St|Cllr)\.|\b[A-Z]\.)$")
_SENTENCE_GAP = re.compile(r"(?<=[.!?])[\"”’)]?\s+(?=[A-Z0-9“\"(£•])")


@dataclass
class Unit:
    blocks: list[Block] = field(default_factory=list)
    cut: bool = False  # a piece of a table too long for one chunk

    @property
    def has_table(self) -> bool:
        return any(block.kind == "table" for block in self.blocks)

    @property
    def words(self) -> int:
        return sum(word_count(block.text) for block in self.blocks)

    @property
    def section(self) -> str | None:
        return self.blocks[0].section if self.blocks else None


def chunk_blocks(doc_id: str, blocks: list[Block], settings: ChunkSettings) -> list[Chunk]:
    """Chunks in reading order, ordinals 0..n-1; chunk_id is assigned by the index."""
    pieces: list[Unit] = []
    for unit in units_from_blocks(blocks):
        pieces.extend(split_unit(unit, settings) if unit.words > settings.max_words else [unit])
    groups = merge_units(pieces, settings)
    return [chunk_from_group(doc_id, ordinal, group) for ordinal, group in enumerate(groups)]


_TABLE_LEAD_IN = re.compile(r"\b(?:the|this) (?:table|figures?) below\b|\bthe following table\b", re.IGNORECASE)


def introduces_table(block: Block, following: Block | None) -> bool:
    """A paragraph right above a table that says what the table below shows ("the table below demonstrates that
    Thanet and Swale receive the highest proportion of the overall Family Hub budget"): the table's context, kept
    in the table's chunk."""
    return (following is not None and following.kind == "table" and block.kind not in ("heading", "table")
            and bool(_TABLE_LEAD_IN.search(block.text)))


def units_from_blocks(blocks: list[Block]) -> list[Unit]:
    """Each heading, and a paragraph introducing the table after it, travels with the block after it; a trailing
    heading joins the unit before."""
    units: list[Unit] = []
    headings: list[Block] = []
    for index, block in enumerate(blocks):
        if block.kind == "heading" or introduces_table(block, blocks[index + 1] if index + 1 < len(blocks) else None):
            headings.append(block)
            continue
        units.append(Unit(headings + [block]))
        headings = []
    if headings:
        if units:
            units[-1].blocks.extend(headings)
        else:
            units.append(Unit(headings))
    return units


def top_level(section: str | None) -> str | None:
    """"3.5" -> "3", "24(a)" -> "24", a heading's text -> itself."""
    if section is None:
        return None
    match = re.match(r"(\d+|[IVX]+)(?=$|[.(])", section)
    return match.group(1) if match else section


def merge_units(units: list[Unit], settings: ChunkSettings) -> list[list[Block]]:
    groups: list[list[Block]] = []
    current: list[Block] = []
    current_words = 0
    merged: list[Unit] = []
    for unit in units:
        words = unit.words
        if current and (not fits(current, current_words, unit, words, settings) or mixes_tables(merged, unit)):
            groups.append(current)
            current, current_words, merged = [], 0, []
        current = current + unit.blocks
        current_words += words
        merged.append(unit)
    if current:
        groups.append(current)
    return groups


_ITEM_NUMBER = re.compile(r"^\s*(\d{1,4})\b")


def mixes_tables(merged: list[Unit], unit: Unit) -> bool:
    """Whether `unit` would put a piece of a cut table in one chunk with another table: the piece is read (and
    ranked) as that table, and the other's rows would be read under its caption."""
    return unit.has_table and any(other.has_table and (other.cut or unit.cut) for other in merged)


def item_number(section: str | None) -> str | None:
    """The number of the numbered item a section belongs to: "300(5)" -> "300", and "10 Workplace Parking Levy" (a
    minutes heading read without a separate number) -> "10", which top_level keeps whole as a title."""
    match = _ITEM_NUMBER.match(section or "")
    return match.group(1) if match else None


def starts_other_item(current: list[Block], unit: Unit) -> bool:
    """Whether `unit` opens with the heading of another numbered item than the chunk's last block belongs to
    (minutes' "301. Armed Forces Covenant" after "300(5) RESOLVED that ..."): an item's resolution then ends its
    chunk. Only a heading counts: a list item inside a minute ("c. Approve ...") may be read as a section of its own."""
    before, after = item_number(current[-1].section), item_number(unit.section)
    return unit.blocks[0].kind == "heading" and before is not None and after is not None and before != after


def fits(current: list[Block], current_words: int, unit: Unit, words: int, settings: ChunkSettings) -> bool:
    """Grow to target, but not past the end of a numbered item once the chunk holds `item_words`: a minute's
    resolution is not diluted by the next minute's business. A chunk still under min_words may grow to max_words
    within its section."""
    total = current_words + words
    if total <= settings.target_words:
        return not (current_words >= settings.item_words and starts_other_item(current, unit))
    same_section = top_level(current[0].section) == top_level(unit.section)
    return same_section and current_words < settings.min_words and total <= settings.max_words


def split_unit(unit: Unit, settings: ChunkSettings) -> list[Unit]:
    """Cut an over-long unit: its headings go with the first piece."""
    headings = [b for b in unit.blocks if b.kind == "heading"]
    body = [b for b in unit.blocks if b.kind != "heading"]
    pieces: list[Unit] = []
    for block in body:
        if word_count(block.text) <= settings.max_words:
            texts = [block.text]
        elif block.kind == "table":
            pieces.extend(Unit([piece], cut=True) for piece in split_table_block(block, settings))
            continue
        else:
            texts = split_prose(block.text, settings)
        pieces.extend(Unit([_with_text(block, text)]) for text in texts)
    if pieces and headings:
        if word_count(" ".join(b.text for b in headings + pieces[0].blocks)) > settings.max_words:
            pieces.insert(0, Unit(headings))  # a stack of heading-like lines (a contacts box) is text of its own
        else:
            pieces[0].blocks[:0] = headings
    return pieces or [unit]


def _with_text(block: Block, text: str) -> Block:
    return Block(kind=block.kind, text=text, page=block.page, page_end=block.page_end, section=block.section, heading=block.heading)


def split_table_block(block: Block, settings: ChunkSettings) -> list[Block]:
    """A table cut between rows; every piece starts with the caption line again and keeps its rows' cells."""
    caption, *lines = block.text.split("\n")
    pieces: list[Block] = []
    start = 0
    for text in split_table(block.text, settings):
        count = text.count("\n")
        rows = slice(start, start + count)
        pages = [p for p in block.row_pages[rows] if p is not None]
        pieces.append(Block(kind="table", text=text, page=min(pages) if pages else block.page,
                            page_end=max(pages) if pages else block.page_end, section=block.section, heading=block.heading,
                            caption=block.caption, header=block.header, rows=block.rows[rows], row_pages=block.row_pages[rows],
                            first_row=block.first_row + start))
        start += count
    return pieces


def split_table(text: str, settings: ChunkSettings) -> list[str]:
    """Pieces of whole rows, each starting with the first (caption or header) line, as many as filling pieces to
    target_words would make but of even length: a long table's last piece is not one short row, which would be
    read with whatever the chunk takes in after it."""
    header, *rows = text.split("\n")
    sizes = [word_count(row) for row in rows]
    count = filled_piece_count(sizes, word_count(header), settings.target_words)
    share = sum(sizes) / count
    pieces: list[list[str]] = [[] for _ in range(count)]
    before = 0
    for row, size in zip(rows, sizes):
        # each row goes to the piece its middle word falls in
        pieces[min(int((before + size / 2) / share), count - 1) if share else 0].append(row)
        before += size
    return ["\n".join([header] + piece) for piece in pieces if piece or count == 1]


def filled_piece_count(sizes: list[int], header_words: int, target_words: int) -> int:
    """How many pieces rows of these sizes make when each piece is filled in order to target_words (with the
    header's words in each); at least one."""
    count, words, rows = 1, header_words, 0
    for size in sizes:
        if rows and words + size > target_words:
            count, words, rows = count + 1, header_words, 0
        words += size
        rows += 1
    return count


def sentences(text: str) -> list[str]:
    parts: list[str] = []
    start = 0
    for match in _SENTENCE_GAP.finditer(text):
        if _NOT_SENTENCE_END.search(text[: match.start() + 1].rstrip()):
            continue
        parts.append(text[start : match.end()].strip())
        start = match.end()
    parts.append(text[start:].strip())
    return [p for p in parts if p]


def split_prose(text: str, settings: ChunkSettings) -> list[str]:
    """Pieces of whole sentences near target_words; each repeats the previous piece's tail."""
    units = []
    for sentence in sentences(text):
        units.extend(_word_windows(sentence, settings.max_words - settings.overlap_words))
    pieces: list[list[str]] = []
    current: list[str] = []
    fresh = 0  # sentences in `current` beyond the overlap it started with
    for sentence in units:
        if fresh and word_count(" ".join(current + [sentence])) > settings.target_words:
            pieces.append(current)
            current, fresh = overlap_tail(current, settings.overlap_words), 0
        current.append(sentence)
        fresh += 1
    if fresh:
        pieces.append(current)
    return [" ".join(piece) for piece in pieces]


def overlap_tail(sentences_so_far: list[str], overlap_words: int) -> list[str]:
    """Trailing whole sentences of at most overlap_words, else the last overlap_words words."""
    tail: list[str] = []
    for sentence in reversed(sentences_so_far):
        if word_count(" ".join([sentence] + tail)) > overlap_words:
            break
        tail.insert(0, sentence)
    if not tail and overlap_words > 0:
        tail = ["…" + " ".join(sentences_so_far[-1].split()[-overlap_words:])]
    return tail


def _word_windows(sentence: str, size: int) -> list[str]:
    words = sentence.split()
    if len(words) <= size:
        return [sentence]
    return [" ".join(words[i : i + size]) for i in range(0, len(words), size)]


def chunk_from_group(doc_id: str, ordinal: int, blocks: list[Block]) -> Chunk:
    pages = [b.page for b in blocks if b.page is not None]
    ends = [b.page_end or b.page for b in blocks if b.page is not None]
    return Chunk(
        chunk_id=0,
        doc_id=doc_id,
        ordinal=ordinal,
        text="\n\n".join(b.text for b in blocks),
        kind=main_kind(blocks),
        page=min(pages) if pages else None,
        page_end=max(ends) if ends else None,
        section=titled_section(blocks[0].section, blocks[0].heading),
        table_rows=table_row_refs(blocks),
    )


def titled_section(section: str | None, heading: str | None) -> str | None:
    """A chunk's section as cited, with the item it belongs to: a paragraph number says little on its own, so
    "299(ii)" under "299 Kent Minerals and Waste Local Plan 2024-39" reads "299(ii) Kent Minerals and Waste Local
    Plan 2024-39", and a decision's "2" under the minutes' "10 Workplace Parking Levy" reads
    "10 Workplace Parking Levy (2)"."""
    if not heading or not section or section == heading:
        return section or heading
    number, _, title = heading.partition(" ")
    if title and number == top_level(section):
        return f"{section} {title}"
    return f"{heading} {section}" if section.startswith("(") else f"{heading} ({section})"


def table_row_refs(blocks: list[Block]) -> list[TableRowRef]:
    """Each table-row line of the joined text ("\n\n" between blocks): its line, page and row number."""
    refs: list[TableRowRef] = []
    line = 0
    for block in blocks:
        if block.kind == "table" and block.rows:
            for offset in range(len(block.rows)):
                page = block.row_pages[offset] if offset < len(block.row_pages) else block.page
                refs.append(TableRowRef(line=line + 1 + offset, page=page, row=block.first_row + offset))
        line += block.text.count("\n") + 2
    return refs


def main_kind(blocks: list[Block]) -> str:
    """The kind holding most words, headings counting only when nothing else is there."""
    totals: dict[str, int] = {}
    for block in blocks:
        if block.kind != "heading":
            totals[block.kind] = totals.get(block.kind, 0) + word_count(block.text)
    return max(totals, key=totals.get) if totals else "heading"
