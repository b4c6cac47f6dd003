"""Acronyms a paper defines ("High Needs Block (HNB)"), so a passage that only says "HNB" is found by a
question that says "High Needs Block": papers spell a term out once and abbreviate it from then on."""
from __future__ import annotations

import re

# "Long Form Words (LFW)": an acronym of 2-8 capitals in brackets, "s" for its plural ("EHCPs").
_DEFINED = re.compile(r"\(\s*([A-Z][A-Z&]{1,7})s?\s*\)")
_USED = re.compile(r"\b([A-Z][A-Z&]{1,7})s?\b")
_WORD = re.compile(r"[A-Za-z][A-Za-z']*")
# Small words an acronym skips: "West of England Combined Authority (WECA)".
_SKIPPED = frozenset("of and the for in on to at by with &".split())
_REACH = 4  # words beyond the acronym's letters looked back over for its spelled-out form


def defined_acronyms(text: str) -> dict[str, str]:
    """Each acronym the text defines, with the words it stands for: {"HNB": "High Needs Block"}.
    The words must start with the acronym's letters in order, small words aside; the first definition wins."""
    found: dict[str, str] = {}
    for match in _DEFINED.finditer(text):
        acronym = match.group(1).replace("&", "")
        if acronym in found or len(acronym) < 2:
            continue
        before = _WORD.findall(text[max(0, match.start() - 200) : match.start()].replace("-", " "))
        long_form = spelled_out(acronym, before[-(len(acronym) + _REACH):])
        if long_form:
            found[acronym] = long_form
    return found


def spelled_out(acronym: str, words: list[str]) -> str | None:
    """The words ending just before the acronym whose initials spell it, or None."""
    letters = list(acronym.lower())
    taken: list[str] = []
    for word in reversed(words):
        if not letters:
            break
        if word[0].lower() == letters[-1]:
            letters.pop()
            taken.insert(0, word)
        elif word.lower() in _SKIPPED and taken:
            taken.insert(0, word)
        else:
            return None
    if letters:
        return None
    return " ".join(taken)


def acronym_expansions(text: str, glossary: dict[str, str]) -> list[str]:
    """The spelled-out forms of the glossary's acronyms that `text` uses without spelling them out."""
    if not glossary:
        return []
    # keyed as defined_acronyms keys them: "B&NES" is "BNES"
    used = {acronym.replace("&", "") for acronym in _USED.findall(text)}
    folded = text.lower()
    return [glossary[a] for a in sorted(used) if a in glossary and glossary[a].lower() not in folded]
