"""`scrutiny fetch moderngov` against a ModernGov site replayed on a loopback port (tests/moderngov_replay.py).

Recorded replies of Gloucester City Council's web service, with documents and one awkward meeting
made up by the replay: a restricted item, a twice-encoded title, a 503, a timeout, a disabled web
service, an interrupted run. No test reaches the internet.
"""
from __future__ import annotations

import datetime as dt
import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from core.settings import FetchSettings
from fetch.connector import FetchRequest, council_from_host, council_from_title, fetch_moderngov, summary_lines
from fetch.moderngov import (
    committees_from_xml, decoded_text, meeting_from_xml, meetings_from_xml, site_base,
)
from fetch.store import STATE_NAME
from moderngov_replay import DATA, Replay, ReplayServer
from server import cli as cli_module

REPO = Path(__file__).resolve().parent.parent
SINCE, UNTIL = "2025-01-01", "2025-12-31"
# Meetings of Cabinet in 2025 in the recorded list; 7837 is recorded whole, 7609 made up by the replay.
MEETINGS_2025 = 11
RECORDED_DOCUMENTS = {"65461", "65412", "65413", "65414", "65415", "65416", "65417"}
MADE_UP_DOCUMENTS = {"90001", "90002", "90003"}  # 90004 is restricted


def quick(**changes) -> FetchSettings:
    """Fetch settings for a local replay: no pause between requests, short retries."""
    return FetchSettings(**{"delay": 0.0, "backoff": 0.01, "timeout": 5.0, **changes})


def request(base: str, folder: Path, **changes) -> FetchRequest:
    return FetchRequest(**{"base_url": base, "committees": ["Cabinet"], "since": SINCE, "until": UNTIL, "into": folder,
                           **changes})


def sidecars(folder: Path) -> dict[str, dict]:
    """Each fetched paper's sidecar, keyed by the connector's key for it ("a65412", "d44127", "m7837")."""
    records = [json.loads(p.read_text()) for p in folder.glob("*.meta.json")]
    return {record["moderngov"]["key"]: record for record in records}


def document_requests(replay: Replay) -> list[str]:
    return [seen.path for seen in replay.requests if "mgConvert2PDF" in seen.path or "/documents/" in seen.path]


# ---------------------------------------------------------------- reading the replies


def test_recorded_replies_are_read_with_titles_decoded_once_and_dates_in_iso():
    committees = committees_from_xml((DATA / "GetCommittees.xml").read_text())
    assert len(committees) == 131
    cabinet = next(c for c in committees if c.id == "129")
    assert cabinet.title == "Cabinet" and cabinet.current
    assert any(c.title == "Cemeteries & Crematoria Task & Finish Group" and not c.current for c in committees)
    meetings = meetings_from_xml((DATA / "GetMeetings.xml").read_text(), cabinet)
    assert len(meetings) == 20 and meetings[0].date == "2024-01-10"
    assert [m.id for m in meetings if m.cancelled] == ["7506"]
    detail = meeting_from_xml((DATA / "GetMeeting_7837.xml").read_text(), meetings[-2], "https://democracy.gloucester.gov.uk")
    titles = [item.title for item in detail.items]
    assert "Leader and Cabinet Members' Question Time (15 minutes)" in titles  # "Members&amp;#39;" in the XML
    item = next(i for i in detail.items if i.number == "6")
    assert item.minute_number == "55" and "RESOLVED" in item.decision_html and item.minutes_html
    assert [d.key for d in item.documents] == ["a65412", "a65413", "a65414", "a65415", "a65416", "a65417"]
    assert detail.minutes_published and detail.meeting.status == "Confirmed; Special Meeting"


def test_other_councils_replies_read_the_same_way():
    committees = committees_from_xml((DATA / "lgsf_committees.xml").read_text())
    audit = next(c for c in committees if c.title == "Audit Committee")
    meetings = meetings_from_xml((DATA / "lgsf_meetings.xml").read_text(), audit)
    assert [(m.id, m.date, m.cancelled) for m in meetings] == [("4966", "2026-01-13", True), ("4967", "2026-02-10", False)]


