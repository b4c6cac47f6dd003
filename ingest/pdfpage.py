"""What the table finders read off a PDF page: its characters' boxes and its drawn lines, from PDFium.

PDFium (pypdfium2, C code) reads a page's characters and paths at a small part of a pure-Python
parser's cost. Everything here is in points from the page's top-left corner, the frame pypdf's text
pieces use in ingest.parse, so a table's area can be matched against them. Characters and drawn
shapes follow pdfminer's reading of a page (a character's box runs from its font's descent to one
em above it; a subpath is a line, a rectangle or a curve), the reading the finders were tuned on.
PDFium is not thread-safe: a process reads one document at a time (ingest parses in one worker).
"""
from __future__ import annotations

import ctypes
import math
from bisect import bisect_left
from dataclasses import dataclass, field
from operator import attrgetter
from pathlib import Path

Box = tuple[float, float, float, float]  # x0, top, x1, bottom
LIGATURES = {"ﬀ": "ff", "ﬃ": "ffi", "ﬄ": "ffl", "ﬁ": "fi", "ﬂ": "fl", "ﬆ": "st", "ﬅ": "st"}
# PDFium's text stands U+FFFE for a hyphen it takes for a line-end break, and for a glyph with no Unicode value.
UNMAPPED = "\ufffe"
FONT_NAME_BYTES = 128
MAX_FORM_DEPTH = 8  # form objects nest; deeper ones are not drawn by any real paper
EMPTY = 0.01  # points: a text object this small has no ink
BLANK_SLACK = 0.5  # points a character may start left of the blank before it
BLANK_REACH = 40.0  # points either side of a blank within which its neighbours on the line are looked for
CELL_TOLERANCE = 3.0  # points: gaps within which a cell's characters are one word, and tops one line


@dataclass(slots=True)
class Char:
    text: str
    x0: float
    x1: float
    top: float
    bottom: float
    bold: bool = False
    space_before: bool = False  # a space (printed or inferred by PDFium) stood before it


@dataclass(slots=True)
class Edge:
    """A straight drawn segment, horizontal ("h") or vertical ("v"), as the ruled-table finder joins them."""

    orientation: str
    x0: float
    top: float
    x1: float
    bottom: float

    @property
    def length(self) -> float:
        return self.x1 - self.x0 if self.orientation == "h" else self.bottom - self.top


@dataclass
class PageContent:
    number: int  # 1-based
    width: float
    height: float
    chars: list[Char]
    lines: list[Box]  # drawn one-segment paths
    rects: list[Box]  # drawn rectangles (cell borders, shading, thick rules)
    edges: list[Edge]  # the horizontal and vertical sides of lines, rectangles and other paths


def open_document(path: Path):
    """The PDF opened with PDFium; close it with .close()."""
    import pypdfium2

    return pypdfium2.PdfDocument(str(path))


def page_content(document, number: int) -> PageContent | None:
    """Characters and drawn shapes of the 1-based page `number`; None for a page turned by /Rotate (left out, as before)."""
    page = document[number - 1]
    try:
        if page.get_rotation():
            return None
        left, bottom, right, top = page.get_mediabox()
        to_page = (1.0, 0.0, 0.0, -1.0, -left, top)  # PDF space -> points from the top-left corner
        drawn = page_objects(page.raw, to_page)
        textpage = page.get_textpage()
        try:
            chars = page_chars(textpage.raw, to_page, drawn.styles)
        finally:
            textpage.close()
        mark_spaces(chars, drawn.blanks)
        return PageContent(number, right - left, top - bottom, chars, drawn.lines, drawn.rects, drawn.edges)
    finally:
        page.close()


# ---------------------------------------------------------------- characters


