"""The ``rag`` command: thin commands over the engine; errors are one line and a non-zero exit.

Next to a running ``rag serve`` (or with ``--server URL``), ask/search/show/documents/index go
through its HTTP API. That path imports neither the encoder nor Chroma, so heavy imports stay
inside the functions that run the engine here.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING

import click
from click.core import ParameterSource

from rag.cli_options import (
    Where,
    date_options,
    llm_options,
    make_filters,
    retriever_option,
    store_options,
    where_options,
    with_options,
)
from rag.errors import RagError
from rag.serialize import answer_dict, lookup_dict, passage_dict
from rag.settings import DOCUMENT_PIECE_RANGE, Settings
from rag.store import catalog_for
from rag.types import Answer, Filters

if TYPE_CHECKING:  # the path through a server stays free of numpy, the encoder and Chroma
    from rag.pipeline import Event


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


def local_settings(where: Where, **overrides: object) -> Settings:
    """Settings for running the engine in this process (a command that cannot go through a server)."""
    if where.server:
        raise RagError(f"rag {click.get_current_context().info_name} does not go through a rag server; "
                       "drop --server")
    return Settings.load(index_dir=where.index_dir, collection=where.collection, store=where.store,
                         **overrides)


def make_engine(where: Where, repairing: bool = False, **overrides: object):
    """An engine for the chosen store (its vector index dropped unread when ``repairing``), closed
    (releasing the index folder) when the command ends."""
    from rag.engine import Engine

    settings = local_settings(where, **overrides)
    engine = Engine.for_repair(settings) if repairing else Engine(settings)
    click.get_current_context().call_on_close(engine.close)
    return engine


def through_server(where: Where):
    """A client of the rag server to go through (--server, or the one holding the index), else None."""
    from rag.remote import RemoteRag
    from rag.store import embedded_folder
    from rag.store.address import running_server

    settings = Settings.load(index_dir=where.index_dir, store=where.store)
    folder = embedded_folder(settings.store or settings.index_dir)
    if where.server:
        url, why = where.server, "--server"
    elif folder is None or not (found := running_server(folder)):
        return None
    else:
        url, why = found[0], f"{folder} is held by rag serve (pid {found[1]})"
    click.echo(f"rag: {why}: going through its API at {url}", err=True)
    return RemoteRag(url, settings.api_token)


def refuse_local_choices(*names: str) -> None:
    """Options the server decides for itself cannot be given when going through it."""
    ctx = click.get_current_context()
    given = [f"--{n.replace('_', '-')}" for n in names
             if ctx.get_parameter_source(n) == ParameterSource.COMMANDLINE]
    if given:
        raise RagError(f"{', '.join(given)} cannot be chosen through a rag server, which answers with "
                       "its own settings; drop them, or stop the server to run here")


@click.group(cls=RagGroup)
@click.version_option(package_name="rag")
@with_options(where_options(envvar=True, server=True))
@click.pass_context
def main(ctx: click.Context, index_dir, collection, store, server) -> None:
    """Ask questions of your own documents and get answers with citations you can check.

    --index, --collection, --store and --server may come before or after the command.
    """
    ctx.obj = Where(index_dir, collection, store, server)


@main.command()
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@click.option("--prune", is_flag=True, help="Remove indexed documents whose files are gone.")
@click.option("--rebuild", is_flag=True, help="Drop the collection and index from scratch.")
@click.option("--repair", is_flag=True, help="Rebuild a damaged collection's vectors from the texts its "
                                             "database keeps (no PATH needed).")
@click.option("--from-store", "from_store", metavar="SOURCE",
              help="Instead of PATHs: copy the collection from another store (an index folder, a Chroma "
                   "URL or milvus://HOST:PORT), vectors included, nothing re-embedded.")
@store_options(remote=True)
def index(paths, prune, rebuild, repair, from_store, where) -> None:
    """Chunk and embed files and folders (txt, md, html, pdf, jsonl) into the index.

    Exits with 1 when any file failed (after indexing the others).
    """
    if repair:
        repaired = make_engine(where, repairing=True).repair()
        click.echo(f"repaired: {repaired} chunks embedded again from the stored texts")
        if not paths:
            return
    if bool(paths) == bool(from_store):
        raise click.UsageError("give PATHs to index (or --repair), or --from-store SOURCE to copy, not both")
    if from_store:
        copy_here(where, from_store)
        return
    missing = [str(p) for p in paths if not p.exists() and not p.is_symlink()]
    if len(missing) == len(paths):
        raise RagError(f"no such file or folder: {', '.join(missing)}")
    client = through_server(where)
    if client is not None:
        refuse_local_choices("prune", "rebuild")
        failed, summary = client.index(list(paths), where.collection)
    else:
        failed, summary = index_here(where, list(paths), prune, rebuild)
    for name, reason in failed:
        click.echo(f"skipped {name}: {reason}", err=True)
    click.echo(summary)
    if failed:
        sys.exit(1)


def copy_here(where: Where, source: str) -> None:
    """Copy the collection from another store into this one, vectors as they are."""
    from rag.ingest.transfer import copy_summary
    from rag.progress import ProgressBar

    engine = make_engine(where)
    with ProgressBar("copying") as bar:
        report = engine.copy_from(source, progress=bar.update)
    click.echo(copy_summary(report))


def index_here(where: Where, paths: list[Path], prune: bool, rebuild: bool) -> tuple[list, str]:
    """Index with the engine in this process: the failed files and the summary line."""
    from rag.progress import ProgressBar

    engine = make_engine(where)
    with ProgressBar("embedding") as bar:
        report = engine.index(paths, prune=prune, rebuild=rebuild, progress=bar.update)
    return report.failed, report.summary()


@main.command()
@click.argument("question")
@click.option("--json", "as_json", is_flag=True, help="Print the answer and citations as JSON.")
@click.option("-k", type=int, default=None, help="Passages to retrieve (default 5).")
@date_options
@retriever_option
@llm_options
@store_options(remote=True)
def ask(question, as_json, k, since, until, as_of, retriever, llm, llm_url, llm_model, where) -> None:
    """Answer a question from the indexed documents, with numbered sources."""
    filters = make_filters(since, until, as_of)
    client = through_server(where)
    if client is not None:
        refuse_local_choices("retriever", "llm", "llm_url", "llm_model")
        answer = client.ask(question, k=k, collection=where.collection, **asdict(filters))
        if as_json:
            click.echo(json.dumps(answer_dict(answer), indent=2, ensure_ascii=False))
            return
        click.echo(answer.answer)
        print_sources(answer)
        return
    ask_here(question, as_json, k, filters, where, retriever=retriever, llm=llm, llm_url=llm_url,
             llm_model=llm_model)


def ask_here(question: str, as_json: bool, k: int | None, filters: Filters, where: Where, **choices) -> None:
    """Answer with the engine in this process (indexing the seeds into an empty index first)."""
    engine = make_engine(where, **choices)  # a bad --llm fails here, before any indexing
    seeded = engine.ensure_index()
    if seeded is not None:
        click.echo(f"The index was empty: indexed {engine.settings.seeds_dir} first "
                   f"({seeded.summary()}).", err=True)
    if as_json:
        answer = engine.ask(question, k=k, filters=filters)
        click.echo(json.dumps(answer_dict(answer), indent=2, ensure_ascii=False))
        return
    answer = print_stream(engine.ask_stream(question, k=k, filters=filters))
    print_sources(answer)


def print_stream(events: Iterator[Event]) -> Answer:
    """Echo the answer's pieces as they come; the checked answer after them when verification changed it."""
    from rag.pipeline import final_answer

    streamed: list[str] = []

    def echo(text: str) -> None:
        streamed.append(text)
        click.echo(text, nl=False)

    answer = final_answer(events, echo)
    if "".join(streamed).strip() != answer.answer.strip():  # verification renumbered or dropped markers
        click.echo(("\n\nChecked answer:\n" if streamed else "") + answer.answer, nl=False)
    click.echo()
    return answer


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
@store_options(remote=True)
def search(query, k, as_json, since, until, as_of, retriever, where) -> None:
    """Ranked passages with scores, without an answer."""
    filters = make_filters(since, until, as_of)
    client = through_server(where)
    if client is not None:
        refuse_local_choices("retriever")
        ranked_by, passages = client.search(query, k=k, collection=where.collection, **asdict(filters))
    else:
        engine = make_engine(where, retriever=retriever)
        passages = [passage_dict(r) for r in engine.search(query, k=k, filters=filters)]
        ranked_by = engine.pipeline.ranks_by
    if as_json:
        click.echo(json.dumps(passages, indent=2, ensure_ascii=False))
        return
    if not passages:
        click.echo("No passages found.")
    for rank, p in enumerate(passages, start=1):
        click.echo(f"{rank}. {p[ranked_by]:.3f} {ranked_by}  {p['title']} {p['date'] or ''} ({p['source']}) "
                   f"chars {p['start']}-{p['end']}\n   {' '.join(p['text'].split())[:300]}")
        if p.get("duplicates"):
            click.echo(f"   also in: {', '.join(p['duplicates'])}")


