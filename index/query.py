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

# The part someone played, as a question asks it and as papers print it: "Who wrote the report?" is answered
# under "Report author:". ("Chaired" is left alone: "chairman" is in most lines of minutes.)
ROLE_WORDS = {"wrote": "author", "written": "author", "writes": "author", "authored": "author"}

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

# "Which officers ...", "Which Peterborough cabinet member ...", "Which two Kent councillors ...".
_WHICH_PERSON = (r"which\s+(?:[\w'\u2019-]+\s+){0,3}?(?:officers?|councillors?|members?|directors?|person|people|leaders?|"
                 r"chair(?:man|woman|person)?|mayor|managers?|heads?|care leavers?)\b")

# The verbs a question opens with, or puts after its question word: "Did ...?", "when was ...?".
_AUXILIARY = r"(?:is|was|are|were|will|would|did|does|do|has|have|had|can|could|should)"
# What a question asks for, judged from its wording; a question may ask for several kinds of thing
# ("what was the target percentage" asks for a target and a percentage).
ANSWER_KINDS = {
    "amount": re.compile(r"\bhow much\b|\b(?:cost|costs|costing|budget|budgets|spend|spent|spending|overspend\w*|underspend\w*|"
                         r"variance|funding|funded|grant|savings?|price|income|deficit|surplus|reserves?|allocation|"
                         r"allocated|outturn|revenue|capital|value|worth|salary|salaries)\b|£|"
                         # "What does Kent pay on average ...?", "What did Nottingham charge per space?", "the WPL charge for 2026/27"
                         r"\b(?:does|do|did|will|would)\s+(?:[\w'\u2019-]+\s+){0,5}?(?:pay|charge)\b|\bcharges?\s+(?:per|for)\b|"
                         # "What early-bird parking charge did Bristol approve?", not "Was the free parking tariff scrapped?"
                         r"^\s*(?:and\s+)?what\s+(?:(?:is|was|are|were|will\s+be)\s+)?"
                         r"(?!(?:did|does|do|has|have|had|will|would|happened)\b)(?:[\w'\u2019-]+\s+){0,4}?"
                         r"(?:charges?|fees?|tariffs?|fares?|allowances?|rents?|prices?)\b"),
    "percentage": re.compile(r"\b(?:percentage|per ?cent|proportion|share|rate)\b|%"),
    # "What was the July peak in looked after children numbers?", "What capacity does the permission allow?"
    "count": re.compile(r"\bhow many\b|\bnumber of\b|\bcount\b|\bhow big\b|\bhow large\b|\bhow often\b|\b(?:numbers|peak|capacity)\b"),
    "date": re.compile(rf"^\s*(?:and\s+)?when\b|\bwhen {_AUXILIARY}\b|"
                       r"\b(?:what|which) (?:(?:new|revised|original|planned|expected|key|target|start|end|completion)\s+)?(?:dates?|days?|years?|months?|quarters?)\b(?![- ]to[- ]date)|"
                       r"\bwhat(?:'s| is| was| are| were) the (?:[\w-]+\s+){0,2}?(?<!to )(?:dates?|timescale)\b|"  # "what were the revised dates"
                       r"\b(?:by|until) when\b|\bdeadline\b|\bdue\b|\bby what date\b|\bhow long\b|"
                       # "What's the latest planned finish date?", "what revised timing does the update give?"; not "spent to date"
                       r"\b(?:start|end|finish|completion|closing|due|go-live|decision)\s+dates?\b|\b(?:timings?|timetable)\b"),
    "person": re.compile(rf"\b(?:who|whom|whose)\b|\b{_WHICH_PERSON}|\bname of\b|\bwhat is the name\b|\bnamed\b"),
    "decision": re.compile(r"\b(?:decide|decided|decision|decisions|agree|agreed|resolve|resolved|approve|approved|"
                           r"outcome|recommend\w*|endorse\w*|approval|delegat\w*)\b|"
                           # "What did the committee formally accept?", not "Which reasons were accepted as valid?"
                           r"\b(?:did|does|do|will|would)\s+(?:[\w'\u2019-]+\s+){0,5}?accept\b|"
                           # "What did the committee do with the petition?", "What happened to the amendment?"
                           r"\bwhat (?:did|does|will)\b.*\bdo (?:with|about)\b|\bwhat happened (?:to|with|at)\b"),
    "target": re.compile(r"\b(?:target|targets|aim|aims|aimed|goal|goals|ambition|trajectory|aspiration)\b"),
    # A colour asks for a rating ("How many KPIs came out red in Q3?", "red or amber?") unless it names a thing:
    # "green buses", "red-coloured cycle lanes", "the Green Paper".
    "rating": re.compile(r"\b(?:rag|rating|rated|grade|graded|judged|judgement)\b|\b(?:red|amber|green)\b"
                         r"(?=\s*(?:$|[?,.;:!)]|(?:or|and|in|at|on|for|by|during|against|from|when|as|this|last|under)\b))"),
    "vote": re.compile(r"\b(?:vote|votes|voted|voting|abstain\w*|unanimous\w*|carried|defeated)\b|\bin favour\b|"
                       r"\bhow many\b.*\b(?:backed|supported|opposed)\b"),  # "how many members backed the motion?"
    "yes_no": re.compile(rf"^\s*(?:and\s+)?{_AUXILIARY}\b"),
    # "Why did First Bus withdraw the 73?", "What reasons did officers give for ...?"; not "Which call-in reasons were valid?"
    "reason": re.compile(r"^\s*(?:and\s+|so\s+)?why\b|\bwhy (?:did|does|do|was|were|is|are|has|have|had|will|would|should|could)\b|"
                         r"\b(?:what|which) (?:was|were|is|are) the (?:main\s+)?reasons? (?:for|why|behind|given)\b|"
                         r"\bwhat reasons? (?:did|does|do|was|were|is|are|has|have|had)\b|\bfor what reason\b|\bwhat (?:led|caused)\b|"
                         r"\bon what grounds\b"),
}
# Words asking for a decision: a record of one says "APPROVE" or "RESOLVED", never "decide".
DECISION_WORDS = frozenset({"decide", "decided", "decides", "decision", "decisions"})
# Words that say what kind of answer is wanted rather than what it is about.
KIND_WORDS = frozenset(
    """how much many number count percentage per cent proportion share rate when date day year month quarter deadline
    due who whom whose name named what which value figure level total amount""".split()
) | DECISION_WORDS


