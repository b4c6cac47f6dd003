"""blocks_from_document: cleaned page text in, headings, numbered paragraphs and tables out.

The whole document is read as one stream of lines tagged with their page, so a
paragraph or table that runs over a page break stays one block.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from core.records import Block, ParsedDocument, PdfTable
from ingest.tables import NUMBERED_TITLE, TABLE_MARK, UNITS_NOTE, is_figure, is_pipe_row, is_pipe_rule, table_lines, text_table_cells

MAX_HEADING_WORDS = 12
MAX_NUMBERED_HEADING_WORDS = 10
TABLE_LOOKAHEAD = 3  # wrapped label lines allowed before a row's values
MAX_HEADER_LINES = 4
MIN_CAPTION_WORDS = 3  # a line above a table this long, held in its caption, is the caption's own line
MAX_UNITS_NOTE_WORDS = 6
TERMINAL = ".:;,!?"
BULLETS = ("\u2022", "\uf0b7", "\u25aa", "\u25e6", "- ", "\u2013 ", "o ")

_NUMBERED = re.compile(r"^(\d{1,3}(?:\.\d{1,3}){1,3}|\d{1,3}\.)\s+(?=[A-Z(“\"'‘£])")
_ROMAN = re.compile(r"^([IVX]{1,5})\.\s+(?=[A-Z])")
# Short lines of minutes that are not headings: a vote's tally ("For (52)"), names ("Mr Baker, Mr Lehmann" voting,
# a list's "67 Councillor Ani Stafford-Townsend") and what happened ("It was APPROVED", "The amendment was seconded by Councillor Bryher").
_VOTE_TALLY = re.compile(r"(?:for|against|abstain\w*|abstentions?)\s*[(:]?\s*\d+\)?$", re.I)
_TITLED_NAMES = re.compile(r"(?:\d{1,3}\s+)?(?:(?:Mr|Mrs|Ms|Miss|Dr|Sir|Cllr|Councillor)\.?(?:\s+[A-Z][\w'’.-]*)+"
                           r"(?:\s*,\s*|\s+and\s+|\s*$))+$")
# "That the Committee for Transport and Connectivity" opens a resolution's list of what was decided; no title opens with "That".
_RESOLUTION_LEAD = re.compile(r"^That\s", re.I)
_PROCEEDING = re.compile(r"\b(?:was|were)\s+(?:approved|agreed|resolved|carried|lost|seconded|moved|proposed|noted|withdrawn)\b", re.I)
_SUB_ITEM = re.compile(r"^(?:\(([a-z]{1,3}|\d{1,2})\)|([a-z])[.)]|(\d{1,2})\))\s+(?=\S)")
_VALUE = re.compile(
    r"^(?:[-+−–]?\s?£?\(?[-+−]?\d[\d,]*(?:\.\d+)?\)?(?:%|m|k|bn)?|\d{4}/\d{2}|GREEN|AMBER|RED|n/a|N/A|[-–])$"
)
_LATEST = re.compile(r"^Latest:\s")
# A minutes item's heading, numbered without a point ("10 Workplace Parking Levy"); "07 Julie Levers" is a list's entry.
_ITEM_HEADING = re.compile(r"^([1-9]\d{0,2})\s+(?=[A-Z\d])")
MAX_ITEM_HEADING_WORDS = 20
_MARKDOWN_HEADING = re.compile(r"^(#{1,6})\s+(.*)$")


@dataclass
class Line:
    text: str
    page: int | None

    @property
    def blank(self) -> bool:
        return not self.text.strip()


@dataclass
class Draft:
    kind: str
    lines: list[Line] = field(default_factory=list)
    section: str | None = None
    heading: str | None = None  # the last heading above: a table's caption, a numbered paragraph's item
    above: str | None = None  # the line just above a text table
    table: PdfTable | None = None  # a table found with its cells in a PDF


def blocks_from_document(doc: ParsedDocument) -> list[Block]:
    """Blocks in reading order; `section` is the paragraph number or the heading above."""
    lines = document_lines(doc)
    if doc.format == "pdf":
        table_rows = pdf_table_spans(lines)
    else:
        table_rows = text_table_spans(lines)
    drafts = draft_blocks(lines, table_rows, layout_wrapped=doc.format == "pdf", pdf_tables=doc.tables)
    wrapped = doc.format == "pdf"
    return [block for block in (finish_block(d, wrapped) for d in drafts) if block is not None]


def table_mark_index(text: str) -> int | None:
    """The index of the PDF table a mark line stands for."""
    if not text.startswith(TABLE_MARK):
        return None
    number = text[len(TABLE_MARK):].strip()
    return int(number) if number.isdigit() else None


def document_lines(doc: ParsedDocument) -> list[Line]:
    lines: list[Line] = []
    for number, page in enumerate(doc.pages, start=1):
        for text in page.split("\n"):
            lines.append(Line(text.rstrip(), number if doc.has_pages else None))
    return lines


# ---------------------------------------------------------------- tables


def is_value_row(text: str) -> bool:
    """A table row: ends in two or more figures, or in a RAG rating, or is a KPI "Latest:" line."""
    stripped = text.strip()
    if not stripped or stripped[-1] == "." and not re.search(r"\d\.$", stripped) or stripped.startswith(TABLE_MARK):
        return False
    if _LATEST.match(stripped):
        return True
    tokens = re.sub(r"([-+−]) (\d)", r"\1\2", stripped).split()
    trailing = 0
    for token in reversed(tokens):
        if not _VALUE.match(token):
            break
        trailing += 1
    return trailing >= 2 or (trailing >= 1 and tokens[-1] in {"GREEN", "AMBER", "RED"})


def is_label_line(text: str) -> bool:
    """A wrapped label or header line inside a table: short and not the end of a sentence."""
    stripped = text.strip()
    return (bool(stripped) and len(stripped.split()) <= 16 and stripped[-1] not in ".;:!?" and not starts_numbered(stripped)
            and not stripped.startswith(TABLE_MARK))


def pdf_table_spans(lines: list[Line]) -> dict[int, int]:
    """Start index -> end index (exclusive) of each table found in PDF text."""
    spans: dict[int, int] = {}
    index = 0
    while index < len(lines):
        if not is_value_row(lines[index].text):
            index += 1
            continue
        start = header_start(lines, index)
        end = table_end(lines, index)
        if end - start >= 2 and sum(is_value_row(l.text) for l in lines[start:end]) >= 2:
            spans[start] = end
            index = end
        else:
            index += 1
    return _drop_overlaps(spans)


def header_start(lines: list[Line], first_row: int) -> int:
    """Walk back over header/label lines above the first row, stopping at a blank line."""
    start = first_row
    while start > 0 and first_row - start < MAX_HEADER_LINES and is_label_line(lines[start - 1].text) and not is_value_row(lines[start - 1].text):
        if start >= 2 and lines[start - 2].text.strip() and lines[start - 2].text.strip()[-1] not in ".:" and not is_label_line(lines[start - 2].text):
            break
        start -= 1
    return start


def table_end(lines: list[Line], last_row: int) -> int:
    """Index after the table's last row: rows, wrapped labels and blank gaps that lead to more rows."""
    end = last_row + 1
    probe = end
    while probe < len(lines):
        window = [i for i in range(probe, min(len(lines), probe + TABLE_LOOKAHEAD + 3)) if not lines[i].blank]
        next_row = next((i for i in window[: TABLE_LOOKAHEAD + 1] if is_value_row(lines[i].text)), None)
        if next_row is None:
            break
        between = [i for i in window if i < next_row]
        if not all(is_label_line(lines[i].text) for i in between):
            break
        end = next_row + 1
        probe = end
    return end


