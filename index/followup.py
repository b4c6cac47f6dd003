"""read_question: a follow-up ("and what about 2005?", "who presented it?") read in the light of the turns before.

A question that names its own subject stands alone and ignores the history. One that does not
inherits the council, the period and the subject of the previous question (itself read the same
way), and the answer says how it was read: "Read as: Suffolk County Council, re-referral target, 2005".
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from index.query import (KIND_WORDS, STOPWORDS, QueryAnalysis, analyse_question, answer_kinds, bare_word, content_terms, named_authority,
                         tokens_of, years_named)

MAX_TURNS = 10
_PERIOD = re.compile(r"\b(?:19|20)\d{2}(?:[/-]\d{2,4})?\b")
MAX_SUBJECT_WORDS = 8
_TRAILING = {"did", "does", "do", "was", "were", "is", "are", "has", "have", "in", "for", "of", "by", "the", "to", "a", "an",
             "on", "at", "according", "and", "or", "with", "from"}
# Words that carry no subject of their own in a follow-up.
_FOLLOW_UP_WORDS = frozenset(
    """and also then what about how it its they them their that this those these one ones same there so too instead
    else again meet met achieve achieved hit reach reached happen happened compare compared previous earlier later
    last next year years quarter period time figure figures presented present decide decided agree agreed who when
    why where report paper following prior before after one two three""".split()
) | KIND_WORDS
_ANAPHOR = re.compile(r"\b(?:it|its|they|them|their|that|this|those|these|the same|he|she|his|her)\b", re.I)
# A part of what was asked before: "how much of that is coming from Clean Air Zone money?", "which of those roads".
_PART_OF_BEFORE = re.compile(r"\b(?:of|from)\s+(?:that|those|them|these|it)\b", re.I)
# A period a follow-up names itself: a year, a month or a quarter ("for 2025/26", "by the end of December", "at Q3").
# May is left out: in a question "may" is far more often the verb.
_OWN_PERIOD = re.compile(r"\b(?:19|20)\d{2}\b|\b(?:january|february|march|april|june|july|august|september|sept|october|november|"
                         r"december)\b|\bq[1-4]\b|\bquarter\b", re.I)
_LEADING_LINK = re.compile(r"^\s*(?:and|but|so|also|what about|how about|and what about|and how about|same for|now)\b", re.I)
# "and a year later?", "and the year before?", "two years earlier?": the period asked before, moved by so many years.
_YEARS_LATER = re.compile(r"\b(a|one|two|three)\s+years?\s+(later|after|on)\b|\bthe\s+(following|next)\s+year\b|\bthe\s+year\s+after\b", re.I)
_YEARS_EARLIER = re.compile(r"\b(a|one|two|three)\s+years?\s+(earlier|before|back|prior)\b|\bthe\s+(previous|prior|preceding)\s+year\b|"
                            r"\bthe\s+year\s+(before|prior)\b", re.I)
_HOW_MANY_YEARS = {"a": 1, "one": 1, "two": 2, "three": 3}
# A name: capitalised words, with "and", "of", "the" or "&" between them ("Avon Fire and Rescue Service", "Bristol's Union
# Street"), after "the" or not. Matched case-sensitively: a capital is what tells a name from a description.
_NAME_RUN = r"(?:the\s+)?[A-Z][\w&'\u2019.-]*(?:\s+(?:(?:and|of|the|&)\s+)*[A-Z][\w&'\u2019.-]*)*"
# A follow-up that is a preposition and a name: "and to Bristol City Council?", "And at Millmead?", "and for CYPE?".
_NAME_SWAP = re.compile(r"^\s*(?i:(?:(?:and|but|so|also)\s+)?(?:(?:what|how)\s+(?:about\s+)?(?:much\s+|many\s+)?)?(to|for|at|from|on))\s+("
                        + _NAME_RUN + r")\s*[?.!]*\s*$")
_GENERIC_COUNCIL_WORDS = {"county", "city", "council", "borough", "district", "metropolitan", "of", "the", "and", "combined", "authority", "mayoral"}


@dataclass(frozen=True)
class ReadQuestion:
    asked: str  # as typed
    text: str  # as answered: a follow-up completed from the turn before
    read_as: str | None = None  # how a follow-up was read; None for a question that stands alone
    authority: str | None = None  # the council it is about, named or inherited
    years: tuple[str, ...] = ()  # the periods it is about, as written ("2005", "2025/26")
    subject: str = ""  # the subject phrase, as worded in the question it came from
    asking: str = ""  # the words that say what kind of answer is wanted, when not all of `text`: a follow-up's own
    searched: str = ""  # what the passages are searched for, when not `text` (see with_name_swapped)

    def analysis(self) -> QueryAnalysis:
        """The question as answered, analysed; what kind of answer it wants is read from `asking` when set."""
        return analyse_question(self.text, self.asking or None)

    def search_analysis(self, analysis: QueryAnalysis) -> QueryAnalysis:
        """What the passages are searched for: `analysis` (the question as answered) unless the follow-up searches wider."""
        return analyse_question(self.searched, self.asking or None) if self.searched else analysis

    @property
    def period_text(self) -> str:
        """The words whose months and quarters an answer must say: a follow-up's own when it names a period of its own
        ("What has it been set at for 2025/26?" after a question on "Bristol's September 2024 report"), else `text`."""
        return self.asked if self.read_as is not None and _OWN_PERIOD.search(self.asked) else self.text

    @property
    def own_terms(self) -> tuple[str, ...]:
        """A follow-up's own words, what was typed this turn ("primary" in "and for primary?"); none for a question
        that stands alone, whose words are all its own."""
        return tuple(typed_terms(self.asked)) if self.read_as is not None else ()


def subject_phrase(question: str, authorities: list[str]) -> str:
    """The question's own words from its first to its last subject word, without council names or years:
    "What was Suffolk's re-referral target?" -> "re-referral target"."""
    council_words = {w for a in authorities for w in tokens_of(a)} - _GENERIC_COUNCIL_WORDS
    words = list(re.finditer(r"[\w'\u2019£%/-]+", question))  # "2025/26" is one word, a year
    keep = [
        m for m in words
        if (terms := content_terms(m.group()))
        and not ({bare_word(t) for t in tokens_of(m.group())} & council_words)
        and not years_named(m.group())
        and any(t not in KIND_WORDS and t not in STOPWORDS for t in terms)
    ]
    if not keep:
        return ""
    phrase = question[keep[0].start() : keep[-1].end()]
    # A council name inside the span ("agency social workers did Sunderland") is cut at its first word.
    for m in words:
        if keep[0].start() < m.start() < keep[-1].end() and {bare_word(t) for t in tokens_of(m.group())} & council_words:
            phrase = question[keep[0].start() : m.start()]
            break
    phrase = re.sub(r"['\u2019]s\b", "", phrase).strip(" ?.,")
    words = phrase.split()[:MAX_SUBJECT_WORDS]
    while words and words[-1].lower() in _TRAILING:
        words.pop()
    return " ".join(words)


def typed_terms(question: str) -> list[str]:
    """Content words of a question that say what it is about, council names included (not its years or
    follow-up wording)."""
    return [t for t in content_terms(_PERIOD.sub(" ", question)) if t not in _FOLLOW_UP_WORDS and not years_named(t)]


def own_subject_terms(question: str, authorities: list[str]) -> list[str]:
    """Content words of a question that say what it is about (not its council, years or follow-up wording)."""
    council_words = {w for a in authorities for w in tokens_of(a)}
    return [t for t in typed_terms(question) if t not in council_words]


def is_follow_up(question: str, authorities: list[str]) -> bool:
    """A question that leans on the one before: it links on ("and ...", "what about ..."), asks about a part of
    what was asked before ("how much of that ..."), points back ("it", "them") without naming much of its own,
    or names too little to be understood alone."""
    own = own_subject_terms(question, authorities)
    if _LEADING_LINK.match(question) or _PART_OF_BEFORE.search(question):
        return True
    if _ANAPHOR.search(question):
        return len(own) <= 4
    return len(own) <= 1


def periods_in(question: str) -> tuple[str, ...]:
    """The years and financial years a question names, as written: ("2005",), ("2025/26",)."""
    return tuple(dict.fromkeys(_PERIOD.findall(question)))


def years_moved(question: str) -> int:
    """How many years a follow-up moves the period asked before: +1 for "and a year later?", -2 for "two years
    earlier?", 0 when it does not say."""
    for pattern, sign in ((_YEARS_LATER, 1), (_YEARS_EARLIER, -1)):
        found = pattern.search(question)
        if found:
            return sign * _HOW_MANY_YEARS.get((found.group(1) or "a").lower(), 1)
    return 0