@dataclass
class QueryAnalysis:
    text: str
    terms: list[str]  # content words, for BM25 and sentence overlap
    expansions: list[str] = field(default_factory=list)
    asks: frozenset[str] = frozenset()  # kinds of answer wanted: keys of ANSWER_KINDS
    years: list[str] = field(default_factory=list)

    @property
    def subject(self) -> list[str]:
        """The content words that say what the question is about, not what kind of answer it wants."""
        return [term for term in self.terms if term not in KIND_WORDS]


def tokens_of(text: str) -> list[str]:
    return _TOKEN.findall(fold_characters(text).lower())


def bare_word(token: str) -> str:
    """A token without its possessive: "Councillor Self's amendment" is about Councillor Self, as the minutes print him."""
    return token.removesuffix("'s")


def content_terms(text: str) -> list[str]:
    terms = []
    for token in tokens_of(text):
        token = bare_word(token)
        token = SPELLINGS.get(token, token)
        if token not in STOPWORDS and (len(token) > 1 or token.isdigit()):
            terms.append(token)
    return list(dict.fromkeys(terms))


# An opening that settles what is asked: "When did the funding begin?" asks for a date, not an amount.
LEADING_KINDS = (
    (re.compile(r"^\s*(?:and\s+|so\s+)?when\b"), "date"),
    (re.compile(r"^\s*(?:and\s+|so\s+)?why\b"), "reason"),
    (re.compile(r"^\s*(?:and\s+|so\s+)?(?:who|whom|whose)\b"), "person"),
    (re.compile(rf"^\s*(?:and\s+|so\s+)?{_WHICH_PERSON}"), "person"),  # "Which councillor seconded the recommendations?"
    (re.compile(r"^\s*(?:and\s+|so\s+)?how many\b"), "count"),
    (re.compile(r"^\s*(?:and\s+|so\s+)?how much\b"), "amount"),
    (re.compile(r"^\s*(?:and\s+|so\s+)?what (?:percentage|proportion|share)\b"), "percentage"),
)


