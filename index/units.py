"""sentence_units: the quotable units of a passage (sentences, table rows, pieces of run-on lists).

Ingest stores one vector per unit and the answer step scores the same units, so both
must split a passage exactly alike: this module is the one place that does it. Which lines
are table rows comes from the chunk itself (`Chunk.table_rows`, recorded when the table was
read), so a heading such as "3b | Children, Young People & Education" is never taken for one.
"""
from __future__ import annotations

import functools
import re
from dataclasses import dataclass

from index.query import tokens_of

# A table row as ingest writes it: "<row label> | <header>: <cell> | <header>: <cell>".
ROW_SEPARATOR = " | "
_SENTENCE_END = re.compile(r"(?<=[.!?;:])[\"'\u201d\u2019)]*\s+(?=[\"'\u201c\u2018(\[]?[A-Z0-9\u00a3])")
_ABBREVIATION_END = re.compile(r"\b(?:e\.g|i\.e|etc|no|nos|para|paras|cllr|mr|mrs|ms|dr|st|vs|approx|fig|ref)\.$", re.I)
MAX_UNIT_CHARS = 600
_NEWLINE = re.compile("\n")


def row_lines_of(chunk) -> tuple[int, ...]:
    """The line numbers of a chunk's text that are table rows."""
    return tuple(sorted(ref.line for ref in getattr(chunk, "table_rows", None) or []))


def line_starts(text: str) -> list[int]:
    return [0] + [match.end() for match in _NEWLINE.finditer(text)]


def row_spans(text: str, rows: tuple[int, ...]) -> set[tuple[int, int]]:
    """(start, end) of each row line, by line number; tab-separated lines are rows too."""
    starts = line_starts(text)
    spans = set()
    for number, start in enumerate(starts):
        end = starts[number + 1] - 1 if number + 1 < len(starts) else len(text)
        if number in rows or "\t" in text[start:end]:
            spans.add((start, end))
    return spans


@dataclass(frozen=True)
class Row:
    """A table row line split into its label and (header, cell) pairs."""

    label: str
    cells: tuple[tuple[str, str], ...]  # (column header or "", cell text)


def parsed_row(line: str) -> Row:
    """The label and header/cell pairs of a `label | header: cell` row line; a row read from
    text without cell boundaries is all label."""
    if ROW_SEPARATOR not in line:
        return Row(" ".join(line.split()), ())
    label, *rest = [part.strip() for part in line.replace("\n", ROW_SEPARATOR).split(ROW_SEPARATOR)]
    cells = []
    for part in rest:
        header, colon, cell = part.partition(": ")
        cells.append((header.strip(), cell.strip()) if colon else ("", part))
    return Row(label, tuple(cells))


def sentence_spans(text: str, rows: set[tuple[int, int]]) -> list[tuple[int, int]]:
    """(start, end) of each sentence or table row in `text`, in order, trimmed of whitespace."""
    spans = []
    for line_match in re.finditer(r"[^\n]+", text):
        line_start = line_match.start()
        line = line_match.group()
        cursor = 0
        if (line_start, line_match.end()) not in rows:
            for boundary in _SENTENCE_END.finditer(line):
                if _ABBREVIATION_END.search(line[cursor : boundary.start()]):
                    continue
                spans.append((line_start + cursor, line_start + boundary.start()))
                cursor = boundary.end()
        spans.append((line_start + cursor, line_start + len(line)))
    trimmed = []
    for start, end in spans:
        segment = text[start:end]
        left = len(segment) - len(segment.lstrip())
        right = len(segment.rstrip())
        if right > left:
            trimmed.append((start + left, start + right))
    return trimmed


def split_long_span(text: str, start: int, end: int, limit: int = 300) -> list[tuple[int, int]]:
    """Cut a run-on sentence (a list of attendees, a table flattened into one line) at commas or semicolons."""
    if end - start <= MAX_UNIT_CHARS:
        return [(start, end)]
    pieces = []
    piece_start = start
    for match in re.finditer(r"[,;]\s+", text[start:end]):
        cut = start + match.end()
        if cut - piece_start >= limit:
            pieces.append((piece_start, start + match.start() + 1))
            piece_start = cut
    pieces.append((piece_start, end))
    return [(a, b) for a, b in pieces if b - a <= MAX_UNIT_CHARS]


