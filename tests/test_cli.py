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


def test_store_options_work_before_or_after_the_command_and_show_in_help(tmp_path, embedder, rag_env):
    help_text = run("--help").output
    for flag in ("--index", "--collection", "--store", "--chroma-url", "--server"):
        assert flag in help_text
    index = tmp_path / "elsewhere"
    before = run("--index", str(index), "--collection", "notes", "ask", "Who led the US delegation?")
    assert before.exit_code == 0 and "Nathan Sales" in before.stdout
    after = run("collections", "--index", str(index))
    assert after.stdout.splitlines()[0].startswith("notes  ")
    overridden = run("--index", str(tmp_path / "not-this"), "documents", "--index", str(index),
                     "--collection", "notes")
    assert "India and US press Pakistan" in overridden.stdout
    assert not (tmp_path / "not-this").exists()


def test_index_of_a_missing_path_fails_in_one_line(rag_env):
    result = run("index", "/nonexistent")
    assert result.exit_code == 1
    assert result.stderr.splitlines() == ["Error: no such file or folder: /nonexistent"]


def test_any_failed_file_makes_index_exit_1_after_indexing_the_rest(rag_env, embedder, tmp_path):
    (tmp_path / "good.txt").write_text("The ferry sails at dawn.")
    (tmp_path / "bad.csv").write_text("a,b")
    result = run("index", str(tmp_path / "good.txt"), str(tmp_path / "bad.csv"), str(tmp_path / "gone.txt"))
    assert result.exit_code == 1
    assert "added 1, updated 0, unchanged 0, removed 0, failed 2" in result.stdout
    assert f"skipped {tmp_path / 'bad.csv'}: unsupported file type" in result.stderr
    assert f"skipped {tmp_path / 'gone.txt'}: no such file or folder" in result.stderr
    assert "The ferry sails at dawn." in run("search", "ferry", "-k", "1").stdout
