"""Tables as tables: cells from PDFs, Word, tab-separated and Markdown text.

Each body row becomes one line that reads on its own, the form the answer step quotes:

    <row label> | <column header>: <cell> | <column header>: <cell>

PDF tables come from two finders over a page's words and drawn rules, read with PDFium
(ingest.pdfpage): ruled tables (cell borders drawn on the page, ingest.ruled) and aligned
tables (figures standing in columns under a header, with at most horizontal rules). Only
pages that pypdf's text or drawing operators say may hold a table are read for them (see
`may_hold_table`).
"""
from __future__ import annotations

import re
import statistics
from dataclasses import dataclass, field
from pathlib import Path

from core.records import PdfTable
from ingest.pdfpage import PageContent, Word, open_document, page_content, words_of
from ingest.ruled import GridTable, grid_tables

TABLE_MARK = "\ue000table "  # a page line "<mark><index>" stands where ParsedDocument.tables[index] sits
MAX_HEADER_LINES = 6
MAX_HEADER_ROWS = 3  # rows of a drawn grid that may head its columns
MIN_PACKED_ROWS = 3  # cells of one drawn column holding two figures each before the grid is not the table's columns
STAGGERED = 0.9  # of the text height: side-by-side headings whose lines' tops are closer than this are set at staggered heights
MIN_RULES = 20  # drawn lines and rectangles from which a page may hold a ruled table (every table page of the 35 papers had 20 or more)
MIN_VALUE_LINES = 2  # pypdf lines ending in figures from which a page may hold an aligned table
PHRASE_GAP = 0.6  # of the text height: a wider gap between words separates cells
LINE_GAP = 2.6  # of the text height: a wider gap between lines ends an aligned table
CAPTION_REACH = 45.0  # points above a table within which its caption is looked for
MAX_CAPTION_LINES = 3  # lines a numbered table title may wrap over
MAX_CAPTION_WORDS = 45
CONTINUED_TOP = 0.3  # of the page height: a table starting above this may continue the last page's
SAME_EDGE = 4.0  # points within which two tables' column edges are the same
# A table drawn again on the next page may fit its columns anew: Kent's finance tables move a column edge by up to 11 points.
CONTINUED_EDGE = 12.0
MIN_FIGURE_SHARE = 0.4  # of an aligned table's value cells that must be figures
# Drawn columns beyond which a grid of mostly one-word cells is prose cut at its words' gaps: the papers' real
# tables have at most 14, the grids round justified paragraphs 17 to 55.
PROSE_COLUMNS = 15
WORD_GAP = 1.5  # points: a wider gap between two characters ends a word
WORD_LINE = 2.5  # points between characters' tops within which they are on one line

_FIGURE = re.compile(
    r"^(?:[-+−–(£$€]|\+\s)*\s*\d[\d,]*(?:\.\d+)?\s*(?:%|m|k|bn|FE)?\)?%?\*?[#*]?$|^[-–—]$|^n/?a$|^\(\d[\d,.]*%?\)$"
    r"|^\d{2}(?:\d{2})?[-/]\d{2}$",
    re.IGNORECASE,
)
_UNIT = re.compile(r"^\(?£?(?:000'?’?s|m|bn|k)\)?$|^%$", re.IGNORECASE)
_FIGURES_IN_WORDS = r"(?:all )?figures (?:are )?in\b"
UNITS_NOTE = re.compile(rf"\b{_FIGURES_IN_WORDS}|^\(?£(?:000'?’?s|m)\)?$", re.IGNORECASE)
_FIGURES_IN = re.compile(rf"^\(?{_FIGURES_IN_WORDS}", re.IGNORECASE)  # a line that is a units note from its start
NUMBERED_TITLE = re.compile(r"^(?:table|figure|chart|graph)\s+\d+[a-z]?\b", re.IGNORECASE)
_FOOTER = re.compile(r"^(?:page \d+(?: of \d+)?|-?\s*\d{1,3}\s*-?|\d+ of \d+)$", re.IGNORECASE)
_RAG = {"GREEN", "AMBER", "RED"}


# ---------------------------------------------------------------- row lines


def is_figure(cell: str) -> bool:
    """A number, amount, percentage or dash: a value rather than a label."""
    text = cell.strip()
    return bool(text) and (bool(_FIGURE.match(text)) or text.upper() in _RAG) and not _UNIT.match(text)


def row_label(cells: list[str], number: int) -> str:
    """The row's first non-empty cell that is not a figure, else "Row N"."""
    return next((c.strip() for c in cells if c.strip() and not is_figure(c)), f"Row {number}")


def row_line(header: list[str], cells: list[str], number: int) -> str:
    """`<row label> | <header>: <cell> | ...`; empty cells left out, a cell with no header alone."""
    label = row_label(cells, number)
    label_index = next((i for i, c in enumerate(cells) if c.strip() == label), None)
    label_header = header[label_index].strip() if label_index is not None and label_index < len(header) else ""
    parts = [label]
    for index, cell in enumerate(cells):
        text = " ".join(cell.split())
        if not text or index == label_index:
            continue
        name = " ".join(header[index].split()) if index < len(header) else ""
        if name and name == label_header:
            name = ""  # a column headed like the label column says nothing new
        parts.append(f"{name}: {text}" if name else text)
    return " | ".join(parts)


def table_lines(caption: str, header: list[str], rows: list[list[str]]) -> list[str]:
    """The caption line, then one line per body row."""
    return [caption or "Table"] + [row_line(header, cells, number) for number, cells in enumerate(rows, start=1)]


# ---------------------------------------------------------------- text tables (txt, md, docx)


_PIPE_RULE = re.compile(r"^\|?\s*:?-{3,}:?\s*(\|\s*:?-{3,}:?\s*)*\|?$")


