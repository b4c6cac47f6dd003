"""What the answer step knows about each quotable line: one small function per feature.

`candidate_lines` turns the best passages into quotable units (sentences and table rows) and
`feature_matrix` describes each with the features below; the fitted scorer (index.scorer)
weighs them. Every feature is a number in about [0, 1], computed from the question analysis,
the passage and the line alone, so the same code serves answering, fitting and the ablation.
"""
from __future__ import annotations

import functools
import math
import re
import string
from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from core.records import Chunk, Hit
from index.names import GIVEN_NAMES
from index.query import DECISION_WORDS, MONTH_PATTERN, MONTHS, QueryAnalysis, month_dates, paper_dates, paper_years, periods_named, tokens_of
from index.units import ROW_SEPARATOR, Row, parsed_row, row_lines_of, sentence_units, table_captions

_DIGITS = re.compile(r"\d+(?:[.,]\d+)*")
_NUMBER_WORD = re.compile(
    r"\b(?:one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|thirteen|fourteen|fifteen|sixteen|seventeen|"
    r"eighteen|nineteen|twenty|thirty|forty|fifty|sixty|seventy|eighty|ninety|hundred|thousand|million|half|quarter|third)\b"
)
_MONTH_SAID = re.compile(rf"\b{MONTH_PATTERN}\b", re.I)
_DATE = re.compile(
    rf"\b(?:\d{{1,2}}(?:st|nd|rd|th)?\s+)?{MONTH_PATTERN}\b\.?\s*(?:\d{{2,4}})?|\b(?:19|20)\d{{2}}\b|\b\d{{1,2}}/\d{{1,2}}/\d{{2,4}}\b|"
    r"\b(?:q[1-4]|quarter [1-4])\b",
    re.I,
)


_NUMERIC_DATE = re.compile(r"\b(?:0?[1-9]|[12]\d|3[01])/(0?[1-9]|1[0-2])/(?:\d{2}|\d{4})\b")  # "31/03/25", as British papers write it


def months_said(text: str) -> frozenset[str]:
    """The months a text names, in full, short or in a numeric date ("31/03/25"), each as its first three letters ("oct")."""
    numeric = {MONTHS[int(month) - 1] for month in _NUMERIC_DATE.findall(text)}
    return frozenset(month.lower()[:3] for month in _MONTH_SAID.findall(text)) | numeric
_TITLED_NAME = re.compile(r"\b(?:Mr|Mrs|Ms|Miss|Dr|Cllr|Councillor|Sir|Dame|Professor|Prof)\.?\s+(?:[A-Z]\.?\s+){0,3}[A-Z][a-z]+")
_NAME = re.compile(r"\b[A-Z][a-z]+\s+(?:[A-Z]\.?\s+)?[A-Z][a-z']+(?:-[A-Z][a-z]+)?\b")
_NOT_NAME_WORDS = frozenset(
    """council county city borough district cabinet committee member members panel board chamber house hall services
    service children young people education health social care adult public the this that report strategy plan
    director directorate officer officers team teams school schools family hub hubs england local authority government
    department national regional corporate combined mayoral west east north south road street lane park transport
    policy levy fund funding programme project scheme january february march april may june july august september
    october november december monday tuesday wednesday thursday friday saturday sunday item minutes decision
    appendix annex section paragraph table page""".split()
)
# What a line holding each kind of answer looks like.
KIND_SHAPES: dict[str, Callable[[str, str], bool]] = {}
_AMOUNT = re.compile(r"£\s?-?\(?\d|\b\d[\d,.]*\s?(?:m|bn|k)\b|\b\d[\d,.]*\s(?:million|billion|thousand)\b|\(\d[\d,.]*\)", re.I)
_AMOUNT_FIGURE = re.compile(r"£\s?-?\(?\d[\d,.]*\)?\s?(?:m|bn|k|million|billion)?|\b\d[\d,.]*\s?(?:m|bn|k)\b|\b\d[\d,.]*\s(?:million|billion)\b", re.I)
_PERCENT_FIGURE = re.compile(r"\d[\d,.]*\s?(?:%|per ?cent)", re.I)
_PERCENT = re.compile(r"\d\s?%|\bper ?cent\b", re.I)
_DECISION = re.compile(
    r"\b(?:approve[sd]?|agree[sd]?|resolved?|decided?|decision|endorse[sd]?|delegate[sd]?|authorise[sd]?|"
    r"noted|recommend(?:s|ed|ation|ations)?|adopt(?:s|ed)?|accept(?:s|ed)?|reject(?:s|ed)?|refuse[sd]?)\b",
    re.I,
)
# A decision as minutes and decision notices record it, not a line that only mentions one: an operative verb
# opening the line ("1. RESOLVED that ...", "B. DELEGATE authority to ...", "(a) Adopt the ...", "III. To agree to ..."),
# a body that approved or agreed something, or the outcome of a vote ("the recommendation was LOST").
_OPERATIVE_VERB = (r"(?:resolved|agreed|approved?|agree|adopt(?:ed)?|delegated?|delegates|endorsed?|authorised?|decided|"
                   r"rejected|refused|deferred|referred)")
# A list item's marker: "a.", "(b)", "iv)", "3.".
_ITEM_MARK = r"\(?(?:[a-z]|[ivx]{1,4}|\d{1,2})[.)]"
_OPERATIVE = re.compile(
    r"^\s*(?:(?:[\u2022\u25aa\uf0b7*\-\u2013]|" + _ITEM_MARK + r")\s*)*(?:it was\s+)?(?:to\s+)?" + _OPERATIVE_VERB + r"\b"
    r"|(?:\s[-\u2013]|:)\s*" + _OPERATIVE_VERB + r"\b"
    r"|\b(?:committee|cabinet|council|panel|board|members|mayor|leader|executive)\s+(?:(?:unanimously|formally)\s+)?"
    r"(?:approved|agreed|resolved|endorsed|decided|adopted|rejected|refused|deferred)\b"
    r"|\bdecision taken\b|\bput to the vote\b|\bwas\s+(?:carried|lost|agreed|approved|withdrawn|rejected|defeated)\b",
    re.I,
)
_TARGET = re.compile(
    r"\b(?:target|targets|aim|aims|ambition|trajectory|aspiration|goal|expected to|will reduce|to reduce|to increase)\b|"
    # an action plan's aim written as a change: "Reduction in re-referrals from 23% to 15%"
    r"\b(?:reduc|increas|improv|rais|lower)\w*\b[^.;]{0,80}?\bfrom\s+[-\d.,]+\s?%?\s+to\s+[-\d.,]+",
    re.I,
)
# A line that states a target's value ("the target of 25.0% or lower", "Target: 80%", "from 23% to 15%"),
# not one that only measures against it ("2.4% lower than target", "performance against target was 77%").
_TARGET_FIGURE = r"(?<![\d.,])[£≤≥<>]?\s?(?!(?:19|20)\d\d\b)\d[\d,.]*\s?%?"
_TARGET_VALUE = re.compile(
    r"(?<!against )(?<!above )(?<!below )(?<!than )(?<!on )(?<!to )\b(?:target|aim|ambition|goal|trajectory)s?\b[^.;]{0,30}?"
    r"(?:\bof\b|\bis\b|\bwas\b|\bat\b|:|=|\bset\b|\bto\b)\s*"
    r"(?:(?:below|above|under|over|at least|at most|no more than|less than|more than|of)\s+)?" + _TARGET_FIGURE
    + r"|" + _TARGET_FIGURE + r"\s+(?:target|aim)\b|\bfrom\s+[-\d.,]+\s?%?\s+to\s+[-\d.,]+\s?%?",
    re.I,
)
# A line that measures against a target without giving its value: "21.5% which is 2.4% lower than target",
# "performance against target", "now below target". It says how a service did, not what the target was.
_AGAINST_TARGET = re.compile(
    r"\b(?:than|against|above|below|under|over|on|off|missed|exceeded|exceeding|met|meeting|beat|within|short of)\s+"
    r"(?:the\s+|its\s+|our\s+|their\s+|this\s+)?(?:\w+\s+)?targets?\b",
    re.I,
)
_RATING = re.compile(r"\b(?:RED|AMBER|GREEN|Red|Amber|Green|Outstanding|Good|Requires [Ii]mprovement|Inadequate)\b")
# Why something was done, as papers give it: "instigated to better utilise their new depot", "due to a lower-than-
# expected response rate", "following changes in Ofsted's reporting", "not taken forward as it would require ...".
_REASON = re.compile(
    r"\b(?:because|due to|owing to|as a result of|result(?:ed|ing|s)? from|in order to|so that|so as to|instigated|driven by|"
    r"caused by|reasons?|rationale|in light of|given that|on the grounds|to better|would require|as (?:it|this|they) would|"
    r"following (?:changes|concerns|feedback|the|a|an)|not (?:been )?(?:taken forward|progressed|pursued) as)\b",
    re.I,
)
# A vote's record; "for" and "against" alone are everywhere ("for first vehicle permits"), so only beside a count.
_VOTE = re.compile(r"\b(?:votes?|voted|voting|abstain\w*|abstention\w*|unanimous\w*|carried|in favour)\b|"
                   r"\b\d+\s+(?:members?\s+)?against\b|\b(?:for|against)\s*[:\-\u2013]\s*\d+\b", re.I)
