"""Structure and chunking on the real corpus, plus hand-made cases for the splitting rules."""
from __future__ import annotations

from pathlib import Path

import pytest

from core.records import Block, ParsedDocument
from core.settings import ChunkSettings
from core.text import word_count
from ingest.chunk import chunk_blocks, introduces_table, split_prose, titled_section
from ingest.parse import parse_file
from ingest.structure import Line, blocks_from_document, is_heading_text, next_item_heading

CORPUS = Path(__file__).resolve().parent.parent / "corpus"
PAPERS = sorted(CORPUS.glob("*.pdf")) + sorted(CORPUS.glob("*.txt"))
SETTINGS = ChunkSettings()


@pytest.fixture(scope="module")
def corpus_blocks() -> dict[str, list[Block]]:
    return {path.stem: blocks_from_document(parse_file(path)) for path in PAPERS}


def test_numbered_paragraph_is_its_own_block_with_its_number(corpus_blocks):
    blocks = corpus_blocks["000_8455fbcf33d06d16"]
    paragraph = next(b for b in blocks if b.text.startswith("24. Despite the increasing volume"))
    assert paragraph.kind == "paragraph" and paragraph.section == "24" and paragraph.page is None
    assert "25." not in paragraph.text[:5]


def test_sub_items_take_their_parent_number(corpus_blocks):
    blocks = corpus_blocks["kent_2024-10_corporate-parenting-panel-minutes"]
    item = next(b for b in blocks if b.text.startswith("a. Ms Carpenter shared that the recruitment"))
    assert item.section == "1(a)"


def test_unnumbered_paragraph_takes_its_numbered_heading(corpus_blocks):
    blocks = corpus_blocks["001_29f912cc4fd0f26b"]
    heading = next(b for b in blocks if b.text == "3.1 Priority 2 Early Help")
    assert heading.kind == "heading" and heading.section == "3.1"
    follower = blocks[blocks.index(heading) + 1]
    assert follower.text.startswith("An early help strategy group") and follower.section == "3.1"


def test_minutes_paragraph_is_cited_with_its_item():
    parsed = parse_file(CORPUS / "kent_2025-03_council_minutes.pdf")
    chunks = chunk_blocks(parsed.doc_id, blocks_from_document(parsed), SETTINGS)
    adopt = next(c for c in chunks if "Adopt the Kent Minerals and Waste Local Plan" in c.text)
    assert adopt.section.startswith("299") and "Kent Minerals and Waste Local Plan" in adopt.section
    # A vote's tally ("For (52)") is not a heading: the names voting stay under the item they voted on.
    names = next(c for c in chunks if c.text.startswith("Mr Baker, Mr Baldock, Mr Brady"))
    assert names.section.startswith("299 Kent Minerals")


def test_a_resolution_and_its_vote_are_cited_with_the_minute_they_belong_to():
    # "That the Committee for Transport and Connectivity" opens the list of what was resolved; read as a
    # heading it hid the item ("10 Workplace Parking Levy"), and a question about the levy's vote missed it.
    parsed = parse_file(CORPUS / "bristol-city_2024-09_transport-connectivity-policy-committee_printed-minutes.pdf")
    chunks = chunk_blocks(parsed.doc_id, blocks_from_document(parsed), SETTINGS)
    vote = next(c for c in chunks if "CARRIED (8 voting FOR, 1 against)" in c.text)
    assert vote.section.startswith("10 Workplace Parking Levy")


def test_a_minutes_item_heading_that_wraps_is_known_by_the_next_number():
    # Printed over two lines, item 7 was no heading, and its decisions were cited under "01 David Redgewell",
    # the first of the public forum's statements.
    parsed = parse_file(CORPUS / "bristol-city_2024-09_transport-connectivity-policy-committee_printed-minutes.pdf")
    chunks = chunk_blocks(parsed.doc_id, blocks_from_document(parsed), SETTINGS)
    permits = next(c for c in chunks if "Recommendation 2A was moved" in c.text)
    assert permits.section.startswith("7 Opportunities to promote sustainable transport through a review of parking policies and charges")


@pytest.mark.parametrize(("texts", "item", "heading_lines"), [
    (["7 Opportunities to promote sustainable transport through a review of parking policies", "and charges", ""], 6, 2),
    (["8 20 mph Review", ""], 7, 1),
    (["9 Incentive Funding", ""], 7, None),  # not the next number
    (["07 Julie Levers", ""], 6, None),  # a list's entry
    (["7 Members supported the proposal to extend", "the scheme to two more wards.", ""], 6, None),  # a sentence
    (["7 Opportunities to promote sustainable transport", ""], None, None),  # no item heading before it
])
def test_the_next_item_heading_is_the_next_number_with_the_lines_it_wraps_onto(texts, item, heading_lines):
    lines = [Line(text, 1) for text in texts]
    found = next_item_heading(lines, 0, item)
    assert (len(found[0]) if found else None) == heading_lines


