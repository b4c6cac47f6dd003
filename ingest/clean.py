"""Repairs to extracted text: what PDF and Word exports really do to committee papers.

Display text keeps the paper's own characters (curly quotes, minus signs);
matching-time folding lives in core.text.
"""
from __future__ import annotations

import re
from collections import Counter, defaultdict
from dataclasses import dataclass

EDGE_LINES = 3  # header/footer lines sit within this many lines of a page's top or bottom
MIN_REPEAT_PAGES = 3
REPEAT_SHARE = 0.5
COMMON_WORDS = frozenset(
    "january february march april may june july august september october november december "
    "monday tuesday wednesday thursday friday saturday sunday total".split()
)
# Function words are words in their own right, so "any one" or "in to" never join.
FUNCTION_WORDS = frozenset(
    "a an and any as at be by each every for he her his in into is it its me my no not of on one or "
    "our over out so some that the their them they this to under up us we what when where which who with".split()
)
SUPERSCRIPT_DIGITS = str.maketrans("⁰¹²³⁴⁵⁶⁷⁸⁹", "0123456789")
_WORD = re.compile(r"[A-Za-z]+")
# A word cut by a stray space, or a column heading wrapped mid-word onto the next line.
_SPLIT_PAIR = re.compile(r"(?<![A-Za-z])([A-Za-z]*[a-z])( |\n)([a-z]+)(?![A-Za-z])")
_SUPERSCRIPT_RUN = re.compile(r"(?<=\S)([⁰¹²³⁴⁵⁶⁷⁸⁹]+)|^([⁰¹²³⁴⁵⁶⁷⁸⁹]+)(?=\s)", re.MULTILINE)
_BOLD = re.compile(r"\*\*(\S(?:.*?\S)?)\*\*")
_NUMBERS = re.compile(r"\d+")


@dataclass
class EdgeLine:
    page: int
    text: str
    numbers: list[int]


# ---------------------------------------------------------------- PDF pages


def clean_pdf_pages(raw_pages: list[str]) -> list[str]:
    """Page texts with running headers/footers gone, split words joined, line-end hyphens undone."""
    pages = [strip_line_ends(page) for page in raw_pages]
    pages = remove_running_lines(pages)
    vocabulary = document_vocabulary("\n".join(pages))
    pages = [join_line_end_hyphens(page, vocabulary) for page in pages]
    return [trim_blank_lines(join_split_words(page, vocabulary)) for page in pages]


def clean_tables(tables: list, raw_text: str) -> list:
    """Tables' caption, header and cells repaired as the page text is (split words, line-end hyphens),
    judged by the vocabulary of the whole paper, the tables' own words included."""
    vocabulary = document_vocabulary(raw_text)
    for table in tables:
        table.caption = clean_cell(table.caption, vocabulary)
        table.header = [clean_cell(cell, vocabulary) for cell in table.header]
        table.rows = [[clean_cell(cell, vocabulary) for cell in row] for row in table.rows]
    return tables


def clean_cell(text: str, vocabulary: Counter) -> str:
    """One line of text from a cell's lines: "Revenu" / "e" -> "Revenue", "recog-" / "nised" -> "recognised"."""
    text = join_line_end_hyphens(strip_line_ends(text), vocabulary)
    text = join_split_words(text, vocabulary)
    text = re.sub(r"(?<=\w)-\n(?=\w)", "-", text)  # a kept compound hyphen at a line end
    return " ".join(text.split())