_STATUS = re.compile(
    r"\b(?:met|achieved|exceeded|missed|not met|on track|off track|behind|ahead|below|above|yes|no|carried|lost|agreed|"
    r"approved|rejected|defeated|refused|deferred|withdrawn|unanimously)\b",
    re.I,
)
_VERB = re.compile(
    r"\b(?:is|are|was|were|be|been|has|have|had|will|would|can|could|should|may|must|did|does|do|"
    r"\w+ed|\w+es)\b",
    re.I,
)


# A recommendation or list item put as an infinitive: "c) To agree a further progress report ..." states what is asked.
_INFINITIVE_ITEM = re.compile(r"^\s*(?:" + _ITEM_MARK + r"\s*)?to\s+[a-z]{3,}\b", re.I)


# The headings of a questions paper: "Question 3 – A Resident", "Question by Mr X to Mrs Y", then "Answer" or
# "Mayor's Response" above the reply. Group 1 is set on a question's heading.
_QUESTION_PAPER_HEADING = re.compile(
    r"^\s*(?:(question\s*(?:\d+\b|by\b|from\b|[-\u2013:]))|(?:[\w'\u2019]+\s+){0,2}(?:answer|response|reply)\b[^\n]{0,30}$)", re.I | re.M)
_SHORT_CELL_WORDS = 8  # a cell of more words is commentary ("Detail: ...", "Summary: ...")
# A name (capitalised words) the question gives as a comparison or as its source, not as its subject:
# "comparing it with Leeds", "than England", "as shown in the West Sussex paper".
_NAME_WORDS = r"([A-Z][\w-]*(?:\s+[A-Z][\w-]*)*)(?:['\u2019]s)?"
_FRAMING_NAMES = (
    re.compile(r"\b(?:compar\w*(?:\s+(?:it|them|this|that))?\s+(?:with|to|against)|versus|vs\.?|than|relative to|"
               r"(?:shown|set out|reported|given) in|according to)\s+(?:the\s+)?" + _NAME_WORDS),
    re.compile(r"\b(?:in|from)\s+(?:the\s+)?" + _NAME_WORDS + r"\s+(?:paper|report|update|plan|minutes|table)\b"),
)
_TOTAL_LABEL = re.compile(r"^\s*(?:grand |net |overall )?totals?\s*$", re.I)
_CAPTION_NOTE = re.compile(r"\s*\((?:all\s+)?(?:figures|amounts|values|£)[^)]*\)+\s*$", re.I)  # "(All figures in £m)"
_FINANCIAL_YEAR = re.compile(r"\b(?:19|20)\d{2}[/-]\d{2}\b")
_LIST_NUMBER = re.compile(r"^\s*(?:\d{1,3}(?:\.\d{1,3})*\.?|\(?(?:\d{1,3}|[a-z]{1,3})\)|[a-z]\.)\s+", re.I)  # "4)" too


def records_decision(text: str) -> bool:
    """Whether any line of a passage records a decision (see _OPERATIVE)."""
    return any(_OPERATIVE.search(line) for line in text.splitlines())


def figures_in(text: str) -> frozenset[str]:
    """Numbers a text states, in digits or in words ("nine indicators")."""
    return frozenset(d.replace(",", "") for d in _DIGITS.findall(text)) | frozenset(_NUMBER_WORD.findall(text.lower()))


# A number that names a part of a paper or a process ("item 5", "Recommendation 6", "Appendix 2"), not a quantity.
_REFERENCE_NUMBER = re.compile(
    r"(?=\w{4,}\s+\d)"  # cheap to rule out, so a line without such a word is scanned quickly
    r"\b(?:recommendations?|appendix|appendices|annex|items?|questions?|sections?|tables?|paragraphs?|paras?|pages?|"
    r"figures?|charts?|phases?|stages?|options?|reasons?|parts?|schedules?|minutes?|rounds?|tranches?)\s+\d+(?:\.\d+)*[a-z]?\b",
    re.I,
)


def quantities_in(text: str) -> frozenset[str]:
    """Numbers that count or measure something: not a paragraph or reference number, a year (a financial year's
    "25" of "2024-25" too) or part of a date."""
    return figures_in(_REFERENCE_NUMBER.sub(" ", _DATE.sub(" ", _FINANCIAL_YEAR.sub(" ", _LIST_NUMBER.sub("", text)))))


# Number words that seldom count anything: "one of the packages", "in the quarter", "half of all referrals".
_NOT_COUNTS = frozenset({"one", "half", "quarter", "third"})


def counts_in(text: str) -> frozenset[str]:
    """Quantities that say how many: a sum of money or a percentage does not ("How many pupils" is not "£337.9m")."""
    return quantities_in(_PERCENT_FIGURE.sub(" ", _AMOUNT_FIGURE.sub(" ", text))) - _NOT_COUNTS


_FIGURE = rf"(?:\d[\d,.]*|{_NUMBER_WORD.pattern})"
_TIME_UNIT = r"(?:days?|weeks?|months?|years?|hours?|minutes?)\b"
# A figure that measures time: "within 10 school days", "90 minutes free", "35 working days". Not "105 a day".
_DURATION = re.compile(rf"\b({_FIGURE})\s+(?:(?!(?:a|an|per|each|every)\b)[a-z-]+\s+)?{_TIME_UNIT}")


def durations_in(text: str) -> frozenset[str]:
    """Figures that say how long something takes or lasts, not how many of a thing there are."""
    return frozenset(m.group(1).replace(",", "") for m in _DURATION.finditer(text.lower()))


# A question counting time: "How many working days ...?", "the number of weeks". Then a duration is a count.
_COUNTS_TIME = re.compile(rf"\b(?:how many|number of)\s+(?:[a-z-]+\s+)?{_TIME_UNIT}")


# A role printed after a name: "Adam Crowther, Head of City Transport", "Jo Bloggs (Interim Director)".
_ROLE_AFTER = re.compile(
    r"\s*[,(\u2013-]\s*(?:(?:interim|acting|deputy|assistant|senior|corporate|executive|strategic|service|area)\s+)*"
    r"(?:director|manager|head|officer|leader|chair|chief|member|councillor|commissioner|lead|cabinet|mayor)",
    re.I,
)


def people_named(text: str) -> tuple[frozenset[str], ...]:
    """The words of each name the line gives for someone: a titled name ("Councillor Self", "Mrs Chandler")
    without its title, or a capitalised pair that starts with a given name or is followed by a role."""
    names = [frozenset(tokens_of(m.group())[1:]) for m in _TITLED_NAME.finditer(text)]
    for match in _NAME.finditer(text):
        words = tokens_of(match.group())
        if not set(words) & _NOT_NAME_WORDS and (words[0] in GIVEN_NAMES or _ROLE_AFTER.match(text, match.end())):
            names.append(frozenset(words))
    return tuple(names)