@pytest.mark.parametrize("given, base", [
    ("https://democracy.example.gov.uk/", "https://democracy.example.gov.uk"),
    ("https://democracy.example.gov.uk/ieListMeetings.aspx?CId=129", "https://democracy.example.gov.uk"),
    ("https://www.example.gov.uk/modernGov/mgWebService.asmx/GetCommittees", "https://www.example.gov.uk/modernGov"),
])
def test_site_base_from_any_page_of_the_site(given, base):
    assert site_base(given) == base


def test_council_named_from_the_page_title_else_from_the_host():
    assert council_from_title("Committee structure - Gloucester City Council") == "Gloucester City Council"
    assert council_from_title("Browse meetings | Cabinet") is None
    assert council_from_host("https://democracy.kirklees.gov.uk") == "Kirklees"
    assert council_from_host("https://moderngov.lambeth.gov.uk/modernGov") == "Lambeth"


def test_titles_encoded_twice_or_three_times_decode_to_the_text():
    assert decoded_text("Chair&amp;#39;s report") == "Chair's report"
    assert decoded_text("Audit &amp;amp; Governance") == "Audit & Governance"
    assert decoded_text("R&D  budget") == "R&D budget"


# ---------------------------------------------------------------- fetching


def test_fetch_from_the_web_service_survives_a_503_and_a_timeout_and_skips_the_restricted(tmp_path):
    replay = Replay(faults={"/mgConvert2PDF.aspx?ID=90002": ["503", "ok"], "/mgConvert2PDF.aspx?ID=90003": ["slow", "ok"]},
                    slow_seconds=2.0)
    with ReplayServer(replay) as site:
        report = fetch_moderngov(request(site.base_url, tmp_path), quick(timeout=1.0))
    assert report.source == "web service" and report.committees == ["Cabinet"]
    assert report.authority == "Gloucester City Council"  # from the title of the site's committee page
    assert report.meetings == MEETINGS_2025 and not report.failures
    assert report.count("new") == len(RECORDED_DOCUMENTS | MADE_UP_DOCUMENTS)
    assert report.count("restricted") == 1 and replay.requested("ID=90004") == 0
    assert replay.requested("ID=90002") == 2 and replay.requested("ID=90003") == 2  # retried, then fetched
    assert all("Scrutiny" in seen.user_agent for seen in replay.requests)
    # The web service was asked with its own parameter names and dates.
    assert any("GetMeetings?lCommitteeId=129&sFromDate=01%2F01%2F2025&sToDate=31%2F12%2F2025" in s.path for s in replay.requests)

    records = sidecars(tmp_path)
    assert set(records) == {f"a{n}" for n in RECORDED_DOCUMENTS | MADE_UP_DOCUMENTS} | {"d44127", "d90105", "m7837", "m7609"}
    report_paper = records["a65412"]
    assert report_paper["authority"] == "Gloucester City Council" and report_paper["committee"] == "Cabinet"
    assert report_paper["date"] == "2025-11-21" and report_paper["agenda_item"] == "6"
    assert report_paper["agenda_item_title"] == "Final Proposals for Local Government Reorganisation in Gloucestershire"
    assert report_paper["source_url"] == f"{site.base_url}/mgConvert2PDF.aspx?ID=65412"
    assert report_paper["decision"] is False and dt.datetime.fromisoformat(report_paper["fetched_at"]).tzinfo
    assert records["a90002"]["title"] == "Chair's report on housing repairs"
    assert records["a90002"]["agenda_item_title"] == "Chair's report on housing repairs"
    decision = records["d90105"]
    assert decision["decision"] is True and decision["source_url"] == f"{site.base_url}/ieDecisionDetails.aspx?AIId=90105"
    paper = tmp_path / next(p.name[: -len(".meta.json")] for p in tmp_path.glob("*d90105*.meta.json"))
    assert "to award the waste and recycling collection contract to Ubico" in paper.read_text()
    assert "Exempt decision" not in "".join(p.read_text() for p in tmp_path.glob("*.html"))
    for key, record in records.items():
        file = tmp_path / next(p.name[: -len(".meta.json")] for p in tmp_path.glob(f"*_{key}_*.meta.json"))
        assert file.stat().st_size == record["moderngov"]["bytes"]
    assert not list(tmp_path.glob(".*.part"))