def split_tab_row(line: str) -> list[str]:
    return [" ".join(cell.split()) for cell in line.strip("\n").split("\t")]


def is_pipe_row(line: str) -> bool:
    stripped = line.strip()
    return stripped.startswith("|") and stripped.endswith("|") and stripped.count("|") >= 3


def is_pipe_rule(line: str) -> bool:
    return bool(_PIPE_RULE.match(line.strip()))


def split_pipe_row(line: str) -> list[str]:
    return [" ".join(cell.split()) for cell in line.strip().strip("|").split("|")]


def text_table_cells(lines: list[str]) -> tuple[list[str], list[list[str]]]:
    """Header and body rows of a tab-separated or Markdown pipe table (its first row is the header)."""
    rows = []
    for line in lines:
        if not line.strip() or is_pipe_rule(line):
            continue
        rows.append(split_pipe_row(line) if is_pipe_row(line) else split_tab_row(line))
    if not rows:
        return [], []
    return rows[0], rows[1:]


# ---------------------------------------------------------------- which PDF pages to open


def may_hold_table(page_text: str, rule_count: int) -> bool:
    """The cheap pre-check: enough drawn rules, or enough lines ending in two or more figures."""
    from ingest.structure import is_value_row

    if rule_count >= MIN_RULES:
        return True
    return sum(1 for line in page_text.split("\n") if is_value_row(line)) >= MIN_VALUE_LINES


# ---------------------------------------------------------------- PDF words, lines and phrases


@dataclass
class Phrase:
    """Words of one line close enough to be one cell's text."""

    text: str
    x0: float
    x1: float
    top: float
    bottom: float

    @property
    def figure(self) -> bool:
        return is_figure(self.text)


@dataclass
class TextLine:
    top: float
    bottom: float
    phrases: list[Phrase]

    @property
    def x0(self) -> float:
        return min(p.x0 for p in self.phrases)

    @property
    def x1(self) -> float:
        return max(p.x1 for p in self.phrases)

    @property
    def text(self) -> str:
        return " ".join(p.text for p in self.phrases)


def page_lines(words: list[Word]) -> list[TextLine]:
    """Words grouped into lines (by their top) and each line into phrases (by the gaps between words)."""
    lines: list[list[Word]] = []
    for word in sorted(words, key=lambda w: (round(w.top), w.x0)):
        if lines and abs(lines[-1][0].top - word.top) <= 2.5:
            lines[-1].append(word)
        else:
            lines.append([word])
    out = []
    for group in lines:
        group.sort(key=lambda w: w.x0)
        height = statistics.median(w.bottom - w.top for w in group)
        phrases: list[list[Word]] = [[group[0]]]
        for word in group[1:]:
            if word.x0 - phrases[-1][-1].x1 > PHRASE_GAP * height:
                phrases.append([word])
            else:
                phrases[-1].append(word)
        out.append(TextLine(
            top=min(w.top for w in group), bottom=max(w.bottom for w in group),
            phrases=[Phrase(" ".join(w.text for w in p), p[0].x0, p[-1].x1, min(w.top for w in p), max(w.bottom for w in p)) for p in phrases],
        ))
    out.sort(key=lambda line: line.top)
    return out


def horizontal_rules(page: PageContent) -> list[tuple[float, float, float]]:
    """(x0, x1, y) of drawn horizontal lines and thin rectangles."""
    rules = [(x0, x1, (top + bottom) / 2) for x0, top, x1, bottom in page.lines if abs(top - bottom) < 1.0]
    rules += [(x0, x1, (top + bottom) / 2) for x0, top, x1, bottom in page.rects if bottom - top < 2.0 and x1 - x0 > 20]
    return rules


# ---------------------------------------------------------------- found tables, before cleaning and joining


@dataclass
class Found:
    page: int
    bbox: tuple[float, float, float, float]
    header: list[str]
    rows: list[list[str]]
    edges: list[float]  # left edge of each column, for matching a continuation
    caption: str = ""
    regions: list[tuple[int, tuple[float, float, float, float]]] = field(default_factory=list)
    row_pages: list[int] = field(default_factory=list)
    page_height: float = 842.0
    spans: list[tuple[float, float]] = field(default_factory=list)  # value columns of an aligned table
    label_column: bool = True
    bold_header: bool = False  # a ruled table's first row is bold: its header even when it holds figures
    header_guessed: bool = False  # no header was printed: the first row stands in for it (or there is none)
    run_over: list[TextLine] = field(default_factory=list)  # the lines above it that may end the last page's row (run_over_above)
    run_under: list[TextLine] = field(default_factory=list)  # the lines below it that may end its last row (run_under_below)
    header_lines: list[TextLine] = field(default_factory=list)  # an aligned table's header as printed


def clean_rows(rows: list[list[str | None]]) -> list[list[str]]:
    return [[(cell or "").strip() for cell in row] for row in rows]


# A cell naming a period: a year ("2025"), a financial year ("2026/27", "24-25") or a month ("Mar-24").
_PERIOD = re.compile(r"^(?:(?:19|20)\d\d(?:[-/]\d{2})?|\d{2}[-/]\d{2}|[A-Z][a-z]{2}[- ]\d{2})$")


def with_group_headings(rows: list[list[str | None]]) -> list[list[str | None]]:
    """The grid's leading rows with each heading drawn across several columns ("2024/25" over "Fatal | Serious |
    Slight | Total") given to every column under it that a row below names: a grid has no cell (None) where a
    drawn cell spans over. Only rows of several headings: a single one across the table is its title or units note."""
    first_values = next((i for i, row in enumerate(rows) if has_values(clean_rows([row])[0])), None)
    out = [list(row) for row in rows]
    if first_values is None or first_values > MAX_HEADER_ROWS:
        return out  # no figures under a header: a form or a grid of text
    for depth, row in enumerate(out[:first_values]):
        if sum(1 for cell in row if cell and cell.strip()) < 2:
            continue
        named_below = {i for lower in rows[depth + 1 : first_values] for i, cell in enumerate(lower) if cell and cell.strip()}
        for i in range(1, len(row)):
            if row[i] is None and row[i - 1] and i in named_below:
                row[i] = row[i - 1]
    return out


