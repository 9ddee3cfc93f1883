"""The ``rag`` command: thin commands over the engine; errors are one line and a non-zero exit."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from rag.answer.llm import backend_name
from rag.engine import Engine
from rag.errors import RagError
from rag.serialize import passage_dict
from rag.settings import Settings
from rag.types import Answer, Filters

_DATE = click.DateTime(formats=["%Y-%m-%d"])


class RagGroup(click.Group):
    """A click group that prints domain errors as one line instead of a traceback."""

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except RagError as exc:
            click.echo(f"Error: {exc}", err=True)
            sys.exit(1)
        except KeyboardInterrupt:
            click.echo("Interrupted.", err=True)
            sys.exit(130)


def store_options(func):
    """--index, --collection and --store, shared by every command that opens the store."""
    func = click.option("--store", "--chroma-url", "store", envvar="RAG_STORE",
                        help="Where chunks live: a Chroma server (http://host:port or chroma://host:port) "
                             "or a Milvus server (milvus://host:port) instead of the index folder.")(func)
    func = click.option("--collection", envvar="RAG_COLLECTION", help="Collection name.")(func)
    func = click.option("--index", "index_dir", envvar="RAG_INDEX_DIR",
                        type=click.Path(file_okay=False, path_type=Path),
                        help="Index folder (default: ./index in the project).")(func)
    return func


def date_options(func):
    """--since and --until date filters, and --as-of."""
    func = click.option("--as-of", type=_DATE, help="Answer as of YYYY-MM-DD: later passages are left "
                                                    "out and those from the weeks before rank higher.")(func)
    func = click.option("--until", type=_DATE, help="Only passages dated on or before YYYY-MM-DD.")(func)
    func = click.option("--since", type=_DATE, help="Only passages dated on or after YYYY-MM-DD.")(func)
    return func


def retriever_option(func):
    """--retriever: dense, lexical (BM25) or hybrid (the default)."""
    return click.option("--retriever", type=click.Choice(["dense", "lexical", "hybrid"]),
                        envvar="RAG_RETRIEVER", help="How passages are ranked (default hybrid).")(func)


def llm_options(func):
    """--llm, --llm-url and --llm-model: the answer backend."""
    func = click.option("--llm-model", help="Model name to ask the endpoint for (RAG_LLM_MODEL).")(func)
    func = click.option("--llm-url", help="OpenAI-compatible base URL for --llm openai (RAG_LLM_URL).")(func)
    func = click.option("--llm", help="Answer backend: extractive (default), openai, or gguf:PATH "
                                      "(RAG_LLM; the key comes from RAG_LLM_API_KEY).")(func)
    return func


def make_engine(index_dir: Path | None, collection: str | None, store: str | None,
                **overrides: object) -> Engine:
    """An engine for the chosen store, closed (releasing the index folder) when the command ends."""
    engine = Engine(Settings.load(index_dir=index_dir, collection=collection, store=store,
                                  **overrides))
    click.get_current_context().call_on_close(engine.close)
    return engine


def make_filters(since, until, as_of) -> Filters:
    """Filters from the parsed --since/--until/--as-of values."""
    return Filters(*(d.date().isoformat() if d else None for d in (since, until, as_of)))


@click.group(cls=RagGroup)
@click.version_option(package_name="rag")
def main() -> None:
    """Ask questions of your own documents and get answers with citations you can check."""


@main.command()
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@click.option("--prune", is_flag=True, help="Remove indexed documents whose files are gone.")
@click.option("--rebuild", is_flag=True, help="Drop the collection and index from scratch.")
@click.option("--from-store", "from_store", metavar="SOURCE",
              help="Instead of PATHs: copy the collection from another store (an index folder, a Chroma "
                   "URL or milvus://HOST:PORT), vectors included, nothing re-embedded.")
@store_options
def index(paths, prune, rebuild, from_store, index_dir, collection, store) -> None:
    """Chunk and embed files and folders (txt, md, html, pdf, jsonl) into the index."""
    from rag.progress import ProgressBar

    if bool(paths) == bool(from_store):
        raise click.UsageError("give PATHs to index, or --from-store SOURCE to copy, not both")
    engine = make_engine(index_dir, collection, store)
    if from_store:
        from rag.ingest.transfer import copy_summary

        with ProgressBar("copying") as bar:
            report = engine.copy_from(from_store, progress=bar.update)
        click.echo(copy_summary(report))
        return
    with ProgressBar("embedding") as bar:
        report = engine.index(list(paths), prune=prune, rebuild=rebuild, progress=bar.update)
    for name, reason in report.failed:
        click.echo(f"skipped {name}: {reason}", err=True)
    click.echo(report.summary())


@main.command()
@click.argument("question")
@click.option("--json", "as_json", is_flag=True, help="Print the answer and citations as JSON.")
@click.option("-k", type=int, default=None, help="Passages to retrieve (default 5).")
@date_options
@retriever_option
@llm_options
@store_options
def ask(question, as_json, k, since, until, as_of, retriever, llm, llm_url, llm_model, index_dir, collection,
        store) -> None:
    """Answer a question from the indexed documents, with numbered sources."""
    engine = make_engine(index_dir, collection, store, retriever=retriever, llm=llm,
                         llm_url=llm_url, llm_model=llm_model)
    backend_name(engine.settings.llm)  # a bad --llm fails before any indexing
    seeded = engine.ensure_index()
    if seeded is not None:
        click.echo(f"The index was empty: indexed {engine.settings.seeds_dir} first "
                   f"({seeded.summary()}).", err=True)
    if as_json:
        answer = engine.ask(question, k=k, filters=make_filters(since, until, as_of))
        click.echo(json.dumps(answer.to_dict(), indent=2, ensure_ascii=False))
        return
    answer = print_stream(engine.ask_stream(question, k=k, filters=make_filters(since, until, as_of)))
    print_sources(answer)


def print_stream(pieces) -> Answer:
    """Echo the answer's pieces as they come; the checked answer after them when verification changed it."""
    streamed = ""
    for piece in pieces:
        if isinstance(piece, Answer):
            break
        streamed += piece
        click.echo(piece, nl=False)
    if streamed.strip() != piece.answer.strip():  # verification renumbered or dropped markers
        click.echo(("\n\nChecked answer:\n" if streamed else "") + piece.answer, nl=False)
    click.echo()
    return piece


