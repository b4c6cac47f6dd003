"""The JSON API. Handlers check input and call the same `Scrutiny` methods the CLI calls."""
from __future__ import annotations

from dataclasses import asdict
from typing import Literal

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from index.answer import citation_for
from index.service import Scrutiny
from index.store import IndexError_
from server.routes.common import (
    checked_filters, checked_sort, document_json, hint_for, in_answer_pool, listed_documents,
    scrutiny_of,
)
from server.asking import MAX_HISTORY_TURNS, Turn, answer_record
from server.security import admin_refusal
from server.validation import MAX_FILTER_CHARS, MAX_QUESTION_CHARS, checked_question



class ErrorOut(BaseModel):
    error: str = Field(..., description="What is wrong, naming the field: \"k must be less than or equal to 50\".")
    detail: object = Field(None, description="The problems one by one (`loc`, `msg`, `type`) when the request did not validate.")
    hint: str | None = Field(None, description="The command that fixes it, when the index is missing or damaged.")


router = APIRouter(prefix="/api", tags=["api"], responses={
    422: {"model": ErrorOut, "description": "Invalid input"},
    503: {"model": ErrorOut, "description": "No index to answer from"},
})

Mode = Literal["hybrid", "bm25", "dense"]
# Far above the question limit, so an over-long question gets the clear message while a huge body is refused early.
MAX_BODY_QUESTION_CHARS = 20 * MAX_QUESTION_CHARS


class FiltersIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    authority: str | None = Field(None, max_length=MAX_FILTER_CHARS, description="Council name (substring match).")
    committee: str | None = Field(None, max_length=MAX_FILTER_CHARS, description="Committee or meeting (substring match).")
    since: str | None = Field(None, description="Papers dated on or after this ISO date.", examples=["2016-01-01"])
    until: str | None = Field(None, description="Papers dated on or before this ISO date.")
    doc_id: str | None = Field(None, max_length=MAX_FILTER_CHARS, description="Only this paper.")


class TurnIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    question: str = Field(..., min_length=1, max_length=MAX_QUESTION_CHARS, description="An earlier question.")
    read_as: str | None = Field(None, max_length=MAX_QUESTION_CHARS,
                                description="How that question was read (its answer's `read_as`), when it was a follow-up.")


class AskIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    question: str = Field(..., max_length=MAX_BODY_QUESTION_CHARS, description=f"At most {MAX_QUESTION_CHARS} characters.",
                          examples=["How many agency social workers did Sunderland have?"])
    history: list[TurnIn] = Field(default_factory=list, max_length=MAX_HISTORY_TURNS,
                                  description=f"The conversation's earlier turns, oldest first (at most {MAX_HISTORY_TURNS}), "
                                              "so a follow-up such as \"and what about 2005?\" is read in context.")
    filters: FiltersIn = Field(default_factory=FiltersIn)
    mode: Mode | None = Field(None, description="Retriever; hybrid by default.")
    # Strict: `true` or `5.0` is a mistake to report, not a 1 or a 5 to guess.
    k: int | None = Field(None, ge=1, le=50, strict=True, description="Passages to retrieve (default 5).")


class Health(BaseModel):
    index_loaded: bool
    documents: int = 0
    chunks: int = 0
    model: str
    generation: str | None = None
    error: str | None = None
    hint: str | None = None


def health_of(scrutiny: Scrutiny) -> Health:
    try:
        stats = scrutiny.state().reader.stats()
    except IndexError_ as exc:
        return Health(index_loaded=False, model=scrutiny.settings.embed.model, error=str(exc), hint=hint_for(exc))
    return Health(index_loaded=True, documents=stats["documents"], chunks=stats["chunks"], model=stats["model"],
                  generation=stats["generation"])


def answer_json(scrutiny: Scrutiny, body: AskIn) -> dict:
    question = checked_question(body.question)
    filters = checked_filters(scrutiny.documents, **body.filters.model_dump())
    history = [Turn(checked_question(turn.question), turn.read_as) for turn in body.history]
    return answer_record(scrutiny, question, filters, body.mode, body.k, history)


@router.post("/ask", summary="Answer a question with cited excerpts (same JSON as `scrutiny ask --json`)", response_model=dict)
async def ask(request: Request, body: AskIn) -> JSONResponse:
    # The record is plain JSON already: returned as a response, FastAPI does not validate and re-encode it.
    return JSONResponse(await in_answer_pool(request, answer_json, scrutiny_of(request), body))


@router.get("/search", summary="Ranked passages for a query, without composing an answer")
async def search(
    request: Request,
    q: str = Query(..., max_length=MAX_BODY_QUESTION_CHARS, description="The query."),
    k: int = Query(10, ge=1, le=50),
    authority: str | None = None,
    committee: str | None = None,
    since: str | None = None,
    until: str | None = None,
    doc_id: str | None = None,
    mode: Mode | None = None,
) -> list[dict]:
    return await in_answer_pool(request, ranked_json, scrutiny_of(request), q, k, mode,
                                (authority, committee, since, until, doc_id))


def ranked_json(scrutiny: Scrutiny, q: str, k: int, mode: str | None, filter_values: tuple) -> list[dict]:
    query = checked_question(q)
    filters = checked_filters(scrutiny.documents, *filter_values)
    hits = scrutiny.search(query, filters, mode, k)
    return [{"rank": rank, **citation_for(hit, None).to_json()} for rank, hit in enumerate(hits, start=1)]


@router.get("/documents", summary="Every paper in the index")
def documents(
    q: str | None = Query(None, max_length=MAX_FILTER_CHARS, description="Words the title must contain."),
    sort: str = Query("-date", description="-date (newest first), date or title."),
    scrutiny: Scrutiny = Depends(scrutiny_of),
) -> list[dict]:
    return [document_json(d) for d in listed_documents(scrutiny.documents.values(), q, checked_sort(sort))]


@router.get("/documents/{doc_id}", summary="One paper's metadata and its chunks in reading order")
def document(doc_id: str, scrutiny: Scrutiny = Depends(scrutiny_of)) -> dict:
    found = scrutiny.documents.get(doc_id)
    if found is None:
        raise HTTPException(404, f"no paper with id {doc_id!r} in the index")
    chunks = scrutiny.state().reader.chunks_of(doc_id)
    return {**document_json(found), "chunks": [asdict(chunk) for chunk in chunks]}


@router.get("/health", summary="Whether the index is loaded, and what it holds")
def health(scrutiny: Scrutiny = Depends(scrutiny_of)) -> Health:
    return health_of(scrutiny)


@router.post("/reload", summary="Re-read the index from disk (needs the admin token; off without one)")
def reload(request: Request, scrutiny: Scrutiny = Depends(scrutiny_of)) -> Health:
    refused = admin_refusal(request.headers, request.app.state.settings.server.admin_token, "POST /api/reload")
    if refused is not None:
        status, error, headers = refused
        raise HTTPException(status, error, headers=headers or None)
    scrutiny.reload()
    return health_of(scrutiny)