def names_a_person(question: str, text: str, named: tuple[frozenset[str], ...] | None = None) -> bool:
    """Whether the line names someone the question does not already name (people_named, which may come remembered)."""
    asked = set(tokens_of(question))
    return any(not words <= asked for words in (people_named(text) if named is None else named))


# A table's money unit, given once in its caption, section or a header: "All figures in £m", "£000s", "(£k)".
_MONEY_UNIT = re.compile(r"£\s?'?(?:m|bn|k|000s?)\b|\bin £|\(£", re.I)


class TextFacts:
    """What carries_kind reads of a text that is not a candidate line (a table cell, a sentence): the facts a
    Candidate keeps, each worked out when first asked."""

    def __init__(self, text: str):
        self.text = text
        self.shown: dict[int, bool] = {}

    def shows(self, pattern: re.Pattern) -> bool:
        """Kept by the pattern's id, as Candidate.shows keeps it: hashing a compiled pattern hashes its program."""
        key = id(pattern)
        if key not in self.shown:
            self.shown[key] = bool(pattern.search(self.text))
        return self.shown[key]

    @functools.cached_property
    def quantities(self) -> frozenset[str]:
        return quantities_in(self.text)

    @functools.cached_property
    def counts(self) -> frozenset[str]:
        return counts_in(self.text)

    @functools.cached_property
    def people(self) -> tuple[frozenset[str], ...]:
        return people_named(self.text)

    def read_ahead(self) -> None:
        """Work out now what carries_kind reads of the text for any question (Scrutiny.read_ahead)."""
        self.quantities, self.counts, self.people  # noqa: B018
        for pattern in _KIND_PATTERNS:
            self.shows(pattern)


def carries_kind(kind: str, question: str, line: Candidate | TextFacts | str, asked_figures: frozenset[str] | None = None,
                 counts: frozenset[str] | None = None) -> bool:
    """Whether the line holds the kind of thing the question asks for (an amount, a date, a person, ...). A
    Candidate brings the facts it remembers; the question's `asked_figures` (figures_in) may come worked out,
    and `counts` may stand in for the line's own (line_holds leaves out durations)."""
    if isinstance(line, str):
        line = TextFacts(line)

    def asked() -> frozenset[str]:
        return figures_in(question) if asked_figures is None else asked_figures

    def new_quantities() -> bool:
        return bool(line.quantities - asked())

    if kind == "amount":
        return line.shows(_AMOUNT) and new_quantities()
    if kind == "percentage":
        return line.shows(_PERCENT)
    if kind == "count":
        return bool((line.counts if counts is None else counts) - asked())
    if kind == "date":
        return line.shows(_DATE)
    if kind == "person":
        return names_a_person(question, line.text, line.people)
    if kind == "decision":
        return line.shows(_OPERATIVE)
    if kind == "target":
        return line.shows(_TARGET) and bool(figures_in(line.text) or line.shows(_DATE))
    if kind == "rating":
        return line.shows(_RATING)
    if kind == "vote":
        return line.shows(_VOTE) and new_quantities()
    if kind == "yes_no":
        return line.shows(_STATUS)
    if kind == "reason":
        return line.shows(_REASON)
    return False


# The patterns carries_kind matches, whatever the question.
_KIND_PATTERNS = (_AMOUNT, _PERCENT, _DATE, _OPERATIVE, _TARGET, _RATING, _VOTE, _STATUS, _REASON)


# ------------------------------------------------------------------ candidates


@dataclass(frozen=True)
class Words:
    """A text's words (tokens_of), held as one string " w1 w2 ... ": small enough to keep with every line, and a
    word or the first five letters of one (a question's "referral" matches "referrals") is a substring test."""

    joined: str = " "

    @classmethod
    def of(cls, tokens: list[str]) -> Words:
        return cls(f" {' '.join(tokens)} ") if tokens else NO_WORDS

    def __or__(self, other: Words) -> Words:
        return Words(self.joined + other.joined[1:]) if other.joined != " " else self

    def holds(self, term: str) -> bool:
        return f" {term} " in self.joined or (len(term) >= 5 and f" {term[:5]}" in self.joined)

    def listed(self) -> list[str]:
        """The words in order, repeats included."""
        return self.joined.split()


NO_WORDS = Words()


def line_fact(method: Callable[[Candidate], object]) -> property:
    """A property of the line itself, whatever the question: worked out once and kept in `facts`, which every
    copy of the line shares, so a passage read again for another question is not parsed again."""
    name = method.__name__

    @functools.wraps(method)
    def get(self: Candidate):
        return self.remembered(name, lambda: method(self))

    return property(get)


@dataclass
class Candidate:
    """One quotable line of a retrieved passage."""

    hit_rank: int
    start: int
    end: int
    text: str
    unit: int  # its place in sentence_units(chunk text): where its stored vector sits
    caption: str = ""  # for a table row, the caption above its table
    row: Row | None = None  # the label and cells of a table row
    tabbed: bool = False  # a tab-separated row of a text paper
    previous: str = ""  # the line before it in the passage: a figure often follows the sentence naming it
    asked: bool = False  # part of a question put to the council (questions papers), not of its answer
    closeness: float = 0.0  # cosine of its vector to the question's
    learned_closeness: float = 0.0  # the same vectors as the answer model's fitted weighting reads them
    features: dict[str, float] = field(default_factory=dict)
    probability: float = 0.0
    # What the line holds of each kind asked for, and which question terms its words say: several features
    # ask the same, so each is worked out once.
    holds: dict[object, bool | frozenset[str]] = field(default_factory=dict, repr=False)
    facts: dict[object, object] = field(default_factory=dict, repr=False)  # see line_fact
    before: Candidate | None = field(default=None, repr=False)  # the line before, as a candidate: its text is `previous`

    @property
    def is_row(self) -> bool:
        return self.row is not None or self.tabbed

    def placed(self, rank: int) -> Candidate:
        """This line as a candidate from the passage ranked `rank`, for a new question: it keeps its facts,
        not what was worked out for another question."""
        candidate = object.__new__(Candidate)  # copy.copy, without its generic (and slower) path
        candidate.__dict__.update(self.__dict__, hit_rank=rank, closeness=0.0, learned_closeness=0.0, probability=0.0, features={}, holds={}, before=None)
        return candidate

    def read_ahead(self) -> None:
        """Work out now the facts every question asks of the line (Scrutiny.read_ahead)."""
        self.words, self.quantities, self.fragment_score, self.length  # noqa: B018

    def remembered(self, key: object, compute: Callable[[], object]) -> object:
        """A fact of the line, worked out the first time it is asked for."""
        try:
            return self.facts[key]
        except KeyError:
            found = self.facts[key] = compute()
            return found

    def shows(self, pattern: re.Pattern) -> bool:
        """Whether the line matches `pattern` (one of this module's, which live as long as the process: so it is
        kept by its id, as hashing a compiled pattern hashes its whole program, microseconds a time)."""
        return self.remembered(("shows", id(pattern)), lambda: bool(pattern.search(self.text)))

    @line_fact
    def words(self) -> Words:
        return Words.of(tokens_of(self.text))

    @line_fact
    def caption_words(self) -> Words:
        return Words.of(tokens_of(self.caption))

    @line_fact
    def quantities(self) -> frozenset[str]:
        return quantities_in(self.text)

    @line_fact
    def header_words(self) -> tuple[tuple[str, ...], ...]:
        """For a table row, the words of each header over a cell holding a value."""
        cells = self.row.cells if self.row is not None else ()
        headers = [tokens_of(header) for header, cell in cells if header and cell]
        # A word every header shares names the table, not the column: "Revenue Budget | Revenue Variance".
        shared = set.intersection(*map(set, headers)) if len(headers) > 1 else set()
        return tuple(tuple(word for word in words if word not in shared) or tuple(words) for words in headers)

    @line_fact
    def label_words(self) -> tuple[str, ...]:
        """For a table row, the words of its label; a "Total" row is labelled by its table's caption, without
        the caption's number or its note of units ("3b | Children, Young People & Education" over "Total | Revenue Variance: -9.9")."""
        if self.row is None:
            return ()
        if _TOTAL_LABEL.match(self.row.label) and self.caption:
            return tuple(tokens_of(_CAPTION_NOTE.sub("", self.caption.split(ROW_SEPARATOR)[-1])))
        return tuple(tokens_of(self.row.label))

    @line_fact
    def people(self) -> tuple[frozenset[str], ...]:
        return people_named(self.text)

    @line_fact
    def length(self) -> float:
        return length_of(self.text)

    @line_fact
    def counts(self) -> frozenset[str]:
        return counts_in(self.text)

    @line_fact
    def durations(self) -> frozenset[str]:
        return durations_in(self.text)

    @line_fact
    def periods(self) -> tuple[frozenset[str], frozenset[str]]:
        """The years the line is about. A table row's are in its label, headers and short cells: a year in a
        commentary cell ("Summary: ... since 2023") is background, not the row's period."""
        if self.row is None:
            return periods_named(self.text)
        short = [cell for _, cell in self.row.cells if len(cell.split()) <= _SHORT_CELL_WORDS]
        return periods_named(" ".join([self.row.label, *(header for header, _ in self.row.cells), *short]))

    @line_fact
    def fragment_score(self) -> float:
        return fragment_score(self)


