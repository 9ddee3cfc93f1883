"""Every door of a real `rag serve` with RAG_API_TOKEN and RAG_READ_TOKEN: the API, /v1, Gradio's routes."""

from __future__ import annotations

import re

import httpx
import pytest
from conftest import PATHANKOT
from fastapi.routing import _IncludedRouter
from servers import running_server
from starlette.routing import Mount

from rag.api import create_app
from rag.settings import Settings

WRITE_TOKEN, READ_TOKEN = "write-s3cret", "read-s3cret"
OPEN = {"/healthz", "/login", "/logout"}
WRITES = {("POST", "/api/documents"), ("DELETE", "/api/documents/{doc_id:path}"),
          ("POST", "/gradio_api/upload"),
          ("GET", "/gradio_api/upload_progress"),  # Gradio's upload feature as a whole
          ("POST", "/gradio_api/process_recording"), ("GET", "/gradio_api/dev/reload")} | {
          (m, p) for m in ("GET", "POST") for p in ("/gradio_api/vibe-edit", "/gradio_api/vibe-edit/",
          "/gradio_api/undo-vibe-edit", "/gradio_api/undo-vibe-edit/", "/gradio_api/vibe-code",
          "/gradio_api/vibe-code/", "/gradio_api/vibe-starter-queries", "/gradio_api/vibe-starter-queries/")}


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    with running_server(tmp_path_factory.mktemp("auth"), RAG_API_TOKEN=WRITE_TOKEN,
                        RAG_READ_TOKEN=READ_TOKEN) as running:
        yield running


def every_route() -> list[tuple[str, str]]:
    """(method, path template) of every route of the app, Gradio's mounted ones included."""
    app = create_app(Settings.load(environ={}, api_token="x"))

    def walk(routes, prefix=""):
        for r in routes:
            if isinstance(r, Mount):
                yield from walk(r.routes, prefix + r.path.rstrip("/"))
            elif isinstance(r, _IncludedRouter):
                yield from walk([c.original_route for c in r.effective_candidates()], prefix)
            else:
                for method in sorted(getattr(r, "methods", None) or {"GET"}):
                    yield method, prefix + r.path

    return sorted(set(walk(app.routes)))


def concrete(template: str) -> str:
    """A path for a template: each {param} filled in."""
    return re.sub(r"\{[^}]+\}", "x", template)


def documents(server) -> list[str]:
    reply = httpx.get(f"{server.url}/api/documents", headers=bearer(WRITE_TOKEN))
    return sorted(d["id"] for d in reply.json()["documents"])


def test_every_route_refuses_no_token_and_a_wrong_one_and_the_read_token_cannot_write(server):
    routes = every_route()
    assert len(routes) > 60 and ("POST", "/gradio_api/queue/join") in routes
    before = documents(server)
    unauthenticated, unauthorized = [], []
    with httpx.Client(base_url=server.url, timeout=120) as client:
        for method, template in routes:
            if template in OPEN:
                continue
            path = concrete(template)
            for headers in ({}, bearer("wrong"), {"Cookie": "rag_session=write.forged"}):
                reply = client.request(method, path, headers=headers)
                if reply.status_code != 401:
                    unauthenticated.append((method, path, headers, reply.status_code))
            with client.stream(method, path, headers=bearer(READ_TOKEN)) as reply:  # some never end
                refused = reply.status_code == 403 and "may read but not" in reply.read().decode()
            if ((method, template) in WRITES) != refused:
                unauthorized.append((method, path, reply.status_code))
        victim = before[0]
        assert client.delete(f"/api/documents/{victim}", headers=bearer(READ_TOKEN)).status_code == 403
        upload = client.post("/api/documents", headers=bearer(READ_TOKEN),
                             files={"files": ("x.txt", b"Read tokens cannot upload.")})
        assert upload.status_code == 403
    assert unauthenticated == []
    assert unauthorized == []
    assert documents(server) == before