# A question that opens with a clause setting the scene ("When Cabinet reconsidered the decision in March, what did
# it resolve?", "After the re-baseline, how much is the scheme allocated?"), asked by what follows the comma. "When
# is ...", "when did ..." is a question about a date.
_SCENE_CLAUSE = re.compile(
    r"^\s*(?:and\s+|so\s+)?(?:when|if|once|after|before|since|while)\s+"
    rf"(?P<scene>(?!(?:{_AUXILIARY}|might|must)\b)[^?,]*),\s*"
    rf"(?=(?:what|which|who|whom|whose|how|why|when|where|{_AUXILIARY})\b)")


def scene_and_main(folded: str) -> tuple[str, str]:
    """A question's scene-setting opening clause without its "when" or "after" (empty when it has none), and the
    clause that asks (see _SCENE_CLAUSE)."""
    match = _SCENE_CLAUSE.match(folded)
    return (match.group("scene"), folded[match.end():]) if match else ("", folded)


def answer_kinds(question: str) -> frozenset[str]:
    """The kinds of answer a question asks for (keys of ANSWER_KINDS), read from its main clause; an opening such
    as "when" or "how many" settles it, keeping only a target or yes/no beside it."""
    scene, folded = scene_and_main(fold_characters(question).lower())
    kinds = kinds_said(folded)
    for opening, kind in LEADING_KINDS:
        if opening.search(folded):
            return frozenset({kind}) | (kinds & {"target", "yes_no", "vote"})
    if not kinds and scene:
        # "When the committee voted on recommendation 4c, what was the result?": the scene says what is asked
        return kinds_said(scene) - {"yes_no"}
    return kinds


def kinds_said(text: str) -> frozenset[str]:
    """Every kind of answer whose cue the (folded, lower-case) text holds."""
    return frozenset(kind for kind, cue in ANSWER_KINDS.items() if cue.search(text))


