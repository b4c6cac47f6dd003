"""parse_file: one paper on disk in, a ParsedDocument (cleaned text per page) out.

The format is chosen from the file's content, not its name, and every way a file
can be unreadable ends in a ParseError that names the file and the problem.
"""
from __future__ import annotations

import codecs
import logging
import math
import re
import zipfile
from dataclasses import dataclass
from pathlib import Path

from core.records import ParsedDocument, PdfTable
from core.settings import IngestSettings, OcrSettings
from core.text import display_path
from ingest.clean import clean_pdf_pages, clean_tables, clean_text
from ingest.tables import may_hold_table

# A .docx is a zip; these bound what python-docx may inflate before it opens it.
MAX_DOCX_UNCOMPRESSED = 200 * 1024 * 1024
MAX_DOCX_RATIO = 100
RATIO_CHECK_FLOOR = 1024 * 1024  # tiny members compress absurdly well and are harmless
# Resolved PDF objects are dropped this often so a huge PDF never sits in memory whole.
PDF_CACHE_PAGES = 25
SNIFF_BYTES = 64 * 1024
FOOTNOTE_SIZE_RATIO = 0.8


class ParseError(Exception):
    """A file that cannot be turned into text; str() is "<path>: <problem>"."""

    def __init__(self, path, problem: str):
        self.path = display_path(path)
        self.problem = problem
        super().__init__(f"{self.path}: {problem}")

    def __str__(self) -> str:
        return f"{self.path}: {self.problem}"


@dataclass
class Decoded:
    text: str
    encoding: str


def sniff_format(path: Path) -> str:
    """"pdf" | "docx" | "html" | "txt" | "md", judged by content first and extension second."""
    path = Path(path)
    with open(path, "rb") as handle:
        head = handle.read(SNIFF_BYTES)
    suffix = path.suffix.lower()
    if not head.strip():
        raise ParseError(path, "empty file")
    if b"%PDF-" in head[:1024]:
        return "pdf"
    if head.startswith(b"PK\x03\x04"):
        return _zip_format(path)
    if looks_like_text(head):
        from ingest.html import looks_like_html

        if looks_like_html(head, suffix):
            return "html"
        return "md" if suffix in {".md", ".markdown"} else "txt"
    if suffix == ".pdf":
        raise ParseError(path, "not a PDF: the file does not start with %PDF-")
    if suffix == ".docx":
        raise ParseError(path, "not a Word document: the file is not a zip archive")
    raise ParseError(path, "unrecognised binary file; expected PDF, Word (.docx), text or Markdown")


def _zip_format(path: Path) -> str:
    try:
        with zipfile.ZipFile(path) as archive:
            names = set(archive.namelist())
    except zipfile.BadZipFile as exc:
        raise ParseError(path, f"corrupt zip archive ({exc})") from exc
    if "word/document.xml" in names:
        return "docx"
    raise ParseError(path, "zip archive without word/document.xml; not a Word document")


def looks_like_text(head: bytes) -> bool:
    """True for bytes that decode as text with (almost) no control characters."""
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE, codecs.BOM_UTF8)):
        return True
    if b"\x00" in head:
        return False
    try:
        sample = head.decode("utf-8")
    except UnicodeDecodeError as exc:
        # A multi-byte character cut at the sample's end is still text.
        sample = head[: exc.start].decode("utf-8") if exc.start > len(head) - 4 else head.decode("cp1252", "replace")
    controls = sum(1 for ch in sample if ord(ch) < 32 and ch not in "\t\n\r\f")
    return controls <= len(sample) // 100


