"""`scrutiny ask` and the CLI's error style: answers in the process or through a running server, the same
either way; errors as "error: ..." with documented exit codes; no third-party progress bars."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import uvicorn
from click.testing import CliRunner

from server.app import create_app
from server.cli import cli
from server.reuse import SERVER_FILE, announce, announced_server

SUNDERLAND_QUESTION = "How many agency social workers did Sunderland have?"
SCRUTINY = Path(sys.executable).parent / "scrutiny"


def invoke(*args: str):
    return CliRunner().invoke(cli, list(args))


def free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def served_index(tmp_path, corpus_index, corpus_scrutiny):
    """uvicorn serving a copy of the corpus index, announced in its folder as `scrutiny serve` does."""
    settings = corpus_index.model_copy(deep=True)
    settings.index_dir = tmp_path / "index"
    shutil.copytree(corpus_index.index_dir, settings.index_dir)
    port = free_port()
    from index.service import Scrutiny

    app = create_app(settings, Scrutiny(settings, corpus_scrutiny.embedder), listening=("127.0.0.1", port))
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 120
    while not (settings.index_dir / SERVER_FILE).exists() or not server.started:
        assert time.monotonic() < deadline and thread.is_alive(), "the server did not start"
        time.sleep(0.1)
    yield settings, port
    server.should_exit = True
    thread.join(timeout=10)


def test_ask_goes_through_a_running_server_and_prints_the_same_answer(served_index):
    settings, port = served_index
    announced = json.loads((settings.index_dir / SERVER_FILE).read_text())
    assert announced == {"host": "127.0.0.1", "port": port, "pid": os.getpid(), "model": settings.embed.model}
    assert announced_server(settings.index_dir, settings.embed.model) == ("127.0.0.1", port)
    assert announced_server(settings.index_dir, "another-model") is None
    for extra in ([], ["--mode", "bm25", "-k", "3", "--authority", "Sunderland"]):
        through_server = invoke("ask", SUNDERLAND_QUESTION, "--index", str(settings.index_dir), "--json", *extra)
        in_process = invoke("ask", SUNDERLAND_QUESTION, "--index", str(settings.index_dir), "--json", "--no-server", *extra)
        assert through_server.exit_code == 0 and in_process.exit_code == 0, through_server.output + in_process.output
        assert json.loads(through_server.stdout) == json.loads(in_process.stdout)
        assert "79" in json.loads(through_server.stdout)["answer"]


def test_ask_refused_by_the_server_is_the_same_error_as_in_the_process(served_index):
    settings, _ = served_index
    for extra in ([], ["--no-server"]):
        result = invoke("ask", "vacancy rate", "--index", str(settings.index_dir), "--doc", "no_such_paper", *extra)
        assert result.exit_code == 2
        assert result.stderr == "error: no paper with id 'no_such_paper' in the index\n"


def test_a_stale_or_foreign_announcement_is_ignored(tmp_path, corpus_index):
    index_dir = tmp_path / "index"
    shutil.copytree(corpus_index.index_dir, index_dir)
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    (index_dir / SERVER_FILE).write_text(json.dumps({"host": "127.0.0.1", "port": free_port(), "pid": dead.pid,
                                                     "model": corpus_index.embed.model}))
    assert announced_server(index_dir, corpus_index.embed.model) is None
    (index_dir / SERVER_FILE).write_text(json.dumps({"host": "203.0.113.9", "port": 80, "pid": os.getpid(),
                                                     "model": corpus_index.embed.model}))
    assert announced_server(index_dir, corpus_index.embed.model) is None  # only loopback addresses
    (index_dir / SERVER_FILE).write_text("{not json")
    assert announced_server(index_dir, corpus_index.embed.model) is None
    # Alive, on loopback, but nothing listens there: the answer comes from the process.
    announce(index_dir, "127.0.0.1", free_port(), corpus_index.embed.model)
    result = invoke("ask", SUNDERLAND_QUESTION, "--index", str(index_dir), "--json")
    assert result.exit_code == 0 and "79" in json.loads(result.stdout)["answer"]
    assert announce(index_dir, "192.0.2.1", 8000, corpus_index.embed.model) is None


def test_a_server_removes_its_announcement_when_it_stops(tmp_path, corpus_index, corpus_scrutiny):
    from fastapi.testclient import TestClient

    settings = corpus_index.model_copy(deep=True)
    settings.index_dir = tmp_path / "announced"  # the announcement only; the service reads the corpus index
    with TestClient(create_app(settings, corpus_scrutiny, listening=("0.0.0.0", 8123))):
        announced = json.loads((settings.index_dir / SERVER_FILE).read_text())
        assert (announced["host"], announced["port"]) == ("127.0.0.1", 8123)
    assert not (settings.index_dir / SERVER_FILE).exists()


@pytest.mark.parametrize(("args", "message"), [
    (["ask"], "error: Missing argument 'QUESTION'."),
    (["ask", "x", "--mode", "magic"], "error: Invalid value for '--mode': 'magic' is not one of 'hybrid', 'bm25', 'dense'."),
    (["ask", "x", "--since", "March 2005"], "error: --since must be a date like 15/03/2005 or 2005-03-15, not 'March 2005'"),
    (["ask", "x", "--since", "2006-01-01", "--until", "1/1/2005"],
     "error: --since (1 January 2006) is after --until (1 January 2005)"),
    (["ask", "   "], "error: the question is empty"),
    (["nonsense"], "error: No such command 'nonsense'."),
])
def test_every_error_is_printed_the_same_way_with_exit_code_2(args, message):
    result = invoke(*args)
    assert result.exit_code == 2
    assert result.stderr.rstrip().endswith(message), result.stderr
    assert "Error:" not in result.stderr


def test_ask_names_a_council_filter_that_matches_no_paper(corpus_index):
    result = invoke("ask", "agency social workers", "--index", str(corpus_index.index_dir), "--authority", "Narnia",
                    "--no-server")
    assert result.exit_code == 0
    assert "No papers from Narnia are in the index; councils: " in result.stdout


@pytest.mark.slow
def test_a_cold_ask_prints_no_third_party_progress_bar(corpus_index):
    done = subprocess.run([str(SCRUTINY), "ask", SUNDERLAND_QUESTION, "--index", str(corpus_index.index_dir), "--no-server"],
                          capture_output=True, text=True, timeout=300, env={**os.environ, "SCRUTINY_INDEX": ""})
    assert done.returncode == 0, done.stderr
    assert "79" in done.stdout
    assert done.stderr == ""
