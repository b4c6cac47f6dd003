"""What a ModernGov site publishes, read from its web service (mgWebService.asmx) or, where that is
disabled, from its HTML pages (mgListCommittees, ieListMeetings, ieListDocuments).

Pure functions from a reply's text to typed records; fetch.connector does the requests.
Element and parameter names follow the replies councils actually send (see GetMeeting:
agendaitems/agendaitem/linkeddocuments/linkeddoc). Titles often arrive HTML-encoded twice
("Members&amp;#39;"), so every title is decoded until it stops changing.
"""
from __future__ import annotations

import datetime as dt
import html
import re
from dataclasses import dataclass, field
from urllib.parse import parse_qs, urljoin, urlsplit

SERVICE = "mgWebService.asmx"
# Pages a user may paste instead of the site's base address.
PAGE_NAMES = re.compile(r"/(?:mgWebService\.asmx(?:/\w+)?|[A-Za-z]+\.aspx)$", re.IGNORECASE)
_UK_DATE = re.compile(r"^\s*(\d{1,2})/(\d{1,2})/(\d{4})\s*$")
_MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
_TEXT_DATE = re.compile(
    r"\b(\d{1,2})(?:st|nd|rd|th)?\s+(jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\.?,?\s+(\d{4})\b", re.IGNORECASE
)
_FILE_SIZE = re.compile(r"\s*\b(?:PDF|DOC|DOCX|XLS|XLSX|PPT|PPTX|HTML?|RTF|TXT|CSV|ZIP)\s+[\d.,]+\s*[KMG]?B\s*$", re.IGNORECASE)
_ATTACHMENT = re.compile(r"(?:documents/s(\d+)/|mgConvert2PDF\.aspx\?(?:.*&)?ID=(\d+))", re.IGNORECASE)
_MEETING_DOCUMENT = re.compile(r"documents/g(\d+)/", re.IGNORECASE)


class SiteError(ValueError):
    """A reply that is not what a ModernGov site sends."""


@dataclass
class Committee:
    id: str
    title: str
    deleted: bool = False
    expired: bool = False

    @property
    def current(self) -> bool:
        return not (self.deleted or self.expired)


@dataclass
class Meeting:
    id: str
    committee: Committee
    date: str  # ISO
    status: str = ""
    minutes_published: bool = False

    @property
    def cancelled(self) -> bool:
        return "cancelled" in self.status.lower() or "postponed" in self.status.lower()


@dataclass
class LinkedDocument:
    key: str  # "a<attachment id>", or "g<meeting>/<file>" for a meeting's own files on an HTML page
    title: str
    url: str
    restricted: bool = False
    external: bool = False  # a link to another website rather than a document
    decision: bool = False


@dataclass
class AgendaItem:
    id: str
    number: str
    title: str
    restricted: bool = False
    is_decision: bool = False
    minute_number: str = ""
    decision_html: str = ""
    minutes_html: str = ""
    documents: list[LinkedDocument] = field(default_factory=list)
    restricted_documents: int = 0  # enclosures an HTML page lists without a link


@dataclass
class MeetingDetail:
    meeting: Meeting
    items: list[AgendaItem]
    documents: list[LinkedDocument] = field(default_factory=list)  # the meeting's own: agenda pack, printed minutes
    minutes_published: bool = False


# ---------------------------------------------------------------- addresses and values


def site_base(url: str) -> str:
    """The folder that holds mgWebService.asmx, from the address a user gives (a page of the site will do)."""
    text = url.strip()
    parts = urlsplit(text)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise SiteError(f"{url!r} is not a web address; give the site's address, e.g. https://democracy.example.gov.uk")
    path = PAGE_NAMES.sub("", parts.path.rstrip("/"))
    return f"{parts.scheme}://{parts.netloc}{path}".rstrip("/")


def service_url(base: str, operation: str) -> str:
    return f"{base}/{SERVICE}/{operation}"


def page_url(base: str, page: str) -> str:
    return f"{base}/{page}"


def decoded_text(value: str | None) -> str:
    """Text with HTML entities decoded until nothing changes ("Chair&amp;#39;s" -> "Chair's"), spaces collapsed."""
    text = value or ""
    for _ in range(3):
        decoded = html.unescape(text)
        if decoded == text:
            break
        text = decoded
    return " ".join(text.split())


def iso_from_uk_date(text: str | None) -> str | None:
    """"21/11/2025" -> "2025-11-21"; None for anything else."""
    match = _UK_DATE.match(text or "")
    if not match:
        return None
    day, month, year = (int(g) for g in match.groups())
    try:
        return dt.date(year, month, day).isoformat()
    except ValueError:
        return None


def uk_date(iso: str) -> str:
    """"2025-11-21" -> "21/11/2025", the form the web service's date parameters take."""
    day = dt.date.fromisoformat(iso)
    return f"{day.day:02d}/{day.month:02d}/{day.year}"


