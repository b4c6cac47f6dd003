"""A ModernGov site on a loopback port: recorded web-service replies (tests/data/moderngov/) and documents made here.

Gloucester City Council's recorded GetCommittees, GetMeetings (Cabinet) and GetMeeting (21 November 2025)
are replayed with their links pointed at this server. Every other Cabinet meeting in the recorded list is
answered with an agenda not yet published, except 12 November 2025, which is made up here to hold the
awkward cases: a restricted item, a twice-encoded title, a decision. The PDFs behind mgConvert2PDF.aspx
are generated, and each says so. The same facts are served as ModernGov's HTML pages (mgListCommittees,
ieListMeetings, ieListDocuments, documents/s<id>/...) for sites whose web service is disabled.

Faults are queued per request path ("/mgConvert2PDF.aspx?ID=90002": ["503", "ok"]): "503" answers
Service Unavailable, "slow" waits `slow_seconds` before answering, "stall" sends half the file and then
waits until the server stops (the client is killed meanwhile), "500" fails every time it is queued.

    python tests/moderngov_replay.py --port 8765      # serve until Ctrl-C
"""
from __future__ import annotations

import argparse
import html
import re
import sys
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, quote, unquote, urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parent))
from sample_files import text_pdf  # noqa: E402

DATA = Path(__file__).resolve().parent / "data" / "moderngov"
RECORDED_HOST = "https://democracy.Gloucester.gov.uk"
COUNCIL = "Gloucester City Council"
CABINET = "129"
RECORDED_MEETING = "7837"
MADE_UP_MEETING = "7609"
GENERATED_NOTE = "(Replay copy generated for Scrutiny's tests; the wording and figures are not the council's.)"

# Attachment id -> (title, lines of text) for the documents of the recorded meeting and the made-up one.
DOCUMENTS: dict[str, tuple[str, list[str]]] = {
    "65461": ("Cabinet - Public Questions", [
        "1. Questions from members of the public",
        "1.1 Two questions were received about the future of transport services under the new councils.",
    ]),
    "65412": ("Final proposals for Local Government Reorganisation in Gloucestershire", [
        "1. Purpose of Report",
        "1.1 To set out the final proposal for Local Government Reorganisation in Gloucestershire.",
        "2. Recommendations",
        "2.1 Cabinet is asked to submit the Greater Gloucester proposal to Government.",
        "3. Financial Implications",
        "3.1 The one-off cost of moving to two unitary councils is estimated at 41.2 million pounds.",
        "3.2 Annual savings of 17.5 million pounds are expected from the third year.",
    ]),
    "65413": ("Appendix 1 Option 1 - Single Countywide Unitary", [
        "1. Option 1 would create one unitary council for the whole county of Gloucestershire.",
    ]),
    "65414": ("Appendix 2 Option 2 - East/West 2 Unitary", [
        "1. Option 2 would divide the county into an eastern and a western unitary council.",
    ]),
    "65415": ("Appendix 3 Option 3 - Gloucester/Gloucestershire 2 Unitary", [
        "1. Option 3 would create a Greater Gloucester unitary council of 21 parishes around the city.",
    ]),
    "65416": ("Appendix 3B Inner Circle Report: A Case for Cities", [
        "1. The report compares cities of a similar size that govern themselves as unitary councils.",
    ]),
    "65417": ("Appendix 3E Cratus Public Engagement Report", [
        "1. The public engagement exercise received 3,412 responses from residents of the county.",
    ]),
    "90001": ("Minutes of the meeting held on 15 October 2025", [
        "1. The minutes of the meeting held on 15 October 2025 were confirmed as a correct record.",
    ]),
    "90002": ("Chair's report on housing repairs", [
        "1. Housing repairs",
        "1.1 The council completed 4,870 responsive housing repairs in the second quarter of 2025/26.",
    ]),
    "90003": ("Housing Revenue Account budget monitoring", [
        "1. Budget position",
        "1.1 The Housing Revenue Account forecasts an underspend of 312,000 pounds for 2025/26.",
    ]),
    "90004": ("Acquisition of land at Bristol Road (exempt)", ["1. Not for publication."]),
}

MEETING_DOCUMENT = "Printed minutes 21st-Nov-2025 12.30 Cabinet.pdf"  # the meeting's own file on its HTML page