def test_a_second_fetch_downloads_nothing_and_skips_completed_meetings(tmp_path):
    with ReplayServer() as site:
        fetch_moderngov(request(site.base_url, tmp_path), quick())
        before = len(site.replay.requests)
        again = fetch_moderngov(request(site.base_url, tmp_path), quick())
        later = [seen.path for seen in site.replay.requests[before:]]
    assert not [path for path in later if "mgConvert2PDF" in path]
    # Both meetings with minutes out and every paper fetched are not asked for again.
    assert not [path for path in later if "lMeetingId=7837" in path or "lMeetingId=7609" in path]
    assert again.already_complete == 2 and again.count("new") == 0 and not again.failures


def test_lost_state_is_rebuilt_from_sidecars_and_nothing_is_downloaded_again(tmp_path):
    with ReplayServer() as site:
        fetch_moderngov(request(site.base_url, tmp_path), quick())
        (tmp_path / STATE_NAME).write_text("{ not json")
        before = len(document_requests(site.replay))
        again = fetch_moderngov(request(site.base_url, tmp_path), quick())
        assert len(document_requests(site.replay)) == before
    assert again.count("already had") == len(RECORDED_DOCUMENTS | MADE_UP_DOCUMENTS)
    assert any("rebuilt from the papers' sidecars" in note for note in again.notes)


@pytest.mark.parametrize("disabled", ["404", "html"])
def test_a_site_without_its_web_service_is_read_from_its_html_pages(tmp_path, disabled):
    with ReplayServer(Replay(web_service=disabled)) as site:
        report = fetch_moderngov(request(site.base_url, tmp_path), quick())
        fetched = document_requests(site.replay)
    assert report.source == "HTML pages" and not report.failures
    assert report.meetings == MEETINGS_2025
    assert report.count("restricted") == 1 and not [p for p in fetched if "/s90004/" in p]
    records = sidecars(tmp_path)
    # The meeting's printed minutes (documents/g7837/...) come too, beside each item's documents.
    assert {key for key in records if key.startswith("a")} == {f"a{n}" for n in RECORDED_DOCUMENTS | MADE_UP_DOCUMENTS}
    assert any(key.startswith("g7837/") for key in records)
    assert records["a65412"]["agenda_item"] == "6" and records["a65412"]["committee"] == "Cabinet"
    assert records["a65412"]["source_url"].startswith(f"{site.base_url}/documents/s65412/")
    assert records["a90002"]["agenda_item_title"] == "Chair's report on housing repairs"
    decisions = [r for key, r in records.items() if key.startswith("d")]
    assert {r["agenda_item"] for r in decisions} == {"5", "6"} and all(r["decision"] for r in decisions)


# ---------------------------------------------------------------- the command


def run_cli(args: list[str]):
    return CliRunner().invoke(cli_module.cli, ["fetch", "moderngov", *args])


def test_dry_run_lists_what_would_be_fetched_and_writes_nothing(tmp_path):
    folder = tmp_path / "papers"
    with ReplayServer() as site:
        result = run_cli([site.base_url, "--committee", "Cabinet", "--since", SINCE, "--until", UNTIL, "--into", str(folder),
                          "--dry-run", "--delay", "0"])
        fetched = document_requests(site.replay)
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert any(line.startswith("new") and "item 6: Final proposals for Local Government" in line for line in lines)
    assert any(line.startswith("restricted") and "Bristol Road" in line for line in lines)
    assert "Documents: 10 to fetch, 0 already had, 1 restricted (not public), 0 failed." in lines
    assert not folder.exists() and not fetched


