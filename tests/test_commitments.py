"""The commitments register: extraction rules, follow-up links, CLI, API, page and CSV, on the seed papers."""
from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from commitments.cli import commitments_command
from commitments.extract import (
    Unit, commitment_kind, due_date, owner_of, stated_target, units_of_chunks, values_in,
)
from commitments.register import commitments_for_question, index_commitments, load_register, RegisterQuery
from commitments.phrase import measure_phrase
from commitments.status import target_status
from core.records import Chunk
from core.settings import load_settings
from core.text import contains_normalised, normalise_for_matching
from index.store import IndexReader
from ingest.pipeline import ingest_paths
from server.routes.commitments import PAGE_SIZE, RegisterFilters, csv_filename, spreadsheet_safe

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "corpus"
LABELLED = ROOT / "commitments" / "labelled.jsonl"
SEED_IDS = ["000_8455fbcf33d06d16", "001_29f912cc4fd0f26b", "002_4b913a1593e6a075", "003_eccd24399c49994d",
            "004_b4e36d0c51f0492b"]
SUFFOLK_2004, SUFFOLK_2005 = SEED_IDS[0], SEED_IDS[2]


def copy_seeds(folder: Path, doc_ids: list[str]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for doc_id in doc_ids:
        shutil.copy(CORPUS / f"{doc_id}.txt", folder / f"{doc_id}.txt")
    # 000 states no date of its own; the corpus sidecar supplies "March 2004".
    shutil.copy(CORPUS / "metadata.yaml", folder / "metadata.yaml")
    return folder


@pytest.fixture(scope="module")
def seed_index(tmp_path_factory, shared_embedder):
    """Settings of an index of the five seed papers built with the commitments register."""
    root = tmp_path_factory.mktemp("commitments-index")
    settings = load_settings(root / "index")
    report = ingest_paths([copy_seeds(root / "papers", SEED_IDS)], settings, shared_embedder,
                          commitments=index_commitments)
    assert not report.skipped, report.skipped
    return settings


@pytest.fixture(scope="module")
def seed_conn(seed_index):
    return IndexReader.open(seed_index.index_dir).conn


def cli_json(settings, *args) -> list[dict]:
    result = CliRunner().invoke(commitments_command, [*args, "--json", "--index", str(settings.index_dir)])
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


# ------------------------------------------------------------------ rules, on sentences from the seed papers


@pytest.mark.parametrize("text, paper_date, expected", [
    ("with a target of 85% by the end of March 2004.", "2004-03-01", "2004-03-31"),
    ("A revised target of 640 Looked After Children by December 2004 is now seen as more realistic", "2004-03-01", "2004-12-31"),
    ("We have set ourselves a target of 85% completion by 31 March 2005.", "2005-03-15", "2005-03-31"),
    ("Target no more than 10% vacancy rate over the next six months.", "2005-03-15", "2005-09-15"),
    ("a target of 75% for 2005/6 has been set.", "2005-03-15", "2006-03-31"),
    ("The model will be piloted in Worthing/Arun East in June 2009.", "2009-05-01", "2009-06-30"),
    ("to deliver a better functioning MASH by March.", "2016-02-01", "2016-03-31"),
    ("A shadow Safeguarding Board will be established from 1st April 2005.", "2005-03-15", "2005-04-01"),
    ("the first stage of which was implemented in June, with some of the team managers", "2013-09-23", None),
    ("Since March 2004, there has been an increase of children on the child protection register", "2005-03-15", None),
])
def test_due_dates_resolve_against_the_papers_own_date(text, paper_date, expected):
    assert due_date(text, paper_date) == expected


@pytest.mark.parametrize("text, expected, direction", [
    ("The latest performance for completion of initial assessments within 7 working days is 71% with a target of 85% by the end of March 2004.", "85%", 0),
    ("Reduction in re-referrals from 23% to 15%", "15%", -1),
    ("A revised target of 640 Looked After Children by December 2004", "640 looked after children", 0),
    ("Target no more than 10% vacancy rate over the next six months.", "no more than 10%", -1),
    ("it is anticipated that over 3 years the Children's Delivery Programme will develop the potential to deliver circa £4 million savings per annum.", "£4 million a year", 0),
    ("the proposal is to expand the capacity of the existing FRT service from 14.2 fte² to 30 fte staff.", "30 fte", -1),
])
def test_stated_targets_keep_value_and_unit(text, expected, direction):
    target = stated_target(text)
    assert target is not None and target.text == expected
    assert target.direction == direction or direction == 0


@pytest.mark.parametrize("text, kind, phrase", [
    ("The percentage of care leavers in education, employment or training, at 53.6%, remained below the target of 65.0%.",
     "target", "percentage of care leavers in education, employment or training"),
    ("The latest performance for completion of initial assessments within 7 working days is 71% with a target of 85% by "
     "the end of March 2004.", "target", "completion of initial assessments within 7 working days"),
    ("The rate of re-referrals within 12 months for the 12 months to December 2024 was 22.2%, compared to 23.4% the "
     "previous Quarter, continuing to achieve the target of 25.0% or lower.", "target", "rate of re-referrals within 12 months"),
    ("As of 31st December 2024, there were 613 approved households against a target of 700 households.", "target",
     "approved households"),
    ("Target no more than 10% vacancy rate over the next six months.", "target", "vacancy rate"),
    ("The Family Hub service will be delivered from within existing Family Hubs in Margate.", "promise", "Family Hub service"),
    ("APPROVE the proposal to not re-commission the Family Hub services that are currently provided at Seashells",
     "recommendation", "proposal to not re-commission the Family Hub services"),
    ("DELEGATE authority to the Director for Operational Integrated Children’s Services to explore the option",
     "recommendation", "authority to the Director for Operational Integrated Children's Services"),
    ("• We will give parents and carers information, advice and support to understand what transition may mean",
     "action", "parents and carers information"),
    ("g) | Recruitment and Retention | Implement strategy | Maintain low vacancy rates (under 10%)", "action",
     "Recruitment and Retention"),
    ("There will be an 'Access' team that will more robustly screen contacts", "promise", "'Access' team"),
    ("This will be monitored by audit.", "promise", None),  # names nothing: the register falls back to the topic
])
def test_measures_are_named_by_the_papers_own_phrase(text, kind, phrase):
    assert measure_phrase(text, kind, kind == "target") == phrase


def test_values_leave_out_margins_years_and_paragraph_numbers():
    text = ("3.4 Suffolk undertook 77.4% of these assessments within seven working days of referral which is 20% above "
            "the national average and 30% above the regional average in 2004.")
    assert [v.text for v in values_in(text)] == ["77.4%"]


@pytest.mark.parametrize("text, owner", [
    ("This work will be overseen by the Head of Commissioning.", "Head of Commissioning"),
    ("The IRO manager will take this forward by encouraging Chairs", "IRO manager"),
    ("The plan is for the Director for Children and Young People to chair the Safeguarding Board", "Director for Children and Young People"),
    ("Currently 88% of established social work posts are filled by permanent staff.", None),
])
def test_owners_come_from_the_sentence(text, owner):
    assert owner_of(text) == owner


@pytest.mark.parametrize("text, kind", [
    ("The model will be piloted in Worthing/Arun East in June 2009.", "promise"),
    ("Our target is to achieve 98% within timescales.", "target"),
    ("From April 2004 it is planned to integrate support services as a one year pilot.", "promise"),
    ("There were 4000 active cases held by social workers at 31st December 2004.", None),
    ("We have achieved our interim PSA target for the number of children looked after with at least 5 GCSE's.", None),
])
def test_commitment_kind_of_single_sentences(text, kind):
    chunk = Chunk(chunk_id=1, doc_id="x", ordinal=0, text=text, kind="paragraph")
    assert commitment_kind(Unit(chunk, text)) == kind


def test_action_plan_rows_are_single_commitments_with_their_owners():
    text = (CORPUS / f"{SUFFOLK_2005}.txt").read_text()
    start = text.index("\tAction Plan –")
    chunk = Chunk(chunk_id=7, doc_id=SUFFOLK_2005, ordinal=0, text=text[start:start + 1400], kind="table")
    rows = [u for u in units_of_chunks([chunk]) if u.list_kind == "action"]
    first = rows[0]
    assert "Reduction in re-referrals from 23% to 15%" in first.text
    assert first.row_owner == "Performance Improvement Team, Allan Cadzow"
    assert stated_target(first.text).text == "15%"
    assert "2.  Review of Family Support" not in first.text  # the next row starts a new commitment


# ------------------------------------------------------------------ the register built by ingest


def test_suffolk_register_links_the_2004_target_to_the_2005_outturn(seed_index):
    entries = cli_json(seed_index, "--authority", "Suffolk")
    initial = [e for e in entries if e["doc_id"] == SUFFOLK_2004 and e["target"] == "85%"
               and "initial assessments within 7 working days" in e["measure"]]
    assert len(initial) == 1
    commitment = initial[0]
    assert "71% with a target of 85% by the end of March 2004" in commitment["text"]
    assert commitment["due"] == "2004-03-31" and commitment["date"] == "2004-03-01"
    evidence = [f for f in commitment["follow_ups"] if f["value"] == "77.4%"]
    assert evidence and evidence[0]["doc_id"] == SUFFOLK_2005 and evidence[0]["date"] == "2005-03-15"
    assert "77.4%" in evidence[0]["text"]
    assert commitment["status"] == "not met"

    re_referrals = [e for e in entries if e["doc_id"] == SUFFOLK_2005 and "re-referral" in e["measure"].lower()
                    and e["target"] == "15%"]
    assert re_referrals, "the action plan's re-referral target is missing"
    assert "Reduction in re-referrals from 23% to 15%" in re_referrals[0]["text"]
    assert "Allan Cadzow" in re_referrals[0]["owner"]


def test_follow_ups_stay_within_the_council_and_comparisons_go_across(seed_index, seed_conn):
    authority_of = dict(seed_conn.execute("SELECT doc_id, authority FROM documents"))
    entries = cli_json(seed_index)
    assert {e["status"] for e in entries} <= {"met", "not met", "no later report", "unclear"}
    compared = 0
    for entry in entries:
        for follow_up in entry["follow_ups"]:
            assert authority_of[follow_up["doc_id"]] == entry["authority"]
            assert follow_up["date"] > entry["date"]
        for other in entry["comparisons"]:
            assert authority_of[other["doc_id"]] != entry["authority"]
            compared += 1
        if entry["authority"] != "Suffolk County Council":
            assert entry["status"] == "no later report"  # one paper each from the other councils
    assert compared > 0


def test_cli_filters_by_measure_due_date_and_status(seed_index):
    due = cli_json(seed_index, "--due-before", "2004-12-31")
    assert due and all(e["due"] < "2004-12-31" for e in due)
    not_met = cli_json(seed_index, "--status", "not met")
    assert not_met and all(e["status"] == "not met" for e in not_met)
    vacancy = cli_json(seed_index, "--measure", "vacancy")
    topics = dict(IndexReader.open(seed_index.index_dir).conn.execute("SELECT id, measure FROM commitments"))
    assert vacancy and all("vacanc" in (e["measure"] + e["text"] + topics[e["id"]]).lower() for e in vacancy)
    bad = CliRunner().invoke(commitments_command, ["--due-before", "March 2004", "--index", str(seed_index.index_dir)])
    assert bad.exit_code == 2 and "--due-before" in bad.output


def test_cli_prints_a_readable_table_wrapped_on_words(seed_index, monkeypatch):
    monkeypatch.setenv("COLUMNS", "80")
    result = CliRunner().invoke(commitments_command, ["--authority", "Suffolk", "--index", str(seed_index.index_dir)])
    assert result.exit_code == 0
    lines = result.output.splitlines()
    assert lines[0].split() == ["Paper", "Date", "Measure", "Target", "Due", "Status"]
    assert max(len(line) for line in lines) <= 80
    assert "Review update" in result.output and SUFFOLK_2004 not in result.output  # papers by title, not id
    entries = cli_json(seed_index, "--authority", "Suffolk")
    titles = [row[0] for row in IndexReader.open(seed_index.index_dir).conn.execute("SELECT title FROM documents")]
    words = {w for e in entries for text in (e["measure"], e["target"] or "", e["status"]) for w in text.split()}
    words |= {w for title in titles for w in title.split()}
    table_words = {w for line in lines[2:-1] for w in line.split() if not any(ch.isdigit() for ch in w)}
    assert table_words <= words | {"Mar", "Dec", "Jun", "Sep", "Apr", "May", "Jan", "Feb", "Jul", "Aug", "Oct", "Nov"}, \
        table_words - words  # every word whole: none split across lines
    assert f"{len(entries)} commitments" in lines[-1]


def test_chat_finds_what_suffolk_promised_about_vacancy_rates(seed_conn):
    entries = commitments_for_question(seed_conn, "What did Suffolk promise about vacancy rates and did they achieve it?", None)
    assert entries
    assert all(e.commitment.authority == "Suffolk County Council" for e in entries)
    assert entries[0].commitment.measure == "social work vacancy rate"
    assert any(e.commitment.target and "10%" in e.commitment.target for e in entries)
    assert any(f.value == "15%" for e in entries for f in e.follow_ups)  # 2005: "the current vacancy rate is 15%"


def test_precision_and_recall_on_the_labelled_set(seed_conn):
    labels = [json.loads(line) for line in LABELLED.read_text().splitlines() if line.strip()]
    positives = [label for label in labels if label["commitment"]]
    negatives = [label for label in labels if not label["commitment"]]
    assert len(positives) >= 40
    extracted = [e.commitment for e in load_register(seed_conn) if e.commitment.doc_id in SEED_IDS]

    def matches(commitment, label):
        return commitment.doc_id == label["doc_id"] and contains_normalised(commitment.text, label["text_contains"])

    found = {i: next((c for c in extracted if matches(c, label)), None) for i, label in enumerate(positives)}
    recall = sum(c is not None for c in found.values()) / len(positives)
    precision = sum(any(matches(c, label) for label in positives) for c in extracted) / len(extracted)
    false_alarms = sum(any(matches(c, label) for c in extracted) for label in negatives)
    with_target = [(label, found[i]) for i, label in enumerate(positives) if label["target"] and found[i]]
    target_agreement = sum(normalise_for_matching(c.target or "") == normalise_for_matching(label["target"])
                           for label, c in with_target) / len(with_target)
    with_due = [(label, found[i]) for i, label in enumerate(positives) if label["due"] and found[i]]
    due_agreement = sum(c.due == label["due"] for label, c in with_due) / len(with_due)
    print(f"\ncommitments: recall {recall:.3f} ({len(positives)} labelled), precision {precision:.3f} "
          f"({len(extracted)} extracted), labelled non-commitments extracted {false_alarms}/{len(negatives)}, "
          f"target agreement {target_agreement:.3f} ({len(with_target)}), due agreement {due_agreement:.3f} ({len(with_due)})")
    assert recall >= 0.95
    assert precision >= 0.95
    assert false_alarms <= 2
    assert target_agreement >= 0.9
    assert due_agreement >= 0.8


# ------------------------------------------------------------------ a later paper relinks old commitments


def test_a_new_later_paper_adds_follow_ups_to_old_commitments(tmp_path, shared_embedder):
    papers = copy_seeds(tmp_path / "papers", [SUFFOLK_2004])
    settings = load_settings(tmp_path / "index")
    ingest_paths([papers], settings, shared_embedder, commitments=index_commitments)
    before = load_register(IndexReader.open(settings.index_dir).conn, RegisterQuery(measure="initial assessments"))
    target = next(e for e in before if e.commitment.target == "85%")
    assert target.commitment.status == "no later report" and not target.follow_ups

    copy_seeds(papers, [SUFFOLK_2005])
    report = ingest_paths([papers], settings, shared_embedder, commitments=index_commitments)
    assert report.added == [SUFFOLK_2005] and report.unchanged == [SUFFOLK_2004]
    after = load_register(IndexReader.open(settings.index_dir).conn, RegisterQuery(measure="initial assessments"))
    same = next(e for e in after if e.commitment.id == target.commitment.id)  # not re-extracted: same row
    assert same.commitment.status == "not met"
    assert any(f.value == "77.4%" and f.doc_id == SUFFOLK_2005 for f in same.follow_ups)

    (papers / f"{SUFFOLK_2005}.txt").unlink()
    ingest_paths([papers], settings, shared_embedder, commitments=index_commitments)
    conn = IndexReader.open(settings.index_dir).conn
    assert conn.execute("SELECT count(*) FROM commitments WHERE doc_id = ?", (SUFFOLK_2005,)).fetchone()[0] == 0
    again = next(e for e in load_register(conn) if e.commitment.id == target.commitment.id)
    assert again.commitment.status == "no later report" and not again.follow_ups


# ------------------------------------------------------------------ web: page, CSV and JSON


@pytest.fixture(scope="module")
def register_client(seed_index, shared_embedder):
    from fastapi import FastAPI
    from fastapi.testclient import TestClient

    from index.service import Scrutiny
    from server.app import page_templates
    from server.routes.commitments import router

    app = FastAPI()
    app.state.scrutiny = Scrutiny(seed_index, shared_embedder)
    app.state.templates = page_templates()
    app.include_router(router)
    return TestClient(app)


def test_api_returns_the_filtered_register(register_client):
    response = register_client.get("/api/commitments", params={"authority": "Suffolk", "status": "not met"})
    assert response.status_code == 200
    entries = response.json()
    assert entries and all(e["status"] == "not met" and "Suffolk" in e["authority"] for e in entries)
    assert any(e["target"] == "85%" and e["doc_id"] == SUFFOLK_2004 for e in entries)
    assert register_client.get("/api/commitments", params={"due_before": "soon"}).status_code == 400
    assert register_client.get("/api/commitments", params={"status": "done"}).status_code == 400


def test_csv_download_matches_the_filtered_table(register_client):
    response = register_client.get("/commitments.csv", params={"authority": "Suffolk", "measure": "re-referral"})
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/csv")
    assert response.content.startswith(b"\xef\xbb\xbf")  # the byte-order mark Excel needs for UTF-8
    today = dt.date.today().isoformat()
    assert response.headers["content-disposition"] == f'attachment; filename="commitments_suffolk_re-referral_{today}.csv"'
    rows = list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))
    api = register_client.get("/api/commitments", params={"authority": "Suffolk", "measure": "re-referral"}).json()
    assert [int(r["id"]) for r in rows] == [e["id"] for e in api]
    assert any(r["target"] == "15%" for r in rows)
    assert all(r["source_url"].startswith(f"http://testserver/documents/{r['doc_id']}#chunk-") for r in rows)
    assert all(r["latest_follow_up_url"].startswith("http://testserver/documents/") for r in rows if r["latest_follow_up_doc_id"])
    plain = register_client.get("/commitments.csv").headers["content-disposition"]
    assert plain == f'attachment; filename="commitments_{today}.csv"'


