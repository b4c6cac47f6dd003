"""Document metadata: detected from a paper's opening text, corrected by sidecar files.

Committee papers state their council, meeting, date, title and paper number in a masthead
at the top, so detection reads only the first few thousand characters. What a paper does not
state is left empty rather than guessed from dates or names in the body; a sidecar supplies
it: `metadata.yaml` in the folder (doc id -> record) or `<file>.meta.json` beside a paper.
Sidecar values override detected ones.
"""
from __future__ import annotations

import datetime as dt
import json
import re
from dataclasses import dataclass, fields
from pathlib import Path

import yaml

from core.records import DocumentMeta, ParsedDocument
from core.text import fold_characters

HEAD_CHARS = 3000
# A council named only in the body ("birth rate in Peterborough") is still the paper's own.
AUTHORITY_WINDOW_CHARS = 12000
MASTHEAD_MAX_LINES = 20
TITLE_MAX_WORDS = 14

SIDECAR_YAML = "metadata.yaml"
SIDECAR_JSON_SUFFIX = ".meta.json"
META_KEYS = tuple(f.name for f in fields(DocumentMeta))

# Canonical name -> how papers refer to the council without naming it in full.
KNOWN_AUTHORITIES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("Kent County Council", ("Kent", "KCC")),
    ("Suffolk County Council", ("Suffolk",)),
    ("Sunderland City Council", ("Sunderland",)),
    ("Peterborough City Council", ("Peterborough",)),
    ("West Sussex County Council", ("West Sussex", "WSCC")),
)

MONTHS = (
    "January", "February", "March", "April", "May", "June",
    "July", "August", "September", "October", "November", "December",
)
_MONTH = r"(Jan(?:uary)?|Feb(?:ruary)?|Mar(?:ch)?|Apr(?:il)?|May|June?|July?|Aug(?:ust)?|Sept?(?:ember)?|Oct(?:ober)?|Nov(?:ember)?|Dec(?:ember)?)"
_WEEKDAY = r"(?:(?:Mon|Tues|Wednes|Thurs|Fri|Satur|Sun)day,?\s+)?"
DATE = re.compile(_WEEKDAY + r"(\d{1,2})(?:st|nd|rd|th)?\s+" + _MONTH + r"\b\.?,?\s+(\d{4})\b", re.IGNORECASE)
MONTH_YEAR_LINE = re.compile(r"^" + _MONTH + r"\s+(\d{4})$", re.IGNORECASE)

_MEETING_WORD = r"(?:Cabinet|Council|Committee|Sub-Committee|Board|Panel|Forum|Executive|Commission)"
# An upper-case meeting name opening a masthead line: "CORPORATE PARENTING PANEL - 29 October 2024".
HEADER_MEETING = re.compile(
    r"^((?:[A-Z][A-Z'&-]* )*?" + _MEETING_WORD.upper() + r")(?=$|\t| {2,}|\s*[-:|]|\s+\d|\s+(?:AGENDA|ITEM|MEETING)\b)"
)
_PLACE_WORD = r"(?:[A-Z][a-z]+|[A-Z]{2,})"
COUNCIL_NAME = re.compile(
    rf"\b({_PLACE_WORD}(?: {_PLACE_WORD})?) +(County|City|Borough|District|COUNTY|CITY|BOROUGH|DISTRICT) +(?:Council|COUNCIL)\b"
)
_NOT_PLACE_WORDS = {"the", "this", "that", "full", "our", "each", "every", "in", "within", "across", "by", "for",
                    "from", "to", "of", "at", "and", "a", "an", "county", "city", "borough", "district", "whole"}
