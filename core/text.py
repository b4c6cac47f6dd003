"""Text normalisation for matching (display text is never altered by these), and the one way dates are written."""
from __future__ import annotations

import re
import unicodedata
from datetime import date

_CHAR_MAP = str.maketrans(
    {
        "\u2212": "-",  # minus sign
        "\u2013": "-",
        "\u2014": "-",
        "\u2010": "-",
        "\u2011": "-",
        "\u2018": "'",
        "\u2019": "'",
        "\u201a": "'",
        "\u201b": "'",
        "\u201c": '"',
        "\u201d": '"',
        "\u201e": '"',
        "\u00a0": " ",
        "\u202f": " ",  # narrow no-break space
        "\u2009": " ",
        "\u2007": " ",
        "\u200b": "",
        "\u00ad": "",  # soft hyphen
        "\ufeff": "",
        "\u2022": " ",
        "\uf0b7": " ",  # private-use bullet from Word exports
    }
)
_SPACES = re.compile(r"\s+")
_THOUSANDS = re.compile(r"(?<=\d),(?=\d{3}\b)")


def fold_characters(text: str) -> str:
    """Map typographic variants (minus, curly quotes, odd spaces) to plain ASCII.

    One character in gives at most one character out, except for the few
    zero-width ones that are dropped, so offsets stay close to the original.
    """
    return unicodedata.normalize("NFKC", text.translate(_CHAR_MAP))


def folded_offsets(text: str) -> list[int]:
    """Where each character of `text` lands in `fold_characters(text)`, plus the end (len(text) + 1 entries).

    Folding is character by character except that NFKC may expand a few (ligatures such
    as "\ufb01" become "fi"), so positions are counted rather than assumed equal.
    """
    offsets = [0]
    for character in text:
        offsets.append(offsets[-1] + len(fold_characters(character)))
    return offsets


def normalise_for_matching(text: str) -> str:
    """Lower-cased, whitespace-collapsed, "6,681" == "6681" form for comparisons."""
    folded = fold_characters(text).lower()
    folded = _THOUSANDS.sub("", folded)
    return _SPACES.sub(" ", folded).strip()


def contains_normalised(haystack: str, needle: str) -> bool:
    return normalise_for_matching(needle) in normalise_for_matching(haystack)


def word_count(text: str) -> int:
    return len(text.split())


def long_date(iso: str | None) -> str:
    """"2016-02-01" as "1 February 2016", the one way answers and pages write a date; anything else as given."""
    if not iso:
        return ""
    try:
        day = date.fromisoformat(iso)
    except ValueError:
        return iso
    return f"{day.day} {day:%B %Y}"


def display_path(path) -> str:
    """A file name fit to print and store: bytes that are not UTF-8 (a Latin-1 name on a share) shown as \\xe9."""
    import os

    return os.fsencode(path).decode("utf-8", "backslashreplace")


def has_undecodable_name(path) -> bool:
    """True when the file's name is not valid UTF-8, so it cannot be stored as text or served back by name."""
    return display_path(path) != str(path)
