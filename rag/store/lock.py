"""One writer per index folder: an exclusive lock file held while the store is open."""

from __future__ import annotations

import fcntl
import os
from pathlib import Path

from rag.errors import IndexLocked

LOCK_NAME = ".rag.store.lock"


class FolderLock:
    """An flock on ``DIR/.rag.store.lock``, released when the process ends (even by kill -9)."""

    def __init__(self, folder: Path) -> None:
        self.path = folder / LOCK_NAME
        self._handle = None

    def acquire(self) -> None:
        """Take the lock or raise IndexLocked naming the process that holds it."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        handle = open(self.path, "a+")
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip() or "unknown"
            handle.close()
            raise IndexLocked(
                f"index folder {self.path.parent} is in use by another rag process (pid {holder}); "
                "stop it, use its API, or share the index through a Chroma server (--store)"
            ) from None
        handle.seek(0)
        handle.truncate()
        handle.write(str(os.getpid()))
        handle.flush()
        self._handle = handle

    def release(self) -> None:
        """Drop the lock."""
        if self._handle is not None:
            fcntl.flock(self._handle, fcntl.LOCK_UN)
            self._handle.close()
            self._handle = None


def lock_holder(folder: Path) -> int | None:
    """The pid holding ``folder``'s lock, or None when nobody holds it."""
    path = folder / LOCK_NAME
    try:
        handle = open(path)
    except OSError:
        return None
    with handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            text = handle.read().strip()
            return int(text) if text.isdigit() else -1
        fcntl.flock(handle, fcntl.LOCK_UN)
        return None
