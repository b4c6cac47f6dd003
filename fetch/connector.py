"""fetch_moderngov: a ModernGov site in, a folder of papers with sidecar metadata out, ready for `scrutiny ingest`.

Committees (GetCommittees) -> their meetings in the date range (GetMeetings) -> each meeting's
agenda items and linked documents (GetMeeting) -> the public documents, downloaded one at a time.
Decision and minutes text that the site gives as HTML becomes a paper of its own. Where the web
service is disabled the same facts are read from the site's HTML pages.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import html
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from core.settings import FetchSettings
from fetch.http import FetchError, PoliteClient
from fetch.moderngov import (
    AgendaItem, Committee, LinkedDocument, Meeting, MeetingDetail, SiteError, committees_from_page, committees_from_xml,
    html_tree, meeting_from_page, meeting_from_xml, meetings_from_page, meetings_from_xml, page_url, service_url, site_base,
    uk_date,
)
from fetch.store import ORIGIN_KEY, FetchState, Held, paper_stem, paper_suffix, part_path, remove_stale_parts, slug, \
    write_atomically, write_sidecar
from ingest.pipeline import Progress

DEFAULT_DAYS_BACK = 365
DEFAULT_DAYS_AHEAD = 366
COMMITTEES_PAGE = "mgListCommittees.aspx?bcr=1"
# Host labels that name the service rather than the council ("democracy.gloucester.gov.uk").
SERVICE_HOST_WORDS = {"www", "democracy", "moderngov", "modgov", "committees", "committee", "meetings", "mginternet",
                      "councillors", "democratic", "democraticservices", "decisionmaking", "minutes", "cmis", "services"}
COUNCIL_WORDS = re.compile(r"\b(Council|Borough|County|Authority|Senedd|Parliament|Assembly)\b")


@dataclass
class FetchRequest:
    base_url: str
    committees: list[str] = field(default_factory=list)  # names or ids; empty: every current committee
    since: str | None = None  # ISO dates
    until: str | None = None
    into: Path | None = None
    authority: str | None = None
    dry_run: bool = False


@dataclass
class Paper:
    """One thing a meeting offers: a document to download, or a decision or minutes record to write."""

    key: str
    kind: str  # "document" | "decision" | "minutes"
    title: str
    meeting: Meeting
    item: AgendaItem | None
    source_url: str
    url: str | None = None  # what to download; None for a record written from the meeting's own text
    body: str | None = None  # the record's HTML
    restricted: bool = False
    external: bool = False
    decision: bool = False
    status: str = ""  # after the run: new, already had, restricted, link, failed, unsupported


@dataclass
class FetchReport:
    site: str
    source: str = ""  # "web service" | "HTML pages"
    authority: str = ""
    folder: Path | None = None
    committees: list[str] = field(default_factory=list)
    meetings: int = 0
    cancelled: int = 0
    already_complete: int = 0
    papers: list[Paper] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    bytes: int = 0
    notes: list[str] = field(default_factory=list)

    def count(self, status: str, kinds: tuple[str, ...] = ("document",)) -> int:
        return sum(1 for p in self.papers if p.status == status and p.kind in kinds)

    @property
    def failed(self) -> bool:
        return bool(self.failures)


# ---------------------------------------------------------------- where the facts come from


class WebService:
    name = "web service"

    def __init__(self, base: str, client: PoliteClient):
        self.base, self.client = base, client
        self.committees_page: str | None = None  # the HTML committee list, once read

    def committees(self) -> list[Committee]:
        return committees_from_xml(self.client.get_text(service_url(self.base, "GetCommittees")))

    def meetings(self, committee: Committee, since: str, until: str) -> list[Meeting]:
        params = {"lCommitteeId": committee.id, "sFromDate": uk_date(since), "sToDate": uk_date(until)}
        found = meetings_from_xml(self.client.get_text(service_url(self.base, "GetMeetings"), params), committee)
        return [m for m in found if since <= m.date <= until]

    def meeting(self, meeting: Meeting) -> MeetingDetail:
        text = self.client.get_text(service_url(self.base, "GetMeeting"), {"lMeetingId": meeting.id})
        return meeting_from_xml(text, meeting, self.base)

    def decision_url(self, meeting: Meeting, item: AgendaItem) -> str:
        return page_url(self.base, f"ieDecisionDetails.aspx?AIId={item.id}") if item.id else self.meeting_url(meeting)

    def meeting_url(self, meeting: Meeting) -> str:
        return page_url(self.base, f"ieListDocuments.aspx?CId={meeting.committee.id}&MId={meeting.id}")


class HtmlPages(WebService):
    name = "HTML pages"

    def committees(self) -> list[Committee]:
        text = self.client.get_text(page_url(self.base, COMMITTEES_PAGE))
        self.committees_page = text
        found = committees_from_page(text)
        if not found:
            raise SiteError(f"{page_url(self.base, COMMITTEES_PAGE)} lists no committees")
        return found

    def meetings(self, committee: Committee, since: str, until: str) -> list[Meeting]:
        text = self.client.get_text(page_url(self.base, f"ieListMeetings.aspx?CId={committee.id}&Year=0"))
        return [m for m in meetings_from_page(text, committee) if since <= m.date <= until]

    def meeting(self, meeting: Meeting) -> MeetingDetail:
        url = self.meeting_url(meeting) + "&Ver=4"
        return meeting_from_page(self.client.get_text(url), meeting, url)

    def decision_url(self, meeting: Meeting, item: AgendaItem) -> str:
        return self.meeting_url(meeting)


def open_site(base: str, client: PoliteClient, progress: Progress) -> tuple[WebService, list[Committee]]:
    """The web service when it answers, else the HTML pages; raises SiteError when neither can be read."""
    try:
        service = WebService(base, client)
        return service, service.committees()
    except (FetchError, SiteError) as exc:
        progress.note(f"the web service at {service_url(base, 'GetCommittees')} is not available ({_problem(exc)}); "
                      "reading the HTML pages instead")
        service_problem = _problem(exc)
    try:
        pages = HtmlPages(base, client)
        return pages, pages.committees()
    except (FetchError, SiteError) as exc:
        raise SiteError(f"{base} does not look like a ModernGov site: its web service gave {service_problem} and "
                        f"its committee page gave {_problem(exc)}") from exc


def _problem(exc: Exception) -> str:
    return exc.problem if isinstance(exc, FetchError) else str(exc)


def chosen_committees(committees: list[Committee], wanted: list[str]) -> list[Committee]:
    """The committees asked for by id or name (exact, else a unique part of it); all current ones when none are."""
    if not wanted:
        return [c for c in committees if c.current]
    chosen: list[Committee] = []
    for name in wanted:
        text = name.strip().lower()
        exact = [c for c in committees if c.id == name.strip() or c.title.lower() == text]
        partial = [c for c in committees if text in c.title.lower()]
        matches = exact or partial
        if not matches:
            current = ", ".join(c.title for c in committees if c.current)
            raise SiteError(f"no committee {name!r} on this site; its current committees are: {current}")
        if len(matches) > 1:
            raise SiteError(f"{name!r} matches {len(matches)} committees ({', '.join(c.title for c in matches)}); "
                            "give the full name or the id")
        chosen.extend(c for c in matches if c not in chosen)
    return chosen


def council_name(site: WebService) -> str:
    """The council, from the title of the site's committee page ("Committee structure - Gloucester City Council"),
    else from its host name."""
    try:
        tree = html_tree(site.committees_page or site.client.get_text(page_url(site.base, COMMITTEES_PAGE)))
        title = " ".join((tree.findtext(".//title") or "").split())
    except (FetchError, SiteError, ValueError):
        title = ""
    return council_from_title(title) or council_from_host(site.base)


def council_from_title(title: str) -> str | None:
    for part in reversed(re.split(r"\s+[-|\u2013:]\s+", title)):
        if COUNCIL_WORDS.search(part):
            return part.strip()
    return None


def council_from_host(base: str) -> str:
    labels = (urlsplit(base).hostname or "").split(".")
    words = [label for label in labels if label not in SERVICE_HOST_WORDS]
    return (words[0] if words else labels[0]).replace("-", " ").title()


# ---------------------------------------------------------------- what a meeting offers


def papers_of(detail: MeetingDetail, site: WebService) -> list[Paper]:
    """Every document of a meeting, a record of each decision, and one record of its minutes; each once."""
    meeting = detail.meeting
    meeting_url = site.meeting_url(meeting)
    papers = [_document_paper(doc, meeting, None) for doc in detail.documents]
    for item in detail.items:
        papers += [_document_paper(doc, meeting, item, item.restricted) for doc in item.documents]
        papers += [Paper(f"r{meeting.id}-{item.number}-{n}", "document", f"Restricted enclosure, item {item.number}",
                         meeting, item, meeting_url, restricted=True) for n in range(item.restricted_documents)]
        if item.decision_html and not item.restricted:
            title = f"Decision, item {item.number}: {item.title}" if item.number else f"Decision: {item.title}"
            body = f"<p>{html.escape(decision_lead(item))}</p>\n{item.decision_html}"
            papers.append(Paper(f"d{item.id or f'{meeting.id}-{item.number}'}", "decision", title, meeting, item,
                                site.decision_url(meeting, item), body=record_html(title, body), decision=True))
    minuted = [item for item in detail.items if item.minutes_html and not item.restricted]
    if minuted:
        day = dt.date.fromisoformat(meeting.date)
        title = f"Minutes, {meeting.committee.title}, {day.day} {day:%B %Y}"
        body = "\n".join(f"<h2>{html.escape(item_heading(item))}</h2>\n{item.minutes_html}" for item in minuted)
        papers.append(Paper(f"m{meeting.id}", "minutes", title, meeting, None, meeting_url, body=record_html(title, body)))
    unique: dict[str, Paper] = {}
    for paper in papers:
        unique.setdefault(paper.key, paper)
    return list(unique.values())


def _document_paper(doc: LinkedDocument, meeting: Meeting, item: AgendaItem | None, restricted: bool = False) -> Paper:
    return Paper(doc.key, "document", doc.title, meeting, item, doc.url, url=doc.url, restricted=doc.restricted or restricted,
                 external=doc.external, decision=doc.decision)


def item_heading(item: AgendaItem) -> str:
    """"55. Final Proposals ... (agenda item 6)": minutes number their items on from earlier meetings."""
    number = item.minute_number or item.number
    agenda = f" (agenda item {item.number})" if item.number and item.number != number else ""
    return f"{number}. {item.title}{agenda}" if number else item.title


def decision_lead(item: AgendaItem) -> str:
    """The line that says which item the decision below is on, since the council's own text rarely repeats it.
    It names the item by number only, so a question about the decision's subject still quotes the decision."""
    minute = f" (minute {item.minute_number})" if item.minute_number and item.minute_number != item.number else ""
    return f"Decided on agenda item {item.number}{minute}:"


