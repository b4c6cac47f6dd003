"""Decision references and trails: patterns on sentences from real papers, and the 24/00093 trail over the corpus."""
from __future__ import annotations

import re

import pytest

from core.records import Chunk
from decisions.references import asks_about_decision, checked_reference, decision_references, reference_href
from decisions.trail import (
    DECIDED, MENTIONED, RECOMMENDED, decision_reference_for, decisions_in, paragraphs_of, step_statements,
)

FAMILY_HUBS = "24/00093"


@pytest.mark.parametrize("text, expected", [
    ("DECISION NUMBER: 24/00093", ["24/00093"]),  # Kent record of decision
    ("Decision no:  24/00093", ["24/00093"]),  # Kent decision report
    ("A Key Decision (21/00086) was taken on 10 November 2021", ["21/00086"]),
    ("a)  24-00093 - Decision Report", ["24/00093"]),  # attachment names print a dash
    ("300.   Review of Decision 24/00093 - Commissioned Family Hubs (Item 9)", ["24/00093"]),
    ("presented to this Committee in March 2004 (paper E04/26)", ["E04/26"]),  # Suffolk paper numbers
    ("Key Decision Reference: KD/2024/07 was published", ["KD/2024/07"]),
    ("Forward Plan ref FP 1234.", ["FP 1234"]),
    ("Decision number: 2024/123 and decision 23/00092", ["2024/123", "23/00092"]),
    ("Report No. CAB/24/012", ["CAB/24/012"]),
    ("Decision ID: 5678 taken by the Leader", ["5678"]),
    # Not references: financial years, dates, money, paragraph and section numbers, Bristol's agenda items.
    ("across the 24/25 and 25/26 financial years and 2024/25", []),
    ("Contract End Date 31/03/2025 £222,127.44", []),
    ("section 17.67 of the Constitution and paragraph 3.4 of the report", []),
    ("Decision determined at Transport and Connectivity Policy Committee meeting on 12 September 2024 (agenda item 7)", []),
    ("Decision no: 2024", []),
])
def test_decision_references_in_text(text, expected):
    assert decision_references(text) == expected


def test_questions_about_decisions_are_recognised():
    assert asks_about_decision("What did the Cabinet Member decide about the Seashells and Millmead family hubs?")
    assert asks_about_decision("Was the call-in of 24/00093 upheld?")
    assert not asks_about_decision("How many agency social workers did Sunderland have?")


def test_references_are_validated_strictly_and_linked_url_encoded():
    assert checked_reference("24-00093") == FAMILY_HUBS
    assert checked_reference(" kd/2024/07 ") == "KD/2024/07"
    for bad in ("<script>", "24/00093'; DROP", "", "x" * 41, "../../etc/passwd", "24/00093\n"):
        with pytest.raises(ValueError):
            checked_reference(bad)
    assert reference_href(FAMILY_HUBS) == "/decisions/24%2F00093"


def chunks_of(*texts: str) -> list[Chunk]:
    return [Chunk(chunk_id=10 + i, doc_id="d", ordinal=i, text=t, kind="paragraph") for i, t in enumerate(texts)]


def test_items_after_a_lead_in_are_the_decision_and_end_with_the_list():
    chunks = chunks_of(
        "Decision: As Cabinet Member for Integrated Children's Services I agree to:",
        "APPROVE the proposal to not re-commission the Family Hub services.\n\nDELEGATE authority to the Director.\n\n"
        "Reason(s) for decision: The financial challenges facing all local authorities is critical.",
    )
    statements = decisions_in(paragraphs_of(chunks))
    assert [s.kind for s in statements] == [DECIDED] * 3
    assert [s.text[:9] for s in statements] == ["Decision:", "APPROVE t", "DELEGATE "]
    assert [s.chunk_id for s in statements] == [10, 11, 11]


def test_a_report_recommends_and_repeats_itself_once():
    chunks = chunks_of("Recommendation(s):\n\nCabinet is asked to agree the Commissioning Plan for Education Provision in Kent 2025-29.",
                       "9 Recommendation(s):\n\n8.1 Cabinet is asked to agree the Commissioning Plan for Education Provision in Kent 2025-29.\n\n"
                       "10. Background Documents")
    statements = decisions_in(paragraphs_of(chunks))
    assert len(statements) == 1 and statements[0].kind == RECOMMENDED


