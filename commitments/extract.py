"""Commitments in a paper: targets, promises, priorities, action-plan rows and recommendations.

Extraction works on a paper's chunks in reading order. Each chunk is cut into units
(sentences, list items, action-plan rows); a unit is a commitment when it states a
target, promises future action, or is an item of a priorities, actions or
recommendations list. Units that report a value on a known measure ("77.4% of these
assessments ...") are kept as `MeasureReport`s: they are the evidence later papers
give about earlier commitments.
"""
from __future__ import annotations

import calendar
import datetime as dt
import re
from dataclasses import dataclass, field

from commitments.phrase import measure_phrase
from core.records import Chunk, DocumentMeta
from core.text import fold_characters
from index.query import MONTH_NAMES

MAX_UNIT_CHARS = 700
MIN_UNIT_WORDS = 3

# ------------------------------------------------------------------ records


@dataclass
class Value:
    """A stated quantity: "85%", "640 children", "£4 million a year"."""

    text: str
    number: float
    unit: str  # "%" | "£" | "fte" | "" (a count)


@dataclass
class Commitment:
    doc_id: str
    chunk_id: int
    text: str
    kind: str  # "target" | "promise" | "priority" | "action" | "recommendation"
    measure: str
    authority: str | None = None
    date: str | None = None
    page: int | None = None
    section: str | None = None
    target: str | None = None
    target_value: Value | None = None
    direction: int = 0  # -1: lower is better, +1: higher is better, 0: not known
    due: str | None = None
    owner: str | None = None
    measure_known: bool = True  # False when the label came from the text's own words
    id: int | None = None
    status: str = "no later report"
    status_evidence: int | None = None
    phrase: str = ""  # the paper's own noun phrase for the measure; `measure` is the topic the linker groups by


@dataclass
class MeasureReport:
    """A unit that states where a measure stands, or that a commitment was kept."""

    doc_id: str
    chunk_id: int
    text: str
    measure: str
    values: list[Value] = field(default_factory=list)
    verdict: str | None = None  # "met" | "not met" from the words themselves
    authority: str | None = None
    date: str | None = None
    page: int | None = None
    section: str | None = None
    measure_known: bool = True
    id: int | None = None


@dataclass
class Unit:
    """A sentence, list item or table row, with what surrounds it."""

    chunk: Chunk
    text: str
    context: str = ""  # the sentences before it in its paragraph, for the measure of "We have set a target of 85%"
    list_kind: str | None = None  # set for items of a priorities/actions/recommendations list
    row_owner: str | None = None  # the accountability column of an action-plan row


@dataclass(frozen=True)
class Measure:
    label: str
    pattern: re.Pattern
    direction: int


# ------------------------------------------------------------------ measures


def _measure(label: str, pattern: str, direction: int = 0) -> Measure:
    return Measure(label, re.compile(pattern, re.IGNORECASE), direction)


# Most specific first: the first that matches names the measure.
MEASURES: tuple[Measure, ...] = (
    _measure("re-referrals", r"\bre-?\s?referral|\brepeat referral", -1),
    _measure("initial assessments within 7 working days", r"\binitial assessments?\b(?!/)", +1),
    _measure("core assessments within timescale", r"\bcore assessments?\b", +1),
    _measure("early intervention assessments (CAF)", r"\bCAFs?\b|early intervention assessments?|common assessment", +1),
    _measure("social work vacancy rate", r"vacanc|recruitment and retention|recruitment of (?:qualified )?social workers|"
             r"social (?:care )?(?:work(?:er)?|care) (?:practitioner )?recruitment|agency (?:social workers|staff|costs)|"
             r"recruitment (?:plan|timetable)|timetable for recruitment", -1),
    _measure("school absence of looked after children", r"\bmiss(?:ing|es)? 25 days|school attendance|school absence|"
             r"exclusions? from school", -1),
    _measure("care leavers in education, employment or training",
             r"education,? (?:training|employment),? (?:and|or) (?:employment|training)|employment,? education and training|"
             r"\bNEET\b|higher education", +1),
    _measure("educational attainment of looked after children", r"\bGCSE|educational (?:attainment|performance|outcomes)", +1),
    _measure("care leavers", r"care leaver|leaving care", 0),
    _measure("reviews within timescales", r"\breviews?\b[^.;]{0,80}\btimescales?|\breviews?\b[^.;]{0,40}maintained at", +1),
    _measure("child protection conferences and reviews", r"child protection (?:reviews?|conferences?)|conference chairs|"
             r"\bIROs?\b|independent reviewing officers?", +1),
    _measure("child protection plans and register", r"child protection (?:register|plans?)|\bCP plan", 0),
    _measure("adoption", r"\badoption|\badopters?\b|\badoptive|\bfoster to adopt", +1),
    _measure("placement stability and choice", r"placement (?:stability|choice|support|supply)|stability of placements|"
             r"in-house (?:foster|fostering)|accommodation services|choice of placements?|placements? for adolescents", +1),
    _measure("foster carer recruitment", r"\bfoster(?:ing)? (?:carers?|service|panel|recruitment)|foster to adopt", +1),
    _measure("looked after children numbers", r"looked after children|children looked after|\bLAC\b|children in care|"
             r"admissions? into care|\bcare orders?|\bCiC\b|(?:from|into) the care system", -1),
    _measure("family support services", r"family support|family resource (?:service|team)|\bFRT\b", 0),
    _measure("front door, contacts and MASH", r"\bMASH\b|front door|contact and triage|\btriage\b|\bcontacts?\b|"
             r"'?access'? team|referral, assessment", 0),
    _measure("safeguarding board and child protection committee", r"safeguarding board|area child protection committee", 0),
    _measure("information sharing and ICT systems", r"integrated children.?s system|\bICS\b|information sharing|"
             r"sharing information|\bICT\b|\bIRT\b|\bISA\b|electronic (?:case ?file|file)", 0),
    _measure("savings and budgets", r"\bsavings?\b|£\s?\d|\bbudgets?\b|\bcosts?\b", +1),
    _measure("child protection thresholds", r"\bthresholds?\b", 0),
    _measure("quality assurance and audit", r"\baudit|quality assurance|quality and consistency|evidence of (?:quality|improvement)", 0),
    _measure("assessment and care planning", r"assessment (?:teams?|model|tool|process)|care planning|\bassessments?\b", +1),
    _measure("staff development and practice standards", r"\btraining\b|professional advis|workshops?|practice standards|"
             r"best practice|staff development|valuing staff|\bcoach", 0),
    _measure("progress reports to members", r"progress report|report(?:ed)? to (?:this |the )?(?:executive )?committee|"
             r"\bbriefing\b|summary report|external improvement board|\bEIB\b|corporate parenting panel", 0),
    _measure("early help and preventative services", r"early help|preventative|prevention|early intervention", 0),
    _measure("locality and integrated services", r"localit|school pyramids?|integrated services|children.s centre|"
             r"one stop shop|joint management groups?|jointly commission", 0),
    _measure("mental health, self-harm and suicide", r"self-harm|suicide|mental health|therapeutic", 0),
    _measure("management capacity and structure", r"\bstructure\b|management (?:capacity|team|oversight)|\bposts?\b|"
             r"\brestructure|\bteams?\b", 0),
)
MEASURE_LABELS = tuple(m.label for m in MEASURES)
# Labels too broad to say two statements are about the same thing.
BROAD_LABELS = frozenset({"management capacity and structure", "assessment and care planning",
                          "staff development and practice standards", "quality assurance and audit", "savings and budgets"})


