"""Tables as tables: cells from the real papers' PDFs, Word, tab-separated and Markdown tables, one line per row."""
from __future__ import annotations

from pathlib import Path

import docx
import pytest

from core.settings import ChunkSettings, load_settings
from evaluation.tables import load_truth, score_extraction
from ingest.chunk import chunk_blocks
from ingest.parse import parse_file
from ingest.structure import blocks_from_document
from ingest.tables import (Phrase, TextLine, find_pdf_tables, is_running, is_value_line, printed_heights, reads_as_prose,
                           row_line, with_group_headings, wrapped_lead_in)

ROOT = Path(__file__).resolve().parent.parent
FINANCE = ROOT / "corpus" / "kent_2025-01_cabinet_finance-monitoring-q3-2024-25.pdf"
MINUTES = ROOT / "corpus" / "bristol-city_2025-10_transport-connectivity-policy-committee_printed-minutes.pdf"
FORWARD_PLAN = ROOT / "corpus" / "bristol-city_2026-01_transport-connectivity-policy-committee_forward-plan.pdf"
FUND_PROGRAMME = ROOT / "corpus" / "west-of-england-ca_2026-06_mca-committee_investment-fund-programme.pdf"
TRANSPORT = ROOT / "corpus" / "west-of-england-ca_2026-03_mca-committee_transport-report.pdf"
OUTTURN = ROOT / "corpus" / "west-of-england-ca_2026-06_mca-committee_budget-outturn-2025-26.pdf"
PERFORMANCE = ROOT / "corpus" / "kent_2025-03_cabinet_quarterly-performance-report-q3-2024-25.pdf"
EXECUTIVE_RESPONSE = ROOT / "corpus" / "kent_2025-03_council_family-hubs-executive-response.pdf"
COSTINGS = ROOT / "corpus" / "004_b4e36d0c51f0492b.txt"
TRUTH = ROOT / "tests" / "data" / "tables_truth.json"
# Measured on tests/data/tables_truth.json (docs/tables.md): 356 of 374 cells, 19 of 20 tables, 1 spurious.
CELL_ACCURACY_FLOOR = 0.93
FOUND_FLOOR = 18
SPURIOUS_CEILING = 2
CYPE = "Children, Young People & Education | Revenue Budget: 430.6 | Revenue Forecast: 420.8 | Revenue Variance: -9.9 | % Variance: -2.3%"


@pytest.fixture(scope="module")
def finance():
    return parse_file(FINANCE)


@pytest.fixture(scope="module")
def finance_blocks(finance):
    return blocks_from_document(finance)


def test_kent_finance_table_pairs_each_directorate_with_its_columns(finance_blocks):
    # Page 5 prints "Directorate Revenue Revenue Revenue %" at its foot; page 6 the second header line and the rows.
    table = next(b for b in finance_blocks if b.kind == "table" and CYPE in b.text.split("\n"))
    assert table.header[1:] == ["Revenue Budget", "Revenue Forecast", "Revenue Variance", "% Variance"]
    assert table.caption.endswith("(All figures in £m)")
    row = table.rows.index(next(r for r in table.rows if r[0] == "Children, Young People & Education"))
    assert table.row_pages[row] == 6 and table.page == 5


def test_a_table_continued_over_a_page_keeps_its_header():
    # Bristol's forward plan repeats its header on every page, and a row runs over from page 5 to page 6.
    plan = find_pdf_tables(FORWARD_PLAN, [5, 6])
    assert len(plan) == 1
    table = plan[0]
    assert table.header == ["Lead Officer", "Title and summary of Decision", "Meeting date", "Decision taker", "Report Type"]
    settlement = next(i for i, r in enumerate(table.rows) if " ".join(r[1].split()).startswith("City Regional Sustainable Transport Settlement"))
    assert table.row_pages[settlement] == 6
    assert "| Meeting date: 5 Feb 2026 | Decision taker: Transport & Connectivity Policy Committee | Report Type: Decision Report" in (
        row_line(table.header, table.rows[settlement], settlement + 1))
    assert not any(r[0] == "Lead Officer" for r in table.rows)  # the repeated header is not a row
    bus_stops = next(r for r in table.rows if " ".join(r[1].split()).startswith("Early delivery bus stop scheme"))
    assert "maximum budget" in " ".join(bus_stops[1].split())  # the part printed on page 6 stays with its row