def has_figures(row: list[str]) -> bool:
    return any(is_figure(cell) for cell in row[1:])


def has_values(row: list[str]) -> bool:
    """Figures other than periods: "Development projects | 2026/27 | 2027/28" heads its columns."""
    return any(is_figure(cell) and not _PERIOD.match(cell.strip()) for cell in row[1:])


def is_title_row(row: list[str]) -> bool:
    """A row across the table holding only its numbered title: "Table 16 - BCC allocations"."""
    return len(row) >= 3 and bool(row[0]) and not any(row[1:]) and bool(NUMBERED_TITLE.match(row[0]))


def header_and_body(rows: list[list[str]], bold_header: bool = False) -> tuple[list[str], list[list[str]], str]:
    """Split a ruled table's rows into header (leading rows before the first row of figures), body and its caption
    as printed inside the table: a numbered title and a units note, either of which may be missing."""
    title = note = ""
    while rows and sum(1 for c in rows[0] if c) == 1 and len(rows[0]) >= 3:
        if UNITS_NOTE.search(" ".join(rows[0])):
            note = " ".join(c for c in rows[0] if c)
        elif is_title_row(rows[0]) and not title:
            title = " ".join(rows[0][0].split())
        else:
            break
        rows = rows[1:]
    caption = f"{title} ({note})" if title and note else title or note
    if not rows:
        return [], [], caption
    first_values = next((i for i, row in enumerate(rows) if has_values(row)), None)
    count = 1 if first_values is None or first_values == 0 else min(first_values, MAX_HEADER_ROWS)
    if first_values == 0 and not bold_header:
        count = 0
    header = [" ".join(" ".join(row[i] for row in rows[:count] if i < len(row) and row[i]).split()) for i in range(max(len(r) for r in rows))]
    return header, rows[count:], caption


def is_packed(cell: str) -> bool:
    return len(cell.split()) >= 2 and all(is_figure(t) for t in cell.split())


def packed_cells(rows: list[list[str]]) -> float:
    """Share of filled cells holding several figures: drawn boxes that are not the table's real columns."""
    filled = [c for row in rows for c in row if c]
    return sum(map(is_packed, filled)) / len(filled) if filled else 0.0


def has_packed_column(rows: list[list[str]]) -> bool:
    """Whether one drawn column holds two figures in most of its cells ("200 100%" under "Outturn" and "%"): the
    grid is drawn round pairs of the printed columns, which the words' positions tell apart."""
    width = max((len(r) for r in rows), default=0)
    for i in range(width):
        filled = [row[i] for row in rows if i < len(row) and row[i]]
        if len(filled) >= MIN_PACKED_ROWS and sum(map(is_packed, filled)) * 2 > len(filled):
            return True
    return False


def reads_as_prose(rows: list[list[str]]) -> bool:
    """Whether a drawn grid holds justified prose cut at the gaps between its words (West of England's and Kent's
    paragraphs in boxes: "As | r | eported t | o the | Octobe"): many columns, and most filled cells one word that is
    not a figure. The page's text reads such a paragraph whole."""
    filled = [cell for row in rows for cell in row if cell]
    single_words = sum(1 for cell in filled if len(cell.split()) == 1 and not is_figure(cell))
    return max((len(row) for row in rows), default=0) >= PROSE_COLUMNS and single_words * 2 > len(filled)


def bold_first_row(page: PageContent, table: GridTable) -> bool:
    """Whether the table's first row is set in bold and its second is not: a header row of figures."""
    if len(table.rows) < 2:
        return False

    def bold_share(box) -> float:
        x0, top, x1, bottom = box
        chars = [c for c in page.chars if x0 <= c.x0 <= x1 and top <= c.top <= bottom]
        return sum(c.bold for c in chars) / len(chars) if chars else 0.0

    return bold_share(table.row_boxes[0]) > 0.8 and bold_share(table.row_boxes[1]) < 0.5


def ruled_tables(page: PageContent, number: int, lines: list[TextLine]) -> list[Found]:
    """Tables whose cells are drawn (ingest.ruled), boxes stacked with the same columns joined."""
    found: list[Found] = []
    for table in grid_tables(page.edges, page.chars):
        rows = [row for row in clean_rows(with_group_headings(table.rows)) if any(row)]
        if packed_cells(rows) > 0.2 or has_packed_column(rows) or reads_as_prose(rows):
            continue
        columns = sum(1 for i in range(max((len(r) for r in rows), default=0)) if any(i < len(r) and r[i] for r in rows))
        if columns < 2 or len(rows) < 2 and not (found and len(rows) == 1):
            if not (len(rows) == 1 and columns >= 2):
                continue
        edges = sorted({round(cell[0], 1) for cell in table.cells})
        found.append(Found(number, tuple(table.bbox), [], rows, edges, page_height=page.height))
        found[-1].bold_header = bold_first_row(page, table)
    return [finish_ruled(f) for f in stack_boxes(found, lines) if len(f.rows) >= 2]


