"""`rag serve` cold start to ready (/healthz) and warm /api/ask latency for a seed question.

    PYTHONPATH=. python benchmarks/serve_latency.py [--starts 3] [--requests 30]
    PYTHONPATH=. python benchmarks/serve_latency.py --index DIR --collection NAME [--starts 3]

Each start is a fresh `python -m rag serve` process on 127.0.0.1 (a free port). "empty index" starts
on a new folder (so it also indexes the seeds); "existing index" starts again on that folder.
Then every question of the seed eval set (tests/evalset/seeds) is asked once through /api/ask and
searched once through /api/search (the same 5 passages): their difference is the extractive answer's
own cost (candidate sentences, their embeddings, the scorer).
With ``--index``, each start opens that index instead (a copy: the server locks it) and the first
/api/search after ready is timed, then a second one, then loading the chat window's page.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
QUESTION = "How many Indian troops died in the Pathankot attack?"
SEED_QUESTIONS = ROOT / "tests" / "evalset" / "seeds" / "queries.jsonl"



def start(index: Path, data: Path, collection: str = "documents",
          log: Path | None = None) -> tuple[subprocess.Popen, str, float]:
    """Start a server (its output appended to ``log``); return it, its URL and the seconds to /healthz 200."""
    env = {**os.environ, "PYTHONPATH": str(ROOT), "RAG_DATA_DIR": str(data), "HF_HUB_OFFLINE": "1",
           "RAG_COLLECTION": collection,
           "TRANSFORMERS_OFFLINE": "1", "ANONYMIZED_TELEMETRY": "False", "GRADIO_ANALYTICS_ENABLED": "False"}
    from rag.answer.local_llm import free_port

    port = free_port()
    url = f"http://127.0.0.1:{port}"
    began = time.perf_counter()
    command = [sys.executable, "-m", "rag", "serve", "--port", str(port), "--index", str(index)]
    with open(log or os.devnull, "a") as out:
        # cwd: `python -m` puts the working directory first on the path, before PYTHONPATH
        proc = subprocess.Popen(command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
    while proc.poll() is None:
        try:
            if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                return proc, url, time.perf_counter() - began
        except httpx.TransportError:
            pass
        time.sleep(0.05)
    raise SystemExit(f"rag serve exited with {proc.returncode}" + (f"; its output: {log}" if log else ""))


def stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.terminate()
        proc.wait(timeout=30)


def timed(call) -> float:
    began = time.perf_counter()
    call()
    return (time.perf_counter() - began) * 1000


def latencies(url: str, requests: int) -> dict[str, list[float]]:
    """Milliseconds per request for /api/ask, its first SSE event, and /v1/chat/completions."""
    body = {"question": QUESTION}
    chat = {"model": "rag", "messages": [{"role": "user", "content": QUESTION}]}
    with httpx.Client(base_url=url, timeout=60) as client:
        for _ in range(3):
            client.post("/api/ask", json=body).raise_for_status()
        out: dict[str, list[float]] = {"/api/ask": [], "/api/ask stream, first event": [],
                                       "/v1/chat/completions": []}
        for _ in range(requests):
            out["/api/ask"].append(timed(lambda: client.post("/api/ask", json=body).raise_for_status()))
            out["/api/ask stream, first event"].append(timed(lambda: first_event(client, body)))
            out["/v1/chat/completions"].append(timed(lambda: client.post("/v1/chat/completions", json=chat)))
    return out


def seed_latencies(url: str, rounds: int = 3) -> dict[str, list[float]]:
    """Milliseconds per seed question for /api/search and /api/ask, and the answer stage (ask - search)."""
    questions = [json.loads(line)["question"] for line in SEED_QUESTIONS.read_text().splitlines()]
    out: dict[str, list[float]] = {"search": [], "ask": [], "answer stage": []}
    with httpx.Client(base_url=url, timeout=60) as client:
        for _ in range(rounds):
            for q in questions:
                search = timed(lambda q=q: client.post("/api/search", json={"query": q, "k": 5}))
                ask = timed(lambda q=q: client.post("/api/ask", json={"question": q}).raise_for_status())
                out["search"].append(search)
                out["ask"].append(ask)
                out["answer stage"].append(ask - search)
    return out


def first_event(client: httpx.Client, body: dict) -> None:
    with client.stream("POST", "/api/ask", json={**body, "stream": True}) as response:
        next(response.iter_lines())


def big_index(index: Path, collection: str, starts: int) -> None:
    """Ready time and the first two searches of servers started on an existing index."""
    rows = []
    with tempfile.TemporaryDirectory(prefix="rag-bench-") as data:
        for _ in range(starts):
            proc, url, ready = start(index, Path(data), collection)
            try:
                with httpx.Client(base_url=url, timeout=120) as client:
                    searches = [timed(lambda: client.post("/api/search", json={"query": QUESTION})
                                      .raise_for_status()) for _ in range(2)]
                    page = timed(lambda: client.get("/").raise_for_status())
            finally:
                stop(proc)
            rows.append((ready, *searches, page))
    ready, first, second, page = (statistics.median(column) for column in zip(*rows))
    print(f"{collection} at {index}: start to ready median {ready:.2f} s, first search {first:.0f} ms, "
          f"second {second:.0f} ms, then the window page {page:.0f} ms: ready, searched and shown "
          f"{ready + (first + page) / 1000:.2f} s; over {starts} starts (ready s, first ms, second ms, "
          f"page ms) {[tuple(round(v, 2) for v in r) for r in rows]}; load average {os.getloadavg()[0]:.1f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--starts", type=int, default=3)
    parser.add_argument("--requests", type=int, default=30)
    parser.add_argument("--index", type=Path, help="an existing index: ready time and first search")
    parser.add_argument("--collection", default="documents")
    args = parser.parse_args()
    if args.index:
        return big_index(args.index, args.collection, args.starts)
    empty, existing = [], []
    for i in range(args.starts):
        folder = Path(tempfile.mkdtemp(prefix="rag-bench-"))
        proc, _, seconds = start(folder / "index", folder / "data")
        empty.append(seconds)
        stop(proc)
        proc, url, seconds = start(folder / "index", folder / "data")
        existing.append(seconds)
        if i < args.starts - 1:  # the last server stays up for the latency runs
            stop(proc)
            shutil.rmtree(folder)
    try:
        times = latencies(url, args.requests)
        seeds = seed_latencies(url)
    finally:
        stop(proc)
        shutil.rmtree(folder)
    print(f"cold start to ready, empty index (seeds indexed): median {statistics.median(empty):.2f} s "
          f"over {args.starts} starts {[round(s, 2) for s in empty]}")
    print(f"cold start to ready, existing index:             median {statistics.median(existing):.2f} s "
          f"over {args.starts} starts {[round(s, 2) for s in existing]}")
    base = statistics.median(times["/api/ask"])
    for name, values in times.items():
        p95 = statistics.quantiles(values, n=20)[-1]
        median = statistics.median(values)
        print(f"warm {name}: median {median:.1f} ms, p95 {p95:.1f} ms, {median / base:.2f}x /api/ask "
              f"({len(values)} requests)")
    for name, values in seeds.items():
        print(f"seed questions, {name}: p50 {statistics.median(values):.1f} ms, "
              f"p95 {statistics.quantiles(values, n=20)[-1]:.1f} ms ({len(values)} requests)")


if __name__ == "__main__":
    main()
