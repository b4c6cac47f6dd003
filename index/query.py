"""Question analysis: terms for BM25 and what the question asks for."""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from core.text import fold_characters

STOPWORDS = frozenset(
    """a about above after again against all also am an and any are as at be been before being below between both but by
    can could did do does doing down during each few for from further had has have having he her here hers him his how i
    if in into is it its itself just me more most my no nor not now of off on once only or other our ours out over own
    same she should so some such than that the their them then there these they this those through to too under until up
    very was we were what when where which while who whom why will with would you your yours tell show give please
    many much did does say said paper papers report council councils""".split()
)

# Abbreviations councillors use, expanded so BM25 also finds the spelled-out form (and back).
ABBREVIATIONS = {
    "lac": "looked after children",
    "cla": "children looked after",
    "cic": "children in care",
    "cp": "child protection",
    "cpp": "child protection plan",
    "cin": "children in need",
    "ehcp": "education health care plan",
    "ehcps": "education health care plans",
    "send": "special educational needs disabilities",
    "neet": "not in education employment training",
    "eet": "education employment training",
    "kpi": "key performance indicator",
    "kpis": "key performance indicators",
    "rag": "red amber green",
    "uasc": "unaccompanied asylum seeking children",
    "fte": "full time equivalent",
    "ofsted": "ofsted inspection",
    "ssi": "social services inspectorate",
    "psa": "public service agreement",
    "ia": "initial assessment",
    "dfe": "department for education",
    "asch": "adult social care health",
    "cype": "children young people education",
    "ics": "integrated care strategy",
    "icb": "integrated care board",
}

# British and American spellings both occur in questions; papers use British ones.
SPELLINGS = {
    "program": "programme",
    "organization": "organisation",
    "organizations": "organisations",
    "prioritize": "prioritise",
    "center": "centre",
    "centers": "centres",
    "color": "colour",
    "labor": "labour",
    "behavior": "behaviour",
    "analyze": "analyse",
    "license": "licence",
    "defense": "defence",
    "judgment": "judgement",
}

_TOKEN = re.compile(r"[a-z0-9]+(?:[.'][a-z0-9]+)*")
_YEAR = re.compile(r"\b(19[89]\d|20[0-4]\d)(?:[/-](\d{2}))?\b")

NUMBER_CUES = ("how many", "how much", "what percentage", "what proportion", "what number", "what was the number",
               "what rate", "what level", "what figure", "what value", "what cost", "what total", "what budget",
               "what target", "what was the target", "what is the target", "per cent", "percent", "%", "how far",
               "how big", "how large", "how high", "how low", "what amount", "what share", "target", "overspend",
               "underspend", "forecast", "rate", "count", "number of", "average", "percentage", "proportion",
               "total", "spend", "cost", "budget", "score", "figure", "savings", "caseload")
DATE_CUES = ("when", "what date", "which date", "by what date", "what year", "which year", "what month", "deadline", "by when")
PERSON_CUES = ("who ", "whom", "which officer", "which member", "which councillor", "whose", "what is the name", "name of")
RATING_CUES = ("rag", "rating", "rated", "red", "amber", "green")


@dataclass
class QueryAnalysis:
    text: str
    terms: list[str]  # content words, for BM25 and sentence overlap
    expansions: list[str] = field(default_factory=list)
    wants_number: bool = False
    wants_date: bool = False
    wants_person: bool = False
    wants_rating: bool = False
    years: list[str] = field(default_factory=list)


def tokens_of(text: str) -> list[str]:
    return _TOKEN.findall(fold_characters(text).lower())


def content_terms(text: str) -> list[str]:
    terms = []
    for token in tokens_of(text):
        token = SPELLINGS.get(token, token)
        if token not in STOPWORDS and (len(token) > 1 or token.isdigit()):
            terms.append(token)
    return list(dict.fromkeys(terms))


def analyse_question(question: str) -> QueryAnalysis:
    folded = fold_characters(question).lower()
    terms = content_terms(question)
    expansions = []
    for term in terms:
        if term in ABBREVIATIONS:
            expansions.extend(content_terms(ABBREVIATIONS[term]))
    padded = f" {folded} "
    return QueryAnalysis(
        text=question,
        terms=terms,
        expansions=[e for e in dict.fromkeys(expansions) if e not in terms],
        wants_number=any(cue in padded for cue in NUMBER_CUES),
        wants_date=any(cue in padded for cue in DATE_CUES),
        wants_person=any(cue in padded for cue in PERSON_CUES),
        wants_rating=any(f" {cue}" in padded for cue in RATING_CUES),
        years=years_named(folded),
    )


def years_named(text: str) -> list[str]:
    """Years a question names; a financial year such as 2024/25 names both."""
    years = []
    for first, second in _YEAR.findall(text):
        years.append(first)
        if second and int(second) == (int(first[2:]) + 1) % 100:
            years.append(first[:2] + second)
    return list(dict.fromkeys(years))


def lexical_query(analysis: QueryAnalysis) -> str:
    """The words BM25 looks for: the question's content words and their expansions."""
    return " ".join([*analysis.terms, *analysis.expansions])


def named_authority(question: str, authorities: list[str]) -> str | None:
    """The council a question names ("in Sunderland", "Kent's"), matched on its distinctive word(s)."""
    folded = f" {' '.join(tokens_of(question))} "
    generic = {"county", "city", "council", "borough", "district", "metropolitan", "of", "the", "and"}
    matches = []
    for authority in authorities:
        words = [w for w in tokens_of(authority) if w not in generic]
        if words and f" {' '.join(words)} " in folded:
            matches.append(authority)
    return matches[0] if len(matches) == 1 else None