def _drop_overlaps(spans: dict[int, int]) -> dict[int, int]:
    kept: dict[int, int] = {}
    last_end = -1
    for start in sorted(spans):
        if start >= last_end:
            kept[start] = spans[start]
            last_end = spans[start]
    return kept


def is_text_table_row(text: str) -> bool:
    """A Markdown pipe row or rule, or a line with text on both sides of a tab. A line that only starts with
    a tab is indented text: Word's tables saved as text put each cell on lines of their own that way."""
    if not text.strip():
        return False
    return is_pipe_row(text) or is_pipe_rule(text) or sum(1 for cell in text.split("\t") if cell.strip()) >= 2


def heads_another_table(row: str, header: str) -> bool:
    """A row after a blank line laid out as the table's header but naming other columns ("COSTS | Year 2 costs
    (10-11)" below a table headed "COSTS | Year 1 costs (09-10)"): the header of a second table."""
    cells, first = text_table_cells([row])[0], text_table_cells([header])[0]
    return (cells != first and len(cells) == len(first) and cells[0] == first[0]
            and not any(is_figure(cell) for cell in cells))


def text_table_spans(lines: list[Line]) -> dict[int, int]:
    """Runs of tab-separated or Markdown pipe rows (blank lines between rows allowed) that hold a header and
    at least one row; a lone row stays a line of text, so nothing of it is lost."""
    spans: dict[int, int] = {}
    index = 0
    while index < len(lines):
        if not is_text_table_row(lines[index].text):
            index += 1
            continue
        end = index + 1
        probe = end
        while probe < len(lines):
            if is_text_table_row(lines[probe].text):
                if lines[probe - 1].blank and heads_another_table(lines[probe].text, lines[index].text):
                    break
                end = probe + 1
            elif lines[probe].text.strip():
                break
            probe += 1
        if sum(1 for line in lines[index:end] if line.text.strip() and not is_pipe_rule(line.text)) >= 2:
            spans[index] = end
        index = end
    return spans


