"""The CLI next to a real `rag serve`: commands go through its API instead of failing on the lock."""

from __future__ import annotations

import json
import re
import shutil

import pytest
from conftest import PATHANKOT, SEEDS
from procs import run, serving, stop

from rag.store.address import ADDRESS_NAME

TOKEN = "s3cret-token"
HEAVY = ("torch", "chromadb", "gradio", "sentence_transformers", "numpy")


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("cli-server")
    shutil.copytree(SEEDS, tmp / "seeds")
    env = {"RAG_SEEDS_DIR": str(tmp / "seeds"), "RAG_DATA_DIR": str(tmp / "data"), "RAG_API_TOKEN": TOKEN}
    with serving(tmp / "index", tmp / "serve.log", **env) as (proc, url):
        yield {"tmp": tmp, "index": tmp / "index", "url": url, "proc": proc, "env": env}


def rag(served, *args: str, token: str | None = TOKEN, **env: str):
    """``rag ARGS`` in a fresh process, pointed at the served index."""
    extra = {"RAG_INDEX_DIR": str(served["index"]), **env}
    if token:
        extra["RAG_API_TOKEN"] = token
    return run(*args, **extra)


def note(served) -> str:
    return (f"rag: {served['index']} is held by rag serve (pid {served['proc'].pid}): going through its "
            f"API at {served['url']}")


def test_ask_goes_through_the_server_and_says_so_in_one_line(served):
    done = rag(served, "ask", PATHANKOT)
    assert done.returncode == 0, done.stderr
    assert done.stderr.splitlines() == [note(served)]
    assert "seven Indian troops. [1]" in done.stdout and "Sources:" in done.stdout
    data = json.loads(rag(served, "ask", "--json", PATHANKOT).stdout)
    assert data["answered"] and data["citations"][0]["quote"] == "The attack killed seven Indian troops."


def test_search_show_documents_and_collections_go_through_the_server(served):
    found = rag(served, "search", "Pathankot", "-k", "2")
    assert found.returncode == 0 and found.stderr.splitlines() == [note(served)]
    assert found.stdout.startswith("1. 0.") and "2. 0." in found.stdout
    cid = json.loads(rag(served, "ask", "--json", "Who led the US delegation?").stdout)["citations"][0]["id"]
    shown = rag(served, "show", cid)
    assert shown.returncode == 0 and "Nathan Sales" in shown.stdout and "characters " in shown.stdout
    missing = rag(served, "show", "0123456789abcdef-1-5")
    assert missing.returncode == 1
    assert missing.stderr.splitlines()[-1].startswith("Error: citation 0123456789abcdef-1-5 not found")
    listed = rag(served, "documents")
    assert re.search(r"2020-09-12 +\d+ chunks +India and US press Pakistan", listed.stdout)
    collections = rag(served, "collections")
    assert collections.returncode == 0 and collections.stderr.splitlines() == [note(served)]
    assert re.fullmatch(r"documents  \d+ chunks\n", collections.stdout)


def test_index_uploads_files_and_exits_1_when_one_fails(served, tmp_path):
    folder = tmp_path / "new"
    folder.mkdir()
    (folder / "lighthouse.md").write_text("---\ntitle: Lighthouse log\n---\n\nThe keeper counted "
                                          "**forty-two** ships in March.\n")
    (folder / "table.csv").write_text("a,b\n")
    for part, text in (("north", "The north pier is closed for repairs."),
                       ("south", "The south pier opens at dawn.")):
        (folder / part).mkdir()
        (folder / part / "notes.txt").write_text(text)  # one name twice: both must land
    done = rag(served, "index", str(folder))
    assert done.returncode == 1
    assert done.stderr.splitlines()[0] == note(served)
    assert f"skipped {folder / 'table.csv'}: " in done.stderr and "unsupported file type" in done.stderr
    assert done.stdout.startswith("uploaded: added 3, updated 0, unchanged 0, failed 1;")
    listed = rag(served, "documents").stdout
    assert "Lighthouse log" in listed and "north-notes.txt" in listed and "south-notes.txt" in listed
    answer = json.loads(rag(served, "ask", "--json", "How many ships did the keeper count?").stdout)
    assert answer["citations"][0]["quote"] == "The keeper counted   forty-two   ships in March."
    assert "The keeper counted forty-two ships in March. [1]" in answer["answer"]
    refused = rag(served, "index", str(folder), "--rebuild")
    assert refused.returncode == 1 and "--rebuild cannot be chosen through a rag server" in refused.stderr


def test_server_option_reaches_a_server_for_another_folder(served, tmp_path):
    done = run("--server", served["url"], "search", "Pathankot", "-k", "1",
               RAG_INDEX_DIR=str(tmp_path / "unused"), RAG_API_TOKEN=TOKEN)
    assert done.returncode == 0, done.stderr
    assert done.stderr.splitlines() == [f"rag: --server: going through its API at {served['url']}"]
    assert not (tmp_path / "unused").exists()
    after = run("documents", "--server", served["url"], RAG_API_TOKEN=TOKEN)
    assert "India and US press Pakistan" in after.stdout


def test_a_missing_token_is_one_clear_line(served):
    done = rag(served, "ask", PATHANKOT, token=None)
    assert done.returncode == 1
    assert done.stderr.splitlines()[-1].startswith("Error: missing or wrong token")


def test_the_server_path_imports_neither_the_encoder_nor_chroma(served):
    done = rag(served, "ask", PATHANKOT, PYTHONPROFILEIMPORTTIME="1")
    assert done.returncode == 0
    imported = {line.rsplit("|", 1)[-1].strip() for line in done.stderr.splitlines() if "|" in line}
    assert "rag.remote" in imported
    assert {m for m in imported if m.split(".")[0] in HEAVY} == set()


def test_without_the_server_commands_run_here_again(served):
    stop(served["proc"])
    assert not (served["index"] / ADDRESS_NAME).exists()
    done = rag(served, "documents")
    assert done.returncode == 0 and done.stderr == ""
    assert "Lighthouse log" in done.stdout