def moved_period(period: str, years: int) -> str | None:
    """A year or a financial year moved by `years` ("2024/25" + 1 -> "2025/26"); None for a span that is not one
    year ("2024-39", a plan's term), which no follow-up moves."""
    found = re.fullmatch(r"((?:19|20)\d{2})(?:([/-])(\d{2,4}))?", period)
    if found is None:
        return None
    start, mark, end = found.groups()
    first = int(start) + years
    if end is None:
        return str(first)
    if int(end[-2:]) != (int(start) + 1) % 100:
        return None
    second = str(first + 1)
    return f"{first}{mark}{second[-len(end):]}"


def with_periods_moved(text: str, years: int) -> str | None:
    """The question about the periods it names moved by `years`; None when it names none that can move."""
    periods = _PERIOD.findall(text)
    moved = {period: moved_period(period, years) for period in periods}
    if not periods or any(new is None for new in moved.values()):
        return None
    return _PERIOD.sub(lambda m: moved[m.group()], text)


def stand_alone(question: str, authorities: list[str]) -> ReadQuestion:
    authority = named_authority(question, authorities)
    return ReadQuestion(question, question, None, authority, periods_in(question), subject_phrase(question, authorities))


def with_period(text: str, period: str) -> str:
    """The question about `period` ("2005", "2027/28") instead of the one it names, or with it added."""
    named = _PERIOD.findall(text)
    if len(named) == 1:
        return _PERIOD.sub(period, text)
    return f"{text.rstrip('?.! ')} in {period}?"