@pytest.mark.parametrize(("line", "heading"), [
    ("Kent Minerals and Waste Local Plan (Item 8)", True),
    ("For (52)", False),
    ("Abstain (3)", False),
    ("Mr Baker, Mr Lehmann", False),
    ("67 Councillor Ani Stafford-Townsend", False),
    ("It was APPROVED", False),
    ("The amendment was seconded by Councillor Bryher", False),
    ("That the Committee for Transport and Connectivity", False),
])
def test_what_minutes_record_in_short_lines_is_not_a_heading(line, heading):
    assert is_heading_text(line) is heading


@pytest.mark.parametrize(("line", "heading"), [
    ("Evidence Base:", True),
    ("Background and Context:", True),
    ("The recommendations are as follows:", False),
    ("That Committee:", False),
    ("REPORT TO:", False),
    ("Proposal origin: Committee Chair:", False),
])
def test_a_short_title_ending_in_a_colon_is_a_heading(line, heading):
    assert is_heading_text(line) is heading


def test_a_report_template_s_titled_label_heads_its_paragraphs_and_a_form_field_does_not():
    report = parse_file(CORPUS / "bristol-city_2025-10_transport-connectivity-policy-committee_wpl-update-report.pdf")
    chunks = chunk_blocks(report.doc_id, blocks_from_document(report), SETTINGS)
    tender = next(c for c in chunks if "competitive tendering exercise" in c.text)
    assert tender.section == "Evidence Base (9)"  # not the cover sheet's "Proposal origin: Committee Chair"
    notice = parse_file(CORPUS / "bristol-city_2026-03_transport-connectivity-policy-committee_decision-notice.pdf")
    sections = {c.section for c in chunk_blocks(notice.doc_id, blocks_from_document(notice), SETTINGS)}
    assert not any(section and section.startswith("Apologies") for section in sections)  # "Apologies:" above a blank


def test_titled_section_reads_with_its_heading():
    assert titled_section("299(ii)", "299 Kent Minerals and Waste Local Plan") == "299(ii) Kent Minerals and Waste Local Plan"
    assert titled_section("2", "10 Workplace Parking Levy") == "10 Workplace Parking Levy (2)"
    assert titled_section("(c)", "SUMMARY OF APPROVED RECOMMENDATIONS") == "SUMMARY OF APPROVED RECOMMENDATIONS (c)"
    assert titled_section("Background", "Background") == "Background"
    assert titled_section("3.1", None) == "3.1"
    assert titled_section(None, "Summary") == "Summary"


def test_tab_table_keeps_rows_with_their_header(corpus_blocks):
    table = next(b for b in corpus_blocks["001_29f912cc4fd0f26b"] if b.kind == "table")
    rows = table.text.split("\n")
    assert table.header == ["", "July", "August", "September", "October", "November", "December"]
    assert "Sunderland | July: 2351 | August: 1817 | September: 2253 | October: 1971 | November: 2012 | December: 1663" in rows


def test_a_paragraph_saying_what_the_table_below_shows_is_chunked_with_the_table():
    # Kent's family-hub decision report: "4.10 ... the table below demonstrates that Thanet and Swale receive the
    # highest proportion of the overall Family Hub budget", then the districts' shares. Chunked apart, a question
    # about a district's share of the budget found rows that never say "budget".
    parsed = parse_file(CORPUS / "kent_2025-01_family-hubs-decision-report-24-00093.pdf")
    chunks = chunk_blocks(parsed.doc_id, blocks_from_document(parsed), SETTINGS)
    thanet = next(c for c in chunks if "Thanet |" in c.text and "£741k" in c.text)
    assert "the table below demonstrates that Thanet and Swale receive the highest proportion" in thanet.text


@pytest.mark.parametrize("text, following, joins", [
    ("For context, the table below demonstrates that Thanet receives the most.", "table", True),
    ("The following table sets out the allocations.", "table", True),
    ("For context, the table below demonstrates that Thanet receives the most.", "paragraph", False),
    ("Budgets include £15.2m moved to the High Needs Block. Table 2: Overall Forecast Position:", "table", False),
])
def test_only_a_paragraph_naming_the_table_below_introduces_it(text, following, joins):
    paragraph = Block(kind="paragraph", text=text, page=1, page_end=1, section="4.10", heading=None)
    after = Block(kind=following, text="Thanet | Budget: £741k", page=1, page_end=1, section="4.10", heading=None)
    assert introduces_table(paragraph, after) is joins