def stack_boxes(found: list[Found], lines: list[TextLine]) -> list[Found]:
    """Boxes drawn one under another with the same column edges are one table (a heading box, then groups),
    unless a line is printed between them: the next table's caption ("Table 18 - Milestones revised")."""
    found.sort(key=lambda f: f.bbox[1])
    out: list[Found] = []
    for table in found:
        last = out[-1] if out else None
        if (last and table.bbox[1] - last.bbox[3] < 30 and same_edges(last.edges[1:], table.edges[1:])
                and not any(last.bbox[3] < (l.top + l.bottom) / 2 < table.bbox[1] for l in lines)):
            last.rows.extend(table.rows)
            last.bbox = (min(last.bbox[0], table.bbox[0]), last.bbox[1], max(last.bbox[2], table.bbox[2]), table.bbox[3])
        else:
            out.append(table)
    return out


def same_edges(a: list[float], b: list[float], tolerance: float = SAME_EDGE) -> bool:
    return len(a) == len(b) and all(abs(x - y) <= tolerance for x, y in zip(a, b))


def finish_ruled(found: Found) -> Found:
    width = max(len(r) for r in found.rows)
    rows = [r + [""] * (width - len(r)) for r in found.rows]
    found.header, found.rows, caption = header_and_body(rows, bold_header=found.bold_header)
    found.header_guessed = not found.bold_header and not any(has_figures(r) for r in rows)
    found.caption = caption
    found.row_pages = [found.page] * len(found.rows)
    found.regions = [(found.page, found.bbox)]
    return found


# ---------------------------------------------------------------- aligned tables


def is_value_line(line: TextLine) -> bool:
    if all(_PERIOD.match(p.text.strip()) for p in line.phrases):
        return False  # "2022/23 2023/24 2024/25": the periods a header's columns stand for, not a row
    figures = sum(1 for p in line.phrases[1:] if p.figure) + (line.phrases[0].figure and len(line.phrases) > 2)
    return figures >= 2 or (len(line.phrases) >= 2 and line.phrases[-1].text.upper() in _RAG)


def line_height(lines: list[TextLine]) -> float:
    return statistics.median(l.bottom - l.top for l in lines) if lines else 10.0


def value_runs(lines: list[TextLine]) -> list[tuple[int, int]]:
    """(first, last) indexes of runs of value lines joined by at most three label lines."""
    height = line_height(lines)
    runs: list[tuple[int, int]] = []
    index = 0
    while index < len(lines):
        if not is_value_line(lines[index]):
            index += 1
            continue
        first = last = index
        probe = index + 1
        while probe < len(lines) and lines[probe].top - lines[probe - 1].bottom <= LINE_GAP * height:
            if is_value_line(lines[probe]):
                last = probe
            probe += 1
        if sum(is_value_line(l) for l in lines[first : last + 1]) >= MIN_VALUE_LINES:
            runs.append((first, last))
        index = last + 1
    return runs


def column_spans(body: list[TextLine]) -> list[tuple[float, float]]:
    """Spans of the value columns: the x-ranges of the non-label phrases of value lines, merged where they overlap."""
    value_lines = [l for l in body if is_value_line(l)]
    first_figure = min(next(p.x0 for p in l.phrases if p.figure) for l in value_lines)
    spans = sorted((p.x0, p.x1) for l in body for p in l.phrases if p.x0 >= first_figure - 1)
    merged: list[list[float]] = []
    for x0, x1 in spans:
        if merged and x0 <= merged[-1][1] + 1.5:
            merged[-1][1] = max(merged[-1][1], x1)
        else:
            merged.append([x0, x1])
    return [(a, b) for a, b in merged]


def column_of(phrase: Phrase, spans: list[tuple[float, float]], label_column: bool) -> int:
    """Index of the column a phrase belongs to: the label column (0) left of the value columns, else best overlap."""
    offset = 1 if label_column else 0
    if label_column and phrase.x1 < spans[0][0] - 1:
        return 0
    overlaps = [min(phrase.x1, b) - max(phrase.x0, a) for a, b in spans]
    best = max(range(len(spans)), key=lambda i: overlaps[i])
    if overlaps[best] <= 0:
        centre = (phrase.x0 + phrase.x1) / 2
        best = min(range(len(spans)), key=lambda i: abs((spans[i][0] + spans[i][1]) / 2 - centre))
    return best + offset


def is_header_line(line: TextLine, spans: list[tuple[float, float]], height: float = 0.0) -> bool:
    """Words over the value columns in the table's own size of type, none of them a sentence."""
    if height and line.bottom - line.top > 1.35 * height:
        return False  # a heading above the table
    if any(p.text.rstrip().endswith(".") and len(p.text.split()) > 6 for p in line.phrases):
        return False
    over = [p for p in line.phrases if p.x1 > spans[0][0] - 2]
    if not over:
        return False
    if len(line.phrases) == 1 and _FIGURES_IN.match(line.text.strip()):
        return False  # "All figures in £m" over one column: the table's units, read with its caption
    if len(line.phrases) == 1 and len(spans) >= 3 and sum(1 for a, b in spans if min(b, line.x1) - max(a, line.x0) > 0) >= 2:
        return False  # one phrase across several columns: a title or a units note
    return True


def lines_into_rows(body: list[TextLine], rules: list[tuple[float, float, float]], x0: float, x1: float) -> list[list[TextLine]]:
    """Body lines grouped into rows: between drawn rules when there are any, else around each value line."""
    width = x1 - x0
    ys = sorted({round(y, 1) for a, b, y in rules if min(b, x1) - max(a, x0) >= 0.6 * width and body[0].top - 4 <= y <= body[-1].bottom + 4})
    if len(ys) >= 2:
        groups: dict[int, list[TextLine]] = {}
        for line in body:
            middle = (line.top + line.bottom) / 2
            groups.setdefault(sum(1 for y in ys if y < middle), []).append(line)
        return [groups[k] for k in sorted(groups)]
    anchors = [i for i, line in enumerate(body) if is_value_line(line)]
    rows: dict[int, list[TextLine]] = {a: [] for a in anchors}
    for index, line in enumerate(body):
        middle = (line.top + line.bottom) / 2
        nearest = min(anchors, key=lambda a: (abs((body[a].top + body[a].bottom) / 2 - middle), -a))
        rows[nearest].append(line)
    return [rows[a] for a in anchors]


