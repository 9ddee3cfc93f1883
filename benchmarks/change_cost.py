"""What one change costs on a big index: open, add / change / delete one small document, retrieval.

    PYTHONPATH=. python benchmarks/change_cost.py --index /work/NAME-evalindex \\
        --collection eval-realtimeqa_news-1000o150tp128
    PYTHONPATH=. python benchmarks/change_cost.py --index /work/NAME-synth --synthetic 210000

The first form uses a copy of an index that ``rag eval`` built (never the shared one). The second
builds (once, reused after) a scratch collection of at least N chunks: the realtimeqa_news chunk
texts and metadata repeated under new ids, with random unit vectors written straight into Chroma,
so the encoder is not the cost. Run from a checkout (its own ``rag`` is imported), so the same
script measures another branch. The index is opened and searched once before anything is timed
(building whatever that checkout builds on first use); then, in one process and one run:
open-to-first-search on a fresh engine, ``--reps`` times add / change / delete of a three-line
document (each followed by a search that must see the change), and the retrieval latency
(query embedding included) over the news questions. Prints medians, p95 and the load average;
each step also with the CPU seconds the process spent on it (all threads), which a busy machine
inflates far less than wall time.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # this checkout's rag, not an installed one
NEWS = ROOT.parent / "shared" / "eval" / "realtimeqa_news"
if not NEWS.exists():
    NEWS = Path("/work/shared/eval/realtimeqa_news")
for name, value in {"HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1",
                    "ANONYMIZED_TELEMETRY": "False"}.items():
    os.environ.setdefault(name, value)

from rag.embedding import shared_embedder  # noqa: E402
from rag.engine import Engine  # noqa: E402
from rag.eval.data import read_eval_set  # noqa: E402
from rag.eval.harness import EvalOptions, collection_name  # noqa: E402
from rag.settings import Settings  # noqa: E402

SYNTHETIC = "synthetic-news"
PROBE = "zorblax quarterly tangerine"  # words no news article has: only the benchmark's document


def percentile(values: list[float], p: float) -> float:
    """The p-th percentile (nearest rank)."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def questions() -> list[str]:
    """The realtimeqa_news questions."""
    return [json.loads(line)["question"] for line in (NEWS / "queries.jsonl").open(encoding="utf-8")]


def build_synthetic(engine: Engine, target: int) -> None:
    """Fill the collection with repeated news chunks under new ids and random unit vectors."""
    from rag.ingest.chunking import chunk_document
    from rag.ingest.loaders import load_file

    docs = load_file(NEWS / "corpus.jsonl")
    chunked = [(d, chunk_document(d, engine.settings.chunk_size, engine.settings.chunk_overlap))
               for d in docs]
    per_copy = sum(len(c) for _, c in chunked)
    copy = engine.store.count() // per_copy  # copies already built are kept
    rng = np.random.default_rng(copy)
    while engine.store.count() < target:
        for i in range(0, len(chunked), 500):
            batch = [(replace(d, id=f"{d.id}~{copy}"),
                      [replace(c, id=f"{c.id}~{copy}", doc_id=f"{d.id}~{copy}") for c in cs])
                     for d, cs in chunked[i:i + 500]]
            chunks = [c for _, cs in batch for c in cs]
            vectors = rng.standard_normal((len(chunks), engine.embedder.dimension)).astype(np.float32)
            vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
            engine.store.write([d for d, _ in batch], chunks, vectors)
        copy += 1
        print(f"  built copy {copy}: {engine.store.count()} chunks ({per_copy} per copy)", flush=True)