def test_polite_delay_between_requests(tmp_path):
    with ReplayServer() as site:
        result = run_cli([site.base_url, "--committee", "129", "--since", "2025-11-01", "--until", "2025-11-30",
                          "--into", str(tmp_path), "--dry-run", "--delay", "0.2"])
        times = [seen.at for seen in site.replay.requests]
    assert result.exit_code == 0, result.output
    assert len(times) >= 5 and min(b - a for a, b in zip(times, times[1:])) >= 0.19


@pytest.mark.parametrize("committee, message", [
    ("Cabnet", "no committee 'Cabnet' on this site; its current committees are:"),
    ("Scrutiny", "'Scrutiny' matches"),
])
def test_a_committee_that_is_not_there_or_ambiguous_is_refused(tmp_path, committee, message):
    with ReplayServer() as site:
        result = run_cli([site.base_url, "--committee", committee, "--into", str(tmp_path), "--delay", "0"])
    assert result.exit_code == 2 and f"error: {message}" in result.stderr


def test_bad_addresses_and_dates_are_refused_before_any_request():
    assert "error: 'ftp://example' is not a web address" in run_cli(["ftp://example"]).stderr
    # Both 2025-01-12 and 12/01/2025 are dates; a day that does not exist or a date in words is not.
    assert "error: --since must be a date like" in run_cli(["https://example.gov.uk", "--since", "31/02/2025"]).stderr
    assert "error: --until must be a date like" in run_cli(["https://example.gov.uk", "--until", "March 2025"]).stderr


def test_a_document_that_keeps_failing_is_named_and_the_rest_are_fetched(tmp_path):
    with ReplayServer(Replay(faults={"/mgConvert2PDF.aspx?ID=65413": ["500"]})) as site:
        result = run_cli([site.base_url, "--committee", "Cabinet", "--since", SINCE, "--until", UNTIL, "--into", str(tmp_path),
                          "--delay", "0", "--retries", "0", "--quiet"])
    assert result.exit_code == 1
    assert "failed: Appendix 1 Option 1 - Single Countywide Unitary: " in result.stderr and "HTTP 500" in result.stderr
    assert "Documents: 9 new, 0 already had, 1 restricted (not public), 1 failed." in result.stdout
    assert "a65413" not in sidecars(tmp_path) and "a65414" in sidecars(tmp_path)