CABINET_MEMBER = re.compile(r"Cabinet Member for ([^,;:()\t]+)")
MINUTES_OF_MEETING = re.compile(r"^MINUTES of (?:a|the) meeting", re.MULTILINE)
MINUTES_COMMITTEE = re.compile(r"MINUTES of a meeting of (?:the )?(.+?) held\b", re.IGNORECASE)
MINUTES_DATE = re.compile(r"MINUTES of a meeting of .{0,200}? on (" + DATE.pattern + ")", re.IGNORECASE)
TO_LINE = re.compile(r"^To:?\s+(.+)$")
SUBJECT_LINE = re.compile(r"^Subject\s*:\s*(.*)$", re.IGNORECASE)
TITLE_OF_DECISION = re.compile(r"title of decision\s*:?$", re.IGNORECASE)
DATE_LABEL = re.compile(r"^(?:Meeting Date|Date of (?:the )?meeting|Date)\s*:\s*(.*)$", re.IGNORECASE)
COMMITTEE_LABEL = re.compile(r"^(?:Committee|Meeting)\s*:\s*(.*)$", re.IGNORECASE)
DECISION_NUMBER = re.compile(r"\bDecision\s+(?:No\.?|Number)\s*:?\s*(\d{2}/\d{5})\b", re.IGNORECASE)
REF_LABEL = re.compile(r"^(?:Ref(?:erence)?\.?(?:\s*No\.?)?|Paper\s+(?:No\.?|Number))\s*:?\s+(.+)$", re.IGNORECASE)
REFERENCE_LINE = re.compile(r"^(?:[A-Z]{1,4}\d{2,4}/\d{1,4}(?: ?\(\d{2}/\d{2}\))?|\d{2}/\d{5})$")
DECISION_IN_TITLE = re.compile(r"\bDecision\s+(\d{2}/\d{5})\b")
# Where the masthead ends and the body of the report begins.
BODY_START = re.compile(
    r"^(?:action recommended|recommendations?(?:\(s\))?\b|summary\b|executive summary|brief summary|"
    r"purpose of (?:the )?report|introduction\b|key points|present:|question by\b|1\.\d*\s+\S|1\s+[A-Z])",
    re.IGNORECASE,
)
NOT_A_TITLE = re.compile(
    r"^(?:report (?:of|by)|from\b|to\b|by\b|page \d|question \d|item \d|appendix\b|agenda\b|part [ivx]+$|ref\b|"
    r"minutes of\b|cabinet member for\b)",
    re.IGNORECASE,
)
_SMALL_WORDS = {"a", "an", "and", "as", "at", "by", "for", "from", "in", "of", "on", "or", "the", "to", "with"}
_CONTINUES = re.compile(r"(?:'s|\band|\bfor|\bof|\bthe|&|,|-)$", re.IGNORECASE)


# ---------------------------------------------------------------- detection


@dataclass(frozen=True)
class PaperHead:
    """A paper's opening text as stripped lines, and where its masthead gives way to the body."""

    text: str
    lines: list[str]
    masthead_end: int  # index in `lines` of the first body line

    @property
    def masthead(self) -> list[str]:
        return [line for line in self.lines[: self.masthead_end] if line]

    def masthead_indexes(self) -> range:
        return range(self.masthead_end)


def detect_metadata(doc: ParsedDocument) -> DocumentMeta:
    """What the paper's own opening text states about it; fields it does not state stay None."""
    head = paper_head(_leading_text(doc.pages, HEAD_CHARS))
    committee = detect_committee(head)
    date = detect_date(head)
    title = detect_title(head, committee, date)
    return DocumentMeta(
        authority=detect_authority(head.text, fold_characters(_leading_text(doc.pages, AUTHORITY_WINDOW_CHARS))),
        committee=committee,
        date=date,
        title=title,
        reference=detect_reference(head, title),
    )


def _leading_text(pages: list[str], limit: int) -> str:
    text = ""
    for page in pages:
        text += page + "\n"
        if len(text) >= limit:
            break
    return text[:limit]


def paper_head(text: str) -> PaperHead:
    """Split the opening text into lines; the masthead ends at the recommendations, summary or paragraph 1."""
    text = fold_characters(text)
    lines = [line.strip() for line in text.splitlines()]
    seen = 0
    for index, line in enumerate(lines):
        if not line:
            continue
        if (BODY_START.match(line) and not DATE.match(line)) or seen >= MASTHEAD_MAX_LINES:
            return PaperHead(text, lines, index)
        seen += 1
    return PaperHead(text, lines, len(lines))


def iso_date(day: int, month_name: str, year: int) -> str | None:
    month = next((i for i, name in enumerate(MONTHS, 1) if name.lower().startswith(month_name.lower()[:3])), None)
    try:
        return dt.date(year, month, day).isoformat() if month else None
    except ValueError:
        return None


def first_date(text: str) -> str | None:
    for match in DATE.finditer(text):
        found = iso_date(int(match.group(1)), match.group(2), int(match.group(3)))
        if found:
            return found
    return None


