"""Scoring extracted tables against hand-labelled ones (tests/data/tables_truth.json).

A labelled table lists its header and, for some rows, the row's label and cells keyed
by column header. A cell counts as found when one extracted table has a row with that
label (or key) holding that value under that header: the triple the answer step quotes
as "<label> | <header>: <value>". Tables are found (most of their rows' labels appear in
one extracted table), missed, or spurious (an extracted table on a labelled page that
matches no labelled table).
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path

from core.records import PdfTable
from core.text import fold_characters

FOUND_SHARE = 0.5  # of a labelled table's rows whose label must appear in one extracted table
LONG_TEXT = 15  # characters from which a labelled text cell may be the start of the extracted one


@dataclass
class TruthRow:
    label: str
    page: int
    cells: dict[str, str]
    key: str | None = None  # text that picks the row out when its label repeats


@dataclass
class TruthTable:
    id: str
    file: str
    pages: list[int]
    header: list[str]
    rows: list[TruthRow]


@dataclass
class Truth:
    tables: list[TruthTable]
    labelled_pages: dict[str, list[int]]

    @property
    def files(self) -> list[str]:
        return sorted(self.labelled_pages)


@dataclass
class TableScore:
    id: str
    found: bool
    cells: int
    cells_found: int
    rows: int
    rows_found: int
    misses: list[str] = field(default_factory=list)


@dataclass
class Score:
    tables: list[TableScore]
    spurious: int

    @property
    def cells(self) -> int:
        return sum(t.cells for t in self.tables)

    @property
    def cells_found(self) -> int:
        return sum(t.cells_found for t in self.tables)

    @property
    def cell_accuracy(self) -> float:
        return self.cells_found / self.cells if self.cells else 0.0

    @property
    def found(self) -> int:
        return sum(t.found for t in self.tables)

    @property
    def missed(self) -> int:
        return len(self.tables) - self.found


def load_truth(path: Path) -> Truth:
    data = json.loads(Path(path).read_text())
    tables = [
        TruthTable(id=t["id"], file=t["file"], pages=t["pages"], header=t["header"],
                   rows=[TruthRow(label=r["label"], page=r["page"], cells=r["cells"], key=r.get("key")) for r in t["rows"]])
        for t in data["tables"]
    ]
    return Truth(tables=tables, labelled_pages={f: list(p) for f, p in data["labelled_pages"].items()})


def loose(text: str) -> str:
    """Letters and digits only, lower case: labels and headers compare on their words, not their wrapping."""
    return re.sub(r"[^0-9a-z%£]", "", fold_characters(text).lower())


def value_form(text: str) -> str:
    """A cell value without spaces, with one kind of dash and quote."""
    return re.sub(r"\s+", "", fold_characters(text).lower())


def value_matches(expected: str, found: str) -> bool:
    expected, found = value_form(expected), value_form(found)
    if expected == found:
        return True
    # A long text cell is labelled by its opening words.
    return len(expected) >= LONG_TEXT and loose(found).startswith(loose(expected))


def label_matches(expected: str, found: str) -> bool:
    expected, found = loose(expected), loose(found)
    return bool(found) and (expected == found or (len(expected) >= LONG_TEXT and (found.startswith(expected) or expected.startswith(found))))


def row_dicts(table: PdfTable) -> list[tuple[str, dict[str, str], list[str]]]:
    """(label, {header: cell}, cells) for each body row."""
    from ingest.tables import row_label

    out = []
    for index, cells in enumerate(table.rows):
        by_header: dict[str, str] = {}
        for position, cell in enumerate(cells):
            header = table.header[position] if position < len(table.header) else ""
            if cell.strip():
                by_header.setdefault(loose(header), cell)
        out.append((row_label(cells, index + 1), by_header, cells))
    return out


def matching_row(truth: TruthRow, rows: list[tuple[str, dict[str, str], list[str]]]):
    for label, by_header, cells in rows:
        if truth.key is not None:
            if any(loose(cell).startswith(loose(truth.key)) for cell in cells):
                return by_header
        elif label_matches(truth.label, label):
            return by_header
    return None


def score_table(truth: TruthTable, candidates: list[PdfTable]) -> tuple[TableScore, PdfTable | None]:
    """The best-scoring candidate for one labelled table."""
    best: tuple[TableScore, PdfTable | None] = (_empty_score(truth), None)
    for table in candidates:
        rows = row_dicts(table)
        cells = cells_found = rows_found = 0
        misses = []
        for truth_row in truth.rows:
            by_header = matching_row(truth_row, rows)
            rows_found += by_header is not None
            for header, value in truth_row.cells.items():
                cells += 1
                got = (by_header or {}).get(loose(header))
                if got is not None and value_matches(value, got):
                    cells_found += 1
                else:
                    misses.append(f"{truth_row.label} | {header}: expected {value!r}, got {got!r}")
        score = TableScore(truth.id, rows_found >= FOUND_SHARE * len(truth.rows), cells, cells_found, len(truth.rows), rows_found, misses)
        if (score.cells_found, score.rows_found) > (best[0].cells_found, best[0].rows_found):
            best = (score, table)
    return best


def _empty_score(truth: TableScore | TruthTable) -> TableScore:
    cells = sum(len(r.cells) for r in truth.rows)
    return TableScore(truth.id, False, cells, 0, len(truth.rows), 0, ["no table"])


def table_pages(table: PdfTable) -> set[int]:
    return {page for page, _ in table.regions} | set(table.row_pages) | {table.page}


def score_file(truth: Truth, file: str, tables: list[PdfTable]) -> tuple[list[TableScore], int]:
    """Scores of the labelled tables of one file and the number of spurious tables on its labelled pages."""
    labelled = set(truth.labelled_pages.get(file, []))
    scores, matched = [], set()
    for truth_table in (t for t in truth.tables if t.file == file):
        candidates = [t for t in tables if table_pages(t) & set(truth_table.pages)]
        score, table = score_table(truth_table, candidates)
        scores.append(score)
        if table is not None:
            matched.add(id(table))
    spurious = sum(1 for t in tables if id(t) not in matched and table_pages(t) & labelled and t.page in labelled)
    return scores, spurious


def score_extraction(truth: Truth, tables_by_file: dict[str, list[PdfTable]]) -> Score:
    scores, spurious = [], 0
    for file in truth.files:
        file_scores, file_spurious = score_file(truth, file, tables_by_file.get(file, []))
        scores.extend(file_scores)
        spurious += file_spurious
    return Score(scores, spurious)
