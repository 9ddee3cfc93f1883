"""Typed settings: modes are enumerations checked on load, booleans are strict, one name per setting."""

from __future__ import annotations

from dataclasses import replace

import pytest
from click.testing import CliRunner

from rag.cli import main
from rag.errors import InvalidRequest, InvalidSetting, LLMUnavailable
from rag.pipeline import build_pipeline
from rag.settings import Fusion, LLMKind, RetrieverKind, Settings


def test_modes_load_as_enumerations():
    s = Settings.load({"RAG_RETRIEVER": "Lexical", "RAG_FUSION": "rrf", "RAG_ENCODER": "exact",
                       "RAG_LLM": "gguf:/models/m.gguf"})
    assert (s.retriever, s.fusion, s.encoder.value) == (RetrieverKind.LEXICAL, Fusion.RRF, "exact")
    assert s.llm_kind is LLMKind.GGUF


@pytest.mark.parametrize(("name", "value", "valid"), [
    ("RAG_RETRIEVER", "bm25", "dense, lexical, hybrid"),
    ("RAG_FUSION", "average", "weighted, rrf"),
    ("RAG_ENCODER", "int8", "fast, exact"),
])
def test_an_unknown_mode_is_refused_with_the_valid_ones(name, value, valid):
    with pytest.raises(InvalidSetting, match=f"{name} .* must be one of {valid}; got '{value}'"):
        Settings.load({name: value})


def test_an_unknown_mode_is_refused_however_the_settings_are_made():
    with pytest.raises(InvalidSetting, match="RAG_FUSION"):
        replace(Settings.load({}), fusion="average")
    with pytest.raises(LLMUnavailable, match="unknown LLM backend 'claude': choose extractive, openai"):
        Settings.load({"RAG_LLM": "claude"})


@pytest.mark.parametrize(("raw", "value"), [("1", True), ("Yes", True), ("on", True), ("0", False),
                                            ("false", False), ("OFF", False)])
def test_booleans_take_the_usual_words(raw, value):
    assert Settings.load({"RAG_TITLE_IN_CHUNK": raw}).title_in_chunk is value


def test_an_unknown_boolean_is_refused():
    with pytest.raises(InvalidSetting, match="RAG_TITLE_IN_CHUNK must be true or false"):
        Settings.load({"RAG_TITLE_IN_CHUNK": "maybe"})


def test_numbers_and_lists_are_parsed():
    s = Settings.load({"RAG_TOP_K": "7", "RAG_FUSION_WEIGHT": "0.5", "RAG_RERANK": "a, b"})
    assert (s.top_k, s.fusion_weight, s.rerank) == (7, 0.5, ("a", "b"))
    with pytest.raises(InvalidSetting, match="RAG_TOP_K must be a number, got 'many'"):
        Settings.load({"RAG_TOP_K": "many"})


def test_the_cut_of_chunk_vectors_follows_the_retriever_unless_set():
    assert Settings.load({}).vector_pieces == 128  # hybrid: BM25 reads the rest of each chunk
    assert Settings.load({"RAG_RETRIEVER": "lexical"}).vector_pieces == 128
    assert Settings.load({"RAG_RETRIEVER": "dense"}).vector_pieces == 256  # nothing else reads it
    assert Settings.load({"RAG_RETRIEVER": "dense", "RAG_DOCUMENT_PIECES": "96"}).vector_pieces == 96


@pytest.mark.parametrize("raw", ["8", "512"])
def test_a_cut_outside_the_encoders_window_is_refused(raw):
    with pytest.raises(InvalidSetting, match=f"RAG_DOCUMENT_PIECES .* must be between 16 and 256; got {raw}"):
        Settings.load({"RAG_DOCUMENT_PIECES": raw})


def test_an_unknown_rerank_stage_is_refused_when_the_pipeline_is_built(engine):
    with pytest.raises(InvalidRequest, match="unknown RAG_RERANK stage 'magic'"):
        build_pipeline(replace(engine.settings, rerank=("magic",)), engine.store, engine.embedder)


def test_the_cli_reports_a_bad_setting_in_one_line(rag_env, monkeypatch):
    monkeypatch.setenv("RAG_FUSION", "average")
    result = CliRunner().invoke(main, ["documents"])
    assert result.exit_code == 1
    assert result.output.strip().splitlines() == [
        "Error: RAG_FUSION (--fusion) must be one of weighted, rrf; got 'average'"]