def record_html(title: str, body: str) -> str:
    """A decision or minutes record as a web page of its own; the council's HTML is kept as it came."""
    return (
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
        f"<title>{html.escape(title)}</title></head>\n<body>\n<h1>{html.escape(title)}</h1>\n{body}\n</body></html>\n"
    )


# ---------------------------------------------------------------- the run


def date_range(since: str | None, until: str | None, today: dt.date) -> tuple[str, str]:
    start = since or (today - dt.timedelta(days=DEFAULT_DAYS_BACK)).isoformat()
    end = until or (today + dt.timedelta(days=DEFAULT_DAYS_AHEAD)).isoformat()
    if start > end:
        raise SiteError(f"--since {start} is after --until {end}")
    return start, end


def fetch_moderngov(request: FetchRequest, settings: FetchSettings, progress: Progress | None = None,
                    client: PoliteClient | None = None, today: dt.date | None = None) -> FetchReport:
    """List what the site offers for the request and, unless it is a dry run, fetch what the folder lacks."""
    progress = progress or Progress()
    today = today or dt.date.today()
    base = site_base(request.base_url)
    since, until = date_range(request.since, request.until, today)
    own_client = client is None
    client = client or PoliteClient(settings)
    report = FetchReport(site=base)
    try:
        site, committees = open_site(base, client, progress)
        report.source = site.name
        chosen = chosen_committees(committees, request.committees)
        report.committees = [c.title for c in chosen]
        report.authority = request.authority or council_name(site)
        folder = Path(request.into) if request.into else Path("corpus") / slug(report.authority, 60)
        report.folder = folder
        state = FetchState.load(folder, base)
        if state.rebuilt:
            report.notes.append(f"{folder / '.scrutiny-fetch.json'} was unreadable; rebuilt from the papers' sidecars")
        details = meeting_details(site, chosen, since, until, state, report, progress)
        for detail in details:
            report.papers += papers_of(detail, site)
        if request.dry_run:
            for paper in report.papers:
                paper.status = planned_status(paper, state)
            return report
        folder.mkdir(parents=True, exist_ok=True)
        remove_stale_parts(folder)
        fetch_papers(report, state, client, progress)
        for detail in details:
            if meeting_is_complete(detail, report.papers, today):
                state.mark_complete(detail.meeting.id)
        return report
    finally:
        if own_client:
            client.close()


