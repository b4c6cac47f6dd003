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
