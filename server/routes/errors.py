"""Errors as `{"error": ..., "detail": ...}` under /api and as a page elsewhere; bad input is a 4xx, never a 500."""
from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from index.search import UnknownMode
from index.store import IndexError_
from server.routes.common import command_for, templates_of
from server.validation import ValidationError

TITLES = {400: "Bad request", 404: "Not found", 405: "Method not allowed", 422: "Invalid request", 503: "Index unavailable"}


def is_api(request: Request) -> bool:
    return request.url.path.startswith("/api/") or request.url.path == "/api"


def error_response(request: Request, status: int, error: str, detail=None, command: str | None = None) -> Response:
    """JSON under /api, the error page elsewhere; `command` is what the user should run to fix it."""
    if is_api(request):
        body = {"error": error, "detail": jsonable_encoder(detail)}
        if command:
            body["hint"] = f"run {command}"
        return JSONResponse(body, status_code=status)
    context = {"title": TITLES.get(status, "Error"), "status": status, "error": error, "command": command,
               "index_problem": None, "nav": None}
    return templates_of(request).TemplateResponse(request, "error.html", context, status_code=status)


async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
    response = error_response(request, exc.status_code, str(exc.detail))
    response.headers.update(exc.headers or {})
    return response


async def request_invalid(request: Request, exc: RequestValidationError) -> Response:
    problems = [{key: error.get(key) for key in ("loc", "msg", "type")} for error in exc.errors()]
    summary = "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in problems)
    return error_response(request, 422, f"invalid request: {summary}", problems)


async def input_invalid(request: Request, exc: ValueError) -> Response:
    return error_response(request, 400, str(exc))


async def index_unavailable(request: Request, exc: IndexError_) -> Response:
    return error_response(request, 503, str(exc), command=command_for(exc))


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(StarletteHTTPException, http_error)
    app.add_exception_handler(RequestValidationError, request_invalid)
    app.add_exception_handler(ValidationError, input_invalid)
    app.add_exception_handler(UnknownMode, input_invalid)
    app.add_exception_handler(IndexError_, index_unavailable)
