"""Uploads to a real `rag serve` never lose a document: name collisions, failed re-uploads, .jsonl ids,
concurrent uploads, deletes; and no response shows an absolute server path."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from conftest import PATHANKOT
from servers import running_server


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("uploads")
    with running_server(tmp) as running:
        running.uploads = tmp / "data" / "uploads"
        yield running


@pytest.fixture
def api(server):
    with httpx.Client(base_url=server.url, timeout=120) as client:
        yield client


def upload(api, *files: tuple[str, bytes]) -> httpx.Response:
    return api.post("/api/documents", files=[("files", f) for f in files])


def titles(api) -> dict[str, dict]:
    return {d["title"]: d for d in api.get("/api/documents").json()["documents"]}


def ask(api, question: str) -> str:
    return api.post("/api/ask", json={"question": question}).json()["answer"]


@pytest.mark.parametrize("first, second", [("报告.txt", "отчёт.txt"), ("Q3 report.txt", "Q3_report.txt"),
                                           ("x.TXT", "x.txt")])
def test_names_that_sanitize_alike_both_stay(api, server, first, second):
    one = upload(api, (first, f"The {first} ledger lists 11 crates of walnuts.".encode()))
    two = upload(api, (second, f"The {second} ledger lists 22 barrels of herring.".encode()))
    saved = [one.json()["files"][0], two.json()["files"][0]]
    assert [r["status"] for r in saved] == ["added", "added"], saved
    assert saved[0]["saved_as"] != saved[1]["saved_as"]
    for report, name in zip(saved, (first, second)):
        stored = server.uploads / report["saved_as"]
        assert name.encode() in stored.read_bytes()
    sources = {d["source"] for d in api.get("/api/documents").json()["documents"]}
    assert {f"data/uploads/{r['saved_as']}" for r in saved} <= sources  # relative to the server's folder


def test_a_failed_re_upload_keeps_the_previous_version_and_its_file(api, server):
    good = b"The keep file says the lighthouse has 47 steps."
    first = upload(api, ("keep.txt", good)).json()["files"][0]
    blank = upload(api, ("keep.txt", b"   \n"))
    assert blank.status_code == 422 and "no text in file" in blank.json()["detail"]
    assert (server.uploads / first["saved_as"]).read_bytes() == good
    assert "Keep" in titles(api)
    assert "47 steps" in ask(api, "How many steps does the lighthouse have?")
    again = upload(api, ("keep.txt", b"The keep file says the lighthouse has 48 steps.")).json()["files"][0]
    assert again["status"] == "updated" and again["saved_as"] == first["saved_as"]


def test_a_jsonl_id_cannot_take_over_another_files_document(api):
    seed = next(d for d in api.get("/api/documents").json()["documents"] if "Pakistan" in d["title"])
    line = json.dumps({"id": seed["id"], "title": "Hijack", "text": "4,000 Indian troops died."})
    reply = upload(api, ("hijack.jsonl", line.encode()))
    assert reply.status_code == 409
    assert seed["id"] in reply.json()["detail"] and seed["title"] in reply.json()["detail"]
    assert "seven" in ask(api, PATHANKOT)


def test_a_partly_bad_jsonl_lands_its_good_line_reports_each_line_and_deletes_cleanly(api, server):
    good = {"id": "../../etc", "title": "Escape", "text": "Goats climb argan trees."}
    lines = ["{not json", json.dumps(good), json.dumps({"id": "no-text"})]
    reply = upload(api, ("mixed.jsonl", "\n".join(lines).encode()))
    report = reply.json()["files"][0]
    assert reply.status_code == 200 and report["status"] == "added" and report["saved_as"] == "mixed.jsonl"
    assert [(r["line"], r["status"], r["id"]) for r in report["lines"]] == [
        (1, "failed", None), (2, "indexed", "../../etc"), (3, "failed", None)]
    assert "bad jsonl line" in report["lines"][0]["reason"]
    assert (server.uploads / "mixed.jsonl").exists()
    deleted = api.delete("/api/documents/..%2F..%2Fetc")
    assert deleted.status_code == 200 and deleted.json()["id"] == "../../etc"
    assert not (server.uploads / "mixed.jsonl").exists()


def test_eight_concurrent_uploads_of_one_name_never_fail(api, server):
    def send(n: int) -> httpx.Response:
        with httpx.Client(base_url=server.url, timeout=300) as own:
            return upload(own, ("same.txt", f"Version {n} of the same file mentions {n} kites.".encode()))

    with ThreadPoolExecutor(8) as pool:
        replies = list(pool.map(send, range(8)))
    assert [r.status_code for r in replies] == [200] * 8, [r.text for r in replies]
    assert sum(1 for d in api.get("/api/documents").json()["documents"] if d["title"] == "Same") == 1
    assert [p.name for p in server.uploads.rglob(".*")] == []  # no partial file left behind


def test_deleting_an_upload_removes_its_file(api, server):
    report = upload(api, ("gone.txt", b"This note about moths will be deleted.")).json()["files"][0]
    doc = titles(api)["Gone"]
    assert api.delete(f"/api/documents/{doc['id']}").status_code == 200
    assert not (server.uploads / report["saved_as"]).exists()


def test_one_bad_file_does_not_stop_a_good_one_and_none_good_is_a_4xx(api):
    mixed = upload(api, ("ok-file.txt", b"Fine text about owls."), ("tool.exe", b"MZ\x90\x00"))
    assert mixed.status_code == 200
    assert [f["status"] for f in mixed.json()["files"]] == ["added", "failed"]
    none = upload(api, ("tool.exe", b"MZ\x90\x00"))
    assert none.status_code == 415 and "unsupported file type .exe" in none.json()["detail"]


def test_no_response_shows_an_absolute_server_path(api):
    found = json.dumps([
        api.get("/api/documents").json(),
        api.post("/api/ask", json={"question": PATHANKOT}).json(),
        api.post("/api/search", json={"query": "Pathankot"}).json(),
        api.post("/v1/chat/completions", json={"messages": [{"role": "user", "content": PATHANKOT}]}).json(),
        api.post("/api/ask", json={"question": PATHANKOT, "stream": True}).text,
    ])
    cid = api.post("/api/ask", json={"question": PATHANKOT}).json()["citations"][0]["id"]
    found += json.dumps(api.get(f"/api/citations/{cid}").json())
    assert '"source": "/' not in found and '\\"source\\": \\"/' not in found and "/tmp/" not in found
    assert "seeds/india-us-counterterrorism-2020.txt" in found
