"""One factory for the answer backend: extractive (no model), an OpenAI-compatible endpoint, or a GGUF."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from rag.errors import LLMUnavailable
from rag.settings import LLMKind, Settings


@dataclass(frozen=True)
class ChatBackend:
    """A LangChain chat model and a short description of where it runs, for messages."""

    name: str
    where: str
    model: object  # a langchain_core BaseChatModel


def make_chat_backend(settings: Settings) -> ChatBackend | None:
    """The chat model for settings.llm, or None for the extractive backend."""
    kind = settings.llm_kind
    if kind == LLMKind.EXTRACTIVE:
        return None
    if kind == LLMKind.OPENAI:
        if not settings.llm_url:
            raise LLMUnavailable("the openai backend needs --llm-url (RAG_LLM_URL), for example "
                                 "http://127.0.0.1:11434/v1")
        return ChatBackend("openai", settings.llm_url, _chat_openai(settings, settings.llm_url))
    path = settings.llm.split(":", 1)[1].strip() if ":" in settings.llm else ""
    if not path:
        raise LLMUnavailable("the gguf backend needs a model file: --llm gguf:PATH")
    from rag.answer.local_llm import local_server_url

    url = local_server_url(Path(path))
    return ChatBackend("gguf", Path(path).name, _chat_openai(settings, url, api_key="local"))


def _chat_openai(settings: Settings, url: str, api_key: str | None = None):
    """A ChatOpenAI client for the endpoint: no retries, the settings' timeout and token limit."""
    try:
        from langchain_openai import ChatOpenAI
    except ImportError as exc:
        raise LLMUnavailable("the openai backend needs langchain-openai: pip install -e .") from exc
    return ChatOpenAI(base_url=url, api_key=api_key or settings.llm_api_key or "none",
                      model=settings.llm_model or "default", temperature=0.0,
                      max_tokens=settings.llm_max_tokens, timeout=settings.llm_timeout,
                      max_retries=0, streaming=True)
