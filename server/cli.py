"""The `scrutiny` command. Heavy libraries are imported inside commands so `--help` stays instant.

Every error is printed as "error: ..." on stderr. Exit codes: 0 done; 1 the command ran but something
failed (papers that could not be ingested, an index `status` finds missing or damaged); 2 it could not
run (a bad option, argument or input file, no index to ask, another ingest holding the index).
"""
from __future__ import annotations

import json
import os
import re
import sys
from pathlib import Path

import click

def _to_environment(variable: str):
    """An option that sets the environment variable the settings read, so it also reaches server worker processes."""
    def store(ctx, param, value):
        if value:
            os.environ[variable] = value
        return value
    return store


def backend_options(command):
    """--backend and --milvus-uri, for every command that opens the index."""
    command = click.option("--milvus-uri", expose_value=False, callback=_to_environment("SCRUTINY_MILVUS_URI"),
                           help="Milvus Lite folder (*.db) or server address (http://host:19530) for --backend milvus "
                                "(default: $SCRUTINY_MILVUS_URI or milvus.db in the index folder).")(command)
    return click.option("--backend", type=click.Choice(["embedded", "milvus"]), expose_value=False,
                        callback=_to_environment("SCRUTINY_BACKEND"),
                        help="Where chunks and vectors live (default: $SCRUTINY_BACKEND or embedded).")(command)


def index_option(command):
    command = click.option(
        "--index", "index_dir", type=click.Path(file_okay=False, path_type=Path), default=None,
        help="Index folder (default: $SCRUTINY_INDEX or ./var/index).",
    )(command)
    return backend_options(command)
mode_choice = click.Choice(["hybrid", "bm25", "dense"])


def filter_options(command):
    for option in reversed([
        click.option("--authority", help="Only papers of this council (substring match)."),
        click.option("--committee", help="Only papers of this committee or meeting (substring match)."),
        click.option("--since", help="Only papers dated on or after this ISO date."),
        click.option("--until", help="Only papers dated on or before this ISO date."),
        click.option("--doc", "doc_id", help="Only this document id."),
    ]):
        command = option(command)
    return command


def settings_for(index_dir: Path | None):
    from core.settings import SettingsError, load_settings

    try:
        return load_settings(index_dir)
    except SettingsError as exc:
        fail(str(exc))


CLI_LABELS = {"authority": "--authority", "committee": "--committee", "since": "--since", "until": "--until",
              "doc_id": "--doc"}


def filters_from(authority, committee, since, until, doc_id):
    from server.validation import checked_filter_values

    return checked_filter_values(authority, committee, since, until, doc_id, CLI_LABELS)


def fail(message: str, code: int = 2) -> None:
    click.echo(f"error: {message}", err=True)
    sys.exit(code)


class ScrutinyGroup(click.Group):
    """click's own usage errors in the same "error: ..." form as the commands' errors."""

    def main(self, args=None, prog_name=None, complete_var=None, standalone_mode=True, **extra):
        if not standalone_mode:
            return super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
        try:
            result = super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
        except click.UsageError as exc:
            if exc.ctx is not None:
                click.echo(exc.ctx.get_usage(), err=True)
                click.echo(f"Try '{exc.ctx.command_path} --help' for help.", err=True)
            fail(exc.format_message(), exc.exit_code)
        except click.ClickException as exc:
            fail(exc.format_message(), exc.exit_code)
        except click.Abort:
            fail("aborted", 1)
        sys.exit(result if isinstance(result, int) else 0)


@click.group(cls=ScrutinyGroup, context_settings={"help_option_names": ["-h", "--help"]})
def cli() -> None:
    """Scrutiny: ask questions of council committee papers and get cited answers."""


@cli.command()
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@index_option
@click.option("--strict", is_flag=True, help="Stop at the first file that cannot be ingested.")
@click.option("--rebuild", is_flag=True, help="Re-embed everything instead of only new or changed files.")
@click.option("--wait", is_flag=True, help="Wait for another running ingest instead of refusing.")
@click.option("--no-ocr", is_flag=True, help="Do not recognise text on scanned PDF pages (pages without a text layer).")
@click.option("--allow-shrink", is_flag=True,
              help="Publish even when the index would lose more than half of its papers (ingest.max_drop_share).")
