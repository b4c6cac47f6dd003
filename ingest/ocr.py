"""recognise_blank_pages: text for the PDF pages that have none, read from their image by Tesseract.

Only pages without a text layer are rendered and recognised, so a paper with one scanned
appendix costs one page of OCR, not the whole file. Pages are rendered one at a time
(PDFium is not thread-safe) and recognised in parallel by separate Tesseract processes,
each held to one thread and to a time limit, so a pathological page cannot stall ingest.
"""
from __future__ import annotations

import io
import os
import shutil
import subprocess
from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

from core.settings import OcrSettings

TESSERACT = "tesseract"
# A rendered page with no pixel darker than this is empty paper: nothing to recognise.
BLANK_LEVEL = 250
POINTS_PER_INCH = 72


@dataclass
class OcrOutcome:
    pages: list[str]  # every page's text, with the recognised pages filled in
    recognised: list[int] = field(default_factory=list)  # 1-based numbers of the pages read by OCR
    warnings: list[str] = field(default_factory=list)
    unavailable: str | None = None  # why OCR could not run at all


def tesseract_problem(language: str) -> str | None:
    """None when Tesseract is installed with the data for `language`; otherwise what is missing."""
    executable = shutil.which(TESSERACT)
    if executable is None:
        return "tesseract is not installed"
    try:
        listed = subprocess.run([executable, "--list-langs"], capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.SubprocessError) as exc:
        return f"tesseract does not run ({exc})"
    known = {line.strip() for line in (listed.stdout + listed.stderr).splitlines() if line.strip() and " " not in line.strip()}
    missing = [lang for lang in language.split("+") if lang not in known]
    return f"tesseract has no language data for {'+'.join(missing)}" if missing else None


def recognise_blank_pages(path: Path, raw_pages: list[str], settings: OcrSettings) -> OcrOutcome:
    """`raw_pages` with each page that has no text replaced by the text Tesseract reads from its image."""
    blank = [index for index, text in enumerate(raw_pages) if not text.strip()]
    outcome = OcrOutcome(list(raw_pages))
    if not blank:
        return outcome
    outcome.unavailable = tesseract_problem(settings.language)
    if outcome.unavailable:
        return outcome
    workers = settings.workers or os.cpu_count() or 1
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="ocr") as pool:
        pending: deque[tuple[int, Future]] = deque()
        for index, image in rendered_pages(path, blank, settings.dpi, outcome.warnings):
            pending.append((index, pool.submit(recognise_page, image, settings)))
            # Rendering outpaces recognition; hold only a few page images in memory at once.
            while len(pending) > 2 * workers:
                _collect(outcome, *pending.popleft())
        while pending:
            _collect(outcome, *pending.popleft())
    outcome.recognised.sort()
    return outcome


def _collect(outcome: OcrOutcome, index: int, future: Future) -> None:
    text, problem = future.result()
    if text.strip():
        outcome.pages[index] = text
        outcome.recognised.append(index + 1)
    elif problem:
        outcome.warnings.append(f"page {index + 1}: {problem}")


def rendered_pages(path: Path, indexes: list[int], dpi: int, warnings: list[str]) -> Iterator[tuple[int, bytes]]:
    """(page index, greyscale image as PGM bytes) for each listed page that is not empty paper."""
    import pypdfium2 as pdfium

    try:
        document = pdfium.PdfDocument(str(path))
    except pdfium.PdfiumError as exc:
        warnings.append(f"pages could not be rendered for OCR ({exc})")
        return
    try:
        for index in indexes:
            try:
                image = _page_image(document, index, dpi)
            except pdfium.PdfiumError as exc:
                warnings.append(f"page {index + 1} could not be rendered for OCR ({exc})")
                continue
            if image.getextrema()[0] >= BLANK_LEVEL:
                continue
            buffer = io.BytesIO()
            image.save(buffer, format="PPM")  # uncompressed: instant to write, and Tesseract reads it directly
            yield index, buffer.getvalue()
    finally:
        document.close()


def _page_image(document, index: int, dpi: int):
    page = document[index]
    try:
        return page.render(scale=dpi / POINTS_PER_INCH, grayscale=True).to_pil().convert("L")
    finally:
        page.close()


def recognise_page(image: bytes, settings: OcrSettings) -> tuple[str, str | None]:
    """(text, problem) for one page image; the problem is set when Tesseract failed or ran out of time."""
    command = [TESSERACT, "stdin", "stdout", "-l", settings.language, "--dpi", str(settings.dpi), "--psm", "3"]
    # Pages already run in parallel: Tesseract's own threads would only contend for the same cores.
    env = {**os.environ, "OMP_THREAD_LIMIT": "1"}
    try:
        done = subprocess.run(command, input=image, capture_output=True, timeout=settings.page_timeout, env=env)
    except subprocess.TimeoutExpired:
        return "", f"OCR stopped after {settings.page_timeout:g} s"
    except OSError as exc:
        return "", f"OCR failed ({exc})"
    if done.returncode != 0:
        message = done.stderr.decode("utf-8", "replace").strip().splitlines()
        return "", f"OCR failed ({message[-1] if message else f'exit {done.returncode}'})"
    return done.stdout.decode("utf-8", "replace"), None