def table_rows(lines: list[Line], wrapped: bool) -> list[Line]:
    """One Line per row: PDF label lines are joined to the values that end their row."""
    rows: list[Line] = []
    pending: list[Line] = []
    for line in lines:
        if line.blank:
            continue
        if not wrapped:
            rows.append(Line(line.text.strip("\n"), line.page))
            continue
        pending.append(line)
        if is_value_row(line.text):
            if not rows:
                header, pending = split_header(pending)
                rows.extend(header)
            rows.append(Line(" ".join(l.text.strip() for l in pending), pending[0].page))
            pending = []
    if pending:
        rows.append(Line(" ".join(l.text.strip() for l in pending), pending[0].page))
    return rows


def split_header(lines: list[Line]) -> tuple[list[Line], list[Line]]:
    """Header row and first body row from the lines up to the first row of values.

    The first row keeps the lines it continues (a lower-case start means the
    line above belongs to the same label); everything above is the header.
    """
    start = len(lines) - 1
    while start > 0 and lines[start].text.strip()[:1].islower():
        start -= 1
    head = lines[:start]
    header = [Line(" ".join(l.text.strip() for l in head), head[0].page)] if head else []
    return header, lines[start:]


def drop_repeated_headers(rows: list[Line]) -> list[Line]:
    """A header row printed again at the top of the next page is not a new row."""
    if not rows:
        return rows
    header = _row_key(rows[0].text)
    kept = [rows[0]]
    for previous, row in zip(rows, rows[1:]):
        if row.page != previous.page and _row_key(row.text) == header:
            continue
        kept.append(row)
    return kept


def _row_key(text: str) -> str:
    return " ".join(text.split()).lower()


# ---------------------------------------------------------------- paragraphs and headings


def starts_numbered(text: str) -> bool:
    return bool(_NUMBERED.match(text) or _ROMAN.match(text) or _SUB_ITEM.match(text))


def paragraph_label(text: str) -> tuple[str, str] | None:
    """("main" | "sub", label) for a numbered paragraph's first line."""
    match = _NUMBERED.match(text) or _ROMAN.match(text)
    if match:
        return "main", match.group(1).rstrip(".")
    match = _SUB_ITEM.match(text)
    if match:
        return "sub", next(g for g in match.groups() if g)
    return None


# Words a title may keep in lower case: "Background and Context", "Summary of Recommendations".
_TITLE_JOINERS = frozenset({"and", "of", "for", "the", "to", "on", "in", "&"})
TITLE_WITH_COLON_WORDS = 4
# Words that open a sentence leading into a list ("That Committee:", "Or:"), not a title.
_SENTENCE_OPENERS = frozenset({"that", "the", "this", "it", "or", "and", "we", "to"})


def is_titled_label(text: str) -> bool:
    """A short title in title case ending in a colon, alone on its line: a report template's "Evidence Base:" or
    "Background:", which heads the paragraphs below it as a heading would. "The results are as follows:" is not."""
    words = text[:-1].split()
    return (text.endswith(":") and ":" not in text[:-1] and 0 < len(words) <= TITLE_WITH_COLON_WORDS
            and not text.isupper()  # "REPORT TO:", "DATE:": a cover sheet's form field, its value on the next line
            and words[0].lower() not in _SENTENCE_OPENERS
            and words[0][0].isupper() and all(word[0].isupper() or word.lower() in _TITLE_JOINERS for word in words))