def chunk_lines(chunk: Chunk) -> list[Candidate]:
    """Every quotable unit of one passage, in order (as from the passage ranked first)."""
    text = chunk.text
    rows = row_lines_of(chunk)
    captions = table_captions(text, rows)
    lines = []
    previous = ""
    asked = False
    for unit, (start, end) in enumerate(sentence_units(text, rows)):
        quote = text[start:end]
        line_start = text.rfind("\n", 0, start) + 1
        is_row = line_start == start and line_start in captions
        headings = list(_QUESTION_PAPER_HEADING.finditer(quote))
        asked = headings[-1].group(1) is not None if headings else asked
        lines.append(Candidate(
            hit_rank=0, start=start, end=end, text=quote, unit=unit, caption=captions.get(line_start, "") if is_row else "",
            row=parsed_row(quote) if is_row else None, tabbed="\t" in quote, previous=previous, asked=asked,
        ))
        previous = quote
    return lines


def candidate_lines(hits: list[Hit], lines_of: Callable[[Chunk], list[Candidate]] = chunk_lines) -> list[Candidate]:
    """Every quotable unit of the given passages, in passage order. `lines_of` may remember passages'
    lines (Scrutiny keeps the recent ones), so a passage read again keeps its lines' facts."""
    candidates = []
    for rank, hit in enumerate(hits):
        lines = [line.placed(rank) for line in lines_of(hit.chunk)]
        for before, line in zip(lines, lines[1:]):
            line.before = before
        candidates += lines
    return candidates


def passage_words_of(candidates: list[Candidate], passages: int) -> list[Words]:
    """Each passage's words, joined from its lines' (a passage's lines hold all its words)."""
    joined = [NO_WORDS] * passages
    for line in candidates:
        joined[line.hit_rank] = joined[line.hit_rank] | line.words
    return joined


# ------------------------------------------------------------------ the question, once


@dataclass
class AskedQuestion:
    """What every feature needs to know about the question, computed once."""

    analysis: QueryAnalysis
    weights: dict[str, float]  # idf of each question term
    hits: list[Hit]
    named_authority: str | None = None
    unseen_idf: float = 1.0  # the idf of a word no paper holds, to put the others on a 0-1 scale
    absent_councils: tuple[str, ...] = ()  # councils the question names that have no papers: a line must name them
    own_terms: tuple[str, ...] = ()  # a follow-up's own words (ReadQuestion.own_terms): the inherited ones name the last answer
    period_text: str = ""  # the words whose months and quarters are asked (ReadQuestion.period_text); the question's when empty
    lines: list[Candidate] = field(default_factory=list, repr=False)  # every line of the passages read (set with them)

    @functools.cached_property
    def figures(self) -> frozenset[str]:
        return figures_in(self.analysis.text)

    @functools.cached_property
    def question_tokens(self) -> frozenset[str]:
        return frozenset(tokens_of(self.analysis.text))

    @property
    def period_words(self) -> str:
        """The words whose periods are asked: a follow-up naming a period of its own ("and in 2009?") asks about that
        one alone; any other question, about the periods its text names."""
        return self.period_text or self.analysis.text

    @functools.cached_property
    def periods(self) -> tuple[frozenset[str], frozenset[str]]:
        """The years asked about (see period_words)."""
        return periods_named(self.period_words)

    @functools.cached_property
    def printed_roles(self) -> tuple[re.Pattern, ...]:
        return printed_roles(self.analysis.text)

    @functools.cached_property
    def role_cues(self) -> tuple[re.Pattern, ...]:
        """The broader cues (ROLES) of the parts the question asks about: worked out once, not once a line."""
        return printed_roles(self.analysis.text, ROLES)

    @functools.cached_property
    def counts_time(self) -> bool:
        """The question counts days, weeks or years ("how many days ..."): then a duration is a count."""
        return bool(_COUNTS_TIME.search(self.analysis.text.lower()))

    @functools.cached_property
    def subject_terms(self) -> list[str]:
        """What the question is about: its subject, or all its terms when it names none apart."""
        return self.analysis.subject or self.analysis.terms

    @functools.cached_property
    def inherited_terms(self) -> list[str]:
        """A follow-up's terms that came from the questions before, not typed this turn; none for a question that
        stands alone."""
        own = set(self.own_terms)
        return [term for term in self.analysis.terms if term not in own] if own else []

    @functools.cached_property
    def asked_terms(self) -> tuple[str, ...]:
        """Every term the overlap features look for: the subject's, the question's and their expansions."""
        return tuple(dict.fromkeys([*self.subject_terms, *self.analysis.terms, *self.analysis.expansions]))

    @functools.cached_property
    def paper_years(self) -> frozenset[str]:
        return paper_years(self.analysis.text)

    @functools.cached_property
    def paper_dates(self) -> frozenset[str]:
        return paper_dates(self.analysis.text)

    @functools.cached_property
    def month_dates(self) -> frozenset[str]:
        return month_dates(self.analysis.text)

    @functools.cached_property
    def question_words(self) -> Words:
        return Words.of(tokens_of(self.analysis.text))

    @functools.cached_property
    def events(self) -> tuple[re.Pattern, ...]:
        """What the question asks the date of (see EVENTS): "When did the funding begin?" asks when something started."""
        return tuple(event for event in EVENTS if event.search(self.analysis.text)) if "date" in self.kinds else ()

    @functools.cached_property
    def asks_progress(self) -> bool:
        """The question asks whether a target was met ("Did they meet it?"), not what the target was."""
        return "yes_no" in self.kinds or bool(_PROGRESS_ASKED.search(self.analysis.text))

    @functools.cached_property
    def named_only_to_compare(self) -> frozenset[str]:
        """Words the question names only as what it compares with or where to look ("comparing it with Leeds",
        "as shown in the West Sussex paper"): they frame the question, they are not what it asks about."""
        text = self.analysis.text
        framing = sorted({m.span(1) for pattern in _FRAMING_NAMES for m in pattern.finditer(text)})
        inside = {word for start, end in framing for word in tokens_of(text[start:end])}
        rest = list(text)
        for start, end in framing:
            rest[start:end] = " " * (end - start)
        return frozenset(inside - set(tokens_of("".join(rest))))

    @functools.cached_property
    def top_score(self) -> float:
        return max((hit.score for hit in self.hits), default=1.0) or 1.0

    @functools.cached_property
    def kinds(self) -> frozenset[str]:
        return asked_kinds(self.analysis)

    @functools.cached_property
    def paper_words(self) -> list[Words]:
        """Each passage's council and paper title."""
        return [Words.of(tokens_of(f"{hit.document.meta.authority or ''} {hit.document.meta.title or ''}")) for hit in self.hits]

    @functools.cached_property
    def framing_words(self) -> list[Words]:
        """Each passage's council, paper title and section."""
        return [paper | Words.of(tokens_of(hit.chunk.section or "")) for paper, hit in zip(self.paper_words, self.hits)]

    @functools.cached_property
    def framing_terms(self) -> list[frozenset[str]]:
        """The question's terms each passage's council, paper title and section hold."""
        return [terms_held(self, words) for words in self.framing_words]

    @functools.cached_property
    def numbered_proposals(self) -> dict[tuple[str, str], float]:
        """For each paper read and each numbered item its lines open ("3. Authorise ...", "Recommendation 4c Approves ..."),
        how much of the question's subject the item's line says (the most, over the lines opening that number)."""
        found: dict[tuple[str, str], float] = {}
        for line in self.lines:
            number = opening_item_number(line.text)
            if number is not None:
                key = (self.hits[line.hit_rank].document.doc_id, number)
                found[key] = max(found.get(key, 0.0), subject_overlap(line, self))
        return found

    @functools.cached_property
    def passage_words(self) -> list[Words]:
        """Each passage's own text."""
        return [Words.of(tokens_of(hit.chunk.text)) for hit in self.hits]


