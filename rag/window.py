"""The chat window: a thin Gradio layer over the engine the API uses; no retrieval or answer logic here."""

from __future__ import annotations

import html
import logging
from collections.abc import Callable, Iterator
from functools import partial

import gradio as gr

from rag.engine import Engine
from rag.errors import RagError
from rag.pipeline import Final, TextPiece
from rag.types import Answer, Citation
from rag.uploads import FileReport, ingest

EngineGetter = Callable[[], Engine]
log = logging.getLogger("rag.serve")

EXAMPLES = [  # questions the seed article answers
    "How many Indian troops died in the Pathankot attack?",
    "Who led the US delegation?",
    "What did India and the US ask Pakistan to do?",
    "How many people were killed in the Mumbai attacks?",
]
CARD_CONTEXT = 240  # characters of passage shown around a quote in the sources panel
DOC_COLUMNS = ["title", "date", "chunks", "source", "id"]
CSS = """
#sources { max-height: 560px; overflow-y: auto; }
#sources .source { border-left: 4px solid #15803d; padding: .4rem .8rem; margin: 0 0 .7rem 0; }
#sources .source.unverified { border-left: 4px dashed #b45309; background: #fff7ed; }
#sources .meta, #citation-context .meta { font-size: .85rem; opacity: .8; }
#sources .flag { color: #b45309; font-weight: 600; }
mark.quote { background: #fde68a; padding: 0 .1rem; }
#citation-context .passage { background: #f0fdf4; }
#notice:not(:empty) p { color: #b91c1c; font-weight: 600; }
"""


def theme() -> gr.themes.Base:
    """The window's look."""
    return gr.themes.Soft()


def build(get_engine: EngineGetter) -> gr.Blocks:
    """The chat window over the engine returned by ``get_engine``."""
    with gr.Blocks(title="rag: ask your documents", analytics_enabled=False) as demo:
        gr.Markdown("## Ask your documents\nAnswers quote your documents; every `[n]` is a source "
                    "you can open.")
        notice = gr.Markdown(elem_id="notice")
        with gr.Row():
            with gr.Column(scale=3):
                chat = gr.Chatbot(label="Chat", height=460, elem_id="chat", buttons=["copy"],
                                  feedback_options=None)
                question = gr.Textbox(placeholder="Ask a question about your documents", show_label=False,
                                      elem_id="question", submit_btn="Ask", max_lines=4)
                gr.Examples(EXAMPLES, inputs=question, label="Examples from the seed article")
                gr.ClearButton([chat, question], value="New conversation")
            with gr.Column(scale=2):
                sources = gr.HTML(label="Sources", elem_id="sources")
                choice = gr.Radio(label="Open a citation in its document", choices=[], elem_id="choice")
                context = gr.HTML(elem_id="citation-context")
        with gr.Accordion("Documents", open=False, elem_id="documents"):
            files = gr.File(label="Add files (txt, md, html, pdf, jsonl)", file_count="multiple",
                            elem_id="upload")
            report = gr.Markdown(elem_id="upload-report")
            table = gr.Dataframe(headers=DOC_COLUMNS, interactive=False, elem_id="document-list")

        question.submit(partial(respond, get_engine), [question, chat],
                        [chat, question, sources, choice, notice])
        choice.change(partial(open_citation, get_engine), choice, [context, notice])
        files.upload(partial(upload, get_engine), files, [report, table, notice])
        demo.load(partial(list_documents, get_engine), None, [table, notice])
    return demo


def respond(get_engine: EngineGetter, message: str, messages: list[dict]) -> Iterator[tuple]:
    """Stream the answer into the chat, then show its sources and the citation choices."""
    if not (message or "").strip():
        yield messages, message, gr.skip(), gr.skip(), "Type a question first."
        return
    turn = [*messages, {"role": "user", "content": message}, {"role": "assistant", "content": ""}]
    yield turn, "", gr.skip(), gr.skip(), ""  # the question moves from the box into the chat at once
    try:
        for event in get_engine().ask_stream(message, pairs(messages)):
            match event:
                case TextPiece(text=text):
                    turn[-1]["content"] += text
                    yield turn, gr.skip(), gr.skip(), gr.skip(), ""
                case Final(answer=answer):
                    yield (turn, gr.skip(), sources_html(answer.citations),
                           citation_choices(answer.citations), answer_notice(answer))
    except Exception as exc:  # the window shows a sentence, never a trace
        yield messages, message, gr.skip(), gr.skip(), human(exc)


def answer_notice(answer: Answer) -> str:
    """The answer's notice, then the generated sentences that no passage supports."""
    parts = [answer.notice] if answer.notice else []
    if answer.unsupported:
        quoted = " ".join(f"“{html.escape(s)}”" for s in answer.unsupported)
        parts.append(f"Not supported by the documents: {quoted}")
    return " ".join(parts)