@click.option("--quiet", is_flag=True, help="No progress output.")
@click.option("--ray", "ray_address", is_flag=False, flag_value="local", default=None, metavar="[ADDRESS]",
              help="Parse and embed on Ray: the cluster at ADDRESS (ray://host:10001, or auto), or a local Ray when none is given.")
@click.option("--ray-workers", type=click.IntRange(1, 1024), default=None,
              help="Embedding actors on Ray, each loading the model once (default 2).")
def ingest(paths, index_dir, strict, rebuild, wait, no_ocr, allow_shrink, quiet, ray_address, ray_workers):
    """Parse, chunk and embed papers into the index (default: ./corpus).

    Only new or changed files are embedded; papers whose files are gone are dropped.
    Exits 1 when some files could not be ingested (each is named with its problem), or
    when the index cannot be written (one line saying what to do; the previous index stays).
    """
    from ingest.parse import ParseError
    from index.milvus import MilvusUnavailable
    from index.store import IndexBusy, IndexError_
    from server.progress import progress_for

    if ray_address and not re.fullmatch(r"local|auto|[a-z]+://\S+|[\w.-]+:\d+", ray_address):
        fail(f"--ray {ray_address}: not a Ray address (ray://host:10001, host:6379 or auto); put the papers' paths before --ray")
    settings = settings_for(index_dir)
    settings.ocr.enabled = settings.ocr.enabled and not no_ocr
    paths = list(paths) or [settings.corpus_dir]
    from ingest.embed import Embedder
    from ingest.pipeline import ingest_paths

    embedder = Embedder(settings.embed)
    options = dict(strict=strict, rebuild=rebuild, wait=wait, allow_shrink=allow_shrink)
    try:
        with progress_for(sys.stderr, enabled=not quiet) as progress:
            if ray_address:
                from ingest.cluster import ingest_on_ray

                report = ingest_on_ray(paths, settings, embedder, ray_address, ray_workers, progress=progress, **options)
            else:
                report = ingest_paths(paths, settings, embedder, progress=progress, **options)
    except ParseError as exc:
        fail(str(exc), 1)
    except (IndexBusy, MilvusUnavailable, FileNotFoundError) as exc:
        fail(str(exc))
    except IndexError_ as exc:
        fail(str(exc), 1)
    rate = report.chunks_embedded / report.embed_seconds if report.embed_seconds else 0.0
    click.echo(
        f"Ingested {report.files} files into {settings.index_dir} ({report.generation}): "
        f"{len(report.added)} added, {len(report.updated)} updated, {len(report.unchanged)} unchanged, "
        f"{len(report.removed)} removed, {len(report.skipped)} skipped; "
        f"{report.chunks_total} chunks in the index, {report.chunks_embedded} embedded "
        f"({rate:.0f} chunks/s) in {report.seconds:.1f} s."
    )
    for damage in report.repaired:
        click.echo(f"repaired: the published index was damaged ({damage}) and has been rebuilt", err=True)
    for skipped in report.skipped:
        click.echo(f"skipped: {skipped.reason}", err=True)
    sys.exit(1 if report.failed else 0)


CONFIDENCE_LABELS = {"answer": "answer", "possible": "possible answer: check the source", "not_found": "not found"}


