"""Decision references in a paper's text: "Decision no: 24/00093", "Key Decision (21/00086)", "(paper E04/26)".

Councils number decisions in different ways, so the patterns are of three kinds:
- a number in the shape one council family uses everywhere, recognisable without a label: Kent's
  year/serial "24/00093" (also printed "24-00093" in attachment names);
- any reference introduced by a label: "Decision no", "Decision number", "Key decision reference",
  "Forward Plan reference", "Record of Decision ref", "Decision ID", "Report number";
- a paper number cited as "paper E04/26" or "report CAB/24/012".
Bristol City Council and the West of England Combined Authority print no decision numbers (a
decision is named by its meeting, date and agenda item); their papers join a trail only through a
`reference` given in the metadata sidecar.
"""
from __future__ import annotations

import re
from urllib.parse import quote

from core.text import fold_characters

# A reference token: an optional letter prefix, then numbers joined by / . - ("KD/2024/07", "FP 1234", "2024/123").
_TOKEN = r"(?:[A-Z]{1,6}[ /-]?)?\d{1,5}(?:[/.-](?:[A-Z]{1,6}|\d{1,5})){0,3}(?:\s\(\d{2}/\d{2}\))?"
YEAR_SERIAL = re.compile(r"(?<![\w/.-])(?P<year>\d{2})[/-](?P<serial>\d{5})(?![\w/])")
LABELLED = re.compile(
    r"\b(?:(?:key|executive|officer|cabinet(?:\s+member)?|individual)\s+)?"
    r"(?:decision|forward\s+plan|record\s+of\s+decision|report)\s*"
    r"(?:ref(?:erence)?|no|number|id)\b\.?\s*(?:is\s+)?[:.#]?\s*(?P<ref>" + _TOKEN + r")(?![\w/])",
    re.IGNORECASE,
)
CITED_PAPER = re.compile(r"\b(?:paper|report)\s+(?P<ref>[A-Z]{1,6}\d{0,3}/\d{1,4}(?:/\d{1,4})?)(?![\w/])")
# Things that look like references but are not: dates, money, paragraph numbers.
NOT_A_REFERENCE = re.compile(r"^\d{1,2}[/.-]\d{1,2}[/.-]\d{2,4}$|^\d{1,2}$|^(?:19|20)\d{2}(?:/\d{2}(?:\d{2})?)?$")
MAX_REFERENCE_CHARS = 40
# What a reference may look like in a URL or a form: letters, digits, space and / . - ( ).
RAW_CHARACTERS = re.compile(r"[A-Za-z0-9 ()/.-]+")
REFERENCE_SHAPE = re.compile(r"^[A-Z0-9](?:[A-Z0-9 ()/.-]{0,38}[A-Z0-9)])?$")


def normalise_reference(raw: str) -> str:
    """One spelling per reference: upper case, single spaces, and Kent's "24-00093" as "24/00093"."""
    text = " ".join(fold_characters(raw).split()).upper().strip(" .:;,")
    match = YEAR_SERIAL.fullmatch(text)
    return f"{match['year']}/{match['serial']}" if match else text


def is_reference(text: str) -> bool:
    return bool(REFERENCE_SHAPE.match(text)) and not NOT_A_REFERENCE.match(text) and any(c.isdigit() for c in text)


def reference_spans(text: str) -> list[tuple[int, int, str]]:
    """(start, end, normalised reference) for every reference in `text`, in order of appearance."""
    folded = fold_characters(text)
    found: list[tuple[int, int, str]] = []
    for pattern in (LABELLED, CITED_PAPER, YEAR_SERIAL):
        for match in pattern.finditer(folded):
            start, end = match.span("ref") if "ref" in pattern.groupindex else match.span()
            if any(s <= start < e or start <= s < end for s, e, _ in found):
                continue
            ref = normalise_reference(folded[start:end])
            if is_reference(ref):
                found.append((start, end, ref))
    return sorted(found)


def decision_references(text: str) -> list[str]:
    """The decision and paper references `text` cites, normalised, each once, in order of appearance."""
    return list(dict.fromkeys(ref for _, _, ref in reference_spans(text)))


DECISION_QUESTION = re.compile(r"\b(?:decid\w*|decision\w*|resolv\w*|resolution|agree[ds]?|approv\w*|call(?:ed)?[- ]in|"
                               r"recommend\w*|rescind\w*)\b", re.IGNORECASE)


def asks_about_decision(question: str) -> bool:
    """Whether a question asks what was decided ("What did the Cabinet Member decide about ...?"), or names a reference."""
    return bool(DECISION_QUESTION.search(question) or decision_references(question))


def reference_href(ref: str) -> str:
    """The trail page of a reference; "/" is escaped, so "24/00093" is /decisions/24%2F00093."""
    return "/decisions/" + quote(ref, safe="")


def checked_reference(raw: str) -> str:
    """The normalised reference from a URL, or ValueError saying what a reference looks like."""
    if len(raw) > MAX_REFERENCE_CHARS:
        raise ValueError(f"a decision reference is at most {MAX_REFERENCE_CHARS} characters long")
    ref = normalise_reference(raw)
    if not REFERENCE_SHAPE.match(ref) or not RAW_CHARACTERS.fullmatch(raw):
        raise ValueError(f"{raw!r} is not a decision reference; one looks like 24/00093 (letters, digits, / . - and spaces)")
    return ref