def analyse_question(question: str, kinds_from: str | None = None) -> QueryAnalysis:
    """The question's words, expansions, years and the kinds of answer it asks for (read from `kinds_from`
    when given: a follow-up completed from the question before asks what its own words ask)."""
    folded = fold_characters(question).lower()
    terms = content_terms(question)
    expansions = []
    for term in terms:
        if term in ABBREVIATIONS:
            expansions.extend(content_terms(ABBREVIATIONS[term]))
        if term in ROLE_WORDS:
            expansions.append(ROLE_WORDS[term])
    return QueryAnalysis(
        text=question,
        terms=terms,
        expansions=[e for e in dict.fromkeys(expansions) if e not in terms],
        asks=answer_kinds(kinds_from or question),
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


def short_financial_years(text: str) -> set[str]:
    """The financial years a text writes in two digits, in full: "Q3 24/25" -> {"2024-25"}, "(09-10)" -> {"2009-10"}."""
    found = set()
    for match in _SHORT_FINANCIAL_YEAR.finditer(text):
        first, second = match.groups()
        if int(second) == (int(first) + 1) % 100 and not _NOT_YEARS_BEFORE.search(text[max(0, match.start() - 12):match.start()]):
            found.add(f"{'19' if int(first) >= 80 else '20'}{first}-{second}")
    return found


def periods_named(text: str) -> tuple[frozenset[str], frozenset[str]]:
    """The financial years ("2022-23", also written "22/23") and the single years a text names."""
    financial, single = short_financial_years(text), set()
    for first, second in _YEAR.findall(text):
        if second and int(second) == (int(first[2:]) + 1) % 100:
            financial.add(f"{first}-{second}")
        else:
            single.add(first)
    return frozenset(financial), frozenset(single)


# What a question may call a paper: "the 2005 report", "Bristol's October 2025 Workplace Parking Levy update".
PAPER_NOUNS = frozenset("""report reports update paper papers meeting minutes plan monitoring agenda notice review statement
    outturn briefing""".split())


def paper_years(text: str) -> frozenset[str]:
    """The years a question gives as a paper's date rather than as the period asked about: a year followed, within
    a few words that are neither stopwords nor numbers, by a word for a paper ("in the 2005 report", "Sunderland's
    February 2016 Children's Services progress report")."""
    tokens = tokens_of(text)
    years = set()
    for at, token in enumerate(tokens):
        if not _YEAR.fullmatch(token):
            continue
        for word in tokens[at + 1:at + 7]:
            if word in PAPER_NOUNS:
                years.add(token)
                break
            if word in STOPWORDS or word.isdigit():
                break
    return frozenset(years)


MONTH_NAMES = ("january", "february", "march", "april", "may", "june", "july", "august", "september", "october",
               "november", "december")
MONTHS = tuple(name[:3] for name in MONTH_NAMES)  # as a month's first three letters
# A month as papers write it, in full or short: "October", "Oct", "Sept".
MONTH_PATTERN = (r"(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|sep(?:t(?:ember)?)?|"
                 r"oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)")
_MONTH_YEAR = re.compile(rf"\b({'|'.join(MONTHS)})[a-z]*\.?\s+((?:19|20)\d\d)\b", re.I)  # "October 2025"
# A financial year in two-digit form, "24/25" or "(09-10)", as finance tables and their commentary write it; not a
# date's day and month ("10/11/2024"), a sum ("£10-11m"), a time or a range of ages, school years or pages.
_SHORT_FINANCIAL_YEAR = re.compile(r"(?<![\d/.£$-])(\d{2})\s?[/-]\s?(\d{2})(?![\d/.%-]|\s*(?:am|pm|m|bn|k|per|percent)\b|\s+"
                                   + MONTH_PATTERN + r")", re.I)
_NOT_YEARS_BEFORE = re.compile(r"\b(?:aged?|ages|years?|yrs?|pages?|pp?|paras?|paragraphs?|sections?|rows?|items?)\s*$", re.I)


def month_dates(text: str) -> frozenset[str]:
    """Every month a question names with its year, as the start of an ISO date: "2025-10" for "in October 2025"."""
    return frozenset(f"{year}-{MONTHS.index(month.lower()) + 1:02d}" for month, year in _MONTH_YEAR.findall(text))


def paper_dates(text: str) -> frozenset[str]:
    """The dates a question gives a paper (see paper_years), as the start of an ISO date: "2025-10" for
    "Bristol's October 2025 update", "2005" for "the 2005 report"."""
    years = paper_years(text)
    dated = {date for date in month_dates(text) if date[:4] in years}
    return frozenset(dated | (years - {date[:4] for date in dated}))


def lexical_query(analysis: QueryAnalysis) -> str:
    """The words BM25 looks for: the question's content words and their expansions."""
    return " ".join([*analysis.terms, *analysis.expansions])


# Words of a body's name that do not tell it from others: "Tintern Community Council" is asked about as
# "Tintern", "West of England Mayoral Combined Authority" as "the West of England".
AUTHORITY_GENERIC = frozenset({"county", "city", "council", "borough", "district", "metropolitan", "of", "the", "and",
                               "mayoral", "combined", "authority", "community", "parish", "town"})


def distinctive_words(name: str) -> list[str]:
    return [bare_word(word) for word in tokens_of(name) if word not in AUTHORITY_GENERIC]


def named_authority(question: str, authorities: list[str]) -> str | None:
    """The council a question names ("in Sunderland", "Kent's", "the West of England"), matched on its distinctive word(s)."""
    folded = f" {' '.join(distinctive_words(question))} "  # "Kent's" names Kent
    matches = []
    for authority in authorities:
        words = distinctive_words(authority)
        if words and f" {' '.join(words)} " in folded:
            matches.append(authority)
    return matches[0] if len(matches) == 1 else None
