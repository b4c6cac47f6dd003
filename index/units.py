"""sentence_units: the quotable units of a passage (sentences, table rows, pieces of run-on lists).

Ingest stores one vector per unit and the answer step scores the same units, so both
must split a passage exactly alike: this module is the one place that does it.
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


def is_row_line(line: str) -> bool:
    """A table row: tab-separated cells (text papers) or the `label | header: cell` form of extracted tables."""
    return "\t" in line or ROW_SEPARATOR in line


@dataclass(frozen=True)
class Row:
    """A table row line split into its label and (header, cell) pairs."""

    label: str
    cells: tuple[tuple[str, str], ...]  # (column header or "", cell text)


def parsed_row(line: str) -> Row | None:
    """The label and header/cell pairs of a `label | header: cell` line; None for other lines."""
    if ROW_SEPARATOR not in line:
        return None
    label, *rest = [part.strip() for part in line.split(ROW_SEPARATOR)]
    cells = []
    for part in rest:
        header, colon, cell = part.partition(": ")
        cells.append((header.strip(), cell.strip()) if colon else ("", part))
    return Row(label, tuple(cells))


def sentence_spans(text: str) -> list[tuple[int, int]]:
    """(start, end) of each sentence or table row in `text`, in order, trimmed of whitespace."""
    spans = []
    for line_match in re.finditer(r"[^\n]+", text):
        line_start = line_match.start()
        line = line_match.group()
        cursor = 0
        if not is_row_line(line):
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
    if end - start <= MAX_UNIT_CHARS or is_row_line(text[start:end]):
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


def merged_short_spans(text: str, spans: list[tuple[int, int]], min_words: int = 4) -> list[tuple[int, int]]:
    """Join fragments (a heading, a label, a line broken by layout) onto the next span so a quote reads as a sentence.

    Table rows are left alone: a short row is still a whole row, and a caption stays apart from its rows.
    """
    merged: list[tuple[int, int]] = []
    pending: tuple[int, int] | None = None
    for start, end in spans:
        is_row = is_row_line(text[start:end])
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
        if merged and pending[0] >= merged[-1][1] and not is_row_line(text[merged[-1][0]:merged[-1][1]]):
            merged[-1] = (merged[-1][0], pending[1])
        else:
            merged.append(pending)
    return merged


@functools.lru_cache(maxsize=1024)  # the passages of popular questions recur
def sentence_units(text: str) -> tuple[tuple[int, int], ...]:
    """(start, end) of each quotable unit of a chunk: a sentence, a table row, a piece of a run-on list."""
    spans = [piece for span in merged_short_spans(text, sentence_spans(text)) for piece in split_long_span(text, *span)]
    return tuple((start, end) for start, end in spans if tokens_of(text[start:end]))


def table_captions(text: str) -> dict[int, str]:
    """For each table row line (by its start offset), the text above its table: the caption, and for
    tab-separated tables the header row too, so a row is read with what names its columns."""
    captions: dict[int, str] = {}
    header: str | None = None
    caption = ""
    for match in re.finditer(r"[^\n]*", text):
        line = match.group()
        if is_row_line(line):
            if "\t" in line and header is None:
                header = f"{caption} {line}"
                continue
            captions[match.start()] = header if header is not None else caption
        elif line.strip():
            header = None
            caption = line.strip()
    return captions