def is_heading_text(text: str, max_words: int = MAX_HEADING_WORDS) -> bool:
    stripped = text.strip()
    words = stripped.split()
    return (
        0 < len(words) <= max_words
        and (stripped[-1] not in TERMINAL or is_titled_label(stripped))
        and (stripped[0].isupper() or stripped[0].isdigit() or stripped[0] == "(")
        and any(ch.isalpha() for ch in stripped)
        and not stripped.startswith(BULLETS)
        and not is_value_row(stripped)
        and not _VOTE_TALLY.match(stripped)
        and not _TITLED_NAMES.match(stripped)
        and not _PROCEEDING.search(stripped)
        and not _RESOLUTION_LEAD.match(stripped)
    )


FORM_PROSE_WORDS = 40  # a cell this long is prose, not a value
FORM_MAX_COLUMNS = 3


def is_form(table: PdfTable) -> bool:
    """A boxed form (a label beside a block of prose, as in a decision recording form) rather than a table
    of values: few columns, a cell of prose, and most rows without a figure. Its rows read as paragraphs."""
    rows = [row for row in table.rows if any(cell.strip() for cell in row)]
    if not rows or max(len(row) for row in rows) > FORM_MAX_COLUMNS:
        return False
    prose = any(len(cell.split()) >= FORM_PROSE_WORDS for row in rows for cell in row)
    with_figures = sum(1 for row in rows if any(is_value_row(cell) or re.fullmatch(r"[-+£(]?\d[\d,.]*[%m)]?", cell.strip()) for cell in row))
    return prose and with_figures * 2 < len(rows)


def form_paragraphs(table: PdfTable) -> list[tuple[str, int | None]]:
    """Each row of a form as a paragraph: "Decision taken: That the Committee ...", with its page."""
    paragraphs = []
    for row, page in zip(table.rows, table.row_pages or [table.page] * len(table.rows)):
        cells = [" ".join(cell.split()) for cell in row if cell.strip()]
        if not cells:
            continue
        if len(cells) > 1 and re.fullmatch(r"\(?[a-z0-9]{1,3}[).]?", cells[0], re.I):
            cells = cells[1:]  # a form's item letter, "(d)", says nothing
        label, rest = cells[0], cells[1:]
        text = f"{label.rstrip(':')}: {' '.join(rest)}" if rest and len(label.split()) <= 8 else " ".join(cells)
        paragraphs.append((text, page))
    return paragraphs


def draft_blocks(lines: list[Line], tables: dict[int, int], layout_wrapped: bool, pdf_tables: list[PdfTable] | None = None) -> list[Draft]:
    """Group lines into drafts, tracking the section each one sits under; a mark line stands for pdf_tables[i]."""
    pdf_tables = pdf_tables or []
    heading_width = heading_width_limit(lines) if layout_wrapped else None
    drafts: list[Draft] = []
    current: Draft | None = None
    state = SectionState()
    index = 0
    while index < len(lines):
        line = lines[index]
        if index in tables:
            end = tables[index]
            above = next((l.text.strip() for l in reversed(lines[:index]) if l.text.strip()), None)
            drafts.append(Draft("table", lines[index:end], state.current, heading=state.heading_text, above=above))
            current = None
            index = end
            continue
        index += 1
        text = line.text.strip()
        mark = table_mark_index(text)
        if mark is not None:
            heading = state.heading_text
            if drafts and drafts[-1].kind == "heading" and UNITS_NOTE.search(drafts[-1].lines[0].text):
                drafts.pop()  # "All figures in £m" above the table: its caption says so
                heading = state.previous_heading_text
            if mark < len(pdf_tables) and drafts and is_caption_text(draft_text(drafts[-1]), pdf_tables[mark].caption):
                title = draft_text(drafts.pop())  # the line the caption quotes, kept once
                if NUMBERED_TITLE.match(title):  # "Table 5: …" heads what follows, as a title set as a heading does
                    state.heading(title, None)
                    heading = state.heading_text
            if mark < len(pdf_tables) and is_form(pdf_tables[mark]):
                drafts.extend(Draft("paragraph", [Line(text, page)], state.current, heading=state.heading_text)
                              for text, page in form_paragraphs(pdf_tables[mark]))
            elif mark < len(pdf_tables):
                drafts.append(Draft("table", [line], state.current, heading=heading, table=pdf_tables[mark]))
            current = None
            continue
        if not text:
            current = None
            continue
        markdown = _MARKDOWN_HEADING.match(text)
        label = paragraph_label(text)
        if markdown:
            state.heading(markdown.group(2).strip(), None)
            current = Draft("heading", [Line(markdown.group(2).strip(), line.page)], state.current, heading=state.heading_text)
            drafts.append(current)
            current = None
            continue
        if label:
            kind, value = label
            rest = text[_label_length(text):]
            section = state.numbered(kind, value)
            next_text = _next_text(lines, index)
            heading = kind == "main" and is_heading_text(rest, MAX_NUMBERED_HEADING_WORDS) and not _continues(next_text, layout_wrapped)
            if heading:
                state.heading(rest, value)
            current = Draft("heading" if heading else "paragraph", [line], section, heading=state.heading_text)
            drafts.append(current)
            if heading:
                current = None
            continue
        item = next_item_heading(lines, index - 1, state.item)
        if item is not None:
            heading_lines, index = item
            state.heading(" ".join(l.text.strip() for l in heading_lines), None)
            drafts.append(Draft("heading", heading_lines, state.current, heading=state.heading_text))
            current = None
            continue
        if _starts_heading(text, current, lines, index, heading_width):
            joined_words = sum(len(l.text.split()) for l in drafts[-1].lines) + len(text.split()) if drafts else 0
            if (drafts and drafts[-1].kind == "heading" and current is None and _adjacent(lines, drafts[-1], index - 2)
                    and joined_words <= MAX_HEADING_WORDS):
                drafts[-1].lines.append(line)  # "Participation Team update" + "(Item 4)": one heading
                continue
            state.heading(text, None)
            drafts.append(Draft("heading", [line], state.current, heading=state.heading_text))
            current = None
            continue
        if current is None or not layout_wrapped or text.startswith(BULLETS):
            current = Draft("paragraph", [line], state.current, heading=state.heading_text)
            drafts.append(current)
        else:
            current.lines.append(line)
    return drafts


