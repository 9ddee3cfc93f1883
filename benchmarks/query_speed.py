"""Query speed: retrieval p50/p95 at ~50k chunks, and (once `rag serve` exists) the HTTP figures.

    nice -n 10 python benchmarks/query_speed.py --index /tmp/rag-50k --build real
    nice -n 10 python benchmarks/query_speed.py --index /tmp/rag-50k-synthetic --build synthetic

``--build real`` embeds realtimeqa_news with the fast encoder once (about 49k chunks: long);
``--build synthetic`` stores the same chunk texts and metadata with random unit vectors (minutes),
which measures the store at that size with real query embeddings; the report says which it is.
An existing index is reused. The HTTP part starts `python -m rag serve --index DIR --port N` and
measures start to ready, the extractive /api/ask p50, serving RSS, and 16 clients for 60 s; it is
skipped with a message when this checkout has no `serve` command.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # this checkout's rag, not an installed one
NEWS = ROOT.parent / "shared" / "eval" / "realtimeqa_news"
OFFLINE = {"HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "ANONYMIZED_TELEMETRY": "False"}


def percentile(values: list[float], p: float) -> float:
    """The p-th percentile (nearest rank)."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def questions(news: Path = NEWS) -> list[str]:
    """The realtimeqa_news questions."""
    return [json.loads(line)["question"] for line in (news / "queries.jsonl").open(encoding="utf-8")]


def build(engine, how: str) -> str:
    """Fill an empty index from realtimeqa_news; returns what its vectors are."""
    marker = engine.settings.index_dir / f"{engine.settings.collection}.bench_vectors"
    if engine.store.count():
        return marker.read_text() if marker.exists() else "real"
    if how == "real":
        engine.index([NEWS / "corpus.jsonl"])
        return "real"
    marker.write_text("synthetic")
    fill_synthetic(engine)
    return "synthetic"


def fill_synthetic(engine, news: Path = NEWS) -> None:
    """Write the news set's chunks with random unit vectors into the engine's store, then sync it."""
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


def retrieval_figures(engine, queries: list[str], k: int = 5) -> dict:
    """Warm per-query latency of the whole retrieval (embed + search), and of each part."""
    engine.search(queries[0], k=k)
    total, embed, search = [], [], []
    for query in queries:
        began = time.perf_counter()
        vector = engine.embedder.embed_query(query)
        mid = time.perf_counter()
        engine.store.dense_search(vector, k)
        end = time.perf_counter()
        engine.search(query, k=k)
        total.append(time.perf_counter() - end)
        embed.append(mid - began)
        search.append(end - mid)
    return {"total": total, "embed": embed, "search": search}


def serve_available() -> bool:
    """True when this checkout's rag has a `serve` command."""
    done = subprocess.run([sys.executable, "-m", "rag", "serve", "--help"], capture_output=True,
                          env={**os.environ, **OFFLINE, "PYTHONPATH": str(ROOT)})
    return done.returncode == 0



def start_server(index: Path, port: int) -> tuple[subprocess.Popen, float]:
    """Start `rag serve` and wait for /healthz; returns the process and seconds to ready."""
    began = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-m", "rag", "serve", "--index", str(index), "--port",
                             str(port)], env={**os.environ, **OFFLINE, "PYTHONPATH": str(ROOT)},
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_healthy(f"http://127.0.0.1:{port}", proc)
    except RuntimeError:
        proc.kill()
        raise
    return proc, time.perf_counter() - began