def meeting_details(site: WebService, committees: list[Committee], since: str, until: str, state: FetchState,
                    report: FetchReport, progress: Progress) -> list[MeetingDetail]:
    """Each wanted meeting's agenda, skipping cancelled meetings and those an earlier fetch completed."""
    details = []
    for committee in committees:
        try:
            meetings = site.meetings(committee, since, until)
        except (FetchError, SiteError) as exc:
            report.failures.append(f"meetings of {committee.title}: {exc}")
            progress.note(f"meetings of {committee.title}: {exc}")
            continue
        for meeting in sorted(meetings, key=lambda m: (m.date, m.id)):
            if meeting.cancelled:
                report.cancelled += 1
                continue
            report.meetings += 1
            if meeting.id in state.complete_meetings:
                report.already_complete += 1
                continue
            try:
                details.append(site.meeting(meeting))
            except (FetchError, SiteError) as exc:
                report.failures.append(f"{committee.title} {meeting.date}: {exc}")
                progress.note(f"{committee.title} {meeting.date}: {exc}")
    return details


def planned_status(paper: Paper, state: FetchState) -> str:
    if paper.restricted:
        return "restricted"
    if paper.external:
        return "link"
    held = state.held(paper.key)
    if held and (paper.body is None or held.sha256 == _sha256(paper.body.encode("utf-8"))):
        return "already had"
    return "new"


