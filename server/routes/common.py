"""What the pages and the API share: the app's objects, checked input, and the index's health."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable
from urllib.parse import quote, urlencode

from fastapi import Request
from fastapi.templating import Jinja2Templates

from core.records import Document, Filters
from index.search import MODES
from index.service import Scrutiny
from index.store import IndexCorrupt, IndexError_
from server.validation import ValidationError, checked_filter_values

# "-date" is newest first, the order councillors usually want.
DOCUMENT_SORTS = ("-date", "date", "title")
BUILD_COMMAND = "scrutiny ingest"
REBUILD_COMMAND = "scrutiny ingest --rebuild"


def scrutiny_of(request: Request) -> Scrutiny:
    return request.app.state.scrutiny


async def in_answer_pool(request: Request, function, *args):
    """Run CPU-bound answering in a worker thread, at most `server.answer_threads` at once.

    The event loop stays free to accept and queue requests, and a burst of questions does not
    become dozens of threads fighting over the interpreter lock and the model's cores.
    """
    from anyio import to_thread

    return await to_thread.run_sync(function, *args, limiter=request.app.state.answer_limiter)


def templates_of(request: Request) -> Jinja2Templates:
    return request.app.state.templates


@dataclass
class IndexProblem:
    error: str
    command: str  # what builds (or rebuilds) the index

    @property
    def hint(self) -> str:
        return f"run {self.command}"


def command_for(exc: IndexError_) -> str:
    return REBUILD_COMMAND if isinstance(exc, IndexCorrupt) else BUILD_COMMAND


def hint_for(exc: IndexError_) -> str:
    return f"run {command_for(exc)}"


def index_problem(scrutiny: Scrutiny) -> IndexProblem | None:
    """None when the index opens; otherwise what is wrong and the command that fixes it."""
    try:
        scrutiny.state()
    except IndexError_ as exc:
        return IndexProblem(str(exc), command_for(exc))
    return None


def checked_mode(mode: str | None, label: str = "mode") -> str | None:
    mode = (mode or "").strip() or None
    if mode is not None and mode not in MODES:
        raise ValidationError(f"{label} must be one of {', '.join(MODES)}, not {mode!r}")
    return mode


def checked_filters(
    documents: dict[str, Document],
    authority: str | None = None,
    committee: str | None = None,
    since: str | None = None,
    until: str | None = None,
    doc_id: str | None = None,
    labels: dict[str, str] | None = None,
) -> Filters:
    """Filters from user input (see checked_filter_values), the document known to the index."""
    filters = checked_filter_values(authority, committee, since, until, doc_id, labels)
    if filters.doc_id and filters.doc_id not in documents:
        raise ValidationError(f"no paper with id {filters.doc_id!r} in the index")
    return filters


def checked_sort(sort: str | None) -> str:
    sort = (sort or "-date").strip()
    if sort not in DOCUMENT_SORTS:
        raise ValidationError(f"sort must be one of {', '.join(DOCUMENT_SORTS)}, not {sort!r}")
    return sort


def listed_documents(documents: Iterable[Document], query: str | None, sort: str) -> list[Document]:
    """Papers whose title (or reference) contains every word of `query`, in the chosen order; undated papers last."""
    words = (query or "").casefold().split()
    matching = [
        d for d in documents
        if all(word in f"{d.title} {d.meta.reference or ''}".casefold() for word in words)
    ]
    if sort == "title":
        return sorted(matching, key=lambda d: (d.title.casefold(), d.doc_id))
    dated = sorted((d for d in matching if d.meta.date), key=lambda d: (d.meta.date, d.doc_id), reverse=sort == "-date")
    return dated + sorted((d for d in matching if not d.meta.date), key=lambda d: d.doc_id)


def share_url(question: str, filters: Filters, mode: str | None) -> str:
    """The chat page URL that renders this question's answer server-side."""
    params = {"q": question}
    for name in ("authority", "committee", "since", "until", "doc_id"):
        value = getattr(filters, name)
        if value:
            params[name] = value
    if mode:
        params["mode"] = mode
    return "/?" + urlencode(params)


def document_href(doc_id: str, chunk_id: int | None = None) -> str:
    """Link to a paper, landing on (and highlighting) one chunk when given."""
    path = f"/documents/{quote(doc_id, safe='')}"
    return path if chunk_id is None else f"{path}?hl={chunk_id}#chunk-{chunk_id}"


MEDIA_TYPES = {
    "pdf": "application/pdf",
    "txt": "text/plain; charset=utf-8",
    "md": "text/markdown; charset=utf-8",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "html": "text/html",  # sent as an attachment, so the page's own markup never runs here
}


def media_type_for(document: Document) -> str:
    return MEDIA_TYPES.get(document.format, "application/octet-stream")


def document_json(document: Document) -> dict:
    """A paper as the API shows it; the server's file path stays private."""
    meta = document.meta
    return {
        "doc_id": document.doc_id,
        "title": document.title,
        "authority": meta.authority,
        "committee": meta.committee,
        "date": meta.date,
        "reference": meta.reference,
        "source_url": meta.source_url,
        "agenda_item": meta.agenda_item,
        "agenda_item_title": meta.agenda_item_title,
        "decision": meta.decision,
        "fetched_at": meta.fetched_at,
        "ocr_pages": document.ocr_pages,
        "format": document.format,
        "pages": document.pages,
        "chunks": document.chunks,
        "sha256": document.sha256,
        "url": document_href(document.doc_id),
        "file_url": f"{document_href(document.doc_id)}/file",
    }