def next_item_heading(lines: list[Line], index: int, item: int | None) -> tuple[list[Line], int] | None:
    """The heading of the minute after item `item`, with the lines it wraps onto, and the index after them:
    "7 Opportunities to promote sustainable transport through a review of parking policies" + "and charges".
    Too long or too wrapped for a heading on its own, it is known by its number, the next in sequence."""
    match = _ITEM_HEADING.match(lines[index].text.strip())
    if item is None or not match or int(match.group(1)) != item + 1:
        return None
    end = index + 1
    while end < len(lines) and _continues(lines[end].text.strip(), True):
        end += 1
    heading = lines[index:end]
    words = " ".join(line.text.strip() for line in heading).split()
    if len(words) > MAX_ITEM_HEADING_WORDS or words[-1][-1] in ".,;:":
        return None
    return heading, end


def _label_length(text: str) -> int:
    match = _NUMBERED.match(text) or _ROMAN.match(text) or _SUB_ITEM.match(text)
    return match.end() if match else 0


def _next_text(lines: list[Line], index: int) -> str:
    for line in lines[index : index + 3]:
        if line.text.strip():
            return line.text.strip()
    return ""


SECTION_OPENING_WORDS = 8


def _opens_section(next_text: str) -> bool:
    """Whether what follows a titled label is a section's text: a numbered paragraph or a sentence."""
    return starts_numbered(next_text) or len(next_text.split()) >= SECTION_OPENING_WORDS


def _continues(next_text: str, wrapped: bool) -> bool:
    """In wrapped PDF text a line followed by a lower-case start is mid-sentence."""
    return wrapped and bool(next_text) and next_text[0].islower()


def _adjacent(lines: list[Line], draft: Draft, previous_index: int) -> bool:
    return previous_index >= 0 and lines[previous_index] is draft.lines[-1]


def heading_width_limit(lines: list[Line]) -> int:
    """Characters a PDF heading may span: clearly shorter than a full wrapped text line."""
    lengths = sorted(len(line.text.strip()) for line in lines if line.text.strip())
    typical = lengths[int(0.8 * (len(lengths) - 1))] if lengths else 80
    return int(0.75 * typical)


def _starts_heading(text: str, current: Draft | None, lines: list[Line], index: int, width: int | None) -> bool:
    if not is_heading_text(text):
        return False
    if text.rstrip().endswith(":") and not _opens_section(_next_text(lines, index)):
        return False  # "Apologies:" above "None": a form's field, not a title over paragraphs
    if width is None:
        return True
    if len(text) > width:
        return False
    if current is not None and current.lines[-1].text.strip()[-1:] not in ".:;!?)":
        return False
    return not _continues(_next_text(lines, index), True)