@main.command()
@click.argument("citation_id")
@click.option("--json", "as_json", is_flag=True, help="Print the lookup as JSON.")
@store_options(remote=True)
def show(citation_id, as_json, where) -> None:
    """Show a cited passage in its document, with its location."""
    client = through_server(where)
    if client is not None:
        found = client.lookup(citation_id, where.collection)
    else:
        found = lookup_dict(make_engine(where).lookup(citation_id))
    if as_json:
        click.echo(json.dumps(found, indent=2, ensure_ascii=False))
        return
    page = f", page {found['page']}" if found.get("page") else ""
    click.echo(f"{found['title']} ({found['date'] or 'undated'}{page})\n{found['source']}\n"
               f"characters {found['start']}-{found['end']} of document {found['doc_id']}\n")
    quote_at = found["start"] - found["passage_start"]
    passage, quote = found["passage"], found["quote"]
    marked = (passage[:quote_at] + click.style(">>" + quote + "<<", bold=True)
              + passage[quote_at + len(quote):])
    click.echo(f"...{found['before'][-200:]}{marked}{found['after'][:200]}...")


@main.command()
@store_options(remote=True)
def documents(where) -> None:
    """List indexed documents."""
    client = through_server(where)
    records = client.documents(where.collection) if client is not None else [
        asdict(r) for r in make_engine(where).documents()]
    for r in records:
        click.echo(f"{r['id']}  {r['date'] or '----------'}  {r['chunks']:4d} chunks  {r['title']}  "
                   f"({r['source']})")


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=7860, show_default=True, type=click.IntRange(1, 65535), help="Port.")
@retriever_option
@llm_options
@store_options()
def serve(host, port, retriever, llm, llm_url, llm_model, where) -> None:
    """Serve the chat window at / and the API at /api and /v1 (docs at /docs)."""
    import gc
    import logging

    # Starting makes millions of objects that live as long as the server; full collections scanning
    # them again and again took 0.7-0.9 s of a 5 s start. None during the imports; then what they
    # made, and later what loading made, is frozen: collections skip it. (The collector stays on
    # while loading: seeding an empty index may index a large folder.)
    gc.disable()

    import uvicorn

    from rag.api import create_app
    from rag.store import embedded_folder
    from rag.store.address import publish_address, withdraw_address

    handler = logging.StreamHandler()
    handler.setLevel(logging.INFO)  # libraries that set their own loggers to DEBUG stay quiet
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s",
                        handlers=[handler])
    settings = local_settings(where, retriever=retriever, llm=llm, llm_url=llm_url, llm_model=llm_model)
    click.echo(f"rag: chat window at http://{host}:{port}/  API docs at http://{host}:{port}/docs",
               err=True)
    app = create_app(settings)
    gc.freeze()
    gc.enable()
    server = uvicorn.Server(uvicorn.Config(app, host=host, port=port, log_level="info"))
    runtime = app.state.runtime
    runtime.on_failure = lambda: setattr(server, "should_exit", True)  # a server that cannot answer stops
    folder = embedded_folder(settings.store or settings.index_dir)

    def ready() -> None:
        gc.freeze()
        if folder is not None:  # the CLI finds the server that holds this folder here
            publish_address(folder, local_url(host, port))

    runtime.on_ready = ready
    if folder is not None:
        runtime.on_close = lambda: withdraw_address(folder)  # uvicorn re-raises SIGTERM after it
    server.run()
    if runtime.error:
        raise RagError(f"cannot serve: {runtime.error}")


