"""Saved conversations in the window: listed by first question, reopened, renamed, deleted."""

from __future__ import annotations

import datetime as dt

import gradio as gr

from rag.conversations import Conversation, ConversationStore
from rag.window.chat import answer_markdown, citation_choices, sources_html
from rag.window.common import human, plural


def listing(store: ConversationStore, selected: str | None = None) -> gr.Radio:
    """The saved conversations, most recent first, labelled by title, day and number of questions."""
    summaries = store.list()
    ids = {s.id for s in summaries}
    return gr.Radio(choices=[(f"{s.title} · {_day(s.updated)}", s.id) for s in summaries],
                    value=selected if selected in ids else None)


def _day(timestamp: float) -> str:
    """A day and time to the minute (UTC)."""
    return dt.datetime.fromtimestamp(timestamp, dt.UTC).strftime("%Y-%m-%d %H:%M")


def reopen(store: ConversationStore, conversation_id: str | None) -> tuple:
    """A saved conversation back in the chat with the last answer's sources.

    Returns (chat, sources, choices, document view, conversation id, collection, notice); an unknown
    id (deleted meanwhile) gives an empty chat.
    """
    if not conversation_id:
        return gr.skip(), gr.skip(), gr.skip(), gr.skip(), gr.skip(), gr.skip(), ""
    try:
        conversation = store.get(conversation_id)
    except Exception as exc:
        return [], "", citation_choices([]), "", None, gr.skip(), human(exc)
    last = conversation.answers[-1].citations if conversation.answers else []
    return (messages(conversation), sources_html(last), citation_choices(last), "", conversation_id,
            conversation.summary.collection or gr.skip(), "")


def messages(conversation: Conversation) -> list[dict]:
    """The conversation as chat messages, answers shown as when they were given."""
    return [m for a in conversation.answers for m in ({"role": "user", "content": a.question},
                                                      {"role": "assistant", "content": answer_markdown(a)})]


def selected(store: ConversationStore, conversation_id: str | None) -> tuple[str, str]:
    """The chosen conversation's title for renaming, and how many questions it holds."""
    if not conversation_id:
        return "", ""
    try:
        conversation = store.get(conversation_id)
    except Exception as exc:
        return "", human(exc)
    return conversation.summary.title, plural(len(conversation.answers), "question")


def rename(store: ConversationStore, conversation_id: str | None, title: str) -> tuple[gr.Radio, str]:
    """Rename the chosen conversation; the list shows the new title."""
    if not conversation_id:
        return gr.skip(), "Choose a conversation first."
    try:
        store.rename(conversation_id, title)
    except Exception as exc:
        return gr.skip(), human(exc)
    return listing(store, conversation_id), ""


def delete(store: ConversationStore, conversation_id: str | None) -> tuple[gr.Radio, str, str]:
    """Delete the chosen conversation (the browser asked for confirmation first)."""
    if not conversation_id:
        return gr.skip(), gr.skip(), ""
    try:
        store.delete(conversation_id)
    except Exception as exc:
        return gr.skip(), gr.skip(), human(exc)
    return listing(store), "", ""
