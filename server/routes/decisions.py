"""Decision trails: `/decisions` lists every decision reference in the papers, `/decisions/{ref}` shows one trail."""
from __future__ import annotations

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import HTMLResponse

from decisions.references import checked_reference, reference_href
from decisions.trail import DecisionTrail, decision_trail, decision_trails
from server.routes.common import document_href, index_problem, scrutiny_of, templates_of
from core.text import long_date as human_date

router = APIRouter(include_in_schema=False)
api_router = APIRouter()

KIND_LABELS = {"decided": "Decided", "recommended": "Recommended", "mentioned": "Mentioned"}


def page_context(request: Request, **values) -> dict:
    return {"nav": "decisions", "index_problem": None, "human_date": human_date, "document_href": document_href,
            "reference_href": reference_href, "kind_labels": KIND_LABELS, **values}


@router.get("/decisions", response_class=HTMLResponse)
def decisions_page(request: Request):
    scrutiny = scrutiny_of(request)
    problem = index_problem(scrutiny)
    trails = decision_trails(scrutiny.state().reader) if problem is None else []
    context = page_context(request, index_problem=problem, trails=trails)
    return templates_of(request).TemplateResponse(request, "decisions.html", context,
                                                  status_code=200 if problem is None else 503)


def found_trail(request: Request, ref: str) -> DecisionTrail:
    """The trail of a reference from a URL; 400 for something that is not a reference, 404 when no paper carries it."""
    try:
        checked = checked_reference(ref)
    except ValueError as exc:
        raise HTTPException(400, str(exc)) from exc
    reader = scrutiny_of(request).state().reader
    trail = decision_trail(reader, checked)
    if trail is None and "-" in checked:  # the dash form of a reference written with slashes: KD-2024-07
        trail = decision_trail(reader, checked.replace("-", "/"))
    if trail is None:
        raise HTTPException(404, f"No paper in the index carries decision reference {checked}.")
    return trail


@router.get("/decisions/{ref:path}", response_class=HTMLResponse)
def decision_page(request: Request, ref: str):
    """One trail; "24/00093" arrives as 24%2F00093 (or 24-00093), decoded by the server before this runs."""
    return templates_of(request).TemplateResponse(request, "decision.html", page_context(request, trail=found_trail(request, ref)))


@api_router.get("/api/decisions/{ref:path}", tags=["api"], summary="A decision's trail as JSON")
def decision_api(request: Request, ref: str) -> dict:
    """The papers carrying the reference, oldest first, each with what it decided, recommended or said of it."""
    return found_trail(request, ref).to_json()