def test_a_row_run_over_a_page_break_does_not_head_the_next_page():
    # Kent's significant variances run from page 12 to 14. Page 13 opens with the end of page 12's last Detail cell
    # ("2 special schools). A contingency ..."), which looks like a header, and each page draws the columns a few
    # points apart: the rows of pages 13 and 14 still pair each figure with its column.
    variances = next(t for t in find_pdf_tables(FINANCE, [12, 13, 14]) if t.header and t.header[0] == "Key Service")
    assert variances.header == ["Key Service", "Revenue Budget", "Revenue Forecast", "Revenue Variance", "Summary", "Detail"]
    care_leavers = next(i for i, r in enumerate(variances.rows) if r[0].startswith("Care Leavers"))
    assert variances.row_pages[care_leavers] == 13
    # Its label and summary end below the table, at the foot of page 13.
    assert " ".join(row_line(variances.header, variances.rows[care_leavers], care_leavers + 1).split()).startswith(
        "Care Leavers Service | Revenue Budget: 5.6 | Revenue Forecast: 4.7 | Revenue Variance: -0.9 | Summary: Lower number "
        "& average cost of placements")
    assert any(r[0] == "Family Hubs" and r[3] == "-1.2" for r in variances.rows)  # page 14, printed without a header
    home_to_school = next(r for r in variances.rows if r[0].startswith("Home to School"))
    assert home_to_school[-1].endswith("before the end of the financial year.")  # the run-over text stays with its row
    assert not any("special schools" in header for header in variances.header)


def test_a_row_s_lines_printed_outside_the_table_across_a_page_break_stay_with_the_row():
    # Page 16's last row, "Highway Assets" / "Management", runs below the table to the foot of the page and on over
    # eleven lines above page 17's table, which therefore starts a third of the way down: those lines end the row,
    # and the rows of page 17 keep the column names of page 16.
    variances = next(t for t in find_pdf_tables(FINANCE, [16, 17]) if t.header and t.header[0] == "Key Service")
    highways = next(r for r in variances.rows if r[0].startswith("Highway Assets"))
    assert " ".join(highways[0].split()) == "Highway Assets Management"
    detail = " ".join(highways[-1].split())
    assert "a significant overspend (+£0.9m)" in detail and "Pressures continue to be reported" in detail
    assert detail.endswith("as well as additional income (-£1.9m)")
    residual = next(i for i, r in enumerate(variances.rows) if r[0] == "Residual Waste")
    assert variances.row_pages[residual] == 17
    assert row_line(variances.header, variances.rows[residual], residual + 1).startswith(
        "Residual Waste | Revenue Budget: 52.6 | Revenue Forecast: 53.4 | Revenue Variance: +0.8 | Summary: Increased tonnes")
    # Bristol's statements: a name run over the page break stays with its row, and the footer printed under the
    # table on every page ("policycommittees@bristol.gov.uk") is no row's end.
    statements = next(t for t in find_pdf_tables(MINUTES, list(range(1, 16))) if t.rows and any(r[0] == "30" for r in t.rows))
    assert any(" ".join(r[1].split()) == "Councillors Tony Dyer and Christine Townsend" for r in statements.rows)
    assert not any("policycommittees@bristol.gov.uk" in cell for row in statements.rows for cell in row)


def table_row_lines(blocks) -> list[str]:
    return [line for block in blocks if block.kind == "table" for line in block.text.split("\n")]


def test_a_page_that_repeats_the_header_above_the_end_of_the_last_row_continues_the_table(finance_blocks):
    # Kent's variances, pages 8 to 10: page 9 prints the header again, then the end of page 8's last row (its
    # label's last lines, its Summary and Detail), then its own rows; page 10 likewise. The run-over ends the row
    # it belongs to, and the rows below read with their column names.
    lines = table_row_lines(finance_blocks)
    carers = next(l for l in lines if l.startswith("Adult Learning Disability - Community Based Services & Support for Carers | "))
    assert "Summary: Increases in Supported Living care packages" in carers
    assert carers.endswith("-£0.8m estimated benefit from unrealised creditors from the previous financial year.")
    assert any(l.startswith("Adult Physical Disability - Residential Care Services | Revenue Budget: 24.5 | Revenue Forecast: 28.8 | "
                            "Revenue Variance: +4.3 | Summary: Activity pressures beyond budgeted levels | Detail: +£3.6m") for l in lines)
    case_management = next(l for l in lines if l.startswith("Adult Case Management & Assessment Services | Revenue Budget: 40.7"))
    assert case_management.endswith("additional posts recruited to drive service improvement and organisational change.")
    assert any(l.startswith("Older People & Physical Disability Carer Support - Commissioned | Revenue Budget: 1.7 | Revenue "
                            "Forecast: 2.6 | Revenue Variance: +0.9 | Summary: Activity pressures beyond budgeted levels | Detail: "
                            "Increasing levels") for l in lines)


