"""Opening Chroma: an embedded folder (one writer, locked) or a Chroma server over HTTP."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlparse

from rag.errors import RagError
from rag.store.lock import FolderLock


def open_client(index_dir: Path, chroma_url: str | None):
    """A Chroma client and the lock that guards it (None for a server, which guards itself)."""
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    chroma_settings = ChromaSettings(anonymized_telemetry=False)
    if chroma_url:
        url = urlparse(chroma_url if "://" in chroma_url else f"http://{chroma_url}")
        try:
            client = chromadb.HttpClient(host=url.hostname or "127.0.0.1", port=url.port or 8000,
                                         ssl=url.scheme == "https", settings=chroma_settings)
            client.heartbeat()
        except Exception as exc:  # chromadb raises bare Exceptions for connection failures
            raise RagError(f"cannot reach the Chroma server at {chroma_url}: {exc}") from exc
        return client, None
    lock = FolderLock(index_dir)
    lock.acquire()
    try:
        return chromadb.PersistentClient(path=str(index_dir), settings=chroma_settings), lock
    except Exception:
        lock.release()
        raise