def local_url(host: str, port: int) -> str:
    """The URL a command on this machine reaches a server listening on ``host``:``port`` at."""
    if host in ("", "0.0.0.0", "::"):
        host = "127.0.0.1"
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


@main.command()
@store_options(remote=True)
def collections(where) -> None:
    """List the collections in the index, with their chunk counts."""
    client = through_server(where)
    if client is not None:
        counts = client.collections()
    else:
        catalog = catalog_for(local_settings(where))  # opens no collection, so none is created
        click.get_current_context().call_on_close(catalog.close)
        counts = catalog.collections()
    for name, chunks in counts.items():
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
@click.option("--document-pieces", type=click.IntRange(*DOCUMENT_PIECE_RANGE),
              help="Word pieces of each chunk its vector reads (a new collection's).")
@click.option("--fusion", type=click.Choice(["weighted", "rrf"]), help="How hybrid fuses its lists.")
@click.option("--fusion-weight", type=click.FloatRange(0, 1), help="Dense weight in weighted fusion.")
@click.option("--retrieval-only", is_flag=True, help="Skip answering: retrieval figures only.")
@click.option("--as-of-question-date", is_flag=True,
              help="Rank as of each question's date (news sets): like rag ask --as-of.")
@click.option("--json", "json_file", type=click.Path(dir_okay=False, path_type=Path),
              help="Write every figure (and per-query detail) to this file.")
