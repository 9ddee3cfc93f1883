"""The chat window: a thin Gradio layer over the engine the API uses; no retrieval or answer logic here."""

from rag.window.layout import CSS, build, theme

__all__ = ["CSS", "build", "theme"]
