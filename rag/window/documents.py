"""Documents: the collection's list, uploads reported file by file, deletion, and the collection choice."""

from __future__ import annotations

import datetime as dt
import html
from collections.abc import Iterator
from pathlib import Path

import gradio as gr

from rag import uploads
from rag.roles import NEED_WRITE, may_write
from rag.serialize import public_source
from rag.store.base import DocumentRecord
from rag.uploads import FileReport, ingest
from rag.window.common import EngineGetter, human, plural

HEADERS = ("Title", "Date", "Source", "Passages", "Id", "Indexed")


def collections(get_engine: EngineGetter, current: str | None) -> tuple[gr.Dropdown, str]:
    """The collection choice: every collection of the index, keeping the current one when it exists."""
    try:
        engine = get_engine(None)
        names = sorted(engine.collections())
    except Exception as exc:
        return gr.skip(), human(exc)
    value = current if current in names else engine.settings.collection
    return gr.Dropdown(choices=names, value=value), ""


def show(get_engine: EngineGetter, collection: str | None, chosen: str | None = None,
         ) -> tuple[str, gr.Dropdown, str]:
    """The document table and the delete choice for a collection (keeping a chosen document still there)."""
    try:
        records = get_engine(collection).documents()
    except Exception as exc:
        return gr.skip(), gr.skip(), human(exc)
    return table_html(records), delete_choices(records, chosen), ""


def table_html(records: list[DocumentRecord]) -> str:
    """Every document as a table row, ids whole; the table scrolls inside its box."""
    if not records:
        return "<p class='meta'>No documents in this collection yet: add files below.</p>"
    head = "".join(f"<th>{h}</th>" for h in HEADERS)
    rows = "".join(
        f"<tr><td>{html.escape(r.title)}</td><td>{html.escape(r.date or '')}</td>"
        f"<td class='path'>{html.escape(public_source(r.source))}</td><td>{r.chunks}</td>"
        f"<td><code>{r.id}</code></td>"
        f"<td>{_when(r.indexed_at)}</td></tr>" for r in records)
    return (f"<p class='meta'>{plural(len(records), 'document')}</p><div class='table-scroll'>"
            f"<table><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table></div>")


def _when(timestamp: float) -> str:
    """When a document was indexed, to the minute (UTC)."""
    return dt.datetime.fromtimestamp(timestamp, dt.UTC).strftime("%Y-%m-%d %H:%M")


def delete_choices(records: list[DocumentRecord], chosen: str | None = None) -> gr.Dropdown:
    """The documents as choices for deletion."""
    value = chosen if chosen in {r.id for r in records} else None
    return gr.Dropdown(choices=[(f"{r.title} ({r.id})", r.id) for r in records], value=value)


def writers_only(request: gr.Request) -> tuple[dict, dict]:
    """Upload and delete are shown only to a caller whose token may change the documents."""
    return (gr.update(visible=may_write(request.username)),) * 2


def delete(get_engine: EngineGetter, doc_id: str | None, collection: str | None,
           request: gr.Request) -> tuple[str, str]:
    """Remove the chosen document (the browser asked for confirmation first); say what was removed."""
    if not doc_id:
        return "", ""
    if not may_write(request.username):
        return "", NEED_WRITE
    try:
        record = uploads.delete(get_engine(collection), doc_id)
    except Exception as exc:
        return "", human(exc)
    return f"Deleted **{record.title}** ({plural(record.chunks, 'passage')}).", ""


def upload(get_engine: EngineGetter, paths: list[str] | None, collection: str | None, request: gr.Request,
           progress: gr.Progress = gr.Progress()) -> Iterator[tuple[str, str]]:
    """Index uploaded files one by one, reporting each as it lands. Yields (report, notice)."""
    if not paths:
        return
    if not may_write(request.username):
        yield "", NEED_WRITE
        return
    try:
        engine = get_engine(collection)
    except Exception as exc:
        yield "", human(exc)
        return
    reports: list[FileReport] = []
    for i, path in enumerate(paths):
        name = Path(path).name  # Gradio keeps the user's file name on its temporary copy
        progress((i, len(paths)), desc=f"Indexing {name} ({i + 1} of {len(paths)})")
        yield report_markdown(reports, pending=paths[i:]), ""
        with open(path, "rb") as stream:
            reports += ingest(engine, [(name, stream)])
    yield report_markdown(reports), ""


def report_markdown(reports: list[FileReport], pending: list[str] = ()) -> str:
    """One line per uploaded file: what happened to it, or that it is waiting or being indexed."""
    lines = [_line(r) for r in reports]
    lines += [f"- **{Path(p).name}**: {'indexing…' if i == 0 else 'waiting'}" for i, p in enumerate(pending)]
    return "\n".join(lines)


def _line(r: FileReport) -> str:
    """A file's report line."""
    if r.status == "failed":
        return f"- **{r.filename}**: not indexed: {r.reason}"
    return f"- **{r.filename}**: {r.status} ({plural(r.chunks, 'passage')} embedded)"
