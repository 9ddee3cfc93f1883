"""A real `python -m rag serve` process on 127.0.0.1: HTTP, the official openai client, and a browser."""

from __future__ import annotations

import subprocess
import sys
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
from conftest import PATHANKOT
from procs import rag_env
from servers import running_server
from window_browser import CHROMIUM, CHROMIUM_ARGS

from rag.answer.local_llm import free_port

ARTIFACTS = Path(__file__).parent / "artifacts"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    with running_server(tmp_path_factory.mktemp("serve")) as running:
        yield running


def test_serve_indexes_the_seeds_when_empty_and_says_so(server):
    assert "the index was empty: indexed" in server.log.read_text()
    health = httpx.get(f"{server.url}/healthz").json()
    assert health["status"] == "ready" and health["chunks"] > 0


def test_ask_over_http_answers_with_a_citation(server):
    body = httpx.post(f"{server.url}/api/ask", json={"question": PATHANKOT}, timeout=60).json()
    assert "seven" in body["answer"] and body["citations"][0]["id"]
    found = httpx.get(f"{server.url}/api/citations/{body['citations'][0]['id']}").json()
    assert "seven Indian troops" in found["quote"]


def test_streaming_ask_over_http_sends_events_as_they_come(server):
    names = []
    with httpx.stream("POST", f"{server.url}/api/ask", json={"question": PATHANKOT, "stream": True},
                      timeout=60) as response:
        for line in response.iter_lines():
            if line.startswith("event: "):
                names.append(line[len("event: "):])
    assert names[0] == "text" and names[-1] == "answer"


def test_the_openai_client_gets_an_answer_with_citations(server):
    from openai import OpenAI

    client = OpenAI(base_url=f"{server.url}/v1", api_key="not-needed")
    assert "rag" in [m.id for m in client.models.list()]
    completion = client.chat.completions.create(
        model="rag", messages=[{"role": "user", "content": PATHANKOT}])
    content = completion.choices[0].message.content
    assert "seven" in content and "[1]" in content
    citations = completion.model_extra["citations"]
    assert citations[0]["n"] == 1 and "seven" in citations[0]["quote"]
    assert completion.usage.completion_tokens == len(content.split()) and completion.usage.total_tokens > 9


def test_the_openai_client_streams_and_the_last_chunk_has_the_citations(server):
    from openai import OpenAI

    client = OpenAI(base_url=f"{server.url}/v1", api_key="not-needed")
    chunks = list(client.chat.completions.create(
        model="rag", stream=True,
        messages=[{"role": "user", "content": "Who led the US delegation?"},
                  {"role": "assistant", "content": "Ambassador Nathan Sales. [1]"},
                  {"role": "user", "content": "And the Indian one?"}]))
    text = "".join(c.choices[0].delta.content or "" for c in chunks)
    assert "Singhvi" in text and "[1]" in text
    assert chunks[-1].choices[0].finish_reason == "stop"
    assert chunks[-1].model_extra["citations"][0]["quote"]


def test_openai_client_errors_are_clear(server):
    from openai import NotFoundError, OpenAI

    client = OpenAI(base_url=f"{server.url}/v1", api_key="not-needed")
    with pytest.raises(NotFoundError, match="unknown model 'gpt-4o'"):
        client.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": "hi"}])


