"""Shared fixtures: one real index of the whole corpus, built once per session with the real model."""
from __future__ import annotations

from pathlib import Path

import pytest

from core.settings import Settings, load_settings
from ingest.embed import Embedder
from ingest.pipeline import ingest_paths

CORPUS = Path(__file__).resolve().parent.parent / "corpus"


@pytest.fixture(scope="session")
def shared_embedder() -> Embedder:
    """The embedding model, loaded once for every test that builds or queries an index."""
    return Embedder(load_settings().embed)


@pytest.fixture(scope="session")
def corpus_index(tmp_path_factory, shared_embedder) -> Settings:
    """Settings pointing at an index of every paper in corpus/, in a session tmp dir."""
    settings = load_settings(tmp_path_factory.mktemp("corpus-index") / "index")
    report = ingest_paths([CORPUS], settings, shared_embedder)
    assert not report.skipped, report.skipped
    return settings


# ---------------------------------------------------------------- web app

INJECTED_ID = "injected_paper"
INJECTED_TEXT = """Testshire County Council
Libraries Scrutiny Board

1. Purpose
1.1 This report describes the <b>bold</b> library modernisation programme and its spending.

2. Spending
2.1 The council spent 2.5 million pounds on the library modernisation programme in 2023 <script>alert(1)</script> and opened 4 new libraries.
2.2 A further paragraph names <img src=x onerror=alert(2)> as an image that must never load.
"""
INJECTED_META = {
    "authority": "Testshire County Council",
    "committee": "Libraries <i>Scrutiny</i> Board",
    "date": "2024-05-01",
    "title": "Library programme <script>alert('title')</script>",
}


@pytest.fixture(scope="session")
def corpus_scrutiny(corpus_index, shared_embedder):
    from index.service import Scrutiny

    return Scrutiny(corpus_index, shared_embedder)


@pytest.fixture(scope="session")
def client(corpus_index, corpus_scrutiny):
    """The app over the corpus index, in process, with its lifespan run."""
    from fastapi.testclient import TestClient

    from server.app import create_app

    with TestClient(create_app(corpus_index, corpus_scrutiny)) as test_client:
        yield test_client


@pytest.fixture(scope="session")
def injected_index(tmp_path_factory, corpus_index, shared_embedder) -> Settings:
    """The corpus plus one paper whose text and metadata carry HTML and script.

    Starts from a copy of the corpus index, so only the extra paper is embedded.
    """
    import json
    import shutil

    root = tmp_path_factory.mktemp("injected")
    papers = root / "papers"
    papers.mkdir()
    (papers / f"{INJECTED_ID}.txt").write_text(INJECTED_TEXT, encoding="utf-8")
    (papers / f"{INJECTED_ID}.meta.json").write_text(json.dumps(INJECTED_META), encoding="utf-8")
    settings = load_settings(root / "index")
    shutil.copytree(corpus_index.index_dir, settings.index_dir)
    report = ingest_paths([CORPUS, papers], settings, shared_embedder)
    assert report.added == [INJECTED_ID], report
    return settings


@pytest.fixture(scope="session")
def injected_scrutiny(injected_index, shared_embedder):
    from index.service import Scrutiny

    return Scrutiny(injected_index, shared_embedder)


@pytest.fixture(scope="session")
def injected_client(injected_index, injected_scrutiny):
    from fastapi.testclient import TestClient

    from server.app import create_app

    with TestClient(create_app(injected_index, injected_scrutiny)) as test_client:
        yield test_client