def page_chars(textpage, to_page, styles: dict[int, tuple[float, bool]]) -> list[Char]:
    """Every printed character with its box; spaces are kept as a mark on the character after them.

    `styles` gives each text object's type size and boldness (page_objects), so a character costs
    two calls into PDFium: its box and its text object.
    """
    import pypdfium2.raw as pdfium

    # The text object's address as a plain integer, to look its style up.
    text_object = ctypes.cast(pdfium.FPDFText_GetTextObject, ctypes.CFUNCTYPE(ctypes.c_void_p, ctypes.c_void_p, ctypes.c_int))
    box = pdfium.FS_RECTF()
    _, _, _, _, dx, top_y = to_page
    chars: list[Char] = []
    space = False
    for index, text in enumerate(page_text(textpage)):
        if text == UNMAPPED:
            text = "-" if pdfium.FPDFText_IsHyphen(textpage, index) == 1 else ""
        if not text or text.isspace():  # PDFium's own additions are spaces and line breaks
            space = space or text.isspace()
            continue
        pdfium.FPDFText_GetLooseCharBox(textpage, index, box)
        size, bold = styles.get(text_object(textpage, index)) or char_style(textpage, index)
        bottom = top_y - box.bottom
        chars.append(Char(LIGATURES.get(text, text), box.left + dx, box.right + dx, bottom - size, bottom, bold, space))
        space = False
    return chars


def char_style(textpage, index: int) -> tuple[float, bool]:
    """A character's type size (scaled as drawn) and boldness, asked of the text page."""
    import pypdfium2.raw as pdfium

    matrix = pdfium.FS_MATRIX()
    pdfium.FPDFText_GetMatrix(textpage, index, matrix)
    name = ctypes.create_string_buffer(FONT_NAME_BYTES)
    pdfium.FPDFText_GetFontInfo(textpage, index, name, FONT_NAME_BYTES, ctypes.c_int())
    return pdfium.FPDFText_GetFontSize(textpage, index) * (math.hypot(matrix.c, matrix.d) or 1.0), is_bold(name.value)


def is_bold(font_name: bytes) -> bool:
    return b"bold" in font_name.lower()


def page_text(textpage) -> list[str]:
    """Each character of the text page, read in one call when every character is one UTF-16 unit."""
    import pypdfium2.raw as pdfium

    count = pdfium.FPDFText_CountChars(textpage)
    if count <= 0:
        return []
    buffer = ctypes.create_string_buffer((count + 1) * 2)
    written = pdfium.FPDFText_GetText(textpage, 0, count, ctypes.cast(buffer, ctypes.POINTER(ctypes.c_ushort)))
    text = buffer.raw[: max(written - 1, 0) * 2].decode("utf-16-le", errors="replace")
    if len(text) == count:
        return list(text)
    # Characters beyond U+FFFF, or control codes left out of the text: ask character by character.
    codes = [pdfium.FPDFText_GetUnicode(textpage, i) for i in range(count)]
    return [UNMAPPED if code in (0, 2) else chr(code) for code in codes]


# ---------------------------------------------------------------- drawn shapes


@dataclass
class Drawn:
    """What a pass over a page's objects gives."""

    lines: list[Box] = field(default_factory=list)
    rects: list[Box] = field(default_factory=list)
    edges: list[Edge] = field(default_factory=list)
    blanks: list[tuple[float, float]] = field(default_factory=list)  # where each blank text object starts
    styles: dict[int, tuple[float, bool]] = field(default_factory=dict)  # text object address -> (type size, bold)


def page_objects(page, to_page) -> Drawn:
    """Lines, rectangles and the straight sides of every drawn path; each text object's style; blank text objects.

    Form objects are entered. A blank text object (a glyph with no ink, such as a space printed on
    its own) is kept by its starting point: PDFium's text page leaves some of them out.
    """
    import pypdfium2.raw as pdfium

    drawn = Drawn()
    font_names: dict[int, bool] = {}
    count = pdfium.FPDFPage_CountObjects(page)
    objects = [(pdfium.FPDFPage_GetObject(page, i), to_page, 0) for i in range(count)]
    matrix = pdfium.FS_MATRIX()
    size = ctypes.c_float()
    left, bottom, right, top = (ctypes.c_float() for _ in range(4))
    while objects:
        obj, outer, depth = objects.pop()
        kind = pdfium.FPDFPageObj_GetType(obj)
        if kind not in (pdfium.FPDF_PAGEOBJ_TEXT, pdfium.FPDF_PAGEOBJ_PATH, pdfium.FPDF_PAGEOBJ_FORM):
            continue
        pdfium.FPDFPageObj_GetMatrix(obj, matrix)
        transform = compose((matrix.a, matrix.b, matrix.c, matrix.d, matrix.e, matrix.f), outer)
        if kind == pdfium.FPDF_PAGEOBJ_TEXT:
            pdfium.FPDFPageObj_GetBounds(obj, left, bottom, right, top)
            if right.value - left.value < EMPTY and top.value - bottom.value < EMPTY:
                drawn.blanks.append(apply(outer, left.value, bottom.value))
            pdfium.FPDFTextObj_GetFontSize(obj, size)
            drawn.styles[ctypes.cast(obj, ctypes.c_void_p).value] = (
                size.value * math.hypot(transform[2], transform[3]), font_bold(pdfium.FPDFTextObj_GetFont(obj), font_names))
        elif kind == pdfium.FPDF_PAGEOBJ_FORM:
            if depth < MAX_FORM_DEPTH:
                objects.extend((pdfium.FPDFFormObj_GetObject(obj, i), transform, depth + 1)
                               for i in range(pdfium.FPDFFormObj_CountObjects(obj)))
        else:
            for shape, points in subpaths(obj, transform):
                add_subpath(shape, points, drawn.lines, drawn.rects, drawn.edges)
    return drawn


