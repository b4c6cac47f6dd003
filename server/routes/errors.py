"""Errors as `{"error": ..., "detail": ...}` under /api and as a page elsewhere; bad input is a 422 naming the
field and the problem in plain words, never a 500."""
from __future__ import annotations

import re

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


def field_name(location) -> str:
    """"filters.since" for ("body", "filters", "since"): where the problem is, as the request spells it."""
    parts = [str(part) for part in location]
    return ".".join(parts[1:] if parts and parts[0] in ("body", "query", "path") else parts) or "the request"


def plain_problem(error: dict) -> str:
    """One validation problem in words: "k must be less than or equal to 50"."""
    name = field_name(error.get("loc", ()))
    kind = error.get("type", "")
    if kind == "json_invalid":
        return "the request body is not valid JSON"
    if kind == "missing":
        return f"{name} is required"
    if kind == "extra_forbidden":
        return f"{name} is not a field this request takes"
    message = re.sub(r"^(?:Input|String|List|Value|Dictionary)\s+should\b", "must", error.get("msg", "is not valid"))
    return f"{name} {message[0].lower()}{message[1:]}" if message.startswith("must") else f"{name}: {message}"


async def request_invalid(request: Request, exc: RequestValidationError) -> Response:
    problems = [{key: error.get(key) for key in ("loc", "msg", "type")} for error in exc.errors()]
    summary = "; ".join(dict.fromkeys(plain_problem(problem) for problem in problems))
    return error_response(request, 422, summary, problems)


async def input_invalid(request: Request, exc: ValueError) -> Response:
    return error_response(request, 422, str(exc))


async def index_unavailable(request: Request, exc: IndexError_) -> Response:
    return error_response(request, 503, str(exc), command=command_for(exc))


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(StarletteHTTPException, http_error)
    app.add_exception_handler(RequestValidationError, request_invalid)
    app.add_exception_handler(ValidationError, input_invalid)
    app.add_exception_handler(UnknownMode, input_invalid)
    app.add_exception_handler(IndexError_, index_unavailable)
