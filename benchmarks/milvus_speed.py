"""Milvus as the store: retrieval latency at ~42k chunks, and several `rag serve` processes sharing it.

    milvus-lite server --data-dir /tmp/milvus --host 127.0.0.1 --port 19530 &
    PYTHONPATH=. python benchmarks/milvus_speed.py --store milvus://127.0.0.1:19530 \
        [--serve-collection eval-clapnq_dev-1000o150t --serve-set ../shared/eval/clapnq_dev --servers 4]

Retrieval: the realtimeqa_news chunk texts and metadata with random unit vectors (as
`query_speed.py --build synthetic`; built once into collection ``bench-news-synthetic``), real query
embeddings; p50/p95 of each part: a bare server round trip (count), dense, BM25, hybrid fused by Milvus
(RRF, weighted) and the engine's hybrid retriever. Serving: ``--servers`` `rag serve` processes on
one collection ask the same questions (citations must agree), then a small document is uploaded to
one and every other is polled until a search finds it.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # this checkout's rag, not an installed one
sys.path.insert(0, str(ROOT / "benchmarks"))
from query_speed import NEWS, OFFLINE, percentile  # noqa: E402

SYNTHETIC = "bench-news-synthetic"


def questions(news: Path) -> list[str]:
    """The news set's questions."""
    return [json.loads(line)["question"] for line in (news / "queries.jsonl").open(encoding="utf-8")]


def build(engine, news: Path) -> None:
    """Fill an empty collection with the news chunks and random unit vectors."""
    if engine.store.count():
        return
    from rag.ingest.chunking import chunk_document
    from rag.ingest.loaders import load_file

    rng = np.random.default_rng(0)
    docs = load_file(news / "corpus.jsonl")
    for i in range(0, len(docs), 200):
        batch = docs[i:i + 200]
        chunks = [c for d in batch for c in chunk_document(d, engine.settings.chunk_size,
                                                           engine.settings.chunk_overlap)]
        vectors = rng.standard_normal((len(chunks), engine.embedder.dimension)).astype(np.float32)
        engine.store.write(batch, chunks, vectors / np.linalg.norm(vectors, axis=1, keepdims=True))
    engine.store.sync()


def timed(function, inputs) -> list[float]:
    """Seconds per call of ``function`` over ``inputs`` (after one warm-up call)."""
    function(inputs[0])
    out = []
    for item in inputs:
        began = time.perf_counter()
        function(item)
        out.append(time.perf_counter() - began)
    return out


def retrieval(engine, queries: list[str]) -> None:
    """p50/p95 of each part of retrieval, same run."""
    store = engine.store
    vectors = {q: engine.embedder.embed_query(q) for q in queries}
    parts = {
        "server round trip (has_collection)": lambda q: store.client.has_collection(store.chunks),
        "dense, depth 50": lambda q: store.dense_search(vectors[q], 50),
        "BM25, depth 50": lambda q: store.lexical_search(q, 50),
        "hybrid in Milvus, RRF": lambda q: store.hybrid_search(q, vectors[q], 5, method="rrf"),
        "hybrid in Milvus, weighted": lambda q: store.hybrid_search(q, vectors[q], 5, method="weighted"),
        "engine hybrid retriever (embedding included)": lambda q: engine.search(q, k=5),
    }
    print(f"{store.count()} chunks (random vectors), {len(queries)} queries, load average "
          f"{os.getloadavg()[0]:.1f}")
    for name, function in parts.items():
        seconds = timed(function, queries)
        print(f"  {name:46s} p50 {1000 * statistics.median(seconds):7.1f} ms   "
              f"p95 {1000 * percentile(seconds, 95):7.1f} ms")


def serving(store_url: str, collection: str, servers: int, queries: list[str]) -> None:
    """``servers`` rag serve processes: same citations for the same question; an upload seen by all."""
    import httpx

    from rag.answer.local_llm import free_port

    env = {**os.environ, **OFFLINE, "PYTHONPATH": str(ROOT), "RAG_STORE": store_url,
           "RAG_COLLECTION": collection, "RAG_DATA_DIR": tempfile.mkdtemp(prefix="rag-bench-")}
    ports = [free_port() for _ in range(servers)]
    procs = [subprocess.Popen([sys.executable, "-m", "rag", "serve", "--port", str(p)], env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) for p in ports]
    urls = [f"http://127.0.0.1:{p}" for p in ports]
    try:
        for url in urls:
            _wait_ready(url)
        agree = 0
        for question in queries:
            cited = [tuple(c["id"] for c in httpx.post(f"{u}/api/ask", json={"question": question},
                                                       timeout=120).json()["citations"]) for u in urls]
            agree += len(set(cited)) == 1
        print(f"{servers} rag serve processes, {len(queries)} questions: same citations from all on "
              f"{agree}/{len(queries)}")
        _upload_and_poll(urls)
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            proc.wait(timeout=30)


def _wait_ready(url: str, timeout: float = 300) -> None:
    """Until GET /healthz answers 200."""
    import httpx

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{url}/healthz", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"{url} was not ready in {timeout} s")


def _upload_and_poll(urls: list[str]) -> None:
    """Upload a small document to the first server; seconds until each server's search finds it."""
    import httpx

    word = f"Quarvendel{int(time.time())}"
    note = f"title {word} ferry notice\n\nThe {word} ferry leaves the harbour at seven every morning.\n"
    began = time.perf_counter()
    reply = httpx.post(f"{urls[0]}/api/documents", files={"files": (f"{word}.txt", note.encode())},
                       timeout=300)
    reply.raise_for_status()
    uploaded = time.perf_counter() - began
    seen = []
    for url in urls:
        while True:
            hits = httpx.post(f"{url}/api/search", json={"query": f"{word} ferry", "k": 3}, timeout=60)
            if any(word in r["text"] for r in hits.json()["results"]):
                seen.append(time.perf_counter() - began - uploaded)
                break
            time.sleep(0.05)
    print(f"upload of one small document: {uploaded:.2f} s; then searchable from every server after "
          f"at most {max(seen):.2f} s (per server: {', '.join(f'{s:.2f}' for s in seen)}; target 2 s)")


def main() -> None:
    """Build or reuse the synthetic collection, measure retrieval, then the serving figures."""
    from rag.engine import Engine
    from rag.settings import Settings

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--store", required=True, help="milvus://HOST:PORT")
    parser.add_argument("--news", type=Path, default=NEWS, help="The realtimeqa_news eval set.")
    parser.add_argument("--limit-queries", type=int, help="Only the first N news questions.")
    parser.add_argument("--serve-collection", help="A collection with real vectors for the serving part.")
    parser.add_argument("--servers", type=int, default=4)
    parser.add_argument("--serve-set", type=Path, default=ROOT.parent / "shared" / "eval" / "clapnq_dev",
                        help="The eval set whose answerable questions are asked of every server.")
    parser.add_argument("--questions", type=int, default=10, help="Questions asked of every server.")
    args = parser.parse_args()
    os.environ.update(OFFLINE)
    engine = Engine(Settings.load(store=args.store, collection=SYNTHETIC))
    began = time.perf_counter()
    build(engine, args.news)
    print(f"collection {SYNTHETIC} ready in {time.perf_counter() - began:.0f} s")
    retrieval(engine, questions(args.news)[:args.limit_queries])
    if args.serve_collection:
        asked = [q["question"] for q in map(json.loads, (args.serve_set / "queries.jsonl").open())
                 if q.get("answers")][:args.questions]
        serving(args.store, args.serve_collection, args.servers, asked)
    engine.close()


if __name__ == "__main__":
    main()
