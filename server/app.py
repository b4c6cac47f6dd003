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
from server import reuse
from server.routes import api, commitments, decisions, pages
from server.routes.common import index_problem
from server.routes.errors import install_error_handlers
from server.security import BodyLimitMiddleware, HeadAsGetMiddleware, SecurityHeadersMiddleware, docs_csp
from server.validation import long_date, uk_date

ROOT = Path(__file__).resolve().parent.parent
TEMPLATES_DIR = ROOT / "templates"
STATIC_DIR = Path(__file__).resolve().parent / "static"
DOCS_ASSETS = "/docs-assets"


def page_templates() -> Jinja2Templates:
    environment = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES_DIR), autoescape=True, undefined=jinja2.StrictUndefined,
        trim_blocks=True, lstrip_blocks=True,
    )
    environment.filters["long_date"] = long_date
    environment.filters["uk_date"] = uk_date
    return Jinja2Templates(env=environment)


def loaded_scrutiny(settings: Settings, scrutiny: Scrutiny | None) -> Scrutiny:
    """The service with its model loaded and the index opened (when there is one)."""
    scrutiny = scrutiny or Scrutiny(settings)
    scrutiny.warm_up()
    if index_problem(scrutiny) is None:
        scrutiny.read_ahead()
        scrutiny.warm_answering()
    return scrutiny


def swagger_assets_dir() -> Path:
    """Swagger UI 5 (which renders OpenAPI 3.1, the version FastAPI writes) from the fastapi-offline
    package's static files: the docs page needs no network."""
    import fastapi_offline

    return Path(fastapi_offline.__file__).parent / "static"


def docs_page(app: FastAPI) -> HTMLResponse:
    """Swagger UI served from this server, with a policy that allows its one inline script by hash."""
    page = get_swagger_ui_html(
        openapi_url=app.openapi_url, title=f"{app.title} API",
        swagger_js_url=f"{DOCS_ASSETS}/swagger-ui-bundle.js", swagger_css_url=f"{DOCS_ASSETS}/swagger-ui.css",
        swagger_favicon_url=f"{DOCS_ASSETS}/favicon.png",
    )
    html = page.body.decode()
    return HTMLResponse(html, headers={"Content-Security-Policy": docs_csp(html)})


def app_from_environment() -> FastAPI:
    """The app for a `scrutiny serve --workers N` worker process: settings come from the environment, and the
    worker announces the address they name (server.host, server.port) once it is ready, as a single server does."""
    from core.settings import load_settings

    settings = load_settings()
    return create_app(settings, listening=(settings.server.host, settings.server.port))


def create_app(settings: Settings, scrutiny: Scrutiny | None = None, listening: tuple[str, int] | None = None) -> FastAPI:
    """`listening` (host, port): announce the server in the index folder once it is ready, so `scrutiny ask`
    sends questions to it instead of loading the model itself."""
    @asynccontextmanager
    async def lifespan(app: FastAPI):
        import anyio

        app.state.answer_limiter = anyio.CapacityLimiter(max(1, settings.server.answer_threads))
        app.state.scrutiny = await run_in_threadpool(loaded_scrutiny, settings, scrutiny)
        if listening:
            reuse.announce(settings.index_dir, *listening, settings.embed.model)
        try:
            yield
        finally:
            if listening:
                reuse.withdraw(settings.index_dir)

    app = FastAPI(
        title="Scrutiny", summary="Questions answered with cited excerpts from council committee papers.",
        version="0.1.0", lifespan=lifespan, docs_url=None, redoc_url=None,
    )
    app.state.settings = settings
    app.state.templates = page_templates()
    # The last added runs first: security headers go on every response, even a refused body or a HEAD.
    app.add_middleware(HeadAsGetMiddleware)
    app.add_middleware(BodyLimitMiddleware, max_bytes=settings.server.max_body_bytes)
    app.add_middleware(SecurityHeadersMiddleware)
    install_error_handlers(app)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    app.mount(DOCS_ASSETS, StaticFiles(directory=swagger_assets_dir()), name="docs-assets")
    app.include_router(api.router)
    app.include_router(pages.router)
    app.include_router(commitments.router)
    app.include_router(decisions.router)
    app.include_router(decisions.api_router)
    app.add_api_route("/docs", lambda: docs_page(app), include_in_schema=False, response_class=HTMLResponse)
    return app
