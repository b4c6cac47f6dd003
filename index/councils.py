"""Which councils a question names, from the list of every UK local authority shipped beside this module."""
from __future__ import annotations

import functools
import re
from pathlib import Path

COUNCIL_LIST = Path(__file__).with_name("councils.txt")
# "Narnia County Council": a council the list may not know, named as one.
_NAMED_COUNCIL = re.compile(r"\b((?:[A-Z][a-z]+\s){1,3})Council\b")
_GENERIC = {"county", "city", "borough", "district", "metropolitan", "town", "parish"}


@functools.lru_cache(maxsize=1)
def known_councils() -> tuple[str, ...]:
    """Place names of the UK's local authorities, longest first so "West Sussex" is found before "Sussex"."""
    lines = COUNCIL_LIST.read_text(encoding="utf-8").splitlines()
    names = {line.strip() for line in lines if line.strip() and not line.startswith("#")}
    return tuple(sorted(names, key=lambda n: (-len(n), n)))


@functools.lru_cache(maxsize=1)
def known_council_pattern() -> re.Pattern:
    """Any listed place as a whole word (with a possessive), longest first so "West Sussex" is not also "Sussex"."""
    names = "|".join(re.escape(name) for name in known_councils())
    return re.compile(rf"(?<![\w-])({names})(?:['\u2019]s)?(?![\w-])")


def councils_named(question: str) -> list[str]:
    """Councils a question names: places on the list written with their capitals, or "X Council"."""
    pattern = known_council_pattern()
    found = list(dict.fromkeys(match.group(1) for match in pattern.finditer(question)))
    taken = pattern.sub(" ", question)
    for match in _NAMED_COUNCIL.finditer(taken):
        words = match.group(1).split()
        while words and words[-1].lower() in _GENERIC:
            words.pop()
        if words and words[0].lower() not in {"the", "this", "each", "every", "which", "what"}:
            found.append(" ".join(words))
    return found


def councils_without_papers(question: str, authorities: list[str]) -> list[str]:
    """Councils a question names that no paper in the index comes from.

    Such a question can still be answered by a line that names the council (papers compare
    themselves with others: "Leeds" in Sunderland's report), but by no other line. A question that also
    names a council with papers is about that one, with the other as its comparison ("Sunderland's
    contacts, in the comparison with Leeds"): none is missing.
    """
    named = councils_named(question)
    missing = [name for name in named if not any(name.lower() in authority.lower() for authority in authorities)]
    return missing if len(missing) == len(named) else []