def _date_at_line_edge(line: str) -> str | None:
    """A date that opens or closes a line: "23 SEPTEMBER 2013  PUBLIC REPORT", "PANEL - 29 October 2024"."""
    for match in DATE.finditer(line):
        if match.start() == 0 or not line[match.end():].strip(" .\t"):
            return iso_date(int(match.group(1)), match.group(2), int(match.group(3)))
    return None


def detect_date(head: PaperHead) -> str | None:
    """The meeting or report date from the masthead; dates in the body are other events."""
    labelled = _labelled_value(head.lines, DATE_LABEL)
    if labelled and first_date(labelled):
        return first_date(labelled)
    for line in head.masthead:
        if TO_LINE.match(line) and first_date(line):
            return first_date(line)
    minutes = MINUTES_DATE.search(" ".join(head.text.split()))
    if minutes:
        return first_date(minutes.group(1))
    for line in head.masthead:
        lowered = line.lower()
        if "pathway" in lowered or "minutes of" in lowered or "held on" in lowered:
            continue  # another meeting's date: where the report went before, or last minutes
        found = _date_at_line_edge(line)
        if found:
            return found
    for line in head.masthead:
        month_only = MONTH_YEAR_LINE.match(line)
        if month_only:  # "May 2009": dated to the month; the 1st is the ISO stand-in
            return iso_date(1, month_only.group(1), int(month_only.group(2)))
    return None


def _labelled_value(lines: list[str], label: re.Pattern) -> str | None:
    """The value after "Label:" on the same line or, in tabular mastheads, on the next non-empty one."""
    for index, line in enumerate(lines):
        match = label.match(line)
        if match:
            value = match.group(1).strip()
            return value or next((text for text in lines[index + 1 : index + 4] if text), None)
    return None


def _with_continuation(lines: list[str], index: int, text: str, max_lines: int = 4) -> str:
    """Join the wrapped lines of one value: stop at a blank line or the next "Label:" line."""
    parts = [text.strip()]
    for line in lines[index + 1 : index + max_lines]:
        if not line or ":" in line:
            break
        parts.append(line)
    return " ".join(" ".join(parts).split())


def _line_with_wrap(lines: list[str], index: int) -> str:
    """A line plus the next one when it visibly breaks mid-phrase ("Integrated Children's" / "Services")."""
    line = lines[index]
    following = next((text for text in lines[index + 1 : index + 3] if text), "")
    if _CONTINUES.search(line) and following and ":" not in following:
        return f"{line} {following}"
    return line


def _cabinet_member(text: str) -> str | None:
    match = CABINET_MEMBER.search(text)
    return f"Cabinet Member for {' '.join(match.group(1).split())}".rstrip(" .") if match else None


def detect_committee(head: PaperHead) -> str | None:
    """The meeting (or decision-maker) the paper is for, e.g. "Cabinet", "Corporate Parenting Board"."""
    labelled = _labelled_value(head.lines, COMMITTEE_LABEL)
    if labelled:
        return _meeting_name(labelled)
    for index in head.masthead_indexes():
        addressed = _addressee(head.lines, index)
        if addressed:
            return addressed
    minutes = MINUTES_COMMITTEE.search(" ".join(head.text.split()))
    if minutes:
        return _meeting_name(minutes.group(1))
    for line in head.masthead:
        header = HEADER_MEETING.match(line)
        if header and not COUNCIL_NAME.fullmatch(header.group(1)):  # "KENT COUNTY COUNCIL" is the authority
            return _meeting_name(header.group(1))
    for index, line in enumerate(head.lines):
        if re.match(r"decision to be taken by", line, re.IGNORECASE):
            maker = next((i for i in range(index + 1, min(index + 4, len(head.lines))) if head.lines[i]), None)
            if maker is not None and _cabinet_member(_line_with_wrap(head.lines, maker)):
                return _cabinet_member(_line_with_wrap(head.lines, maker))
    for index in head.masthead_indexes():
        if head.lines[index].startswith("Cabinet Member for"):
            return _cabinet_member(_line_with_wrap(head.lines, index))
    return None


def _addressee(lines: list[str], index: int) -> str | None:
    """The meeting or Cabinet Member a "To: Cabinet - 30 January 2025" line sends the report to."""
    to_line = TO_LINE.match(lines[index])
    if not to_line:
        return None
    member = _cabinet_member(_line_with_wrap(lines, index))
    if member:
        return member
    dated = DATE.search(to_line.group(1))
    name = (to_line.group(1)[: dated.start()] if dated else to_line.group(1)).strip(" -,")
    return _meeting_name(name) if re.search(_MEETING_WORD + r"$", name) else None


