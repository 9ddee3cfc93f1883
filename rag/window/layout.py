"""The window's layout: a collection choice over three tabs (chat, conversations, documents), wired."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from functools import partial

import gradio as gr
from fastapi import FastAPI, Request

from rag.conversations import ConversationStore
from rag.window import chat, conversations, documents
from rag.window.common import EngineGetter

EXAMPLES = [  # questions the seed article answers
    "How many Indian troops died in the Pathankot attack?",
    "Who led the US delegation?",
    "What did India and the US ask Pakistan to do?",
    "How many people were killed in the Mumbai attacks?",
]
STORAGE_KEY = "rag-conversation"  # the browser keeps the current conversation's id under this key
CSS = """
#header { align-items: end; }
#sources .sources-scroll, #citation-context .document { max-height: min(560px, 65vh); overflow-y: auto;
  overscroll-behavior: contain; padding-right: .4rem; }
#sources .source { border-left: 4px solid #15803d; padding: .4rem .8rem; margin: 0 0 .7rem 0; }
#sources .source.unverified { border-left: 4px dashed #b45309; background: #fff7ed; }
#sources .title, #citation-context h4, #sources .meta, #citation-context .meta, #document-list td {
  overflow-wrap: anywhere; }
#sources .meta, #citation-context .meta, #document-list .meta { font-size: .85rem; opacity: .8; }
#citation-context h4 { margin: 0 0 .3rem 0; line-height: 1.3; }
#sources .flag { color: #b45309; font-weight: 600; }
mark.quote { background: #fde68a; padding: 0 .1rem; }
#citation-context .passage { background: #f0fdf4; }
#chat .bubble-wrap { margin-top: 2.6rem; height: calc(100% - 2.6rem); }  /* below the chat's icons */
#conversation-list .wrap { flex-direction: column; align-items: stretch; }
#notice:not(:empty) p { color: #b91c1c; font-weight: 600; }
#chat .unsupported { color: #6b7280; }
#document-list .table-scroll { max-height: 420px; overflow: auto; }
#document-list table { width: 100%; border-collapse: collapse; font-size: .9rem; }
#document-list th, #document-list td { text-align: left; padding: .3rem .5rem; vertical-align: top;
  border-bottom: 1px solid #e5e7eb; }
#document-list code { white-space: nowrap; }
"""
SCROLL_TO_QUOTE = """() => {
  const quote = document.querySelector('#citation-context mark.quote');
  const box = quote && quote.closest('.document');
  if (box) box.scrollTop += quote.getBoundingClientRect().top - box.getBoundingClientRect().top
                            - box.clientHeight / 3;
}"""  # the opened document scrolls (inside its box, not the page) to show the quote
CONFIRM_DELETE = "(id, rest) => [id && confirm('{question}') ? id : null, rest]"


def theme() -> gr.themes.Base:
    """The window's look."""
    return gr.themes.Soft()


def mount(app: FastAPI, get_engine: EngineGetter, store: ConversationStore, *, max_file_size: int,
          role: Callable[[Request], str | None]) -> FastAPI:
    """``app`` with the window at `/`; ``role`` tells Gradio each caller's role."""
    return gr.mount_gradio_app(app, build(get_engine, store), path="/", css=CSS, theme=theme(),
                               max_file_size=max_file_size, footer_links=[], run_history=False,
                               auth_dependency=role)


def build(get_engine: EngineGetter, store: ConversationStore) -> gr.Blocks:
    """The chat window over the engines ``get_engine`` returns, saving conversations in ``store``."""
    with gr.Blocks(title="rag: ask your documents", analytics_enabled=False) as demo:
        # a fixed key, so the current conversation survives a server restart (the value is only an id)
        current = gr.BrowserState(None, storage_key=STORAGE_KEY, secret=STORAGE_KEY)
        with gr.Row(elem_id="header"):
            with gr.Column(min_width=280):  # a narrow screen puts the collection below the title
                gr.Markdown("## Ask your documents\nAnswers quote your documents; every `[n]` is a source "
                            "you can open.")
            collection = gr.Dropdown(label="Collection", choices=[], elem_id="collection", scale=0,
                                     min_width=220)
        notice = gr.Markdown(elem_id="notice")
        with gr.Tabs(elem_id="tabs") as tabs:
            with gr.Tab("Chat", id="chat-tab", elem_id="chat-tab"):
                ui = _chat_tab()
            with gr.Tab("Conversations", id="conversations-tab", elem_id="conversations-tab"):
                past = _conversations_tab()
            with gr.Tab("Documents", id="documents-tab", elem_id="documents-tab"):
                docs = _documents_tab()
        _wire_chat(ui, get_engine, store, current, collection, notice, past["list"])
        _wire_conversations(past, ui, store, current, collection, notice, tabs)
        _wire_documents(docs, get_engine, collection, notice)
        demo.load(partial(documents.collections, get_engine), collection, [collection, notice]).then(
            partial(conversations.reopen, store), current,
            [ui["chat"], ui["sources"], ui["choice"], ui["context"], current, collection, notice]).then(
            partial(conversations.listing, store), current, past["list"])
        demo.load(documents.writers_only, None, [docs["files"], docs["delete"]])
    return demo


def _chat_tab() -> dict[str, gr.components.Component]:
    """The chat beside its sources panel, the citation picker and the opened document."""
    with gr.Row(elem_id="chat-row"):
        with gr.Column(scale=3, min_width=320):
            ui = {"chat": gr.Chatbot(label="Chat", height=460, elem_id="chat", buttons=["copy"],
                                     feedback_options=None),
                  "question": gr.Textbox(placeholder="Ask a question about your documents", show_label=False,
                                         elem_id="question", submit_btn="Ask", max_lines=4)}
            gr.Examples(EXAMPLES, inputs=ui["question"], label="Examples from the seed article")
            ui["new"] = gr.Button("New conversation", elem_id="new-conversation")
        with gr.Column(scale=2, min_width=300):
            ui["sources"] = gr.HTML(label="Sources", elem_id="sources")
            ui["choice"] = gr.Radio(label="Open a citation in its document", choices=[], elem_id="choice")
            ui["context"] = gr.HTML(elem_id="citation-context")
    return ui


def _conversations_tab() -> dict[str, gr.components.Component]:
    """The saved conversations, with open, rename and delete."""
    past = {"list": gr.Radio(label="Saved conversations, latest first", choices=[],
                             elem_id="conversation-list"),
            "size": gr.Markdown(elem_id="conversation-size")}
    with gr.Row():
        past["title"] = gr.Textbox(label="Title", elem_id="conversation-title", scale=3)
        past["open"] = gr.Button("Open", variant="primary", elem_id="open-conversation", scale=1)
        past["rename"] = gr.Button("Rename", elem_id="rename-conversation", scale=1)
        past["delete"] = gr.Button("Delete", variant="stop", elem_id="delete-conversation", scale=1)
    return past


def _documents_tab() -> dict[str, gr.components.Component]:
    """The collection's documents, deletion, and uploads with their report."""
    docs = {"table": gr.HTML(elem_id="document-list")}
    with gr.Row():
        docs["choice"] = gr.Dropdown(label="Document", choices=[], elem_id="document-choice", scale=3)
        docs["delete"] = gr.Button("Delete document", variant="stop", elem_id="delete-document", scale=1)
    docs["files"] = gr.File(label="Add files (txt, md, html, pdf, jsonl)", file_count="multiple",
                            elem_id="upload")
    docs["report"] = gr.Markdown(elem_id="upload-report")
    return docs


def _wire_chat(ui: dict, get_engine: EngineGetter, store: ConversationStore, current: gr.BrowserState,
               collection: gr.Dropdown, notice: gr.Markdown, past: gr.Radio) -> None:
    """Questions, citations and new conversations."""
    fresh = [ui["chat"], ui["question"], ui["sources"], ui["choice"], ui["context"], notice, current]
    ui["question"].submit(
        partial(chat.respond, get_engine, store), [ui["question"], ui["chat"], current, collection],
        [ui["chat"], ui["question"], ui["sources"], ui["choice"], notice, current]).then(
        partial(conversations.listing, store), current, past)
    ui["choice"].change(partial(chat.open_citation, get_engine), [ui["choice"], collection],
                        [ui["context"], notice]).then(None, js=SCROLL_TO_QUOTE)
    ui["new"].click(chat.cleared, None, fresh)
    ui["chat"].clear(chat.cleared, None, fresh)
    collection.input(chat.cleared, None, fresh)  # a question is asked of one collection


def _wire_conversations(past: dict, ui: dict, store: ConversationStore, current: gr.BrowserState,
                        collection: gr.Dropdown, notice: gr.Markdown, tabs: gr.Tabs) -> None:
    """Choosing, opening, renaming and deleting saved conversations."""
    past["list"].change(partial(conversations.selected, store), past["list"], [past["title"], past["size"]])
    past["open"].click(
        partial(conversations.reopen, store), past["list"],
        [ui["chat"], ui["sources"], ui["choice"], ui["context"], current, collection, notice]).then(
        lambda: gr.Tabs(selected="chat-tab"), None, tabs)
    past["rename"].click(partial(conversations.rename, store), [past["list"], past["title"]],
                         [past["list"], notice])
    past["delete"].click(lambda cid, _: conversations.delete(store, cid), [past["list"], past["title"]],
                         [past["list"], past["title"], notice],
                         js=CONFIRM_DELETE.format(question="Delete this conversation?"))


def _wire_documents(docs: dict, get_engine: EngineGetter, collection: gr.Dropdown,
                    notice: gr.Markdown) -> None:
    """The list follows the collection; uploads and deletions refresh it."""
    show = partial(documents.show, get_engine)
    listed = [docs["table"], docs["choice"], notice]
    collection.change(show, collection, listed)

    def upload(paths: list[str] | None, name: str | None, request: gr.Request,  # a partial would hide
               progress: gr.Progress = gr.Progress()) -> Iterator[tuple[str, str]]:  # gr.Request
        yield from documents.upload(get_engine, paths, name, request, progress)

    def delete(doc_id: str | None, name: str | None, request: gr.Request) -> tuple[str, str]:
        return documents.delete(get_engine, doc_id, name, request)

    docs["files"].upload(upload, [docs["files"], collection],
                         [docs["report"], notice]).then(show, [collection, docs["choice"]], listed)
    docs["delete"].click(delete, [docs["choice"], collection],
                         [docs["report"], notice],
                         js=CONFIRM_DELETE.format(question="Delete this document and its passages?")).then(
        show, [collection, docs["choice"]], listed)