def asked_kinds(analysis: QueryAnalysis) -> frozenset[str]:
    """The kinds of answer looked for: those the question asks, leaving out yes/no beside any other."""
    return analysis.asks - {"yes_no"} or analysis.asks


def in_money_table(c: Candidate, q: AskedQuestion) -> bool:
    """A table row whose table gives its money unit once, so its bare figures ("-9.9") are amounts."""
    if not c.is_row:
        return False
    headers = " ".join(header for header, _ in c.row.cells if header) if c.row else ""
    return bool(_MONEY_UNIT.search(f"{q.hits[c.hit_rank].chunk.section or ''} {c.caption} {headers}"))


def line_holds(kind: str, c: Candidate, q: AskedQuestion) -> bool:
    """Whether the line holds the kind of answer asked for, reading a money table's bare figures as amounts.
    Remembered on the candidate, which belongs to this one question."""
    if kind not in c.holds:
        if kind == "count" and in_money_table(c, q):
            c.holds[kind] = False  # its bare figures are sums of money, not numbers of things
        else:
            # Kept with the line, but only worked out when asked for. "Within 10 school days" says how long,
            # not how many, unless the question counts days.
            counts = (c.counts if q.counts_time else c.counts - c.durations) if kind == "count" else None
            c.holds[kind] = carries_kind(kind, q.analysis.text, c, q.figures, counts) or (
                kind == "amount" and in_money_table(c, q) and bool(c.quantities - q.figures))
    return c.holds[kind]


def weighted_overlap(terms: list[str], expansions: list[str], weights: dict[str, float], text: str) -> float:
    """Share of the (idf-weighted) terms that `text` contains; an abbreviation's expansion counts half."""
    return overlap_of_words(terms, expansions, weights, Words.of(tokens_of(text)))


def overlap_of_words(terms: list[str], expansions: list[str], weights: dict[str, float], words: Words) -> float:
    """`weighted_overlap` over a text already split into words."""
    return overlap_said(terms, expansions, weights, words.holds)


def overlap_said(terms: list[str], expansions: list[str], weights: dict[str, float], says: Callable[[str], bool]) -> float:
    """`weighted_overlap` of whatever `says` a term."""
    total = sum(weights.get(term, 1.0) for term in terms)
    if not total:
        return 0.0
    matched = sum(weights.get(term, 1.0) for term in terms if says(term))
    matched += sum(0.5 * weights.get(term, 1.0) for term in expansions if says(term))
    return min(1.0, matched / total)


def overlap_in(terms: list[str], expansions: list[str], weights: dict[str, float], said: frozenset[str]) -> float:
    """`overlap_said` where the terms said are already known: a set test is much cheaper than a call per term."""
    return overlap_said(terms, expansions, weights, said.__contains__)


def terms_held(q: AskedQuestion, words: Words) -> frozenset[str]:
    """The question's terms (subject, terms and expansions) that `words` hold."""
    return frozenset(term for term in q.asked_terms if words.holds(term)) if words is not NO_WORDS else frozenset()


def terms_said(c: Candidate, q: AskedQuestion) -> frozenset[str]:
    """The question's terms the line's own words hold; asked by several features, so kept for the question."""
    if "said" not in c.holds:
        c.holds["said"] = terms_held(q, c.words)
    return c.holds["said"]


# ------------------------------------------------------------------ features: one function each


# Subject words that name the kind of answer asked for: a line holding a target answers "what was the
# target?" without the word itself ("Reduction in re-referrals from 23% to 15%").
WORDS_FOR_KIND = {"target": {"target", "targets", "aim", "aims", "goal", "ambition"},
                  "percentage": {"percentage", "proportion", "share"}, "count": {"number"}, "date": {"date"},
                  "vote": {"vote", "votes", "voted", "voting", "favour", "against"},
                  "decision": DECISION_WORDS, "reason": {"reason", "reasons"}}


def kind_terms_said(c: Candidate, q: AskedQuestion) -> frozenset[str]:
    """The question's terms that name a kind of answer asked for which the line holds: "Reduction in re-referrals
    from 23% to 15%" says "target" without the word, so it counts as said."""
    if "kind_said" not in c.holds:
        said = [word for kind in q.kinds if line_holds(kind, c, q) for word in WORDS_FOR_KIND.get(kind, ())]
        c.holds["kind_said"] = terms_held(q, Words.of(said)) if said else frozenset()
    return c.holds["kind_said"]


def subject_overlap(c: Candidate, q: AskedQuestion) -> float:
    """How much of what the question is about the line itself says."""
    return overlap_in(q.subject_terms, q.analysis.expansions, q.weights, terms_said(c, q) | kind_terms_said(c, q))


def context_overlap(c: Candidate, q: AskedQuestion) -> float:
    """The same, counting the paper's council, title, section and the table caption as part of the line."""
    said = terms_said(c, q) | kind_terms_said(c, q) | q.framing_terms[c.hit_rank] | terms_held(q, c.caption_words)
    return overlap_in(q.analysis.terms, q.analysis.expansions, q.weights, said)


def own_overlap(c: Candidate, q: AskedQuestion) -> float:
    """How much of what a follow-up itself says the line or its table's caption says: after "How much is going to
    Avon Fire and Rescue?", "and to Bristol City Council?" is said by Bristol's row and not by Avon's, though
    Avon's matches more of the question as completed. 0 for a question that stands alone."""
    if not q.own_terms:
        return 0.0
    return overlap_said(list(q.own_terms), [], q.weights, lambda term: c.words.holds(term) or c.caption_words.holds(term))


def inherited_overlap(c: Candidate, q: AskedQuestion) -> float:
    """How much of what a follow-up took from the questions before (the words it did not type itself) the line
    says: high for the line that answered before. "and how many members voted in favour?" after "When did Kent
    expect to adopt the Minerals and Waste Local Plan?" is not answered by "Adopt the Kent Minerals and Waste
    Local Plan". 0 for a question that stands alone."""
    if not q.own_terms:
        return 0.0
    return overlap_said(q.inherited_terms, [], q.weights, c.words.holds)


def closeness(c: Candidate, q: AskedQuestion) -> float:
    """Cosine of the line's meaning to the question's (late-chunked sentence vector)."""
    return c.closeness


def learned_closeness(c: Candidate, q: AskedQuestion) -> float:
    """The line's closeness to the question as the answer model's fitted weighting of the embedding reads it
    (AnswerModel.closeness): closer for lines like those that answered dev's questions."""
    return c.learned_closeness


def closeness_rank(c: Candidate, q: AskedQuestion, best: float | None = None) -> float:
    """Closeness relative to the closest line: 0 for the closest, negative below it."""
    return c.closeness - (best if best is not None else c.closeness)


def passage_score(c: Candidate, q: AskedQuestion) -> float:
    return max(q.hits[c.hit_rank].score, 0.0) / q.top_score


def passage_rank(c: Candidate, q: AskedQuestion) -> float:
    return 1.0 / (1.0 + c.hit_rank)


def kind_match(c: Candidate, q: AskedQuestion) -> float:
    """Share of the kinds of answer asked for (amount, date, person, ...) that the line holds."""
    if not q.kinds:
        return 0.0
    return sum(line_holds(kind, c, q) for kind in q.kinds) / len(q.kinds)


