"""Starting a real ``milvus-lite server`` for tests (the optional ``milvus`` extra)."""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from rag.answer.local_llm import free_port

MILVUS_LITE = (shutil.which("milvus-lite", path=str(Path(sys.executable).parent))
               or shutil.which("milvus-lite"))


@contextmanager
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
        server.terminate()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        log.close()
