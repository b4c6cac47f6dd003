"""PoliteClient: HTTP towards a council's website, one request at a time, with a pause between requests.

Council sites are small servers run for the public, and several sit behind bot filters, so
every request names Scrutiny in its User-Agent, waits its turn, and retries a timeout, a
dropped connection or a 5xx/429 answer after a growing pause rather than hammering.
"""
from __future__ import annotations

import hashlib
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import httpx

from core.settings import FetchSettings

CHUNK_BYTES = 64 * 1024
MAX_RETRY_AFTER = 300.0  # seconds: a longer Retry-After is a site asking us to come back another day


class FetchError(Exception):
    """A request that did not succeed; str() is "<url>: <problem>"."""

    def __init__(self, url: str, problem: str, status: int | None = None):
        self.url = str(url)
        self.problem = problem
        self.status = status
        super().__init__(f"{self.url}: {problem}")

    def __str__(self) -> str:
        return f"{self.url}: {self.problem}"


class _Retryable(Exception):
    def __init__(self, problem: str, retry_after: float | None = None):
        super().__init__(problem)
        self.problem = problem
        self.retry_after = retry_after


@dataclass
class Downloaded:
    path: Path
    bytes: int
    sha256: str
    content_type: str
    first_bytes: bytes  # the file's opening, to tell its format


def retry_pause(attempt: int, backoff: float, retry_after: float | None) -> float:
    """Seconds to wait before retry number `attempt` (0-based): doubling backoff, or the server's Retry-After."""
    pause = backoff * (2 ** attempt)
    if retry_after is not None:
        pause = max(pause, min(retry_after, MAX_RETRY_AFTER))
    return pause


def retry_after_seconds(response: httpx.Response) -> float | None:
    value = response.headers.get("retry-after", "").strip()
    return float(value) if value.isdigit() else None


class PoliteClient:
    """GET with a delay between requests and retries with backoff; `requests` counts what was sent."""

    def __init__(self, settings: FetchSettings, transport: httpx.BaseTransport | None = None,
                 sleep: Callable[[float], None] = time.sleep, clock: Callable[[], float] = time.monotonic):
        self.settings = settings
        self._sleep = sleep
        self._clock = clock
        self._last_request: float | None = None
        self.requests = 0
        self._client = httpx.Client(
            headers={"User-Agent": settings.user_agent, "Accept": "*/*"},
            timeout=settings.timeout, follow_redirects=True, transport=transport,
        )

    def __enter__(self) -> "PoliteClient":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        self._client.close()

    def get_text(self, url: str, params: dict | None = None) -> str:
        """The body of a page or web-service reply as text."""

        def attempt() -> str:
            response = self._client.get(url, params=params)
            self._check(response, url)
            return response.text

        return self._with_retries(url, attempt)

    def download(self, url: str, destination: Path) -> Downloaded:
        """Stream `url` into `destination`, hashing as it goes; a larger file than max_bytes is refused."""

        def attempt() -> Downloaded:
            digest, size, head = hashlib.sha256(), 0, b""
            with self._client.stream("GET", url) as response:
                self._check(response, url)
                with open(destination, "wb") as out:
                    for block in response.iter_bytes(CHUNK_BYTES):
                        size += len(block)
                        if size > self.settings.max_bytes:
                            raise FetchError(url, f"larger than {self.settings.max_bytes} bytes; not downloaded")
                        if len(head) < 4096:
                            head += block[: 4096 - len(head)]
                        out.write(block)
                        digest.update(block)
                    out.flush()
                    os.fsync(out.fileno())
                content_type = response.headers.get("content-type", "")
            return Downloaded(destination, size, digest.hexdigest(), content_type, head)

        return self._with_retries(url, attempt)

    def _check(self, response: httpx.Response, url: str) -> None:
        status = response.status_code
        if status == 429 or status >= 500:
            raise _Retryable(f"HTTP {status}", retry_after_seconds(response))
        if status >= 400:
            raise FetchError(url, f"HTTP {status}", status)

    def _wait_turn(self) -> None:
        if self._last_request is not None:
            remaining = self.settings.delay - (self._clock() - self._last_request)
            if remaining > 0:
                self._sleep(remaining)

    def _with_retries(self, url: str, attempt: Callable):
        attempts = self.settings.retries + 1
        problem = ""
        for number in range(attempts):
            self._wait_turn()
            self.requests += 1
            retry_after = None
            try:
                return attempt()
            except _Retryable as exc:
                problem, retry_after = exc.problem, exc.retry_after
            except httpx.TimeoutException:
                problem = f"no response within {self.settings.timeout:g} s"
            except httpx.InvalidURL as exc:
                raise FetchError(url, f"not a usable address ({exc})") from exc
            except httpx.RequestError as exc:  # a dropped connection, a reset, a garbled reply
                problem = f"connection failed ({exc or type(exc).__name__})"
            finally:
                self._last_request = self._clock()
            if number + 1 < attempts:
                self._sleep(retry_pause(number, self.settings.backoff, retry_after))
        raise FetchError(url, f"{problem} (tried {attempts} time{'s' if attempts > 1 else ''})")