def kind_missing(c: Candidate, q: AskedQuestion) -> float:
    """1 when the question asks for a kind of answer and the line holds none of it."""
    return float(bool(q.kinds) and not feature_value("kind_match", c, q))


def matched_kind_overlap(c: Candidate, q: AskedQuestion) -> float:
    """The subject overlap of a line that also holds what is asked for: the two together make an answer."""
    return feature_value("subject_overlap", c, q) * feature_value("kind_match", c, q)


def person_match(c: Candidate, q: AskedQuestion) -> float:
    """A "who" question and a line that names someone the question does not."""
    return float("person" in q.kinds and line_holds("person", c, q))


# The part someone plays, as a "who" question asks it and as papers print it: "Who wrote ...?" is answered
# by a "Report author:" or contact line, "Who chaired ...?" by "(Chairman)", "Who took the decision?" by
# "To: ..., Cabinet Member for ...". Papers of any council print these the same few ways.
_AUTHOR_CUES = (r"author|contact|job title|prepared by|lead officer|report of|report by|from:|tel(?:ephone)?\b|e-?mail|@|"
                r"\b(?:director|manager|head of|officer)\b")
ROLES: tuple[tuple[re.Pattern, re.Pattern], ...] = tuple(
    (re.compile(asked, re.I), re.compile(printed, re.I))
    for asked, printed in (
        (r"\b(?:wrote|written|writes|author|prepared|contact)\b", rf"(?:{_AUTHOR_CUES})"),
        (r"\bchair(?:ed|s|man|woman|person)?\b|\bpresided\b", r"\bchair(?:ed|man|woman|person)?\b|\bin the chair\b|\bpresid"),
        (r"\b(?:present(?:ed|s)?|introduc(?:ed|es)?)\b",
         rf"\b(?:present(?:ed|s|ing)|introduc(?:ed|es|ing)|outlined|took (?:the )?(?:committee|members) through)\b|(?:{_AUTHOR_CUES})"),
        (r"\b(?:took|made|signed|responsible for)\b.*\bdecision\b|\bdecision[- ]maker\b|\bwho decided\b",
         r"^\s*to:|\bdecision[- ]maker\b|\bcabinet member for\b|\bportfolio holder\b|\bsigned\b|\bdecision taken by\b"),
        (r"\bpropos(?:ed|er)\b|\bsecond(?:ed|er)\b", r"\bpropos(?:ed|er)\b|\bsecond(?:ed|er)\b"),
        (r"\b(?:asked|question(?:ed)?|wrote to|statement|petition)\b",
         r"\bquestion (?:\d+|from)\b|\bstatement (?:\d+|from)\b|\bpetition from\b|\basked\b"),
    )
)


# Where a paper prints who played a part, narrower than ROLES' printed cues: a "who wrote" question also
# reads the passage holding "Report Author:" or "Contact officer:", which ranks low as it says little else.
ROLE_RECORDS: tuple[tuple[re.Pattern, re.Pattern], ...] = tuple(
    (re.compile(asked, re.I), re.compile(printed, re.I | re.M))
    for asked, printed in (
        (r"\b(?:wrote|written|writes|author(?:ed|s)?|prepared)\b",
         r"\breport authors?\b|\bauthors?:|\bcontact officers?\b|\bcontact details\b|\bprepared by\b"),
        (r"\bchair(?:ed|s)?\b|\bpresided\b", r"\((?:vice[- ])?chair(?:man|woman|person)?\)|\bin the chair\b|^\s*present\b"),
    )
)


def printed_roles(question: str, roles: tuple[tuple[re.Pattern, re.Pattern], ...] = ROLE_RECORDS) -> tuple[re.Pattern, ...]:
    """What prints who played the parts a question asks about (of `roles`: ROLE_RECORDS or ROLES); none when it asks
    about no such part."""
    return tuple(printed for asked, printed in roles if asked.search(question))


def records_role(printed: tuple[re.Pattern, ...], text: str) -> bool:
    """Whether a passage prints who played a part, given what prints it (printed_roles of the question)."""
    return any(pattern.search(text) for pattern in printed)


def role_match(c: Candidate, q: AskedQuestion) -> float:
    """A "who" question about a part someone played and a line that names someone in that part."""
    if "person" not in q.kinds:
        return 0.0
    return float(records_role(q.role_cues, c.text) and line_holds("person", c, q))


def role_record(c: Candidate, q: AskedQuestion) -> float:
    """A "who" question about a part someone played and a line naming someone where the paper records it:
    under "Report Authors:", or on the attendance line "Mr X (Chairman)". Narrower than role_match, whose cues
    ("Director", "From:") also fit the names heading a report."""
    if "person" not in q.kinds or not line_holds("person", c, q):
        return 0.0
    return float(records_role(q.printed_roles, c.text) or records_role(q.printed_roles, c.previous))


def date_match(c: Candidate, q: AskedQuestion) -> float:
    return float("date" in q.kinds and c.shows(_DATE))


# What happens at a date, in the words questions and papers use for it: "When did the funding begin?" is
# answered by "The funding commenced on 1 January 2025", not by another date of the same paragraph.
EVENTS = tuple(re.compile(words, re.I) for words in (
    r"\b(?:begin|began|begun|beginning|start(?:s|ed|ing)?|commenc\w*|launch\w*|introduc\w*|came into (?:effect|force)|"
    r"go(?:es)? live|went live|open(?:s|ed|ing)?)\b",
    r"\b(?:end(?:s|ed|ing)?|finish\w*|complet\w*|until|expir\w*|clos(?:e|es|ed|ing|ure)|conclu\w*|runs? to)\b",
    r"\b(?:extend\w*|extension)\b",
    r"\b(?:lift(?:s|ed)?|remov\w*|withdr[ae]w\w*|revok\w*)\b",
    r"\b(?:deadline|due|by when)\b",
    r"\b(?:consider(?:s|ed|ing)?|discuss\w*|debat\w*|review(?:s|ed|ing)?)\b",
    r"\b(?:approv\w*|agree[sd]?|decided?|resolved?|endors\w*|adopt(?:s|ed)?)\b",
    r"\b(?:publish\w*|issued?|announc\w*|submit\w*|submission)\b",
    r"\b(?:establish\w*|set up|formed|created?)\b",
    r"\b(?:transfer\w*|mov(?:e|es|ed|ing)|transition\w*)\b",
))


def event_match(c: Candidate, q: AskedQuestion) -> float:
    """A question asking when something happens (starts, ends, is extended, lifted, due) and a line that says
    that thing happens."""
    return float(any(c.shows(event) for event in q.events))


def kind_match_of(kind: str) -> Callable[[Candidate, AskedQuestion], float]:
    """A feature for one kind of answer: the question asks for it and the line holds it."""
    def match(c: Candidate, q: AskedQuestion) -> float:
        return float(kind in q.kinds and line_holds(kind, c, q))

    match.__doc__ = f"The question asks for a {kind} and the line holds one."
    return match


def decision_match(c: Candidate, q: AskedQuestion) -> float:
    """A question about a decision and a line that speaks of deciding, approving or recommending (one that
    records a decision holds the kind asked for: see _OPERATIVE)."""
    return float("decision" in q.kinds and c.shows(_DECISION))


# The papers that record what was decided, as their titles name them; a report's recommendations and the options
# it sets out ("a. Agree that the decision be implemented") are only proposals.
_DECISION_RECORD_TITLE = re.compile(r"\bminutes\b|\bdecision notice\b|\brecord of decision\b|\bdecision record|\bdecisions? taken\b", re.I)


def records_decisions_by_title(title: str | None) -> bool:
    """Whether a paper's title says it records decisions (minutes, a decision notice, a record of decision)."""
    return bool(_DECISION_RECORD_TITLE.search(title or ""))


# The outcome of a numbered proposal as minutes and decision notices record it, which names the proposal by its
# number alone: "On being put to the vote, recommendation 3 FELL", "Recommendations 3 was not approved".
_NUMBERED_OUTCOME = re.compile(r"\brecommendations?\s+(\d{1,2}[a-z]?)\b[^.;:]{0,60}?\b(?:fell|lost|carried|not approved|approved|"
                               r"agreed|rejected|defeated|withdrawn)\b", re.I)
