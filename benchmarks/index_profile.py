"""Where `rag index` spends wall time beyond its encoder: store writes and interpreter stalls.

Indexes the first ``--limit`` realtimeqa_news articles in this process (after the model load), with a
watcher thread that wakes every 2 ms: a wake-up later than 20 ms means some thread held Python's
interpreter lock that long, so the encoding threads could not go on either. Prints the stalls (how
much of them fell inside store writes), each write, and the overhead over the encoder alone on the
same inputs (title + chunk text), embedded afterwards in the same process.

    PYTHONPATH=. python benchmarks/index_profile.py --limit 400
"""

from __future__ import annotations

import argparse
import tempfile
import threading
import time
from pathlib import Path

from index_speed import cpu_seconds, subset

Span = tuple[float, float]
STALL = 0.02  # seconds: a later wake-up of the watcher counts as a stall


class Watcher:
    """A thread that wakes every 2 ms and keeps the spans it could not run."""

    def __init__(self) -> None:
        self.stalls: list[Span] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, daemon=True)

    def __enter__(self) -> Watcher:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()

    def _watch(self) -> None:
        last = time.perf_counter()
        while not self._stop.wait(0.002):
            now = time.perf_counter()
            if now - last > STALL:
                self.stalls.append((last, now))
            last = now


def timed_writes(store) -> list[Span]:
    """Record the span of each ``store.write`` from now on."""
    spans: list[Span] = []
    write = store.write

    def recorded(*args) -> None:
        began = time.perf_counter()
        write(*args)
        spans.append((began, time.perf_counter()))

    store.write = recorded
    return spans


def inside(spans: list[Span], within: list[Span]) -> float:
    """Seconds of ``spans`` that fall inside ``within``."""
    return sum(max(0.0, min(end, e) - max(start, s)) for start, end in spans for s, e in within)


def main() -> None:
    """Index, then embed the same inputs alone; print the comparison."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--limit", type=int, default=400, help="First N articles.")
    args = parser.parse_args()
    from rag.engine import Engine
    from rag.ingest.indexer import chunk_vectors
    from rag.settings import Settings

    with tempfile.TemporaryDirectory(prefix="rag-index-profile-") as tmp:
        corpus = subset(args.limit, Path(tmp))
        settings = Settings.load(environ={}, index_dir=Path(tmp) / "index")
        engine = Engine(settings)
        engine.embedder.embed(["warm up"])
        writes = timed_writes(engine.store)
        with Watcher() as watcher:
            began, cpu = time.perf_counter(), cpu_seconds()
            report = engine.index([corpus])
            wall, used = time.perf_counter() - began, cpu_seconds() - cpu
        stalls = watcher.stalls
        print(f"index: {wall:.1f}s wall, {used:.1f}s CPU, {report.chunks} chunks")
        print(f"stalls over {1000 * STALL:.0f} ms: {len(stalls)}, {sum(e - s for s, e in stalls):.2f}s, "
              f"{inside(stalls, writes):.2f}s of them inside store writes")
        print("writes (start + seconds):", ", ".join(f"{s - began:.1f}+{e - s:.2f}" for s, e in writes))
        chunks = list(engine.store.all_chunks())
        began, cpu = time.perf_counter(), cpu_seconds()
        chunk_vectors(engine.embedder, engine.store, chunks, settings.title_in_chunk)
        alone, alone_cpu = time.perf_counter() - began, cpu_seconds() - cpu
        print(f"encoder alone on the same inputs: {alone:.1f}s wall, {alone_cpu:.1f}s CPU; overhead "
              f"{100 * (wall / alone - 1):+.1f}% wall, {100 * (used / alone_cpu - 1):+.1f}% CPU")
        engine.close()


if __name__ == "__main__":
    main()
