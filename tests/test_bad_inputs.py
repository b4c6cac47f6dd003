"""`scrutiny ingest` end to end over a folder of every kind of bad file beside good ones.

Each bad file must be named with its problem on one line while every good file goes in;
`--strict` must stop at the first bad file and publish nothing.
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
import tracemalloc
import zipfile
from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import CliRunner
from pypdf import PdfWriter

from index.store import CURRENT_NAME, IndexReader
from ingest.parse import ParseError, parse_file
from sample_files import flate_bomb_pdf, long_pdf, text_pdf, zip_bomb_docx
from ingest.pipeline import discover_files, ingest_paths
from core.settings import load_settings
from server import cli as cli_module

CORPUS = Path(__file__).resolve().parent.parent / "corpus"
SEED = CORPUS / "001_29f912cc4fd0f26b.txt"
SMALL_PDF = CORPUS / "kent_2025-03_cabinet_family-hubs-call-in-report.pdf"
HUGE_PAGES = 520
# A 520-page PDF must parse page by page: the budget is for the text kept, not the whole file's objects.
HUGE_PDF_PEAK_BYTES = 24 * 1024 * 1024
HUGE_PDF_RSS_GROWTH_KB = 64 * 1024
WINDOWS_TEXT = "1. Budget\n1.1 The Council\u2019s budget is \u00a34.2m \u2013 a \u201cfair\u201d settlement for Caf\u00e9 staff.\n"
UTF16_TEXT = "1. Staffing\n1.1 The \u00c9quipe sant\u00e9 reported 17 vacancies in the \u00e9t\u00e9 term.\n"
NON_ASCII_NAME = "Comit\u00e9 paper \u2013 M\u00e4rz 2025.txt"


def scrutiny_cli():
    """The `scrutiny` group with its optional commands, as the installed script builds it."""
    try:
        cli_module.register_optional_commands()
    except ImportError:
        pass
    return cli_module.cli




def huge_pdf(path: Path) -> Path:
    """HUGE_PAGES pages, each with a running header, three paragraphs and a page-counter footer."""
    pages = [[
        "Fostering Panel Report",
        f"Area {page % 12} placement review: the panel reviewed {page * 3 + 7} foster placements.",
        f"Carers in area {page % 12} asked for {page % 5 + 2} more respite weekends this term.",
        f"The panel agreed {page % 4 + 1} actions on matching and stability for the coming quarter.",
        f"Page {page + 1} of {HUGE_PAGES}",
    ] for page in range(HUGE_PAGES)]
    return text_pdf(path, pages)


def blank_pdf(path: Path, pages: int) -> Path:
    writer = PdfWriter()
    for _ in range(pages):
        writer.add_blank_page(width=595, height=842)
    with open(path, "wb") as handle:
        writer.write(handle)
    return path


@dataclass
class BadFile:
    path: Path
    problem: str  # words the one-line error must contain


@dataclass
class Folder:
    root: Path
    good: list[Path]
    bad: list[BadFile]


def folder_of_bad_inputs(root: Path) -> Folder:
    """One good seed paper, good files in awkward forms, and every kind of bad file."""
    root.mkdir(parents=True)
    good = [Path(shutil.copy(SEED, root))]
    good.append(text_pdf(root / "owner only.pdf", [["1. Vacancies", "1.1 The vacancy rate target is 10 per cent."]], ""))
    good.append(huge_pdf(root / "huge.pdf"))
    (root / "windows-1252.txt").write_bytes(WINDOWS_TEXT.encode("cp1252"))
    (root / "utf-16.txt").write_bytes(UTF16_TEXT.encode("utf-16"))
    (root / NON_ASCII_NAME).write_text("1. Purpose\n1.1 Paragraph one of the Comit\u00e9 paper on school transport.\n",
                                       encoding="utf-8")
    good += [root / "windows-1252.txt", root / "utf-16.txt", root / NON_ASCII_NAME]

    (root / "empty.txt").write_bytes(b"")
    truncated = SMALL_PDF.read_bytes()
    (root / "truncated.pdf").write_bytes(truncated[: len(truncated) // 3])
    (root / "corrupt.pdf").write_bytes(b"%PDF-1.7\n" + b"this is not a pdf body at all\n" * 50)
    (root / "binary.pdf").write_bytes(bytes(range(256)) * 64)
    bad = [
        BadFile(root / "empty.txt", "empty file"),
        BadFile(blank_pdf(root / "zero pages.pdf", 0), "PDF has no pages"),
        BadFile(root / "truncated.pdf", "PDF"),
        BadFile(root / "corrupt.pdf", "corrupt or truncated PDF"),
        BadFile(text_pdf(root / "locked.pdf", [["Secret cabinet paper."]], "secret"), "encrypted PDF; it needs a password"),
        BadFile(blank_pdf(root / "scan.pdf", 2), "no text layer; needs OCR"),
        BadFile(root / "binary.pdf", "not a PDF"),
        BadFile(zip_bomb_docx(root / "bomb.docx"), "zip bomb"),
    ]
    return Folder(root, good, bad)


def skipped_lines(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if line.startswith("skipped: ")]


def test_ingest_names_every_bad_file_with_its_problem_and_takes_every_good_one(tmp_path):
    folder = folder_of_bad_inputs(tmp_path / "papers")
    index_dir = tmp_path / "index"
    result = CliRunner().invoke(scrutiny_cli(), ["ingest", str(folder.root), "--index", str(index_dir), "--quiet"])

    assert result.exit_code == 1, result.output
    lines = skipped_lines(result.stderr)
    assert len(lines) == len(folder.bad), lines
    for bad in folder.bad:
        line = next((line for line in lines if line.startswith(f"skipped: {bad.path}: ")), None)
        assert line is not None, (bad.path.name, lines)
        assert bad.problem in line, line
    assert f"{len(folder.good)} added" in result.stdout and f"{len(folder.bad)} skipped" in result.stdout

    reader = IndexReader.open(index_dir)
    assert reader.integrity_problems() == []
    assert {d.doc_id for d in reader.documents()} == {p.stem for p in folder.good}
    assert reader.document("huge").pages == HUGE_PAGES
    texts = {p.stem: " ".join(c.text for c in reader.chunks_of(p.stem)) for p in folder.good}
    assert "\u00a34.2m \u2013 a \u201cfair\u201d settlement for Caf\u00e9 staff" in texts["windows-1252"]
    assert "\u00c9quipe sant\u00e9 reported 17 vacancies" in texts["utf-16"]
    assert "vacancy rate target is 10 per cent" in texts["owner only"]
    assert "reviewed 1564 foster placements" in texts["huge"]
    assert "school transport" in texts[Path(NON_ASCII_NAME).stem]


def test_strict_stops_at_the_first_bad_file_and_publishes_nothing(tmp_path, shared_embedder):
    folder = folder_of_bad_inputs(tmp_path / "papers")
    index_dir = tmp_path / "index"
    seed_only = tmp_path / "seed"
    seed_only.mkdir()
    shutil.copy(SEED, seed_only)
    ingest_paths([seed_only], load_settings(index_dir), shared_embedder)
    published = (index_dir / CURRENT_NAME).read_text()
    folders_before = sorted(p.name for p in index_dir.iterdir())

    result = CliRunner().invoke(scrutiny_cli(), ["ingest", str(folder.root), "--index", str(index_dir), "--quiet", "--strict"])

    assert result.exit_code != 0
    bad_paths = {b.path for b in folder.bad}
    first_bad = next(p for p in discover_files([folder.root]) if p in bad_paths)
    errors = [line for line in result.stderr.splitlines() if line.startswith("error: ")]
    assert errors == [errors[0]] and errors[0].startswith(f"error: {first_bad}: "), result.stderr
    assert not skipped_lines(result.stderr)
    assert (index_dir / CURRENT_NAME).read_text() == published
    assert sorted(p.name for p in index_dir.iterdir()) == folders_before
    assert {d.doc_id for d in IndexReader.open(index_dir).documents()} == {SEED.stem}


def test_a_500_page_pdf_is_generated_fast_and_parsed_in_bounded_memory(tmp_path):
    started = time.perf_counter()
    path = huge_pdf(tmp_path / "huge.pdf")
    assert time.perf_counter() - started < 30

    tracemalloc.start()
    try:
        parsed = parse_file(path)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert len(parsed.pages) == HUGE_PAGES
    assert "reviewed 1564 foster placements" in parsed.pages[519]
    assert peak < HUGE_PDF_PEAK_BYTES, f"peak {peak / 2**20:.1f} MB"

    # Resident memory too, in a fresh interpreter so the peak is this parse's own.
    probe = (
        "import json, resource, sys\n"
        "from ingest.parse import parse_file\n"
        "before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss\n"
        "pages = len(parse_file(sys.argv[1]).pages)\n"
        "print(json.dumps([before, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, pages]))\n"
    )
    output = subprocess.run([sys.executable, "-c", probe, str(path)], capture_output=True, text=True, check=True,
                            cwd=Path(__file__).resolve().parent.parent).stdout
    before_kb, after_kb, pages = json.loads(output.strip().splitlines()[-1])
    assert pages == HUGE_PAGES
    assert after_kb - before_kb < HUGE_PDF_RSS_GROWTH_KB, f"RSS grew {(after_kb - before_kb) / 1024:.0f} MB"


# ---------------------------------------------------------------- one hostile file never stops the rest

LATIN1_NAME = os.fsdecode(b"r\xe9sum\xe9.txt")  # a Latin-1 name from an old share: not valid UTF-8


def ingest_cli(folder: Path, index_dir: Path, *options: str):
    return CliRunner().invoke(scrutiny_cli(), ["ingest", str(folder), "--index", str(index_dir), "--quiet", *options])


def test_a_file_whose_name_is_not_utf8_is_named_safely_and_new_good_files_still_go_in(tmp_path):
    papers = tmp_path / "papers"
    papers.mkdir()
    shutil.copy(SEED, papers)
    index_dir = tmp_path / "index"
    assert ingest_cli(papers, index_dir).exit_code == 0

    (papers / LATIN1_NAME).write_text("1. Purpose\n1.1 A paper saved under a Latin-1 file name.\n", encoding="utf-8")
    (papers / "new-good.txt").write_text("1. Budget\n1.1 The library budget rose by 4 per cent.\n", encoding="utf-8")
    result = ingest_cli(papers, index_dir)

    assert result.exit_code == 1, result.output
    lines = skipped_lines(result.stderr)
    assert len(lines) == 1 and "r\\xe9sum\\xe9.txt: " in lines[0] and "not valid UTF-8" in lines[0], lines
    assert "1 added" in result.stdout
    assert {d.doc_id for d in IndexReader.open(index_dir).documents()} == {SEED.stem, "new-good"}


def test_a_flate_bomb_pdf_is_refused_with_its_name_and_the_limit_and_the_rest_go_in(tmp_path):
    papers = tmp_path / "papers"
    papers.mkdir()
    shutil.copy(SEED, papers)
    bomb = flate_bomb_pdf(papers / "bomb.pdf", inflated_mb=200)
    assert bomb.stat().st_size < 1024 * 1024
    result = ingest_cli(papers, tmp_path / "index")

    assert result.exit_code == 1, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    lines = skipped_lines(result.stderr)
    assert len(lines) == 1 and lines[0].startswith(f"skipped: {bomb}: "), lines
    assert "inflates past 64 MB" in lines[0] and "ingest.max_stream_bytes" in lines[0]
    assert {d.doc_id for d in IndexReader.open(tmp_path / "index").documents()} == {SEED.stem}


def test_whatever_a_parser_raises_is_one_named_line(tmp_path, monkeypatch):
    """A library failing in a way nobody listed (here a damaged Word file's XML) is that file's problem only."""
    papers = tmp_path / "papers"
    papers.mkdir()
    shutil.copy(SEED, papers)
    with zipfile.ZipFile(papers / "odd.docx", "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("word/document.xml", "<w:document><unclosed")
    result = ingest_cli(papers, tmp_path / "index")
    assert result.exit_code == 1, result.output
    lines = skipped_lines(result.stderr)
    assert len(lines) == 1 and lines[0].startswith(f"skipped: {papers / 'odd.docx'}: "), lines
    assert "Traceback" not in result.stderr


@pytest.mark.slow
def test_a_50_mb_single_line_text_file_is_refused_at_the_text_limit_without_holding_up_the_rest(tmp_path):
    papers = tmp_path / "papers"
    papers.mkdir()
    shutil.copy(SEED, papers)
    line = papers / "one-line.txt"
    with open(line, "w", encoding="utf-8") as handle:
        word = "committee " * 10_000
        for _ in range(50 * 1024 * 1024 // len(word) + 1):
            handle.write(word)
    result = run_ingest_process(papers, tmp_path / "index")
    assert result.returncode == 1, result.stderr[-2000:]
    lines = skipped_lines(result.stderr)
    assert len(lines) == 1 and lines[0].startswith(f"skipped: {line}: "), lines
    assert "more than 16 MB of text" in lines[0] and "ingest.max_text_bytes" in lines[0]
    assert {d.doc_id for d in IndexReader.open(tmp_path / "index").documents()} == {SEED.stem}


def run_ingest_process(folder: Path, index_dir: Path, env: dict | None = None, timeout: float = 600):
    """`scrutiny ingest` in its own process; the timeout only turns a hang into a failure."""
    scrutiny = Path(sys.executable).parent / "scrutiny"
    return subprocess.run([str(scrutiny), "ingest", str(folder), "--index", str(index_dir), "--quiet"],
                          capture_output=True, text=True, timeout=timeout, env={**os.environ, **(env or {})})


@pytest.fixture(scope="module")
def two_thousand_page_pdf(tmp_path_factory) -> Path:
    return long_pdf(tmp_path_factory.mktemp("long") / "pack-2000.pdf", 2000)


@pytest.mark.slow
def test_a_2000_page_pdf_is_refused_at_the_page_limit_and_the_rest_go_in(tmp_path, two_thousand_page_pdf):
    papers = tmp_path / "papers"
    papers.mkdir()
    shutil.copy(SEED, papers)
    pack = Path(shutil.copy(two_thousand_page_pdf, papers))
    result = run_ingest_process(papers, tmp_path / "index")
    assert result.returncode == 1, result.stderr[-2000:]
    lines = skipped_lines(result.stderr)
    assert lines == [f"skipped: {pack}: PDF has 2,000 pages; the limit is the setting ingest.max_pdf_pages (1,500)"]
    assert {d.doc_id for d in IndexReader.open(tmp_path / "index").documents()} == {SEED.stem}


@pytest.mark.slow
def test_a_file_that_overruns_the_parse_time_is_stopped_and_named_and_the_rest_go_in(tmp_path, two_thousand_page_pdf):
    papers = tmp_path / "papers"
    papers.mkdir()
    shutil.copy(SEED, papers)
    pack = Path(shutil.copy(two_thousand_page_pdf, papers))
    env = {"SCRUTINY_INGEST__MAX_PDF_PAGES": "5000", "SCRUTINY_INGEST__PARSE_SECONDS": "5"}
    result = run_ingest_process(papers, tmp_path / "index", env)
    assert result.returncode == 1, result.stderr[-2000:]
    assert skipped_lines(result.stderr) == [
        f"skipped: {pack}: took longer than 5 s to read; the limit is the setting ingest.parse_seconds"]
    assert {d.doc_id for d in IndexReader.open(tmp_path / "index").documents()} == {SEED.stem}


def test_a_file_that_needs_more_memory_than_allowed_is_named_and_the_rest_go_in(tmp_path):
    papers = tmp_path / "papers"
    papers.mkdir()
    shutil.copy(SEED, papers)
    big = papers / "big.txt"
    big.write_text("1. Budget\n" + "1.1 The council agreed the budget for libraries and parks.\n" * 200_000, encoding="utf-8")
    settings = load_settings(tmp_path / "index")
    # The reader starts in under 60 MB and this file takes it past 200 MB, so 150 MB is short by a clear margin.
    settings.ingest.parse_memory_mb = 150
    from ingest.worker import ParseWorker

    with ParseWorker(settings) as worker:
        with pytest.raises(ParseError, match=r"ingest.parse_memory_mb") as caught:
            worker.prepare(big, "sha", {})
        assert caught.value.path == str(big)
        # The worker starts afresh and reads the next file.
        assert worker.prepare(papers / SEED.name, "sha", {}).chunks


# ---------------------------------------------------------------- links, odd entries, names and paths


def test_links_are_followed_only_inside_the_corpus_and_every_odd_entry_is_reported(tmp_path, shared_embedder):
    papers = tmp_path / "papers"
    (papers / "sub").mkdir(parents=True)
    shutil.copy(SEED, papers)
    (papers / "sub" / "real.txt").write_text("1. Parks\n1.1 The parks budget was 2 million pounds.\n", encoding="utf-8")
    (papers / "inside.txt").symlink_to(papers / "sub" / "real.txt")
    (papers / "passwd.txt").symlink_to("/etc/passwd")
    (papers / "loop-a.txt").symlink_to(papers / "loop-b.txt")
    (papers / "loop-b.txt").symlink_to(papers / "loop-a.txt")
    (papers / "dangling.pdf").symlink_to(papers / "gone.pdf")
    (papers / "x.pdf").mkdir()
    (papers / "etc-folder").symlink_to("/etc")
    os.mkfifo(papers / "pipe.txt")

    result = CliRunner().invoke(scrutiny_cli(), ["ingest", str(papers), "--index", str(tmp_path / "index"), "--quiet"])
    assert result.exit_code == 1, result.output
    lines = skipped_lines(result.stderr)
    expected = {
        "passwd.txt": "outside", "loop-a.txt": "loop", "loop-b.txt": "loop", "dangling.pdf": "to nothing",
        "x.pdf": "a folder named like a paper", "etc-folder": "outside", "pipe.txt": "not a regular file",
    }
    assert len(lines) == len(expected), lines
    for name, words in expected.items():
        line = next((line for line in lines if line.startswith(f"skipped: {papers / name}: ")), None)
        assert line is not None and words in line, (name, lines)
    reader = IndexReader.open(tmp_path / "index")
    assert {d.doc_id for d in reader.documents()} == {SEED.stem, "real", "inside"}

    from fastapi.testclient import TestClient

    from index.service import Scrutiny
    from server.app import create_app

    settings = load_settings(tmp_path / "index")
    with TestClient(create_app(settings, Scrutiny(settings, shared_embedder))) as client:
        assert client.get("/documents/passwd/file").status_code == 404
        assert b"root:" not in client.get("/documents/passwd/file").content
        assert client.get("/documents/inside/file").text.startswith("1. Parks")


def test_a_duplicate_document_id_names_both_files(tmp_path):
    papers = tmp_path / "papers"
    for folder in ("a", "b"):
        (papers / folder).mkdir(parents=True)
        (papers / folder / "minutes.txt").write_text(f"1. Minutes\n1.1 Minutes of meeting {folder}.\n", encoding="utf-8")
    result = CliRunner().invoke(scrutiny_cli(), ["ingest", str(papers), "--index", str(tmp_path / "index"), "--quiet"])
    assert result.exit_code == 1
    assert skipped_lines(result.stderr) == [
        f"skipped: {papers / 'b' / 'minutes.txt'}: same document id 'minutes' as {papers / 'a' / 'minutes.txt'}; "
        "rename one of them"]


def test_papers_ingested_by_a_relative_path_download_from_any_folder(tmp_path, monkeypatch, shared_embedder):
    from fastapi.testclient import TestClient

    from index.service import Scrutiny
    from server.app import create_app

    (tmp_path / "papers").mkdir()
    shutil.copy(SEED, tmp_path / "papers")
    monkeypatch.chdir(tmp_path)
    settings = load_settings(tmp_path / "index")
    ingest_paths([Path("papers")], settings, shared_embedder)
    stored = IndexReader.open(settings.index_dir).document(SEED.stem).path
    assert Path(stored).is_absolute() and Path(stored) == tmp_path / "papers" / SEED.name

    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    with TestClient(create_app(settings, Scrutiny(settings, shared_embedder))) as client:
        download = client.get(f"/documents/{SEED.stem}/file")
        assert download.status_code == 200 and download.content == SEED.read_bytes()
    # The same folder named absolutely is the same papers: nothing to do.
    assert ingest_paths([tmp_path / "papers"], settings, shared_embedder).unchanged == [SEED.stem]
