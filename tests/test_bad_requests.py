"""Hostile and unlucky requests to a real `rag serve`: a 4xx or 503 with one line, never a 500; and a
Chroma server that goes away and comes back."""

from __future__ import annotations

import json
import time

import httpx
import pytest
from conftest import PATHANKOT
from procs import CHROMA, start_chroma
from servers import running_server, stop

from rag.answer.local_llm import free_port


@pytest.fixture(scope="module")
def api(tmp_path_factory):
    with running_server(tmp_path_factory.mktemp("bad")) as server, httpx.Client(
            base_url=server.url, timeout=60) as client:
        yield client


def raw(api, path: str, body: str) -> httpx.Response:
    """POST a JSON body exactly as written (lone surrogates survive only this way)."""
    return api.post(path, content=body.encode(), headers={"content-type": "application/json"})


@pytest.mark.parametrize("day", ["0001-01-01", "0001-01-28", "9999-12-31"])
def test_as_of_at_the_ends_of_the_calendar_is_answered(api, day):
    for path, key in (("/api/ask", "question"), ("/api/search", "query")):
        reply = api.post(path, json={key: PATHANKOT, "as_of": day})
        assert reply.status_code == 200, reply.text


@pytest.mark.parametrize("text", [None, 7, ["a"], {"x": 1}])
def test_v1_content_parts_with_odd_text_are_a_422_or_an_empty_question(api, text):
    part = {"type": "text", "text": text}
    reply = api.post("/v1/chat/completions", json={"messages": [{"role": "user", "content": [part]}]})
    assert reply.status_code == 422 and "\n" not in reply.json()["detail"]
    assert reply.json()["error"]["message"] == reply.json()["detail"]


@pytest.mark.parametrize("path, body", [
    ("/v1/chat/completions", '{"messages": [{"role": "user", "content": "why \\ud83d"}]}'),
    ("/v1/chat/completions",
     '{"messages": [{"role": "user", "content": [{"type": "text", "text": "\\ud83d"}]}]}'),
    ("/api/ask", '{"question": "why \\ud83d"}'),
    ("/api/ask", '{"question": "why", "history": [["\\udc00", "a"]]}'),
    ("/api/search", '{"query": "\\ud83d"}'),
])
def test_a_lone_surrogate_is_a_422(api, path, body):
    reply = raw(api, path, body)
    detail = reply.json()["detail"]  # pydantic refuses some itself, our check the rest
    assert reply.status_code == 422 and ("lone surrogate" in detail or "unicode string" in detail)


def test_history_counts_toward_the_input_limit(api):
    began = time.monotonic()
    reply = api.post("/api/ask", json={"question": "And then?", "history": [["x" * 4_000_000, "y"]]})
    assert reply.status_code == 422 and "RAG_MAX_INPUT_CHARS" in reply.json()["detail"]
    assert time.monotonic() - began < 10  # refused before any work (it took 12-16 s when accepted)


@pytest.mark.parametrize("name", ["documents__docs", "a", "../x", "nope-nope"])
def test_a_bad_collection_name_is_refused_and_leaves_nothing_behind(api, name):
    reply = api.post("/api/ask", json={"question": PATHANKOT, "collection": name})
    assert reply.status_code in (404, 422) and name in reply.json()["detail"]
    again = api.post("/api/ask", json={"question": PATHANKOT, "collection": name})
    assert again.status_code == reply.status_code  # not a 503 naming our own pid
    assert api.post("/api/ask", json={"question": PATHANKOT}).status_code == 200


def test_every_error_in_the_schema_is_a_detail_string(api):
    spec = api.get("/openapi.json").json()
    assert spec["components"]["schemas"]["ErrorOut"]["properties"]["detail"]["type"] == "string"
    for path, methods in spec["paths"].items():
        for method, operation in methods.items():
            for code, response in operation["responses"].items():
                if code.startswith("4"):
                    ref = json.dumps(response["content"]["application/json"]["schema"])
                    assert "ErrorOut" in ref, (method, path, code)
    reply = api.post("/api/ask", json={"question": ""})
    assert reply.status_code == 422 and isinstance(reply.json()["detail"], str)


@pytest.mark.skipif(CHROMA is None, reason="the chroma command is not installed")
def test_a_chroma_server_that_goes_away_is_a_503_in_two_seconds_and_comes_back(tmp_path):
    port = free_port()
    chroma_url = f"http://127.0.0.1:{port}"
    chroma = start_chroma(tmp_path / "chroma", port)
    try:
        with running_server(tmp_path, "--chroma-url", chroma_url) as server, httpx.Client(
                base_url=server.url, timeout=30) as client:
            assert client.post("/api/ask", json={"question": PATHANKOT}).status_code == 200
            stop(chroma)
            for path, body in (("/api/ask", {"question": PATHANKOT}),
                               ("/api/search", {"query": "Pathankot"})):
                began = time.monotonic()
                reply = client.post(path, json=body)
                assert time.monotonic() - began < 2
                assert reply.status_code == 503, reply.text
                assert reply.json()["detail"].startswith(f"cannot reach the Chroma server at {chroma_url}")
            health = client.get("/healthz")
            assert health.status_code == 503 and chroma_url in health.json()["detail"]
            chroma = start_chroma(tmp_path / "chroma", port)
            reply = client.post("/api/ask", json={"question": PATHANKOT})
            assert reply.status_code == 200 and "seven" in reply.json()["answer"]
            assert client.get("/healthz").status_code == 200
        assert "Traceback" not in server.log.read_text()
    finally:
        stop(chroma)
