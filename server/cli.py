"""The `scrutiny` command. Heavy libraries are imported inside commands so `--help` stays instant."""
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
    from core.settings import load_settings

    return load_settings(index_dir)


def filters_from(authority, committee, since, until, doc_id):
    from core.records import Filters
    from server.validation import checked_iso_date

    return Filters(authority=authority, committee=committee, since=checked_iso_date(since, "--since"),
                   until=checked_iso_date(until, "--until"), doc_id=doc_id)


def fail(message: str, code: int = 2) -> None:
    click.echo(f"error: {message}", err=True)
    sys.exit(code)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def cli() -> None:
    """Scrutiny: ask questions of council committee papers and get cited answers."""


@cli.command()
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@index_option
@click.option("--strict", is_flag=True, help="Stop at the first file that cannot be ingested.")
@click.option("--rebuild", is_flag=True, help="Re-embed everything instead of only new or changed files.")
@click.option("--wait", is_flag=True, help="Wait for another running ingest instead of refusing.")
@click.option("--quiet", is_flag=True, help="No progress bars.")
@click.option("--ray", "ray_address", is_flag=False, flag_value="local", default=None, metavar="[ADDRESS]",
              help="Parse and embed on Ray: the cluster at ADDRESS (ray://host:10001, or auto), or a local Ray when none is given.")
@click.option("--ray-workers", type=click.IntRange(1, 1024), default=None,
              help="Embedding actors on Ray, each loading the model once (default 2).")
def ingest(paths, index_dir, strict, rebuild, wait, quiet, ray_address, ray_workers):
    """Parse, chunk and embed papers into the index (default: ./corpus).

    Only new or changed files are embedded; papers whose files are gone are dropped.
    Exits 1 when some files could not be ingested (each is named with its problem).
    """
    from ingest.parse import ParseError
    from index.store import IndexError_
    from server.progress import RichProgress

    if ray_address and not re.fullmatch(r"local|auto|[a-z]+://\S+|[\w.-]+:\d+", ray_address):
        fail(f"--ray {ray_address}: not a Ray address (ray://host:10001, host:6379 or auto); put the papers' paths before --ray")
    settings = settings_for(index_dir)
    paths = list(paths) or [settings.corpus_dir]
    from ingest.embed import Embedder
    from ingest.pipeline import ingest_paths

    embedder = Embedder(settings.embed)
    options = dict(strict=strict, rebuild=rebuild, wait=wait)
    try:
        with RichProgress(enabled=not quiet) as progress:
            if ray_address:
                from ingest.cluster import ingest_on_ray

                report = ingest_on_ray(paths, settings, embedder, ray_address, ray_workers, progress=progress, **options)
            else:
                report = ingest_paths(paths, settings, embedder, progress=progress, **options)
    except ParseError as exc:
        fail(str(exc), 1)
    except (IndexError_, FileNotFoundError) as exc:
        fail(str(exc))
    rate = report.chunks_embedded / report.embed_seconds if report.embed_seconds else 0.0
    click.echo(
        f"Ingested {report.files} files into {settings.index_dir} ({report.generation}): "
        f"{len(report.added)} added, {len(report.updated)} updated, {len(report.unchanged)} unchanged, "
        f"{len(report.removed)} removed, {len(report.skipped)} skipped; "
        f"{report.chunks_total} chunks in the index, {report.chunks_embedded} embedded "
        f"({rate:.0f} chunks/s) in {report.seconds:.1f} s."
    )
    for skipped in report.skipped:
        click.echo(f"skipped: {skipped.reason}", err=True)
    sys.exit(1 if report.failed else 0)


def print_answer(answer) -> None:
    click.echo(answer.answer)
    if answer.citations:
        click.echo()
    for number, citation in enumerate(answer.citations, start=1):
        where = ", ".join(p for p in (
            f"p. {citation.page}" if citation.page else None,
            f"section {citation.section}" if citation.section else None,
        ) if p)
        source = " | ".join(p for p in (citation.authority, citation.committee, citation.date, citation.title, where) if p)
        click.echo(f"[{number}] {source}  ({citation.doc_id})")
        if citation.highlight:
            start, end = citation.highlight
            excerpt = citation.text[max(0, start - 200): end + 200]
        else:
            excerpt = citation.text[:400]
        click.echo("    " + " ".join(excerpt.split()))


@cli.command()
@click.argument("question")
@index_option
@click.option("--mode", type=mode_choice, default=None, help="Retriever: hybrid (default), bm25 or dense.")
@click.option("-k", "--k", "k", type=click.IntRange(1, 50), default=None, help="Passages to retrieve (default 5).")
@filter_options
@click.option("--json", "as_json", is_flag=True, help="Print the answer as JSON.")
def ask(question, index_dir, mode, k, authority, committee, since, until, doc_id, as_json):
    """Answer QUESTION with quotations from the papers and their citations."""
    from index.service import Scrutiny
    from index.store import IndexError_
    from server.validation import ValidationError, checked_question

    try:
        question = checked_question(question)
        filters = filters_from(authority, committee, since, until, doc_id)
        answer = Scrutiny(settings_for(index_dir)).ask(question, filters, mode, k)
    except (ValidationError, IndexError_) as exc:
        fail(str(exc))
    if as_json:
        click.echo(json.dumps(answer.to_json(), indent=2, ensure_ascii=False))
    else:
        print_answer(answer)


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
    click.echo(f"Serving Scrutiny on http://{host}:{port} (index {settings.index_dir}, {settings.backend.kind} backend, "
               f"{workers} worker{'s' if workers > 1 else ''})", err=True)
    if workers == 1:
        uvicorn.run(create_app(settings), host=host, port=port, log_level="info")
        return
    # Worker processes build their app from the environment, which carries the index and backend options.
    os.environ["SCRUTINY_INDEX"] = str(settings.index_dir)
    lite_folder = shared_milvus_lite(settings)
    if lite_folder:
        click.echo(f"Milvus Lite {lite_folder} is served to the workers at {os.environ['SCRUTINY_MILVUS_LITE_SERVER']}", err=True)
    uvicorn.run("server.app:app_from_environment", factory=True, host=host, port=port, workers=workers, log_level="info")


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
    from evaluation.cli import eval_command
    from commitments.cli import commitments_command

    cli.add_command(eval_command, "eval")
    cli.add_command(commitments_command, "commitments")


def main() -> None:
    register_optional_commands()
    cli()


if __name__ == "__main__":
    main()
