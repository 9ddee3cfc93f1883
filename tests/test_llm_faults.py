"""The openai backend against a fake endpoint of our own: streaming, verification, declining, faults."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time

import pytest
from fake_llm import FakeLLM

from rag.answer.local_llm import free_port
from rag.engine import Engine
from rag.errors import LLMUnavailable
from rag.pipeline import Final, TextPiece
from rag.settings import PROJECT_ROOT
from rag.types import Answer

QUESTION = "How many Indian troops died in the Pathankot attack?"


@pytest.fixture
def fake():
    """A fake OpenAI-compatible server; tests set its mode."""
    server = FakeLLM(answer="The Pathankot attack killed seven Indian troops [1]. It rained [7].")
    yield server
    server.close()


def llm_engine(seeded: Engine, url: str, timeout: float = 2.0) -> Engine:
    """The seeded engine switched to the openai backend at url."""
    return seeded.configured(llm="openai", llm_url=url, llm_timeout=timeout)


def collect(engine: Engine, question: str = QUESTION, **kwargs) -> tuple[list[str], Answer]:
    """The streamed pieces and the final Answer."""
    *pieces, final = engine.ask_stream(question, **kwargs)
    assert all(isinstance(p, TextPiece) for p in pieces) and isinstance(final, Final)
    return [p.text for p in pieces], final.answer


def test_tokens_stream_then_the_verified_answer(seeded, fake):
    pieces, answer = collect(llm_engine(seeded, fake.url))
    assert len(pieces) > 5 and "".join(pieces).startswith("The Pathankot attack killed")
    assert answer.backend == "openai" and answer.answered and answer.notice is None
    assert "[7]" not in answer.answer  # no seventh passage was given
    [citation] = answer.citations
    assert citation.verified and "seven Indian troops" in citation.quote
    assert answer.unsupported == ["It rained."]
    prompt = fake.requests[0]["messages"][1]["content"]
    assert "[1] India and US press Pakistan" in prompt and "2020-09-12" in prompt


def number_of(body: dict, words: str) -> int:
    """The number the prompt gives the passage that contains ``words``."""
    prompt = body["messages"][1]["content"]
    passages = re.split(r"^\[(\d+)\]", prompt, flags=re.MULTILINE)[1:]
    return next(int(n) for n, text in zip(passages[::2], passages[1::2]) if words in text)


def test_a_follow_up_is_condensed_by_the_model_before_retrieval_and_answering(seeded, fake):
    fake.condensed = "Who led the Indian delegation?"
    fake.answer = lambda body: f"Mahaveer Singhvi led the Indian delegation [{number_of(body, 'Singhvi')}]."
    history = [("Who led the US delegation?", "Ambassador Nathan Sales led it [1].")]
    _, answer = collect(llm_engine(seeded, fake.url), "And the Indian one?", history=history)
    assert [r["messages"][0]["content"][:7] for r in fake.requests] == ["Rewrite", "You ans"]
    assert "Nathan Sales" in fake.requests[0]["messages"][1]["content"]
    assert fake.requests[1]["messages"][1]["content"].endswith("Question: Who led the Indian delegation?")
    assert answer.citations[0].verified and "Mahaveer Singhvi" in answer.citations[0].quote


def test_nothing_relevant_declines_without_calling_the_model(seeded, fake):
    _, answer = collect(llm_engine(seeded, fake.url), "Who won the 1998 football world cup final?")
    assert not answer.answered and "do not contain" in answer.answer
    assert fake.requests == []


@pytest.mark.parametrize("mode, reason", [
    ("error", "HTTP 500"),
    ("slow", "no answer within 1 s"),
    ("trickle", "no answer within 1 s"),
    ("garbage", "could not be read"),
])
def test_a_failing_endpoint_gives_the_extractive_answer_and_a_notice(seeded, fake, mode, reason):
    fake.mode, fake.delay = mode, 60.0
    started = time.monotonic()
    pieces, answer = collect(llm_engine(seeded, fake.url, timeout=1.0))
    assert time.monotonic() - started < 20.0  # the slow endpoints would take 60 s or more
    assert reason in answer.notice and "extractive answer instead" in answer.notice
    assert answer.backend == "extractive" and "seven" in answer.answer and answer.citations
    assert answer.answer in "".join(pieces)


def test_an_endpoint_that_is_down_gives_the_extractive_answer(seeded):
    answer = llm_engine(seeded, f"http://127.0.0.1:{free_port()}/v1").ask(QUESTION)
    assert "could not connect" in answer.notice and "seven" in answer.answer


def test_unknown_or_unconfigured_backends_are_clear_errors(engine):
    for llm, message in [("claude", "unknown LLM backend 'claude'"), ("openai", "needs --llm-url"),
                         ("gguf:/nowhere/model.gguf", "GGUF model not found")]:
        with pytest.raises(LLMUnavailable, match=message):
            engine.configured(llm=llm, llm_url=None).ask(QUESTION)


def test_the_cli_reports_a_bad_backend_in_one_line(rag_env):
    done = subprocess.run([sys.executable, "-m", "rag", "ask", "--llm", "nonsense", QUESTION],
                          capture_output=True, text=True, cwd=PROJECT_ROOT,
                          env={**os.environ, "PYTHONPATH": str(PROJECT_ROOT)})
    assert done.returncode == 1
    assert done.stderr.strip().splitlines() == [
        "Error: unknown LLM backend 'nonsense': choose extractive, openai or gguf:PATH"]



def test_the_cli_falls_back_with_a_note_when_the_endpoint_is_down(rag_env):
    url = f"http://127.0.0.1:{free_port()}/v1"
    done = subprocess.run([sys.executable, "-m", "rag", "ask", "--llm", "openai", "--llm-url", url, QUESTION],
                          capture_output=True, text=True, cwd=PROJECT_ROOT,
                          env={**os.environ, "PYTHONPATH": str(PROJECT_ROOT)})
    assert done.returncode == 0 and "seven" in done.stdout and "Sources:" in done.stdout
    assert f"Note: The language model (openai at {url}) failed: could not connect" in done.stderr
    assert "Traceback" not in done.stderr