def test_an_interrupted_fetch_resumes_without_fetching_again(tmp_path):
    """The process is killed while a download is half done; the next run fetches only what is missing."""
    replay = Replay(faults={"/mgConvert2PDF.aspx?ID=65412": ["stall"]})
    with ReplayServer(replay) as site:
        command = [sys.executable, "-m", "server.cli", "fetch", "moderngov", site.base_url, "--committee", "Cabinet",
                   "--since", SINCE, "--until", UNTIL, "--into", str(tmp_path), "--delay", "0", "--quiet"]
        process = subprocess.Popen(command, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        try:
            assert replay.stalled.wait(timeout=60), "the download never started"
            deadline = time.monotonic() + 10
            while not list(tmp_path.glob(".*.part")) and time.monotonic() < deadline:
                time.sleep(0.05)  # the client opens its .part file once the headers are in
        finally:
            process.send_signal(signal.SIGKILL)
            process.communicate(timeout=30)
        before_kill = [p for p in document_requests(replay)]
        assert list(tmp_path.glob(".*.part")), "the half-done download should be left as a .part file"
        had = set(sidecars(tmp_path))
        assert had and "a65412" not in had

        result = run_cli([site.base_url, "--committee", "Cabinet", "--since", SINCE, "--until", UNTIL, "--into", str(tmp_path),
                          "--delay", "0", "--quiet"])
        after = document_requests(replay)[len(before_kill):]
    assert result.exit_code == 0, result.output + result.stderr
    fetched_again = {path.rsplit("=", 1)[-1] for path in after}
    assert fetched_again == {key[1:] for key in set(sidecars(tmp_path)) - had if key.startswith("a")}
    assert "65412" in fetched_again and not fetched_again & {key[1:] for key in had}
    assert not list(tmp_path.glob(".*.part"))
    paper = next(tmp_path.glob("*_a65412_*.pdf"))
    assert paper.read_bytes().startswith(b"%PDF-") and paper.stat().st_size == sidecars(tmp_path)["a65412"]["moderngov"]["bytes"]


def test_summary_names_counts_and_bytes(tmp_path):
    with ReplayServer() as site:
        report = fetch_moderngov(request(site.base_url, tmp_path), quick())
    lines = summary_lines(report)
    assert lines[0].startswith(f"Gloucester City Council: 1 committee(s) via the web service; {MEETINGS_2025} meeting(s)")
    assert lines[1] == "Documents: 10 new, 0 already had, 1 restricted (not public), 0 failed."
    assert lines[2] == "Decision and minutes records: 4 new or updated, 0 unchanged."
    assert lines[3].startswith("Fetched ") and lines[3].endswith(f"into {tmp_path}.") and report.bytes > 10_000


# ---------------------------------------------------------------- from the council's site to a cited answer


@pytest.mark.slow
def test_fetched_papers_answer_with_committee_date_and_source_and_pages_link_to_it(tmp_path, shared_embedder):
    from fastapi.testclient import TestClient

    from core.settings import load_settings
    from index.service import Scrutiny
    from ingest.pipeline import ingest_paths
    from server.app import create_app

    papers = tmp_path / "papers"
    with ReplayServer() as site:
        fetch_moderngov(request(site.base_url, papers), quick())
        base = site.base_url
    settings = load_settings(tmp_path / "index")
    report = ingest_paths([papers], settings, shared_embedder)
    assert not report.skipped and len(report.added) == 14

    scrutiny = Scrutiny(settings, shared_embedder)
    answer = scrutiny.ask("What is the one-off cost of moving to two unitary councils?")
    assert answer.found and "41.2 million pounds" in answer.answer
    cited = answer.citations[answer.lines[0].citation - 1]
    assert (cited.authority, cited.committee, cited.date) == ("Gloucester City Council", "Cabinet", "2025-11-21")
    assert cited.source_url == f"{base}/mgConvert2PDF.aspx?ID=65412" and cited.page == 1 and not cited.ocr

    decided = scrutiny.ask("What did Cabinet decide about the waste and recycling collection contract?")
    assert decided.found and "to award the waste and recycling collection contract to Ubico" in decided.answer
    record = decided.citations[next(line.citation for line in decided.lines if "to award" in line.text) - 1]
    assert record.source_url == f"{base}/ieDecisionDetails.aspx?AIId=90105" and record.date == "2025-11-12"

    with TestClient(create_app(settings, scrutiny)) as client:
        page = client.get(f"/documents/{cited.doc_id}").text
        assert f'href="{base}/mgConvert2PDF.aspx?ID=65412"' in page and "Agenda item" in page
        card = client.get("/", params={"q": "What is the one-off cost of moving to two unitary councils?"}).text
        assert f'<a href="{base}/mgConvert2PDF.aspx?ID=65412" rel="noopener noreferrer">The paper on the council’s website</a>' in card
        assert client.get(f"/api/documents/{record.doc_id}").json()["source_url"] == record.source_url
        original = client.get(f"/documents/{record.doc_id}/file")
        assert original.headers["content-disposition"].startswith("attachment") and "RESOLVED" in original.text
