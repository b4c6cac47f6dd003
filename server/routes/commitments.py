"""The commitments register: the `/commitments` page, its CSV download and `GET /api/commitments`.

All three take the same filters and call the same `load_register` the CLI calls.
"""
from __future__ import annotations

import csv
import datetime as dt
import io
import math
import re
from dataclasses import dataclass, replace
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.responses import HTMLResponse, Response

from commitments.register import (
    REGISTER_SORTS, RegisterEntry, RegisterQuery, load_register, measures_in_register, register_json, status_counts,
)
from index.service import Scrutiny
from index.store import IndexError_
from core.text import long_date as human_date
from server.validation import MAX_FILTER_CHARS, ValidationError, checked_iso_date

router = APIRouter()

STATUSES = ("met", "not met", "no later report", "unclear")
PAGE_SIZE = 50
SORT_CHOICES = tuple(REGISTER_SORTS) + tuple(f"-{key}" for key in REGISTER_SORTS)
CSV_COLUMNS = ("id", "authority", "title", "doc_id", "date", "page", "section", "measure", "text", "target", "due", "owner",
               "status", "latest_follow_up_date", "latest_follow_up_value", "latest_follow_up_text", "latest_follow_up_doc_id",
               "latest_follow_up_url", "source_url")
# A spreadsheet runs a cell that starts with one of these as a formula (TAB and CR too: some strip them first).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
PLAIN_NUMBER = re.compile(r"-?\d+(?:\.\d+)?")


def get_scrutiny(request: Request) -> Scrutiny:
    return request.app.state.scrutiny


@dataclass
class RegisterFilters:
    authority: str = ""
    measure: str = ""
    due_before: str = ""
    status: str = ""
    sort: str = "date"
    page: int = 1

    def query(self) -> RegisterQuery:
        return RegisterQuery(authority=self.authority or None, measure=self.measure or None,
                             due_before=self.due_before or None, status=self.status or None, sort=self.sort)

    def params(self, **changes) -> dict[str, str]:
        """The filters as query parameters, leaving out defaults; `changes` override (None drops one)."""
        values = {**vars(self), **changes}
        defaults = {"sort": "date", "page": 1}
        return {name: str(value) for name, value in values.items() if value not in (None, "") and defaults.get(name) != value}

    def url(self, path: str = "/commitments", **changes) -> str:
        params = self.params(**changes)
        return path + (f"?{urlencode(params)}" if params else "")


def checked_register_filters(
    authority: str | None = Query(None, description="Council (substring match)."),
    measure: str | None = Query(None, description="Text in the measure or the commitment."),
    due_before: str | None = Query(None, description="Only commitments due before this ISO date."),
    status: str | None = Query(None, description="met, not met, no later report or unclear."),
    sort: str | None = Query(None, description="date, council, paper, measure, target, due or status; a leading - reverses."),
    page: str | None = Query(None, description="Page of the table, from 1 (50 commitments a page)."),
) -> RegisterFilters:
    """Filters from the query string; a bad value is a 400 with a message saying what to send."""
    values = {"authority": authority, "measure": measure}
    for name, value in values.items():
        if value and len(value) > MAX_FILTER_CHARS:
            raise HTTPException(400, f"{name} is longer than {MAX_FILTER_CHARS} characters")
    status = (status or "").strip()
    if status and status not in STATUSES:
        raise HTTPException(400, f"status must be one of {', '.join(STATUSES)}, not {status!r}")
    sort = (sort or "").strip() or "date"
    if sort not in SORT_CHOICES:
        raise HTTPException(400, f"sort must be one of {', '.join(SORT_CHOICES)}, not {sort!r}")
    page_text = (page or "").strip() or "1"
    if not re.fullmatch(r"[1-9][0-9]{0,5}", page_text):
        raise HTTPException(400, f"page must be a whole number from 1, not {page!r}")
    try:
        due = checked_iso_date(due_before, "due_before") or ""
    except ValidationError as exc:
        raise HTTPException(400, str(exc)) from exc
    return RegisterFilters((authority or "").strip(), (measure or "").strip(), due, status, sort, int(page_text))


def register_entries(scrutiny: Scrutiny, filters: RegisterFilters) -> list[RegisterEntry]:
    """The filtered register; 503 when there is no index to read."""
    try:
        conn = scrutiny.state().reader.conn
    except IndexError_ as exc:
        raise HTTPException(503, f"{exc}") from exc
    return load_register(conn, filters.query())


def source_href(doc_id: str, chunk_id: int) -> str:
    return f"/documents/{quote(doc_id, safe='')}#chunk-{chunk_id}"


@router.get("/api/commitments", tags=["api"], summary="The commitments register as JSON")
def commitments_api(filters: RegisterFilters = Depends(checked_register_filters),
                    scrutiny: Scrutiny = Depends(get_scrutiny)) -> list[dict]:
    return register_json(register_entries(scrutiny, filters))