def pairs(messages: list[dict]) -> list[tuple[str, str]]:
    """The chat's messages as (user, assistant) turns for follow-up questions."""
    turns, pending = [], None
    for m in messages:
        if m["role"] == "user":
            pending = text_of(m["content"])
        elif m["role"] == "assistant" and pending is not None:
            turns.append((pending, text_of(m["content"])))
            pending = None
    return turns


def text_of(content: object) -> str:
    """Text from a Gradio message content (a string or a list of typed parts)."""
    if isinstance(content, str):
        return content
    parts = content if isinstance(content, list) else [content]
    return " ".join(p.get("text", "") for p in parts if isinstance(p, dict))


def sources_html(citations: list[Citation]) -> str:
    """One card per citation: title, date, source, and the passage with the quote highlighted."""
    if not citations:
        return "<p class='meta'>No sources: the documents do not answer this.</p>"
    return "".join(_card(c) for c in citations)


def _card(c: Citation) -> str:
    """A citation's card; unverified ones are marked and styled apart."""
    flag = "" if c.verified else ("<span class='flag'>unverified: this passage may not support the "
                                  "sentence</span><br>")
    return (f"<div class='source{'' if c.verified else ' unverified'}' id='source-{c.n}'>"
            f"<b>[{c.n}] {html.escape(c.title)}</b><br>{flag}"
            f"<span class='meta'>{html.escape(c.date or 'undated')} · {html.escape(c.source)}</span>"
            f"<p>{highlight(c.passage, c.start - c.passage_start, c.end - c.passage_start)}</p></div>")


def highlight(passage: str, start: int, end: int, around: int = CARD_CONTEXT) -> str:
    """The passage around ``passage[start:end]``, escaped, with that span marked."""
    left, right = max(0, start - around), min(len(passage), end + around)
    return ("…" * (left > 0) + html.escape(passage[left:start])
            + f"<mark class='quote'>{html.escape(passage[start:end])}</mark>"
            + html.escape(passage[end:right]) + "…" * (right < len(passage)))


def citation_choices(citations: list[Citation]) -> gr.Radio:
    """The citations as choices that open their document context."""
    labels = [(f"[{c.n}] {c.title}" + ("" if c.verified else " (unverified)"), c.id) for c in citations]
    return gr.Radio(choices=labels, value=None)


def open_citation(get_engine: EngineGetter, cid: str | None) -> tuple[str, str]:
    """The chosen citation in its document: text before, the passage, the quote highlighted, text after."""
    if not cid:
        return "", ""
    try:
        found = get_engine().lookup(cid)
    except Exception as exc:
        return "", human(exc)
    at = found.start - found.passage_start
    passage = highlight(found.passage, at, at + len(found.quote), around=len(found.passage))
    page = f", page {found.page}" if found.page else ""
    return (f"<h4>{html.escape(found.title)}</h4><p class='meta'>{html.escape(found.date or 'undated')}"
            f"{page} · {html.escape(found.source)} · characters {found.start}-{found.end}</p>"
            f"<p>…{html.escape(found.before)}<span class='passage'>{passage}</span>"
            f"{html.escape(found.after)}…</p>"), ""


def upload(get_engine: EngineGetter, paths: list[str] | None) -> tuple[str, object, str]:
    """Index uploaded files and report on each; then refresh the document list."""
    if not paths:
        return "", gr.skip(), ""
    try:
        engine = get_engine()
        streams = [open(p, "rb") for p in paths]
        try:
            reports = ingest(engine, [(_original_name(p), s) for p, s in zip(paths, streams)])
        finally:
            for s in streams:
                s.close()
    except Exception as exc:
        return "", gr.skip(), human(exc)
    return upload_report(reports), documents_rows(engine), ""


def _original_name(path: str) -> str:
    """The name the user's file had (Gradio keeps it as the temp file's name)."""
    return path.replace("\\", "/").rsplit("/", 1)[-1]


def upload_report(reports: list[FileReport]) -> str:
    """One line per uploaded file."""
    lines = []
    for r in reports:
        if r.status == "failed":
            lines.append(f"- **{r.filename}**: not indexed: {r.reason}")
        else:
            lines.append(f"- **{r.filename}**: {r.status} ({r.chunks} passages embedded)")
    return "\n".join(lines)


def list_documents(get_engine: EngineGetter) -> tuple[object, str]:
    """The document table, or a message while the server is loading."""
    try:
        return documents_rows(get_engine()), ""
    except Exception as exc:
        return gr.skip(), human(exc)


def documents_rows(engine: Engine) -> list[list[object]]:
    """Indexed documents as table rows."""
    return [[r.title, r.date or "", r.chunks, r.source, r.id] for r in engine.documents()]


def human(exc: Exception) -> str:
    """A sentence for people: domain errors say what is wrong; anything else is logged, not shown."""
    if isinstance(exc, RagError):
        text = str(exc)
        return text[:1].upper() + text[1:] + ("" if text.endswith(".") else ".")
    log.error("the chat window hit an internal error", exc_info=exc)
    return "Something went wrong on our side; the server log has the details."