@contextmanager
def chat_page(server):
    """A headless chromium page with the chat window loaded."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.goto(server.url, wait_until="load")
            yield page
        finally:
            browser.close()


def test_the_chat_window_answers_shows_the_source_and_opens_the_citation(server, tmp_path):
    from playwright.sync_api import expect

    ARTIFACTS.mkdir(exist_ok=True)
    with chat_page(server) as page:
        question = page.locator("#question textarea")
        question.fill(PATHANKOT)
        question.press("Enter")
        chat = page.locator("#chat")
        expect(chat).to_contain_text("[1]", timeout=60_000)
        expect(chat).to_contain_text("seven Indian troops")
        expect(page.locator("#sources mark.quote").first).to_have_text(
            "The attack killed seven Indian troops.")
        expect(page.locator("#sources")).to_contain_text("2020-09-12")
        page.locator("#choice label").first.click()
        context = page.locator("#citation-context")
        expect(context.locator("mark.quote")).to_have_text("The attack killed seven Indian troops.")
        expect(context).to_contain_text("characters")
        page.screenshot(path=ARTIFACTS / "chat.png", full_page=True)
        page.goto(f"{server.url}/docs", wait_until="load")  # the API docs render with no CDN
        expect(page.get_by_text("/api/citations/{citation_id}")).to_be_visible(timeout=30_000)


def test_the_chat_window_follow_up_and_human_messages(server, tmp_path):
    from playwright.sync_api import expect

    bad = tmp_path / "tool.exe"
    bad.write_bytes(b"MZ\x90\x00")
    good = tmp_path / "lighthouse.txt"
    good.write_text("The lighthouse keeper counted forty-two ships in March.", encoding="utf-8")
    with chat_page(server) as page:
        question = page.locator("#question textarea")
        question.fill("Who led the US delegation?")
        question.press("Enter")
        expect(page.locator("#chat")).to_contain_text("Nathan Sales", timeout=60_000)
        expect(page.locator("#sources")).to_contain_text("Nathan Sales")
        question.fill("And the Indian one?")
        question.press("Enter")
        expect(page.locator("#chat")).to_contain_text("Mahaveer Singhvi", timeout=60_000)
        question.fill("   ")
        question.press("Enter")
        expect(page.locator("#notice")).to_contain_text("Type a question first")
        page.get_by_role("tab", name="Documents").click()
        page.locator("#upload input[type=file]").set_input_files([str(good), str(bad)])
        report = page.locator("#upload-report")
        expect(report).to_contain_text("lighthouse.txt: added", timeout=60_000)
        expect(report).to_contain_text("tool.exe: not indexed: 'tool.exe': unsupported file type .exe")
        expect(page.locator("#document-list")).to_contain_text("Lighthouse")
        page.screenshot(path=ARTIFACTS / "follow-up-and-upload.png", full_page=True)


def test_serve_on_a_locked_index_exits_with_one_clear_line(tmp_path):
    from rag.store.lock import FolderLock

    lock = FolderLock(tmp_path / "index")
    lock.acquire()
    try:
        done = subprocess.run([sys.executable, "-m", "rag", "serve", "--port", str(free_port()), "--index",
                               str(tmp_path / "index")], env=rag_env(GRADIO_ANALYTICS_ENABLED="False"),
                              capture_output=True, text=True, timeout=180)
    finally:
        lock.release()
    assert done.returncode == 1
    last = done.stderr.strip().splitlines()[-1]
    assert last.startswith("Error: cannot serve: index folder") and "in use by another rag process" in last
    assert "Traceback" not in done.stderr


GC_WHILE_SERVING = """
import gc, sys
import uvicorn

def run(server):  # load as the server's startup would, then report instead of serving
    imported = gc.get_freeze_count()
    full_collections = gc.get_stats()[2]["collections"] - before
    while_loading = gc.isenabled()
    server.config.app.state.runtime.load()
    print(full_collections, imported > 0, while_loading, gc.get_freeze_count() > imported)

uvicorn.Server.run = run
from rag.cli import main
gc.collect()
before = gc.get_stats()[2]["collections"]
main(["serve", "--port", sys.argv[1], "--index", sys.argv[2]], standalone_mode=False)
"""


def test_serve_imports_without_full_collections_then_freezes_what_it_made(tmp_path):
    done = subprocess.run([sys.executable, "-c", GC_WHILE_SERVING, str(free_port()), str(tmp_path / "index")],
                          env=rag_env(GRADIO_ANALYTICS_ENABLED="False"), capture_output=True, text=True,
                          timeout=180)
    assert done.returncode == 0, done.stderr
    # no full collection during the imports; what they made frozen; the collector on while loading
    # (seeding may index a large folder); what loading made frozen too
    assert done.stdout.split() == ["0", "True", "True", "True"]