class SectionState:
    """The section label a block belongs to: last paragraph number, else last heading."""

    def __init__(self) -> None:
        self.current: str | None = None
        self.parent: str | None = None
        self.heading_text: str | None = None
        self.previous_heading_text: str | None = None
        self.item: int | None = None  # the number of the last minutes item headed "10 Workplace Parking Levy"

    def heading(self, text: str, number: str | None) -> None:
        text = text.strip().removesuffix(":")  # "Evidence Base:" heads its section as "Evidence Base"
        item = _ITEM_HEADING.match(text) if number is None else None
        if item and (self.item is None or int(item.group(1)) in (1, self.item + 1)):
            self.item = int(item.group(1))  # not a list's "40 Maita Robinson" read as a heading amid the public forum
        self.current = number or " ".join(text.split())
        self.parent = number
        self.previous_heading_text = self.heading_text
        self.heading_text = " ".join(f"{number + ' ' if number else ''}{text}".split())

    def numbered(self, kind: str, value: str) -> str:
        if kind == "main":
            self.parent = value
            self.current = value
            return value
        label = f"{self.parent}({value})" if self.parent else f"({value})"
        return label


def finish_block(draft: Draft, wrapped: bool) -> Block | None:
    if draft.kind == "table":
        return finish_table(draft, wrapped)
    text = " ".join(line.text.strip() for line in draft.lines if line.text.strip())
    if not text.strip():
        return None
    pages = [line.page for line in draft.lines if line.page is not None and line.text.strip()]
    return Block(
        kind=draft.kind,
        text=text,
        page=pages[0] if pages else None,
        page_end=pages[-1] if pages else None,
        section=draft.section,
        heading=draft.heading,
    )


def draft_text(draft: Draft) -> str:
    return " ".join(" ".join(line.text.split()) for line in draft.lines)


def is_caption_text(text: str, caption: str) -> bool:
    """A title line above a table that the table's caption already holds."""
    return len(text.split()) >= MIN_CAPTION_WORDS and text in " ".join(caption.split())


def is_units_note(text: str) -> bool:
    """A caption that only gives the units ("All figures in £m"), not a title with its units."""
    return bool(UNITS_NOTE.search(text)) and len(text.split()) <= MAX_UNITS_NOTE_WORDS


def table_caption(own: str | None, heading: str | None) -> str:
    """A table's own title; a bare units note ("All figures in £m") goes with the heading above."""
    own = " ".join((own or "").split())
    if own and not is_units_note(own):
        return own
    if heading and own:
        return f"{heading} ({own})"
    return heading or own or "Table"


def finish_table(draft: Draft, wrapped: bool) -> Block | None:
    """A table block: cells from the PDF, from tab-separated or pipe rows, or rows of PDF text lines."""
    if draft.table is not None:
        table = draft.table
        header, rows, row_pages = table.header, table.rows, table.row_pages
        caption = table_caption(table.caption, draft.heading)
    elif wrapped:
        # Rows the cell finder did not find, kept as the lines pypdf gives them.
        lines = drop_repeated_headers(table_rows(draft.lines, wrapped))
        header, rows, row_pages = [], [[l.text] for l in lines], [l.page for l in lines]
        caption = table_caption(None, draft.heading)
    else:
        lines = [l for l in draft.lines if l.text.strip() and not is_pipe_rule(l.text)]
        header, rows = text_table_cells([l.text for l in lines])
        row_pages = [l.page for l in lines[1:]]
        kept = [i for i, row in enumerate(rows) if row != header]  # a header printed again on the next page
        rows, row_pages = [rows[i] for i in kept], [row_pages[i] for i in kept]
        # A title line above the table, not a sentence of prose that happens to precede it.
        titled = draft.above and len(draft.above.split()) <= 20 and not draft.above.rstrip().endswith(".")
        above = draft.above if titled and not is_text_table_row(draft.above) else None
        caption = table_caption(_MARKDOWN_HEADING.sub(r"\2", above) if above else None, draft.heading)
    if not rows:
        return None
    pages = [p for p in row_pages if p is not None]
    first = draft.lines[0].page if draft.lines and draft.lines[0].page is not None else (pages[0] if pages else None)
    return Block(
        kind="table",
        text="\n".join(table_lines(caption, header, rows)),
        page=first,
        page_end=max(pages) if pages else first,
        section=draft.section,
        heading=draft.heading,
        caption=caption,
        header=list(header),
        rows=[list(r) for r in rows],
        row_pages=list(row_pages),
    )