def cells_of(lines: list[TextLine], spans: list[tuple[float, float]], label_column: bool) -> list[str]:
    cells = [[] for _ in range(len(spans) + label_column)]
    for line in lines:
        for phrase in line.phrases:
            cells[column_of(phrase, spans, label_column)].append(phrase.text)
    return ["\n".join(parts) for parts in cells]


def first_row_start(lines: list[TextLine], first: int, rules: list[tuple[float, float, float]], x0: float, x1: float, height: float) -> int:
    """Where the first row begins: at the rule drawn above the first line of figures, when one is near."""
    width = x1 - x0
    above = [y for a, b, y in rules if min(b, x1) - max(a, x0) >= 0.6 * width and y <= lines[first].top + 1]
    if not above:
        return first
    rule = max(above)
    start = first
    while start > 0 and lines[start - 1].top > rule and lines[first].top - lines[start - 1].top < 12 * height:
        start -= 1
    return start


def header_lines_above(lines: list[TextLine], first: int, spans: list[tuple[float, float]], height: float) -> int:
    """Index of the first header line above lines[first]."""
    start = first
    while start > 0 and first - start < MAX_HEADER_LINES:
        above = lines[start - 1]
        if lines[start].top - above.bottom > LINE_GAP * height or not is_header_line(above, spans, height):
            break
        start -= 1
    # Headings set at staggered heights give many short lines; the header never ends between two of them.
    while 0 < start < first and staggered(lines[start - 1], lines[start], height) and is_header_line(lines[start - 1], spans, height):
        start -= 1
    if start == first:
        # Group headings ("Adult Social Care & Health") may stand between the header and the first row.
        probe = first
        while probe > 0 and first - probe < 3 and lines[probe - 1].x1 < spans[0][0] - 1 and lines[probe].top - lines[probe - 1].bottom <= LINE_GAP * height:
            probe -= 1
        if probe < first and probe > 0 and lines[probe].top - lines[probe - 1].bottom <= LINE_GAP * height and is_header_line(lines[probe - 1], spans, height):
            return header_lines_above(lines, probe, spans, height) if probe < first else start
    return start


def staggered(upper: TextLine, lower: TextLine, height: float) -> bool:
    """Two lines less than a text height apart whose words stand in different columns: "Revenu" over one
    column beside "Revenu" / "e" over the next, each column's heading wrapped at its own height."""
    apart = not any(min(a.x1, b.x1) > max(a.x0, b.x0) for a in upper.phrases for b in lower.phrases)
    return apart and lower.top - upper.top < STAGGERED * height


def header_cells(header: list[TextLine], spans: list[tuple[float, float]], label_column: bool) -> list[str]:
    return [" ".join(cell.split("\n")) for cell in cells_of(header, spans, label_column)]


def aligned_tables(page: PageContent, number: int, lines: list[TextLine], taken: list[tuple[float, float, float, float]]) -> list[Found]:
    """Tables of figures set in columns, found from the words' positions."""
    lines = [l for l in lines if not any(inside(l, box) for box in taken)]
    rules = horizontal_rules(page)
    height = line_height(lines)
    found = []
    for first, last in value_runs(lines):
        body = lines[first : last + 1]
        spans = column_spans(body)
        if len(spans) < 1:
            continue
        x0 = min(l.x0 for l in body)
        x1 = max(l.x1 for l in body)
        first = first_row_start(lines, first, rules, x0, x1, height)
        body = lines[first : last + 1]
        start = header_lines_above(lines, first, spans, height)
        # A wrapped label or group heading just above the first row belongs to the body, not to the header.
        while start < first and lines[first - 1].x1 < spans[0][0] - 1 and not lines[first - 1].phrases[0].figure:
            first -= 1
            body = lines[first : last + 1]
        table_header_found = start < first
        header = lines[start:first]
        label_column = any(p.x1 < spans[0][0] - 1 for l in body + header for p in l.phrases)
        x0 = min(l.x0 for l in lines[start : last + 1])
        x1 = max(l.x1 for l in lines[start : last + 1])
        grouped = lines_into_rows(body, rules, x0, x1)
        rows = [cells_of(group, spans, label_column) for group in grouped]
        if figure_share(rows, label_column) < MIN_FIGURE_SHARE:
            continue  # justified prose in boxes, not columns of figures
        head = header_cells(header, spans, label_column)
        rows = [row for row in rows if not repeats_header(row, head)]
        bbox = (x0, lines[start].top, x1, body[-1].bottom)
        edges = [spans[0][0] if not label_column else x0] + [a for a, _ in spans]
        table = Found(number, bbox, head, rows, edges, page_height=page.height)
        table.row_pages = [number] * len(rows)
        table.regions = [(number, bbox)]
        table.caption = caption_above(lines, start, height)
        table.spans, table.label_column = spans, label_column
        table.header_guessed = not table_header_found
        table.header_lines = header
        found.append(table)
    return found


def repeats_header(row: list[str], header: list[str]) -> bool:
    """A row whose value cells are the header's again ("Income Category | Approved budget £000s | ..."): the
    header printed over a second part of the table, not a row of it."""
    values = [loose(cell) for cell in row[1:]]
    return any(values) and values == [loose(cell) for cell in header[1:]]


def figure_share(rows: list[list[str]], label_column: bool) -> float:
    cells = [c for row in rows for c in row[1 if label_column else 0 :] if c.strip()]
    return sum(is_figure(c) for c in cells) / len(cells) if cells else 0.0