def iso_from_text_date(text: str) -> str | None:
    """The first "21 Nov 2025" / "Wednesday, 21st November, 2025" date in `text`, as ISO."""
    match = _TEXT_DATE.search(text)
    if not match:
        return None
    try:
        return dt.date(int(match.group(3)), _MONTHS.index(match.group(2).lower()[:3]) + 1, int(match.group(1))).isoformat()
    except ValueError:
        return None


def _flag(value: str | None) -> bool:
    return (value or "").strip().lower() == "true"


def without_file_size(title: str) -> str:
    """"Final proposals PDF 1 MB" -> "Final proposals": pages print each file's size in its link."""
    return _FILE_SIZE.sub("", title).strip()


# ---------------------------------------------------------------- the web service's XML


def xml_root(text: str, expected: str):
    """The reply's root element, checked to be `expected`; raises SiteError otherwise."""
    from lxml import etree

    parser = etree.XMLParser(resolve_entities=False, no_network=True, recover=False, huge_tree=False)
    try:
        root = etree.fromstring(text.strip().encode("utf-8"), parser)
    except etree.XMLSyntaxError as exc:
        raise SiteError(f"not XML ({exc})") from exc
    if root.tag != expected:
        raise SiteError(f"expected <{expected}>, found <{root.tag}>")
    return root


def _text(element, name: str) -> str:
    found = element.find(name)
    return (found.text or "").strip() if found is not None else ""


def committees_from_xml(text: str) -> list[Committee]:
    root = xml_root(text, "committees")
    return [
        Committee(_text(c, "committeeid"), decoded_text(_text(c, "committeetitle")),
                  _flag(_text(c, "committeedeleted")), _flag(_text(c, "committeeexpired")))
        for c in root.iter("committee") if _text(c, "committeeid")
    ]


def meetings_from_xml(text: str, committee: Committee) -> list[Meeting]:
    root = xml_root(text, "getmeetings")
    meetings = []
    for element in root.iter("meeting"):
        date = iso_from_uk_date(_text(element, "meetingdate"))
        if date and _text(element, "meetingid"):
            meetings.append(Meeting(_text(element, "meetingid"), committee, date, decoded_text(_text(element, "meetingstatus"))))
    return meetings


def meeting_from_xml(text: str, meeting: Meeting, base: str) -> MeetingDetail:
    root = xml_root(text, "meeting")
    items = [_agenda_item(element, base) for element in root.iter("agendaitem")]
    status = decoded_text(_text(root, "meetingstatus")) or meeting.status
    date = iso_from_uk_date(_text(root, "meetingdate")) or meeting.date
    published = _flag(_text(root, "minutepublished"))
    detail_meeting = Meeting(meeting.id, meeting.committee, date, status, published)
    return MeetingDetail(detail_meeting, items, minutes_published=published)


def _agenda_item(element, base: str) -> AgendaItem:
    number = _text(element, "agendaitemnumber") + _text(element, "agendaitemsubnumber")
    return AgendaItem(
        id=_text(element, "agendaitemid"),
        number=number,
        title=decoded_text(_text(element, "agendaitemtitle")),
        restricted=_flag(_text(element, "isrestricted")),
        is_decision=_flag(_text(element, "isdecision")),
        minute_number=(_text(element, "fulldisplaynumberformat") or _text(element, "minutesitemnumber")).rstrip("."),
        decision_html=_text(element, "decisionnonemptyhtmlbody"),
        minutes_html=_text(element, "minutesnonemptyhtmlbody"),
        documents=[_linked_document(doc, base) for doc in element.iter("linkeddoc") if _text(doc, "attachmentid")],
    )


def _linked_document(element, base: str) -> LinkedDocument:
    attachment = _text(element, "attachmentid")
    url = _text(element, "url") or page_url(base, f"mgConvert2PDF.aspx?ID={attachment}")
    return LinkedDocument(
        key=f"a{attachment}",
        title=decoded_text(_text(element, "title")) or f"Document {attachment}",
        url=urljoin(base + "/", url),
        restricted=_flag(_text(element, "isrestricted")),
        external=_flag(_text(element, "isurl")),
        decision=_flag(_text(element, "isdecisionattachment")),
    )


# ---------------------------------------------------------------- the HTML pages


def html_tree(text: str):
    import lxml.html

    if not text.strip():
        raise SiteError("empty page")
    return lxml.html.fromstring(text)


def _class_is(name: str) -> str:
    return f"contains(concat(' ', normalize-space(@class), ' '), ' {name} ')"


def _link_text(link) -> str:
    """A link's words without the file size and screen-reader text ModernGov puts inside it."""
    parts = [link.text or ""]
    for child in link:
        classes = (child.get("class") or "").split()
        if "mgFileSize" not in classes and "mgHide" not in classes:
            parts.append(child.text_content())
        parts.append(child.tail or "")
    return without_file_size(decoded_text("".join(parts)))


