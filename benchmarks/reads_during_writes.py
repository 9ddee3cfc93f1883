"""Questions asked while a large upload indexes: latency p50/p95 before and during, from a real `rag serve`.

    PYTHONPATH=. python benchmarks/reads_during_writes.py [--mb 20] [--every 0.5]
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
QUESTION = "How many Indian troops died in the Pathankot attack?"
WORDS = "river bridge council budget storm harbour vaccine election rail wheat court festival museum".split()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def big_file(mb: float) -> bytes:
    """About ``mb`` MB of made-up sentences."""
    rng = random.Random(3)
    out, size = [], 0
    while size < mb * 2**20:
        line = " ".join(rng.choice(WORDS) for _ in range(12)).capitalize() + ". "
        out.append(line)
        size += len(line)
    return "".join(out).encode()


def ask(url: str) -> float:
    began = time.perf_counter()
    reply = httpx.post(f"{url}/api/ask", json={"question": QUESTION}, timeout=300)
    reply.raise_for_status()
    return time.perf_counter() - began


def percentiles(values: list[float]) -> str:
    ordered = sorted(values)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return f"n={len(values)} p50={statistics.median(ordered):.3f}s p95={p95:.3f}s max={ordered[-1]:.3f}s"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--mb", type=float, default=20)
    parser.add_argument("--every", type=float, default=0.5, help="seconds between questions")
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="rag-rw-"))
    shutil.copytree(ROOT / "seeds", tmp / "seeds")
    port = free_port()
    env = {**os.environ, "PYTHONPATH": str(ROOT), "RAG_SEEDS_DIR": str(tmp / "seeds"),
           "RAG_DATA_DIR": str(tmp / "data"), "RAG_MAX_UPLOAD_BYTES": str(int((args.mb + 1) * 2**20)),
           "RAG_MAX_FILE_BYTES": str(int((args.mb + 1) * 2**20)), "HF_HUB_OFFLINE": "1"}
    url = f"http://127.0.0.1:{port}"
    command = [sys.executable, "-m", "rag", "serve", "--port", str(port), "--index", str(tmp / "index")]
    server = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        while not _ready(url):
            time.sleep(0.5)
        before = [ask(url) for _ in range(10)]
        data, done, during = big_file(args.mb), threading.Event(), []
        began = time.perf_counter()

        def upload() -> None:
            httpx.post(f"{url}/api/documents", files={"files": ("big.txt", data)}, timeout=3600)
            done.set()

        threading.Thread(target=upload).start()
        time.sleep(2)  # the file is received and being indexed
        while not done.is_set():
            during.append(ask(url))
            time.sleep(args.every)
        upload_s = time.perf_counter() - began
        print(f"upload {len(data) / 2**20:.1f} MB indexed in {upload_s:.1f}s; "
              f"load average {os.getloadavg()[0]:.1f}")
        print(f"before: {percentiles(before)}")
        print(f"during: {percentiles(during)}")
    finally:
        server.terminate()
        server.wait(timeout=60)
        shutil.rmtree(tmp, ignore_errors=True)


def _ready(url: str) -> bool:
    try:
        return httpx.get(f"{url}/healthz", timeout=5).status_code == 200
    except httpx.TransportError:
        return False


if __name__ == "__main__":
    main()
