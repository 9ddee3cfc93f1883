"""Milvus as the store: retrieval latency at ~42k chunks, and several `rag serve` processes sharing it.

    milvus-lite server --data-dir /tmp/milvus --host 127.0.0.1 --port 19530 &
    PYTHONPATH=. python benchmarks/milvus_speed.py --store milvus://127.0.0.1:19530 \
        [--serve-collection eval-clapnq_dev-1000o150tp128 --serve-set ../shared/eval/clapnq_dev --servers 4]

Retrieval: the realtimeqa_news chunk texts and metadata with random unit vectors (as
`query_speed.py --build synthetic`; built once into collection ``bench-news-synthetic``), or with
``--collection`` one that holds real vectors (moved over with `rag index --from-store`), real query
embeddings; p50/p95 of each part: a bare server round trip, the query embedding, dense, BM25, hybrid
fused by Milvus (RRF, weighted), our weighted fusion of the dense and BM25 lists, and the engine's
hybrid retriever (weighted by default: two Milvus searches fused here), each split into the time inside
MilvusClient calls (server, wire, pymilvus) and the rest (our code). Serving: ``--servers``
`rag serve` processes on one collection ask the same questions (citations must agree), then a small
document is uploaded to one and every other is polled until a search finds it.
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

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # this checkout's rag, not an installed one
sys.path.insert(0, str(ROOT / "benchmarks"))
from query_speed import NEWS, OFFLINE, fill_synthetic, percentile, questions, wait_healthy  # noqa: E402

SYNTHETIC = "bench-news-synthetic"


class ClientClock:
    """The store's MilvusClient, adding up the seconds spent inside its calls (server, wire, pymilvus)."""

    def __init__(self, client) -> None:
        self.client = client
        self.seconds = 0.0

    def __getattr__(self, name: str):
        method = getattr(self.client, name)

        def timed_call(*args, **kwargs):
            began = time.perf_counter()
            try:
                return method(*args, **kwargs)
            finally:
                self.seconds += time.perf_counter() - began

        return timed_call


def timed(function, inputs, clock: ClientClock) -> tuple[list[float], list[float]]:
    """Seconds per call of ``function`` over ``inputs``, and of that inside the client (after a warm-up)."""
    function(inputs[0])
    total, inside = [], []
    for item in inputs:
        clock.seconds = 0.0
        began = time.perf_counter()
        function(item)
        total.append(time.perf_counter() - began)
        inside.append(clock.seconds)
    return total, inside


def retrieval(engine, queries: list[str]) -> None:
    """p50/p95 of each part of retrieval, and how much of it is the Milvus client call, same run."""
    store = engine.store
    clock = store.client = ClientClock(store.client)
    vectors = {q: engine.embedder.embed_query(q) for q in queries}
    lists = {q: (store.dense_search(vectors[q], 50), store.lexical_search(q, 50)) for q in queries}
    parts = {
        "server round trip (has_collection)": lambda q: store.client.has_collection(store.chunks),
        "query embedding (no Milvus)": engine.embedder.embed_query,
        "dense, depth 50": lambda q: store.dense_search(vectors[q], 50),
        "BM25, depth 50": lambda q: store.lexical_search(q, 50),
        "hybrid in Milvus, RRF": lambda q: store.hybrid_search(q, vectors[q], 5, method="rrf"),
        "hybrid in Milvus, weighted": lambda q: store.hybrid_search(q, vectors[q], 5, method="weighted"),
        "our weighted fusion of those two lists": lambda q: weighted_fusion(*lists[q]),
        "engine hybrid retriever (embedding included)": lambda q: engine.search(q, k=5),
    }
    print(f"{store.count()} chunks, {len(queries)} queries, load average "
          f"{os.getloadavg()[0]:.1f}; 'client' = inside MilvusClient calls, 'ours' = the rest")
    for name, function in parts.items():
        total, inside = timed(function, queries, clock)
        ours = [t - i for t, i in zip(total, inside)]
        print(f"  {name:46s} p50 {1000 * statistics.median(total):7.1f} ms   p95 "
              f"{1000 * percentile(total, 95):7.1f} ms   client p50 {1000 * statistics.median(inside):7.1f} "
              f"ms   ours p50 {1000 * statistics.median(ours):6.1f} ms")
    store.client = clock.client


def weighted_fusion(dense: list, lexical: list) -> list[str]:
    """Chunk ids in the order of our weighted fusion (rag.retrieve.fusion) of a dense and a BM25 list."""
    from rag.retrieve import fusion

    cosine = {r.chunk.id: r.similarity for r in dense}
    return fusion.order(fusion.weighted(cosine, {r.chunk.id: r.lexical for r in lexical}, 0.7))


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
        for url, proc in zip(urls, procs):
            wait_healthy(url, proc)
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
    parser.add_argument("--collection", default=SYNTHETIC,
                        help="Measure this collection (e.g. the news set moved over with `rag index "
                             "--from-store`: real vectors); filled with random vectors when empty.")
    parser.add_argument("--serve-collection", help="A collection with real vectors for the serving part.")
    parser.add_argument("--servers", type=int, default=4)
    parser.add_argument("--serve-set", type=Path, default=ROOT.parent / "shared" / "eval" / "clapnq_dev",
                        help="The eval set whose answerable questions are asked of every server.")
    parser.add_argument("--questions", type=int, default=10, help="Questions asked of every server.")
    args = parser.parse_args()
    os.environ.update(OFFLINE)
    engine = Engine(Settings.load(store=args.store, collection=args.collection))
    began = time.perf_counter()
    if not engine.store.count():
        fill_synthetic(engine, args.news)
    print(f"collection {args.collection} ready in {time.perf_counter() - began:.0f} s")
    retrieval(engine, questions(args.news)[:args.limit_queries])
    if args.serve_collection:
        asked = [q["question"] for q in map(json.loads, (args.serve_set / "queries.jsonl").open())
                 if q.get("answers")][:args.questions]
        serving(args.store, args.serve_collection, args.servers, asked)
    engine.close()


if __name__ == "__main__":
    main()
