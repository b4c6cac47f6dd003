"""The HTML pages: the chat page (which also renders a shared question server-side), the list of papers and one paper."""
from __future__ import annotations

import re
from dataclasses import asdict
from pathlib import Path

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import FileResponse, HTMLResponse

from core.records import Document
from decisions.references import reference_href
from decisions.trail import document_references
from index.search import MODES
from index.service import Scrutiny
from server.routes.common import (
    IndexProblem, checked_filters, checked_mode, checked_sort, document_href, in_answer_pool, index_problem,
    listed_documents, media_type_for, scrutiny_of, templates_of,
)
from server.asking import answer_record
from core.text import long_date
from server.routes.views import answer_card, chunk_views, filter_chips, web_link
from server.validation import ValidationError, checked_question, checked_row, checked_spans

router = APIRouter(include_in_schema=False)

FILTER_NAMES = ("authority", "committee", "since", "until", "doc_id")
# Fields named as the form labels them, in messages about them.
PAGE_LABELS = {"authority": "Council", "committee": "Committee", "since": "From date", "until": "Until date",
               "doc_id": "Paper", "mode": "Search method"}


def render(request: Request, name: str, context: dict, status: int = 200) -> HTMLResponse:
    return templates_of(request).TemplateResponse(request, name, context, status_code=status)


def known_document(scrutiny: Scrutiny, doc_id: str) -> Document:
    document = scrutiny.documents.get(doc_id)
    if document is None:
        raise HTTPException(404, f"No paper with id {doc_id!r} is in the index.")
    return document


def chat_choices(scrutiny: Scrutiny, problem: IndexProblem | None) -> tuple[list[str], list[str]]:
    if problem:
        return [], []
    reader = scrutiny.state().reader
    return reader.authorities(), reader.committees()


@router.get("/", response_class=HTMLResponse)
async def chat_page(
    request: Request,
    q: str | None = None,
    authority: str | None = None,
    committee: str | None = None,
    since: str | None = None,
    until: str | None = None,
    doc_id: str | None = None,
    mode: str | None = None,
):
    return await in_answer_pool(request, rendered_chat_page, request, q, authority, committee, since, until, doc_id, mode)


def rendered_chat_page(request: Request, q, authority, committee, since, until, doc_id, mode) -> HTMLResponse:
    """The chat page, with the answer to `q` rendered in it when a question is given."""
    scrutiny = scrutiny_of(request)
    problem = index_problem(scrutiny)
    values = {"authority": authority, "committee": committee, "since": since, "until": until, "doc_id": doc_id}
    values = {name: (value or "").strip() for name, value in values.items()}
    authorities, committees = chat_choices(scrutiny, problem)
    context = {
        "nav": "chat", "index_problem": problem, "question": q or "", "values": values, "mode": mode or "",
        "modes": MODES, "authorities": authorities, "committees": committees, "card": None, "initial": None, "error": None,
        "chips": filter_chips(values, q, mode),
    }
    status = 200
    if q is not None and problem is None:
        try:
            filters = checked_filters(scrutiny.documents, **values, labels=PAGE_LABELS)
            checked = checked_mode(mode, PAGE_LABELS["mode"])
            record = answer_record(scrutiny, checked_question(q), filters, checked)
            context["card"] = answer_card(record, "answer-0", filters, checked)
            context["initial"] = {"answer": record, "filters": {k: v for k, v in asdict(filters).items() if v},
                                  "mode": checked}
        except ValidationError as exc:
            context["error"], status = str(exc), 422
    elif q is not None:
        status = 503
    return render(request, "chat.html", context, status)


@router.get("/documents", response_class=HTMLResponse)
def documents_page(request: Request, q: str | None = None, sort: str | None = None):
    scrutiny = scrutiny_of(request)
    sort = checked_sort(sort)
    documents = listed_documents(scrutiny.documents.values(), q, sort)
    context = {
        "nav": "documents", "index_problem": None, "documents": documents, "query": (q or "").strip(),
        "sort": sort, "total": len(scrutiny.documents), "document_href": document_href,
    }
    return render(request, "documents.html", context)


def cited_chunk_number(hl: str | None) -> int | None:
    """The chunk number to highlight: plain ASCII digits only ("²" and 4,000-digit numbers are refused)."""
    if not hl:
        return None
    if not re.fullmatch(r"[0-9]{1,18}", hl):
        raise HTTPException(400, "hl must be a chunk number (digits 0-9, at most 18 of them)")
    return int(hl)


@router.get("/documents/{doc_id}", response_class=HTMLResponse)
def document_page(request: Request, doc_id: str, hl: str | None = None, spans: str | None = None, row: str | None = None):
    """A paper's text; `hl` marks a cited passage, `spans` ("120-188,240-301") the quoted sentences within it,
    `row` its cited table row (the table's row number, as citations give it)."""
    scrutiny = scrutiny_of(request)
    document = known_document(scrutiny, doc_id)
    cited = cited_chunk_number(hl)
    chunks = scrutiny.state().reader.chunks_of(doc_id)
    cited_chunk = next((chunk for chunk in chunks if chunk.chunk_id == cited), None)
    marked = checked_spans(spans, len(cited_chunk.text) if cited_chunk else None)
    cited_row = checked_row(row, [ref.row for ref in cited_chunk.table_rows] if cited_chunk else None)
    context = {
        "nav": "documents", "index_problem": None, "document": document,
        "chunks": chunk_views(chunks, cited, marked, cited_row, document), "file_url": f"{document_href(doc_id)}/file",
        "date_label": long_date(document.meta.date), "source_href": web_link(document.meta.source_url),
        "decision_refs": document_references(scrutiny.state().reader, doc_id), "reference_href": reference_href,
    }
    return render(request, "document.html", context)


@router.get("/documents/{doc_id}/file")
def document_file(request: Request, doc_id: str):
    document = known_document(scrutiny_of(request), doc_id)
    path = Path(document.path)
    if not path.is_file():
        raise HTTPException(404, f"The original file of {doc_id!r} is no longer at its recorded place.")
    return FileResponse(path, media_type=media_type_for(document), filename=path.name)