@pytest.mark.parametrize("value, cell", [
    ("=HYPERLINK(\"http://x\")", "'=HYPERLINK(\"http://x\")"),
    ("+44 20 7946 0000", "'+44 20 7946 0000"),
    ("-2+3", "'-2+3"),
    ("@SUM(A1)", "'@SUM(A1)"),
    ("\t=1+1", "'\t=1+1"),
    ("\r=1+1", "'\r=1+1"),
    ("-12.5", "-12.5"),  # a plain number stays a number
    (42, "42"),
    (None, ""),
    ("85% by March 2004", "85% by March 2004"),
    ("“curly” quotes – and dashes", "“curly” quotes – and dashes"),
])
def test_csv_cells_a_spreadsheet_would_run_are_neutralised(value, cell):
    assert spreadsheet_safe(value) == cell


def test_csv_filename_says_the_filters_and_the_day():
    filters = RegisterFilters(authority="Suffolk County Council", measure="Initial assessments!", due_before="2005-04-01",
                              status="not met")
    assert csv_filename(filters, dt.date(2026, 11, 30)) == (
        "commitments_suffolk-county-council_initial-assessments_not-met_due-before-2005-04-01_2026-11-30.csv")
    assert csv_filename(RegisterFilters(authority='"; rm -rf /'), dt.date(2026, 1, 2)) == "commitments_rm-rf_2026-01-02.csv"


