"""The extractive answerer: the learned scorer leads with the answer, marks it, and declines.

Real encoder, real Chroma (the seeded index and uploaded files), the shipped scorer parameters.
"""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner
from fastapi.testclient import TestClient

from rag.answer.features import candidates
from rag.api import create_app
from rag.cli import main
from rag.engine import Engine
from rag.types import Answer, Chunk, ScoredChunk

ZORBLAX = """# Zorblax Robotics annual report 2025

---

Zorblax Robotics reported revenue of 12 million dollars in 2025, up from 9 million a year earlier.
The company opened a second factory in Lyon in March.

* * *

## Outlook

Orders for warehouse robots doubled during the second half of the year.
"""
MEETING = ("The joint working group on cyber security met for the fifth time this autumn. The meeting "
           "was held virtually during September 9-10, with officials from both ministries taking part.")


def _span(answer: Answer) -> str:
    """The marked words of the first citation."""
    c = answer.citations[0]
    assert c.answer_span is not None
    start, end = c.answer_span
    assert c.start <= start < end <= c.end  # inside the quote, in document offsets
    return c.quote[start - c.start:end - c.start]


@pytest.mark.parametrize(("question", "marked"), [
    ("How many Indian troops died in the Pathankot attack?", "seven"),
    ("When were the two meetings held?", "September 9 and 10"),
    ("Who led the American delegation?", "Ambassador Nathan Sales"),
    ("Where did the Mumbai gunmen come from?", "Pakistan"),
    ("Which group does India blame for the Pathankot attack?", "JeM"),
])
def test_each_question_type_leads_with_the_sentence_that_answers_and_marks_it(seeded, question, marked):
    answer = seeded.ask(question)
    assert answer.answered
    assert marked in answer.citations[0].quote
    assert _span(answer) == marked


def test_the_mumbai_question_quotes_166_first_and_never_pathankot(seeded):
    answer = seeded.ask("How many people were killed in the Mumbai attacks?")
    assert answer.citations[0].quote == "They killed 166 people, six of them American citizens."
    assert "Pathankot" not in answer.answer
    assert len(answer.citations) <= 2


def test_a_question_the_seed_cannot_answer_is_declined(seeded):
    for question in ("What is the recipe for a chocolate cake?", "How tall is the Eiffel Tower?"):
        answer = seeded.ask(question)
        assert not answer.answered and answer.citations == []
        assert seeded.pipeline.extractive.declines(question, seeded.search(question))


def test_an_uploaded_report_is_answered_and_marked_and_its_headings_never_quoted(
        engine: Engine, tmp_path):
    report = tmp_path / "zorblax.md"
    report.write_text(ZORBLAX, encoding="utf-8")
    engine.index([report])
    revenue = engine.ask("How much revenue did Zorblax Robotics report in 2025?")
    assert revenue.answered and _span(revenue) == "12 million"
    quoted = [c.quote for q in ("What is the Zorblax annual report?", "What is the outlook?")
              for c in engine.ask(q).citations]
    assert not any(q.startswith(("#", "---", "* * *")) or q == "Outlook" for q in quoted)


@pytest.mark.xfail(strict=True, reason="issue 10 target not met yet: the revenue sentence is similar enough "
                   "to the question to pass the scorer's answer threshold")
def test_a_question_the_report_does_not_answer_is_declined(engine: Engine, tmp_path):
    report = tmp_path / "zorblax.md"
    report.write_text(ZORBLAX, encoding="utf-8")
    engine.index([report])
    assert not engine.ask("Who is the CEO of Zorblax?").answered


def test_headings_markup_and_a_repeated_title_are_never_candidates():
    text = ("Gas prices\n# Fuel report\n---\n* * *\nSkip to content\nHome | News | Sport\n"
            "Regular gas now costs $5 a gallon, AAA said.\nShare this story\n")
    chunk = Chunk("c1", "d1", 0, text, 0, len(text), "Gas prices", "feed")
    assert [c.text for c in candidates([ScoredChunk(chunk, 0.9)])] == [
        "Regular gas now costs $5 a gallon, AAA said."]


def test_a_paraphrased_question_is_answered_from_the_sentence_that_says_it(engine: Engine, tmp_path):
    note = tmp_path / "meeting.txt"
    note.write_text(MEETING, encoding="utf-8")
    engine.index([note])
    answer = engine.ask("When was the joint working group meeting held?")
    assert answer.answered
    assert _span(answer) == "September 9-10"


def test_answer_span_is_in_ask_json_the_api_and_v1(seeded, rag_env):
    question = "How many Indian troops died in the Pathankot attack?"
    seeded.close()
    done = CliRunner().invoke(main, ["ask", "--json", question])
    assert done.exit_code == 0, done.output
    cited = json.loads(done.output)["citations"][0]
    assert cited["quote"][cited["answer_span"][0] - cited["start"]:cited["answer_span"][1] - cited["start"]] \
        == "seven"
    engine = Engine(seeded.settings, seeded.embedder)
    with TestClient(create_app(engine.settings, engine)) as client:
        while client.get("/healthz").json()["status"] == "loading":
            pass
        api = client.post("/api/ask", json={"question": question}).json()["citations"][0]
        v1 = client.post("/v1/chat/completions", json={
            "model": "rag", "messages": [{"role": "user", "content": question}]}).json()["citations"][0]
    engine.close()
    assert api["answer_span"] == v1["answer_span"] == cited["answer_span"]


def test_the_chat_window_shows_the_answer_span_in_bold_inside_the_quote(seeded):
    from rag.window.chat import sources_html

    answer = seeded.ask("How many Indian troops died in the Pathankot attack?")
    assert ("<mark class='quote'>The attack killed <b class='answer'>seven</b> Indian troops.</mark>"
            in sources_html(answer.citations))