def with_name_swapped(question: str, previous: str) -> str | None:
    """The previous question about the name a follow-up gives after the same preposition: "and to Bristol City
    Council?" after "How much is going to Avon Fire and Rescue?" asks how much is going to Bristol City Council,
    and no longer names Avon. None when the follow-up is not a preposition and a name, or the previous question
    names nothing after that preposition. The passages are still searched for both names (see read_one)."""
    swap = _NAME_SWAP.match(question)
    if swap is None:
        return None
    preposition, name = swap.group(1).lower(), swap.group(2)
    named = list(re.finditer(rf"\b{preposition}\s+({_NAME_RUN})", previous))
    if not named or named[-1].group(1) == name:
        return None
    old = named[-1]
    return f"{previous[: old.start(1)]}{name}{previous[old.end(1):]}"


def own_text(question: str) -> str:
    """A follow-up's wording without its link ("and", "what about") or closing mark: "and for primary?" -> "for primary"."""
    return re.sub(_LEADING_LINK, "", question).strip().rstrip("?.! ")


def completed_question(question: str, previous: ReadQuestion, authority: str | None, names_own: bool, shift: int) -> str:
    """The follow-up written out in full: the previous question about the new council or period ("and what
    about 2005?"), or the follow-up's own wording followed by the previous question ("who presented it?").
    `names_own` says whether it names a subject of its own, `shift` how many years it moves the period (read_one)."""
    if names_own or _ANAPHOR.search(question):
        # "who presented it?" keeps its own wording and takes the subject from before.
        return f"{own_text(question)}: {previous.text}"
    base = previous.text
    periods = _PERIOD.findall(question)
    if periods:
        base = with_period(base, " and ".join(periods))
    elif shift:
        base = with_periods_moved(base, shift) or base
    if authority and authority != previous.authority:
        base = with_council(base, previous.authority, authority)
    return base


def council_words(authority: str) -> list[str]:
    """The words that tell a council apart: "Kent County Council" -> ["Kent"]."""
    return [w for w in authority.split() if w.lower() not in _GENERIC_COUNCIL_WORDS]


def with_council(text: str, old: str | None, new: str) -> str:
    """The question about `new` instead of `old`: "...did Sunderland have?" -> "...did Kent have?"."""
    name = " ".join(council_words(new)) or new
    old_name = " ".join(council_words(old)) if old else ""
    if old_name and re.search(rf"\b{re.escape(old_name)}\b", text, flags=re.I):
        return re.sub(rf"\b{re.escape(old_name)}\b", name, text, flags=re.I)
    return f"{text.rstrip('?.! ')} in {name}?"


def read_as_label(authority: str | None, subject: str, years: tuple[str, ...]) -> str:
    return ", ".join(part for part in (authority, subject, " and ".join(years)) if part)


def read_question(question: str, history: list[str], authorities: list[str]) -> ReadQuestion:
    """How to answer `question` after the earlier questions in `history` (oldest first)."""
    previous: ReadQuestion | None = None
    for earlier in history[-MAX_TURNS:]:
        previous = read_one(earlier, previous, authorities)
    return read_one(question, previous, authorities)


def read_one(question: str, previous: ReadQuestion | None, authorities: list[str]) -> ReadQuestion:
    if previous is None or not is_follow_up(question, authorities):
        return stand_alone(question, authorities)
    authority = named_authority(question, authorities) or previous.authority
    shift = years_moved(question)
    moved = tuple(moved_period(period, shift) for period in previous.years) if shift else ()
    years = periods_in(question) or (moved if moved and None not in moved else previous.years)
    names_own = bool(own_subject_terms(question, authorities))
    own = subject_phrase(question, authorities)
    swapped = with_name_swapped(question, previous.text)
    if swapped:
        # Read as about the new name ("Bristol City Council, cladding remediation funding"), not the one it replaced.
        subject = subject_phrase(swapped, authorities)
        subject = f"{subject}: {own}" if names_own and own not in subject else subject
    else:
        subject = f"{previous.subject}: {own}".strip(": ") if names_own else previous.subject
    text = swapped or completed_question(question, previous, authority if authority != previous.authority else None, names_own, shift)
    # A swapped name is searched for beside the one it replaces: the table that answered before ("Union Street |
    # ...") usually holds the new name's row too ("Bond Street | ..."), and a search for the new name alone may miss it.
    searched = f"{own_text(question)}: {previous.text}" if swapped else ""
    # "and how did the vote go?" after "Who moved the amendment?" asks for a vote, not a person; "did they meet
    # it?" after "What was the target?" still asks about the target.
    asking = question if answer_kinds(question) - {"yes_no"} else previous.asking
    return ReadQuestion(question, text, read_as_label(authority, subject, years), authority, years, subject, asking, searched)
