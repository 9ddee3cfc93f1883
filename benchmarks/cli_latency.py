"""A cold `rag ask` next to a running `rag serve` (through its API) and without one (in process).

    PYTHONPATH=. python benchmarks/cli_latency.py [--runs 7] [--local-runs 3]

Every run is a fresh `python -m rag ask` process. "through the server": the index folder is held by
a `rag serve`, so the command goes through its API; "in process": the server is stopped and the
command loads the encoder and Chroma itself. "warm HTTP" is the same question sent by this
process on a kept-alive connection: what the server itself takes. The import profile of one
through-the-server run lists any heavy module (torch, chromadb, gradio, ...) it loaded.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
from serve_latency import QUESTION, ROOT, start, stop

HEAVY = ("torch", "chromadb", "gradio", "sentence_transformers", "transformers", "numpy", "langchain_core")


def cold_ask(index: Path, **env: str) -> tuple[float, float, subprocess.CompletedProcess]:
    """Wall and CPU seconds (user + system) of one fresh `rag ask` process, and what it printed.

    CPU time is the figure a loaded machine does not distort: wall time there is mostly waiting
    for a core.
    """
    environ = {**os.environ, "PYTHONPATH": str(ROOT), "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1",
               "ANONYMIZED_TELEMETRY": "False", **env}
    cpu_before, began = _children_cpu(), time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "rag", "ask", QUESTION, "--index", str(index)],
                          env=environ, capture_output=True, text=True, timeout=300)
    seconds, cpu = time.perf_counter() - began, _children_cpu() - cpu_before
    if done.returncode != 0 or "[1]" not in done.stdout:
        raise SystemExit(f"rag ask failed:\n{done.stderr}")
    return seconds, cpu, done


def _children_cpu() -> float:
    """User + system seconds of the finished child processes so far."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def heavy_imports(index: Path) -> tuple[list[str], float]:
    """Heavy top-level modules imported by a through-the-server run, and its total import time (s)."""
    *_, done = cold_ask(index, PYTHONPROFILEIMPORTTIME="1")
    rows = [line.split("|") for line in done.stderr.splitlines() if line.startswith("import time:")]
    modules = {row[2].strip() for row in rows[1:]}
    total = sum(int(row[0].split(":")[1]) for row in rows[1:] if row[1].strip().isdigit())
    return sorted(m for m in modules if m.split(".")[0] in HEAVY), total / 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--local-runs", type=int, default=3)
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="rag-cli-bench-"))
    index = folder / "index"
    try:
        proc, url, _ = start(index, folder / "data")
        try:
            through = [cold_ask(index)[:2] for _ in range(args.runs)]
            warm = warm_asks(url, args.runs)
            heavy, imports = heavy_imports(index)
        finally:
            stop(proc)
        local = [cold_ask(index)[:2] for _ in range(args.local_runs)]
    finally:
        shutil.rmtree(folder)
    load = os.getloadavg()[0]
    print(f"load average {load:.1f}")
    _report("cold rag ask through the server", through)
    print(f"warm HTTP /api/ask from one process: median {statistics.median(warm):.2f} s")
    _report("cold rag ask in process (server stopped)", local)
    for what, i in (("wall", 0), ("CPU", 1)):
        ratio = statistics.median(r[i] for r in through) / statistics.median(r[i] for r in local)
        print(f"through the server / in process, {what}: {ratio:.3f}")
    print(f"imports of a through-the-server run: {imports:.3f} s; heavy modules: {heavy or 'none'}")


def _report(name: str, runs: list[tuple[float, float]]) -> None:
    """One line: median wall and CPU seconds, and every run's wall time."""
    walls, cpus = [r[0] for r in runs], [r[1] for r in runs]
    print(f"{name}: wall median {statistics.median(walls):.2f} s (max {max(walls):.2f}), CPU median "
          f"{statistics.median(cpus):.2f} s, over {len(runs)} runs {[round(w, 2) for w in walls]}")


def warm_asks(url: str, runs: int) -> list[float]:
    """Seconds per /api/ask request on one kept-alive connection, after one warm-up request."""
    seconds = []
    with httpx.Client(base_url=url, timeout=60) as client:
        client.post("/api/ask", json={"question": QUESTION}).raise_for_status()
        for _ in range(runs):
            began = time.perf_counter()
            client.post("/api/ask", json={"question": QUESTION}).raise_for_status()
            seconds.append(time.perf_counter() - began)
    return seconds


if __name__ == "__main__":
    main()
