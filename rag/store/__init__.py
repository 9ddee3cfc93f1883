"""Where chunks live: the Store protocol (rag.store.base) and the one place a store is chosen.

``RAG_STORE`` / ``--store`` names it: a folder (embedded Chroma, the default is the index folder)
or a URL whose scheme picks the module below. Adding a store is one module implementing
``Catalog`` and ``Store`` plus one line in ``OPENERS``.
"""

from __future__ import annotations

from importlib import import_module
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlparse

from rag.errors import InvalidRequest
from rag.settings import Settings

if TYPE_CHECKING:
    from rag.store.base import Catalog

__all__ = ["Catalog", "DocumentRecord", "Store", "VectorSpace", "catalog_for", "embedded_folder",
           "open_catalog"]
_PROTOCOL = ("Catalog", "DocumentRecord", "Store", "VectorSpace")

OPENERS = {  # URL scheme -> "module:function(location, side_dir) -> Catalog"
    "": "rag.store.chroma:open_folder",
    "file": "rag.store.chroma:open_folder",
    "http": "rag.store.chroma:open_server",
    "https": "rag.store.chroma:open_server",
    "chroma": "rag.store.chroma:open_server",
    "milvus": "rag.store.milvus:open_server",
}


def __getattr__(name: str):
    """The protocol types, imported on first use: the CLI reads a lock file without loading numpy."""
    if name in _PROTOCOL:
        from rag.store import base

        return getattr(base, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def open_catalog(location: str | Path, side_dir: Path, repairing: str | None = None) -> Catalog:
    """The store at ``location`` (a folder or a URL); ``side_dir`` holds local files beside it.

    ``repairing`` names a collection whose derived vector index is to be dropped and rebuilt.
    """
    scheme = _scheme(location)
    if scheme not in OPENERS:
        known = ", ".join(f"{s}://" for s in OPENERS if s)
        raise InvalidRequest(f"unknown store {str(location)!r}: give a folder or a URL starting with {known}")
    module, function = OPENERS[scheme].split(":")
    target = embedded_folder(location) or str(location)
    return getattr(import_module(module), function)(target, side_dir, repairing)


def catalog_for(settings: Settings) -> Catalog:
    """The store the settings name (``store``, else the index folder); side files in the index folder."""
    return open_catalog(settings.store or settings.index_dir, settings.index_dir)


def embedded_folder(location: str | Path) -> Path | None:
    """The folder of a store kept in a local folder (where its lock lives); None for a server URL."""
    if _scheme(location) not in ("", "file"):
        return None
    return Path(str(location).removeprefix("file://")).expanduser()


def _scheme(location: str | Path) -> str:
    """The URL scheme of a store location, "" for a plain folder."""
    text = str(location)
    return urlparse(text).scheme.lower() if "://" in text else ""