def print_answer(record: dict) -> None:
    """The answer record as text: how a follow-up was read, any notice, the answer and its confidence, then
    each passage with where it comes from."""
    if record.get("read_as"):
        click.echo(f"Read as: {record['read_as']}")
    if record.get("notice"):
        click.echo(record["notice"])
    click.echo(record["answer"])
    click.echo(f"Confidence: {CONFIDENCE_LABELS[record['confidence']]} ({record['score']:.2f})")
    if record["citations"]:
        click.echo()
    for number, citation in enumerate(record["citations"], start=1):
        where = ", ".join(p for p in (
            f"p. {citation['page']}" if citation.get("page") else None,
            f"section {citation['section']}" if citation.get("section") else None,
        ) if p)
        parts = (citation.get("authority"), citation.get("committee"), citation.get("date"), citation.get("title"), where)
        click.echo(f"[{number}] {' | '.join(p for p in parts if p)}  ({citation['doc_id']})")
        text, highlight = citation["text"], citation.get("highlight")
        excerpt = text[max(0, highlight[0] - 200): highlight[1] + 200] if highlight else text[:400]
        click.echo("    " + " ".join(excerpt.split()))


def local_answer(settings, question: str, filters, mode, k, history) -> dict:
    """The answer computed in this process: loads the model and opens the index."""
    from index.service import Scrutiny
    from server.asking import answer_record
    from server.routes.common import checked_filters

    scrutiny = Scrutiny(settings)
    filters = checked_filters(scrutiny.documents, **vars(filters), labels=CLI_LABELS)
    return answer_record(scrutiny, question, filters, mode, k, history)


def server_answer(settings, question: str, filters, mode, k, history) -> dict | None:
    """The answer from a `scrutiny serve` already running over this index, or None when there is none."""
    from server.reuse import announced_server, asked_by_server

    address = announced_server(settings.index_dir, settings.embed.model)
    if address is None:
        return None
    payload = {"question": question, "filters": {name: value for name, value in vars(filters).items() if value},
               "mode": mode, "k": k, "history": [vars(turn) for turn in history]}
    return asked_by_server(address, payload)


@cli.command()
@click.argument("question")
@index_option
@click.option("--mode", type=mode_choice, default=None, help="Retriever: hybrid (default), bm25 or dense.")
@click.option("-k", "--k", "k", type=click.IntRange(1, 50), default=None, help="Passages to retrieve (default 5).")
@filter_options
@click.option("--after", "history", multiple=True, metavar="QUESTION",
              help="An earlier question of the conversation (repeat, oldest first): QUESTION may follow up on it.")
@click.option("--json", "as_json", is_flag=True, help="Print the answer as JSON.")
@click.option("--no-server", is_flag=True, help="Answer in this process even when a server over the index is running.")
def ask(question, index_dir, mode, k, authority, committee, since, until, doc_id, history, as_json, no_server):
    """Answer QUESTION with quotations from the papers and their citations.

    When `scrutiny serve` is running over the same index, the question goes to it (same answer, no model
    to load); otherwise it is answered here.
    """
    from server.asking import Turn
    from server.reuse import ServerRefused
    from server.validation import ValidationError, checked_question

    settings = settings_for(index_dir)
    try:
        question = checked_question(question)
        filters = filters_from(authority, committee, since, until, doc_id)
        turns = [Turn(checked_question(earlier)) for earlier in history]
        record = None if no_server else server_answer(settings, question, filters, mode, k, turns)
        if record is None:
            from index.store import IndexError_

            try:
                record = local_answer(settings, question, filters, mode, k, turns)
            except IndexError_ as exc:
                fail(str(exc))
    except (ValidationError, ServerRefused) as exc:
        fail(str(exc))
    if as_json:
        click.echo(json.dumps(record, indent=2, ensure_ascii=False))
    else:
        print_answer(record)


@cli.command()
@click.argument("query")
@index_option
@click.option("--mode", type=mode_choice, default=None, help="Retriever: hybrid (default), bm25 or dense.")
@click.option("-k", "--k", "k", type=click.IntRange(1, 100), default=10, help="Passages to list.")
@filter_options
@click.option("--json", "as_json", is_flag=True, help="Print the passages as JSON.")
def search(query, index_dir, mode, k, authority, committee, since, until, doc_id, as_json):
    """List the passages that best match QUERY, without composing an answer."""
    from index.answer import citation_for
    from index.service import Scrutiny
    from index.store import IndexError_
    from server.validation import ValidationError, checked_question

    try:
        query = checked_question(query)
        hits = Scrutiny(settings_for(index_dir)).search(query, filters_from(authority, committee, since, until, doc_id), mode, k)
    except (ValidationError, IndexError_) as exc:
        fail(str(exc))
    if as_json:
        click.echo(json.dumps([citation_for(hit, None).to_json() for hit in hits], indent=2, ensure_ascii=False))
        return
    for rank, hit in enumerate(hits, start=1):
        click.echo(f"{rank:>2}. {hit.score:.3f} {hit.document.doc_id} p.{hit.chunk.page or '-'} s.{hit.chunk.section or '-'}: "
                   + " ".join(hit.chunk.text.split())[:160])


