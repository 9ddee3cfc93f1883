"""The API through the real app (TestClient): real engine, real Chroma folder, real MiniLM."""

from __future__ import annotations

import json
import time
from dataclasses import replace

import pytest
from conftest import PATHANKOT, SEED_FILE
from fastapi.testclient import TestClient

from rag.api import create_app
from rag.engine import Engine
from rag.store import VectorSpace
from rag.store.lock import FolderLock
from rag.uploads import stored_name


def wait_ready(client: TestClient, timeout: float = 60) -> dict:
    """Poll /healthz until the app reports ready (or failed)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        body = client.get("/healthz").json()
        if body["status"] != "loading":
            return body
        time.sleep(0.05)
    raise AssertionError("the app did not get ready")


@pytest.fixture
def client(seeded: Engine):
    with TestClient(create_app(seeded.settings, seeded)) as c:
        assert wait_ready(c)["status"] == "ready"
        yield c


@pytest.fixture
def secured(seeded: Engine):
    with TestClient(create_app(replace(seeded.settings, api_token="s3cret"), seeded)) as c:
        wait_ready(c)
        yield c


def sse_events(text: str) -> list[tuple[str | None, str]]:
    """(event name, data) for each server-sent event in a body."""
    events = []
    for block in text.strip().split("\n\n"):
        lines = dict(line.split(": ", 1) for line in block.splitlines())
        events.append((lines.get("event"), lines["data"]))
    return events


def test_healthz_is_ready_with_the_collection_size(client):
    body = client.get("/healthz").json()
    assert body["status"] == "ready" and body["chunks"] > 0 and body["collection"] == "documents"


def test_before_loading_healthz_and_the_api_answer_503(seeded):
    client = TestClient(create_app(seeded.settings, seeded))  # no lifespan: nothing loads
    health = client.get("/healthz")
    assert health.status_code == 503 and health.json()["status"] == "loading"
    asked = client.post("/api/ask", json={"question": PATHANKOT})
    assert asked.status_code == 503 and "still loading" in asked.json()["detail"]
    assert asked.headers["retry-after"] == "2"


def test_a_locked_index_reports_failed_with_the_reason(settings, embedder):
    lock = FolderLock(settings.index_dir)
    lock.acquire()
    try:
        with TestClient(create_app(settings)) as c:
            body = wait_ready(c)
            assert body["status"] == "failed" and "in use by another rag process" in body["detail"]
            assert c.get("/healthz").status_code == 503
            assert "could not load" in c.post("/api/search", json={"query": "x"}).json()["detail"]
    finally:
        lock.release()


def test_ask_returns_the_cli_json_shape_with_a_checkable_citation(client):
    response = client.post("/api/ask", json={"question": PATHANKOT})
    assert response.status_code == 200
    body = response.json()
    assert body["answered"] is True and "seven" in body["answer"] and "[1]" in body["answer"]
    first = body["citations"][0]
    text = SEED_FILE.read_text(encoding="utf-8")
    assert first["quote"] == text[first["start"]:first["end"]]
    assert first["verified"] is True and first["date"] == "2020-09-12"
    assert {"n", "id", "doc_id", "title", "source", "quote", "chunk_id", "score", "passage"} <= set(first)


def test_unanswerable_question_is_declined(client):
    body = client.post("/api/ask", json={"question": "Who won the football world cup final?"}).json()
    assert body["answered"] is False and body["citations"] == []


def test_follow_up_uses_the_history_to_retrieve(client, tmp_path):
    decoy = tmp_path / "cricket.txt"
    decoy.write_text("The Indian one was led by Rohit Sharma, the captain of the Indian cricket team. "
                     "The Indian side won the one-day series against Australia.", encoding="utf-8")
    with decoy.open("rb") as f:
        assert client.post("/api/documents", files={"files": ("cricket.txt", f)}).status_code == 200
    pairs = [["Who led the US delegation?", "Ambassador Nathan Sales led it. [1]"]]
    messages = [{"role": "system", "content": "Answer from the documents."},
                {"role": "user", "content": "Who led the US delegation?"},
                {"role": "assistant", "content": [{"type": "text", "text": "Ambassador Nathan Sales. [1]"}]}]
    for history in (pairs, messages):
        follow = client.post("/api/ask", json={"question": "And the Indian one?", "history": history})
        assert follow.status_code == 200 and "Singhvi" in follow.json()["citations"][0]["quote"]
    alone = client.post("/api/ask", json={"question": "And the Indian one?"}).json()
    assert "Singhvi" not in alone["answer"]


def test_history_items_must_be_pairs_or_role_messages(client):
    for item in (["only one"], {"role": "narrator", "content": "x"}, {"content": "no role"}):
        response = client.post("/api/ask", json={"question": PATHANKOT, "history": [item]})
        assert response.status_code == 422 and "history" in response.text


def test_date_filters_apply_to_ask_and_search(client):
    before = client.post("/api/ask", json={"question": PATHANKOT, "until": "2019-12-31"}).json()
    assert before["answered"] is False
    after = client.post("/api/ask", json={"question": PATHANKOT, "since": "2020-09-01"}).json()
    assert after["answered"] is True
    assert client.post("/api/search", json={"query": "Pathankot", "since": "2021-01-01"}).json()[
        "results"] == []
    bad = client.post("/api/search", json={"query": "Pathankot", "since": "last week"})
    assert bad.status_code == 422 and "since" in bad.json()["detail"]


def test_as_of_leaves_out_later_passages_and_dates_the_answer(client):
    early = client.post("/api/ask", json={"question": PATHANKOT, "as_of": "2020-09-11"}).json()
    assert early["answered"] is False
    late = client.post("/api/ask", json={"question": PATHANKOT, "as_of": "2020-09-15"}).json()
    assert late["answered"] is True and late["answer"].startswith("As of 12 Sep 2020: ")
    found = client.post("/api/search", json={"query": "Pathankot", "as_of": "2020-09-15"}).json()
    assert found["results"] and all(r["date"] == "2020-09-12" for r in found["results"])
    bad = client.post("/api/search", json={"query": "Pathankot", "as_of": "soon"})
    assert bad.status_code == 422 and "as_of" in bad.json()["detail"]


def test_streaming_ask_sends_the_text_then_the_citations(client):
    response = client.post("/api/ask", json={"question": PATHANKOT, "stream": True})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/event-stream")
    events = sse_events(response.text)
    names = [name for name, _ in events]
    assert names[-1] == "answer" and set(names[:-1]) == {"text"}
    streamed = "".join(json.loads(data)["text"] for name, data in events if name == "text")
    final = json.loads(events[-1][1])
    assert streamed == final["answer"] and final["citations"][0]["quote"]


def test_streaming_a_bad_question_is_a_4xx_not_a_stream(client):
    response = client.post("/api/ask", json={"question": "   ", "stream": True})
    assert response.status_code == 422 and response.json()["detail"] == "the question is empty"


def test_search_ranks_passages_with_offsets(client):
    body = client.post("/api/search", json={"query": "Pathankot attack", "k": 2}).json()
    results = body["results"]
    assert body["query"] == "Pathankot attack" and len(results) == 2
    assert body["ranked_by"] == "fused" and results[0]["fused"] >= results[1]["fused"]
    assert all(-1.0 <= r["similarity"] <= 1.0 for r in results)
    text = SEED_FILE.read_text(encoding="utf-8")
    for r in results:
        assert text[r["start"]:r["end"]] == r["text"]


def test_citation_lookup_shows_the_passage_in_context(client):
    cited = client.post("/api/ask", json={"question": PATHANKOT}).json()["citations"][0]
    found = client.get(f"/api/citations/{cited['id']}").json()
    assert found["quote"] == cited["quote"] and found["title"] == cited["title"]
    assert found["date"] == "2020-09-12" and found["source"].endswith("india-us-counterterrorism-2020.txt")
    assert found["passage_start"] <= found["start"] < found["end"] <= found["passage_end"]
    assert found["before"] or found["after"]


@pytest.mark.parametrize("cid, message", [
    ("0123456789abcdef-10-20", "no longer indexed"),
    ("not-a-citation", "is not a citation id"),
])
def test_unknown_citation_is_a_404_with_a_message(client, cid, message):
    response = client.get(f"/api/citations/{cid}")
    assert response.status_code == 404 and message in response.json()["detail"]


def test_upload_indexes_lists_and_deletes_a_document(client, settings):
    content = b"The zebra crossing on Elm Street was repainted in 2021 by the city council."
    uploaded = client.post("/api/documents", files={"files": ("zebra notes.txt", content, "text/plain")})
    report = uploaded.json()["files"]
    assert report == [{"filename": "zebra notes.txt", "saved_as": stored_name("zebra notes.txt"),
                       "status": "added", "chunks": 1, "reason": None, "lines": None}]
    assert report[0]["saved_as"].endswith("/zebra_notes.txt")
    assert (settings.data_dir / "uploads" / report[0]["saved_as"]).read_bytes() == content
    again = client.post("/api/documents", files={"files": ("zebra notes.txt", content)}).json()
    assert again["files"][0]["status"] == "unchanged"
    docs = client.get("/api/documents").json()["documents"]
    zebra = next(d for d in docs if d["title"] == "Zebra notes")
    assert len(docs) == 2 and "file" not in zebra
    answer = client.post("/api/ask", json={"question": "Who repainted the zebra crossing?"}).json()
    assert "city council" in answer["answer"]
    assert client.delete(f"/api/documents/{zebra['id']}").json()["id"] == zebra["id"]
    assert len(client.get("/api/documents").json()["documents"]) == 1
    gone = client.delete(f"/api/documents/{zebra['id']}")
    assert gone.status_code == 404 and zebra["id"] in gone.json()["detail"]


def test_an_upload_name_never_leaves_the_uploads_folder(client, settings):
    files = [("files", ("../../../etc/evil.md", b"# Evil\nA plain note.")),
             ("files", ("..\\..\\win.txt", b"Another plain note.")),
             ("files", (".hidden.txt", b"A third plain note."))]
    report = client.post("/api/documents", files=files).json()["files"]
    hidden = stored_name(".hidden.txt")
    assert [f["saved_as"] for f in report] == ["evil.md", "win.txt", hidden]
    uploads = settings.data_dir / "uploads"
    stored = [str(p.relative_to(uploads)) for p in uploads.rglob("*") if p.is_file()]
    assert sorted(stored) == sorted(["evil.md", hidden, "win.txt"])


def test_upload_of_an_unsupported_type_is_a_415_and_saves_nothing(client, settings):
    response = client.post("/api/documents", files=[("files", ("tool.exe", b"MZ\x90\x00"))])
    assert response.status_code == 415 and "unsupported file type .exe" in response.json()["detail"]
    assert list((settings.data_dir / "uploads").iterdir()) == []


def test_upload_over_the_limit_is_a_413(settings, embedder):
    small = replace(settings, max_upload_bytes=1000)
    with TestClient(create_app(small, Engine(small, embedder))) as c:
        wait_ready(c)
        response = c.post("/api/documents", files={"files": ("big.txt", b"word " * 400)})
    assert response.status_code == 413 and "upload limit" in response.json()["detail"]
    assert list((small.data_dir / "uploads").iterdir()) == []


def test_an_empty_upload_is_a_422_and_not_kept(client, settings):
    response = client.post("/api/documents", files={"files": ("empty.txt", b"")})
    assert response.status_code == 422 and "no text" in response.json()["detail"]
    assert list((settings.data_dir / "uploads").iterdir()) == []


@pytest.mark.parametrize("payload, status, message", [
    ({"question": ""}, 422, "question: String should have at least 1 character"),
    ({"question": "   "}, 422, "the question is empty"),
    ({"question": "why " * 600}, 422, "the limit is 2000"),
    ({"question": PATHANKOT, "k": 0}, 422, "k: Input should be greater than or equal to 1"),
    ({"question": PATHANKOT, "k": 51}, 422, "k: Input should be less than or equal to 50"),
    ({"question": PATHANKOT, "collection": "nope-nope"}, 404, "no collection named 'nope-nope'"),
    ({"question": PATHANKOT, "colour": "red"}, 422, "colour: Extra inputs are not permitted"),
    ({}, 422, "question: Field required"),
])
def test_bad_ask_requests_get_a_4xx_with_a_message(client, payload, status, message):
    response = client.post("/api/ask", json=payload)
    assert response.status_code == status
    assert message in response.json()["detail"]


def test_an_internal_failure_is_a_500_without_a_trace(seeded):
    with TestClient(create_app(seeded.settings, seeded), raise_server_exceptions=False) as c:
        wait_ready(c)
        seeded.catalog.drop("documents")  # the store breaks under the server
        response = c.post("/api/search", json={"query": "Pathankot"})
    assert response.status_code == 500
    assert response.json() == {"detail": "internal error; the server log has the details"}


def test_malformed_json_is_a_400(client):
    response = client.post("/api/ask", content=b'{"question": "unterminated',
                           headers={"content-type": "application/json"})
    assert response.status_code == 400 and response.json() == {"detail": "malformed JSON in the request body"}


def test_another_collection_can_be_asked(client, seeded, embedder, tmp_path):
    seeded.catalog.open("second", VectorSpace(embedder.name, embedder.dimension, embedder.variant))
    note = tmp_path / "note.txt"
    note.write_text("The lighthouse keeper counted forty-two ships in March.", encoding="utf-8")
    seeded.for_collection("second").index([note])
    body = client.post("/api/ask", json={"question": "How many ships did the keeper count?",
                                         "collection": "second"}).json()
    assert "forty-two" in body["answer"] and body["citations"][0]["title"] == "Note"
    default = client.post("/api/ask", json={"question": "How many ships did the keeper count?"}).json()
    assert "forty-two" not in default["answer"]


def test_uploads_search_and_v1_honour_the_collection_they_name(client, seeded, embedder):
    seeded.catalog.open("second", VectorSpace(embedder.name, embedder.dimension, embedder.variant))
    note = ("note.txt", b"The lighthouse keeper counted forty-two ships in March.", "text/plain")
    uploaded = client.post("/api/documents?collection=second", files=[("files", note)]).json()
    assert uploaded["files"][0]["status"] == "added"
    listed = client.get("/api/documents?collection=second").json()["documents"]
    assert [d["title"] for d in listed] == ["Note"]
    assert "Note" not in [d["title"] for d in client.get("/api/documents").json()["documents"]]
    found = client.post("/api/search", json={"query": "lighthouse ships", "collection": "second"}).json()
    assert found["results"][0]["title"] == "Note"
    question = [{"role": "user", "content": "How many ships did the keeper count?"}]
    by_model = client.post("/v1/chat/completions", json={"model": "rag:second", "messages": question})
    by_field = client.post("/v1/chat/completions", json={"messages": question, "collection": "second"})
    default = client.post("/v1/chat/completions", json={"messages": question})
    assert "forty-two" in by_model.json()["choices"][0]["message"]["content"]
    assert "forty-two" in by_field.json()["choices"][0]["message"]["content"]
    assert "forty-two" not in default.json()["choices"][0]["message"]["content"]
    assert "rag:second" in {m["id"] for m in client.get("/v1/models").json()["data"]}
    missing = client.post("/v1/chat/completions", json={"model": "rag:nowhere", "messages": question})
    assert missing.status_code == 404 and "nowhere" in missing.json()["detail"]


def test_without_a_token_configured_no_header_is_needed(client):
    assert client.get("/api/documents").status_code == 200
    assert client.get("/v1/models").status_code == 200


@pytest.mark.parametrize("path", ["/api/documents", "/v1/models", "/api/citations/x"])
def test_with_a_token_configured_api_and_v1_require_it(secured, path):
    missing = secured.get(path)
    assert missing.status_code == 401 and "missing or wrong token" in missing.json()["detail"]
    assert missing.headers["www-authenticate"] == "Bearer"
    wrong = secured.get(path, headers={"Authorization": "Bearer nope"})
    assert wrong.status_code == 401
    right = secured.get(path, headers={"Authorization": "Bearer s3cret"})
    assert right.status_code in (200, 404)  # the citation id is unknown, but the request got through


def test_with_a_token_health_stays_open_and_the_window_needs_it(secured):
    assert secured.get("/healthz").status_code == 200
    assert secured.get("/", headers={"Accept": "text/html"}, follow_redirects=False).status_code == 303
    assert secured.get("/", headers={"Authorization": "Bearer s3cret"}).status_code == 200
    posted = secured.post("/api/ask", json={"question": PATHANKOT},
                          headers={"Authorization": "Bearer s3cret"})
    assert posted.status_code == 200 and posted.json()["answered"]


def test_v1_models_lists_rag(client):
    assert client.get("/v1/models").json()["data"][0]["id"] == "rag"


def test_v1_chat_completion_keeps_markers_and_carries_citations(client):
    body = client.post("/v1/chat/completions", json={
        "model": "rag", "temperature": 0.2,
        "messages": [{"role": "system", "content": "Be brief."},
                     {"role": "user", "content": [{"type": "text", "text": PATHANKOT}]}]}).json()
    assert body["object"] == "chat.completion"
    message = body["choices"][0]["message"]
    assert message["role"] == "assistant" and "[1]" in message["content"] and "seven" in message["content"]
    assert body["citations"][0]["n"] == 1


def test_v1_fills_usage_with_whitespace_tokens_streamed_or_not(client):
    messages = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": PATHANKOT}]
    body = client.post("/v1/chat/completions", json={"model": "rag", "messages": messages}).json()
    completion = len(body["choices"][0]["message"]["content"].split())
    assert body["usage"] == {"prompt_tokens": 2 + len(PATHANKOT.split()), "completion_tokens": completion,
                             "total_tokens": 2 + len(PATHANKOT.split()) + completion}
    streamed = client.post("/v1/chat/completions",
                           json={"model": "rag", "messages": messages, "stream": True})
    chunks = [json.loads(line[len("data: "):]) for line in streamed.text.splitlines()
              if line.startswith("data: {")]
    assert chunks[-1]["usage"] == body["usage"]


@pytest.mark.parametrize("payload, status, message", [
    ({"model": "gpt-4", "messages": [{"role": "user", "content": "hi"}]}, 404, "unknown model 'gpt-4'"),
    ({"model": "rag", "messages": []}, 422, "messages: List should have at least 1 item"),
    ({"model": "rag", "messages": [{"role": "assistant", "content": "hi"}]}, 422, "must come from the user"),
    ({"model": "rag", "messages": [{"role": "user", "content": ""}]}, 422, "the question is empty"),
])
def test_v1_bad_requests_get_a_4xx(client, payload, status, message):
    response = client.post("/v1/chat/completions", json=payload)
    assert response.status_code == status and message in response.json()["detail"]


def test_openapi_documents_every_endpoint_with_examples(client):
    spec = client.get("/openapi.json").json()
    paths = set(spec["paths"])
    assert {"/api/ask", "/api/search", "/api/citations/{citation_id}", "/api/documents",
            "/api/documents/{doc_id}", "/v1/chat/completions", "/v1/models", "/healthz"} <= paths
    ask_schema = spec["components"]["schemas"]["AskRequest"]
    assert ask_schema["examples"][0]["question"] == PATHANKOT
    docs = client.get("/docs").text
    assert "/static-offline-docs/swagger-ui-bundle.js" in docs and "cdn" not in docs  # works offline
    assert client.get("/static-offline-docs/swagger-ui-bundle.js").status_code == 200


def test_saved_conversations_are_listed_read_renamed_and_deleted(client, seeded):
    saved = client.app.state.runtime.conversations
    cid = saved.add(None, seeded.ask(PATHANKOT), "documents")
    saved.add(cid, seeded.ask("Who led the US delegation?"), "documents")
    [listed] = client.get("/api/conversations").json()["conversations"]
    assert listed["id"] == cid and listed["title"] == PATHANKOT and listed["collection"] == "documents"
    body = client.get(f"/api/conversations/{cid}").json()
    assert [a["question"] for a in body["answers"]] == [PATHANKOT, "Who led the US delegation?"]
    quote = body["answers"][0]["citations"][0]
    assert client.get(f"/api/citations/{quote['id']}").json()["quote"] == quote["quote"]
    renamed = client.patch(f"/api/conversations/{cid}", json={"title": "Pathankot"})
    assert renamed.status_code == 200 and renamed.json()["title"] == "Pathankot"
    assert client.delete(f"/api/conversations/{cid}").status_code == 204
    missing = client.get(f"/api/conversations/{cid}")
    assert missing.status_code == 404 and missing.json()["detail"] == f"no conversation with id {cid!r}"
    assert client.patch(f"/api/conversations/{cid}", json={"title": ""}).status_code == 422