MADE_UP_MEETING_XML = """<?xml version="1.0" encoding="utf-8"?>
<!-- Made up by tests/moderngov_replay.py in the shape of a GetMeeting reply. -->
<meeting>
  <meetingid>7609</meetingid>
  <meetingdate>12/11/2025</meetingdate>
  <meetingstatus>Confirmed</meetingstatus>
  <meetingtime>6.00 pm</meetingtime>
  <agendapublished>True</agendapublished>
  <decisionpublished>True</decisionpublished>
  <minutepublished>True</minutepublished>
  <agendaitems>
    <agendaitem>
      <agendaitemid>90101</agendaitemid>
      <agendaitemtitle>Minutes</agendaitemtitle>
      <agendaitemnumber>1</agendaitemnumber><agendaitemsubnumber></agendaitemsubnumber>
      <fulldisplaynumberformat>40.</fulldisplaynumberformat>
      <isdecision>False</isdecision><isrestricted>False</isrestricted>
      <minutesnonemptyhtmlbody>&lt;p&gt;The minutes of the meeting held on 15 October 2025 were confirmed.&lt;/p&gt;</minutesnonemptyhtmlbody>
      <linkeddocuments><linkeddoc>
        <attachmentid>90001</attachmentid><title>Minutes of the meeting held on 15 October 2025</title>
        <isurl>False</isurl><url>{host}/mgConvert2PDF.aspx?ID=90001</url><isrestricted>False</isrestricted>
        <isdecisionattachment>False</isdecisionattachment>
      </linkeddoc></linkeddocuments>
    </agendaitem>
    <agendaitem>
      <agendaitemid>90102</agendaitemid>
      <agendaitemtitle>Chair&amp;#39;s report on housing repairs</agendaitemtitle>
      <agendaitemnumber>2</agendaitemnumber><agendaitemsubnumber></agendaitemsubnumber>
      <fulldisplaynumberformat>41.</fulldisplaynumberformat>
      <isdecision>False</isdecision><isrestricted>False</isrestricted>
      <linkeddocuments><linkeddoc>
        <attachmentid>90002</attachmentid><title>Chair&amp;#39;s report on housing repairs</title>
        <isurl>False</isurl><url>{host}/mgConvert2PDF.aspx?ID=90002</url><isrestricted>False</isrestricted>
        <isdecisionattachment>False</isdecisionattachment>
      </linkeddoc></linkeddocuments>
    </agendaitem>
    <agendaitem>
      <agendaitemid>90103</agendaitemid>
      <agendaitemtitle>Housing Revenue Account budget monitoring</agendaitemtitle>
      <agendaitemnumber>3</agendaitemnumber><agendaitemsubnumber></agendaitemsubnumber>
      <fulldisplaynumberformat>42.</fulldisplaynumberformat>
      <isdecision>False</isdecision><isrestricted>False</isrestricted>
      <linkeddocuments><linkeddoc>
        <attachmentid>90003</attachmentid><title>Housing Revenue Account budget monitoring</title>
        <isurl>False</isurl><url>{host}/mgConvert2PDF.aspx?ID=90003</url><isrestricted>False</isrestricted>
        <isdecisionattachment>False</isdecisionattachment>
      </linkeddoc></linkeddocuments>
    </agendaitem>
    <agendaitem>
      <agendaitemid>90104</agendaitemid>
      <agendaitemtitle>Acquisition of land at Bristol Road</agendaitemtitle>
      <agendaitemnumber>4</agendaitemnumber><agendaitemsubnumber></agendaitemsubnumber>
      <fulldisplaynumberformat>43.</fulldisplaynumberformat>
      <isdecision>True</isdecision><isrestricted>True</isrestricted>
      <decisionnonemptyhtmlbody>&lt;p&gt;Exempt decision.&lt;/p&gt;</decisionnonemptyhtmlbody>
      <linkeddocuments><linkeddoc>
        <attachmentid>90004</attachmentid><title>Acquisition of land at Bristol Road (exempt)</title>
        <isurl>False</isurl><url>{host}/mgConvert2PDF.aspx?ID=90004</url><isrestricted>True</isrestricted>
        <isdecisionattachment>False</isdecisionattachment>
      </linkeddoc></linkeddocuments>
    </agendaitem>
    <agendaitem>
      <agendaitemid>90105</agendaitemid>
      <agendaitemtitle>Waste and recycling collection contract</agendaitemtitle>
      <agendaitemnumber>5</agendaitemnumber><agendaitemsubnumber></agendaitemsubnumber>
      <fulldisplaynumberformat>44.</fulldisplaynumberformat>
      <isdecision>True</isdecision><isrestricted>False</isrestricted>
      <decisionnonemptyhtmlbody>&lt;p&gt;&lt;b&gt;RESOLVED&lt;/b&gt;: to award the waste and recycling collection contract to Ubico for eight years from 1 April 2026.&lt;/p&gt;</decisionnonemptyhtmlbody>
      <minutesnonemptyhtmlbody>&lt;p&gt;Cabinet considered the report on the waste and recycling collection contract.&lt;/p&gt;</minutesnonemptyhtmlbody>
    </agendaitem>
  </agendaitems>
</meeting>
"""