@cli.command()
@index_option
@click.option("--json", "as_json", is_flag=True, help="Print as JSON.")
def status(index_dir, as_json):
    """Show the index: documents, chunks, model, and whether SQLite and FAISS agree."""
    from index.backend import open_view
    from index.store import IndexError_

    settings = settings_for(index_dir)
    try:
        reader = open_view(settings)
    except IndexError_ as exc:
        fail(str(exc), 1)
    info = {**reader.stats(), "index": str(settings.index_dir), "problems": reader.integrity_problems()}
    if as_json:
        click.echo(json.dumps(info, indent=2))
    else:
        for key, value in info.items():
            click.echo(f"{key}: {value}")
    sys.exit(1 if info["problems"] else 0)


@cli.group()
def fetch() -> None:
    """Download committee papers from a council's website into a folder, ready for `scrutiny ingest`."""


@fetch.command("moderngov")
@click.argument("base_url")
@click.option("--committee", "committees", multiple=True, metavar="NAME_OR_ID",
              help="A committee's name (or a unique part of it) or id; repeat for several (default: every current committee).")
@click.option("--since", help="First meeting date, 2025-01-31 or 31/01/2025 (default: a year ago).")
@click.option("--until", help="Last meeting date, 2025-01-31 or 31/01/2025 (default: a year ahead).")
@click.option("--into", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Folder for the papers (default: corpus/<council>/).")
@click.option("--authority", help="The council's name for the papers' metadata (default: read from the site).")
@click.option("--dry-run", is_flag=True, help="List what would be fetched; download nothing.")
@click.option("--delay", type=click.FloatRange(min=0), default=None, help="Seconds between requests (default 1).")
@click.option("--timeout", type=click.FloatRange(min=0.1), default=None, help="Seconds to wait for a response (default 60).")
@click.option("--retries", type=click.IntRange(min=0), default=None, help="Further attempts after a timeout or a 5xx answer (default 4).")
@click.option("--quiet", is_flag=True, help="No progress bar.")
def fetch_moderngov_command(base_url, committees, since, until, into, authority, dry_run, delay, timeout, retries, quiet):
    """Fetch the public papers of a ModernGov site (BASE_URL, e.g. https://democracy.example.gov.uk).

    Lists the committees, their meetings between --since and --until and each meeting's documents,
    downloads the public ones one request at a time, and writes each paper's metadata beside it
    (<file>.meta.json). Decisions and minutes published as web pages become papers too. Documents
    already fetched are not fetched again, so an interrupted run resumes where it stopped.
    Exits 1 when some documents could not be fetched (each is named).
    """
    from core.settings import load_settings
    from fetch.connector import FetchRequest, fetch_moderngov, summary_lines
    from fetch.moderngov import SiteError
    from server.progress import RichProgress
    from server.validation import ValidationError, checked_iso_date

    settings = load_settings().fetch
    settings.delay = settings.delay if delay is None else delay
    settings.timeout = settings.timeout if timeout is None else timeout
    settings.retries = settings.retries if retries is None else retries
    try:
        request = FetchRequest(base_url, list(committees), checked_iso_date(since, "--since"),
                               checked_iso_date(until, "--until"), into, authority, dry_run)
        with RichProgress(enabled=not quiet and not dry_run) as progress:
            report = fetch_moderngov(request, settings, progress)
    except (ValidationError, SiteError) as exc:
        fail(str(exc))
    except OSError as exc:
        fail(f"cannot write the papers: {exc}", 1)
    if dry_run:
        for paper in report.papers:
            item = f" item {paper.item.number}:" if paper.item and paper.item.number and paper.kind == "document" else ""
            click.echo(f"{paper.status:<12} {paper.meeting.date} {paper.meeting.committee.title}{item} {paper.title}"
                       + (f"  {paper.url}" if paper.url else ""))
    for line in [*report.notes, *summary_lines(report, dry_run)]:
        click.echo(line)
    for failure in report.failures:
        click.echo(f"failed: {failure}", err=True)
    sys.exit(1 if report.failed else 0)


def limit_malloc_arenas(arenas: int = 2) -> None:
    """Cap glibc's per-thread malloc arenas: request threads otherwise each keep their own, and the
    server's memory settles hundreds of megabytes higher for no gain (measured by bench/load.py)."""
    import ctypes
    import ctypes.util

    libc_name = ctypes.util.find_library("c")
    if libc_name:
        try:
            ctypes.CDLL(libc_name).mallopt(-8, arenas)  # M_ARENA_MAX
        except (OSError, AttributeError):
            pass


@cli.command()
@index_option
@click.option("--host", default=None, help="Address to bind (default 127.0.0.1).")
@click.option("--port", type=int, default=None, help="Port (default 8000).")
@click.option("--workers", type=click.IntRange(1, 64), default=None,
              help="Server processes, each loading the model once and reopening the index when it changes (default 1).")
def serve(index_dir, host, port, workers):
    """Serve the chat page and the JSON API with uvicorn."""
    import uvicorn

    from server.app import create_app

    settings = settings_for(index_dir)
    limit_malloc_arenas()
    host = host or settings.server.host
    port = port or settings.server.port
    workers = workers or settings.server.workers
    click.echo(f"Loading the model and the index, then serving Scrutiny on http://{host}:{port} (index {settings.index_dir}, "
               f"{settings.backend.kind} backend, {workers} worker{'s' if workers > 1 else ''})", err=True)
    if workers == 1:
        uvicorn.run(create_app(settings, listening=(host, port)), host=host, port=port, log_level="info")
        return
    # Worker processes build their app from the environment, which carries the index and backend options.
    os.environ["SCRUTINY_INDEX"] = str(settings.index_dir)
    os.environ["SCRUTINY_SERVER__HOST"], os.environ["SCRUTINY_SERVER__PORT"] = host, str(port)  # each worker announces it
    lite_folder = shared_milvus_lite(settings)
    if lite_folder:
        click.echo(f"Milvus Lite {lite_folder} is served to the workers at {os.environ['SCRUTINY_MILVUS_LITE_SERVER']}", err=True)
    uvicorn.run("server.app:app_from_environment", factory=True, host=host, port=port, workers=workers, log_level="info",
                timeout_worker_healthcheck=settings.server.worker_healthcheck)


def shared_milvus_lite(settings) -> str | None:
    """A Milvus Lite folder may be open in one process only: with several workers, this process serves it
    (milvus-lite's gRPC server, on a free loopback port) and the workers connect to that."""
    if settings.backend.kind != "milvus" or settings.backend.milvus_lite_server:
        return None
    from index.milvus import milvus_uri

    folder = milvus_uri(settings)
    if not folder.endswith(".db"):
        return None
    from milvus_lite.server_manager import server_manager_instance

    os.environ["SCRUTINY_MILVUS_LITE_SERVER"] = server_manager_instance.start_and_get_uri(folder)
    return folder


def register_optional_commands() -> None:
    """Commands that live beside their own stage: evaluation and the commitments register."""
    from evaluation.cli import eval_command, fit_command
    from commitments.cli import commitments_command

    cli.add_command(eval_command, "eval")
    cli.add_command(fit_command, "fit")
    cli.add_command(commitments_command, "commitments")


def main() -> None:
    register_optional_commands()
    cli()


if __name__ == "__main__":
    main()