def strip_line_ends(text: str) -> str:
    return "\n".join(line.rstrip() for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n"))


def trim_blank_lines(text: str) -> str:
    """No leading/trailing blank lines and never more than one blank line in a row."""
    return re.sub(r"\n\s*\n(\s*\n)+", "\n\n", text).strip("\n")


def remove_running_lines(pages: list[str]) -> list[str]:
    """Drop page headers and footers: lines near a page edge that repeat on many pages.

    A line repeats either verbatim ("Appendix 1", a repeated title) or with a
    number that counts the pages ("Page 12 of 54", a bare "11"); "Question 3" at
    the top of several pages is not a page counter and stays.
    """
    lines_per_page = [page.split("\n") for page in pages]
    running = running_line_keys(lines_per_page)
    if not running:
        return pages
    cleaned = []
    for index, lines in enumerate(lines_per_page):
        edge = edge_indexes(lines)
        kept = [line for i, line in enumerate(lines) if not (i in edge and (index, line.strip()) in running and not is_table_mark(line))]
        cleaned.append("\n".join(kept))
    return cleaned


def is_table_mark(line: str) -> bool:
    """The line standing for a table (ingest.tables.TABLE_MARK): never a running header."""
    return line.startswith("\ue000")


def edge_indexes(lines: list[str]) -> set[int]:
    filled = [i for i, line in enumerate(lines) if line.strip()]
    return set(filled[:EDGE_LINES] + filled[-EDGE_LINES:])


def running_line_keys(lines_per_page: list[list[str]]) -> set[tuple[int, str]]:
    """(page index, line text) pairs that are headers or footers."""
    if len(lines_per_page) < MIN_REPEAT_PAGES:
        return set()
    needed = max(MIN_REPEAT_PAGES, int(REPEAT_SHARE * len(lines_per_page)))
    verbatim: dict[str, list[EdgeLine]] = defaultdict(list)
    for page, lines in enumerate(lines_per_page):
        for i in edge_indexes(lines):
            text = lines[i].strip()
            verbatim[text].append(EdgeLine(page, text, [int(n) for n in _NUMBERS.findall(text)]))
    keys: set[tuple[int, str]] = set()
    by_template: dict[str, list[EdgeLine]] = defaultdict(list)
    for text, occurrences in verbatim.items():
        if len({o.page for o in occurrences}) >= needed:
            keys.update((o.page, o.text) for o in occurrences)
        elif occurrences[0].numbers:
            by_template[_NUMBERS.sub("#", text)].extend(occurrences)
    for occurrences in by_template.values():
        if len({o.page for o in occurrences}) >= needed:
            keys.update((o.page, o.text) for o in page_counter_lines(occurrences, needed))
    return keys


def page_counter_lines(occurrences: list[EdgeLine], needed: int) -> list[EdgeLine]:
    """The occurrences whose numbers include one that moves in step with the page."""
    offsets: Counter = Counter()
    for occurrence in occurrences:
        for position, number in enumerate(occurrence.numbers):
            offsets[(position, number - occurrence.page)] += 1
    if not offsets:
        return []
    (position, offset), count = offsets.most_common(1)[0]
    if count < needed:
        return []
    return [o for o in occurrences if len(o.numbers) > position and o.numbers[position] - o.page == offset]


# ---------------------------------------------------------------- words


def document_vocabulary(text: str) -> Counter:
    """Lower-cased word counts of the document itself: the judge of what is a word."""
    return Counter(word.lower() for word in _WORD.findall(text))


def join_split_words(text: str, vocabulary: Counter | None = None) -> str:
    """Rejoin words broken by a stray space ("Tota l", "Rephasin g", "Septemb er").

    Pieces on consecutive lines ("Revenu" / "e" in a table heading) count too.
    Two pieces are joined only when the joined word is a word of this document
    (or a month or day name) and one of the pieces never stands on its own
    elsewhere, so real two-word phrases ("a way", "any one") are left alone.
    """
    vocabulary = vocabulary if vocabulary is not None else document_vocabulary(text)
    pairs = Counter((a.lower(), b.lower()) for a, _, b in _SPLIT_PAIR.findall(text))

    def join(match: re.Match) -> str:
        first, second = match.group(1), match.group(3)
        if should_join(first, second, vocabulary, pairs):
            return first + second
        return match.group(0)

    return _SPLIT_PAIR.sub(join, text)


def should_join(first: str, second: str, vocabulary: Counter, pairs: Counter) -> bool:
    joined = (first + second).lower()
    if not (vocabulary[joined] or joined in COMMON_WORDS):
        return False
    if first.lower() in FUNCTION_WORDS or second.lower() in FUNCTION_WORDS:
        return False
    together = pairs[(first.lower(), second.lower())]
    first_alone = vocabulary[first.lower()] - together
    second_alone = vocabulary[second.lower()] - together
    # A one-letter tail ("g", "l") is never a word of its own in running text.
    return first_alone <= 0 or second_alone <= 0 or (len(second) == 1 and second not in "ai")


def join_line_end_hyphens(text: str, vocabulary: Counter) -> str:
    """"recog-\\nnised" -> "recognised"; "multi-\\nyear" keeps its hyphen.

    The hyphen is dropped only when the document uses the joined word elsewhere;
    otherwise it was a real compound hyphen and stays. The rejoined word moves to
    the first line so line structure is otherwise untouched.
    """

    def join(match: re.Match) -> str:
        head, tail, rest = match.group(1), match.group(2), match.group(3)
        joined = head + tail if vocabulary[(head + tail).lower()] else f"{head}-{tail}"
        return f"{joined}\n{rest.lstrip()}" if rest.strip() else joined

    pattern = re.compile(r"([A-Za-z]+)-\n([a-z][A-Za-z]*)([^\n]*)")
    previous = None
    while previous != text:  # a moved word can bring the next line-end hyphen with it
        previous, text = text, pattern.sub(join, text)
    return text


# ---------------------------------------------------------------- plain text


def clean_text(text: str) -> str:
    """Light repair of converted plain text; real words are never changed.

    Line endings unified, markdown bold markers dropped, superscript footnote
    markers set apart ("fte²" -> "fte[2]", so "£980,000⁴" never reads as
    "£980,0004" once folded for matching) and split words joined.
    """
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\ufeff", "")
    text = _BOLD.sub(r"\1", text)
    text = _SUPERSCRIPT_RUN.sub(lambda m: f"[{(m.group(1) or m.group(2)).translate(SUPERSCRIPT_DIGITS)}]", text)
    text = join_split_words(text)
    return trim_blank_lines(strip_line_ends(text))