def print_sources(answer: Answer) -> None:
    """The notice, the numbered sources with their verification, and any unsupported sentence."""
    if answer.notice:
        click.echo(f"Note: {answer.notice}", err=True)
    if answer.citations:
        click.echo("\nSources:")
    for c in answer.citations:
        when = f", {c.date}" if c.date else ""
        flag = "" if c.verified else "  (NOT VERIFIED: the passage does not support this sentence)"
        click.echo(f"[{c.n}] {c.title}{when} ({c.source}) chars {c.start}-{c.end}  id {c.id}{flag}")
    for sentence in answer.unsupported:
        click.echo(f"Unsupported by the documents: {sentence}")


@main.command()
@click.argument("query")
@click.option("-k", type=int, default=None, help="Passages to return (default 5).")
@click.option("--json", "as_json", is_flag=True, help="Print the passages as JSON.")
@date_options
@retriever_option
@store_options
def search(query, k, as_json, since, until, as_of, retriever, index_dir, collection, store) -> None:
    """Ranked passages with scores, without an answer."""
    engine = make_engine(index_dir, collection, store, retriever=retriever)
    results = engine.search(query, k=k, filters=make_filters(since, until, as_of))
    if as_json:
        click.echo(json.dumps([passage_dict(r) for r in results], indent=2, ensure_ascii=False))
        return
    if not results:
        click.echo("No passages found.")
    ranks_by = engine.retriever.ranks_by
    for rank, r in enumerate(results, start=1):
        c = r.chunk
        click.echo(f"{rank}. {getattr(r, ranks_by):.3f} {ranks_by}  {c.title} {c.date or ''} ({c.source}) "
                   f"chars {c.start}-{c.end}\n   {' '.join(c.text.split())[:300]}")
        if r.duplicates:
            click.echo(f"   also in: {', '.join(r.duplicates)}")


@main.command()
@click.argument("citation_id")
@click.option("--json", "as_json", is_flag=True, help="Print the lookup as JSON.")
@store_options
def show(citation_id, as_json, index_dir, collection, store) -> None:
    """Show a cited passage in its document, with its location."""
    found = make_engine(index_dir, collection, store).lookup(citation_id)
    if as_json:
        click.echo(json.dumps(found.to_dict(), indent=2, ensure_ascii=False))
        return
    page = f", page {found.page}" if found.page else ""
    click.echo(f"{found.title} ({found.date or 'undated'}{page})\n{found.source}\n"
               f"characters {found.start}-{found.end} of document {found.doc_id}\n")
    quote_at = found.start - found.passage_start
    passage = found.passage
    marked = (passage[:quote_at] + click.style(">>" + found.quote + "<<", bold=True)
              + passage[quote_at + len(found.quote):])
    click.echo(f"...{found.before[-200:]}{marked}{found.after[:200]}...")