def test_a_units_note_over_one_column_is_the_tables_caption_not_a_column_heading(finance_blocks):
    # Kent's reserves print "All figures in £m" above the header, over the Projected Balance column.
    reserves = next(b for b in finance_blocks if b.kind == "table" and "General Fund (including Commercial" in b.text)
    assert reserves.caption == "7 | Reserves Monitoring (All figures in £m)"
    assert ("General Fund (including Commercial Services General Fund) | Opening Balance 01/04/24: -43.0 | Forecast "
            "Contribution / Drawdown: 7.1 | Projected Balance 31/03/25: -35.9 | Details of key movements: ") in reserves.text


def test_a_leading_row_of_years_heads_the_columns():
    # WECA's development programme heads its columns "2026/27 (£)" over two rows; Kent's High Needs costs "20-21" ...
    programme = find_pdf_tables(TRANSPORT, [10])
    table = next(t for t in programme if t.header[0] == "Development projects")
    assert table.header == ["Development projects", "2026/27 (£)", "2027/28 (£)"]
    henbury = next(i for i, r in enumerate(table.rows) if r[0].startswith("Henbury Line"))
    assert row_line(table.header, table.rows[henbury], henbury + 1).endswith("| 2026/27 (£): 750,000 | 2027/28 (£): 1,500,000")
    costs = next(t for t in find_pdf_tables(FINANCE, [27, 28]) if t.header[0] == "£s per pupil")
    assert costs.header[1:] == ["20-21", "21-22", "22-23", "23-24", "24-25"]
    assert ["Independent Schools", "£43,734", "£44,799", "£44,911", "£46,894", "£50,018"] in costs.rows


def test_a_line_of_years_between_the_column_headings_and_the_rows_heads_the_columns():
    # WECA's reserves print "Balance ... Movement Balance", then "2022/23 ... 2025/26 2025/26", then "£000's": the
    # years were read as the table's first row, and every balance was headed "Balance" alone.
    reserves = next(t for t in find_pdf_tables(OUTTURN, [23]) if any(r[0] == "Programme Risk Reserve" for r in t.rows))
    assert reserves.header[1:] == ["Balance 2022/23 £000's", "Balance 2023/24 £000's", "Balance 2024/25 £000s",
                                   "Movement 2025/26 £000s", "Balance 2025/26 £000s"]
    risk = reserves.rows.index(next(r for r in reserves.rows if r[0] == "Programme Risk Reserve"))
    assert row_line(reserves.header, reserves.rows[risk], risk + 1).endswith(
        "| Movement 2025/26 £000s: 10,861 | Balance 2025/26 £000s: 15,040")
    assert reserves.rows[0][0] == "Total Usable General Reserves*"


def phrases_at(*texts: str, top: float = 100.0) -> TextLine:
    return TextLine(top, top + 9, [Phrase(text, 72 + 80 * i, 110 + 80 * i, top, top + 9) for i, text in enumerate(texts)])


def test_a_line_of_periods_alone_is_not_a_row_of_values():
    assert not is_value_line(phrases_at("2022/23", "2023/24", "2024/25"))
    assert not is_value_line(phrases_at("Dec-23", "Mar-24", "Jun-24"))
    assert is_value_line(phrases_at("Redundancy Reserve", "389", "2,000"))
    assert is_value_line(phrases_at("2023/24", "389", "2,000")), "a row labelled by its year still holds values"


def test_a_heading_drawn_across_several_columns_heads_each_of_them():
    # Kent's road casualties draw "2024/25" over Fatal, Serious, Slight and Total, and so on for two more years.
    casualties = next(t for t in find_pdf_tables(PERFORMANCE, [24]) if any("Serious" in h for h in t.header))
    assert casualties.header[1:3] == ["2024/25 Serious", "2024/25 Slight"]
    assert casualties.header[5:7] == ["2023/24 Serious", "2023/24 Slight"]
    assert casualties.rows[0][1] == "215"


