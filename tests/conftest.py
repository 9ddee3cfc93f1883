"""Shared fixtures: the real MiniLM loaded once, real Chroma folders in temp dirs."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

from rag.embedding import Embedder, shared_embedder
from rag.engine import Engine
from rag.settings import PROJECT_ROOT, Settings

SEEDS = PROJECT_ROOT / "seeds"
SEED_FILE = SEEDS / "india-us-counterterrorism-2020.txt"
PATHANKOT = "How many Indian troops died in the Pathankot attack?"


@pytest.fixture(scope="session")
def embedder() -> Embedder:
    """The bundled all-MiniLM-L6-v2, loaded once for the whole session."""
    model = shared_embedder()
    model.embed(["warm up"])
    return model


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """Settings pointing at a fresh index folder and a copy of the seeds."""
    seeds = tmp_path / "seeds"
    shutil.copytree(SEEDS, seeds)
    return Settings.load(environ={}, index_dir=tmp_path / "index", seeds_dir=seeds,
                         data_dir=tmp_path / "data")


@pytest.fixture
def rag_env(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Settings:
    """RAG_* variables pointing the CLI at the test's folders."""
    monkeypatch.setenv("RAG_INDEX_DIR", str(settings.index_dir))
    monkeypatch.setenv("RAG_SEEDS_DIR", str(settings.seeds_dir))
    monkeypatch.setenv("RAG_DATA_DIR", str(settings.data_dir))
    return settings


@pytest.fixture
def engine(settings: Settings, embedder: Embedder):
    """An engine over an empty real Chroma folder; closed after the test."""
    eng = Engine(settings, embedder=embedder)
    yield eng
    eng.close()


@pytest.fixture
def seeded(engine: Engine) -> Engine:
    """An engine whose index holds the bundled seeds."""
    engine.ensure_index()
    return engine


@pytest.fixture(scope="session")
def milvus_url(tmp_path_factory) -> str:
    """A real ``milvus-lite server`` on a free port in a temp dir for the session: milvus://HOST:PORT."""
    from procs import milvus_lite_server

    with milvus_lite_server(tmp_path_factory.mktemp("milvus")) as url:
        yield url
