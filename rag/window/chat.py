"""The chat: a question streamed into an answer, its sources as cards, a citation opened in its document."""

from __future__ import annotations

import html
from collections.abc import Iterator

import gradio as gr

from rag.answer.conversation import history_pairs
from rag.conversations import ConversationStore
from rag.types import Answer, Citation
from rag.window.common import EngineGetter, human, plural

CARD_CONTEXT = 240  # characters of passage shown around a quote in the sources panel
NO_SOURCES = "<p class='meta'>No sources: the documents do not answer this.</p>"


def respond(get_engine: EngineGetter, store: ConversationStore, message: str, messages: list[dict],
            conversation_id: str | None, collection: str | None) -> Iterator[tuple]:
    """Stream the answer into the chat, show its sources and citation choices, then save the turn.

    Yields (chat, question box, sources, choices, notice, conversation id).
    """
    if not (message or "").strip():
        yield messages, message, gr.skip(), gr.skip(), "Type a question first.", gr.skip()
        return
    turn = [*messages, {"role": "user", "content": message}, {"role": "assistant", "content": ""}]
    yield turn, "", gr.skip(), gr.skip(), "", gr.skip()  # the question moves into the chat at once
    try:
        for piece in get_engine(collection).ask_stream(message, history_pairs(messages)):
            if isinstance(piece, Answer):
                conversation_id = store.add(conversation_id, piece, collection)
                yield (turn, gr.skip(), sources_html(piece.citations), citation_choices(piece.citations),
                       answer_notice(piece), conversation_id)
            else:
                turn[-1]["content"] += piece
                yield turn, gr.skip(), gr.skip(), gr.skip(), "", gr.skip()
    except Exception as exc:  # the window shows a sentence, never a trace
        yield messages, message, gr.skip(), gr.skip(), human(exc), gr.skip()


def answer_notice(answer: Answer) -> str:
    """The answer's notice, then the generated sentences that no passage supports."""
    parts = [answer.notice] if answer.notice else []
    if answer.unsupported:
        quoted = " ".join(f"“{html.escape(s)}”" for s in answer.unsupported)
        parts.append(f"Not supported by the documents: {quoted}")
    return " ".join(parts)


def sources_html(citations: list[Citation]) -> str:
    """One card per citation (title, date, source, the passage with the quote marked), in a scrolling box."""
    if not citations:
        return f"<div class='sources-scroll'>{NO_SOURCES}</div>"
    cards = "".join(_card(c) for c in citations)
    count = f"<p class='meta count'>{plural(len(citations), 'source')}</p>"
    return f"{count}<div class='sources-scroll'>{cards}</div>"


def _card(c: Citation) -> str:
    """A citation's card; unverified ones are marked and styled apart."""
    flag = "" if c.verified else ("<span class='flag'>unverified: this passage may not support the "
                                  "sentence</span><br>")
    return (f"<div class='source{'' if c.verified else ' unverified'}' id='source-{c.n}'>"
            f"<b class='title'>[{c.n}] {html.escape(c.title)}</b><br>{flag}"
            f"<span class='meta'>{html.escape(c.date or 'undated')} · {html.escape(c.source)}</span>"
            f"<p>{highlight(c.passage, c.start - c.passage_start, c.end - c.passage_start, _span(c))}"
            "</p></div>")


def _span(c: Citation) -> tuple[int, int] | None:
    """The answer span in passage coordinates."""
    return (c.answer_span[0] - c.passage_start, c.answer_span[1] - c.passage_start) if c.answer_span else None


def highlight(passage: str, start: int, end: int, span: tuple[int, int] | None = None,
              around: int = CARD_CONTEXT) -> str:
    """The passage around ``passage[start:end]``, escaped, with that span marked and ``span`` in bold."""
    left, right = max(0, start - around), min(len(passage), end + around)
    return ("…" * (left > 0) + html.escape(passage[left:start])
            + f"<mark class='quote'>{_bold(passage, start, end, span)}</mark>"
            + html.escape(passage[end:right]) + "…" * (right < len(passage)))


def _bold(passage: str, start: int, end: int, span: tuple[int, int] | None) -> str:
    """``passage[start:end]`` escaped, with the part inside ``span`` in <b>."""
    if not span or not start <= span[0] < span[1] <= end:
        return html.escape(passage[start:end])
    answer = html.escape(passage[span[0]:span[1]])
    return (html.escape(passage[start:span[0]]) + f"<b class='answer'>{answer}</b>"
            + html.escape(passage[span[1]:end]))


def citation_choices(citations: list[Citation]) -> gr.Radio:
    """The citations as choices that open their document context."""
    labels = [(f"[{c.n}] {c.title}" + ("" if c.verified else " (unverified)"), c.id) for c in citations]
    return gr.Radio(choices=labels, value=None)


def open_citation(get_engine: EngineGetter, cid: str | None, collection: str | None) -> tuple[str, str]:
    """The chosen citation in its document: text before, the passage, the quote highlighted, text after."""
    if not cid:
        return "", ""
    try:
        found = get_engine(collection).lookup(cid)
    except Exception as exc:
        return "", human(exc)
    at = found.start - found.passage_start
    passage = highlight(found.passage, at, at + len(found.quote), around=len(found.passage))
    page = f", page {found.page}" if found.page else ""
    return (f"<div class='document'><h4>{html.escape(found.title)}</h4>"
            f"<p class='meta'>{html.escape(found.date or 'undated')}{page} · {html.escape(found.source)}"
            f" · characters {found.start}-{found.end}</p>"
            f"<p>…{html.escape(found.before)}<span class='passage'>{passage}</span>"
            f"{html.escape(found.after)}…</p></div>"), ""


def cleared() -> tuple:
    """A new conversation: empty chat, box, sources, choices, document view and notice; no id."""
    return [], "", "", gr.Radio(choices=[], value=None), "", "", None