def test_table_chunk_carries_header_row():
    parsed = parse_file(CORPUS / "001_29f912cc4fd0f26b.txt")
    chunks = chunk_blocks(parsed.doc_id, blocks_from_document(parsed), SETTINGS)
    holder = next(c for c in chunks if "Sunderland | July: 2351" in c.text)
    line = holder.text.split("\n").index(next(l for l in holder.text.split("\n") if l.startswith("Sunderland | July: 2351")))
    assert any(ref.line == line and ref.page is None for ref in holder.table_rows)


def test_kpi_table_across_a_page_break_is_one_block(corpus_blocks):
    blocks = corpus_blocks["kent_2025-03_cabinet_quarterly-performance-report-q3-2024-25"]
    table = next(b for b in blocks if "Number of foster households | RED\nLatest: 613" in b.text)
    assert table.kind == "table"
    assert "Percentage foster care placements which are in-house" in table.text
    assert (table.page, table.page_end) == (47, 48)


def test_finance_table_with_header_split_over_pages_is_one_block(corpus_blocks):
    blocks = corpus_blocks["kent_2025-01_cabinet_finance-monitoring-q3-2024-25"]
    table = next(b for b in blocks if "Adult Social Care & Health | Revenue Budget: 586.1 | Revenue Forecast: 621.6" in b.text)
    rows = table.text.split("\n")
    assert table.header[0] == "Directorate" and table.header[-1] == "% Variance"
    assert table.page == 5 and table.page_end == 6
    assert any(row.startswith("Overall Position | Revenue Budget: 1,432.3") for row in rows)


def test_repeated_header_row_on_the_next_page_is_dropped():
    header = "Service\tQ1\tQ2"
    parsed = ParsedDocument(
        doc_id="t", path="t.pdf", format="txt", has_pages=True,
        pages=[f"{header}\nHighways\t1\t2\nLibraries\t3\t4", f"{header}\nWaste\t5\t6\n\nA closing paragraph of prose."],
    )
    tables = [b for b in blocks_from_document(parsed) if b.kind == "table"]
    assert len(tables) == 1
    assert tables[0].text.split("\n")[1:] == ["Highways | Q1: 1 | Q2: 2", "Libraries | Q1: 3 | Q2: 4", "Waste | Q1: 5 | Q2: 6"]
    assert (tables[0].page, tables[0].page_end) == (1, 2)


def test_corpus_chunks_are_mostly_100_to_250_words(corpus_blocks):
    sizes = []
    for doc_id, blocks in corpus_blocks.items():
        chunks = chunk_blocks(doc_id, blocks, SETTINGS)
        assert [c.ordinal for c in chunks] == list(range(len(chunks)))
        assert all(c.chunk_id == 0 and c.doc_id == doc_id for c in chunks)
        sizes.extend(word_count(c.text) for c in chunks)
    within = sum(100 <= size <= 250 for size in sizes) / len(sizes)
    assert within >= 0.85, within
    assert max(sizes) <= SETTINGS.max_words


def test_chunk_pages_span_their_blocks(corpus_blocks):
    blocks = corpus_blocks["kent_2025-03_cabinet_quarterly-performance-report-q3-2024-25"]
    chunks = chunk_blocks("qpr", blocks, SETTINGS)
    holder = next(c for c in chunks if "Number of foster households | RED\nLatest: 613" in c.text)
    assert holder.table_rows and holder.page <= 47 and holder.page_end >= 48


def paragraph(section: str, words: int, word: str = "word") -> Block:
    return Block(kind="paragraph", text=f"{section}. " + " ".join([word] * words) + ".", section=section)


def test_heading_is_never_the_last_thing_in_a_chunk():
    blocks = [paragraph("1", 170), Block(kind="heading", text="Fostering", section="Fostering"), paragraph("2", 60)]
    chunks = chunk_blocks("d", blocks, SETTINGS)
    assert [c.text.split("\n\n")[0] for c in chunks][1] == "Fostering"
    assert not chunks[0].text.endswith("Fostering")


def test_no_merge_across_top_level_sections_beyond_target():
    blocks = [paragraph("3.1", 60), paragraph("4.1", 150)]
    chunks = chunk_blocks("d", blocks, SETTINGS)
    assert [c.section for c in chunks] == ["3.1", "4.1"]
    same_section = chunk_blocks("d", [paragraph("3.1", 60), paragraph("3.2", 150)], SETTINGS)
    assert len(same_section) == 1 and same_section[0].section == "3.1"


def item_heading(number: str, title: str) -> Block:
    return Block(kind="heading", text=f"{number}. {title} (Item {number})", section=f"{number} {title}")


