"""Answer records as the JSON contract of `scrutiny ask --json` describes them, for rendering tests."""
from __future__ import annotations


def contract_record(**changes) -> dict:
    """An answer record as the contract describes it, quoting two sentences of one passage."""
    text = "4.1 Caseloads rose.\n4.2 There were 79 agency social workers. Most were in safeguarding teams."
    record = {
        "question": "How many agency social workers?", "found": True, "answer": "\u201cThere were 79 agency social workers.\u201d [1]",
        "mode": "hybrid", "confidence": "answer", "score": 0.93, "read_as": None, "complete_question": None, "notice": None, "verdict": None,
        "decision_ref": None,
        "lines": [{"text": "There were 79 agency social workers.", "citation": 1, "role": "lead"},
                  {"text": "Most were in safeguarding teams.", "citation": 1, "role": "support"}],
        "citations": [
            {"doc_id": "d1", "title": "Workforce report", "authority": "Sunderland City Council", "committee": "Scrutiny",
             "date": "2016-02-01", "page": 3, "section": "4.1", "text": text, "highlight": [24, 60],
             "highlights": [[24, 60], [61, 93]], "cited": True, "row": None, "score": 0.9, "chunk_id": 7,
             "reference": None, "source_url": "https://example.org/paper.pdf", "ocr": True},
            {"doc_id": "d2", "title": "Other", "authority": "Kent County Council", "committee": "Cabinet",
             "date": "2025-01-02", "page": None, "section": None, "text": "Unrelated passage.", "highlight": None,
             "highlights": [], "cited": False, "row": None, "score": 0.4, "chunk_id": 8, "reference": "24/00093",
             "source_url": "javascript:alert(1)", "ocr": False},
        ],
    }
    return {**record, **changes}
