"""Where the ``rag serve`` that holds an index folder can be reached: a file beside the folder's lock.

The CLI reads it to go through the server's API instead of failing on the lock. The address only
counts while the process that wrote it still holds the lock, so a killed server's file is ignored.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from rag.store.lock import lock_holder

ADDRESS_NAME = ".rag.server.json"


def publish_address(folder: Path, url: str) -> None:
    """Record that this process serves ``folder`` at ``url``."""
    partial = folder / f".{ADDRESS_NAME}.part"
    partial.write_text(json.dumps({"url": url, "pid": os.getpid()}), encoding="utf-8")
    partial.replace(folder / ADDRESS_NAME)


def withdraw_address(folder: Path) -> None:
    """Remove the address file, if this process wrote it."""
    if _read(folder).get("pid") == os.getpid():
        (folder / ADDRESS_NAME).unlink(missing_ok=True)


def running_server(folder: Path) -> tuple[str, int] | None:
    """(url, pid) of the rag serve holding ``folder``'s lock, or None when no server holds it."""
    info = _read(folder)
    pid = info.get("pid")
    if not isinstance(info.get("url"), str) or not pid or lock_holder(folder) != pid:
        return None
    return info["url"], pid


def _read(folder: Path) -> dict:
    """The address file's fields; {} when it is missing or unreadable."""
    try:
        info = json.loads((folder / ADDRESS_NAME).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return info if isinstance(info, dict) else {}