def known_measure(text: str) -> Measure | None:
    folded = fold_characters(text)
    return next((m for m in MEASURES if m.pattern.search(folded)), None)


_STOP = set(
    "a an and are as at be been being by for from has have in into is it its of on or our that the their these this "
    "those to was we were will with within which who whom would should must can could may more further all each any "
    "also there here than then so such not no new over under up down out about after before during until per year "
    "years month months next i ii iii iv v vi vii viii ix x xi xii ensure continue improve improving improved "
    "develop developing review reviewing undertake set plan planned proposal proposed recommendation current "
    "target targets aim order make made take".split()
)


def label_from_words(text: str, limit: int = 4) -> str:
    """A short label made of the unit's own content words, for measures the lexicon does not know."""
    words = re.findall(r"[A-Za-z][A-Za-z'-]+", fold_characters(text).lower())
    content = [w for w in words if w not in _STOP and len(w) > 2]
    return " ".join(list(dict.fromkeys(content))[:limit]) or "other"


# ------------------------------------------------------------------ dates

_MONTH = r"(?:Jan(?:uary)?|Feb(?:ruary)?|Mar(?:ch)?|Apr(?:il)?|May|June?|July?|Aug(?:ust)?|Sept?(?:ember)?|Oct(?:ober)?|Nov(?:ember)?|Dec(?:ember)?)"
_NUMBER_WORDS = {"one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9,
                 "ten": 10, "eleven": 11, "twelve": 12, "eighteen": 18, "twenty-four": 24}
_PREP = r"(?P<prep>\bby|\bin|\bduring|\bfrom|\bbefore|\buntil|\bfor|\bover|\bon|\bwithin|\bat|\bthroughout|[-–(])?\s*(?:the\s+)?(?:end\s+of\s+)?"

DAY_MONTH_YEAR = re.compile(_PREP + r"(?P<day>\d{1,2})(?:st|nd|rd|th)?\s+(?P<month>" + _MONTH + r")\b\.?,?\s+(?P<year>(?:19|20)\d{2})\b", re.I)
MONTH_RANGE_YEAR = re.compile(_PREP + r"(?:between\s+)?" + _MONTH + r"\s*(?:-|–|to|and)\s*(?P<month>" + _MONTH + r")\b\.?\s+(?P<year>(?:19|20)\d{2})\b", re.I)
MONTH_YEAR = re.compile(_PREP + r"(?P<month>" + _MONTH + r")\b\.?,?\s+(?P<year>(?:19|20)\d{2})\b", re.I)
SEASON_YEAR = re.compile(_PREP + r"(?P<part>early|mid|late|spring|summer|autumn|winter)[\s-]+(?P<year>(?:19|20)\d{2})\b", re.I)
FINANCIAL_YEAR = re.compile(_PREP + r"(?P<start>(?:19|20)\d{2})\s*[/-]\s*(?P<end>(?:19|20)\d{2}|\d{1,2})\b")
NEXT_PERIOD = re.compile(
    r"(?P<prep>\bby|\bin|\bduring|\bfor|\bover|\bwithin)?\s*(?:the\s+)?(?:next|coming|following)\s+(?P<n>\d{1,2}|"
    + "|".join(_NUMBER_WORDS) + r")?\s*(?P<unit>weeks?|months?|years?|quarters?)\b", re.I)
THIS_PERIOD = re.compile(r"\b(?P<which>this|next|the coming)\s+(?P<unit>week|month|year)\b", re.I)
MONTH_ALONE = re.compile(r"(?P<prep>\bby|\bin|\bduring|\bbefore|\buntil|\bon|\bfrom|\bfor)\s+(?:the\s+)?(?:end\s+of\s+)?"
                         r"(?:(?P<day>\d{1,2})(?:st|nd|rd|th)?\s+)?(?P<month>" + _MONTH + r")\b(?!\s*(?:19|20)\d{2})"
                         r"(?:\s+and\s+(?P<month2>" + _MONTH + r")\b)?", re.I)