@pytest.mark.parametrize("rows, first", [
    # a grid has no cell (None) under a heading drawn across columns that the row below names one by one
    ([["Service", "2024/25", None, "2023/24", None], ["", "Budget", "Spend", "Budget", "Spend"], ["Roads", "10", "9", "8", "7"]],
     ["Service", "2024/25", "2024/25", "2023/24", "2023/24"]),
    # a title across the whole table is its caption, not every column's heading
    ([["Table 3: Costs", None, None], ["Service", "Budget", "Spend"], ["Roads", "10", "9"]], ["Table 3: Costs", None, None]),
    # a project card: no row below names the spanned column
    ([["Project", "Bath River Line", None], ["Description", "A linear park", None], ["Funding", "£1,765,000", None]],
     ["Project", "Bath River Line", None]),
    # no figures under it: a form, left as drawn
    ([["Name", "Item", None], ["", "Title", "Date"], ["Ann", "Roads", "Parks"]], ["Name", "Item", None]),
])
def test_a_group_heading_is_given_to_the_columns_under_it_that_a_row_below_names(rows, first):
    assert with_group_headings(rows)[0] == first
    assert with_group_headings(rows)[1:] == rows[1:]


def test_a_table_introduced_by_a_wrapped_sentence_is_captioned_by_the_whole_sentence():
    # Kent's family-hub response introduces each table with a sentence whose last line alone was the caption
    # ("2025 indicates:"), so the Focussed Support figures were not known as such.
    tables = find_pdf_tables(EXECUTIVE_RESPONSE, [8, 9])
    focused = next(t for t in tables if any("Focus Support Interventions" in h for h in t.header))
    assert focused.caption.startswith("The analysis of data for Focussed Support Interventions where the origin")
    assert focused.caption.endswith("for the period 1 June 2024 to 31 January 2025 indicates:")


@pytest.mark.parametrize("nearby, caption", [
    (["maturities beyond the period end were:", "risk. The limits on the long-term principal sum invested to final",
      "8.12 Principal sums invested for periods longer than a year: control the exposure to"],
     "The limits on the long-term principal sum invested to final maturities beyond the period end were:"),
    # a short line above is a heading or a page number, not the sentence's start
    (["68 statements were received and noted as follows:", "Public Statements"], "68 statements were received and noted as follows:"),
    (["2025 indicates:", "for the period 1 June 2024 to 31 January", "1"], "for the period 1 June 2024 to 31 January 2025 indicates:"),
    # a line ending a sentence of its own is where the lead-in starts
    (["revenue impact was:", "The upper limits on the one-year", "This indicator is set to control the risk."],
     "The upper limits on the one-year revenue impact was:"),
])
def test_a_wrapped_lead_in_is_read_back_to_the_start_of_its_sentence(nearby, caption):
    assert wrapped_lead_in(nearby) == caption


def test_a_second_header_after_a_blank_line_starts_a_table_of_its_own():
    # West Sussex's costings: a Year 2 table under the Year 1 table, laid out alike. Read as one table, Year 2's
    # £798,000 was headed "Year 1 costs (09-10)".
    header = "COSTS\tYear {n} costs\tBENEFITS\tYear {n} benefits"
    text = "\n".join([header.format(n=1), "Family Resource Team\t£584,000\tFewer LAC\t£980,000", "",
                      header.format(n=2), "Family Resource Team\t£798,000\tFewer LAC\t£3,438,000", "",
                      header.format(n=2), "Fostering service\t£135,000\tMore in-house\t£624,000"]) + "\n"
    tables = [b for b in blocks_from_document(_text_document(text)) if b.kind == "table"]
    assert [t.text.split("\n")[1:] for t in tables] == [
        ["Family Resource Team | Year 1 costs: £584,000 | BENEFITS: Fewer LAC | Year 1 benefits: £980,000"],
        ["Family Resource Team | Year 2 costs: £798,000 | BENEFITS: Fewer LAC | Year 2 benefits: £3,438,000",
         "Fostering service | Year 2 costs: £135,000 | BENEFITS: More in-house | Year 2 benefits: £624,000"],
    ], "a header printed again unchanged continues its table"
    costings = "\n".join(b.text for b in blocks_from_document(parse_file(COSTINGS)) if b.kind == "table")
    assert "Expansion of Family Resource Team – Full Yr effect 15.8fte | Year 2 costs (10-11): £798,000" in costings