def test_a_chunk_ends_where_the_next_numbered_item_begins():
    resolved = [item_heading("300", "Review of Decision"), paragraph("300(5)", 80, "resolved")]
    next_item = [item_heading("301", "Armed Forces Covenant"), paragraph("301", 40, "covenant")]
    chunks = chunk_blocks("d", resolved + next_item, SETTINGS)
    assert len(chunks) == 2
    assert "resolved" in chunks[0].text and "covenant" not in chunks[0].text
    assert chunks[1].section == "301 Armed Forces Covenant"


def test_a_short_item_still_joins_the_next_and_a_list_item_is_not_an_item_heading():
    short = chunk_blocks("d", [item_heading("300", "Review"), paragraph("300(1)", 20), item_heading("301", "Covenant"),
                               paragraph("301", 40)], SETTINGS)
    assert len(short) == 1
    # "c. Approve ..." inside a minute may be read under another number; only an item's heading ends the chunk.
    listed = chunk_blocks("d", [paragraph("300", 80), paragraph("301", 40)], SETTINGS)
    assert len(listed) == 1


def test_long_paragraph_splits_at_sentences_with_overlap():
    sentences = [f"Sentence {n} says the fostering budget rose by {n} per cent this year." for n in range(60)]
    block = Block(kind="paragraph", text="7. " + " ".join(sentences), section="7", page=3, page_end=4)
    chunks = chunk_blocks("d", [block], SETTINGS)
    assert len(chunks) > 1
    for previous, chunk in zip(chunks, chunks[1:]):
        assert word_count(chunk.text) <= SETTINGS.max_words
        assert chunk.text.endswith(".") and chunk.text[0].isupper()
        first_sentence = chunk.text.split(". ")[0] + "."
        assert first_sentence in previous.text  # overlap with the piece before
    assert all(c.section == "7" and (c.page, c.page_end) == (3, 4) for c in chunks)
    joined = " ".join(c.text for c in chunks)
    assert all(sentence in joined for sentence in sentences)


def test_overlap_is_about_overlap_words():
    text = " ".join(f"Short sentence number {n} here." for n in range(100))
    pieces = split_prose(text, SETTINGS)
    second_start = pieces[1].split(" ")[:SETTINGS.overlap_words]
    assert " ".join(second_start) in pieces[0]


def test_long_table_splits_between_rows_and_repeats_header():
    header = "Service\tBudget\tForecast\tVariance"
    rows = [f"Service line number {n} for children\t{n}.5\t{n}.9\t+0.{n}" for n in range(80)]
    block = Block(kind="table", text="\n".join([header] + rows), section="Table 3", page=5, page_end=6)
    chunks = chunk_blocks("d", [block], SETTINGS)
    assert len(chunks) > 1
    seen = []
    for chunk in chunks:
        lines = chunk.text.split("\n")
        assert lines[0] == header and chunk.kind == "table"
        assert word_count(chunk.text) <= SETTINGS.max_words
        seen.extend(lines[1:])
    assert seen == rows


def table_block(caption: str, rows: int, cells: int = 4) -> Block:
    lines = [caption] + [f"Row {n} of {caption} | " + " | ".join(f"Column {c}: {n}.{c}" for c in range(cells)) for n in range(rows)]
    return Block(kind="table", text="\n".join(lines), section="Table")


def test_a_long_table_is_cut_into_pieces_of_even_length():
    # Filled to target_words in order, these rows would make two full pieces and leave one row for a third.
    caption = "Revenue variances by directorate"
    caption_words, row_words = (word_count(line) for line in table_block(caption, 1).text.split("\n"))
    per_piece = (SETTINGS.target_words - caption_words) // row_words
    rows = 2 * per_piece + 1
    chunks = chunk_blocks("d", [table_block(caption, rows)], SETTINGS)
    sizes = [len(c.text.split("\n")) - 1 for c in chunks]
    assert len(chunks) == 3 and sum(sizes) == rows
    assert max(sizes) - min(sizes) <= 1


def test_a_piece_of_a_cut_table_is_not_chunked_with_another_table():
    long_table = table_block("Revenue variances by directorate", 16)
    short_table = table_block("Reserves", 2)
    chunks = chunk_blocks("d", [long_table, short_table], SETTINGS)
    holders = [c for c in chunks if "Row 0 of Reserves" in c.text]
    assert len(holders) == 1 and "Revenue variances" not in holders[0].text
    # Two tables neither of which is cut still share a chunk when they fit.
    shared = chunk_blocks("d", [table_block("Budget", 3), table_block("Reserves", 2)], SETTINGS)
    assert len(shared) == 1