# One that names it by position: "On being put to the vote the recommendation was LOST" under the quoted recommendation.
_OUTCOME_BELOW = re.compile(r"\b(?:the|this|that)\s+(?:recommendation|amendment|motion|proposal)s?\s+(?:was|were)\s+"
                            r"(?:carried|lost|agreed|approved|not approved|rejected|defeated|withdrawn)\b", re.I)
_OPENING_NUMBER = re.compile(r"^\s*[\"\u201c]?\s*(?:recommendation\s+(\d{1,2}[a-z]?)\b[.):]?\s*(?:[-\u2013]\s*)?|\(?(\d{1,2}[a-z]?)[.)]\s*)(?=[A-Z])", re.I)
# The proposal must say this share of the question's subject, and twice what any other numbered proposal of its paper
# says: question subjects hold words every item of a meeting shares ("committee", "agree", "March 2026").
_OUTCOME_PROPOSAL_SAYS = 0.25
_OUTCOME_PROPOSAL_LEAD = 2.0
_LETTERS = string.ascii_lowercase  # an item's part: "4c" of "4"
_OUTCOME_LOOKBACK = 5  # lines above an unnumbered outcome where its proposal may be quoted


def opening_item_number(text: str) -> str | None:
    """The number a proposal's line opens with, lower-cased: "3. Authorise ..." -> "3", "“Recommendation 4c Approves" -> "4c"."""
    match = _OPENING_NUMBER.match(text)
    return (match.group(1) or match.group(2)).lower() if match else None


def related_items(one: str, other: str) -> bool:
    """Whether two item numbers are the same item, or a part and its parent ("4c" and "4"): not rivals."""
    return one == other or one == other.rstrip(_LETTERS) or other == one.rstrip(_LETTERS)


def outcome_of_asked_proposal(c: Candidate, q: AskedQuestion) -> float:
    """A question about a decision or a vote, and a line recording the outcome of the proposal it asks about: the
    line names the proposal only by number ("recommendation 3 FELL") or by place (under the quoted recommendation),
    so it says none of the question's words. The proposal, read in the same paper, must say a good share of the
    question's subject, and clearly more than the paper's other numbered proposals."""
    if not q.kinds & {"decision", "vote", "yes_no"}:
        return 0.0
    if c.shows(_NUMBERED_OUTCOME):  # remembered with the line: most lines record no outcome
        number = _NUMBERED_OUTCOME.search(c.text).group(1).lower()
    elif c.shows(_OUTCOME_BELOW):
        number = number_above(c)
    else:
        return 0.0
    if number is None:
        return 0.0
    paper = q.hits[c.hit_rank].document.doc_id
    said = q.numbered_proposals.get((paper, number), 0.0)
    rivals = max((value for (other, item), value in q.numbered_proposals.items() if other == paper and not related_items(item, number)),
                 default=0.0)
    return float(said >= _OUTCOME_PROPOSAL_SAYS and said >= _OUTCOME_PROPOSAL_LEAD * rivals)


def number_above(c: Candidate) -> str | None:
    """The number of the proposal quoted in the lines just above an unnumbered outcome, the nearest first."""
    line = c.before
    for _ in range(_OUTCOME_LOOKBACK):
        if line is None:
            return None
        number = opening_item_number(line.text)
        if number is not None:
            return number
        line = line.before
    return None


def target_value(c: Candidate, q: AskedQuestion) -> float:
    """A question about a target and a line that states the target's value (or a row whose "Target" column holds one)."""
    if "target" not in q.kinds:
        return 0.0
    if c.row is not None and any("target" in header.lower() and figures_in(cell) for header, cell in c.row.cells if header and cell):
        return 1.0
    return float(c.shows(_TARGET_VALUE))


# Words asking how a service did against its target: "Is Kent on track for its target ...?", "was it within target?".
_PROGRESS_ASKED = re.compile(r"\b(?:met|meet|meets|meeting|achiev\w*|on track|off track|hit|missed|exceed\w*|reach\w*|progress)\b|"
                             r"\b(?:within|below|above|under|over|on|off|against|versus|vs\.?|compared (?:with|to))\s+(?:the\s+|its\s+|their\s+|a\s+)?(?:[\d.,]+%?\s+)?targets?\b|"
                             r"\bhow close\b", re.I)


def target_measured(c: Candidate, q: AskedQuestion) -> float:
    """A question asking for a target's value and a line that measures against one without stating it ("2.4%
    lower than target"): it says how the service did, which does not answer "what was the target?"."""
    if "target" not in q.kinds or q.asks_progress:
        return 0.0
    return float(c.shows(_AGAINST_TARGET) and not target_value(c, q))


def new_figure(c: Candidate, q: AskedQuestion) -> float:
    return float(bool(c.quantities - q.figures))


def restatement(c: Candidate, q: AskedQuestion) -> float:
    """Share of the line's words that are the question's own: a line that only echoes the question answers nothing."""
    # A figure counts however short: "Windsor and Maidenhead, 25%" adds the 25 the question asks for.
    words = [word for word in c.words.listed() if len(word) > 2 or word[0].isdigit()]
    if not words:
        return 1.0
    return sum(map(q.question_tokens.__contains__, words)) / len(words)


# An item or paragraph number opening a line: "9 Policy Decision on Cycleway Legibility" is a numbered heading.
_ITEM_NUMBER = re.compile(r"^\s*\d+(?:\.\d+)*\.?\s+(?=[A-Z])")


def holds_facts(text: str) -> bool:
    """Figures, dates or names: a short line holding them is data ("Latest: 175 Target: 180"), not a label
    ("Decision, item 5: Waste and recycling collection contract" holds only a reference number)."""
    text = _ITEM_NUMBER.sub("", text)
    return bool(figures_in(_REFERENCE_NUMBER.sub(" ", text)) or _DATE.search(text) or _TITLED_NAME.search(text))


_INTRODUCTIONS = ("as follows", "below", "the following", "include", "includes", "including")


def fragment(c: Candidate, q: AskedQuestion) -> float:
    """A heading, a label or an introduction ("as follows:") rather than a statement or a row of data."""
    return c.fragment_score


def fragment_score(c: Candidate) -> float:
    """See `fragment`: 1 for a heading, label or introduction, 0.5 for a verbless line, 0 for a statement or row."""
    text = c.text.strip()
    if c.is_row:
        return 0.0
    words = text.split()
    if text.rstrip(":").lower().endswith(_INTRODUCTIONS):
        return 1.0
    facts = holds_facts(text)
    if (text.endswith(":") or len(words) < 5) and not (holds_facts(text.rstrip(":")) if text.endswith(":") else facts):
        return 1.0
    if len(words) < 12 and not facts:
        letters = [ch for ch in text if ch.isalpha()]
        if letters and sum(ch.isupper() for ch in letters) / len(letters) > 0.8:
            return 1.0
    if facts or _VERB.search(text) or _OPERATIVE.search(text) or _INFINITIVE_ITEM.match(text):
        return 0.0
    # A title under a reference or an item number and nothing stated: "Decision, item 5: Waste and recycling
    # collection contract".
    return 1.0 if _REFERENCE_NUMBER.search(text) or _ITEM_NUMBER.match(text) else 0.5


def is_table_row(c: Candidate, q: AskedQuestion) -> float:
    return float(c.is_row)


def row_label_overlap(c: Candidate, q: AskedQuestion) -> float:
    """For a table row, how much of the subject its row label (and caption) names."""
    if c.row is None:
        return 0.0
    return weighted_overlap(q.subject_terms, q.analysis.expansions, q.weights, f"{c.row.label} {c.caption}")


def column_overlap(c: Candidate, q: AskedQuestion) -> float:
    """For a table row, how well the best column header holding a value matches the question."""
    if c.row is None:
        return 0.0
    scores = [weighted_overlap(q.analysis.terms, [], q.weights, header) for header, cell in c.row.cells if header and cell]
    return max(scores, default=0.0)