def test_a_row_under_a_missing_top_border_keeps_all_its_cells():
    # WECA's cladding allocation runs onto page 10, where the top border is drawn over two of the four columns only.
    cladding = next(t for t in find_pdf_tables(FUND_PROGRAMME, [9, 10]) if t.header == ["Organisation", "2026/27", "2027/28", "Total"])
    assert ["Avon Fire and Rescue\nService", "£381,353", "£260,729", "£642,082"] in cladding.rows
    assert cladding.row_pages[-2:] == [10, 10]


def test_a_cell_drawn_over_several_rows_stays_with_its_first_row():
    # WECA's food-hub table draws one tall cell for Bristol's ten-year figures; the rows under it must not repeat them.
    hub = next(t for t in find_pdf_tables(FUND_PROGRAMME, [6]) if t.rows and t.rows[0][0] == "Bristol")
    assert sum("1,804" in " ".join(row) for row in hub.rows) == 1


def test_a_headerless_continuation_takes_the_header_of_the_page_before():
    # Bristol's public statements run from page 2 (with "Ref No | Name | Title") to page 3, which has no header row.
    statements = next(t for t in find_pdf_tables(MINUTES, [2, 3]) if t.header == ["Ref No", "Name", "Title"])
    evie = statements.rows.index(next(r for r in statements.rows if r[1] == "Evie Smets"))
    # cells keep their printed line breaks until the paper's vocabulary cleans them (ingest.clean.clean_tables)
    assert statements.row_pages[evie] == 3
    assert row_line(statements.header, statements.rows[evie], evie + 1) == (
        "Evie Smets | Ref No: 14 | Title: Views and concerns around South Bristol Liveable Neighbourhoods")


def test_a_numbered_title_above_a_table_is_its_caption_once(finance_blocks):
    # Page 27 sets three tables under titles: "Table 4: …" wraps over two lines, "Table 5: …" ends with a full stop.
    tables = [b for b in finance_blocks if b.kind == "table" and b.page == 27]
    captions = [t.caption for t in tables]
    assert captions == [
        "Table 3: Total Spend on High Needs Block by main spend type (All figures in £m)",
        "Table 4: Average number of HNB funded pupils receiving individualised SEN Support/placements. "
        "This is not the total number of children with SEN or number of EHCPs",
        "Table 5: Average cost of pupils funded from the HNB and receiving individualised SEN Support or placement cost.",
    ]
    assert [t.heading for t in tables] == [c.removesuffix(" (All figures in £m)") for c in captions]
    # The titles are not left behind as paragraphs of their own.
    assert not any(b.kind != "table" and b.text.startswith(("Table 3:", "Table 4:", "Table 5:")) for b in finance_blocks)


def test_a_title_printed_in_a_drawn_tables_first_row_is_its_caption():
    # WECA's transport report draws "Table 16 - BCC allocations" as a row across the top of the table.
    allocations = next(t for t in find_pdf_tables(TRANSPORT, [34]) if t.header and t.header[0] == "Project")
    assert allocations.caption == "Table 16 - BCC allocations"
    assert allocations.header == ["Project", "Previous Baseline (£m)", "Revised Baseline (£m)", "Variance (£m)"]


def test_a_caption_between_two_drawn_tables_keeps_them_apart():
    # Page 36 ends Table 17 (current milestones) and, under the line "Table 18 - BCC Milestones revised.", starts
    # Table 18 with the same columns, 28 points lower: two tables, the second under its own caption.
    tables = find_pdf_tables(TRANSPORT, [35, 36, 37])
    current = next(t for t in tables if t.caption.startswith("Table 17"))
    revised = next(t for t in tables if t.caption.startswith("Table 18"))
    assert ["Bond Street", "May-25", "N/A", "Feb-26", "Mar-27"] in current.rows
    assert ["Bond Street", "Jun-26", "Nov-26", "Apr-27", "Aug-28"] in revised.rows
    assert not any(r[0] == "Name" for r in current.rows + revised.rows)  # Table 18's header is not a row of Table 17
    assert revised.row_pages[-1] == 37  # and it runs on to the next page


