"""Acronyms a paper defines: read from the real papers, and found by a question that spells them out."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from core.settings import load_settings
from ingest.acronyms import acronym_expansions, defined_acronyms
from ingest.pipeline import file_sha256, prepare_document, search_context
from index.lexical import LexicalIndex, Terms

ROOT = Path(__file__).resolve().parent.parent
FINANCE = ROOT / "corpus" / "kent_2025-01_cabinet_finance-monitoring-q3-2024-25.pdf"


def test_acronyms_are_read_where_the_paper_spells_them_out():
    text = ("The West of England Combined Authority (WECA) met. Pupils with Education, Health and Care Plans (EHCPs) "
            "and Unaccompanied Asylum-Seeking Children (UASC) are counted. Spend rose (see Table 3); all figures (£m).")
    assert defined_acronyms(text) == {
        "WECA": "West of England Combined Authority",
        "EHCP": "Education Health and Care Plans",
        "UASC": "Unaccompanied Asylum Seeking Children",
    }


def test_brackets_whose_words_do_not_spell_them_are_not_acronyms():
    assert defined_acronyms("Payments made by the council (KCC) rose. The review (PDF) is attached.") == {}


def test_the_first_definition_wins():
    text = "Strategic Reset Programme (SRP) ... Specialist Resource Provision (SRP)"
    assert defined_acronyms(text) == {"SRP": "Strategic Reset Programme"}


def test_a_passage_using_an_acronym_gets_its_spelled_out_form_once():
    glossary = {"HNB": "High Needs Block", "SEND": "special educational needs and disabilities"}
    assert acronym_expansions("Average cost of pupils funded from the HNB, and SEND spend", glossary) == [
        "High Needs Block", "special educational needs and disabilities"]
    assert acronym_expansions("The High Needs Block (HNB) is overspent", glossary) == []
    assert acronym_expansions("Nothing abbreviated here", glossary) == []


def test_an_acronym_with_an_ampersand_is_found_where_it_is_used():
    glossary = defined_acronyms("Bath and North East Somerset (B&NES) Council")
    assert glossary == {"BNES": "Bath and North East Somerset"}
    assert acronym_expansions("B&NES | Allocation: £1.2m", glossary) == ["Bath and North East Somerset"]


def test_a_table_that_only_says_hnb_is_found_by_a_question_saying_high_needs_block():
    # Kent's Table 5 is captioned "Average cost of pupils funded from the HNB ..."; "High Needs Block" is
    # spelled out pages earlier.
    prepared = prepare_document(FINANCE, file_sha256(FINANCE), {}, load_settings())
    costs = next(i for i, c in enumerate(prepared.chunks) if "Table 5: Average cost of pupils" in c.text)
    assert "High Needs Block" in prepared.contexts[costs]
    assert "High Needs Block" not in prepared.chunks[costs].text

    plain = [search_context(prepared.document.meta, prepared.document.doc_id, c.section) for c in prepared.chunks]
    queries = ["average cost per pupil in an independent school funded from the High Needs Block",
               "High Needs Block average cost per pupil"]
    ranks = [(bm25_rank(prepared.bodies, prepared.contexts, q, costs), bm25_rank(prepared.bodies, plain, q, costs)) for q in queries]
    assert all(spelled < 5 and spelled <= bare for spelled, bare in ranks), ranks  # among the paper's first five passages
    assert any(bare >= 5 for _, bare in ranks), ranks  # for the terser question, only with the acronym spelled out


def bm25_rank(bodies: list[str], contexts: list[str], query: str, wanted: int) -> int:
    """Where chunk `wanted` ranks (0 first) for `query` among the paper's chunks."""
    terms = Terms()
    counts = [terms.term_counts(body, context) for body, context in zip(bodies, contexts)]
    lexical = LexicalIndex.build(np.arange(len(counts)), np.array([n for _, n in counts]), [blob for blob, _ in counts])
    return [chunk for chunk, _ in lexical.top(terms.keys(query), len(counts))].index(wanted)