@router.get("/commitments.csv", include_in_schema=False)
def commitments_csv(request: Request, filters: RegisterFilters = Depends(checked_register_filters),
                    scrutiny: Scrutiny = Depends(get_scrutiny)) -> Response:
    body = register_csv(register_entries(scrutiny, filters), str(request.base_url))
    name = csv_filename(filters, dt.date.today())
    return Response(body.encode("utf-8"), media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})


def csv_filename(filters: RegisterFilters, day: dt.date) -> str:
    """"commitments_suffolk-county-council_not-met_due-before-2005-04-01_2026-11-30.csv": the filters, then the day."""
    parts = ["commitments"]
    for name in ("authority", "measure", "status"):
        value = getattr(filters, name)
        if value:
            parts.append(re.sub(r"[^a-z0-9]+", "-", value.casefold()).strip("-")[:40] or name)
    if filters.due_before:
        parts.append(f"due-before-{filters.due_before}")
    parts.append(day.isoformat())
    return "_".join(parts) + ".csv"


def register_csv(entries: list[RegisterEntry], base_url: str) -> str:
    """One row per commitment with its latest follow-up: UTF-8 with a byte-order mark (Excel reads the curly quotes
    right), absolute links, and no cell a spreadsheet would run as a formula."""
    out = io.StringIO()
    out.write("\ufeff")
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    base = base_url.rstrip("/")
    for entry in entries:
        c = entry.commitment
        latest = entry.evidence
        row = [c.id, c.authority, entry.title, c.doc_id, c.date, c.page, c.section, c.phrase, " ".join(c.text.split()),
               c.target, c.due, c.owner, c.status, latest.date if latest else None, latest.value if latest else None,
               " ".join(latest.text.split()) if latest else None, latest.doc_id if latest else None,
               base + source_href(latest.doc_id, latest.chunk_id) if latest else None, base + source_href(c.doc_id, c.chunk_id)]
        writer.writerow([spreadsheet_safe(value) for value in row])
    return out.getvalue()


def spreadsheet_safe(value) -> str:
    """The cell's text, with a leading apostrophe when a spreadsheet would otherwise run it as a formula."""
    text = "" if value is None else str(value)
    if text.startswith(FORMULA_STARTS) and not PLAIN_NUMBER.fullmatch(text):
        return "'" + text
    return text


@dataclass
class Column:
    key: str  # sort key
    label: str


COLUMNS = (Column("date", "Paper"), Column("measure", "Measure and commitment"), Column("target", "Target"),
           Column("due", "Due"), Column("status", "Status"))


def sort_link(filters: RegisterFilters, key: str) -> tuple[str, str | None]:
    """The header link for a column (ascending first, then reversed) and its aria-sort value when it is the sort."""
    current = filters.sort
    if current.lstrip("-") != key:
        return filters.url(sort=key, page=None), None
    ascending = not current.startswith("-")
    return filters.url(sort=("-" if ascending else "") + key, page=None), "ascending" if ascending else "descending"


@router.get("/commitments", response_class=HTMLResponse, include_in_schema=False)
def commitments_page(request: Request, filters: RegisterFilters = Depends(checked_register_filters),
                     scrutiny: Scrutiny = Depends(get_scrutiny)):
    from server.routes.common import index_problem

    problem = index_problem(scrutiny)
    entries, authorities, measures, counts = [], [], [], dict.fromkeys(STATUSES, 0)
    if problem is None:
        reader = scrutiny.state().reader
        counts = status_counts(reader.conn, filters.query())
        authorities, measures = reader.authorities(), measures_in_register(reader.conn)
    total = counts[filters.status] if filters.status else sum(counts.values())
    pages = max(1, math.ceil(total / PAGE_SIZE))
    page = min(filters.page, pages)
    if problem is None and total:
        query = replace(filters.query(), limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE)
        entries = load_register(scrutiny.state().reader.conn, query)
    context = {
        "nav": "commitments", "index_problem": problem, "entries": entries, "filters": filters,
        "authorities": authorities, "measures": measures, "statuses": STATUSES, "source_href": source_href,
        "counts": counts, "total": total, "page": page, "pages": pages, "page_size": PAGE_SIZE,
        "first_row": (page - 1) * PAGE_SIZE + 1 if total else 0, "last_row": min(page * PAGE_SIZE, total),
        "columns": [(column, *sort_link(filters, column.key)) for column in COLUMNS], "human_date": human_date,
        "csv_url": filters.url("/commitments.csv", page=None), "status_url": lambda status: filters.url(status=status, page=None),
        "page_url": lambda number: filters.url(page=number),
    }
    return request.app.state.templates.TemplateResponse(request, "commitments.html", context,
                                                        status_code=200 if problem is None else 503)
