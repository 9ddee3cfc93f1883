"""The chat window: a thin Gradio layer over the engine the API uses; no retrieval or answer logic here."""

from rag.window.gradio_import import skip_stub_regeneration

skip_stub_regeneration()  # before anything here imports gradio

from rag.window.layout import mount  # noqa: E402

__all__ = ["mount"]