UNPUBLISHED_MEETING_XML = """<?xml version="1.0" encoding="utf-8"?>
<meeting><meetingid>{id}</meetingid><meetingdate>{date}</meetingdate><meetingstatus>{status}</meetingstatus>
<agendapublished>False</agendapublished><minutepublished>False</minutepublished><agendaitems></agendaitems></meeting>
"""


@dataclass
class Seen:
    path: str  # path and query as requested
    user_agent: str
    at: float


@dataclass
class Reply:
    status: int
    body: bytes
    content_type: str = "text/xml; charset=utf-8"


@dataclass
class Replay:
    """The site's content and behaviour; `requests` records every request in order."""

    web_service: str = "on"  # "on" | "404" (disabled with an error) | "html" (answers with a web page)
    faults: dict[str, deque] = field(default_factory=dict)
    slow_seconds: float = 2.0
    requests: list[Seen] = field(default_factory=list)
    stalled: threading.Event = field(default_factory=threading.Event)
    release: threading.Event = field(default_factory=threading.Event)
    base: str = ""

    def __post_init__(self):
        self.faults = {path: deque(actions) for path, actions in self.faults.items()}
        self._pdfs: dict[str, bytes] = {}
        self._lock = threading.Lock()

    def requested(self, fragment: str) -> int:
        return sum(1 for seen in self.requests if fragment in seen.path)

    # -- content
    def recorded(self, name: str) -> str:
        return (DATA / name).read_text(encoding="utf-8").replace(RECORDED_HOST, self.base)

    def meeting_xml(self, meeting_id: str) -> str | None:
        if meeting_id == RECORDED_MEETING:
            return self.recorded("GetMeeting_7837.xml")
        if meeting_id == MADE_UP_MEETING:
            return MADE_UP_MEETING_XML.replace("{host}", self.base)
        for found_id, date, status in recorded_meetings(self.recorded("GetMeetings.xml")):
            if found_id == meeting_id:
                return UNPUBLISHED_MEETING_XML.format(id=meeting_id, date=date, status=status)
        return None

    def pdf(self, attachment: str) -> bytes | None:
        if attachment == "minutes-7837":
            title, lines = "Printed minutes, Cabinet, 21 November 2025", ["55. The Cabinet resolved to submit the proposal."]
        elif attachment in DOCUMENTS:
            title, lines = DOCUMENTS[attachment]
        else:
            return None
        with self._lock:
            if attachment not in self._pdfs:
                self._pdfs[attachment] = generated_pdf(title, lines)
            return self._pdfs[attachment]

    # -- requests
    def reply(self, path: str, query: dict[str, str]) -> Reply:
        name = path.rsplit("/", 1)[-1].lower()
        if "/mgwebservice.asmx/" in path.lower():
            return self.service_reply(name, query)
        if name == "mgconvert2pdf.aspx":
            return self.pdf_reply(query.get("id", ""))
        match = re.search(r"/documents/s(\d+)/", path)
        if match:
            return self.pdf_reply(match.group(1))
        if "/documents/g7837/" in path:
            return self.pdf_reply("minutes-7837")
        if name == "mglistcommittees.aspx":
            return Reply(200, committees_page(self.recorded("GetCommittees.xml")).encode(), "text/html; charset=utf-8")
        if name == "ielistmeetings.aspx" and query.get("cid") == CABINET:
            return Reply(200, meetings_page(self.recorded("GetMeetings.xml")).encode(), "text/html; charset=utf-8")
        if name == "ielistdocuments.aspx" and query.get("cid") == CABINET:
            xml = self.meeting_xml(query.get("mid", ""))
            if xml is not None:
                return Reply(200, documents_page(xml).encode(), "text/html; charset=utf-8")
        return Reply(404, b"<html><body><h1>Page not found</h1></body></html>", "text/html")

    def service_reply(self, operation: str, query: dict[str, str]) -> Reply:
        if self.web_service == "404":
            return Reply(404, b"<html><body><h2>The web service is not available.</h2></body></html>", "text/html")
        if self.web_service == "html":
            return Reply(200, b"<!DOCTYPE html><html><body><p>Service disabled</p></body></html>", "text/html")
        if operation == "getcommittees":
            return Reply(200, self.recorded("GetCommittees.xml").encode())
        if operation == "getmeetings":
            return Reply(200, meetings_between(self.recorded("GetMeetings.xml"), query).encode())
        if operation == "getmeeting":
            xml = self.meeting_xml(query.get("lmeetingid", ""))
            if xml is not None:
                return Reply(200, xml.encode())
        return Reply(500, b"<?xml version='1.0'?><error>Web Service method name is not valid.</error>")

    def pdf_reply(self, attachment: str) -> Reply:
        data = self.pdf(attachment)
        return Reply(200, data, "application/pdf") if data else Reply(404, b"Not found", "text/plain")