def cpu() -> float:
    """CPU seconds of this process so far, every thread."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def timed(fn) -> tuple[float, float]:
    """Wall and CPU seconds one call takes."""
    began, began_cpu = time.perf_counter(), cpu()
    fn()
    return time.perf_counter() - began, cpu() - began_cpu


def change_cycle(engine: Engine, folder: Path, n: int) -> dict[str, tuple[float, float]]:
    """Add, change and delete one three-line document; each step checked by a search."""
    path = folder / f"bench-note-{n}.txt"
    path.write_text(f"date 2022-06-30\nBenchmark note {n}\nThe {PROBE} report came out on Thursday.\n")
    add = timed(lambda: engine.index([path]))
    hit = engine.search(PROBE, k=1)[0]
    assert PROBE in hit.chunk.text, "the added document is not found"
    path.write_text(f"date 2022-07-01\nBenchmark note {n}\nThe {PROBE} report was revised on Friday.\n")
    change = timed(lambda: engine.index([path]))
    hit = engine.search(PROBE, k=1)[0]
    assert "revised" in hit.chunk.text, "the changed document is not found"
    delete = timed(lambda: engine.delete_document(hit.chunk.doc_id))
    after: list = []
    search_after_delete = timed(lambda: after.extend(engine.search(PROBE, k=3)))
    assert all(PROBE not in r.chunk.text for r in after), "the deleted document is still found"
    return {"add": add, "change": change, "delete": delete, "search_after_delete": search_after_delete}


def retrieval(engine: Engine, queries: list[str]) -> list[tuple[float, float]]:
    """Wall and CPU seconds per search (embedding included), warm."""
    engine.search(queries[0], k=5)
    return [timed(lambda q=q: engine.search(q, k=5)) for q in queries]


def line(name: str, values: list[tuple[float, float]]) -> str:
    """Median wall and CPU milliseconds, and each wall figure."""
    wall = statistics.median(v[0] for v in values) * 1000
    used = statistics.median(v[1] for v in values) * 1000
    each = ", ".join(f"{v[0] * 1000:.0f}" for v in values)
    return f"{name:>20}: p50 {wall:8.0f} ms wall, {used:6.0f} ms CPU   (wall each: {each})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--index", type=Path, required=True)
    parser.add_argument("--collection", default=None)
    parser.add_argument("--synthetic", type=int, default=0, help="build a scratch collection of N chunks")
    parser.add_argument("--reps", type=int, default=3)
    args = parser.parse_args()
    settings = Settings.load(index_dir=args.index)
    collection = args.collection or (SYNTHETIC if args.synthetic else
                                     collection_name(read_eval_set(NEWS), settings, EvalOptions()))
    settings = replace(settings, collection=collection)
    embedder = shared_embedder(settings.embed_batch_size, settings.encoder)
    embedder.embed_query("warm up")
    engine = Engine(settings, embedder=embedder)
    if args.synthetic:
        build_synthetic(engine, args.synthetic)
    first_use = timed(lambda: engine.search("warm up the lexical index", k=5))[0]
    chunks = engine.store.count()
    engine.close()
    engine = Engine(settings, embedder=embedder)
    open_to_search = timed(lambda: engine.search("How many troops died in the attack?", k=5))
    with tempfile.TemporaryDirectory() as tmp:
        cycles = [change_cycle(engine, Path(tmp), n) for n in range(args.reps)]
    latencies = retrieval(engine, questions())
    engine.close()
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"\n{collection}: {chunks} chunks; code at {ROOT}; load average {os.getloadavg()[0]:.1f}")
    print(f"first use after the build (not timed below): {first_use:.2f} s")
    print(line("open to first search", [open_to_search]))
    for step in ("add", "change", "delete", "search_after_delete"):
        print(line(step, [c[step] for c in cycles]))
    walls = [wall for wall, _ in latencies]
    print(f"{'hybrid retrieval':>20}: p50 {percentile(walls, 50) * 1000:.1f} ms, "
          f"p95 {percentile(walls, 95) * 1000:.1f} ms wall, CPU p50 "
          f"{statistics.median(used for _, used in latencies) * 1000:.1f} ms over {len(walls)} questions")
    print(f"peak RSS {rss:.0f} MB")


if __name__ == "__main__":
    main()
