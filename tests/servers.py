"""A real ``python -m rag serve`` subprocess on a free 127.0.0.1 port, started and stopped by the tests."""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from conftest import SEEDS
from procs import rag_env, wait_healthy
from procs import stop as terminate

from rag.answer.local_llm import free_port


@dataclass
class Server:
    url: str
    log: Path
    started: float
    ready_after: float
    proc: subprocess.Popen | None = None


def serve_env(tmp: Path, **extra: str) -> dict[str, str]:
    """Offline environment for a server whose seeds and uploads live under ``tmp``."""
    return rag_env(RAG_SEEDS_DIR=str(tmp / "seeds"), RAG_DATA_DIR=str(tmp / "data"),
                   GRADIO_ANALYTICS_ENABLED="False", **extra)


def wait_ready(url: str, proc: subprocess.Popen, log: Path, timeout: float = 600) -> None:
    """Poll /healthz until 200; fail with the log when the server exits or never gets ready."""
    def exited() -> str | None:
        return None if proc.poll() is None else f"rag serve exited with {proc.returncode}"

    try:
        wait_healthy(url, timeout, exited)
    except AssertionError as exc:
        raise AssertionError(f"{exc}; its log:\n{log.read_text()}") from None


def start_server(tmp: Path, *args: str, port: int | None = None,
                 **env: str) -> tuple[subprocess.Popen, str, Path]:
    """Start ``rag serve`` over ``tmp/index`` (seeds copied once), its output appended to tmp/serve.log."""
    if not (tmp / "seeds").exists():
        shutil.copytree(SEEDS, tmp / "seeds")
    port = port or free_port()
    log = tmp / "serve.log"
    with open(log, "a") as out:
        proc = subprocess.Popen([sys.executable, "-m", "rag", "serve", "--host", "127.0.0.1", "--port",
                                 str(port), "--index", str(tmp / "index"), *args],
                                env=serve_env(tmp, **env), cwd=tmp, stdout=out, stderr=subprocess.STDOUT)
    return proc, f"http://127.0.0.1:{port}", log


def stop(proc: subprocess.Popen, kill: bool = False) -> None:
    """Stop a server: SIGKILL when ``kill`` (as a crash would), else SIGTERM (procs.stop)."""
    if kill:
        proc.kill()
        proc.wait()
    else:
        terminate(proc)


@contextmanager
def running_server(tmp: Path, *args: str, **env: str) -> Iterator[Server]:
    """A ready ``rag serve`` for the duration of the block."""
    began = time.monotonic()
    proc, url, log = start_server(tmp, *args, **env)
    try:
        wait_ready(url, proc, log)
        yield Server(url, log, began, time.monotonic() - began, proc)
    finally:
        stop(proc)

