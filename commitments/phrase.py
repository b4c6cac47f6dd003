"""The name of a commitment's measure: the noun phrase the paper itself uses for it.

"The percentage of care leavers in education, employment or training, at 53.6%, remained below the
target of 65.0%" names "percentage of care leavers in education, employment or training"; "We will
give parents and carers information, advice and support" names "information, advice and support".
Rules, not a parser: committee papers state targets and promises in a few set shapes, and a wrong
phrase is still the paper's own words, never a made-up label.
"""
from __future__ import annotations

import re

from core.text import fold_characters

MAX_WORDS = 12
MIN_CHARS = 3

_ENUMERATOR = re.compile(r"^\s*(?:[-•·]\s*)?(?:\(?(?:\d{1,2}(?:\.\d{1,2})*|[ivx]{1,5}|[a-zA-Z])[.)]\s+|\d{1,2}(?:\.\d{1,2})+\s+|[IVX]{1,4}\.\s+)?")
# Openings that set the scene before the subject: "In Quarter 3, ", "As of 31st December 2024, ", "Currently ".
_ADVERBIAL = re.compile(
    r"^(?:(?:In|For|As of|As at|During|By|At|Over|Since|Following|Unusually for|Compared to|Across|Within|Of)\b[^,]{0,80},\s*"
    r"|(?:Currently|However|Additionally|Also|Overall|Therefore|Furthermore|Moreover|Similarly|Firstly|Secondly|Finally|"
    r"Unfortunately|In addition|As a result|Again|Now|Whilst|While|Further|Latest|Also)\b,?\s*)", re.I)
# Where a subject ends: a verb or auxiliary, a stated value, a bracket.
_SUBJECT_END = re.compile(
    r"\s(?:is|are|was|were|will|would|shall|should|can|could|may|might|must|has|have|had|remains?|remained|continues?|"
    r"continued|rose|risen|fell|fallen|increased|decreased|reduced|improved|stood|stands|sets|set out|needs?|requires?|"
    r"means|shows?|showed|saw|reached|exceeded|surpass(?:ed|ing)?|met|achieved|being|to be|did|does|do|also|now|"
    r"currently|against|compared|which|who|that|continuing|moving|following|reiterated|explained|reported|noted|"
    r"confirmed|agreed|asked|said|stated|advised|welcomed|highlighted|emphasised|set)\b"
    r"|\s(?:at|of|to|by|from)\s+(?:[<>≤≥~]|no more than|£|\d)|\s*[(:;]|,\s*(?:at|with|which|and the)\b|\s[-–]\s", re.I)
# Where an object ends: a clause, a purpose, a place or a time after the head noun.
_OBJECT_END = re.compile(
    r"\s(?:to (?:the|a|an|be|help|support|ensure|enable|make|provide|improve|allow|meet|deliver|reduce|increase|understand)|"
    r"in order|so that|so as|which|who|that|when|where|whilst|while|as (?:set|part|detailed|outlined|required|an?)|"
    r"in (?:line|consultation|partnership|relation|time|the|respect|accordance)|for (?:the|a|an|all)|by (?:the|\d|end)|"
    r"from|with|within (?:the|\d)|including|across|through|prior|subject|before|after|until|during|over|on \d|at \d|against)\b"
    r"|\s*[,;:(]|\s[-–]\s", re.I)
_LEADING = re.compile(r"^(?:the|a|an|our|this|these|those|its|their|all|any|each|some|further|more|an? (?:further|additional)|"
                      r"[\d,.]+%?(?:\s+of)?)\s+", re.I)
# A reporting period after the measure: "for the 12 months to December 2024", "in Quarter 3", "for 2005/6".
_PERIOD = re.compile(r"\s+(?:for|in|during|to|by|at|as at|as of|over)\s+(?:the\s+)?(?:\d+\s+months?|quarter|q\d|year|period|"
                     r"(?:19|20)\d{2}|financial year|month)\b.*$", re.I)
_TRAILING = re.compile(r"\s+(?:and|or|of|for|in|on|at|to|by|with|the|a|an|from|as|into|per|than|be|is|are|was)$", re.I)
_GENERIC = re.compile(
    r"^(?:it|this|that|these|those|there|we|i|they|he|she|which|who|members|officers|the measure|this measure|"
    r"the committee|committee|the council|council|the cabinet member|cabinet member|cabinet|kcc|the report|report|"
    r"this report|the proposal|proposal|the plan|the work|work|this work|the service|service|the aim|the intention|"
    r"the decision|decision|the director|the strategy|paper|the paper|performance|the latest performance|progress|"
    r"what|how|such|so|here|all|one|each|both|as|if|also|note|number|the number|target|the target|targets|rate|"
    r"the rate|plan|plans|consultation|board|the board|appendix \w+|county council|measure|result|figure)$", re.I)
