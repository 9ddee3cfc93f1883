"""The options the rag commands share; the index options may come before or after the command."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path

import click

from rag.types import Filters

_DATE = click.DateTime(formats=["%Y-%m-%d"])


@dataclass(frozen=True)
class Where:
    """Which index a command uses: a folder, a collection, a Chroma server, or a rag server."""

    index_dir: Path | None = None
    collection: str | None = None
    store: str | None = None
    server: str | None = None


def where_options(envvar: bool, server: bool) -> list:
    """The --index, --collection, --store (and --server) options; environment only on the group."""
    def env(name: str) -> str | None:
        return name if envvar else None

    options = [
        click.option("--index", "index_dir", envvar=env("RAG_INDEX_DIR"),
                     type=click.Path(file_okay=False, path_type=Path),
                     help="Index folder (default: ./index in the project; RAG_INDEX_DIR)."),
        click.option("--collection", envvar=env("RAG_COLLECTION"), help="Collection name (RAG_COLLECTION)."),
        click.option("--store", "--chroma-url", "store", envvar=env("RAG_STORE"),
                     help="Where chunks live: a Chroma server (http://host:port or chroma://host:port) "
                          "or a Milvus server (milvus://host:port) instead of the index folder (RAG_STORE)."),
    ]
    if server:
        options.append(click.option("--server", metavar="URL", help="Go through the API of the rag serve "
                                    "at URL (Authorization from RAG_API_TOKEN)."))
    return options


def store_options(remote: bool = False):
    """The index options of a command, which may also come before it (``rag --index X ask``)."""
    def decorate(func):
        @functools.wraps(func)
        def command(*args, index_dir=None, collection=None, store=None, server=None, **kwargs):
            outer = click.get_current_context().find_object(Where) or Where()
            where = Where(index_dir or outer.index_dir, collection or outer.collection,
                          store or outer.store, server or outer.server)
            return func(*args, where=where, **kwargs)

        return with_options(where_options(envvar=False, server=remote))(command)
    return decorate


def with_options(options: list):
    """Apply click options in the order listed (as if stacked top to bottom)."""
    def decorate(func):
        for option in reversed(options):
            func = option(func)
        return func
    return decorate


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


def make_filters(since, until, as_of) -> Filters:
    """Filters from the parsed --since/--until/--as-of values."""
    return Filters(*(d.date().isoformat() if d else None for d in (since, until, as_of)))
