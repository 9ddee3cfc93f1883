"""One Settings object: defaults, then RAG_* environment variables, then explicit overrides; checked.

Each setting has one name: ``RAG_<FIELD>`` in the environment and ``--<field>`` on the command line.
Modes are enumerations: an unknown value is refused with the list of valid ones, when loaded.
"""

from __future__ import annotations

import os
from dataclasses import Field, dataclass, fields, replace
from enum import StrEnum
from pathlib import Path

from rag.errors import InvalidSetting, LLMUnavailable

PROJECT_ROOT = Path(__file__).resolve().parent.parent


class RetrieverKind(StrEnum):
    """How passages are ranked."""

    DENSE = "dense"
    LEXICAL = "lexical"
    HYBRID = "hybrid"


class Fusion(StrEnum):
    """How the hybrid retriever fuses its dense and BM25 lists."""

    WEIGHTED = "weighted"
    RRF = "rrf"


class Encoder(StrEnum):
    """The encoder variant: fast (bfloat16) or exact (float32); stored on each collection."""

    FAST = "fast"
    EXACT = "exact"


class LLMKind(StrEnum):
    """The answer backend's kind; ``gguf`` takes a model file: ``gguf:PATH``."""

    EXTRACTIVE = "extractive"
    OPENAI = "openai"
    GGUF = "gguf"


LLM_CHOICES = "extractive, openai or gguf:PATH"
DOCUMENT_PIECE_RANGE = (16, 256)  # 256: MiniLM's window (rag.minilm.MAX_TOKENS); it reads no more
_TRUE, _FALSE = ("1", "true", "yes", "on"), ("0", "false", "no", "off")


@dataclass(frozen=True)
class Settings:
    """Everything the engine needs to know; built once and passed down."""

    index_dir: Path = PROJECT_ROOT / "index"
    collection: str = "documents"
    store: str | None = None  # a folder or a server URL (rag.store); None: the index folder
    seeds_dir: Path = PROJECT_ROOT / "seeds"
    data_dir: Path = PROJECT_ROOT / "data"
    chunk_size: int = 1000
    chunk_overlap: int = 150
    top_k: int = 5
    embed_batch_size: int = 16  # texts per encoder pass: 1-5% less CPU than 32 (encoder_speed.py)
    encoder: Encoder = Encoder.FAST
    # Word pieces of a chunk its vector reads ([CLS] and [SEP] included), for collections made from now
    # on; a collection keeps the number it was made with. None: by retriever (vector_pieces).
    document_pieces: int | None = None
    max_file_bytes: int = 20 * 1024 * 1024  # larger files are skipped and reported
    index_batch: int = 1024  # chunks per encoder call and store write while indexing
    retriever: RetrieverKind = RetrieverKind.HYBRID
    fusion: Fusion = Fusion.WEIGHTED
    fusion_weight: float = 0.7
    fusion_depth: int = 50
    rerank: tuple[str, ...] = ()  # rerank stages in order (rag.pipeline.RERANKERS); env: comma-separated
    recency_half_life: float = 14.0  # days; with an as-of date, tuned on the news quiz (RESULTS.md)
    recency_weight: float = 0.2
    title_in_chunk: bool = True  # embed "title\ntext": +0.067 dense nDCG@10 on the full news set
    llm: str = LLMKind.EXTRACTIVE.value  # extractive, openai or gguf:PATH
    llm_url: str | None = None
    llm_model: str | None = None
    llm_api_key: str | None = None
    llm_timeout: float = 60.0
    llm_max_tokens: int = 256
    min_support: float = 0.6  # similarity a cited sentence needs to support a generated one
    api_token: str | None = None  # everything: ask, search, upload, delete
    read_token: str | None = None  # ask, search and citations only (needs api_token set too)
    strict: bool = False  # remove generated sentences the documents do not support (else mark them)
    max_question_chars: int = 2000
    max_input_chars: int = 20000  # question plus conversation history
    max_upload_bytes: int = 20 * 1024 * 1024

    def __post_init__(self) -> None:
        for name, kind in (("retriever", RetrieverKind), ("fusion", Fusion), ("encoder", Encoder)):
            object.__setattr__(self, name, _member(name, getattr(self, name), kind))
        llm_kind(self.llm)
        object.__setattr__(self, "rerank", tuple(self.rerank))
        low, high = DOCUMENT_PIECE_RANGE
        if self.document_pieces is not None and not low <= self.document_pieces <= high:
            raise InvalidSetting(f"RAG_DOCUMENT_PIECES (--document-pieces) must be between {low} and {high}; "
                                 f"got {self.document_pieces}")

    @property
    def documents_root(self) -> Path:
        """The folder holding the index: files under it get ids from their path relative to it."""
        return self.index_dir.expanduser().resolve().parent

    @property
    def vector_pieces(self) -> int:
        """The word pieces of each chunk a new collection's vectors read: document_pieces when set.

        Else 128 where BM25 reads the whole chunk beside the vector (hybrid, lexical): MiniLM was trained
        on inputs of at most 128, chunks embed in 0.57 of the encoder time of 256, and hybrid nDCG@10
        holds or gains on all three dev sets. Dense retrieval alone has nothing that reads the rest of
        the chunk (cut at 128 it loses 0.014 nDCG@10 on news, 0.007 on clapnq), so it embeds the whole
        window. Figures: benchmarks/RESULTS.md.
        """
        if self.document_pieces is not None:
            return self.document_pieces
        return DOCUMENT_PIECE_RANGE[1] if self.retriever is RetrieverKind.DENSE else 128

    @property
    def llm_kind(self) -> LLMKind:
        """The answer backend's kind."""
        return llm_kind(self.llm)

    @classmethod
    def load(cls, environ: dict[str, str] | None = None, **overrides: object) -> Settings:
        """Build settings from the environment (RAG_<FIELD>) and keyword overrides (None is ignored)."""
        env = os.environ if environ is None else environ
        values: dict[str, object] = {}
        for field in fields(cls):
            raw = env.get(f"RAG_{field.name.upper()}")
            if raw not in (None, ""):
                values[field.name] = _coerce(field.name, raw, _kind(cls, field))
        values.update({k: v for k, v in overrides.items() if v is not None})
        for name in ("index_dir", "seeds_dir", "data_dir"):
            if name in values:
                values[name] = Path(values[name]).expanduser()  # type: ignore[arg-type]
        return replace(cls(), **values)


