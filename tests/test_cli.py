"""The rag command through click's runner: real engine, real index folder."""

from __future__ import annotations

import json

from click.testing import CliRunner

from rag.cli import main


def run(*args: str):
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def test_ask_on_an_empty_index_indexes_the_seeds_first(rag_env, embedder):
    result = run("ask", "How many Indian troops died in the Pathankot attack?")
    assert result.exit_code == 0, result.output
    assert "index was empty" in result.stderr
    assert "seven" in result.stdout and "[1]" in result.stdout
    assert "Sources:" in result.stdout and "2020-09-12" in result.stdout


def test_ask_json_has_the_documented_shape(rag_env, embedder):
    result = run("ask", "--json", "How many Indian troops died in the Pathankot attack?")
    data = json.loads(result.stdout)
    assert data["answered"] is True and data["question"].startswith("How many")
    keys = {"n", "id", "doc_id", "title", "source", "date", "quote", "start", "end", "chunk_id",
            "score"}
    assert keys <= set(data["citations"][0])


def test_index_prints_a_summary_and_search_ranks_passages(rag_env, embedder):
    indexed = run("index", str(rag_env.seeds_dir))
    assert "added 1, updated 0, unchanged 0, removed 0, failed 0" in indexed.stdout
    found = run("search", "Pathankot", "-k", "2")
    assert found.exit_code == 0
    assert found.stdout.startswith("1. 0.") and "2. 0." in found.stdout


def test_show_resolves_a_citation_and_rejects_an_unknown_id(rag_env, embedder):
    data = json.loads(run("ask", "--json", "Who led the US delegation?").stdout)
    cid = data["citations"][0]["id"]
    shown = run("show", cid)
    assert shown.exit_code == 0 and "Nathan Sales" in shown.stdout
    assert f"characters {data['citations'][0]['start']}-" in shown.stdout
    missing = run("show", "0123456789abcdef-1-5")
    assert missing.exit_code == 1
    assert missing.stderr.startswith("Error: citation 0123456789abcdef-1-5 not found")
    malformed = run("show", "nonsense")
    assert malformed.exit_code == 1 and "not a citation id" in malformed.stderr


def test_errors_are_one_line_without_traceback(rag_env, embedder):
    result = run("ask", "   ")
    assert result.exit_code == 1
    assert result.stderr.strip().splitlines()[-1] == "Error: the question is empty"
    assert "Traceback" not in result.output
    bad_k = run("search", "x", "-k", "0")
    assert bad_k.exit_code == 1 and "k must be between 1 and 50, got 0" in bad_k.stderr


def test_serve_documents_its_flags():
    result = run("serve", "--help")
    assert result.exit_code == 0
    for flag in ("--host", "--port", "--index", "--collection"):
        assert flag in result.output
    assert "/api" in result.output and "/v1" in result.output