def decode_text(data: bytes) -> Decoded:
    """Text from bytes: BOMs first (UTF-8, UTF-16), then strict UTF-8, then Windows-1252."""
    for bom, encoding in ((codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16")):
        if data.startswith(bom):
            return Decoded(data.decode(encoding), encoding)
    try:
        return Decoded(data.decode("utf-8"), "utf-8")
    except UnicodeDecodeError:
        return Decoded(data.decode("cp1252", errors="replace"), "cp1252")


def parse_file(path: Path, limits: IngestSettings | None = None, ocr: OcrSettings | None = None) -> ParsedDocument:
    """Parse a paper; raises ParseError with a one-line reason when it cannot be read or exceeds `limits`.

    With `ocr`, PDF pages that have no text layer are read from their image (ingest.ocr).
    """
    path = Path(path)
    limits = limits or IngestSettings()
    if not path.is_file():
        raise ParseError(path, "no such file")
    fmt = sniff_format(path)
    if fmt == "pdf":
        pages, tables, warnings, ocr_pages = read_pdf(path, limits=limits, ocr=ocr)
        return ParsedDocument(doc_id=path.stem, path=str(path), format="pdf", pages=pages, has_pages=True, warnings=warnings,
                              tables=tables, ocr_pages=ocr_pages)
    if fmt == "html":
        from ingest.html import parse_html

        check_text_bytes(path, path.stat().st_size, limits)
        return parse_html(path)
    if fmt == "docx":
        text = read_docx_text(path)
        check_text_bytes(path, len(text.encode("utf-8")), limits)
        return ParsedDocument(doc_id=path.stem, path=str(path), format="docx", pages=[text], has_pages=False)
    check_text_bytes(path, path.stat().st_size, limits)
    return _parse_text(path, fmt)


def _parse_text(path: Path, fmt: str) -> ParsedDocument:
    decoded = decode_text(path.read_bytes())
    warnings = []
    if "\ufffd" in decoded.text:
        warnings.append(f"some bytes could not be decoded as {decoded.encoding}")
    text = clean_text(decoded.text)
    if not text.strip():
        raise ParseError(path, "empty file (only whitespace)")
    return ParsedDocument(doc_id=path.stem, path=str(path), format=fmt, pages=[text], has_pages=False, warnings=warnings)


# ---------------------------------------------------------------- PDF


def read_pdf_pages(path: Path, limits: IngestSettings | None = None, ocr: OcrSettings | None = None) -> tuple[list[str], list[str], list[int]]:
    """Cleaned text of each page, warnings and the pages OCR read (tables left in as loose text)."""
    pages, _, warnings, ocr_pages = read_pdf(path, tables=False, limits=limits, ocr=ocr)
    return pages, warnings, ocr_pages


def read_pdf(path: Path, tables: bool = True, limits: IngestSettings | None = None,
             ocr: OcrSettings | None = None) -> tuple[list[str], list[PdfTable], list[str], list[int]]:
    """Cleaned text of each page, the tables found, warnings, and the pages OCR read; the file is read lazily, page by page.

    The text comes from pypdf in reading order. Where a table was found its words are
    left out of the page text and a line TABLE_MARK + index stands in their place.
    With `ocr`, pages that have no text layer are read from their image (ingest.ocr).
    """
    from pypdf import PdfReader
    from pypdf.errors import DependencyError, FileNotDecryptedError, LimitReachedError, PdfReadError, PdfStreamError

    limits = limits or IngestSettings()
    layouts: list[PageLayout] = []
    warnings: list[str] = []
    text_bytes = 0
    with open(path, "rb") as handle, _quiet_pypdf(), pdf_stream_limits(limits), _limit_reached_as_parse_error(path, limits, LimitReachedError):
        try:
            reader = PdfReader(handle)
            _unlock(reader, path)
            count = len(reader.pages)
        except ParseError:
            raise
        except DependencyError as exc:
            raise ParseError(path, f"encrypted PDF needs a decryption library ({exc})") from exc
        except FileNotDecryptedError as exc:
            raise ParseError(path, "encrypted PDF; it needs a password") from exc
        except (PdfReadError, PdfStreamError, ValueError, KeyError, TypeError, AttributeError, RecursionError) as exc:
            raise ParseError(path, f"corrupt or truncated PDF ({_short(exc)})") from exc
        if count == 0:
            raise ParseError(path, "PDF has no pages")
        check_pdf_pages(path, count, limits)
        for number in range(count):
            try:
                layouts.append(page_layout(reader.pages[number], keep_fragments=tables))
            except LimitReachedError:
                raise
            except (PdfReadError, PdfStreamError, ValueError, KeyError, TypeError, AttributeError, RecursionError) as exc:
                if number == 0 and count == 1:
                    raise ParseError(path, f"corrupt or truncated PDF ({_short(exc)})") from exc
                warnings.append(f"page {number + 1} could not be read ({_short(exc)})")
                layouts.append(PageLayout("", [], 0))
            text_bytes += len(layouts[-1].text.encode("utf-8"))
            check_text_bytes(path, text_bytes, limits)
            if (number + 1) % PDF_CACHE_PAGES == 0:
                _drop_resolved_objects(reader)
    raw_pages = [layout.text for layout in layouts]
    ocr_pages, why_no_ocr = [], ""
    if ocr is not None and ocr.enabled:
        from ingest.ocr import recognise_blank_pages

        outcome = recognise_blank_pages(path, raw_pages, ocr)
        raw_pages, ocr_pages = outcome.pages, outcome.recognised
        warnings.extend(outcome.warnings)
        why_no_ocr = f" ({outcome.unavailable or next(iter(outcome.warnings), 'OCR found no text')})"
    if not any(page.strip() for page in raw_pages):
        raise ParseError(path, "no text layer; needs OCR" + why_no_ocr)
    blank = [str(i + 1) for i, page in enumerate(raw_pages) if not page.strip()]
    if blank:
        warnings.append(f"no text on page(s) {', '.join(blank)}")
    found = pdf_tables_or_warning(path, layouts, warnings) if tables else []
    if found:
        with_marks = pages_without_tables(layouts, found)
        table_pages = {page for table in found for page, _ in table.regions}
        raw_pages = [with_marks[i] if i + 1 in table_pages else text for i, text in enumerate(raw_pages)]
    return clean_pdf_pages(raw_pages), clean_tables(found, "\n".join(l.text for l in layouts)), warnings, ocr_pages


def pdf_tables_or_warning(path: Path, layouts: list["PageLayout"], warnings: list[str]) -> list[PdfTable]:
    """Tables on the pages the pre-check picks; a failure costs the tables, never the paper."""
    from ingest.tables import find_pdf_tables

    pages = [number for number, layout in enumerate(layouts, start=1) if layout.candidate]
    if not pages:
        return []
    try:
        return find_pdf_tables(path, pages)
    except Exception as exc:  # PDFium and the finders can fail in many ways on odd files
        warnings.append(f"tables could not be read ({type(exc).__name__}: {_short(exc)}); their text is kept as lines")
        return []


# ---------------------------------------------------------------- limits on one file's work
# Kept apart from the readers above: each check names the setting that raises it.


def _megabytes(count: int) -> str:
    return f"{count / (1024 * 1024):,.0f} MB"


def check_text_bytes(path: Path, count: int, limits: IngestSettings) -> None:
    if count > limits.max_text_bytes:
        raise ParseError(path, f"more than {_megabytes(limits.max_text_bytes)} of text; the limit is the setting "
                               f"ingest.max_text_bytes ({limits.max_text_bytes:,} bytes)")


def check_pdf_pages(path: Path, count: int, limits: IngestSettings) -> None:
    if count > limits.max_pdf_pages:
        raise ParseError(path, f"PDF has {count:,} pages; the limit is the setting ingest.max_pdf_pages ({limits.max_pdf_pages:,})")


def pdf_stream_limits(limits: IngestSettings):
    """pypdf's bounds on inflating one stream, set to ours for the duration of one file."""
    from pypdf import apply_configuration

    size = limits.max_stream_bytes
    return apply_configuration(
        maximum_declared_stream_length=size, zlib_maximum_output_length=size, lzw_maximum_output_length=size,
        run_length_maximum_output_length=size, jbig2_maximum_output_length=size, brotli_maximum_output_length=size,
        array_based_stream_maximum_output_length=size, image_maximum_buffer_size=size,
    )


class _limit_reached_as_parse_error:
    """pypdf's LimitReachedError (a decompression bomb, an absurd stream) as a ParseError naming the setting."""

    def __init__(self, path: Path, limits: IngestSettings, error_type: type):
        self.path, self.limits, self.error_type = path, limits, error_type

    def __enter__(self):
        return self

    def __exit__(self, kind, exc, tb):
        if kind is not None and issubclass(kind, self.error_type):
            raise ParseError(self.path, f"a compressed stream inflates past {_megabytes(self.limits.max_stream_bytes)} "
                                        f"({_short(exc)}); the limit is the setting ingest.max_stream_bytes") from exc
        return False


def _unlock(reader, path: Path) -> None:
    """Open an encrypted PDF with the empty user password, as viewers do."""
    if not reader.is_encrypted:
        return
    from pypdf import PasswordType

    if reader.decrypt("") == PasswordType.NOT_DECRYPTED:
        raise ParseError(path, "encrypted PDF; it needs a password")


def _drop_resolved_objects(reader) -> None:
    cache = getattr(reader, "resolved_objects", None)
    if isinstance(cache, dict):
        cache.clear()


def _short(exc: Exception) -> str:
    message = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return message[:160]


class _quiet_pypdf:
    """pypdf logs every repair it makes; those are not the reader's problem."""

    def __enter__(self):
        self.logger = logging.getLogger("pypdf")
        self.level = self.logger.level
        self.logger.setLevel(logging.ERROR)

    def __exit__(self, *exc):
        self.logger.setLevel(self.level)
        return False


@dataclass(slots=True)
class Fragment:
    text: str
    size: float
    x: float = 0.0  # where the fragment starts, in points from the page's top-left corner
    top: float = 0.0


@dataclass
class PageLayout:
    """What one pass of pypdf over a page gives: its text, its pieces with their places, and its drawn rules.

    Only a page that may hold a table keeps its pieces, so a long paper's text is held once.
    """

    text: str
    fragments: list[Fragment]
    rules: int  # line and rectangle operators: many of them suggest a ruled table
    candidate: bool = False  # the pre-check says it may hold a table


RULE_OPERATORS = {b"re", b"l"}


def page_layout(page, keep_fragments: bool = True) -> PageLayout:
    """pypdf's text pieces of a page (as extract_text joins them) with their font size and position."""
    fragments: list[Fragment] = []
    rules = 0
    box = page.mediabox
    left, top = float(box.left), float(box.top)

    def visit(text, cm, tm, font_dict, font_size):
        if text:
            x = tm[4] * cm[0] + tm[5] * cm[2] + cm[4]
            y = tm[4] * cm[1] + tm[5] * cm[3] + cm[5]
            fragments.append(Fragment(text, effective_font_size(font_size, cm, tm), x - left, top - y))

    def count_rules(operator, args, cm, tm):
        nonlocal rules
        if operator in RULE_OPERATORS:
            rules += 1

    page.extract_text(visitor_text=visit, visitor_operand_before=count_rules)
    text = "".join(_marked_fragments(fragments))
    candidate = keep_fragments and may_hold_table(text, rules)
    return PageLayout(text, fragments if candidate else [], rules, candidate)


def page_text_with_footnotes(page) -> str:
    """pypdf's text for a page, with footnote markers set apart: "38" + small "1" -> "38[1]".

    The visitor sees exactly the pieces extract_text joins, with their font size,
    so a digit set in a clearly smaller font right after a word or number is a
    footnote reference rather than part of it.
    """
    return page_layout(page, keep_fragments=False).text


def in_region(fragment: Fragment, box: tuple[float, float, float, float], slack: float = 1.5) -> bool:
    """Whether a text piece starts inside a table's area (its baseline lies a little below its middle)."""
    x0, top, x1, bottom = box
    middle = fragment.top - 0.3 * fragment.size
    return x0 - slack <= fragment.x + 0.5 <= x1 + slack and top - slack <= middle <= bottom + slack


def pages_without_tables(layouts: list[PageLayout], tables: list[PdfTable]) -> list[str]:
    """Page texts with each table's words left out and its mark line where the table begins."""
    from ingest.tables import TABLE_MARK

    regions: dict[int, list[tuple[int, tuple[float, float, float, float], bool]]] = {}
    for index, table in enumerate(tables):
        for position, (page, box) in enumerate(table.regions):
            regions.setdefault(page, []).append((index, box, position == 0))
    pages = []
    for number, layout in enumerate(layouts, start=1):
        if number not in regions:
            pages.append(layout.text)
            continue
        kept: list[Fragment] = [] if layout.fragments else [Fragment(layout.text, -1.0)]
        marked: set[int] = set()
        dropped = False
        for fragment in layout.fragments:
            hit = next(((i, first) for i, box, first in regions[number] if in_region(fragment, box)), None)
            if hit is None:
                if dropped and kept and not kept[-1].text.endswith("\n"):
                    kept.append(Fragment("\n", -1.0))  # the table's lines ended the line before
                kept.append(fragment)
                dropped = False
                continue
            index, first = hit
            dropped = True
            if first and index not in marked:
                marked.add(index)
                kept.append(Fragment(f"\n{TABLE_MARK}{index}\n", -1.0))
        for index, _, first in regions[number]:
            if first and index not in marked:  # no text piece fell inside it: the table goes at the page's end
                marked.add(index)
                kept.append(Fragment(f"\n{TABLE_MARK}{index}\n", -1.0))
        pages.append("".join(_marked_fragments(kept)))
    return pages


def effective_font_size(font_size: float, cm, tm) -> float:
    scale = math.hypot(tm[2], tm[3]) * math.hypot(cm[2], cm[3])
    return font_size * (scale or 1.0)


def _marked_fragments(fragments: list[Fragment]) -> list[str]:
    out: list[str] = []
    for index, fragment in enumerate(fragments):
        previous = fragments[index - 1] if index else None
        if previous and _is_footnote_marker(fragment, previous):
            out.append(f"[{fragment.text}]")
        else:
            out.append(fragment.text)
    return out


def _is_footnote_marker(fragment: Fragment, previous: Fragment) -> bool:
    return (
        re.fullmatch(r"\d{1,2}", fragment.text) is not None
        and previous.text[-1:].isalnum()
        and fragment.size < FOOTNOTE_SIZE_RATIO * previous.size
    )


# ---------------------------------------------------------------- DOCX


def check_zip_bounds(path: Path) -> None:
    """Refuse archives whose directory promises more inflation than any real document needs.

    zipfile never inflates a member past the size its directory entry declares
    (a lie there fails the CRC check), so checking the declared sizes bounds the work.
    """
    try:
        with zipfile.ZipFile(path) as archive:
            members = archive.infolist()
    except zipfile.BadZipFile as exc:
        raise ParseError(path, f"corrupt Word document ({exc})") from exc
    total = sum(member.file_size for member in members)
    if total > MAX_DOCX_UNCOMPRESSED:
        raise ParseError(path, f"Word document would inflate to {total // (1024 * 1024)} MB; refusing a possible zip bomb")
    for member in members:
        ratio = member.file_size / max(member.compress_size, 1)
        if member.file_size > RATIO_CHECK_FLOOR and ratio > MAX_DOCX_RATIO:
            raise ParseError(path, f"{member.filename} compresses {ratio:.0f}:1; refusing a possible zip bomb")


def read_docx_text(path: Path) -> str:
    """Paragraphs and tables in document order; headings as "# " lines, table rows tab-separated."""
    import docx
    from docx.table import Table
    from docx.text.paragraph import Paragraph

    check_zip_bounds(path)
    try:
        document = docx.Document(str(path))
    except Exception as exc:  # python-docx raises many kinds for a broken package
        raise ParseError(path, f"corrupt Word document ({_short(exc)})") from exc
    parts: list[str] = []
    for item in document.iter_inner_content():
        if isinstance(item, Paragraph):
            line = docx_paragraph_line(item)
            if line:
                parts.append(line)
        elif isinstance(item, Table):
            parts.append("\n".join(docx_table_rows(item)))
    text = "\n\n".join(part for part in parts if part.strip())
    if not text.strip():
        raise ParseError(path, "Word document has no text")
    return text


def docx_paragraph_line(paragraph) -> str:
    text = " ".join(paragraph.text.split())
    style = (paragraph.style.name if paragraph.style is not None else "") or ""
    level = heading_level(style)
    return f"{'#' * level} {text}" if text and level else text


def heading_level(style_name: str) -> int:
    if style_name == "Title":
        return 1
    match = re.fullmatch(r"Heading (\d)", style_name)
    return int(match.group(1)) if match else 0


def docx_table_rows(table) -> list[str]:
    rows = []
    for row in table.rows:
        cells, seen = [], set()
        for cell in row.cells:
            if id(cell._tc) in seen:  # a merged cell is reported once per grid column
                continue
            seen.add(id(cell._tc))
            cells.append(" ".join(cell.text.split()))
        if any(cells):
            rows.append("\t".join(cells))
    return rows
