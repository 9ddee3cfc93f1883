"""Running the checkout's ``rag`` in real subprocesses, and corpora made up for them."""

from __future__ import annotations

import contextlib
import os
import random
import shutil
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from rag.answer.local_llm import free_port
from rag.settings import PROJECT_ROOT

CHROMA = shutil.which("chroma", path=str(Path(sys.executable).parent)) or shutil.which("chroma")

_WORDS = ("river bridge council budget storm harbour vaccine election rail wheat court satellite "
          "festival museum drought tariff glacier union airport reactor forest ferry senate").split()


def rag_env(**extra: str) -> dict[str, str]:
    """The environment for a rag subprocess: offline, this checkout first on the path."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("RAG_")}
    env.update(HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1", ANONYMIZED_TELEMETRY="False",
               PYTHONPATH=str(PROJECT_ROOT), **extra)
    return env


def rag_cmd(*args: str) -> list[str]:
    """``python -m rag ARGS`` for this interpreter."""
    return [sys.executable, "-m", "rag", *map(str, args)]


def start(*args: str, **env: str) -> subprocess.Popen:
    """Start ``rag ARGS`` in the background, capturing its output."""
    return subprocess.Popen(rag_cmd(*args), env=rag_env(**env), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def run(*args: str, timeout: float = 120, **env: str) -> subprocess.CompletedProcess:
    """Run ``rag ARGS`` to the end."""
    return subprocess.run(rag_cmd(*args), env=rag_env(**env), capture_output=True, text=True,
                          timeout=timeout)


def make_corpus(folder: Path, docs: int, sentences: int = 30, seed: int = 7) -> list[Path]:
    """``docs`` text files of made-up sentences (about 2 chunks each with 30 sentences)."""
    rng = random.Random(seed)
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for n in range(docs):
        lines = [" ".join(rng.choice(_WORDS) for _ in range(rng.randint(6, 14))).capitalize() + "."
                 for _ in range(sentences)]
        path = folder / f"doc{n:04d}.txt"
        path.write_text(f"Report {n} on {rng.choice(_WORDS)}.\n\n" + " ".join(lines) + "\n")
        paths.append(path)
    return paths


@contextlib.contextmanager
def chroma_server(folder: Path) -> Iterator[str]:
    """A real ``chroma run`` over ``folder`` on a free 127.0.0.1 port; its URL, stopped on exit."""
    if CHROMA is None:
        pytest.skip("the chroma command is not installed")
    port = free_port()
    server = start_chroma(folder, port)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        stop(server)


def start_chroma(folder: Path, port: int) -> subprocess.Popen:
    """A real ``chroma run`` on 127.0.0.1:port over ``folder``, once it answers its heartbeat."""
    command = [CHROMA, "run", "--path", str(folder), "--host", "127.0.0.1", "--port", str(port)]
    server = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while True:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v2/heartbeat", timeout=2)
            return server
        except OSError:
            if time.monotonic() > deadline or server.poll() is not None:
                server.kill()
                raise
            time.sleep(0.2)


@contextlib.contextmanager
def serving(index: Path, log: Path, timeout: float = 240,
            **env: str) -> Iterator[tuple[subprocess.Popen, str]]:
    """A real ``rag serve`` on a free port over ``index``, ready to answer; stopped afterwards."""
    url = f"http://127.0.0.1:{free_port()}"
    with open(log, "w") as out:
        proc = subprocess.Popen(rag_cmd("serve", "--port", url.rsplit(":", 1)[1], "--index", index),
                                env=rag_env(**env), stdout=out, stderr=subprocess.STDOUT)
    try:
        wait_healthy(url, timeout, lambda: None if proc.poll() is None else
                     f"rag serve exited with {proc.returncode}:\n{log.read_text()}")
        yield proc, url
    finally:
        stop(proc)


def wait_healthy(url: str, timeout: float = 180, failure: Callable[[], str | None] = lambda: None) -> None:
    """Poll ``url``/healthz until it answers 200; fail early with ``failure()``'s text when it has one."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if why := failure():
            raise AssertionError(why)
        try:
            if httpx.get(f"{url}/healthz", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise AssertionError(f"{url} was not ready in {timeout}s")


def stop(proc: subprocess.Popen) -> None:
    """Stop a server with SIGTERM (SIGKILL after 30 s)."""
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


MILVUS_LITE = (shutil.which("milvus-lite", path=str(Path(sys.executable).parent))
               or shutil.which("milvus-lite"))


@contextlib.contextmanager
def milvus_lite_server(data_dir: Path) -> Iterator[str]:
    """A milvus-lite server on 127.0.0.1 storing into ``data_dir``, stopped on exit; yields its URL."""
    if MILVUS_LITE is None:
        pytest.skip('milvus-lite is not installed (pip install -e ".[milvus]")')
    from pymilvus import MilvusClient

    port = free_port()
    log = open(data_dir / "server.log", "w")
    server = subprocess.Popen([MILVUS_LITE, "server", "--data-dir", str(data_dir / "data"), "--host",
                               "127.0.0.1", "--port", str(port)], stdout=log, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 60
    try:
        while True:
            try:
                MilvusClient(uri=f"http://127.0.0.1:{port}", timeout=2).list_collections()
                break
            except Exception as exc:
                if time.monotonic() > deadline or server.poll() is not None:
                    log_text = (data_dir / "server.log").read_text()
                    raise AssertionError(f"milvus-lite did not start: {log_text}") from exc
                time.sleep(0.2)
        yield f"milvus://127.0.0.1:{port}"
    finally:
        stop(server)
        log.close()
