"""`scrutiny ingest` end to end over a folder of every kind of bad file beside good ones.

Each bad file must be named with its problem on one line while every good file goes in;
`--strict` must stop at the first bad file and publish nothing.
"""
from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time
import tracemalloc
from dataclasses import dataclass
from pathlib import Path

from click.testing import CliRunner
from pypdf import PdfWriter

from index.store import CURRENT_NAME, IndexReader
from ingest.parse import parse_file
from sample_files import text_pdf, zip_bomb_docx
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
