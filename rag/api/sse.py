"""Server-sent events: one ``event:``/``data:`` block per message."""

from __future__ import annotations

import json
from collections.abc import Iterable

from fastapi.responses import StreamingResponse


def event(data: object, name: str | None = None) -> str:
    """One SSE message with JSON data (or a raw string)."""
    payload = data if isinstance(data, str) else json.dumps(data, ensure_ascii=False)
    head = f"event: {name}\n" if name else ""
    return f"{head}data: {payload}\n\n"


def stream(events: Iterable[str]) -> StreamingResponse:
    """A streaming response of already formatted events, never buffered by proxies."""
    return StreamingResponse(events, media_type="text/event-stream",
                             headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})

