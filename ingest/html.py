"""parse_html: a saved web page (an agenda page, a minutes or decision record) in, a ParsedDocument out.

The page's structure is kept in the form the rest of ingest reads: headings become "# " lines,
each paragraph or list item one line, each table row one line of tab-separated cells, so
`blocks_from_document` finds the same headings, paragraphs and tables a Word paper gives.
Scripts, styles, forms and text hidden for screen readers are dropped.
"""
from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

from core.records import ParsedDocument

HTML_SUFFIXES = {".html", ".htm"}
HEADING_TAGS = {"h1": 1, "h2": 2, "h3": 3, "h4": 4, "h5": 5, "h6": 6}
BLOCK_TAGS = {
    "address", "article", "aside", "blockquote", "caption", "center", "dd", "div", "dl", "dt", "fieldset", "figcaption",
    "figure", "footer", "form", "header", "hr", "li", "main", "nav", "ol", "p", "pre", "section", "ul",
}
SKIPPED_TAGS = {"script", "style", "head", "noscript", "template", "svg", "iframe", "object", "embed", "select", "button",
                "canvas", "textarea"}
VOID_TAGS = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "param", "source", "track", "wbr"}
# ModernGov marks text meant only for screen readers ("ref: 13567") with this class.
HIDDEN_CLASSES = {"mghide", "visually-hidden", "sr-only"}
BULLET = "\u2022 "


def looks_like_html(head: bytes, suffix: str) -> bool:
    """An .html file, or text that opens as an HTML document; a .txt quoting a tag stays text."""
    if suffix.lower() in HTML_SUFFIXES:
        return True
    opening = head.lstrip(b"\xef\xbb\xbf \t\r\n")[:64].lower()
    return opening.startswith((b"<!doctype html", b"<html"))


def parse_html(path: Path) -> ParsedDocument:
    """The page's text with its structure; raises ParseError when it has none."""
    from ingest.parse import ParseError, decode_text

    decoded = decode_text(Path(path).read_bytes())
    text = html_text(decoded.text)
    if not text.strip():
        raise ParseError(path, "web page has no text")
    warnings = [f"some bytes could not be decoded as {decoded.encoding}"] if "\ufffd" in decoded.text else []
    return ParsedDocument(doc_id=Path(path).stem, path=str(path), format="html", pages=[text], has_pages=False,
                          warnings=warnings)


def html_text(markup: str) -> str:
    """Headings as "# " lines, paragraphs as lines, table rows as tab-separated lines, blocks apart."""
    reader = _StructureReader()
    reader.feed(markup)
    reader.close()
    return reader.text()


def _spaced(text: str) -> str:
    return " ".join(text.replace("\t", " ").split())


class _StructureReader(HTMLParser):
    """Collects blocks while walking the page; tolerant of unclosed and stray tags as browsers are."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.blocks: list[str] = []
        self.title = ""
        self.open: list[tuple[str, bool]] = []  # (tag, hidden) of each open element
        self.words: list[str] = []  # the paragraph or heading being read
        self.heading = 0
        self.in_title = False
        self.table_depth = 0
        self.rows: list[str] = []
        self.cells: list[str] | None = None
        self.cell: list[str] | None = None

    # -- the walk
    def handle_starttag(self, tag: str, attrs) -> None:
        classes = {c.lower() for c in (dict(attrs).get("class") or "").split()}
        hidden = self.hidden or tag in SKIPPED_TAGS or bool(classes & HIDDEN_CLASSES)
        if tag == "title":
            self.in_title = True
        if tag not in VOID_TAGS:
            self.open.append((tag, hidden))
        if hidden:
            return
        if tag == "table":
            self._start_table()
        elif self.table_depth:
            self._table_tag(tag)
        elif tag == "br":
            self._flush()
        elif tag in HEADING_TAGS:
            self._flush()
            self.heading = HEADING_TAGS[tag]
        elif tag in BLOCK_TAGS:
            self._flush()
            if tag == "li":
                self.words.append(BULLET)

    def handle_endtag(self, tag: str) -> None:
        if tag == "title":
            self.in_title = False
        if not any(name == tag for name, _ in self.open):
            return  # a stray end tag
        while self.open:
            name, hidden = self.open.pop()
            if not hidden:
                self._close(name)
            if name == tag:
                break

    def handle_data(self, data: str) -> None:
        if self.in_title:
            self.title += data
            return
        if self.hidden:
            return
        if self.cell is not None:
            self.cell.append(data)
        elif not self.table_depth:
            self.words.append(data)

    @property
    def hidden(self) -> bool:
        return bool(self.open) and self.open[-1][1]

    # -- blocks
    def _close(self, tag: str) -> None:
        if tag == "table":
            self._end_table()
        elif self.table_depth:
            if tag in ("td", "th"):
                self._end_cell()
            elif tag == "caption" and self.table_depth == 1 and self.cell is not None:
                caption = _spaced("".join(self.cell))
                self.blocks.extend([caption] if caption else [])
                self.cell = None
            elif tag == "tr":
                self._end_row()
        elif tag in HEADING_TAGS or tag in BLOCK_TAGS:
            self._flush()

    def _flush(self) -> None:
        text = _spaced("".join(self.words))
        if text and text != BULLET.strip():
            self.blocks.append(f"{'#' * self.heading} {text}" if self.heading else text)
        self.words = []
        self.heading = 0

    # -- tables: a nested table's text stays inside the cell that holds it
    def _start_table(self) -> None:
        if self.table_depth == 0:
            self._flush()
            self.rows = []
        self.table_depth += 1

    def _table_tag(self, tag: str) -> None:
        if self.table_depth > 1:
            if self.cell is not None and tag in ("td", "th", "tr", "br", "p", "div", "li"):
                self.cell.append(" ")
            return
        if tag == "tr":
            self._end_row()
            self.cells = []
        elif tag == "caption":  # read like a cell, and set above the rows as the table's title
            self.cell = []
        elif tag in ("td", "th"):
            self._end_cell()
            if self.cells is None:
                self.cells = []
            self.cell = []
        elif self.cell is not None and tag in ("br", "p", "div", "li"):
            self.cell.append(" ")

    def _end_cell(self) -> None:
        if self.table_depth == 1 and self.cell is not None and self.cells is not None:
            self.cells.append(_spaced("".join(self.cell)))
            self.cell = None

    def _end_row(self) -> None:
        if self.table_depth != 1:
            return
        self._end_cell()
        if self.cells and any(self.cells):
            self.rows.append("\t".join(self.cells))
        self.cells = None

    def _end_table(self) -> None:
        self.table_depth -= 1
        if self.table_depth == 0:
            self._end_row()
            if self.rows:
                self.blocks.append("\n".join(self.rows))
            self.rows = []
        elif self.cell is not None:
            self.cell.append(" ")

    def text(self) -> str:
        self._flush()
        if self.table_depth:
            self.table_depth = 1
            self._end_table()
        title = _spaced(self.title)
        blocks = self.blocks
        first_heading = next((re.sub(r"^#+ ", "", b) for b in blocks if b.startswith("#")), None)
        if title and title != first_heading:
            blocks = [f"# {title}", *blocks]
        return "\n\n".join(blocks)