def share_named(q: AskedQuestion, words: tuple[str, ...]) -> float:
    """Share of a row label's or column header's words that the question holds: "in September" names the
    column "September" outright, though the header is a small part of the question."""
    return sum(q.question_words.holds(word) for word in words) / len(words) if words else 0.0


def header_named(c: Candidate, q: AskedQuestion) -> float:
    """For a table row, how fully the question names the header of a column holding a value."""
    return max((share_named(q, words) for words in c.header_words), default=0.0)


def label_named(c: Candidate, q: AskedQuestion) -> float:
    """For a table row, how fully the question names the row's label."""
    return share_named(q, c.label_words)


def label_compared(c: Candidate, q: AskedQuestion) -> float:
    """For a table row, the question names its label only as a comparison or a source: the row "Leeds | July: 1903"
    does not answer "how many contacts did Sunderland receive in July, comparing it with Leeds?"."""
    return float(bool(c.label_words) and all(word in q.named_only_to_compare for word in c.label_words))


def paper_date(c: Candidate, q: AskedQuestion) -> str:
    """The line's paper's date, ISO ("" when it has none)."""
    return q.hits[c.hit_rank].document.meta.date or ""


def paper_year(c: Candidate, q: AskedQuestion) -> str:
    """The year of the line's paper's date ("" when it has none)."""
    return paper_date(c, q)[:4]


def paper_date_match(c: Candidate, q: AskedQuestion) -> float:
    """The question names the paper it asks about by its date ("Bristol's October 2025 update", "at its March 2026
    meeting") and the line is from a paper of that month (or year): a later update may repeat the same table."""
    if not q.paper_dates:
        return 0.0
    date = paper_date(c, q)
    return float(any(date.startswith(asked) for asked in q.paper_dates))


def year_match(c: Candidate, q: AskedQuestion) -> float:
    """The question names a year that the paper's date or the line itself has."""
    years = q.analysis.years
    if not years:
        return 0.0
    return float(paper_year(c, q) in years or any(year in c.text for year in years))


def year_absent(c: Candidate, q: AskedQuestion) -> float:
    """The question names a year that neither the paper's date, its title nor the passage mentions."""
    years = q.analysis.years
    if not years:
        return 0.0
    hit = q.hits[c.hit_rank]
    stated = f"{hit.document.meta.date or ''} {hit.document.meta.title or ''} {hit.chunk.text}"
    return float(not any(year in stated for year in years))


# A line that also speaks of the time of its paper: "from 20% in 2002 to 14.4% currently".
_PRESENT = re.compile(r"\b(?:current(?:ly)?|now|at present|presently|to date|this year|so far)\b", re.I)


def year_conflict(c: Candidate, q: AskedQuestion) -> float:
    """The question names a year and the line names years, none of them the one asked: "in December 2024" does
    not answer "in December 2023", nor 2023/24 answer 2022/23, nor a row of 2005 to 2008 answer "in 2009". A line
    that also speaks of the present answers for its paper's year: a 2004 paper's "from 20% in 2002 to 14.4%
    currently" answers "in 2004". A year given as the paper's date ("in the 2005 report"), or with the month of the
    line's paper ("the target Bristol adopted in October 2025", read in the minutes of 23 October 2025), is the
    paper's to match: the 2030 of that target is no conflict."""
    asked_financial, asked_single = q.periods
    line_financial, line_single = c.periods
    if asked_single and not asked_financial and (asked_single <= q.paper_years or dated_as_paper(c, q, asked_single)):
        return float(paper_year(c, q) not in asked_single)
    if not (asked_financial or asked_single) or not (line_financial or line_single):
        return 0.0
    financial_ends = {f"{year[:4]}" for year in line_financial} | {f"{year[:2]}{year[5:]}" for year in line_financial}
    asked_ends = {f"{year[:4]}" for year in asked_financial} | {f"{year[:2]}{year[5:]}" for year in asked_financial}
    present_year = paper_year(c, q) if _PRESENT.search(c.text) else None
    matched = (asked_financial & line_financial or asked_single & (line_single | financial_ends)
               or (not asked_single and asked_ends & line_single) or present_year in asked_single | asked_ends)
    return float(not matched)


def dated_as_paper(c: Candidate, q: AskedQuestion, asked_years: frozenset[str]) -> bool:
    """The only year asked comes with the month of the line's paper's date."""
    date = paper_date(c, q)
    return asked_years == {date[:4]} and any(date.startswith(month) for month in q.month_dates)


def council_match(c: Candidate, q: AskedQuestion) -> float:
    if not q.named_authority:
        return 0.0
    return float(q.hits[c.hit_rank].document.meta.authority == q.named_authority)


def ends_question(c: Candidate, q: AskedQuestion) -> float:
    """A line that is itself a question (public questions papers) asks rather than answers."""
    return float(c.text.rstrip().endswith("?"))


def asked_part(c: Candidate, q: AskedQuestion) -> float:
    """A line of a question put to the council, between its heading and the answer: the questioner's own
    account ("On 6 February I cycled around the villages ...") is not the council's answer."""
    return float(c.asked)


def length(c: Candidate, q: AskedQuestion) -> float:
    return c.length


def length_of(text: str) -> float:
    """How long a line is, on a log scale: 1 at 80 words or more."""
    return min(math.log1p(len(text.split())) / math.log1p(80), 1.0)


FEATURES: dict[str, Callable[[Candidate, AskedQuestion], float]] = {
    "subject_overlap": subject_overlap,
    "context_overlap": context_overlap,
    "own_overlap": own_overlap,
    "inherited_overlap": inherited_overlap,
    "closeness": closeness,
    "learned_closeness": learned_closeness,
    "closeness_rank": closeness_rank,
    "passage_score": passage_score,
    "passage_rank": passage_rank,
    "kind_match": kind_match,
    "kind_missing": kind_missing,
    "matched_kind_overlap": matched_kind_overlap,
    "person_match": person_match,
    "role_match": role_match,
    "role_record": role_record,
    "date_match": date_match,
    "event_match": event_match,
    "decision_match": decision_match,
    "outcome_of_asked_proposal": outcome_of_asked_proposal,
    "amount_match": kind_match_of("amount"),
    "count_match": kind_match_of("count"),
    "target_value": target_value,
    "target_measured": target_measured,
    "new_figure": new_figure,
    "restatement": restatement,
    "fragment": fragment,
    "is_table_row": is_table_row,
    "row_label_overlap": row_label_overlap,
    "column_overlap": column_overlap,
    "header_named": header_named,
    "label_named": label_named,
    "label_compared": label_compared,
    "year_match": year_match,
    "paper_date_match": paper_date_match,
    "council_match": council_match,
    "ends_question": ends_question,
    "asked_part": asked_part,
    "length": length,
}


def feature_value(name: str, c: Candidate, q: AskedQuestion) -> float:
    """One feature of the line, worked out once and kept on the candidate: some features are built of others."""
    if name not in c.features:
        c.features[name] = FEATURES[name](c, q)
    return c.features[name]


def fresh_features(candidates: list[Candidate], question: AskedQuestion) -> None:
    """Forget what was worked out for the candidates before: each keeps its features for this question alone."""
    best = max((c.closeness for c in candidates), default=0.0)
    for candidate in candidates:
        candidate.holds = {}
        candidate.features = {"closeness_rank": closeness_rank(candidate, question, best)}


def feature_rows(candidates: list[Candidate], question: AskedQuestion, names: list[str]) -> np.ndarray:
    """One row per candidate, one column per named feature (in `names` order), from what the candidates keep."""
    rows = []
    for c in candidates:
        known = c.features
        row = []
        for name in names:
            value = known.get(name)
            if value is None:  # inlined feature_value: this loop is most of the answer step's time
                value = known[name] = FEATURES[name](c, question)
            row.append(value)
        rows.append(row)
    return np.array(rows, dtype=np.float64).reshape(len(candidates), len(names))


def feature_matrix(candidates: list[Candidate], question: AskedQuestion, names: list[str]) -> np.ndarray:
    """feature_rows, worked out afresh for this question."""
    fresh_features(candidates, question)
    return feature_rows(candidates, question, names)
