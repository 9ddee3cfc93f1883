"""The long fuzzing campaign: schemathesis's CLI against a real `rag serve`, N cases per operation.

    PYTHONPATH=. python benchmarks/fuzz_campaign.py [--max-examples 1300]

Prints schemathesis's summary (cases run, failures by check); with 8 operations, 1,300 per operation
is over 10,000 cases. A 5xx fails `not_a_server_error`; a dropped connection is a network error.
"""

from __future__ import annotations

import argparse
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
CHECKS = "not_a_server_error,status_code_conformance,response_schema_conformance"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def ready(url: str) -> bool:
    try:
        return httpx.get(f"{url}/healthz", timeout=5).status_code == 200
    except httpx.TransportError:
        return False


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--max-examples", type=int, default=1300)
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="rag-fuzz-"))
    shutil.copytree(ROOT / "seeds", tmp / "seeds")
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = {**os.environ, "PYTHONPATH": str(ROOT), "RAG_SEEDS_DIR": str(tmp / "seeds"),
           "RAG_DATA_DIR": str(tmp / "data"), "HF_HUB_OFFLINE": "1"}
    command = [sys.executable, "-m", "rag", "serve", "--port", str(port), "--index", str(tmp / "index")]
    server = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        while not ready(url):
            time.sleep(0.5)
        began = time.perf_counter()
        done = subprocess.run(["st", "run", f"{url}/openapi.json", "--max-examples", str(args.max_examples),
                               "--checks", CHECKS, "--generation-deterministic", "--suppress-health-check",
                               "all", "--request-timeout", "120"], check=False)
        print(f"campaign took {time.perf_counter() - began:.0f}s; load average {os.getloadavg()[0]:.1f}; "
              f"schemathesis exit code {done.returncode}")
    finally:
        server.terminate()
        server.wait(timeout=60)
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
