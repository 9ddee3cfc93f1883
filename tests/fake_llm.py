"""A small OpenAI-compatible chat server for the tests: scripted replies, real HTTP on 127.0.0.1."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class FakeLLM:
    """Serves /v1/chat/completions; ``mode`` picks the behaviour, ``requests`` records what came in."""

    def __init__(self, mode: str = "ok", answer: str | Callable[[dict], str] = "",
                 condensed: str = "", delay: float = 0.0):
        self.mode, self.answer, self.condensed, self.delay = mode, answer, condensed, delay
        self.requests: list[dict] = []
        self.server = _QuietServer(("127.0.0.1", 0), _handler(self))
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/v1"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        """Stop serving."""
        self.server.shutdown()
        self.server.server_close()

    def reply(self, body: dict) -> str:
        """The text for a request: the condensed question for a rewrite request, else the answer."""
        system = body["messages"][0]["content"]
        if system.startswith("Rewrite"):
            return self.condensed
        return self.answer(body) if callable(self.answer) else self.answer


class _QuietServer(ThreadingHTTPServer):
    """A threading HTTP server that does not print the broken pipes of clients that gave up."""

    def handle_error(self, request, client_address) -> None:
        """Clients hanging up mid-reply is what the fault tests do on purpose."""


def _handler(fake: FakeLLM) -> type[BaseHTTPRequestHandler]:
    """A request handler class bound to one FakeLLM."""

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args) -> None:
            """Quiet."""

        def do_POST(self) -> None:
            """Answer a chat completion the way the fake's mode says."""
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            fake.requests.append(body)
            if fake.mode == "error":
                return self._send(500, "application/json", b'{"error": {"message": "boom"}}')
            if fake.mode == "slow":
                time.sleep(fake.delay)
            if fake.mode == "garbage":
                return self._send(200, "text/event-stream", b"data: {not json at all\n\n")
            if fake.mode == "trickle":
                return self._trickle(body)
            self._stream(fake.reply(body))

        def _stream(self, text: str) -> None:
            """The reply as OpenAI stream chunks, a few characters each."""
            self._start(200, "text/event-stream")
            pieces = [text[i:i + 6] for i in range(0, len(text), 6)]
            for piece in pieces:
                self._event({"choices": [{"index": 0, "delta": {"content": piece}}]})
            self._event({"choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]})
            self.wfile.write(b"data: [DONE]\n\n")

        def _trickle(self, body: dict) -> None:
            """A reply that never ends: one token every half second."""
            self._start(200, "text/event-stream")
            for _ in range(200):
                self._event({"choices": [{"index": 0, "delta": {"content": "and "}}]})
                time.sleep(0.5)

        def _event(self, chunk: dict) -> None:
            """One server-sent event."""
            chunk.update(id="chatcmpl-fake", object="chat.completion.chunk", created=0, model="fake")
            self.wfile.write(f"data: {json.dumps(chunk)}\n\n".encode())
            self.wfile.flush()

        def _start(self, status: int, kind: str) -> None:
            """Status line and headers; the body ends when the connection closes."""
            self.send_response(status)
            self.send_header("Content-Type", kind)
            self.send_header("Connection", "close")
            self.end_headers()

        def _send(self, status: int, kind: str, data: bytes) -> None:
            """A whole response."""
            self._start(status, kind)
            self.wfile.write(data)

    return Handler
