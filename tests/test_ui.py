"""The chat window's handlers over a real engine: answers, sources, citations, uploads, human errors."""

from __future__ import annotations

from dataclasses import replace

import gradio as gr
import pytest
from conftest import PATHANKOT

from rag.answer.conversation import history_pairs
from rag.conversations import ConversationStore
from rag.errors import NotReady
from rag.roles import NEED_WRITE
from rag.types import Answer, Sentence
from rag.window import chat as ui
from rag.window import conversations, documents

WRITER, READER = gr.Request(username="write"), gr.Request(username="read")


def getter(engine):
    """An engine getter as the window receives it: here one engine whatever the collection."""
    return lambda collection=None: engine


@pytest.fixture
def store(tmp_path) -> ConversationStore:
    return ConversationStore.in_folder(tmp_path / "data")


def run(get_engine, store, message, messages=(), conversation_id=None):
    """Every update the chat handler yields."""
    return list(ui.respond(get_engine, store, message, list(messages), conversation_id, "documents"))


def test_an_answer_streams_into_the_chat_then_shows_sources_and_choices(seeded, store):
    updates = run(getter(seeded), store, PATHANKOT)
    chat, _, sources, choices, notice, cid = updates[-1]
    assert chat[0] == {"role": "user", "content": PATHANKOT}
    assert "seven" in chat[1]["content"] and "[1]" in chat[1]["content"]
    assert updates[0][1] == "" and notice == ""
    assert "<mark class='quote'>The attack killed <b class='answer'>seven</b> Indian troops.</mark>" \
        in sources
    assert "2020-09-12" in sources and "may not support" not in sources
    assert choices.choices[0][0].startswith("[1] India and US press Pakistan")
    assert store.get(cid).answers[0].answer == chat[1]["content"]


def test_each_turn_is_saved_and_reopens_with_its_sources(seeded, store):
    first = run(getter(seeded), store, "Who led the US delegation?")[-1]
    as_gradio_sends_it = [{"role": m["role"], "content": [{"type": "text", "text": m["content"]}]}
                          for m in first[0]]
    chat, _, sources, _, _, cid = run(getter(seeded), store, "And the Indian one?", as_gradio_sends_it,
                                      first[-1])[-1]
    assert cid == first[-1] and "Singhvi" in chat[-1]["content"]  # the follow-up used the history
    reopened, panel, choices, _, same, collection, notice = conversations.reopen(store, cid)
    assert history_pairs(reopened) == history_pairs(chat) and len(reopened) == 4
    assert panel == sources and same == cid and notice == ""
    assert collection == "documents"
    assert len(choices.choices) == len(store.get(cid).answers[-1].citations)
    assert [label.split(" · ")[0] for label, _ in conversations.listing(store).choices] == [
        "Who led the US delegation?"]


def test_a_deleted_conversation_reopens_empty_with_a_message(seeded, store):
    cid = run(getter(seeded), store, PATHANKOT)[-1][-1]
    conversations.delete(store, cid)
    chat, sources, _, _, same, _, notice = conversations.reopen(store, cid)
    assert chat == [] and sources == "" and same is None and "No conversation with id" in notice


def test_the_chosen_citation_opens_in_its_document(seeded):
    answer = seeded.ask(PATHANKOT)
    context, notice = ui.open_citation(getter(seeded), answer.citations[0].id, None)
    assert "<mark class='quote'>The attack killed seven Indian troops.</mark>" in context
    assert f"characters {answer.citations[0].start}-" in context and notice == ""


def test_unverified_citations_look_different(seeded):
    cited = seeded.ask(PATHANKOT).citations[0]
    html = ui.sources_html([cited, replace(cited, n=2, verified=False)])
    verified_card, unverified_card = html.split("<div class='source")[2:]
    assert verified_card.startswith("' id=") and "may not support" not in verified_card
    assert unverified_card.startswith(" unverified'") and "may not support the sentence" in unverified_card
    assert ui.citation_choices([replace(cited, verified=False)]).choices[0][0].endswith("(unverified)")


def test_titles_and_passages_are_escaped(seeded):
    cited = replace(seeded.ask(PATHANKOT).citations[0], title="<script>alert(1)</script>")
    assert "<script>" not in ui.sources_html([cited]) and "&lt;script&gt;" in ui.sources_html([cited])