def committees_from_page(text: str) -> list[Committee]:
    """Committees linked from mgListCommittees.aspx (mgCommitteeDetails.aspx?ID= or ieListMeetings.aspx?CId=)."""
    found: dict[str, Committee] = {}
    for link in html_tree(text).iter("a"):
        query = _query(link.get("href") or "")
        page = urlsplit(link.get("href") or "").path.rsplit("/", 1)[-1].lower()
        ident = query.get("id") if page == "mgcommitteedetails.aspx" else query.get("cid") or query.get("committeeid")
        if page in ("mgcommitteedetails.aspx", "ielistmeetings.aspx") and ident and ident.isdigit():
            title = _link_text(link)
            if title and ident not in found:
                found[ident] = Committee(ident, title)
    return list(found.values())


def _query(href: str) -> dict[str, str]:
    return {key.lower(): values[0] for key, values in parse_qs(urlsplit(href).query).items()}


def meetings_from_page(text: str, committee: Committee) -> list[Meeting]:
    """Meetings linked from ieListMeetings.aspx: links to ieListDocuments.aspx?CId=&MId= labelled with the date."""
    meetings: dict[str, Meeting] = {}
    for link in html_tree(text).iter("a"):
        href = link.get("href") or ""
        query = _query(href)
        if not urlsplit(href).path.lower().endswith("ielistdocuments.aspx") or not query.get("mid", "").isdigit():
            continue
        label = decoded_text(link.getparent().text_content() if link.getparent() is not None else link.text_content())
        date = iso_from_text_date(_link_text(link)) or iso_from_text_date(label)
        if date and query["mid"] not in meetings:
            status = "Cancelled" if re.search(r"\b(cancelled|postponed)\b", label, re.IGNORECASE) else ""
            meetings[query["mid"]] = Meeting(query["mid"], committee, date, status)
    return list(meetings.values())


def meeting_from_page(text: str, meeting: Meeting, page: str) -> MeetingDetail:
    """Agenda items, their documents, decisions and minutes from ieListDocuments.aspx."""
    tree = html_tree(text)
    item_row = f"tr[td[{_class_is('mgItemNumberCell')}]]"
    items = [_item_from_row(row, page) for row in tree.xpath(f"//{item_row}")]
    own = []
    for link in tree.xpath(f"//a[not(ancestor::{item_row})]"):
        href = link.get("href") or ""
        if _MEETING_DOCUMENT.search(href):
            url = urljoin(page, href.strip())
            own.append(LinkedDocument(key=f"g{meeting.id}/{urlsplit(url).path.rsplit('/', 1)[-1]}", title=_link_text(link), url=url))
    published = any("minutes" in d.title.lower() for d in own) or any(i.minutes_html for i in items)
    detail = Meeting(meeting.id, meeting.committee, meeting.date, meeting.status, published)
    return MeetingDetail(detail, items, _unique(own), minutes_published=published)


def _unique(documents: list[LinkedDocument]) -> list[LinkedDocument]:
    return list({d.key: d for d in documents}.values())


def _item_from_row(row, page: str) -> AgendaItem:
    cells = row.findall("td")
    number = decoded_text(cells[0].text_content()).rstrip(".")
    body = cells[1] if len(cells) > 1 else cells[0]
    titles = body.xpath(f".//*[{_class_is('mgAiTitleTxt')}]")
    title = without_file_size(decoded_text(titles[0].text_content())) if titles else ""
    documents = []
    for link in body.iter("a"):
        match = _ATTACHMENT.search(link.get("href") or "")
        if match:
            url = urljoin(page, (link.get("href") or "").strip())
            documents.append(LinkedDocument(key=f"a{match.group(1) or match.group(2)}", title=_link_text(link) or title, url=url))
    restricted = len(re.findall(r"restricted enclosure", body.text_content(), re.IGNORECASE))
    return AgendaItem(
        id="", number=number, title=title, minute_number=number,
        decision_html=_section_after(body, "Decision"), minutes_html=_section_after(body, "Minutes"),
        documents=_unique(documents), restricted_documents=restricted,
    )


def _section_after(body, label: str) -> str:
    """The mgWordPara block that follows a "Decision:" / "Minutes:" sub-title, as HTML."""
    import lxml.html

    for title in body.xpath(f".//*[{_class_is('mgSubItemTitleTxt')}]"):
        if decoded_text(title.text_content()).rstrip(":").lower() == label.lower():
            following = title.getnext()
            while following is not None and not _class_is_on(following, "mgSubItemTitleTxt"):
                if _class_is_on(following, "mgWordPara"):
                    return lxml.html.tostring(following, encoding="unicode")
                following = following.getnext()
    return ""


def _class_is_on(element, name: str) -> bool:
    return name in (element.get("class") or "").split()
