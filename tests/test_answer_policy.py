"""What a generated answer shows: filler dropped, unsupported sentences marked or removed, fallbacks."""

from __future__ import annotations

import pytest
from fake_llm import FakeLLM

from rag.answer.extractive import NOT_FOUND
from rag.answer.policy import DECLINED_NOTICE, NO_SUPPORT_NOTICE, states_no_fact
from rag.engine import Engine
from rag.serialize import answer_dict
from rag.types import Answer

QUESTION = "How many Indian troops died in the Pathankot attack?"
TRUE = "The Pathankot attack killed seven Indian troops [1]."
FALSE = "The attack was carried out by forty soldiers from Nepal [1]."


@pytest.fixture
def fake():
    """A fake OpenAI-compatible server; each test sets its answer."""
    server = FakeLLM()
    yield server
    server.close()


def ask(engine: Engine, url: str, strict: bool = False) -> Answer:
    """The final Answer of the openai backend at url."""
    return engine.configured(llm="openai", llm_url=url, llm_timeout=30.0, strict=strict).ask(QUESTION)


def test_filler_that_states_no_fact_is_dropped(seeded, fake):
    fake.answer = f"{TRUE} This information is found in passage [1]."
    answer = ask(seeded, fake.url)
    assert answer.answer == "The Pathankot attack killed seven Indian troops. [1]"
    assert [(s.text, s.supported) for s in answer.sentences] == [
        ("The Pathankot attack killed seven Indian troops.", True)]
    assert answer.unsupported == [] and answer.notice is None


def test_filler_detection():
    assert states_no_fact("This information is found in passage 1.")
    assert states_no_fact("The answer can be found in the provided passages.")
    assert not states_no_fact("The attack killed seven Indian troops.")


def test_an_unsupported_sentence_stays_but_is_flagged(seeded, fake):
    fake.answer = f"{TRUE} {FALSE}"
    answer = ask(seeded, fake.url)
    assert answer.backend == "openai" and answer.answered and answer.notice is None
    assert "forty soldiers from Nepal" in answer.answer
    assert [s.supported for s in answer.sentences] == [True, False]
    assert answer.unsupported == ["The attack was carried out by forty soldiers from Nepal."]
    assert answer_dict(answer)["sentences"][1] == {
        "text": "The attack was carried out by forty soldiers from Nepal.", "supported": False,
        "citations": [2]}


def test_strict_removes_unsupported_sentences(seeded, fake):
    fake.answer = f"{FALSE} {TRUE}"
    answer = ask(seeded, fake.url, strict=True)
    assert answer.answer == "The Pathankot attack killed seven Indian troops. [1]"
    assert [c.verified for c in answer.citations] == [True]
    assert all(s.supported for s in answer.sentences)
    assert answer.unsupported == ["The attack was carried out by forty soldiers from Nepal."]


def test_no_supported_sentence_gives_the_extractive_answer_with_a_notice(seeded, fake):
    fake.answer = FALSE
    answer = ask(seeded, fake.url)
    assert answer.notice == NO_SUPPORT_NOTICE and answer.answered and answer.backend == "extractive"
    assert "seven Indian troops" in answer.answer and all(c.verified for c in answer.citations)
    assert answer.sentences == [] and answer.unsupported == [FALSE.replace(" [1]", "")]


def test_a_model_that_declines_an_answerable_question_is_overruled(seeded, fake):
    fake.answer = NOT_FOUND
    answer = ask(seeded, fake.url)
    assert answer.notice == DECLINED_NOTICE and answer.answered
    assert any("seven Indian troops" in c.quote for c in answer.citations)


def test_an_unanswerable_question_is_declined_before_the_model(seeded, fake):
    fake.answer = FALSE
    answer = seeded.configured(llm="openai", llm_url=fake.url).ask("What is the recipe for a chocolate cake?")
    assert not answer.answered and answer.answer == NOT_FOUND and fake.requests == []
