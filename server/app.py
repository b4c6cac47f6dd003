"""create_app: wires the pages, the API, static files, error handlers and security headers.

The embedding model and the index are loaded once, in the lifespan. A missing or
broken index does not stop the server: the pages and /api/health say how to build it.
"""
from __future__ import annotations

from contextlib import asynccontextmanager
from pathlib import Path

import jinja2
from fastapi import FastAPI
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from starlette.concurrency import run_in_threadpool

from core.settings import Settings
from index.service import Scrutiny
from server.routes import api, commitments, pages
from server.routes.common import index_problem
from server.routes.errors import install_error_handlers
from server.security import SecurityHeadersMiddleware, docs_csp

ROOT = Path(__file__).resolve().parent.parent
TEMPLATES_DIR = ROOT / "templates"
STATIC_DIR = Path(__file__).resolve().parent / "static"
SWAGGER_CDN = "https://cdn.jsdelivr.net"


def page_templates() -> Jinja2Templates:
    environment = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES_DIR), autoescape=True, undefined=jinja2.StrictUndefined,
        trim_blocks=True, lstrip_blocks=True,
    )
    return Jinja2Templates(env=environment)


def loaded_scrutiny(settings: Settings, scrutiny: Scrutiny | None) -> Scrutiny:
    """The service with its model loaded and the index opened (when there is one)."""
    scrutiny = scrutiny or Scrutiny(settings)
    scrutiny.warm_up()
    index_problem(scrutiny)
    return scrutiny


def docs_page(app: FastAPI) -> HTMLResponse:
    """Swagger UI with a policy that allows its CDN bundle and its one inline script by hash."""
    page = get_swagger_ui_html(openapi_url=app.openapi_url, title=f"{app.title} API")
    html = page.body.decode()
    return HTMLResponse(html, headers={"Content-Security-Policy": docs_csp(html, SWAGGER_CDN)})


def create_app(settings: Settings, scrutiny: Scrutiny | None = None) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI):
        app.state.scrutiny = await run_in_threadpool(loaded_scrutiny, settings, scrutiny)
        yield

    app = FastAPI(
        title="Scrutiny", summary="Questions answered with cited excerpts from council committee papers.",
        version="0.1.0", lifespan=lifespan, docs_url=None, redoc_url=None,
    )
    app.state.settings = settings
    app.state.templates = page_templates()
    app.add_middleware(SecurityHeadersMiddleware)
    install_error_handlers(app)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    app.include_router(api.router)
    app.include_router(pages.router)
    app.include_router(commitments.router)
    app.add_api_route("/docs", lambda: docs_page(app), include_in_schema=False, response_class=HTMLResponse)
    return app