def test_page_counts_statuses_pages_and_sorts_on_the_server(register_client, seed_conn):
    total = seed_conn.execute("SELECT count(*) FROM commitments").fetchone()[0]
    assert total > PAGE_SIZE  # the seed papers fill more than one page
    first = register_client.get("/commitments").text
    counts = {status: int(n) for n, status in re.findall(r'<span class="count">(\d+)</span> ([A-Za-z ]+?)</a>', first)}
    assert counts["All"] == total and sum(n for s, n in counts.items() if s != "All") == total
    assert first.count('<tr id="commitment-') == PAGE_SIZE
    pages = -(-total // PAGE_SIZE)
    last = register_client.get("/commitments", params={"page": pages}).text
    assert last.count('<tr id="commitment-') == total - PAGE_SIZE * (pages - 1)
    shown = set(re.findall(r'<tr id="commitment-(\d+)"', first)) | set(re.findall(r'<tr id="commitment-(\d+)"', last))
    assert len(shown) == PAGE_SIZE + total - PAGE_SIZE * (pages - 1)  # pages do not overlap
    not_met = register_client.get("/commitments", params={"status": "not met"}).text
    assert not_met.count('<tr id="commitment-') == counts["Not met"]
    by_due = register_client.get("/commitments", params={"sort": "-due"}).text
    dues = re.findall(r'data-label="Due"><time datetime="([\d-]+)"', by_due)
    assert dues and dues == sorted(dues, reverse=True)
    assert 'aria-sort="descending"' in by_due and 'href="/commitments?sort=due"' in by_due
    assert "1 March 2004" in first and "2004-03-01</" not in first  # en-GB long dates
    for bad in ({"page": "0"}, {"page": "²"}, {"page": "9" * 20}, {"sort": "id; drop"}):
        assert register_client.get("/commitments", params=bad).status_code == 400


def test_page_links_sources_and_escapes_input(register_client):
    response = register_client.get("/commitments", params={"authority": "Suffolk County Council", "measure": "initial"})
    assert response.status_code == 200
    html = response.text
    assert f'href="/documents/{SUFFOLK_2004}#chunk-' in html and f'href="/documents/{SUFFOLK_2005}#chunk-' in html
    assert "77.4%" in html and "/commitments.csv?authority=Suffolk+County+Council&amp;measure=initial" in html
    hostile = register_client.get("/commitments", params={"measure": "<script>alert(1)</script>"})
    assert hostile.status_code == 200
    assert "<script>alert(1)</script>" not in hostile.text and "&lt;script&gt;" in hostile.text


# ------------------------------------------------------------------ follow-up links against hand-labelled ones

LINKS_LABELLED = ROOT / "commitments" / "links_labelled.jsonl"


def test_follow_up_links_against_the_labelled_set(seed_conn):
    """Every labelled later statement of a labelled commitment should be linked, and nothing else.

    On the whole corpus (Suffolk and Kent labels, 20 commitments, 38 later statements) the rules that a promise
    must be close in meaning to a statement on its topic, and that the same day's resolutions settle
    recommendations, took link precision from 0.52 to 0.80 (recall 0.89 to 0.82) and the labelled
    "no later report" statuses right from 13 to 16 of 20.
    """
    present = {row[0] for row in seed_conn.execute("SELECT doc_id FROM documents")}
    labels = [json.loads(line) for line in LINKS_LABELLED.read_text().splitlines() if line.strip()]
    labels = [label for label in labels if label["doc_id"] in present]
    assert len(labels) >= 12
    entries = load_register(seed_conn)
    predicted = correct = wanted = found = status_right = 0
    for label in labels:
        entry = next(e for e in entries if e.commitment.doc_id == label["doc_id"]
                     and contains_normalised(e.commitment.text, label["commitment_contains"]))
        later = label["later"]

        def labelled(follow_up) -> bool:
            return any(follow_up.doc_id == l["doc_id"] and contains_normalised(follow_up.text, l["contains"]) for l in later)

        predicted += len(entry.follow_ups)
        correct += sum(labelled(f) for f in entry.follow_ups)
        wanted += len(later)
        found += sum(any(f.doc_id == l["doc_id"] and contains_normalised(f.text, l["contains"]) for f in entry.follow_ups)
                     for l in later)
        status_right += (entry.commitment.status == "no later report") == (not later)
    precision, recall = correct / predicted, found / wanted
    print(f"\nfollow-up links: precision {precision:.3f} ({predicted} linked), recall {recall:.3f} ({wanted} labelled), "
          f"no-later-report right {status_right}/{len(labels)}")
    assert precision >= 0.75
    assert recall >= 0.8
    assert status_right >= len(labels) - 2


def test_target_status_gives_both_quotes_and_their_sources(seed_conn):
    statuses = target_status(seed_conn, "Did Suffolk meet its target for initial assessments within 7 working days?")
    assert statuses
    first = statuses[0]
    assert first.status == "not met" and first.target == "85%" and first.due == "2004-03-31"
    assert "initial assessments within 7 working days" in first.measure
    assert first.commitment.doc_id == SUFFOLK_2004 and "71% with a target of 85%" in first.commitment.text
    assert first.follow_up.doc_id == SUFFOLK_2005 and first.follow_up.date == "2005-03-15"
    assert "77.4%" in first.follow_up.text and first.value == "77.4%"
    assert first.commitment.title.startswith("Review update of performance")
    assert target_status(seed_conn, "Did Narnia meet its target for dragons?") == []