def font_bold(font, known: dict[int, bool]) -> bool:
    """Whether a font's name says bold, asked once per font of the page."""
    import pypdfium2.raw as pdfium

    address = ctypes.cast(font, ctypes.c_void_p).value or 0
    if address not in known:
        name = ctypes.create_string_buffer(FONT_NAME_BYTES)
        if address:
            pdfium.FPDFFont_GetBaseFontName(font, name, FONT_NAME_BYTES)
        known[address] = is_bold(name.value)
    return known[address]


def mark_spaces(chars: list[Char], blanks: list[tuple[float, float]]) -> None:
    """A blank text object standing between two characters of a line ends a word there.

    A blank inside a glyph's box (an empty string shown mid-word) is not a space.
    """
    if not blanks:
        return
    by_x = sorted(chars, key=lambda c: c.x0)
    xs = [c.x0 for c in by_x]
    for x, y in blanks:
        split = bisect_left(xs, x - BLANK_SLACK)
        after = next((c for c in by_x[split : bisect_left(xs, x + BLANK_REACH, lo=split)] if c.top <= y <= c.bottom), None)
        before = next((c for c in reversed(by_x[bisect_left(xs, x - BLANK_REACH, hi=split) : split]) if c.top <= y <= c.bottom), None)
        if after and (before is None or before.x1 <= x + BLANK_SLACK):
            after.space_before = True


def apply(matrix, x: float, y: float) -> tuple[float, float]:
    a, b, c, d, e, f = matrix
    return a * x + c * y + e, b * x + d * y + f


def compose(inner, outer):
    """The matrix applying `inner`, then `outer` (PDF's a b c d e f order)."""
    a, b, c, d, e, f = inner
    A, B, C, D, E, F = outer
    return (a * A + b * C, a * B + b * D, c * A + d * C, c * B + d * D, e * A + f * C + E, e * B + f * D + F)


def subpaths(path, transform) -> list[tuple[str, list[tuple[float, float]]]]:
    """Each subpath as pdfminer spells it ("m", "l", "c", "h") with its end points in page space."""
    import pypdfium2.raw as pdfium

    a, b, c, d, e, f = transform
    x, y = ctypes.c_float(), ctypes.c_float()
    out: list[tuple[str, list[tuple[float, float]]]] = []
    shape, points, curve_points = "", [], 0
    for index in range(pdfium.FPDFPath_CountSegments(path)):
        segment = pdfium.FPDFPath_GetPathSegment(path, index)
        pdfium.FPDFPathSegment_GetPoint(segment, x, y)
        point = (a * x.value + c * y.value + e, b * x.value + d * y.value + f)
        kind = pdfium.FPDFPathSegment_GetType(segment)
        if kind == pdfium.FPDF_SEGMENT_MOVETO:
            if shape:
                out.append((shape, points))
            shape, points = "m", [point]
        elif kind == pdfium.FPDF_SEGMENT_LINETO:
            shape, points = shape + "l", points + [point]
        elif kind == pdfium.FPDF_SEGMENT_BEZIERTO:
            curve_points += 1
            if curve_points % 3:
                continue  # a control point: pdfminer keeps a curve's end point only
            shape, points = shape + "c", points + [point]
        if shape and pdfium.FPDFPathSegment_GetClose(segment):
            shape, points = shape + "h", points + [points[0]]
    if shape:
        out.append((shape, points))
    return out


