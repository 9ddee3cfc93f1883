"""The HTTP API (FastAPI) with the chat window mounted at `/`."""

from rag.api.app import create_app

__all__ = ["create_app"]