@main.command()
@store_options
def documents(index_dir, collection, store) -> None:
    """List indexed documents."""
    for r in make_engine(index_dir, collection, store).documents():
        click.echo(f"{r.id}  {r.date or '----------'}  {r.chunks:4d} chunks  {r.title}  ({r.source})")


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=7860, show_default=True, type=click.IntRange(1, 65535), help="Port.")
@retriever_option
@llm_options
@store_options
def serve(host, port, retriever, llm, llm_url, llm_model, index_dir, collection, store) -> None:
    """Serve the chat window at / and the API at /api and /v1 (docs at /docs)."""
    import logging

    import uvicorn

    from rag.api import create_app

    handler = logging.StreamHandler()
    handler.setLevel(logging.INFO)  # bm25s sets its own logger to DEBUG when imported
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s",
                        handlers=[handler])
    settings = Settings.load(index_dir=index_dir, collection=collection, store=store,
                             retriever=retriever, llm=llm, llm_url=llm_url, llm_model=llm_model)
    backend_name(settings.llm)  # a bad --llm fails before the server starts
    click.echo(f"rag: chat window at http://{host}:{port}/  API docs at http://{host}:{port}/docs",
               err=True)
    app = create_app(settings)
    server = uvicorn.Server(uvicorn.Config(app, host=host, port=port, log_level="info"))
    runtime = app.state.runtime
    runtime.on_failure = lambda: setattr(server, "should_exit", True)  # a server that cannot answer stops
    server.run()
    if runtime.error:
        raise RagError(f"cannot serve: {runtime.error}")


@main.command()
@store_options
def collections(index_dir, collection, store) -> None:
    """List the collections in the index, with their chunk counts."""
    for name, chunks in make_engine(index_dir, collection, store).collections().items():
        click.echo(f"{name}  {chunks} chunks")


@main.command("eval")
@click.argument("dataset_dir", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--retriever", "retrievers", multiple=True, default=("hybrid",), show_default=True,
              type=click.Choice(["dense", "lexical", "hybrid", "textbook"]),
              help="Retriever to measure; repeat to compare several in one run.")
@click.option("--limit-queries", type=click.IntRange(min=1), help="Only the first N queries.")
@click.option("--sample-queries", type=click.IntRange(min=1),
              help="Only a fixed random sample of N queries (seed 0).")
@click.option("--sample-others", type=click.IntRange(min=0),
              help="Index the judged documents plus N others (fixed seed) instead of the whole corpus.")
@click.option("-k", type=click.IntRange(1, 50), default=5, show_default=True,
              help="Passages given to the answerer.")
@click.option("--chunk-size", type=click.IntRange(min=100), help="Characters per chunk.")
@click.option("--chunk-overlap", type=click.IntRange(min=0), help="Characters of overlap.")
@click.option("--title-in-chunk/--no-title-in-chunk", default=None, help="Embed the title with each chunk.")
@click.option("--fusion", type=click.Choice(["weighted", "rrf"]), help="How hybrid fuses its lists.")
@click.option("--fusion-weight", type=click.FloatRange(0, 1), help="Dense weight in weighted fusion.")
@click.option("--min-relevance", type=float, help="Cosine below which the answerer declines.")
@click.option("--retrieval-only", is_flag=True, help="Skip answering: retrieval figures only.")
@click.option("--as-of-question-date", is_flag=True,
              help="Rank as of each question's date (news sets): like rag ask --as-of.")
@click.option("--json", "json_file", type=click.Path(dir_okay=False, path_type=Path),
              help="Write every figure (and per-query detail) to this file.")
@store_options
def eval_(dataset_dir, retrievers, limit_queries, sample_queries, sample_others, k, chunk_size, chunk_overlap,
         title_in_chunk, fusion, fusion_weight, min_relevance, retrieval_only, as_of_question_date,
         json_file, index_dir, collection, store) -> None:
    """Measure retrieval, answers, citations and declining on an eval set (corpus, queries, qrels)."""
    from rag.eval.data import read_eval_set
    from rag.eval.harness import EvalOptions, evaluate, format_table

    settings = Settings.load(index_dir=index_dir, store=store, chunk_size=chunk_size,
                             chunk_overlap=chunk_overlap, title_in_chunk=title_in_chunk, fusion=fusion,
                             fusion_weight=fusion_weight, min_relevance=min_relevance)
    eval_set = read_eval_set(dataset_dir)
    options = EvalOptions(tuple(dict.fromkeys(retrievers)), limit_queries, sample_queries,
                          sample_others, k, answers=not retrieval_only,
                          as_of_question_date=as_of_question_date)
    runs = evaluate(eval_set, settings, options)
    click.echo(f"{eval_set.name}: {runs[0]['queries']} queries, collection {runs[0]['collection']}")
    click.echo(format_table(runs))
    if json_file:
        json_file.write_text(json.dumps(runs, indent=1, ensure_ascii=False), encoding="utf-8")
        click.echo(f"wrote {json_file}")