def test_table_rows_are_not_repeated_as_loose_text(finance):
    page6 = finance.pages[5]
    assert "430.6" not in page6 and "Overall Position" not in page6
    assert "Directorate Revenue" not in finance.pages[4]
    # The table sits where it was printed: after the section's paragraphs on page 5.
    assert "savings will have a significant impact" in finance.pages[4]


def test_each_row_line_knows_its_page_and_row(finance_blocks):
    chunks = chunk_blocks(FINANCE.stem, finance_blocks, load_settings().chunk)
    chunk = next(c for c in chunks if CYPE in c.text.split("\n"))
    line = chunk.text.split("\n").index(CYPE)
    ref = next(r for r in chunk.table_rows if r.line == line)
    assert (ref.page, ref.row) == (6, 2)
    directorate_rows = [r for r in chunk.table_rows if r.line in range(line - 1, line + 9)]
    assert all(" | Revenue Budget: " in chunk.text.split("\n")[r.line] and r.page == 6 for r in directorate_rows)


def test_a_long_table_is_cut_between_rows_and_every_piece_starts_with_the_caption():
    lines = ["Measure\tValue"] + [f"Indicator number {n} for the quarter\t{n}" for n in range(1, 61)]
    text = "# Performance\n\nQuarterly indicators\n\n" + "\n".join(lines)
    blocks = blocks_from_document(_text_document(text))
    chunks = chunk_blocks("t", blocks, ChunkSettings(target_words=80, max_words=120, min_words=40, overlap_words=10))
    tables = [c for c in chunks if c.kind == "table"]
    assert len(tables) >= 3
    rows_seen = []
    for chunk in tables:
        text_lines = chunk.text.split("\n")
        assert "Quarterly indicators" in text_lines[0] or "Quarterly indicators" in chunk.text.split("\n\n")[-1].split("\n")[0]
        for ref in chunk.table_rows:
            assert text_lines[ref.line] == f"Indicator number {ref.row} for the quarter | Value: {ref.row}"
            rows_seen.append(ref.row)
    assert rows_seen == list(range(1, 61))


def _text_document(text: str):
    from core.records import ParsedDocument

    return ParsedDocument(doc_id="t", path="t.txt", format="txt", pages=[text], has_pages=False)


def test_docx_txt_and_markdown_tables_give_the_same_row_lines(tmp_path):
    cells = [("Measure", "Value", "Target"), ("Households", "40", "45"), ("Vacancy rate", "10%", "")]
    document = docx.Document()
    document.add_heading("Fostering recruitment", level=1)
    table = document.add_table(rows=3, cols=3)
    for row, values in zip(table.rows, cells):
        for cell, value in zip(row.cells, values):
            cell.text = value
    document.save(tmp_path / "review.docx")
    (tmp_path / "review.txt").write_text("Fostering recruitment\n\n" + "\n".join("\t".join(r) for r in cells) + "\n")
    (tmp_path / "review.md").write_text("# Fostering recruitment\n\n| Measure | Value | Target |\n|---|---|---|\n"
                                        "| Households | 40 | 45 |\n| Vacancy rate | 10% | |\n")
    expected = ["Fostering recruitment", "Households | Value: 40 | Target: 45", "Vacancy rate | Value: 10%"]
    for name in ("review.docx", "review.txt", "review.md"):
        blocks = blocks_from_document(parse_file(tmp_path / name))
        table = next(b for b in blocks if b.kind == "table")
        assert table.text.split("\n") == expected, name
        assert table.header == ["Measure", "Value", "Target"]


def test_cells_on_tab_indented_lines_of_their_own_are_text_and_nothing_of_them_is_lost():
    # Word's action plans saved as text: each cell on its own line after a tab; a lone tab row beside them.
    text = ("\tACTION RECOMMENDED\n\na) To agree the proposed priorities.\n\nPerformance Objective\n\tRequired Action\n"
            "\tAccountability / Progress\n\n\tb)\n\tTo provide improved performance in Adoption\nJohn Gregg\n\n"
            "Contact\tJohn Gregg\n")
    blocks = blocks_from_document(_text_document(text))
    assert not [b for b in blocks if b.kind == "table"]
    read = "\n".join(b.text for b in blocks)
    for line in text.split("\n"):
        assert " ".join(line.split()) in " ".join(read.split()), line