def test_minutes_quote_only_the_item_that_names_the_reference():
    minutes = chunks_of(
        "299.   Kent Minerals and Waste Local Plan 2024-39 (Item 8)\n\nRESOLVED that the Council adopts the Plan.",
        "300.   Review of Decision 24/00093 - Commissioned Family Hubs (Item 9)\n\n1) The Chairman explained the call-in.\n\n"
        "5) RESOLVED that the County Council makes comments but does not require reconsideration of the decision.",
        "301.   Armed Forces Covenant - Annual Report (Item 10)\n\nRESOLVED that the report be noted.",
    )
    statements = step_statements(minutes, FAMILY_HUBS, about=False, mention_chunks={11})
    assert [s.text for s in statements] == [
        "5) RESOLVED that the County Council makes comments but does not require reconsideration of the decision."]
    other = chunks_of("In November 2023 KCC Cabinet took decision 23/00092 to implement the Family Hub model. It was popular.")
    mentioned = step_statements(other, "23/00092", about=False, mention_chunks={10})
    assert [(s.kind, s.text) for s in mentioned] == [
        (MENTIONED, "In November 2023 KCC Cabinet took decision 23/00092 to implement the Family Hub model.")]


# ------------------------------------------------------------------ the trail over the corpus


def test_the_family_hubs_trail_runs_from_decision_to_council_in_date_order(client):
    page = client.get("/decisions/24%2F00093")
    assert page.status_code == 200
    html = page.text
    titles = re.findall(r'<h2 class="trail-title"><a href="/documents/([^"]+)">', html)
    assert titles == [
        "kent_2025-01_family-hubs-decision-report-24-00093", "kent_2025-01_family-hubs-record-of-decision-24-00093",
        "kent_2025-01_cabinet_minutes", "kent_2025-03_cabinet_family-hubs-call-in-report",
        "kent_2025-03_council_family-hubs-call-in-scrutiny-report", "kent_2025-03_council_family-hubs-executive-response",
        "kent_2025-03_council_minutes",
    ]
    dates = re.findall(r'<p class="trail-date"><time datetime="([\d-]+)">([^<]+)</time>', html)
    assert [iso for iso, _ in dates] == sorted(iso for iso, _ in dates)
    assert dates[0][1] == "17 January 2025"
    assert "APPROVE the proposal to not re-commission the Family Hub services" in html
    assert "That implementation of Decision 24/00093 be postponed pending review by the full Council." in html
    assert "RESOLVED that the County Council makes comments but does not require reconsideration" in html
    cites = re.findall(r'class="trail-cite" href="/documents/([^"?]+)\?hl=(\d+)#chunk-(\d+)"', html)
    assert cites and all(hl == anchor for _, hl, anchor in cites)
    assert client.get("/decisions/24-00093").text == html  # the dash form is the same trail
    api = client.get("/api/decisions/24%2F00093").json()
    assert api["ref"] == FAMILY_HUBS and [s["doc_id"] for s in api["steps"]] == titles
    assert api["steps"][-1]["statements"][0]["kind"] == DECIDED
    assert client.get("/api/decisions/99%2F99999").status_code == 404


def test_decision_pages_validate_and_list_every_trail(client):
    assert client.get("/decisions/99%2F99999").status_code == 404
    bad = client.get("/decisions/%3Cscript%3Ealert(1)%3C%2Fscript%3E")
    assert bad.status_code == 400 and "<script>alert(1)" not in bad.text
    listing = client.get("/decisions").text
    assert 'href="/decisions/24%2F00093"' in listing and "Commissioned Family Hub Contracts" in listing
    minutes = client.get("/documents/kent_2025-03_council_minutes").text
    assert 'href="/decisions/24%2F00093"' in minutes


def test_the_answer_step_finds_the_decision_an_answer_is_about(corpus_scrutiny):
    reader = corpus_scrutiny.state().reader
    record = "kent_2025-01_family-hubs-record-of-decision-24-00093"
    assert decision_reference_for(reader, [(record, None, "")]) == FAMILY_HUBS
    assert decision_reference_for(reader, [("kent_2025-03_council_minutes", None, "")], "the call-in of Decision 24/00093") == FAMILY_HUBS
    assert decision_reference_for(reader, [("001_29f912cc4fd0f26b", None, "")], "no reference here") is None
    assert decision_reference_for(reader, [], "Decision 99/99999 was never taken") is None
    # A resolution in the minutes takes the reference of the item heading above it, not the next item's below it.
    minutes = reader.chunks_of("kent_2025-01_cabinet_minutes")
    resolved = next(c for c in minutes if "RESOLVED that Cabinet agree to transfer the statutory functions" in c.text)
    quote = resolved.text[resolved.text.index("RESOLVED that Cabinet agree to transfer"):][:120]
    assert decision_reference_for(reader, [("kent_2025-01_cabinet_minutes", resolved.chunk_id, quote)]) == "24/00109"


def test_an_answer_about_a_decision_names_its_trail(corpus_scrutiny):
    answer = corpus_scrutiny.ask("What did Cabinet resolve about the transfer of the 18-25 Strengthening Independence Service?")
    assert answer.found and answer.decision_ref == "24/00109"
    assert answer.to_json()["decision_ref"] == "24/00109"
    other = corpus_scrutiny.ask("How many agency social workers did Sunderland have?")
    assert other.decision_ref is None
