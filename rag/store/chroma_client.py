"""Opening Chroma: an embedded folder (one writer, locked) or a Chroma server over HTTP."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlparse

from rag.errors import IndexDamaged, RagError, StoreUnavailable
from rag.store.integrity import check_before_open, first_line, repair_hint
from rag.store.lock import FolderLock

CONNECT_TIMEOUT = 2.0  # seconds to reach the Chroma server before a request is answered with 503


def open_client(index_dir: Path, chroma_url: str | None, check: bool = True):
    """A Chroma client and the lock that guards it (None for a server, which guards itself).

    An embedded folder is checked first (``rag.store.integrity``) unless ``check`` is False (repair).
    """
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    chroma_settings = ChromaSettings(anonymized_telemetry=False)
    if chroma_url:
        url = urlparse(chroma_url if "://" in chroma_url else f"http://{chroma_url}")
        try:
            client = chromadb.HttpClient(host=url.hostname or "127.0.0.1", port=url.port or 8000,
                                         ssl=url.scheme == "https", settings=chroma_settings)
            _bound_connect_time(client)
            client.heartbeat()
        except Exception as exc:  # chromadb raises bare Exceptions for connection failures
            raise unreachable(chroma_url, exc) from exc
        return client, None
    lock = FolderLock(index_dir)
    lock.acquire()
    try:
        if check:
            check_before_open(index_dir)
        return chromadb.PersistentClient(path=str(index_dir), settings=chroma_settings), lock
    except RagError:
        lock.release()
        raise
    except Exception as exc:  # Chroma's own errors on a folder it cannot read
        lock.release()
        raise IndexDamaged(f"the index in {index_dir} cannot be opened ({first_line(exc)}); "
                           f"{repair_hint(index_dir)}") from exc


def unreachable(chroma_url: str | None, exc: Exception) -> StoreUnavailable:
    """The one-line error for a Chroma server that does not answer."""
    return StoreUnavailable(f"cannot reach the Chroma server at {chroma_url}: {exc or type(exc).__name__}")


def _bound_connect_time(client) -> None:
    """Chroma's HTTP session waits forever by default; a server that is gone must fail within seconds."""
    import httpx

    session = getattr(getattr(client, "_server", None), "_session", None)
    if session is not None:
        session.timeout = httpx.Timeout(60.0, connect=CONNECT_TIMEOUT)