def inside(line: TextLine, box: tuple[float, float, float, float]) -> bool:
    middle = (line.top + line.bottom) / 2
    return box[1] - 1 <= middle <= box[3] + 1 and line.x0 >= box[0] - 2 and line.x1 <= box[2] + 2


def caption_above(lines: list[TextLine], start: int, height: float) -> str:
    """The nearest short line above the table; a units note goes with the title above it,
    and a numbered title ("Table 5: Average cost of …") wrapped over lines is read whole."""
    nearby = lines_above(lines, start)
    titled = next((k for k, text in enumerate(nearby[:MAX_CAPTION_LINES]) if NUMBERED_TITLE.match(text)), None)
    if titled is not None:
        title = [t for t in reversed(nearby[: titled + 1]) if not UNITS_NOTE.search(t)]
        notes = [t for t in reversed(nearby[:titled]) if UNITS_NOTE.search(t)]
        caption = " ".join(title)
        wrapped = all(not is_figure(t.split()[-1]) for t in title[1:])  # not a chart's labels under its title
        if wrapped and len(caption.split()) <= MAX_CAPTION_WORDS:
            return f"{caption} ({notes[0]})" if notes else caption
    parts: list[str] = []
    for text in nearby:
        if len(text.split()) > 20 or text.endswith(".") and not parts:
            break
        parts.insert(0, text)
        if not UNITS_NOTE.search(text):
            break
    if len(parts) == 2:
        return f"{parts[0]} ({parts[1]})"
    if parts and parts[0].endswith(":") and (parts[0][0].islower() or parts[0][0].isdigit()):
        return wrapped_lead_in(nearby)
    return parts[0] if parts else ""


_SENTENCE_START = re.compile(r"(?<=[.!?:])\s+(?=[A-Z])")
MIN_WRAPPED_WORDS = 6  # a shorter line above is a heading or a page number, not the start of the sentence


def wrapped_lead_in(nearby: list[str]) -> str:
    """The whole sentence introducing a table whose last line, nearby[0], starts mid-sentence ("period 1 June 2024
    to 31 January 2025 we note:"): the lines above it back to the last sentence's end, within MAX_CAPTION_WORDS."""
    lines = [nearby[0]]
    for text in nearby[1:]:
        if text.endswith((".", ":")) or len(text.split()) < MIN_WRAPPED_WORDS:
            break
        lines.insert(0, text)
    sentence = _SENTENCE_START.split(" ".join(lines))[-1]
    return " ".join(sentence.split()[-MAX_CAPTION_WORDS:])


def lines_above(lines: list[TextLine], start: int) -> list[str]:
    """The lines above the table, nearest first, while each is within reach of the one below it."""
    above: list[str] = []
    bottom = lines[start].top if start < len(lines) else 0.0
    for line in reversed(lines[:start]):
        if bottom - line.bottom > CAPTION_REACH or _FOOTER.match(line.text.strip()):
            break
        above.append(" ".join(line.text.split()))
        bottom = line.top
    return above


def ruled_caption(lines: list[TextLine], table: Found, height: float) -> str:
    if NUMBERED_TITLE.match(table.caption):
        return table.caption  # its own title, printed in its first row
    start = next((i for i, l in enumerate(lines) if l.top >= table.bbox[1] - 1), len(lines))
    above = caption_above(lines, start, height)
    if table.caption and above and not UNITS_NOTE.search(above):
        return f"{above} ({table.caption})"
    return above or table.caption


# ---------------------------------------------------------------- one page, and tables over pages


def open_top_row(table: Found, lines: list[TextLine], height: float) -> None:
    """A ruled table continued from the page before may lose its first row's top rule: take that row back."""
    x0, top, x1, _ = table.bbox
    row = [l for l in lines if l.bottom <= top + 1 and top - l.bottom < 2 * height and l.x0 >= x0 - 2 and l.x1 <= x1 + 2]
    if not row or len(table.edges) < 2:
        return
    cells = cells_of_lines(row, table.edges)
    if sum(1 for c in cells if c) < 2:
        return
    table.rows.insert(0, cells)
    table.row_pages.insert(0, table.page)
    table.bbox = (x0, min(l.top for l in row), x1, table.bbox[3])
    table.regions = [(table.page, table.bbox)]
    table.header_guessed = True


def run_under_below(table: Found, lines: list[TextLine], height: float) -> list[TextLine]:
    """The lines below a table ending its page, set out under its columns down to the page's foot, when the table's
    last row may run over to the next page (Kent's finance monitoring, page 16: "Management" under "Highway
    Assets", and the next line of its Detail). They end that row if the next page continues the table (join_continued)."""
    x0, _, x1, bottom = table.bbox
    below = [l for l in lines if (l.top + l.bottom) / 2 > bottom and not _FOOTER.match(l.text.strip())]
    run: list[TextLine] = []
    for line in below:
        if line.top - (run[-1].bottom if run else bottom) > 2 * height or line.x0 < x0 - 2 or line.x1 > x1 + 2:
            return []  # a gap, or text wider than the table: not a row's end
        run.append(line)
    return run if len(table.edges) > 1 else []


def page_tables(page: PageContent, number: int) -> tuple[list[Found], list[TextLine]]:
    lines = words_lines(page)
    height = line_height(lines)
    ruled = ruled_tables(page, number, lines)
    for table in ruled:
        table.caption = ruled_caption(lines, table, height)
        if table.header_guessed and table.bbox[1] < CONTINUED_TOP * page.height:
            open_top_row(table, lines, height)
    aligned = aligned_tables(page, number, lines, [t.bbox for t in ruled])
    tables = sorted(ruled + aligned, key=lambda t: t.bbox[1])
    if tables and tables[-1].bbox[3] > 0.5 * page.height:
        tables[-1].run_under = run_under_below(tables[-1], lines, height)
    return tables, lines


