"""The chat window's handlers over a real engine: answers, sources, citations, uploads, human errors."""

from __future__ import annotations

from dataclasses import replace

from rag import window as ui
from rag.errors import NotReady
from rag.types import Answer, Sentence

PATHANKOT = "How many Indian troops died in the Pathankot attack?"


def run(get_engine, message, messages=()):
    """Every update the chat handler yields."""
    return list(ui.respond(get_engine, message, list(messages)))


def test_an_answer_streams_into_the_chat_then_shows_sources_and_choices(seeded):
    updates = run(lambda: seeded, PATHANKOT)
    chat, _, sources, choices, notice = updates[-1]
    assert chat[0] == {"role": "user", "content": PATHANKOT}
    assert "seven" in chat[1]["content"] and "[1]" in chat[1]["content"]
    assert updates[0][1] == "" and notice == ""
    assert "<mark class='quote'>The attack killed seven Indian troops.</mark>" in sources
    assert "2020-09-12" in sources and "may not support" not in sources
    assert choices.choices[0][0].startswith("[1] India and US press Pakistan")


def test_the_chosen_citation_opens_in_its_document(seeded):
    answer = seeded.ask(PATHANKOT)
    context, notice = ui.open_citation(lambda: seeded, answer.citations[0].id)
    assert "<mark class='quote'>The attack killed seven Indian troops.</mark>" in context
    assert f"characters {answer.citations[0].start}-" in context and notice == ""


def test_unverified_citations_look_different(seeded):
    cited = seeded.ask(PATHANKOT).citations[0]
    html = ui.sources_html([cited, replace(cited, n=2, verified=False)])
    verified_card, unverified_card = html.split("<div class='source")[1:]
    assert verified_card.startswith("' id=") and "may not support" not in verified_card
    assert unverified_card.startswith(" unverified'") and "may not support the sentence" in unverified_card
    assert ui.citation_choices([replace(cited, verified=False)]).choices[0][0].endswith("(unverified)")


def test_titles_and_passages_are_escaped(seeded):
    cited = replace(seeded.ask(PATHANKOT).citations[0], title="<script>alert(1)</script>")
    assert "<script>" not in ui.sources_html([cited]) and "&lt;script&gt;" in ui.sources_html([cited])


def test_follow_ups_pass_the_conversation_as_pairs(seeded):
    first = run(lambda: seeded, "Who led the US delegation?")[-1][0]
    as_gradio_sends_it = [{"role": m["role"], "content": [{"type": "text", "text": m["content"]}]}
                          for m in first]
    assert ui.pairs(as_gradio_sends_it) == [(first[0]["content"], first[1]["content"])]
    chat = run(lambda: seeded, "And the Indian one?", as_gradio_sends_it)[-1][0]
    assert "Singhvi" in chat[-1]["content"]


def test_an_empty_question_gets_a_message_and_no_turn(seeded):
    [(chat, _, _, _, notice)] = run(lambda: seeded, "  ")
    assert chat == [] and notice == "Type a question first."


def test_an_internal_error_is_a_sentence_without_the_trace(seeded, caplog):
    def broken():
        raise RuntimeError("boom at /srv/secret/path")

    chat, box, _, _, notice = run(broken, PATHANKOT)[-1]
    assert notice == "Something went wrong on our side; the server log has the details."
    assert chat == [] and box == PATHANKOT  # the question is given back to retry
    assert "boom at /srv/secret/path" in caplog.text


def test_while_loading_the_window_says_so(seeded):
    def loading():
        raise NotReady("the server is still loading the model and the index; try again in a moment")

    notice = run(loading, PATHANKOT)[-1][-1]
    assert notice.startswith("The server is still loading") and notice.endswith(".")


def test_upload_reports_each_file_and_refreshes_the_list(seeded, tmp_path):
    good = tmp_path / "lighthouse.txt"
    good.write_text("The lighthouse keeper counted forty-two ships in March.", encoding="utf-8")
    bad = tmp_path / "tool.exe"
    bad.write_bytes(b"MZ\x90\x00")
    report, rows, notice = ui.upload(lambda: seeded, [str(good), str(bad)])
    assert "**lighthouse.txt**: added (1 passages embedded)" in report
    assert "**tool.exe**: not indexed: 'tool.exe': unsupported file type .exe" in report
    assert [r[0] for r in rows] == ["India and US press Pakistan to act against terror groups", "Lighthouse"]
    assert notice == "" and (seeded.settings.data_dir / "uploads" / "lighthouse.txt").exists()
    assert not (seeded.settings.data_dir / "uploads" / "tool.exe").exists()


def test_an_unknown_citation_is_a_message(seeded):
    context, notice = ui.open_citation(lambda: seeded, "0123456789abcdef-1-2")
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
