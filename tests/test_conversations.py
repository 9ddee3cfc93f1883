"""Saved conversations in a real SQLite file: answers and citations come back as they were asked."""

from __future__ import annotations

import pytest
from conftest import PATHANKOT

from rag.conversations import ConversationStore
from rag.errors import ConversationNotFound, InvalidRequest


def test_a_conversation_keeps_its_answers_and_citations_in_order(seeded, tmp_path):
    store = ConversationStore.in_folder(tmp_path / "data")
    first, follow = seeded.ask(PATHANKOT), seeded.ask("Who led the US delegation?")
    cid = store.add(None, first, "documents")
    assert store.add(cid, follow, "documents") == cid
    saved = ConversationStore.in_folder(tmp_path / "data").get(cid)  # a new store: read from the file
    assert saved.answers == [first, follow]
    assert saved.summary.title == PATHANKOT and saved.summary.collection == "documents"
    assert saved.history() == [(PATHANKOT, first.answer), ("Who led the US delegation?", follow.answer)]
    assert seeded.lookup(saved.answers[0].citations[0].id).quote == first.citations[0].quote


def test_listed_latest_first_renamed_and_deleted(seeded, tmp_path):
    store = ConversationStore.in_folder(tmp_path)
    older = store.add(None, seeded.ask(PATHANKOT))
    newer = store.add(None, seeded.ask("Who led the US delegation?"))
    assert [s.id for s in store.list()] == [newer, older]
    store.add(older, seeded.ask("And the Indian one?"))
    assert [s.id for s in store.list()] == [older, newer]
    store.rename(older, "  Pathankot\n and delegations ")
    assert store.get(older).summary.title == "Pathankot and delegations"
    store.delete(older)
    assert [s.id for s in store.list()] == [newer]
    with pytest.raises(ConversationNotFound, match="no conversation with id"):
        store.get(older)


def test_unknown_ids_and_empty_titles_are_clear_errors(seeded, tmp_path):
    store = ConversationStore.in_folder(tmp_path)
    for call in (lambda: store.rename("nope", "x"), lambda: store.delete("nope")):
        with pytest.raises(ConversationNotFound):
            call()
    cid = store.add("gone", seeded.ask(PATHANKOT))  # an unknown id starts a new conversation
    assert cid != "gone" and len(store.get(cid).answers) == 1
    with pytest.raises(InvalidRequest, match="title is empty"):
        store.rename(cid, "  ")