def fetch_papers(report: FetchReport, state: FetchState, client: PoliteClient, progress: Progress) -> None:
    progress.start("fetch", sum(1 for p in report.papers if p.kind == "document"))
    for paper in report.papers:
        paper.status = planned_status(paper, state)
        if paper.status == "new":
            try:
                report.bytes += write_record(paper, report, state) if paper.body is not None else download(paper, report, state, client)
            except FetchError as exc:
                paper.status = "failed"
                report.failures.append(f"{paper.title}: {exc}")
                progress.note(f"{paper.title}: {exc}")
        if paper.kind == "document":
            progress.advance("fetch")


def sidecar_record(paper: Paper, report: FetchReport, held: Held) -> dict:
    """The paper's metadata as ingest reads it, and (under "moderngov") what the next fetch needs to know it again."""
    item = paper.item
    return {
        "authority": report.authority,
        "committee": paper.meeting.committee.title,
        "date": paper.meeting.date,
        "title": paper.title,
        "agenda_item": item.number if item else None,
        "agenda_item_title": item.title if item else None,
        "source_url": paper.source_url,
        "decision": paper.decision,
        "fetched_at": dt.datetime.now(dt.timezone.utc).replace(microsecond=0).isoformat(),
        ORIGIN_KEY: {"site": report.site, "key": paper.key, "kind": paper.kind, "meeting_id": paper.meeting.id,
                     "agenda_item_id": (item.id or None) if item else None, "bytes": held.bytes, "sha256": held.sha256},
    }


