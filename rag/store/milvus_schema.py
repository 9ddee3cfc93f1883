"""Milvus plumbing: connecting, collection names, and the two collections' schemas."""

from __future__ import annotations

import logging
import re
import time
from urllib.parse import urlparse

from rag.errors import RagError
from rag.store.base import validate_collection_name

SCHEME = "milvus://"
CHUNKS_PREFIX, DOCS_PREFIX = "rag_c_", "rag_d_"
TEXT_BYTES = 65535  # VARCHAR limit of Milvus; a chunk of ~1,000 characters is far below it
FIELD_BYTES = 8192  # titles, sources, file paths
_CODES = {"_": "_u", "-": "_h", ".": "_d"}
_DECODE = re.compile(r"_([uhd])")


def is_milvus(url: str | None) -> bool:
    """Whether a store setting names a Milvus server."""
    return bool(url) and url.startswith(SCHEME)


CONNECT_ATTEMPTS = 3


def open_client(url: str):
    """A MilvusClient for ``milvus://HOST:PORT``, checked with one call; RagError when unreachable."""
    try:
        from pymilvus import MilvusClient
    except ImportError:
        raise RagError('the Milvus store needs its extra: pip install -e ".[milvus]"') from None
    # Milvus Lite has no MVCC timestamps: the query iterator warns once per scan, then does the right thing.
    logging.getLogger("pymilvus.client.iterator.query_iterator").setLevel(logging.ERROR)
    parsed = urlparse(url)
    address = f"http://{parsed.hostname or '127.0.0.1'}:{parsed.port or 19530}"
    for attempt in range(1, CONNECT_ATTEMPTS + 1):  # a server that just started can refuse a connection
        try:
            client = MilvusClient(uri=address, timeout=10)
            client.list_collections()
            break
        except Exception as exc:  # pymilvus raises its own and grpc's errors for a server that is not there
            if attempt == CONNECT_ATTEMPTS:
                raise RagError(f"cannot reach the Milvus server at {url}: {exc}") from exc
            time.sleep(1.0)
    return client


def encoded(name: str) -> str:
    """A collection name Milvus accepts (letters, digits, '_'), reversibly: '-' -> '_h', '.' -> '_d'."""
    return "".join(_CODES.get(ch, ch) for ch in validate_collection_name(name))


def decoded(milvus_name: str) -> str:
    """The collection name behind an encoded one."""
    inverse = {code[1]: ch for ch, code in _CODES.items()}
    return _DECODE.sub(lambda m: inverse[m.group(1)], milvus_name)


def collection_names(client) -> list[str]:
    """Our collections on this server (without their record companions)."""
    return sorted(decoded(n[len(CHUNKS_PREFIX):]) for n in client.list_collections()
                  if n.startswith(CHUNKS_PREFIX))


def drop_collection(client, name: str) -> None:
    """Delete a collection's chunks and records, if they exist."""
    for prefix in (CHUNKS_PREFIX, DOCS_PREFIX):
        if client.has_collection(prefix + encoded(name)):
            client.drop_collection(prefix + encoded(name))


def create_chunks(client, full_name: str, dimension: int, properties: dict[str, str]) -> None:
    """Chunks: dense vector, text, BM25 over the analysed ``terms``, and the chunk's metadata."""
    from pymilvus import DataType, Function, FunctionType, MilvusClient

    schema = MilvusClient.create_schema(auto_id=False)
    schema.add_field("id", DataType.VARCHAR, is_primary=True, max_length=64)
    schema.add_field("vector", DataType.FLOAT_VECTOR, dim=dimension)
    schema.add_field("text", DataType.VARCHAR, max_length=TEXT_BYTES)
    # Our own analysis (rag.store.lexical: stop words out, Snowball stems, accents folded) joined by
    # spaces: Milvus Lite has no stemmer, and a plain whitespace-and-lowercase analyzer gives the same
    # terms on Lite and Standalone.
    schema.add_field("terms", DataType.VARCHAR, max_length=TEXT_BYTES, enable_analyzer=True,
                     analyzer_params={"tokenizer": "standard"})
    schema.add_field("sparse", DataType.SPARSE_FLOAT_VECTOR)
    schema.add_field("doc_id", DataType.VARCHAR, max_length=256)
    for name in ("chunk_index", "start_char", "end_char", "page", "date_num"):
        schema.add_field(name, DataType.INT64)
    for name in ("title", "source", "date"):
        schema.add_field(name, DataType.VARCHAR, max_length=FIELD_BYTES)
    schema.add_function(Function(name="bm25", function_type=FunctionType.BM25,
                                 input_field_names=["terms"], output_field_names=["sparse"]))
    index = client.prepare_index_params()
    index.add_index("vector", index_type="HNSW", metric_type="COSINE",
                    params={"M": 16, "efConstruction": 200})
    index.add_index("sparse", index_type="SPARSE_INVERTED_INDEX", metric_type="BM25",
                    params={"bm25_k1": 1.5, "bm25_b": 0.75})  # bm25s's defaults, as in rag.store.lexical
    index.add_index("doc_id", index_type="INVERTED")
    index.add_index("date_num", index_type="INVERTED")
    client.create_collection(full_name, schema=schema, index_params=index, properties=properties,
                             consistency_level="Strong")


def create_docs(client, full_name: str) -> None:
    """Document records (Milvus wants a vector in every collection: a constant 2-d one)."""
    from pymilvus import DataType, MilvusClient

    schema = MilvusClient.create_schema(auto_id=False)
    schema.add_field("id", DataType.VARCHAR, is_primary=True, max_length=256)
    schema.add_field("unused", DataType.FLOAT_VECTOR, dim=2)
    for name in ("status", "title", "source", "file", "date", "sha256"):
        schema.add_field(name, DataType.VARCHAR, max_length=FIELD_BYTES)
    schema.add_field("chunks", DataType.INT64)
    schema.add_field("leased_at", DataType.DOUBLE)
    schema.add_field("indexed_at", DataType.DOUBLE)
    index = client.prepare_index_params()
    index.add_index("unused", index_type="FLAT", metric_type="L2")
    client.create_collection(full_name, schema=schema, index_params=index, consistency_level="Strong")