SEASON_ALONE = re.compile(r"\b(?:in|by|during)\s+the\s+(?P<part>spring|summer|autumn|winter)\b", re.I)
BACKWARD = re.compile(r"\b(?:since|last|previous|ago|ending|ended)\s*$|\b(?:was|were|had|has been|have been)\b[^.,;]{0,25}$", re.I)

_SEASON_END = {"early": (3, 31), "spring": (5, 31), "mid": (6, 30), "summer": (8, 31), "autumn": (11, 30),
               "late": (12, 31), "winter": (12, 31)}


def month_number(name: str) -> int:
    return next(i for i, full in enumerate(MONTH_NAMES, 1) if full.startswith(name.lower()[:3]))


def month_end(year: int, month: int) -> dt.date:
    return dt.date(year, month, calendar.monthrange(year, month)[1])


def add_months(day: dt.date, months: int) -> dt.date:
    total = day.month - 1 + months
    year, month = day.year + total // 12, total % 12 + 1
    return dt.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def parse_iso(value: str | None) -> dt.date | None:
    try:
        return dt.date.fromisoformat(value) if value else None
    except ValueError:
        return None


@dataclass
class _Found:
    start: int
    date: dt.date
    preposition: str


def _looks_backward(text: str, start: int) -> bool:
    return bool(BACKWARD.search(text[max(0, start - 40):start]))


