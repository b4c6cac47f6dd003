"""What the table finders read off PDF pages with PDFium: words, spaces, hyphens, form objects, bold rows."""
from __future__ import annotations

from pathlib import Path

from ingest.pdfpage import open_document, page_content
from ingest.tables import find_pdf_tables, words_lines

ROOT = Path(__file__).resolve().parent.parent
OUTTURN = ROOT / "corpus" / "west-of-england-ca_2026-06_mca-committee_budget-outturn-2025-26.pdf"
INVESTMENT = ROOT / "corpus" / "west-of-england-ca_2026-06_mca-committee_investment-fund-programme.pdf"
MINUTES = ROOT / "corpus" / "bristol-city_2026-03_transport-connectivity-policy-committee_printed-minutes.pdf"


def test_spaces_printed_as_blank_objects_still_part_words():
    # This paper prints every glyph, spaces included, as its own text object; PDFium's text drops many
    # of the spaces, and the gaps left are narrower than a cell's word gap.
    table = find_pdf_tables(OUTTURN, [3])[0]
    assert table.header[0] == "Revenue Budget"
    labels = [row[0] for row in table.rows]
    assert "Homes & Regeneration" in labels and "Grant Management & Assurance" in labels


def test_an_empty_text_object_inside_a_word_does_not_split_it():
    labels = [row[0] for t in find_pdf_tables(INVESTMENT, [17]) for row in t.rows]
    assert "Business Case Development" in labels


def test_a_hyphen_ending_a_line_stays_in_the_cell():
    # PDFium marks "Sanchez-" at a line's end as a line-break hyphen; the cell keeps it as printed.
    statements = next(t for t in find_pdf_tables(MINUTES, [2, 3]) if t.header == ["Ref No", "Name", "Title"])
    names = [row[1] for row in statements.rows]
    assert "Professor Albert Sanchez-\nGraells" in names


def test_page_words_keep_their_order_and_place():
    document = open_document(OUTTURN)
    try:
        page = page_content(document, 3)
    finally:
        document.close()
    line = next(l for l in words_lines(page) if l.text.startswith("Homes & Regeneration"))
    assert line.phrases[0].text == "Homes & Regeneration"
    assert 95 < line.phrases[0].x0 < line.phrases[0].x1 < line.phrases[1].x0  # the label, then its figures to the right
    assert all(p.top < p.bottom <= page.height for p in line.phrases)


def test_a_table_drawn_inside_a_form_object_is_found_where_the_page_shows_it(tmp_path):
    # The grid and its text sit in a form XObject moved by both the page's cm and the form's /Matrix.
    grid = b"0.5 w 0 0 200 90 re S 100 0 m 100 90 l S 0 30 m 200 30 l S 0 60 m 200 60 l S\n"
    text = cells_text([("Service", "Budget"), ("Libraries", "4.1"), ("Highways", "12.0")], font=b"/F1")
    path = tmp_path / "form.pdf"
    path.write_bytes(pdf_bytes([
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 400 300] /Resources << /XObject << /Fm1 5 0 R >> >> /Contents 6 0 R >>",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
        stream(b"/Type /XObject /Subtype /Form /BBox [0 0 200 90] /Matrix [1 0 0 1 10 20] /Resources << /Font << /F1 4 0 R >> >>",
               grid + text),
        stream(b"", b"q 1 0 0 1 50 150 cm /Fm1 Do Q"),
    ]))
    [table] = find_pdf_tables(path, [1])
    assert table.bbox == (60.0, 40.0, 260.0, 130.0)  # x 50+10, top 300-(150+20+90): points from the page's top-left
    assert table.header == ["Service", "Budget"]
    assert table.rows == [["Libraries", "4.1"], ["Highways", "12.0"]]


def test_a_bold_first_row_of_years_is_the_header(tmp_path):
    grid = b"0.5 w 0 0 300 90 re S 100 0 m 100 90 l S 200 0 m 200 90 l S 0 30 m 300 30 l S 0 60 m 300 60 l S\n"
    years = cells_text([("", "2023", "2024")], font=b"/F2")
    body = cells_text([("Libraries", "4.1", "4.3"), ("Highways", "12.0", "11.2")], font=b"/F1", first_row=1)
    path = tmp_path / "bold.pdf"
    path.write_bytes(pdf_bytes([
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 400 300] /Resources << /Font << /F1 4 0 R /F2 5 0 R >> >> /Contents 6 0 R >>",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica-Bold >>",
        stream(b"", b"q 1 0 0 1 50 150 cm " + grid + years + body + b" Q"),
    ]))
    [table] = find_pdf_tables(path, [1])
    assert table.header == ["", "2023", "2024"]
    assert table.rows == [["Libraries", "4.1", "4.3"], ["Highways", "12.0", "11.2"]]


def cells_text(rows: list[tuple[str, ...]], font: bytes, first_row: int = 0) -> bytes:
    """Text drawing each cell of 100 x 30 point rows, the first row at the top of a 90-point grid."""
    shows = []
    for number, row in enumerate(rows, start=first_row):
        for column, cell in enumerate(row):
            if cell:
                shows.append(b"1 0 0 1 %d %d Tm (%s) Tj" % (100 * column + 5, 70 - 30 * number, cell.encode()))
    return b"BT " + font + b" 10 Tf " + b" ".join(shows) + b" ET\n"


def stream(dictionary: bytes, data: bytes) -> bytes:
    return b"<< " + dictionary + b" /Length %d >>\nstream\n" % len(data) + data + b"\nendstream"


def pdf_bytes(objects: list[bytes]) -> bytes:
    """A PDF file of the given objects (numbered from 1, the first the catalog) with its cross-reference table."""
    out = bytearray(b"%PDF-1.7\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)