def generated_pdf(title: str, lines: list[str]) -> bytes:
    """A one-page PDF with a text layer: the council's masthead, the title, the replay's note, then `lines`."""
    import tempfile

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "paper.pdf"
        text_pdf(path, [[COUNCIL, f"Subject: {title}", GENERATED_NOTE, "", *lines]])
        return path.read_bytes()


def recorded_meetings(xml: str) -> list[tuple[str, str, str]]:
    """(id, dd/mm/yyyy, status) of each meeting in a GetMeetings reply."""
    return re.findall(r"<meetingid>(\d+)</meetingid>\s*<meetingdate>([\d/]+)</meetingdate>\s*<meetingstatus>([^<]*)</meetingstatus>", xml)


def _iso(uk: str) -> str:
    day, month, year = uk.split("/")
    return f"{year}-{month.zfill(2)}-{day.zfill(2)}"


def meetings_between(xml: str, query: dict[str, str]) -> str:
    """The recorded GetMeetings reply cut to the requested committee and dates, as the real service does."""
    if query.get("lcommitteeid") != CABINET:
        return "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<getmeetings><meetingscount>0</meetingscount></getmeetings>"
    since, until = _iso(query.get("sfromdate", "01/01/1900")), _iso(query.get("stodate", "31/12/2999"))

    def keep(match: re.Match) -> str:
        return match.group(0) if since <= _iso(match.group(1)) <= until else ""

    return re.sub(r"\s*<meeting>\s*<meetingid>\d+</meetingid>\s*<meetingdate>([\d/]+)</meetingdate>.*?</meeting>", keep, xml,
                  flags=re.DOTALL)


# ---------------------------------------------------------------- the same facts as ModernGov's HTML pages


def _page(title: str, body: str) -> str:
    return (f"<!DOCTYPE html><html><head><title>{html.escape(title)} - {COUNCIL}</title></head>"
            f"<body><div id=\"modgov\">{body}</div></body></html>")


def committees_page(xml: str) -> str:
    rows = re.findall(r"<committeeid>(\d+)</committeeid>\s*<committeetitle>([^<]*)</committeetitle>\s*"
                      r"<committeedeleted>\w+</committeedeleted>\s*<committeeexpired>False</committeeexpired>", xml)
    links = "".join(f'<li><a href="mgCommitteeDetails.aspx?ID={cid}">{title}</a></li>' for cid, title in rows)
    return _page("Committee structure", f'<h1 class="mgMainTitleTxt">Committee structure</h1><ul class="mgBulletList">{links}</ul>')


def meetings_page(xml: str) -> str:
    items = []
    for mid, date, status in recorded_meetings(xml):
        day, month, year = (int(p) for p in date.split("/"))
        label = f"{day} {['Jan','Feb','Mar','Apr','May','Jun','Jul','Aug','Sep','Oct','Nov','Dec'][month - 1]} {year} 6.00 pm"
        note = " CANCELLED" if "Cancelled" in status else ""
        items.append(f'<li><a href="ieListDocuments.aspx?CId={CABINET}&amp;MId={mid}&amp;Ver=4">{label}</a>{note}</li>')
    return _page("Browse meetings - Cabinet", f'<ul class="mgCalendarList">{"".join(items)}</ul>')