# A target's own noun phrase: "the greenhouse gas emission target", "a savings target of", "the target caseload of".
_BEFORE_TARGET = re.compile(r"\b(?:the|a|an|our|its)\s+(?P<np>(?:[A-Za-z][\w'&/-]*\s+){0,5}?[A-Za-z][\w'&/-]*)\s+targets?\b(?!\s+(?:is|was|of|for)\b\s*(?:[<>]|\d))?", re.I)
_TARGET_NOUN = re.compile(r"\btarget\s+(?P<np>(?!of\b|for\b|to\b|is\b|was\b|has\b|had\b|will\b|and\b|by\b)[a-z][\w'-]*(?:\s+[a-z][\w'-]*){0,2}?)\s+of\b", re.I)
_VALUE_NOUN = re.compile(r"\d(?:[\d,.]*)\s*%\s+(?P<np>[a-z][\w'-]*(?:\s+[a-z][\w'-]*){0,3}?)(?=\s+(?:over|by|in|within|for|at)\b|[.,;]|$)", re.I)
# Verbs a commitment commits with; the measure is what they act on.
_COMMITTING_VERB = re.compile(
    r"^(?:(?:we|i|kcc|the council|the service|the county council|the authority|[A-Z][\w ]{0,40}?)\s+"
    r"(?:will|shall|intend to|plan to|aim to|propose to|are going to|must now|agree to|have agreed to|are committed to|is committed to)"
    r"(?:\s+(?:also|continue to|further|now|then|need to))*|to agree(?: to)?|to|agree(?: to)?|approve|delegate|note|endorse|adopt|"
    r"authorise|confirm|request|recommend|ensure|continue to|develop|implement|establish|introduce|review|improve|set up|"
    r"maintain|monitor|reduce|increase|deliver|provide|undertake|complete|agree|(?:further\s+)?[a-z]{3,}ing)\s+", re.I)
_DELEGATION = re.compile(r"(?i:^(?:delegated\s+)?authority\s+to\s+(?:the\s+)?)[A-Z][\w'&]*(?:\s+(?:[A-Z][\w'&,]*|for|of|and))*")


def clean(text: str) -> str:
    """The sentence to name a measure from: an action-plan row's first cell with words in it, without enumerators."""
    text = fold_characters(text)
    if " | " in text:
        cells = [_ENUMERATOR.sub("", cell).strip(" .;:") for cell in text.split(" | ")]
        text = next((cell for cell in cells if re.search(r"[A-Za-z]{3}", cell)), "")
    else:
        text = _ENUMERATOR.sub("", " ".join(text.split()))
    while (stripped := _ADVERBIAL.sub("", text, count=1)) != text:
        text = stripped
    return text.strip(" .;:")


def heading_like(text: str) -> str | None:
    """A short verbless item ("Audit of Referral and re-referral Rate", "Further partner engagement workshops") is the phrase."""
    words = text.split()
    if len(words) <= 8 and not _SUBJECT_END.search(text) and (not _COMMITTING_VERB.match(text) or re.match(r"^\w+ of\b", text)):
        return trimmed(re.sub(r"\s*\([^)]*\)\s*$", "", text.split(". ")[0]))
    return None


def balanced_quotes(phrase: str) -> str:
    """Quote marks at either end dropped unless they pair with one inside ("'Access' team" keeps its quotes)."""
    quotes = "'\"“”‘’"
    while phrase and phrase[0] in quotes and sum(phrase.count(q) for q in quotes) % 2:
        phrase = phrase[1:].lstrip()
    while phrase and phrase[-1] in quotes and sum(phrase.count(q) for q in quotes) % 2:
        phrase = phrase[:-1].rstrip()
    return phrase


def trimmed(phrase: str) -> str | None:
    """A phrase cut to at most MAX_WORDS words, without leading articles or trailing function words."""
    phrase = _PERIOD.sub("", balanced_quotes(phrase.strip(" ,.;:")))
    while True:
        shorter = _LEADING.sub("", phrase)
        if shorter == phrase:
            break
        phrase = shorter
    words = phrase.split()
    if len(words) > MAX_WORDS:
        phrase = " ".join(words[:MAX_WORDS])
    while True:
        shorter = _TRAILING.sub("", phrase)
        if shorter == phrase:
            break
        phrase = shorter
    phrase = balanced_quotes(phrase.strip(" ,.;:"))
    if len(phrase) < MIN_CHARS or _GENERIC.match(phrase) or not re.search(r"[A-Za-z]{3}", phrase):
        return None
    return phrase