def wait_healthy(url: str, proc: subprocess.Popen, timeout: float = 300) -> None:
    """Poll ``url``/healthz until it answers 200; RuntimeError when the server exits or times out."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"rag serve exited with {proc.returncode}")
        try:
            with urllib.request.urlopen(f"{url}/healthz", timeout=2) as reply:
                if reply.status == 200:
                    return
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(0.1)
    raise RuntimeError(f"rag serve at {url} was not ready in {timeout:.0f} s")


def ask(port: int, question: str) -> float:
    """One POST /api/ask; returns its latency (raises on an error status)."""
    body = json.dumps({"question": question}).encode()
    request = urllib.request.Request(f"http://127.0.0.1:{port}/api/ask", data=body,
                                     headers={"Content-Type": "application/json"})
    began = time.perf_counter()
    with urllib.request.urlopen(request, timeout=60) as reply:
        reply.read()
    return time.perf_counter() - began


def rss_mb(pid: int) -> tuple[float, float]:
    """(current, peak) resident set size of a process, from /proc."""
    fields = dict(line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines())
    return int(fields["VmRSS"].split()[0]) / 1024, int(fields["VmHWM"].split()[0]) / 1024


def load_run(port: int, queries: list[str], clients: int = 16, seconds: float = 60.0) -> dict:
    """``clients`` threads asking in a loop for ``seconds``: requests/s, p95, errors."""
    latencies: list[float] = []
    errors: list[str] = []
    stop = time.perf_counter() + seconds

    def client(n: int) -> None:
        i = n
        while time.perf_counter() < stop:
            try:
                latencies.append(ask(port, queries[i % len(queries)]))
            except Exception as exc:  # every failure counts, whatever its kind
                errors.append(repr(exc))
            i += clients

    threads = [threading.Thread(target=client, args=(n,)) for n in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return {"requests_per_s": len(latencies) / seconds, "p95": percentile(latencies, 95) if latencies
            else float("nan"), "errors": len(errors), "first_error": errors[0] if errors else None}


def http_figures(index: Path, queries: list[str], load_seconds: float) -> None:
    """Start to ready, /api/ask p50, RSS and the load run against a real `rag serve`."""
    from rag.answer.local_llm import free_port

    port = free_port()
    proc, ready = start_server(index, port)
    try:
        print(f"rag serve start to ready: {ready:.1f} s (target <= 15 s)")
        ask(port, queries[0])
        latencies = [ask(port, q) for q in queries[:50]]
        print(f"/api/ask extractive, warm, {len(latencies)} questions: p50 "
              f"{1000 * statistics.median(latencies):.0f} ms, p95 {1000 * percentile(latencies, 95):.0f} ms"
              " (target p50 <= 150 ms)")
        now, peak = rss_mb(proc.pid)
        print(f"serving RSS after asking: {now:.0f} MB (peak {peak:.0f} MB; target <= 1.5 GB)")
        load = load_run(port, queries, seconds=load_seconds)
        print(f"load, 16 clients for {load_seconds:.0f} s: {load['requests_per_s']:.1f} requests/s, p95 "
              f"{1000 * load['p95']:.0f} ms, errors {load['errors']} (target 0)"
              + (f"; first error: {load['first_error']}" if load["errors"] else ""))
        print("serving RSS after the load run: {:.0f} MB (peak {:.0f} MB)".format(*rss_mb(proc.pid)))
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def main() -> None:
    """Build or reuse the index, measure retrieval, then the HTTP figures when `serve` exists."""
    from rag.engine import Engine
    from rag.settings import Settings

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--index", type=Path, required=True, help="Index folder (built when empty).")
    parser.add_argument("--build", choices=["real", "synthetic"], default="synthetic")
    parser.add_argument("--load-seconds", type=float, default=60.0)
    args = parser.parse_args()
    os.environ.update(OFFLINE)
    engine = Engine(Settings.load(index_dir=args.index))
    began = time.perf_counter()
    vectors = build(engine, args.build)
    print(f"index {args.index}: {engine.store.count()} chunks, {vectors} vectors "
          f"(ready in {time.perf_counter() - began:.0f} s)")
    queries = questions()
    got = retrieval_figures(engine, queries)
    for part in ("total", "embed", "search"):
        values = got[part]
        target = " (target p50 <= 30 ms)" if part == "total" else ""
        print(f"retrieval {part:>6}, {len(values)} queries, k=5: p50 "
              f"{1000 * statistics.median(values):.1f} ms, "
              f"p95 {1000 * percentile(values, 95):.1f} ms{target}")
    engine.close()
    if serve_available():
        http_figures(args.index, queries, args.load_seconds)
    else:
        print("skipped the HTTP figures (start, /api/ask p50, RSS, 16-client load): this checkout has "
              "no `rag serve` command yet")


if __name__ == "__main__":
    main()