def _meeting_name(text: str) -> str:
    name = " ".join(text.split()).strip(" -,.")
    return display_case(name) if name.isupper() else name


def display_case(text: str) -> str:
    """Title case for an upper-case heading, keeping "Children's" and small joining words right."""
    words = text.lower().split()
    return " ".join(
        word if (i and word in _SMALL_WORDS) or any(c.isdigit() for c in word) else word[:1].upper() + word[1:]
        for i, word in enumerate(words)
    )


def canonical_authority(place: str, kind: str) -> str:
    """"KENT", "County" -> "Kent County Council", using the known councils' own spelling when listed."""
    for canonical, aliases in KNOWN_AUTHORITIES:
        if place.lower() == aliases[0].lower():
            return canonical
    return f"{display_case(place)} {kind.capitalize()} Council"


def _council_named(text: str) -> str | None:
    for match in COUNCIL_NAME.finditer(text):
        place_words = [w for w in match.group(1).split() if w.lower() not in _NOT_PLACE_WORDS]
        if place_words:
            return canonical_authority(" ".join(place_words), match.group(2))
    return None


def _known_authority_mentions(text: str) -> list[tuple[int, str]]:
    """(offset, canonical name) for each mention of a known council's place name or abbreviation."""
    mentions: list[tuple[int, str]] = []
    for canonical, aliases in KNOWN_AUTHORITIES:
        for alias in aliases:
            flags = 0 if alias.isupper() else re.IGNORECASE  # "KCC" is an abbreviation; "SUNDERLAND" a place
            mentions += [(m.start(), canonical) for m in re.finditer(rf"\b{re.escape(alias)}\b", text, flags)]
    return sorted(mentions)


def detect_authority(head: str, wider: str) -> str | None:
    """The council: named in full near the top, else its place name near the top, else the most-mentioned one."""
    named = _council_named(head)
    if named:
        return named
    mentions = _known_authority_mentions(head)
    if mentions:
        return mentions[0][1]
    names = [name for _, name in _known_authority_mentions(wider)]
    return max(dict.fromkeys(names), key=names.count) if names else None


def detect_reference(head: PaperHead, title: str | None) -> str | None:
    """The paper's own number ("E05/23", "CYP24 (08/09)", decision "24/00093"), not ones it cites."""
    decision = DECISION_NUMBER.search(head.text)
    if decision:
        return decision.group(1)
    for line in head.masthead:
        labelled = REF_LABEL.match(line)
        if labelled and any(c.isdigit() for c in labelled.group(1)):
            return " ".join(labelled.group(1).split())
        collapsed = " ".join(line.split())
        if REFERENCE_LINE.match(collapsed):
            return collapsed
    in_title = DECISION_IN_TITLE.search(title or "")  # a call-in report is about that decision
    return in_title.group(1) if in_title else None


def detect_title(head: PaperHead, committee: str | None, date: str | None) -> str | None:
    """The "Subject:" of a report, a minutes heading, or the first title-like masthead line."""
    lines = head.lines
    for index, line in enumerate(lines):
        subject = SUBJECT_LINE.match(line)
        if subject and subject.group(1).strip():
            return _with_continuation(lines, index, subject.group(1)).rstrip(" .")
        if TITLE_OF_DECISION.search(line):
            start = next((i for i in range(index + 1, len(lines)) if lines[i]), None)
            if start is not None:
                return _with_continuation(lines, start, lines[start]).rstrip(" .")
    if MINUTES_OF_MEETING.search(head.text) and committee and date:
        day = dt.date.fromisoformat(date)
        return f"{committee} minutes, {day.day} {MONTHS[day.month - 1]} {day.year}"
    candidates = [" ".join(line.split()) for line in head.masthead if _is_title_like(line, committee)]
    if not candidates:
        return None
    # A heading in capitals beats a mixed-case line such as a councillor's name in the masthead table.
    upper = [text for text in candidates if text.isupper()]
    title = upper[0] if upper else candidates[0]
    return display_case(title) if title.isupper() else title[:1].upper() + title[1:]