def within_row(span: tuple[int, int], rows: set[tuple[int, int]]) -> bool:
    """Whether the span lies in a row line (or, once continuations are joined, begins one)."""
    return any(start <= span[0] < max(end, start + 1) for start, end in rows)


def merged_short_spans(text: str, spans: list[tuple[int, int]], rows: set[tuple[int, int]], min_words: int = 4) -> list[tuple[int, int]]:
    """Join fragments (a heading, a label, a line broken by layout) onto the next span so a quote reads as a sentence.

    Table rows are left alone: a short row is still a whole row, and a caption stays apart from its rows.
    """
    merged: list[tuple[int, int]] = []
    pending: tuple[int, int] | None = None
    for start, end in spans:
        is_row = within_row((start, end), rows)
        if pending is not None and not is_row:
            start = pending[0]
            pending = None
        elif pending is not None:
            merged.append(pending)
            pending = None
        if not is_row and len(text[start:end].split()) < min_words:
            pending = (start, end)
            continue
        merged.append((start, end))
    if pending is not None:
        if merged and pending[0] >= merged[-1][1] and not within_row(merged[-1], rows):
            merged[-1] = (merged[-1][0], pending[1])
        else:
            merged.append(pending)
    return merged


_HEADED_START = re.compile(r"^[^|:]{1,40}:\s")


def continues_row(line: str, above: str) -> bool:
    """A row with no label of its own, only headed values ("Latest: 22.2% | Target: 25%"): the rest of the row above.
    A row under the same headers as the row above is a row of its own, whose label holds a colon ("TRA: Bristol
    Regional Cycling Hub | Approved budget £000s: 30 | ...")."""
    return (ROW_SEPARATOR in line and bool(_HEADED_START.match(line))
            and column_headers(line) != column_headers(above))


def column_headers(line: str) -> tuple[str, ...]:
    return tuple(header for header, _ in parsed_row(line).cells)


def joined_row_continuations(text: str, spans: list[tuple[int, int]], rows: set[tuple[int, int]]) -> list[tuple[int, int]]:
    """A row that only continues the one above joins it, so the measure and its figures are one quote."""
    joined: list[tuple[int, int]] = []
    for span in spans:
        if (joined and within_row(span, rows) and within_row(joined[-1], rows)
                and continues_row(text[span[0]:span[1]], text[joined[-1][0]:joined[-1][1]])):
            joined[-1] = (joined[-1][0], span[1])
        else:
            joined.append(span)
    return joined


@functools.lru_cache(maxsize=1024)  # the passages of popular questions recur
def sentence_units(text: str, rows: tuple[int, ...] = ()) -> tuple[tuple[int, int], ...]:
    """(start, end) of each quotable unit of a chunk: a sentence, a table row (the lines numbered in `rows`,
    and tab-separated lines, a row that only continues the one above joined to it), a piece of a run-on
    list. A row is never cut."""
    row_set = row_spans(text, rows)
    spans = [
        piece
        for span in merged_short_spans(text, sentence_spans(text, row_set), row_set)
        for piece in ([span] if within_row(span, row_set) else split_long_span(text, *span))
    ]
    spans = joined_row_continuations(text, spans, row_set)
    return tuple((start, end) for start, end in spans if tokens_of(text[start:end]))


def table_captions(text: str, rows: tuple[int, ...] = ()) -> dict[int, str]:
    """For each table row line (by its start offset), the text above its table: the caption, and for
    tab-separated tables the header row too, so a row is read with what names its columns."""
    row_set = row_spans(text, rows)
    captions: dict[int, str] = {}
    header: str | None = None
    caption = ""
    for match in re.finditer(r"[^\n]*", text):
        line = match.group()
        if (match.start(), match.end()) in row_set:
            if "\t" in line and header is None:
                header = f"{caption} {line}"
                continue
            captions[match.start()] = header if header is not None else caption
        elif line.strip():
            header = None
            caption = line.strip()
    return captions


def printed_text(text: str, rows: tuple[int, ...]) -> str:
    """The passage as the paper prints it: each table row line as its label and cells in order, without the
    column headers the row lines repeat ("Sunderland | July: 2351 | August: 1817" -> "Sunderland 2351 1817")."""
    lines = text.split("\n")
    for number in rows:
        if number < len(lines) and ROW_SEPARATOR in lines[number]:
            row = parsed_row(lines[number])
            lines[number] = " ".join([row.label, *(cell for _, cell in row.cells)])
    return "\n".join(lines)
