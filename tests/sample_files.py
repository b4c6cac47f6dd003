"""Real files built for tests: PDFs with a text layer, and a Word file that is a zip bomb."""
from __future__ import annotations

import zipfile
from pathlib import Path

from pypdf import PdfWriter
from pypdf.generic import DecodedStreamObject, DictionaryObject, NameObject


def text_pdf(path: Path, pages: list[list[str]], user_password: str | None = None) -> Path:
    """A real PDF with a Helvetica text layer, one list of lines per page."""
    writer = PdfWriter()
    font = DictionaryObject({
        NameObject("/Type"): NameObject("/Font"),
        NameObject("/Subtype"): NameObject("/Type1"),
        NameObject("/BaseFont"): NameObject("/Helvetica"),
    })
    font_ref = writer._add_object(font)
    for lines in pages:
        page = writer.add_blank_page(width=595, height=842)
        ops = ["BT", "/F1 11 Tf", "14 TL", "50 800 Td"]
        for line in lines:
            escaped = line.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")
            ops.append(f"({escaped}) Tj T*")
        ops.append("ET")
        stream = DecodedStreamObject()
        stream.set_data("\n".join(ops).encode("latin-1"))
        page[NameObject("/Contents")] = writer._add_object(stream)
        page[NameObject("/Resources")] = DictionaryObject({
            NameObject("/Font"): DictionaryObject({NameObject("/F1"): font_ref})
        })
    if user_password is not None:
        writer.encrypt(user_password=user_password, owner_password="owner", algorithm="RC4-128")
    with open(path, "wb") as handle:
        writer.write(handle)
    return path


def zip_bomb_docx(path: Path) -> Path:
    """Under 1 MB on disk, 64 MB once inflated."""
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        with archive.open("word/document.xml", "w", force_zip64=True) as member:
            block = b"\0" * (1024 * 1024)
            for _ in range(64):
                member.write(block)
    return path


def flate_bomb_pdf(path: Path, inflated_mb: int = 200) -> Path:
    """A one-page PDF whose content stream is about 0.2 MB on disk and `inflated_mb` MB once inflated."""
    import zlib

    from pypdf.generic import EncodedStreamObject

    compressor = zlib.compressobj(9)
    block = b" " * (1024 * 1024)
    data = b"".join(compressor.compress(block) for _ in range(inflated_mb)) + compressor.flush()
    writer = PdfWriter()
    page = writer.add_blank_page(width=595, height=842)
    stream = EncodedStreamObject()
    stream[NameObject("/Filter")] = NameObject("/FlateDecode")
    stream._data = data
    page[NameObject("/Contents")] = writer._add_object(stream)
    font = DictionaryObject({NameObject("/Type"): NameObject("/Font"), NameObject("/Subtype"): NameObject("/Type1"),
                             NameObject("/BaseFont"): NameObject("/Helvetica")})
    page[NameObject("/Resources")] = DictionaryObject({
        NameObject("/Font"): DictionaryObject({NameObject("/F1"): writer._add_object(font)})
    })
    with open(path, "wb") as handle:
        writer.write(handle)
    return path


def long_pdf(path: Path, pages: int, lines_per_page: int = 40) -> Path:
    """An agenda pack of `pages` pages: a running header, numbered paragraphs of the seed papers' text, a page counter."""
    import textwrap

    corpus = Path(__file__).resolve().parent.parent / "corpus"
    text = " ".join(" ".join(p.read_text(encoding="utf-8", errors="ignore").split()) for p in sorted(corpus.glob("*.txt")))
    text = text.encode("latin-1", "replace").decode("latin-1")  # the test PDFs use a Latin-1 font encoding
    lines = textwrap.wrap(text, 95)
    body, cursor = [], 0
    for page in range(pages):
        rows = ["Cabinet Agenda Pack - 4 March 2025", f"{page + 1}. Item {page + 1}"]
        for _ in range(lines_per_page):
            rows.append(lines[cursor % len(lines)])
            cursor += 1
        rows.append(f"Page {page + 1} of {pages}")
        body.append(rows)
    return text_pdf(path, body)