def write_record(paper: Paper, report: FetchReport, state: FetchState) -> int:
    data = paper.body.encode("utf-8")
    held = state.held(paper.key)
    name = held.file if held else paper_stem(report.authority, paper.meeting.date, paper.meeting.committee.title,
                                             paper.key, paper.title) + ".html"
    path = report.folder / name
    write_atomically(path, data)
    return _keep(paper, report, state, path, Held(name, len(data), _sha256(data)))


def download(paper: Paper, report: FetchReport, state: FetchState, client: PoliteClient) -> int:
    part = part_path(report.folder, paper.key)
    try:
        got = client.download(paper.url, part)
        suffix = paper_suffix(got.first_bytes, got.content_type, paper.url, part)
        if suffix is None:
            paper.status = "unsupported"
            report.notes.append(f"{paper.title}: {got.content_type or 'unknown'} is not a format ingest reads; not kept")
            return 0
        stem = paper_stem(report.authority, paper.meeting.date, paper.meeting.committee.title, paper.key, paper.title)
        path = report.folder / (stem + suffix)
        os.replace(part, path)
    finally:
        part.unlink(missing_ok=True)
    return _keep(paper, report, state, path, Held(path.name, got.bytes, got.sha256))


def _keep(paper: Paper, report: FetchReport, state: FetchState, path: Path, held: Held) -> int:
    """The sidecar, then the state: a paper counts as fetched only once both are written."""
    write_sidecar(path, sidecar_record(paper, report, held))
    state.record(paper.key, held)
    return held.bytes


def meeting_is_complete(detail: MeetingDetail, papers: list[Paper], today: dt.date) -> bool:
    """A past meeting whose minutes are out and whose papers all came: later fetches need not ask for it again."""
    if not detail.minutes_published or detail.meeting.date >= today.isoformat():
        return False
    return not any(p.status == "failed" for p in papers if p.meeting.id == detail.meeting.id)


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def summary_lines(report: FetchReport, dry_run: bool = False) -> list[str]:
    """The run in a few lines: meetings, documents new / already had / restricted / failed, records, bytes."""
    records = ("decision", "minutes")
    verb = "would fetch" if dry_run else "fetched"
    lines = [
        f"{report.authority or report.site}: {len(report.committees)} committee(s) via the {report.source}; "
        f"{report.meetings} meeting(s) ({report.cancelled} cancelled skipped, {report.already_complete} complete from an earlier fetch).",
        f"Documents: {report.count('new')} {'to fetch' if dry_run else 'new'}, {report.count('already had')} already had, "
        f"{report.count('restricted')} restricted (not public), {report.count('failed')} failed"
        + (f", {report.count('link')} links to other sites" if report.count("link") else "")
        + (f", {report.count('unsupported')} in formats ingest does not read" if report.count("unsupported") else "") + ".",
        f"Decision and minutes records: {report.count('new', records)} {'to write' if dry_run else 'new or updated'}, "
        f"{report.count('already had', records)} unchanged.",
    ]
    if not dry_run:
        lines.append(f"{verb.capitalize()} {human_bytes(report.bytes)} into {report.folder}.")
    return lines


def human_bytes(count: int) -> str:
    for unit in ("bytes", "KB", "MB", "GB"):
        if count < 1024 or unit == "GB":
            return f"{count:.0f} {unit}" if unit == "bytes" else f"{count:.1f} {unit}"
        count /= 1024
    return f"{count} bytes"
