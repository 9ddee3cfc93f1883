"""The retrieval flags and ``rag collections`` through click's runner."""

from __future__ import annotations

import json

from click.testing import CliRunner

from rag.cli import main


def run(*args: str):
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def test_search_with_each_retriever_finds_the_pathankot_passage(rag_env, embedder):
    assert run("index", str(rag_env.seeds_dir)).exit_code == 0
    for retriever in ("dense", "lexical", "hybrid"):
        result = run("search", "--json", "--retriever", retriever, "-k", "1", "Pathankot troops")
        assert result.exit_code == 0, result.output
        assert "seven Indian troops" in json.loads(result.stdout)[0]["text"], retriever


def test_date_flags_narrow_search_and_as_of_dates_the_answer(rag_env, embedder):
    assert run("index", str(rag_env.seeds_dir)).exit_code == 0
    assert json.loads(run("search", "--json", "--since", "2021-01-01", "Pathankot").stdout) == []
    assert json.loads(run("search", "--json", "--as-of", "2020-09-11", "Pathankot").stdout) == []
    answer = json.loads(run("ask", "--json", "--as-of", "2020-09-15", "How many troops died?").stdout)
    assert answer["answer"].startswith("As of 12 Sep 2020: ")
    bad = run("search", "--as-of", "yesterday", "Pathankot")
    assert bad.exit_code == 2 and "--as-of" in bad.output


def test_an_unknown_retriever_is_refused(rag_env, embedder):
    result = run("search", "--retriever", "magic", "Pathankot")
    assert result.exit_code == 2 and "magic" in result.output


def test_collections_lists_every_collection_with_its_chunks(rag_env, embedder):
    run("index", str(rag_env.seeds_dir))
    run("index", "--collection", "news-2020", str(rag_env.seeds_dir))
    result = run("collections")
    assert result.exit_code == 0, result.output
    names = [line.split()[0] for line in result.stdout.splitlines()]
    assert names == ["documents", "news-2020"]
    assert all(line.split()[1] != "0" for line in result.stdout.splitlines())


def test_collections_on_an_empty_index_lists_nothing_and_creates_nothing(rag_env, embedder):
    assert run("collections").stdout == ""
    assert run("collections").stdout == ""