def _absolute_dates(text: str) -> list[_Found]:
    found: list[_Found] = []
    taken: list[range] = []

    def add(match: re.Match, when: dt.date) -> None:
        span = range(match.start(), match.end())
        if any(span.start < t.stop and t.start < span.stop for t in taken):
            return
        taken.append(span)
        found.append(_Found(match.start(), when, (match.group("prep") or "").strip().lower()))

    for match in DAY_MONTH_YEAR.finditer(text):
        try:
            add(match, dt.date(int(match["year"]), month_number(match["month"]), int(match["day"])))
        except ValueError:
            continue
    for pattern in (MONTH_RANGE_YEAR, MONTH_YEAR):
        for match in pattern.finditer(text):
            year, month = int(match["year"]), month_number(match["month"])
            starts = (match["prep"] or "").strip().lower() == "from"
            add(match, dt.date(year, month, 1) if starts else month_end(year, month))
    for match in SEASON_YEAR.finditer(text):
        month, day = _SEASON_END[match["part"].lower()]
        add(match, dt.date(int(match["year"]), month, day))
    for match in FINANCIAL_YEAR.finditer(text):
        start, end = int(match["start"]), match["end"]
        end_year = int(end) if len(end) == 4 else (start // 10 ** len(end)) * 10 ** len(end) + int(end)
        if end_year == start + 1:  # "2005/6", "2004/2005": the year ends on 31 March
            add(match, dt.date(end_year, 3, 31))
    return found


def _relative_dates(text: str, paper: dt.date) -> list[_Found]:
    found: list[_Found] = []
    for match in NEXT_PERIOD.finditer(text):
        n_text = (match["n"] or "1").lower()
        n = int(n_text) if n_text.isdigit() else _NUMBER_WORDS.get(n_text, 1)
        unit = match["unit"].lower().rstrip("s")
        if unit == "week":
            when = paper + dt.timedelta(days=7 * n)
        elif unit == "quarter":
            when = add_months(paper, 3 * n)
        else:
            when = add_months(paper, n * (12 if unit == "year" else 1))
        found.append(_Found(match.start(), when, (match["prep"] or "over").lower()))
    for match in THIS_PERIOD.finditer(text):
        which, unit = match["which"].lower(), match["unit"].lower()
        if unit == "week":
            when = paper + dt.timedelta(days=7)
        elif unit == "month":
            when = month_end(paper.year, paper.month) if which == "this" else month_end(*divmod_month(paper, 1))
        else:
            when = dt.date(paper.year + (which != "this"), 12, 31)
        found.append(_Found(match.start(), when, "in"))
    for match in MONTH_ALONE.finditer(text):
        month = month_number(match["month2"] or match["month"])
        when = _month_after(paper, month, int(match["day"]) if match["day"] and not match["month2"] else None)
        found.append(_Found(match.start(), when, match["prep"].lower()))
    for match in SEASON_ALONE.finditer(text):
        month, day = _SEASON_END[match["part"].lower()]
        when = dt.date(paper.year, month, day)
        if when < paper:
            when = dt.date(paper.year + 1, month, day)
        found.append(_Found(match.start(), when, "in"))
    return found


def divmod_month(day: dt.date, months: int) -> tuple[int, int]:
    later = add_months(day.replace(day=1), months)
    return later.year, later.month


def _month_after(paper: dt.date, month: int, day: int | None) -> dt.date:
    """The named month nearest after the paper; papers are often dated weeks after they were written."""
    for year in (paper.year, paper.year + 1):
        end = month_end(year, month)
        if end >= paper - dt.timedelta(days=62):
            try:
                return dt.date(year, month, day) if day else end
            except ValueError:
                return end
    return month_end(paper.year + 1, month)


_DUE_PREPOSITIONS = ("by", "before", "until", "within", "in", "during", "over", "for", "from", "on", "at", "throughout", "-", "–", "(")


def due_date(text: str, paper_date: str | None) -> str | None:
    """The date a commitment is due, ISO; relative phrases are resolved against the paper's own date.

    "by the end of March 2004" -> 2004-03-31; "over the next six months" in a paper of 15 March
    2005 -> 2005-09-15. A bare month is the end of that month. Dates that look backward
    ("since March 2004") are not due dates.
    """
    folded = fold_characters(text)
    paper = parse_iso(paper_date)
    candidates = [f for f in _absolute_dates(folded) if not _looks_backward(folded, f.start)]
    if paper is not None:
        candidates += [f for f in _relative_dates(folded, paper) if not _looks_backward(folded, f.start)]
        # A due date lies ahead of the paper, give or take the weeks between writing and meeting.
        candidates = [f for f in candidates if f.date >= paper - dt.timedelta(days=62)]
    if not candidates:
        return None
    rank = {p: i for i, p in enumerate(_DUE_PREPOSITIONS)}
    with_preposition = [f for f in candidates if f.preposition]
    pool = with_preposition or candidates
    best = min(pool, key=lambda f: (rank.get(f.preposition, len(rank)), f.start))
    return best.date.isoformat()


# ------------------------------------------------------------------ values and targets

_NUMBER = r"\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?"
VALUE = re.compile(
    r"(?P<currency>£)\s?(?P<cnum>" + _NUMBER + r")\s?(?P<scale>million|m\b|k\b|bn|billion)?"
    r"|(?P<num>" + _NUMBER + r")\s?(?P<unit>%|per ?cent\b|fte\b|per 10,?000)?",
    re.I,
)
COMPARATIVE_AFTER = re.compile(r"^\s*(?:above|below|higher|lower|more|less|over|under)\b(?! target)", re.I)
NOT_A_VALUE_AFTER = re.compile(r"^\s*(?:working days|days|weeks|hours|months|years?\b|yrs\b|days?\b|to \d|st\b|nd\b|rd\b|th\b|"
                               r"\)|/\d|-\d|year olds?|\+)", re.I)
NOT_A_VALUE_BEFORE = re.compile(r"(?:average(?: of| is| was)?|paragraph|item|appendix|grade|group|priority|aged|/|"
                                r"within|over|Year|rated|No\.?|E\d\d/|\bof the|between|-|x)\s*$", re.I)
# Paragraph numbers and list markers that open a unit: "3.14 ", "2.1.1 ", "iv) ", "- 1. ", "a) | ".
ENUMERATOR = re.compile(r"^\s*(?:[-•]\s*)?(?:\d{1,2}(?:\.\d{1,2})*\.?(?=\s+[A-Z(|*])|\(?(?:[ivx]{1,5}|[a-z])\)|[IVX]{1,4}\.)\s*(?:\|\s*)?")
YEAR_LIKE = re.compile(r"^(?:19|20)\d{2}$")


def values_in(text: str) -> list[Value]:
    """Quantities stated in `text`, leaving out years, dates, durations and "20% above the average" margins."""
    folded = ENUMERATOR.sub("", fold_characters(text))
    found: list[Value] = []
    for match in VALUE.finditer(folded):
        if match["currency"]:
            number = float(match["cnum"].replace(",", ""))
            scale = (match["scale"] or "").lower()
            number *= 1_000_000 if scale in ("million", "m") else 1_000_000_000 if scale in ("bn", "billion") else 1000 if scale == "k" else 1
            found.append(Value(match.group(0).strip(), number, "£"))
            continue
        raw, unit = match["num"], (match["unit"] or "").lower()
        before, after = folded[max(0, match.start() - 25):match.start()], folded[match.end():match.end() + 25]
        if not unit and (YEAR_LIKE.match(raw) or NOT_A_VALUE_AFTER.match(after)):
            continue
        if _inside_date(folded, match.start(), match.end()):
            continue
        if NOT_A_VALUE_BEFORE.search(before) and not unit:
            continue
        if COMPARATIVE_AFTER.match(after) and unit.startswith(("%", "per c")):
            continue  # "20% above the national average" is a margin, not a level
        unit = "%" if unit.startswith(("%", "per c")) else "fte" if unit == "fte" else "per 10,000" if unit.startswith("per 1") else ""
        found.append(Value(match.group(0).strip(), float(raw.replace(",", "")), unit))
    return found


def _inside_date(text: str, start: int, end: int) -> bool:
    window = text[max(0, start - 12):end + 14]
    return bool(re.search(r"\d{1,2}(?:st|nd|rd|th)?\s+" + _MONTH + r"\b|" + _MONTH + r"\s+\d{1,2}\b|\d{1,2}/\d{1,2}", window, re.I)) and \
        bool(re.match(r"\s*(?:st|nd|rd|th)?\s*" + _MONTH + r"\b", text[end:end + 14], re.I) or
             re.search(_MONTH + r"\s*$", text[max(0, start - 12):start], re.I) or re.match(r"/\d", text[end:end + 3]))


TARGET_LEAD = re.compile(
    r"\btargets?(?:ed)?\b(?:\s+(?:of|is|was|to|at|for|set at|set of))?(?:\s+(?:achieve|reach|be|reduce|increase|no more than|"
    r"not more than|under|below|above|over|at least|a maximum of|a minimum of|the))*\s*"
    r"|\b(?:aim(?:ing|s)?|plan(?:ning|s)?|intend(?:ing|s)?|expect(?:ing|s)?|propos(?:al|ed|e)|recommendation) is to "
    r"(?:\w+\s+){0,8}?(?:to|by)\s+"
    r"|\bfrom\s+(?:£?" + _NUMBER + r"%?\s*(?:fte\S?)?)\s*(?:staff\s+)?to\s+"
    r"|\breduc\w*\s+(?:\w+\s+){0,4}?to\s+|\bincrease\w*\s+(?:\w+\s+){0,4}?(?:to|by)\s+"
    r"|\b(?:no more than|not more than|under|below|at least|a maximum of|circa)\s+(?=£?\d)"
    r"|\b(?:achieve|deliver|reach)\s+(?:circa\s+)?(?=£?\d)"
    r"|\bdeliver (?:circa )?(?=£)",
    re.I,
)
TARGET_WORD = re.compile(r"\btargets?\b|\bstretch", re.I)
QUALIFIER = re.compile(r"(no more than|not more than|under|below|at least|a maximum of|a minimum of|circa|above|over)\s*$", re.I)
PER_YEAR = re.compile(r"^\s*(?:\w+\s+){0,2}?(?:per annum|a year|each year|per year)\b", re.I)
COUNT_NOUN = re.compile(r"^\s*((?:[A-Za-z][\w'-]*\s+){0,3}?(?:children|staff|posts|social workers|workers|carers|"
                        r"placements|households|families|young people|cases|assessments|reviews|referrals))\b", re.I)


@dataclass
class Target:
    text: str
    value: Value
    direction: int


def stated_target(text: str) -> Target | None:
    """The value a unit commits to: "a target of 85% by ..." -> 85%; "from 23% to 15%" -> 15% (lower is better)."""
    folded = fold_characters(text)
    for lead in TARGET_LEAD.finditer(folded):
        rest = folded[lead.end():lead.end() + 60]
        values = values_in(rest)
        if not values or not rest.lstrip().startswith(values[0].text[:1]) and not re.match(r"\s*(?:circa\s+)?£?\d", rest):
            continue
        value = values[0]
        lead_text = lead.group(0).lower()
        direction = -1 if re.search(r"reduc|no more|not more|under|below|maximum|from", lead_text) else 0
        if re.search(r"increase|at least|minimum|above|achieve", lead_text):
            direction = +1
        qualifier = QUALIFIER.search(lead.group(0))
        after = rest[rest.find(value.text) + len(value.text):]
        label = value.text
        if value.unit == "" and (noun := COUNT_NOUN.match(after)):
            label = f"{value.text} {noun.group(1).strip().lower()}"
        if PER_YEAR.match(after) or (value.unit == "£" and re.search(r"per annum|a year", after[:40], re.I)):
            label = f"{label} a year"
        if value.unit == "£":
            label = re.sub(r"£\s?(\d+)\s?m\b", r"£\1 million", label)
        if qualifier and qualifier.group(1).lower() not in ("circa",):
            label = f"{qualifier.group(1).lower()} {label}"
        return Target(label, value, direction)
    return None


# ------------------------------------------------------------------ owners

_CAP = r"[A-Z][\w'’&-]*"
_ROLE_TAIL = rf"(?:\s+(?:(?:and|of|for|&)\s+)?{_CAP})*"
ROLE = (
    rf"(?:(?:Interim|Assistant|Associate|Executive|Deputy|Acting)\s+)*(?:Director(?:\s+(?:of|for)\s+{_CAP}{_ROLE_TAIL})?"
    rf"|Head of {_CAP}{_ROLE_TAIL}|Chief Executive|Locality Managers?|Safeguarding Managers?|Performance Improvement Team|"
    rf"Service Managers?|IRO [Mm]anager|DCS(?: and (?:the )?Associate Director)?|Cabinet Member(?: for {_CAP}{_ROLE_TAIL})?|"
    rf"Portfolio Holder|Change Board|Corporate Management Team|Team Manager|Each Locality Manager|LM'?s|Leaving care team)"
)
PERSON = r"(?:[A-Z][a-z]+(?:-[A-Z][a-z]+)?\s+(?:[A-Z]\.\s+)?(?:Mc|Mac|O')?[A-Z][a-z]+(?:-[A-Z][a-z]+)?)"
NOT_PEOPLE = re.compile(r"^(?:Action Plan|Required Action|Performance Objective|Key Performance|Progress at|Social Care|"
                        r"Review Group|Joint Groups|Both posts|Service Priorities|Report on|Scope of|Education colleagues|"
                        r"Monthly reports|Quarterly Reports|Positive report|Focussed Audit|Review thresholds|"
                        r"School Attendance|Recruitment and|Implement|Develop|Audit|Set|Secure|Locality focus|Building evidence|"
                        r"Review Process|Improve|Commissioning Accommodation|Appointment of|Partnership with)",
                        re.I)
OWNER_BY = re.compile(rf"\b(?:overseen|led|chaired|co-?ordinated|managed|owned|taken forward|prepared|undertaken|delivered|"
                      rf"monitored) by (?:the |this |our )?({ROLE}|{PERSON})")
OWNER_SUBJECT = re.compile(rf"^(?:The |Each |Our )?({ROLE}|{PERSON})(?:\s+(?:and|&)\s+(?:the )?({ROLE}))?\s+(?:will|is to|are to|to)\b")
OWNER_TO_CHAIR = re.compile(rf"\b({ROLE}|{PERSON}) to (?:Chair|chair|lead)\b")
OWNER_LINE = re.compile(rf"^\s*({PERSON}|{ROLE})(?:\s*(?:[-–/,]|and\b).*)?$")


def owner_of(text: str) -> str | None:
    """Who a sentence says will do it: "overseen by the Head of Commissioning", "The IRO manager will ..."."""
    folded = fold_characters(text).strip()
    for pattern in (OWNER_BY, OWNER_TO_CHAIR):
        if match := pattern.search(folded):
            return _owner_name(match.group(1))
    if match := OWNER_SUBJECT.match(folded):
        names = [_owner_name(g) for g in match.groups() if g]
        return " and ".join(names)
    return None


def _owner_name(raw: str) -> str:
    name = raw.strip()
    if name.lower().startswith("each locality manager") or name.lower().startswith("lm"):
        return "Locality Managers"
    return name


def owners_in_row(lines: list[str]) -> str | None:
    """The people or roles named on their own lines of an action-plan row (its accountability column)."""
    names: list[str] = []
    for line in lines:
        line = fold_characters(line).strip()
        if not line or len(line.split()) > 9 or NOT_PEOPLE.match(line):
            continue
        match = OWNER_LINE.match(line)
        if match:
            for name in re.split(r"\s*/\s*", match.group(1)):
                cleaned = _owner_name(name)
                if cleaned and cleaned not in names:
                    names.append(cleaned)
    return ", ".join(names) or None


# ------------------------------------------------------------------ commitment patterns

PROMISE = re.compile(
    r"\b(?:we|I)\s+(?:will|shall|intend|plan|aim|are aiming|are planning|are determined|are committed|propose|"
    r"have set|are going to|must now)\b(?!\s+(?:see|not|be able to see))"
    r"|\bwill (?:also |now |then |further |\w+ly )?be (?:piloted|established|implemented|introduced|undertaken|completed|presented|reported|set|agreed|"
    r"reviewed|developed|extended|replaced|launched|rolled out|delivered|achieved|realised|held|run|appointed|"
    r"overseen|produced|made available|put in place|in place|included|used to|provided|coming into operation|"
    r"clustered|prepared|monitored|split|considered|created|recruited|advertised|commissioned|expanded|restructured|"
    r"a (?:renewed|further|gradual|continued) |an? '?[A-Z])"
    r"|\bthere will (?:be|continue)\b"
    r"|\b(?:is|are) (?:planned|proposed|scheduled)\b|\b(?:is|are) due (?:in|by|on|to be)\b|\bplanned for\b"
    r"|\bit is (?:planned|proposed|intended|anticipated|recommended)\b|\bthe plan is (?:for|to|not)\b"
    r"|\bplans are being developed\b|\b(?:proposal|recommendation) is to\b|\bis recommended\b"
    r"|\b(?:to be|are to be|is to be) (?:implemented|set|agreed|reported|presented|completed|provided|established|"
    r"undertaken|seen|held)\b"
    r"|\bwill (?:come into operation|prepare|continue to (?:meet|work)|take this forward|commence|complete|introduce|"
    r"establish|chair|identify|review and approve|have a Professional|increase the number|"
    r"further review|coach|complete audit|provide a briefing)\b"
    r"|\bwill need to (?:take place|be)\b|\bneeds? to be (?:agreed|strengthened|seen|settled)\b|\bneed to shift\b"
    r"|\bneed to urgently\b"
    r"|\bwith the aim of\b|\bare expected to\b|\bhave agreed to\b|\bagreed (?:it|that it) will\b"
    r"|\bdesired outcome (?:of|will|would)\b|\bwill be achieved (?:by|through)\b"
    r"|\bthe (?:Cabinet Member|Committee|Board) is asked to (?:approve|agree)\b"
    r"|\bwill improve significantly\b|\bWSCC\)? will provide\b"
    r"|\bthere is a meeting this week\b|\bshould be (?:agreed|completed|in place|implemented)\b"
    r"|\b(?:coming|becoming|will be) available\b"
    r"|\b(?:over|in|within|during) the (?:next|coming) (?:\d+|[a-z]+) (?:weeks?|months?|years?)\b",
    re.I,
)
# Targets reported as already reached are evidence, not commitments.
NOT_A_COMMITMENT = re.compile(r"\b(?:which we will see|it is unlikely that this will be achieved|we have achieved|"
                              r"helped us to deliver|has delivered our)\b", re.I)
TARGET_STATEMENT = re.compile(r"\btargets?\b", re.I)
LIST_ITEM = re.compile(r"^\s*(?:[-•]\s*)?(?:\(?(?:[ivx]{1,5}|[a-z])\)|[IVX]{1,4}\.|\d{1,2}\.(?!\d)|[-•])\s*")
ROMAN_OR_LETTER_ITEM = re.compile(r"^\s*(?:[-•]\s*)?(?:\(?(?:[ivx]{1,5}|[a-z])\)|[IVX]{1,4}\.)\s*")
DASH_ITEM = re.compile(r"^\s*[-•]\s+")
PARAGRAPH_NUMBER = re.compile(r"^\s*\d{1,2}(?:\.\d{1,2})*\.?\s+(?=[A-Z*])")
RECOMMENDATION_VERB = re.compile(r"^\s*(?:To\s+)?(?:agree|approve|endorse|adopt|authorise|delegate)\b", re.I)
# A recommendation printed without an enumerator, or lettered "A.": "APPROVE the proposal ...", "A. Agree to TRANSFER ...".
DECISION_ITEM = re.compile(r"^\s*(?:[A-Z][.)]\s+)?(?:To\s+)?(?:APPROVE|DELEGATE|AGREE|ENDORSE|ADOPT|AUTHORISE|Agree|Approve|"
                           r"Delegate|Endorse|Adopt|Authorise)\b")
# Who a list of recommendations is put to, on a line of its own between the lead-in and the items.
ADDRESSEE = re.compile(r"^That\s+(?:the\s+)?[A-Z][\w ,&'-]{0,90}$")
LETTER_ITEM = re.compile(r"^\s*[A-Z][.)]\s+")
# Papers that record what was decided: their resolutions settle the recommendations put to the meeting.
OUTCOME_RECORD = re.compile(r"\bminutes\b|record of decision|decision notice|decision recording", re.I)
DECIDED = re.compile(r"^\s*(?:\d+\)\s*)?(?:\d+\.\s+)?RESOLVED\b|^\s*(?:[A-Z][.)]\s+)?(?:APPROVE|DELEGATE|AGREE|ADOPT|ENDORSE)\b|"
                     r"\bI agree to\b")


def is_outcome_record(meta: DocumentMeta) -> bool:
    return bool(OUTCOME_RECORD.search(f"{meta.title or ''} {meta.committee or ''}"))
LIST_LEAD_KIND = (
    (re.compile(r"recommend|asked to|action recommended", re.I), "recommendation"),
    (re.compile(r"priorit", re.I), "priority"),
    (re.compile(r"\baction|challenges|planned|proposed|next steps", re.I), "action"),
)
TABLE_HEADER = re.compile(r"performance objective|required action|accountability|key performance issues|progress at", re.I)
TABLE_ROW_START = re.compile(r"^\s*(?:\d{1,2}\.\s+\S|[a-z]\)\s*$|[a-z]\)\s+\S)")
SENTENCE_END = re.compile(r"(?<!\b[A-Z])(?<!\be\.g)(?<!\bi\.e)(?<!\bNo)(?<!\bvs)(?<=[.!?])[\"”’)]?\s+(?=[A-Z\"“(£]|\d+(?:\.\d+)?%)"
                          r"|(?<=[a-z%)])\.(?=[A-Z][a-z])|(?<=\s)\.(?=[A-Z][a-z])")
HEADING = re.compile(r"^[^.!?:]{2,80}$")


def sentences_of(paragraph: str) -> list[str]:
    parts = SENTENCE_END.split(" ".join(paragraph.split()))
    return [p.strip() for p in parts if p and p.strip()]


def commitment_kind(unit: Unit) -> str | None:
    """Why `unit` is a commitment ("target", "promise", ...), or None when it is not one."""
    text = fold_characters(unit.text)
    if NOT_A_COMMITMENT.search(text):
        return None
    if unit.list_kind == "recommendation":
        return "recommendation" if RECOMMENDATION_VERB.match(LETTER_ITEM.sub("", LIST_ITEM.sub("", text))) else None
    if unit.list_kind in ("priority", "action"):
        return unit.list_kind
    if TARGET_STATEMENT.search(text) and stated_target(text) is not None:
        return "target"
    if PROMISE.search(text):
        if re.search(r"\b(?:is|are) asked to\b|\brecommend", text, re.I):
            return "recommendation"
        return "target" if stated_target(text) and TARGET_WORD.search(text) else "promise"
    return None


# ------------------------------------------------------------------ units


@dataclass
class _ListState:
    kind: str | None = None
    numbered: bool = False  # items are "1." rather than "i)" or "a)"
    heading: str = ""
    lead: str = ""  # the sentence that introduced the list: "The priorities for the next six months are:"


def _lead_kind(lead: str) -> str | None:
    for pattern, kind in LIST_LEAD_KIND:
        if pattern.search(lead):
            return kind
    return None


def units_of_chunks(chunks: list[Chunk]) -> list[Unit]:
    """Sentences, list items and action-plan rows of a paper's chunks, in reading order."""
    units: list[Unit] = []
    state = _ListState()
    in_table = False
    row: list[str] = []
    row_chunk: Chunk | None = None

    def flush_row() -> None:
        nonlocal row, row_chunk
        if row and row_chunk is not None:
            units.extend(_row_units(row_chunk, row))
        row, row_chunk = [], None

    for chunk in sorted(chunks, key=lambda c: c.ordinal):
        lines = chunk.text.splitlines()
        start = 0 if in_table else table_start(lines)
        if start is None:
            units.extend(_prose_units(chunk, lines, state))
            continue
        if start > 0:
            units.extend(_prose_units(chunk, lines[:start], state))
        in_table = True
        for line in lines[start:]:
            if TABLE_HEADER.search(line) or re.match(r"^\s*Action Plan\s*[-–]?\s*$", line):
                flush_row()
                continue
            if TABLE_ROW_START.match(line):
                flush_row()
                row_chunk = chunk
            if row_chunk is not None:
                row.append(line)
    flush_row()
    return [u for u in units if len(u.text.split()) >= MIN_UNIT_WORDS]


def table_start(lines: list[str]) -> int | None:
    """Index of the line where an action-plan table begins (two header cells within a few lines), else None."""
    for i, line in enumerate(lines):
        if TABLE_HEADER.search(line) and sum(bool(TABLE_HEADER.search(l)) for l in lines[i:i + 8]) >= 2:
            back = i
            while back > 0 and re.match(r"^\s*(?:Action Plan\s*[-–]?)?\s*$", lines[back - 1]) and lines[back - 1].strip():
                back -= 1
            return back
    return None


def _prose_units(chunk: Chunk, lines: list[str], state: _ListState) -> list[Unit]:
    units: list[Unit] = []
    paragraphs = _paragraphs(lines)
    for paragraph in paragraphs:
        first = paragraph[0].strip()
        text = " ".join(" ".join(paragraph).split())
        is_item = bool(LIST_ITEM.match(first)) or (state.kind == "recommendation" and bool(DECISION_ITEM.match(first)))
        numbered_paragraph = bool(PARAGRAPH_NUMBER.match(first)) and not DASH_ITEM.match(first) and not first.startswith("-")
        if is_item and state.kind and (not numbered_paragraph or state.numbered):
            units.append(Unit(chunk, text[:MAX_UNIT_CHARS], context=state.lead, list_kind=state.kind))
            continue
        if state.kind == "recommendation" and ADDRESSEE.match(text):
            # "Officer Recommendations:" / "That the Committee for Transport and Connectivity" / "1. Approve ..."
            state.numbered = True
            continue
        if HEADING.match(ENUMERATOR.sub("", text)) and len(text.split()) <= 12 and not text.endswith(":"):
            # A heading ("Priorities for Next Six Months") sets the scene for the list that may follow.
            state.kind, state.heading = _lead_kind(text), text
            state.numbered = False
            continue
        sentences = sentences_of(text)
        for i, sentence in enumerate(sentences):
            units.append(Unit(chunk, sentence[:MAX_UNIT_CHARS], context="\n".join(sentences[max(0, i - 3):i])))
        if text.endswith(":"):
            lead = sentences[-1] if sentences else text
            introduces_list = _lead_kind(lead) or re.search(r"\bare\s*:?$|below:?$|following:?$|asked to:?$", lead, re.I)
            state.kind = (_lead_kind(lead) or _lead_kind(state.heading)) if introduces_list else None
            state.numbered = False
            state.lead = lead
            state.heading = state.heading if state.kind else ""
            _peek_numbering(state, paragraphs, paragraph)
        elif not is_item or numbered_paragraph:
            state.kind = None
    return units


def _peek_numbering(state: _ListState, paragraphs: list[list[str]], current: list[str]) -> None:
    """Whether the list after a lead-in is numbered "1." (so "2." continues it rather than starting a paragraph)."""
    index = next((i for i, p in enumerate(paragraphs) if p is current), -1)
    if 0 <= index < len(paragraphs) - 1:
        nxt = paragraphs[index + 1][0].strip()
        state.numbered = bool(PARAGRAPH_NUMBER.match(nxt) or re.match(r"^\s*[-•]\s*\d", nxt))


def _paragraphs(lines: list[str]) -> list[list[str]]:
    """Blank-line separated paragraphs; a list item or numbered paragraph line also starts a new one."""
    paragraphs: list[list[str]] = []
    current: list[str] = []
    for line in lines:
        if not line.strip():
            if current:
                paragraphs.append(current)
            current = []
            continue
        if current and (LIST_ITEM.match(line) or PARAGRAPH_NUMBER.match(line)) and not current[-1].rstrip().endswith(("-", ",")):
            paragraphs.append(current)
            current = []
        current.append(line)
    if current:
        paragraphs.append(current)
    return paragraphs


def _row_units(chunk: Chunk, lines: list[str]) -> list[Unit]:
    """An action-plan row is one commitment: its cells joined, its owners from the accountability column."""
    cells = [" ".join(line.split()) for line in lines if line.strip()]
    if len(cells) < 2:
        return []  # a title row ("5. Targeted Performance Improvement Actions") commits to nothing itself
    text = " | ".join(cells)
    if len(text) > MAX_UNIT_CHARS:
        text = text[:MAX_UNIT_CHARS].rsplit(" ", 1)[0] + " ..."
    return [Unit(chunk, text, list_kind="action", row_owner=owners_in_row(cells))]


# ------------------------------------------------------------------ extraction


def measure_of(unit: Unit) -> tuple[str, int, bool]:
    """(label, direction, known) for a unit: from its own words, else from the sentences before it."""
    before = list(reversed(unit.context.splitlines()))  # nearest sentence first
    for text in (_row_key(unit) if " | " in unit.text else unit.text, unit.text, *before):
        if text and (measure := known_measure(text)):
            return measure.label, measure.direction, True
    return label_from_words(LIST_ITEM.sub("", unit.text)), 0, False


def _row_key(unit: Unit) -> str:
    """The first cells of a row name what it is about ("Audit of Referral and re-referral Rate")."""
    return " ".join(unit.text.split(" | ")[:2])


def extract_document(doc_id: str, meta: DocumentMeta, chunks: list[Chunk]) -> tuple[list[Commitment], list[MeasureReport]]:
    """Every commitment in a paper, and every statement of where a measure stands."""
    commitments: list[Commitment] = []
    reports: list[MeasureReport] = []
    records_outcomes = is_outcome_record(meta)
    for unit in units_of_chunks(chunks):
        kind = None if records_outcomes and DECIDED.search(unit.text) else commitment_kind(unit)
        label, direction, known = measure_of(unit)
        target = stated_target(unit.text) if kind else None
        if target and target.value.unit == "£":
            label, known = "savings and budgets", True
        where = dict(doc_id=doc_id, chunk_id=unit.chunk.chunk_id, authority=meta.authority, date=meta.date,
                     page=unit.chunk.page, section=unit.chunk.section)
        if kind:
            commitments.append(Commitment(
                **where, text=unit.text.strip(), kind=kind, measure=label,
                target=target.text if target else None, target_value=target.value if target else None,
                direction=(target.direction if target and target.direction else direction),
                due=due_date(unit.text, meta.date) or (due_date(unit.context, meta.date) if unit.list_kind else None),
                owner=unit.row_owner or owner_of(unit.text), measure_known=known,
                phrase=measure_phrase(unit.text, kind, target is not None) or "",
            ))
        stated = target or stated_target(unit.text)
        values = [v for v in values_in(unit.text) if not (stated and v.text == stated.value.text)]
        verdict = "met" if records_outcomes and DECIDED.search(unit.text) else verdict_of(unit.text)
        # Statements on a topic the lexicon does not know are kept when they commit or settle something:
        # a later paper's resolution on the same words is a follow-up however new the topic.
        if (known and (values or verdict or kind)) or (not known and (verdict or kind)):
            reports.append(MeasureReport(**where, text=unit.text.strip(), measure=label, values=values, verdict=verdict,
                                         measure_known=known))
    return commitments, reports


MET_WORDS = re.compile(r"\b(?:has|have) been (?:achieved|met|delivered|completed|established|appointed|implemented|agreed)\b|"
                       r"\b(?:achieved|delivered|met) (?:our|the|both|this)\b|\bis now (?:fully )?(?:in place|operational|established)\b|"
                       r"\bnow virtually been achieved\b|\bhave achieved\b|\bwas achieved\b|\bachieved\.?$", re.I)
NOT_MET_WORDS = re.compile(r"\bnot (?:been )?(?:achieved|met|delivered|reached)\b|\bunlikely\b|\bnot yet\b|\bmissed\b|"
                           r"\bremains? (?:poor|very high|a challenge)\b", re.I)


def verdict_of(text: str) -> str | None:
    folded = fold_characters(text)
    if NOT_MET_WORDS.search(folded):
        return "not met"
    if MET_WORDS.search(folded):
        return "met"
    return None
