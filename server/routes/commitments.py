"""The commitments register: the `/commitments` page, its CSV download and `GET /api/commitments`.

All three take the same filters and call the same `load_register` the CLI calls.
"""
from __future__ import annotations

import csv
import io
from dataclasses import dataclass

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.responses import HTMLResponse, Response

from commitments.register import RegisterEntry, RegisterQuery, load_register, measures_in_register, register_json
from index.service import Scrutiny
from index.store import IndexError_
from server.validation import ValidationError, checked_iso_date

router = APIRouter()

STATUSES = ("met", "not met", "no later report", "unclear")
MAX_FILTER_CHARS = 200
CSV_COLUMNS = ("id", "authority", "doc_id", "date", "page", "section", "measure", "text", "target", "due", "owner",
               "status", "latest_follow_up_date", "latest_follow_up_value", "latest_follow_up_doc_id", "source_url")


def get_scrutiny(request: Request) -> Scrutiny:
    return request.app.state.scrutiny


@dataclass
class RegisterFilters:
    authority: str = ""
    measure: str = ""
    due_before: str = ""
    status: str = ""

    def query(self) -> RegisterQuery:
        return RegisterQuery(authority=self.authority or None, measure=self.measure or None,
                             due_before=self.due_before or None, status=self.status or None)

    def params(self) -> dict[str, str]:
        return {name: value for name, value in vars(self).items() if value}


def checked_register_filters(
    authority: str | None = Query(None, description="Council (substring match)."),
    measure: str | None = Query(None, description="Text in the measure label or the commitment."),
    due_before: str | None = Query(None, description="Only commitments due before this ISO date."),
    status: str | None = Query(None, description="met, not met, no later report or unclear."),
) -> RegisterFilters:
    """Filters from the query string; a bad date or status is a 400 with a message saying what to send."""
    values = {"authority": authority, "measure": measure}
    for name, value in values.items():
        if value and len(value) > MAX_FILTER_CHARS:
            raise HTTPException(400, f"{name} is longer than {MAX_FILTER_CHARS} characters")
    status = (status or "").strip()
    if status and status not in STATUSES:
        raise HTTPException(400, f"status must be one of {', '.join(STATUSES)}, not {status!r}")
    try:
        due = checked_iso_date(due_before, "due_before") or ""
    except ValidationError as exc:
        raise HTTPException(400, str(exc)) from exc
    return RegisterFilters((authority or "").strip(), (measure or "").strip(), due, status)


def register_entries(scrutiny: Scrutiny, filters: RegisterFilters) -> list[RegisterEntry]:
    """The filtered register; 503 when there is no index to read."""
    try:
        conn = scrutiny.state().reader.conn
    except IndexError_ as exc:
        raise HTTPException(503, f"{exc}") from exc
    return load_register(conn, filters.query())


def source_href(doc_id: str, chunk_id: int) -> str:
    from urllib.parse import quote

    return f"/documents/{quote(doc_id, safe='')}#chunk-{chunk_id}"


@router.get("/api/commitments", tags=["api"], summary="The commitments register as JSON")
def commitments_api(filters: RegisterFilters = Depends(checked_register_filters),
                    scrutiny: Scrutiny = Depends(get_scrutiny)) -> list[dict]:
    return register_json(register_entries(scrutiny, filters))


@router.get("/commitments.csv", include_in_schema=False)
def commitments_csv(filters: RegisterFilters = Depends(checked_register_filters),
                    scrutiny: Scrutiny = Depends(get_scrutiny)) -> Response:
    body = register_csv(register_entries(scrutiny, filters))
    return Response(body, media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": 'attachment; filename="commitments.csv"'})


def register_csv(entries: list[RegisterEntry]) -> str:
    """One row per commitment with its latest follow-up; cells that a spreadsheet would run as formulas are quoted."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    for entry in entries:
        c = entry.commitment
        latest = entry.follow_ups[-1] if entry.follow_ups else None
        row = [c.id, c.authority, c.doc_id, c.date, c.page, c.section, c.measure, " ".join(c.text.split()), c.target,
               c.due, c.owner, c.status, latest.date if latest else None, latest.value if latest else None,
               latest.doc_id if latest else None, source_href(c.doc_id, c.chunk_id)]
        writer.writerow([spreadsheet_safe(value) for value in row])
    return out.getvalue()


def spreadsheet_safe(value) -> str:
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@") and not _is_number(text) else text


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


@router.get("/commitments", response_class=HTMLResponse, include_in_schema=False)
def commitments_page(request: Request, filters: RegisterFilters = Depends(checked_register_filters),
                     scrutiny: Scrutiny = Depends(get_scrutiny)):
    from urllib.parse import urlencode

    from server.routes.common import index_problem

    problem = index_problem(scrutiny)
    entries, authorities, measures = [], [], []
    if problem is None:
        reader = scrutiny.state().reader
        entries = load_register(reader.conn, filters.query())
        authorities, measures = reader.authorities(), measures_in_register(reader.conn)
    context = {
        "nav": "commitments", "index_problem": problem, "entries": entries, "filters": filters,
        "authorities": authorities, "measures": measures, "statuses": STATUSES, "source_href": source_href,
        "csv_url": "/commitments.csv" + (f"?{urlencode(filters.params())}" if filters.params() else ""),
    }
    return request.app.state.templates.TemplateResponse(request, "commitments.html", context,
                                                        status_code=200 if problem is None else 503)