def header_from_previous_page(table: Found, previous_lines: list[TextLine], spans: list[tuple[float, float]]) -> tuple[list[TextLine], str]:
    """Header lines printed at the foot of the previous page, above a table that starts a page."""
    lines = [l for l in previous_lines if not _FOOTER.match(l.text.strip())]
    if not lines:
        return [], ""
    height = line_height(lines)
    start = header_lines_above(lines + [TextLine(lines[-1].bottom + height, lines[-1].bottom + 2 * height, [])], len(lines), spans, height)
    header = lines[start:]
    if not header or not all(len(l.phrases) >= 2 for l in header) or any(is_value_line(l) for l in header):
        return [], ""  # a page ending in rows of figures ends a table; it does not head the next page's
    return header, caption_above(lines, start, height)


def join_continued(tables: list[Found]) -> list[Found]:
    """A table at the top of a page with the same columns as the table ending the page before is its continuation."""
    out: list[Found] = []
    for table in tables:
        last = out[-1] if out else None
        if last and continues(last, table):
            repeated = [loose(h) for h in table.header] == [loose(h) for h in last.header]
            rows = table.rows if repeated or not any(table.header) else [table.header] + table.rows
            end_last_row(last, table)
            if rows and rows[0] and not rows[0][0].strip() and last.rows:
                # The row ran over the page break: its first cell stays on the page before.
                last.rows[-1] = [join_cell(a, b) for a, b in zip(last.rows[-1], rows[0])]
                rows = rows[1:]
            last.rows.extend(rows)
            last.row_pages.extend([table.page] * len(rows))
            last.regions.extend(table.regions)
            last.run_under = table.run_under  # what ends the row now last is below the continuation
        else:
            out.append(table)
    return out


def end_last_row(last: Found, table: Found) -> None:
    """Lines printed below `last` and above its continuation `table`, outside both, end `last`'s last row, and the
    table's area takes them in. One column of text below a table is a note or a paragraph, not a row's end."""
    under = cells_of_lines(last.run_under, last.edges)
    if sum(1 for cell in under if cell) < 2:
        last.run_under, under = [], [""] * len(under)
    if not last.rows or not (last.run_under or table.run_over):
        return
    over = cells_of_lines(table.run_over, table.edges)
    last.rows[-1] = [join_cell(join_cell(a, b), c) for a, b, c in zip(last.rows[-1], under, over)]
    page, (x0, top, x1, bottom) = last.regions[-1]
    last.regions[-1] = (page, (x0, top, x1, max([bottom] + [l.bottom for l in last.run_under])))
    page, (x0, top, x1, bottom) = table.regions[0]
    table.regions[0] = (page, (x0, min([top] + [l.top for l in table.run_over]), x1, bottom))


def continues(last: Found, table: Found) -> bool:
    starts_low = table.bbox[1] > CONTINUED_TOP * table.page_height and not table.run_over
    if table.page != last.regions[-1][0] + 1 or starts_low:
        return False
    if last.bbox[3] < 0.5 * last.page_height and last.regions[-1][0] == last.page:
        return False  # the table before ends mid-page
    width = max(len(last.header), max((len(r) for r in last.rows), default=0))
    other = max(len(table.header), max((len(r) for r in table.rows), default=0))
    repeated = any(table.header) and [loose(h) for h in table.header] == [loose(h) for h in last.header]
    headless = not any(table.header) or table.header_guessed or dated_row_as_header(table, last) or overflow_as_header(table)
    return width == other and (repeated or (headless and same_edges(last.edges, table.edges, CONTINUED_EDGE)))


def printed_above(table: Found, lines: list[TextLine]) -> list[TextLine]:
    """All of a page's lines printed above a table, its page footer left out (lines_above gives a caption's reach)."""
    return [l for l in lines if l.bottom <= table.bbox[1] and not _FOOTER.match(l.text.strip())]


def run_over_above(table: Found, lines: list[TextLine]) -> list[TextLine]:
    """The lines printed above a page's first table when all are right of its label column: the last row of the
    page before, its long cells run over the page break outside any drawn box (Kent's finance monitoring, page 17:
    eleven lines of its Detail, then the table). The table may then start well down the page and still continue."""
    above = printed_above(table, lines)
    return above if len(table.edges) > 1 and all(l.x0 >= table.edges[1] - SAME_EDGE for l in above) else []


def split_repeated_header(table: Found, lines: list[TextLine], last: Found) -> None:
    """The Kent layout of page 9 of its finance monitoring: a page prints the header of the table continued from
    the page before, then the end of that table's last row (its label's last lines, its Summary and Detail), then
    its own rows. The header is known by its cells, the same as the last table's; the lines between it and the rows
    are the run-over, read with the row they end (join_continued), not as prose or as part of the header."""
    wanted = [loose(h) for h in last.header]
    if not table.spans or not any(wanted) or last.bold_header or [loose(h) for h in table.header] == wanted:
        return
    above = printed_above(table, lines) + table.header_lines
    for start in range(min(len(above), MAX_CAPTION_LINES)):
        if above[start].top > CONTINUED_TOP * table.page_height:
            return
        for end in range(start + 1, min(len(above), start + MAX_HEADER_LINES + 2) + 1):
            head = header_cells(above[start:end], table.spans, table.label_column)
            if [loose(h) for h in head] == wanted and not any(is_value_line(l) for l in above[end:]):
                table.header, table.header_guessed = head, False
                table.run_over = above[end:]
                # The caption or units note printed again above the header ("All figures in £m") is the table's too.
                repeated = [l for l in above[:start] if UNITS_NOTE.search(l.text) or loose(l.text) in loose(last.caption)]
                page, (x0, _, x1, bottom) = table.regions[0]
                table.regions[0] = (page, (x0, min(l.top for l in repeated + [above[start]]), x1, bottom))
                return