def add_subpath(shape: str, points: list[tuple[float, float]], lines: list[Box], rects: list[Box], edges: list[Edge]) -> None:
    """A subpath as pdfminer reads it: a line (two points), a rectangle (four square corners), else a curve."""
    if not shape.startswith("m"):
        return
    if len(shape) > 3 and shape.endswith("lh") and points[-2] == points[0]:
        shape, points = shape[:-2] + "h", points[:-2] + points[-1:]  # a closing "l" repeats the "h"
    if shape in ("ml", "mlh"):
        (x0, y0), (x1, y1) = points[0], points[1]
        box = (min(x0, x1), min(y0, y1), max(x0, x1), max(y0, y1))
        lines.append(box)
        if y0 == y1:
            edges.append(Edge("h", *box))
        elif x0 == x1:
            edges.append(Edge("v", *box))
        return
    if shape in ("mlllh", "mllll") and points[0] == points[4] and is_square(points):
        xs, ys = [p[0] for p in points], [p[1] for p in points]
        x0, top, x1, bottom = min(xs), min(ys), max(xs), max(ys)
        rects.append((x0, top, x1, bottom))
        edges.extend([Edge("h", x0, top, x1, top), Edge("h", x0, bottom, x1, bottom),
                      Edge("v", x0, top, x0, bottom), Edge("v", x1, top, x1, bottom)])
        return
    for (x0, y0), (x1, y1) in zip(points, points[1:]):
        box = (min(x0, x1), min(y0, y1), max(x0, x1), max(y0, y1))
        if x0 == x1:
            edges.append(Edge("v", *box))
        elif y0 == y1:
            edges.append(Edge("h", *box))


def is_square(points: list[tuple[float, float]]) -> bool:
    (x0, y0), (x1, y1), (x2, y2), (x3, y3) = points[:4]
    return (x0 == x1 and y1 == y2 and x2 == x3 and y3 == y0) or (y0 == y1 and x1 == x2 and y2 == y3 and x3 == x0)


# ---------------------------------------------------------------- words and cell text


@dataclass(slots=True)
class Word:
    text: str
    x0: float
    x1: float
    top: float
    bottom: float


def clusters(values: list[float], tolerance: float) -> dict[float, int]:
    """Each value's cluster number: sorted values join a cluster while each is within `tolerance` of the last."""
    out: dict[float, int] = {}
    number, last = -1, None
    for value in sorted(set(values)):
        if last is None or value > last + tolerance:
            number += 1
        out[value] = number
        last = value
    return out


def grouped_by_top(items: list, tolerance: float) -> list[list]:
    """Items (characters or words) in lines: clusters of their tops, top to bottom, each keeping the items' order."""
    cluster_of = clusters([item.top for item in items], tolerance)
    groups: dict[int, list] = {}
    for item in items:
        groups.setdefault(cluster_of[item.top], []).append(item)
    return [groups[key] for key in sorted(groups)]


def words_of(chars: list[Char], x_tolerance: float, y_tolerance: float) -> list[Word]:
    """Characters joined into words: a line's characters left to right, split at spaces and at gaps wider than x_tolerance."""
    words: list[Word] = []
    for line in grouped_by_top(chars, y_tolerance):
        line.sort(key=attrgetter("x0"))
        word = Word("", 0.0, 0.0, 0.0, 0.0)
        last_x1 = last_top = None
        for char in line:
            if last_x1 is None or char.space_before or char.x0 > last_x1 + x_tolerance or abs(char.top - last_top) > y_tolerance:
                word = Word(char.text, char.x0, char.x1, char.top, char.bottom)
                words.append(word)
            else:
                word.text += char.text
                if char.x1 > word.x1:
                    word.x1 = char.x1
                if char.top < word.top:
                    word.top = char.top
                if char.bottom > word.bottom:
                    word.bottom = char.bottom
            last_x1, last_top = char.x1, char.top
    return words



def text_of(chars: list[Char]) -> str:
    """A cell's text: its words in lines, lines joined with newlines."""
    words = words_of(chars, CELL_TOLERANCE, CELL_TOLERANCE)
    return "\n".join(" ".join(w.text for w in line) for line in grouped_by_top(words, CELL_TOLERANCE))
