"""Security headers on every response, as plain ASGI middleware so streamed files pass through untouched.

Pages carry a strict Content-Security-Policy: scripts and styles only from this
server, no inline script, no framing. A route that needs a different policy
(the OpenAPI docs page) sets its own header and the middleware leaves it alone.
"""
from __future__ import annotations

import base64
import hashlib
import re

from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

STRICT_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'none'"
)

SECURITY_HEADERS = {
    "content-security-policy": STRICT_CSP,
    "x-content-type-options": "nosniff",
    "referrer-policy": "same-origin",
    "x-frame-options": "DENY",
    "cross-origin-opener-policy": "same-origin",
    "permissions-policy": "camera=(), microphone=(), geolocation=(), payment=()",
}

_INLINE_SCRIPT = re.compile(r"<script>(.*?)</script>", re.S)


def inline_script_hashes(html: str) -> list[str]:
    """CSP source expressions ('sha256-...') allowing exactly the inline scripts of `html`."""
    return [
        "'sha256-" + base64.b64encode(hashlib.sha256(body.encode()).digest()).decode() + "'"
        for body in _INLINE_SCRIPT.findall(html)
    ]


def docs_csp(html: str) -> str:
    """The policy for the Swagger UI page: its own bundle and its one inline script, nothing else."""
    scripts = " ".join(["'self'", *inline_script_hashes(html)])
    return (
        f"default-src 'self'; script-src {scripts}; style-src 'self' 'unsafe-inline'; "
        "img-src 'self' data:; connect-src 'self'; object-src 'none'; "
        "base-uri 'none'; frame-ancestors 'none'"
    )


class SecurityHeadersMiddleware:
    def __init__(self, app: ASGIApp, headers: dict[str, str] | None = None):
        self.app = app
        self.headers = [(k.encode(), v.encode()) for k, v in (headers or SECURITY_HEADERS).items()]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                present = {name.lower() for name, _ in message.get("headers", [])}
                extra = [(name, value) for name, value in self.headers if name not in present]
                message = {**message, "headers": [*message.get("headers", []), *extra]}
            await send(message)

        await self.app(scope, receive, send_with_headers)


class BodyTooLarge(StarletteHTTPException):
    def __init__(self, limit: int):
        super().__init__(413, f"the request body is larger than {limit:,} bytes (the setting server.max_body_bytes)")


class BodyLimitMiddleware:
    """Refuse a request body over `max_bytes`: at once when its Content-Length says so, else as it streams in.

    The streamed case raises an HTTPException from `receive`, which FastAPI passes on as a 413.
    """

    def __init__(self, app: ASGIApp, max_bytes: int):
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers", [])).get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > self.max_bytes):
            await refusal(413, str(BodyTooLarge(self.max_bytes).detail))(scope, receive, send)
            return
        received = 0

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    raise BodyTooLarge(self.max_bytes)
            return message

        await self.app(scope, limited_receive, send)


class HeadAsGetMiddleware:
    """HEAD answered as GET without the body, so every page and GET endpoint answers HEAD (FastAPI routes do not)."""

    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "HEAD":
            await self.app(scope, receive, send)
            return

        async def send_without_body(message: Message) -> None:
            if message["type"] == "http.response.body":
                message = {**message, "body": b""}
            await send(message)

        await self.app({**scope, "method": "GET"}, receive, send_without_body)


def refusal(status: int, error: str, headers: dict[str, str] | None = None):
    """A JSON error response in the API's shape, for middleware that answers before any route does."""
    from starlette.responses import JSONResponse

    return JSONResponse({"error": error, "detail": None}, status_code=status, headers=headers)


def same_origin(headers, host: str | None) -> bool:
    """False for a request a browser sent from another site (Origin or Sec-Fetch-Site say so)."""
    from urllib.parse import urlsplit

    if headers.get("sec-fetch-site", "same-origin") not in ("same-origin", "none"):
        return False
    origin = headers.get("origin")
    if origin is None:
        return True
    return origin != "null" and urlsplit(origin).netloc.lower() == (host or "").lower()


def is_json(content_type: str | None) -> bool:
    kind = (content_type or "").split(";")[0].strip().lower()
    return kind == "application/json" or (kind.startswith("application/") and kind.endswith("+json"))


def admin_refusal(headers, token: str | None, what: str) -> tuple[int, str, dict[str, str]] | None:
    """Why a state-changing request is refused (status, error, headers), or None when it may go ahead.

    Off without a configured token; browsers' cross-origin and non-JSON (form) requests are
    refused before the token is looked at, so no other web page can make a visitor's browser call it.
    """
    import hmac

    if not token:
        return 403, f"{what} is off: start the server with SCRUTINY_ADMIN_TOKEN set and send that token", {}
    if not same_origin(headers, headers.get("host")):
        return 403, f"{what} refuses cross-origin requests", {}
    if not is_json(headers.get("content-type")):
        return 415, f"{what} needs Content-Type: application/json", {}
    scheme, _, sent = headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not hmac.compare_digest(sent.strip().encode(), token.encode()):
        return 401, f"{what} needs the admin token as Authorization: Bearer <token>", {"WWW-Authenticate": "Bearer"}
    return None