@store_options()
def eval_(dataset_dir, retrievers, limit_queries, sample_queries, sample_others, k, chunk_size, chunk_overlap,
         title_in_chunk, document_pieces, fusion, fusion_weight, retrieval_only, as_of_question_date,
         json_file, where) -> None:
    """Measure retrieval, answers, citations and declining on an eval set (corpus, queries, qrels)."""
    from rag.eval.data import read_eval_set
    from rag.eval.harness import EvalOptions, evaluate, format_table

    settings = local_settings(where, chunk_size=chunk_size, chunk_overlap=chunk_overlap,
                              title_in_chunk=title_in_chunk, document_pieces=document_pieces, fusion=fusion,
                              fusion_weight=fusion_weight)
    eval_set = read_eval_set(dataset_dir)
    options = EvalOptions(tuple(dict.fromkeys(retrievers)), limit_queries, sample_queries,
                          sample_others, k, answers=not retrieval_only,
                          as_of_question_date=as_of_question_date, collection=where.collection)
    runs = evaluate(eval_set, settings, options)
    click.echo(f"{eval_set.name}: {runs[0]['queries']} queries, collection {runs[0]['collection']}")
    click.echo(format_table(runs))
    if json_file:
        json_file.write_text(json.dumps(runs, indent=1, ensure_ascii=False), encoding="utf-8")
        click.echo(f"wrote {json_file}")
