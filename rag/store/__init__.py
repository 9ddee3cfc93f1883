"""Where chunks live: the Store protocol (rag.store.base) and the one place a store is chosen.

``RAG_STORE`` / ``--store`` names it: a folder (embedded Chroma, the default is the index folder)
or a URL whose scheme picks the module below. Adding a store is one module implementing
``Catalog`` and ``Store`` plus one line in ``OPENERS``.
"""

from __future__ import annotations

from importlib import import_module
from pathlib import Path
from urllib.parse import urlparse

from rag.errors import InvalidRequest
from rag.store.base import Catalog, DocumentRecord, Store, VectorSpace

__all__ = ["Catalog", "DocumentRecord", "Store", "VectorSpace", "open_catalog"]

OPENERS = {  # URL scheme -> "module:function(location, side_dir) -> Catalog"
    "": "rag.store.chroma:open_folder",
    "file": "rag.store.chroma:open_folder",
    "http": "rag.store.chroma:open_server",
    "https": "rag.store.chroma:open_server",
    "chroma": "rag.store.chroma:open_server",
    "milvus": "rag.store.milvus:open_server",
}


def open_catalog(location: str | Path, side_dir: Path) -> Catalog:
    """The store at ``location`` (a folder or a URL); ``side_dir`` holds local files beside it."""
    text = str(location)
    scheme = urlparse(text).scheme.lower() if "://" in text else ""
    if scheme not in OPENERS:
        known = ", ".join(f"{s}://" for s in OPENERS if s)
        raise InvalidRequest(f"unknown store {text!r}: give a folder or a URL starting with {known}")
    module, function = OPENERS[scheme].split(":")
    target = Path(text.removeprefix("file://")).expanduser() if scheme in ("", "file") else text
    return getattr(import_module(module), function)(target, side_dir)