def test_an_empty_question_gets_a_message_and_no_turn(seeded, store):
    [(chat, _, _, _, notice, _)] = run(getter(seeded), store, "  ")
    assert chat == [] and notice == "Type a question first." and store.list() == []


def test_an_internal_error_is_a_sentence_without_the_trace(store, caplog):
    def broken(collection=None):
        raise RuntimeError("boom at /srv/secret/path")

    chat, box, _, _, notice, _ = run(broken, store, PATHANKOT)[-1]
    assert notice == "Something went wrong on our side; the server log has the details."
    assert chat == [] and box == PATHANKOT  # the question is given back to retry
    assert "boom at /srv/secret/path" in caplog.text


def test_while_loading_the_window_says_so(store):
    def loading(collection=None):
        raise NotReady("the server is still loading the model and the index; try again in a moment")

    notice = run(loading, store, PATHANKOT)[-1][-2]
    assert notice.startswith("The server is still loading") and notice.endswith(".")


def test_upload_reports_each_file_as_it_goes_then_deletes(seeded, tmp_path):
    good = tmp_path / "lighthouse.txt"
    good.write_text("The lighthouse keeper counted forty-two ships in March.", encoding="utf-8")
    bad = tmp_path / "tool.exe"
    bad.write_bytes(b"MZ\x90\x00")
    quiet = lambda *a, **k: None  # noqa: E731
    updates = list(documents.upload(getter(seeded), [str(good), str(bad)], None, WRITER, quiet))
    assert updates[0][0] == "- **lighthouse.txt**: indexing…\n- **tool.exe**: waiting"
    report, notice = updates[-1]
    assert notice == ""
    assert "**lighthouse.txt**: added (1 passage embedded)" in report
    assert "**tool.exe**: not indexed: 'tool.exe': unsupported file type .exe" in report
    table, choices, _ = documents.show(getter(seeded), None)
    assert "Lighthouse" in table and "2 documents" in table and len(choices.choices) == 2
    doc_id = next(value for label, value in choices.choices if label.startswith("Lighthouse"))
    assert f"<code>{doc_id}</code>" in table
    assert documents.delete(getter(seeded), doc_id, None, READER)[1].startswith("this token may read")
    deleted = documents.delete(getter(seeded), doc_id, None, WRITER)
    assert deleted == ("Deleted **Lighthouse** (1 passage).", "")
    assert "Lighthouse" not in documents.show(getter(seeded), None)[0]


def test_the_read_role_cannot_upload_from_the_window_and_sees_no_upload(seeded, tmp_path):
    note = tmp_path / "otters.txt"
    note.write_text("Otters hold hands while they sleep.", encoding="utf-8")
    before = seeded.documents()
    updates = list(documents.upload(getter(seeded), [str(note)], None, READER, lambda *a, **k: None))
    assert updates == [("", NEED_WRITE)] and seeded.documents() == before
    assert [u["visible"] for u in documents.writers_only(READER)] == [False, False]
    assert [u["visible"] for u in documents.writers_only(WRITER)] == [True, True]


def test_an_unknown_citation_is_a_message(seeded):
    context, notice = ui.open_citation(getter(seeded), "0123456789abcdef-1-2", None)
    assert context == "" and "no longer indexed" in notice


def test_unsupported_sentences_are_struck_and_labelled_in_the_chat():
    answer = Answer(question="q", answer="Seven died. [1] It rained <b>hard</b>. [2]", answered=True,
                    notice="Model slow.", unsupported=["It rained <b>hard</b>."],
                    sentences=[Sentence("Seven died.", True, [1]),
                               Sentence("It rained <b>hard</b>.", False, [2])])
    assert ui.answer_markdown(answer) == (
        "Seven died. [1] <span class='unsupported'><del>It rained &lt;b&gt;hard&lt;/b&gt;.</del> [2] "
        "<em>(not supported by your documents)</em></span>")
    assert ui.answer_notice(answer) == "Model slow."
    plain = Answer(question="q", answer="Seven died. [1]", answered=True)
    assert ui.answer_markdown(plain) == "Seven died. [1]" and ui.answer_notice(plain) == ""