def llm_kind(spec: str) -> LLMKind:
    """The backend kind named by a --llm value (``gguf:PATH`` -> gguf), or LLMUnavailable."""
    kind = spec.split(":", 1)[0].strip().lower()
    if kind not in LLMKind._value2member_map_:
        raise LLMUnavailable(f"unknown LLM backend {spec!r}: choose {LLM_CHOICES}")
    return LLMKind(kind)


def _member(name: str, value: object, kind: type[StrEnum]) -> StrEnum:
    """``value`` as a member of ``kind``, or an error listing the valid values."""
    try:
        return kind(str(value).strip().lower())
    except ValueError:
        valid = ", ".join(m.value for m in kind)
        raise InvalidSetting(f"RAG_{name.upper()} (--{name}) must be one of {valid}; got {value!r}") from None


def _kind(cls: type, field: Field) -> type:
    """The type an environment string becomes: the default's; for an optional number, the number's."""
    default = getattr(cls, field.name, "")
    if default is None:
        return {"int | None": int, "float | None": float}.get(str(field.type), str)
    return type(default)


def _coerce(name: str, raw: str, kind: type) -> object:
    """Turn an environment string into the field's type, with an error naming the variable."""
    if kind is bool:
        word = raw.strip().lower()
        if word not in _TRUE + _FALSE:
            raise InvalidSetting(f"RAG_{name.upper()} must be true or false (1/0, yes/no, on/off); "
                                 f"got {raw!r}")
        return word in _TRUE
    if kind is tuple:
        return tuple(part.strip() for part in raw.split(",") if part.strip())
    try:
        if kind is int:
            return int(raw)
        if kind is float:
            return float(raw)
    except ValueError as exc:
        raise InvalidSetting(f"RAG_{name.upper()} must be a number, got {raw!r}") from exc
    return raw