def documents_page(xml: str) -> str:
    """ieListDocuments.aspx for a meeting, with item rows in ModernGov's markup (mgItemTable, mgAiTitleTxt, ...)."""
    from lxml import etree

    root = etree.fromstring(xml.encode("utf-8"))
    rows = []
    for item in root.iter("agendaitem"):
        links = []
        for doc in item.iter("linkeddoc"):
            if (doc.findtext("isrestricted") or "").strip() == "True":
                links.append("<li>Restricted enclosure</li>")
                continue
            title = doc.findtext("title") or ""
            href = f"documents/s{doc.findtext('attachmentid')}/{quote(html.unescape(title), safe='')}.pdf"
            links.append(f'<li><a href="{href}">{title} <span class="mgFileSize">PDF 120 KB</span></a></li>')
        sections = ""
        for label, tag in (("Decision", "decisionnonemptyhtmlbody"), ("Minutes", "minutesnonemptyhtmlbody")):
            body = item.findtext(tag)
            if body and (item.findtext("isrestricted") or "").strip() != "True":
                sections += f'<p class="mgSubItemTitleTxt">{label}:</p><div class="mgWordPara">{body}</div>'
        rows.append(
            f'<tr><td class="mgItemNumberCell"><p class="mgAiTitleTxt">{item.findtext("agendaitemnumber")}.</p></td>'
            f'<td><p class="mgAiTitleTxt">{item.findtext("agendaitemtitle")}</p>'
            f'<ul class="mgBulletList">{"".join(links)}</ul>{sections}</td></tr>'
        )
    own = ""
    if root.findtext("meetingid") == RECORDED_MEETING:
        own = f'<ul class="mgActionList"><li><a href="documents/g7837/{MEETING_DOCUMENT}?T=1">Printed minutes <span class="mgFileSize">PDF 97 KB</span></a></li></ul>'
    return _page("Agenda for Cabinet", f'{own}<table class="mgItemTable">{"".join(rows)}</table>')


# ---------------------------------------------------------------- the server


class _Handler(BaseHTTPRequestHandler):
    replay: Replay

    def do_GET(self):  # noqa: N802 (http.server's naming)
        replay = self.server.replay
        parts = urlsplit(self.path)
        replay.requests.append(Seen(self.path, self.headers.get("User-Agent", ""), time.monotonic()))
        query = {key.lower(): values[0] for key, values in parse_qs(parts.query).items()}
        action = self._next_fault(replay)
        if action == "503":
            return self._send(Reply(503, b"Service Unavailable", "text/plain"), {"Retry-After": "0"})
        if action == "500":
            return self._send(Reply(500, b"Internal Server Error", "text/plain"))
        if action == "slow":
            time.sleep(replay.slow_seconds)
        reply = replay.reply(unquote(parts.path), query)
        if action == "stall":
            return self._stall(reply, replay)
        self._send(reply)

    def _next_fault(self, replay: Replay) -> str | None:
        queue = replay.faults.get(self.path)
        return queue.popleft() if queue else None

    def _send(self, reply: Reply, headers: dict | None = None) -> None:
        self.send_response(reply.status)
        self.send_header("Content-Type", reply.content_type)
        self.send_header("Content-Length", str(len(reply.body)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        try:
            self.wfile.write(reply.body)
        except (BrokenPipeError, ConnectionResetError):
            pass

    def _stall(self, reply: Reply, replay: Replay) -> None:
        self.send_response(200)
        self.send_header("Content-Type", reply.content_type)
        self.send_header("Content-Length", str(len(reply.body)))
        self.end_headers()
        try:
            self.wfile.write(reply.body[: len(reply.body) // 2])
            self.wfile.flush()
        except (BrokenPipeError, ConnectionResetError):
            return
        replay.stalled.set()
        replay.release.wait(timeout=60)
        self.close_connection = True

    def log_message(self, *args) -> None:
        pass


class ReplayServer:
    """`with ReplayServer(Replay(...)) as site:` serves on 127.0.0.1 at `site.base_url` until the block ends."""

    def __init__(self, replay: Replay | None = None, port: int = 0):
        self.replay = replay or Replay()
        self._server = ThreadingHTTPServer(("127.0.0.1", port), _Handler)
        self._server.daemon_threads = True
        self._server.replay = self.replay
        self.base_url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self.replay.base = self.base_url
        self._thread = threading.Thread(target=self._server.serve_forever, name="moderngov-replay", daemon=True)

    def __enter__(self) -> "ReplayServer":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.replay.release.set()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=10)


def main() -> None:
    parser = argparse.ArgumentParser(description="Serve the recorded ModernGov site on 127.0.0.1.")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--web-service", choices=["on", "404", "html"], default="on")
    args = parser.parse_args()
    # One 503 before the report's first download, to show the retry at work.
    replay = Replay(web_service=args.web_service, faults={"/mgConvert2PDF.aspx?ID=65412": ["503", "ok"]})
    with ReplayServer(replay, args.port) as site:
        print(f"ModernGov replay serving at {site.base_url} (Ctrl-C stops it)", flush=True)
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            pass


if __name__ == "__main__":
    main()