def _is_title_like(line: str, committee: str | None) -> bool:
    text = " ".join(line.split())
    words = text.split()
    if not 2 <= len(words) <= TITLE_MAX_WORDS or ":" in text or ", " in text:
        return False
    if text[-1] in ",.;?!" or _CONTINUES.search(text) or NOT_A_TITLE.match(text):
        return False
    if committee and text.lower() == committee.lower():
        return False
    if HEADER_MEETING.match(line) or _date_at_line_edge(line) or MONTH_YEAR_LINE.match(text):
        return False
    if REFERENCE_LINE.match(text) or COUNCIL_NAME.fullmatch(text):
        return False
    return any(c.isalpha() for c in text)


# ---------------------------------------------------------------- sidecars


def load_sidecar_metadata(folder: Path) -> dict[str, dict]:
    """Metadata records by doc id from `metadata.yaml` in `folder` and `<file>.meta.json` beside papers.

    A `.meta.json` record is the more specific one, so its fields win over the YAML file's.
    Unknown keys are dropped; a malformed file or a non-ISO date raises ValueError naming the file.
    """
    folder = Path(folder)
    records: dict[str, dict] = {}
    yaml_path = folder / SIDECAR_YAML
    if yaml_path.is_file():
        records.update(_records_from_yaml(yaml_path))
    for json_path in sorted(folder.glob("*" + SIDECAR_JSON_SUFFIX)):
        doc_id = doc_id_for_sidecar(json_path)
        records[doc_id] = {**records.get(doc_id, {}), **_validated_record(_json_record(json_path), json_path, doc_id)}
    return records


def doc_id_for_sidecar(path: Path) -> str:
    """"paper.pdf.meta.json" and "paper.meta.json" both describe the paper with id "paper"."""
    from ingest.pipeline import PAPER_SUFFIXES

    described = Path(path.name[: -len(SIDECAR_JSON_SUFFIX)])
    return described.stem if described.suffix.lower() in PAPER_SUFFIXES else described.name


def _records_from_yaml(path: Path) -> dict[str, dict]:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f" line {mark.line + 1}" if mark else ""
        raise ValueError(f"{path}:{where}: malformed YAML: {exc.problem or exc.context}") from exc
    except yaml.YAMLError as exc:
        raise ValueError(f"{path}: malformed YAML: {exc}") from exc
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ValueError(f"{path}: expected a mapping of document id to metadata, found {type(data).__name__}")
    for doc_id in data:
        if not isinstance(doc_id, str):  # YAML reads 2024_01 as the number 202401
            raise ValueError(f"{path}: document id {doc_id!r} is not text; put it in quotes")
    return {doc_id: _validated_record(record, path, doc_id) for doc_id, record in data.items()}


def _json_record(path: Path) -> object:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise ValueError(f"{path}: line {exc.lineno}: malformed JSON: {exc.msg}") from exc


def _validated_record(record: object, path: Path, doc_id: str) -> dict:
    if not isinstance(record, dict):
        raise ValueError(f"{path}: metadata for {doc_id!r} must be a mapping of field to value, found {type(record).__name__}")
    clean: dict[str, str] = {}
    for key in META_KEYS:
        value = record.get(key)
        if value is None or value == "":
            continue
        if isinstance(value, (dt.date, dt.datetime)):  # YAML reads an unquoted 2016-02-01 as a date
            value = value.isoformat()[:10]
        if isinstance(value, (dict, list)):
            raise ValueError(f"{path}: metadata for {doc_id!r}: {key} must be text, found {type(value).__name__}")
        clean[key] = str(value).strip()
    if "date" in clean and not _is_iso_date(clean["date"]):
        raise ValueError(f"{path}: metadata for {doc_id!r}: date {clean['date']!r} is not an ISO date (yyyy-mm-dd)")
    if "source_url" in clean and not re.match(r"https?://[^\s/]+", clean["source_url"], re.IGNORECASE):
        # It becomes a link on the paper's page: only a web address may.
        raise ValueError(f"{path}: metadata for {doc_id!r}: source_url {clean['source_url']!r} is not an http(s) address")
    return clean


def _is_iso_date(text: str) -> bool:
    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
        return False
    try:
        dt.date.fromisoformat(text)
    except ValueError:
        return False
    return True


def resolve_metadata(detected: DocumentMeta, sidecar: dict | None) -> DocumentMeta:
    """Detected metadata with the sidecar's values on top: the sidecar wins field by field."""
    return detected.merged_with(sidecar) if sidecar else detected