def test_a_failing_table_reader_keeps_the_text_and_warns(monkeypatch):
    import ingest.tables

    def broken(path, pages):
        raise ValueError("unreadable content stream")

    monkeypatch.setattr(ingest.tables, "find_pdf_tables", broken)
    parsed = parse_file(ROOT / "corpus" / "kent_2025-01_cabinet_education-commissioning-plan-2025-29.pdf")
    assert parsed.tables == []
    assert any("tables could not be read" in w and "unreadable content stream" in w for w in parsed.warnings)
    assert sum(len(p) for p in parsed.pages) > 1000


def test_row_references_survive_the_index(tmp_path, shared_embedder):
    from index.store import IndexReader
    from ingest.pipeline import ingest_paths

    papers = tmp_path / "papers"
    papers.mkdir()
    (papers / "budget.md").write_text("# Budget by service\n\n| Service | Budget | Forecast |\n|---|---|---|\n"
                                      "| Libraries | 4.1 | 4.3 |\n| Highways | 12.0 | 11.2 |\n")
    settings = load_settings(tmp_path / "index")
    ingest_paths([papers], settings, shared_embedder, commitments=False)
    reader = IndexReader.open(settings.index_dir)
    chunk = reader.chunks_of("budget")[0]
    again = reader.chunks_by_id([chunk.chunk_id])[chunk.chunk_id]
    lines = again.text.split("\n")
    assert [(lines[r.line], r.page, r.row) for r in again.table_rows] == [
        ("Libraries | Budget: 4.1 | Forecast: 4.3", None, 1), ("Highways | Budget: 12.0 | Forecast: 11.2", None, 2)]


@pytest.mark.slow
def test_cell_accuracy_on_the_hand_labelled_tables_stays_above_its_floor():
    truth = load_truth(TRUTH)
    found = {file: find_pdf_tables(ROOT / file, pages) for file, pages in truth.labelled_pages.items()}
    score = score_extraction(truth, found)
    assert score.cell_accuracy >= CELL_ACCURACY_FLOOR, [t.misses[:3] for t in score.tables if t.misses]
    assert score.found >= FOUND_FLOOR
    assert score.spurious <= SPURIOUS_CEILING


def printed_at(text: str, top: float) -> TextLine:
    return TextLine(top, top + 9, [Phrase(text, 72, 300, top, top + 9)])


def test_a_footer_a_fraction_of_a_point_lower_on_the_next_page_is_running():
    footer, moved = printed_at("policycommittees@bristol.gov.uk", 797.9), printed_at("policycommittees@bristol.gov.uk", 798.1)
    row = printed_at("Total 12,400", 797.9)
    printed = printed_heights({1: [footer, row], 2: [moved], 3: [printed_at("Appendix 1", 40.0)]})
    assert is_running(footer, printed) and is_running(moved, printed)
    assert not is_running(row, printed), "printed on one page only"
    elsewhere = printed_heights({1: [footer], 2: [printed_at("policycommittees@bristol.gov.uk", 400.0)]})
    assert not is_running(footer, elsewhere), "the same words at another height are not a running footer"
    assert not is_running(printed_at("--", 10.0), printed_heights({1: [printed_at("--", 10.0)], 2: [printed_at("..", 10.0)]})), \
        "a line of no letters or digits is never a running line"


def test_a_justified_paragraph_in_a_drawn_box_is_read_as_prose_not_as_a_table():
    # West of England's paragraphs 26 to 28 sit in drawn boxes, their words spread by justification; read as a
    # grid they came out as "As | r | eported t | o the | Octobe | ...".
    assert find_pdf_tables(TRANSPORT, [8]) == []
    text = "\n".join(block.text for block in blocks_from_document(parse_file(TRANSPORT)) if block.page == 8)
    assert "27. As reported to the October 2025 Committee, this funding will be utilised to start" in " ".join(text.split())


def test_many_columns_of_figures_or_of_phrases_are_a_table():
    years = [f"20{n}/{n + 1}" for n in range(10, 28)]
    assert not reads_as_prose([["Capital programme", *years], ["Schools", *(f"{n}.5" for n in range(18))]])
    assert not reads_as_prose([["Project", "Start date", "End date"], ["Temple Way", "Mar-25", "N/A"]])
    assert reads_as_prose([["As", "r", "eported t", "", "o the", "Octobe", "", "r", "20", "25 Committee,", "this", "fundin",
                            "g", "will", "be", "utilise", "d", "to", "s", "tart"]])