def cells_of_lines(lines: list[TextLine], edges: list[float]) -> list[str]:
    """Lines of text set out under a table's columns, each phrase in the column whose left edge it starts at."""
    cells: list[list[str]] = [[] for _ in edges]
    for line in lines:
        for phrase in line.phrases:
            cells[max((i for i, edge in enumerate(edges) if edge <= phrase.x0 + 2), default=0)].append(phrase.text)
    return ["\n".join(cell) for cell in cells]


def overflow_as_header(table: Found) -> bool:
    """A continuation whose first row is the end of the row before, run over the page break ("| | | | 2 special
    schools). A contingency ..."), was taken for a header: it has no label, and the columns of figures below it are
    blank where a header would name them."""
    if not table.rows or not table.header or table.header[0].strip():
        return False
    figure_columns = [i for i in range(1, len(table.header))
                      if sum(is_figure(row[i]) for row in table.rows if i < len(row)) * 2 > len(table.rows)]
    return bool(figure_columns) and not any(table.header[i].strip() for i in figure_columns)


def dated_row_as_header(table: Found, last: Found) -> bool:
    """A continuation whose first row holds only dates ("WP2 | Jan-25 | Aug-25 | Nov-25") was taken for a header of
    periods; under a table headed in words alone ("FBC Date | Construction Complete"), it is a row of that table."""
    values = [c for c in table.header[1:] if c]
    return (bool(values) and not table.bold_header and all(_PERIOD.match(c) for c in values)
            and not any(re.search(r"\d", c) for c in last.header[1:]))


def join_cell(a: str, b: str) -> str:
    return f"{a}\n{b}" if a and b else a or b


def loose(text: str) -> str:
    return re.sub(r"[^0-9a-z]", "", text.lower())


def find_pdf_tables(path: Path, pages: list[int]) -> list[PdfTable]:
    """Tables on the given 1-based pages of a PDF, continued tables joined, cells not yet cleaned."""
    found: list[Found] = []
    lines_of: dict[int, list[TextLine]] = {}
    document = open_document(path)
    try:
        for number in pages:
            page = page_content(document, number)
            if page is None:
                continue
            tables, lines_of[number] = page_tables(page, number)
            if tables and number > 1 and tables[0].bbox[1] < CONTINUED_TOP * page.height:
                lift_header_from_previous(tables[0], lambda: lines_of.get(number - 1) or previous_lines(document, number - 1),
                                          number - 1, lines_of[number])
            if tables:
                tables[0].run_over = run_over_above(tables[0], lines_of[number])
                if found and found[-1].page == number - 1:
                    split_repeated_header(tables[0], lines_of[number], found[-1])
            found.extend(tables)
    finally:
        document.close()
    printed = printed_heights(lines_of)
    for table in found:
        table.run_over = [l for l in table.run_over if not is_running(l, printed)]
        table.run_under = [l for l in table.run_under if not is_running(l, printed)]
    return [as_record(t) for t in join_continued(found)]


RUNNING_SLACK = 4.0  # points a running header or footer may move between pages


def printed_heights(lines_of: dict[int, list[TextLine]]) -> dict[str, list[tuple[float, int]]]:
    """Where each line's text (compared loosely) is printed: its height on the page, and the page."""
    heights: dict[str, list[tuple[float, int]]] = {}
    for number, lines in lines_of.items():
        for line in lines:
            heights.setdefault(loose(line.text), []).append((line.top, number))
    return heights


def is_running(line: TextLine, printed: dict[str, list[tuple[float, int]]]) -> bool:
    """Whether the line is printed within RUNNING_SLACK points of the same height on more than one page, a
    running header or footer ("policycommittees@bristol.gov.uk", "Appendix 1"): never the end of a table's row.
    Compared by distance, not by rounding the height: a footer at 797.9 pt on one page and 798.1 on the next
    (199 and 200 rounded to 4 points) runs."""
    text = loose(line.text)
    pages = {number for top, number in printed.get(text, ()) if abs(top - line.top) <= RUNNING_SLACK}
    return bool(text) and len(pages) > 1


def words_lines(page: PageContent) -> list[TextLine]:
    return page_lines(words_of(page.chars, WORD_GAP, WORD_LINE))


def previous_lines(document, number: int) -> list[TextLine]:
    """Lines of a page the pre-check did not pick, read only when a table below may take its foot as header."""
    page = page_content(document, number)
    return words_lines(page) if page else []


def lift_header_from_previous(table: Found, previous_lines_of, previous_number: int, lines: list[TextLine]) -> None:
    """The Kent layout: a table's first header line at the foot of one page, the rest on the next."""
    above = printed_above(table, lines)
    if above or len(table.spans) < 2 or table.header_guessed:
        return  # text above it, or a continuation with no header of its own
    header, caption = header_from_previous_page(table, previous_lines_of(), table.spans)
    if not header:
        return
    lifted = header_cells(header, table.spans, table.label_column)
    if len(lifted) != len(table.header):
        return
    table.header = [" ".join(f"{a} {b}".split()) for a, b in zip(lifted, table.header)]
    box = (min(l.x0 for l in header), header[0].top, max(l.x1 for l in header), header[-1].bottom)
    table.regions.insert(0, (previous_number, box))
    table.caption = caption or table.caption


def as_record(table: Found) -> PdfTable:
    return PdfTable(page=table.regions[0][0] if table.regions else table.page, bbox=table.bbox, caption=table.caption,
                    header=table.header, rows=table.rows, row_pages=table.row_pages, regions=table.regions)
