"""Seed questions answered with the right cited sentence; unanswerable ones declined."""

from __future__ import annotations

from conftest import SEED_FILE

from rag.answer.conversation import standalone_query
from rag.answer.extractive import NOT_FOUND


def test_pathankot_question_cites_the_sentence_that_says_seven(seeded):
    answer = seeded.ask("How many Indian troops died in the Pathankot attack?")
    assert answer.answered
    assert "seven" in answer.answer.lower()
    first = answer.citations[0]
    text = SEED_FILE.read_text(encoding="utf-8")
    assert first.quote == text[first.start:first.end]
    assert "seven Indian troops" in first.quote
    assert "[1]" in answer.answer
    assert first.date == "2020-09-12"


def test_every_citation_quote_is_the_document_text_at_its_offsets(seeded):
    text = SEED_FILE.read_text(encoding="utf-8")
    for question in ("Who led the US delegation?", "When was the meeting held?",
                     "Which terrorist groups did both sides name?"):
        answer = seeded.ask(question)
        assert answer.answered, question
        for c in answer.citations:
            assert c.quote == text[c.start:c.end]
            assert c.passage == text[c.passage_start:c.passage_start + len(c.passage)]
            assert f"[{c.n}]" in answer.answer


def test_question_the_seed_cannot_answer_is_declined(seeded):
    answer = seeded.ask("Who won the football world cup final?")
    assert not answer.answered
    assert answer.answer == NOT_FOUND
    assert answer.citations == []


def test_us_delegation_answer_names_nathan_sales(seeded):
    answer = seeded.ask("Who led the US delegation?")
    assert "Nathan Sales" in answer.citations[0].quote


def test_follow_up_uses_the_conversation(seeded):
    history = [("Who led the US delegation?", "Nathan Sales [1]")]
    answer = seeded.ask("And the Indian one?", history=history)
    assert "Mahaveer Singhvi" in answer.citations[0].quote


def test_a_follow_up_about_another_one_becomes_the_previous_question_about_it():
    assert standalone_query("And the Indian one?", [("Who led the American delegation?", "Sales.")]) \
        == "Who led the Indian delegation?"
    assert standalone_query("What about the blue one?", [("What is the price of the red car?", "")]) \
        == "What is the price of the blue car?"
    assert standalone_query("When did it happen?", [("Who won?", "")]) == "Who won? When did it happen?"
    assert standalone_query("And the Indian one?", None) == "And the Indian one?"


def test_citation_lookup_returns_the_quote_in_context(seeded):
    answer = seeded.ask("How many Indian troops died in the Pathankot attack?")
    found = seeded.lookup(answer.citations[0].id)
    text = SEED_FILE.read_text(encoding="utf-8")
    assert found.quote == text[found.start:found.end] == answer.citations[0].quote
    assert found.passage == text[found.passage_start:found.passage_end]
    assert text[:found.passage_start].endswith(found.before)


def test_streamed_pieces_add_up_to_the_answer(seeded):
    *pieces, final = list(seeded.ask_stream("Which terrorist groups did both sides name?"))
    assert "".join(p.text for p in pieces) == final.answer.answer
    assert len(pieces) == len(final.answer.citations) >= 1