def test_the_api_answers_either_token(server):
    for token in (WRITE_TOKEN, READ_TOKEN):
        reply = httpx.post(f"{server.url}/api/ask", json={"question": PATHANKOT}, headers=bearer(token),
                           timeout=60)
        assert reply.status_code == 200 and "seven" in reply.json()["answer"]
    reply = httpx.post(f"{server.url}/api/ask", json={"question": PATHANKOT})
    assert reply.status_code == 401 and "missing or wrong token" in reply.json()["detail"]


def test_a_browser_without_a_session_goes_to_the_login_page_and_in_with_a_token(server):
    page = httpx.get(f"{server.url}/", headers={"Accept": "text/html"})
    assert page.status_code == 303 and page.headers["location"] == "/login?next=/"
    with httpx.Client(base_url=server.url) as browser:
        wrong = browser.post("/login", data={"token": "guess", "next": "/"})
        assert wrong.status_code == 401 and "Wrong token" in wrong.text
        right = browser.post("/login", data={"token": READ_TOKEN, "next": "//evil.example/"})
        assert right.status_code == 303 and right.headers["location"] == "/"
        assert browser.get("/config").status_code == 200
        assert browser.post("/api/search", json={"query": "Pathankot"}).status_code == 200
        assert browser.delete("/api/documents/x").status_code == 403


def endpoint(client, first: str) -> tuple[str, list[str]]:
    """The window's named endpoint whose first parameter has this name, and its parameters' names."""
    named = client.view_api(print_info=False, return_format="dict")["named_endpoints"]
    return next((name, [p["parameter_name"] for p in info["parameters"]]) for name, info in named.items()
                if info["parameters"] and info["parameters"][0]["parameter_name"] == first)


def ask_window(client) -> str:
    """Ask the chat endpoint through gradio_client (other inputs left empty)."""
    name, params = endpoint(client, "message")
    values = {"message": PATHANKOT, "messages": []}
    return str(client.predict(*[values.get(p) for p in params], api_name=name))


def raw_call(server, name: str, paths: list[dict], token: str) -> str:
    """Gradio's HTTP call API by hand (gradio_client would upload the file again): the event's stream."""
    started = httpx.post(f"{server.url}/gradio_api/call{name}", json={"data": [paths, None]},
                         headers=bearer(token))
    return httpx.get(f"{server.url}/gradio_api/call{name}/{started.json()['event_id']}",
                     headers=bearer(token), timeout=60).text


def test_gradio_client_needs_a_token_and_the_read_token_cannot_upload(server, tmp_path):
    from gradio_client import Client, handle_file

    with pytest.raises(Exception, match=r"401|Unauthorized|Could not"):
        Client(server.url, verbose=False)
    with pytest.raises(Exception, match=r"401|Unauthorized|Could not"):
        Client(server.url, verbose=False, headers=bearer("wrong"))
    reader = Client(server.url, verbose=False, headers=bearer(READ_TOKEN), download_files=False)
    assert "seven" in ask_window(reader)
    note = tmp_path / "note.txt"
    note.write_text("The read token tried to add this note about otters.")
    before = documents(server)
    with pytest.raises(Exception):  # noqa: B017 - Gradio's own upload route refuses with 403
        reader.predict([handle_file(str(note))], None, api_name=endpoint(reader, "paths")[0])
    writer = Client(server.url, verbose=False, headers=bearer(WRITE_TOKEN), download_files=False)
    assert "seven" in ask_window(writer)
    stored = httpx.post(f"{server.url}/gradio_api/upload", headers=bearer(WRITE_TOKEN),
                        files={"files": ("note.txt", note.read_bytes())}).json()[0]
    file_data = {"path": stored, "meta": {"_type": "gradio.FileData"}, "orig_name": "note.txt"}
    name = endpoint(writer, "paths")[0]
    refused = raw_call(server, name, [file_data], READ_TOKEN)  # a file already on the server
    assert documents(server) == before and "added" not in refused
    assert "note.txt**: added" in raw_call(server, name, [file_data], WRITE_TOKEN)
    assert len(documents(server)) == len(before) + 1
