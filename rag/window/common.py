"""What the window's parts share: how they reach the engine and how errors read."""

from __future__ import annotations

import logging
from collections.abc import Callable

from rag.engine import Engine
from rag.errors import RagError

EngineGetter = Callable[[str | None], Engine]  # the engine for a collection (None: the default one)
log = logging.getLogger("rag.serve")


def human(exc: Exception) -> str:
    """A sentence for people: domain errors say what is wrong; anything else is logged, not shown."""
    if isinstance(exc, RagError):
        text = str(exc)
        return text[:1].upper() + text[1:] + ("" if text.endswith(".") else ".")
    log.error("the chat window hit an internal error", exc_info=exc)
    return "Something went wrong on our side; the server log has the details."


def plural(n: int, word: str) -> str:
    """``1 passage``, ``3 passages``."""
    return f"{n} {word}" if n == 1 else f"{n} {word}s"