_SCENE = re.compile(r"^(?:the\s+)?(?:latest|current)\s+(?:performance|result|figure|position|data|outturn)\s+(?:for|on|of)\s+(?:the\s+)?"
                    r"|^[\d.,]+\s*%\s+of\s+(?:the\s+)?|^(?:target|aim)\b.*", re.I)
_THERE = re.compile(r"^there\s+(?:will|is|are|was|were|would|has been|have been)\s+(?:also\s+|now\s+|continue to\s+)?(?:be\s+)?(?P<rest>.+)$", re.I)
_FRAMED = re.compile(r"^(?:the|our)\s+(?:plan|proposal|aim|intention|recommendation|desired outcome)\s+(?:is|will be|would be)\s+"
                     r"(?:for\s+(?P<np>.+?)\s+to\b|to\s+(?P<rest>.+))"
                     r"|^it\s+is\s+(?:planned|proposed|intended|anticipated|recommended)\s+(?:that\s+|to\s+)(?P<clause>.+)", re.I)


def framed(text: str) -> str | None:
    """Sentences that name their subject after a frame: "There will be an 'Access' team", "The plan is for X to ..."."""
    if match := _THERE.match(text):
        end = _OBJECT_END.search(match["rest"])
        return trimmed(match["rest"][:end.start()] if end else match["rest"])
    if match := _FRAMED.match(text):
        if match["np"]:
            return trimmed(match["np"])
        if match["rest"]:
            return object_of("to " + match["rest"])
        return measure_phrase(match["clause"])
    return None


def subject_of(text: str) -> str | None:
    """The sentence's subject noun phrase: the words before its verb."""
    text = _SCENE.sub("", text)
    if not text:
        return None
    while True:
        stripped = _ADVERBIAL.sub("", text, count=1)
        if stripped == text:
            break
        text = stripped
    end = _SUBJECT_END.search(text)
    return trimmed(text[:end.start()]) if end and end.start() > 0 else None


def object_of(text: str) -> str | None:
    """What a committing verb acts on: "We will give parents and carers information ..." -> its object."""
    match = _COMMITTING_VERB.match(text)
    if not match:
        return None
    rest = text[match.end():]
    rest = re.sub(r"^(?:continue to|further|also|then|now)\s+", "", rest, flags=re.I)
    rest = re.sub(r"^[A-Z]{3,}\s+(?=\S)", "", rest)  # "Agree to TRANSFER the functions": the object follows the second verb
    if re.match(r"^(?:be|been|being)\b", rest, re.I):
        return None  # passive: "X will be developed" is about X, its subject
    # The verb of a "we will" clause comes first; its object follows.
    if re.match(r"^(?:we|i|kcc)\b|^\w[\w ]{0,40}?\s+(?:will|shall)\b", text, re.I):
        rest = re.sub(r"^[a-z]+\s+", "", rest, flags=re.I)
    if delegated := _DELEGATION.match(rest):  # "DELEGATE authority to the Director for ..." names who acts
        return trimmed(delegated.group(0))
    end = _OBJECT_END.search(rest)
    return trimmed(rest[:end.start()] if end else rest)


def target_phrase(text: str) -> str | None:
    """The noun phrase a target sentence gives its measure: "greenhouse gas emission" in "The greenhouse gas emission target"."""
    for pattern in (_BEFORE_TARGET, _TARGET_NOUN, _VALUE_NOUN):
        for match in pattern.finditer(text):
            if phrase := trimmed(match["np"]):
                if not re.match(r"^(?:revised|new|interim|stretch(?:ed)?|overall|annual|current|agreed|key|same|previous|"
                                r"national|local|challenging|realistic|ambitious|internal|\w+ly)$|.*(?:ed|\bPSA)$", phrase, re.I):
                    return phrase
    return None


def measure_phrase(text: str, kind: str | None = None, has_target: bool = False) -> str | None:
    """The paper's own phrase for what `text` commits to or reports on, or None when it names none."""
    sentence = clean(text)
    if not sentence:
        return None
    finders = ((heading_like, framed, subject_of, target_phrase, object_of) if has_target
               else (heading_like, framed, object_of, subject_of, target_phrase))
    for find in finders:
        if phrase := find(sentence):
            return phrase
    return None
