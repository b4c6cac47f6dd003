"""Ray ingest on a local 2-CPU Ray started by the test, and `scrutiny serve --workers 2` over Milvus Lite."""
from __future__ import annotations

import http.client
import json
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from core.settings import load_settings
from index.backend import open_view
from index.service import Scrutiny
from ingest.pipeline import ingest_paths
from sample_files import text_pdf

CORPUS = Path(__file__).resolve().parent.parent / "corpus"
SCRUTINY = Path(sys.executable).parent / "scrutiny"
PAPERS = ["000_8455fbcf33d06d16.txt", "001_29f912cc4fd0f26b.txt", "003_eccd24399c49994d.txt",
          "kent_2025-03_cabinet_qpr-q3-2024-25-cover-report.pdf"]
QUESTIONS = ["How many agency social workers did Sunderland have?",
             "What was Peterborough's year to date re-referral percentage?",
             "How many KPIs were rated Red in Kent's Quarter 3 2024/25 report?",
             "What was the target for completing initial assessments within 7 working days by the end of March 2004?"]


@pytest.fixture(scope="module")
def papers(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("ray-papers")
    for name in PAPERS:
        shutil.copy(CORPUS / name, folder / name)
    (folder / "broken.pdf").write_bytes(b"%PDF-1.7\nthis is not a PDF body\n")
    text_pdf(folder / "minutes.pdf", [["Testshire County Council", "Cabinet", "1. The zyzzyva budget is 12 million pounds."]])
    return folder


@pytest.mark.slow
def test_a_ray_ingest_gives_the_same_chunks_and_answers_as_a_plain_one(tmp_path, papers, shared_embedder, monkeypatch):
    import ray

    from ingest.cluster import ingest_on_ray, start_local_ray

    plain = load_settings(tmp_path / "plain")
    on_ray = load_settings(tmp_path / "ray")
    plain_report = ingest_paths([papers], plain, shared_embedder)
    monkeypatch.setenv("RAY_gcs_server_port_wait_time_s", "120")  # what start_local_ray sets, undone after the test
    start_local_ray(num_cpus=2)  # the local 2-CPU cluster
    try:
        ray_report = ingest_on_ray([papers], on_ray, shared_embedder, address=None, workers=2)
    finally:
        ray.shutdown()

    assert ray_report.added == plain_report.added and ray_report.chunks_embedded == plain_report.chunks_embedded > 0
    # A file that cannot be read is named with its problem, as in a plain ingest, and the rest go in.
    assert [s.reason for s in ray_report.skipped] == [s.reason for s in plain_report.skipped] and ray_report.skipped
    first, second = open_view(plain), open_view(on_ray)
    for document in first.documents():
        ours, theirs = first.chunks_of(document.doc_id), second.chunks_of(document.doc_id)
        assert [(c.chunk_id, c.text, c.page, c.section) for c in ours] == [(c.chunk_id, c.text, c.page, c.section) for c in theirs]
        ids = [c.chunk_id for c in ours]
        np.testing.assert_allclose(first.vectors_of(ids), second.vectors_of(ids), atol=1e-4)  # batching differs, the model does not
    plain_register = first.conn.execute("SELECT text, status FROM commitments ORDER BY id").fetchall()
    assert plain_register and second.conn.execute("SELECT text, status FROM commitments ORDER BY id").fetchall() == plain_register
    for question in QUESTIONS:
        assert Scrutiny(on_ray, shared_embedder).ask(question).to_json() == Scrutiny(plain, shared_embedder).ask(question).to_json()


def test_a_local_ray_whose_node_does_not_come_up_is_started_again(monkeypatch):
    # Ray's own start-up time-out cannot be brought about on purpose: its init is replaced here, and nothing else.
    import ray

    from ingest.cluster import start_local_ray

    calls, stops = [], []

    def init(**options):
        calls.append(options)
        if len(calls) < 3:
            raise Exception("The current node timed out during startup. This could happen because ...")

    monkeypatch.setattr(ray, "init", init)
    monkeypatch.setattr(ray, "shutdown", lambda: stops.append(True))
    monkeypatch.setenv("RAY_gcs_server_port_wait_time_s", "120")  # what start_local_ray sets, undone after the test
    start_local_ray(num_cpus=2)
    assert len(calls) == 3 and len(stops) == 2 and calls[-1]["num_cpus"] == 2 and not calls[-1]["include_dashboard"]

    calls.clear()
    with pytest.raises(Exception, match="timed out during startup"):
        start_local_ray(attempts=2, num_cpus=2)  # it gives up after its attempts
    assert len(calls) == 2

    def refuse(**options):
        calls.append(options)
        raise ValueError("num_cpus must be positive")

    calls.clear()
    monkeypatch.setattr(ray, "init", refuse)
    with pytest.raises(ValueError):
        start_local_ray(num_cpus=-1)  # any other error is not retried
    assert len(calls) == 1


def test_a_ray_address_that_is_a_path_is_refused(papers):
    result = subprocess.run([str(SCRUTINY), "ingest", "--ray", str(papers)], capture_output=True, text=True)
    assert result.returncode == 2 and "not a Ray address" in result.stderr


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def get_json(port: int, method: str, path: str, body: dict | None = None) -> tuple[int, dict]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        connection.request(method, path, json.dumps(body) if body else None, {"Content-Type": "application/json"})
        response = connection.getresponse()
        return response.status, json.loads(response.read() or b"{}")
    finally:
        connection.close()


def wait_for_health(process: subprocess.Popen, port: int, log: Path, timeout: float = 240) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert process.poll() is None, log.read_text()
        try:
            status, health = get_json(port, "GET", "/api/health")
            if status == 200 and health.get("index_loaded"):
                return health
        except OSError:
            pass
        time.sleep(0.5)
    raise AssertionError("server did not come up")


def worker_pids(parent: int) -> set[int]:
    children = Path(f"/proc/{parent}/task/{parent}/children")
    return {int(pid) for pid in children.read_text().split()} if children.exists() else set()


@pytest.mark.slow
def test_serve_with_two_workers_over_milvus_lite_answers_and_picks_up_a_new_generation(tmp_path, papers, shared_embedder):
    settings = load_settings(tmp_path / "index")
    settings.backend.kind = "milvus"
    settings.backend.milvus_uri = str(tmp_path / "milvus.db")
    folder = tmp_path / "served"
    folder.mkdir()
    for name in PAPERS[:2]:
        shutil.copy(papers / name, folder / name)
    backend = ["--backend", "milvus", "--milvus-uri", settings.backend.milvus_uri, "--index", str(settings.index_dir)]
    subprocess.run([str(SCRUTINY), "ingest", str(folder), *backend, "--quiet"], check=True, capture_output=True)
    port = free_port()
    log = tmp_path / "serve.log"
    with log.open("w") as out:  # a file, not a pipe: the server's output is shown when the test fails
        process = subprocess.Popen([str(SCRUTINY), "serve", *backend, "--port", str(port), "--workers", "2"],
                                   stdout=out, stderr=subprocess.STDOUT, text=True)
    try:
        lite_server = lite_server_of(process, log)
        health = wait_for_health(process, port, log)
        assert health["documents"] == 2
        time.sleep(2)  # both workers up
        assert len(worker_pids(process.pid)) >= 2
        for _ in range(6):  # spread over both workers
            status, answer = get_json(port, "POST", "/api/ask", {"question": QUESTIONS[0]})
            assert status == 200 and "79" in answer["answer"]

        # Ingest goes through the Lite server the serving process holds (the folder is open there).
        shutil.copy(papers / PAPERS[2], folder / PAPERS[2])
        settings.backend.milvus_lite_server = lite_server
        report = ingest_paths([folder], settings, shared_embedder)
        assert report.added == [Path(PAPERS[2]).stem]
        for _ in range(6):
            status, answer = get_json(port, "POST", "/api/ask", {"question": QUESTIONS[1]})
            assert status == 200 and "21.5%" in answer["answer"], answer["answer"]
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        print(log.read_text())  # pytest shows it for a failed test


def lite_server_of(process: subprocess.Popen, log: Path, timeout: float = 120) -> str:
    """The loopback address `scrutiny serve` printed for its Milvus Lite server."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        said = [line for line in log.read_text().splitlines() if "is served to the workers at" in line]
        if said:
            return said[0].rsplit(" at ", 1)[1].strip()
        assert process.poll() is None, log.read_text()
        time.sleep(0.2)
    raise AssertionError(f"serve did not say where Milvus Lite is served:\n{log.read_text()}")
