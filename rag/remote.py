"""A running rag server's HTTP API, for the CLI: standard library only, so a command starts fast."""

from __future__ import annotations

import json
import mimetypes
import uuid
from collections import Counter
from pathlib import Path
from urllib.error import HTTPError, URLError
from urllib.parse import quote, urlencode
from urllib.request import Request, urlopen

from rag.errors import RagError
from rag.types import Answer, Citation

TIMEOUT = 600.0  # seconds: a generated answer or a large upload may take minutes


class RemoteRag:
    """The API calls the CLI needs, each returning the JSON the server sent."""

    def __init__(self, url: str, token: str | None = None) -> None:
        self.url = url.rstrip("/") if "://" in url else f"http://{url.rstrip('/')}"
        self.token = token

    def ask(self, question: str, **fields: object) -> Answer:
        """POST /api/ask: the answer with its citations."""
        data = self._call("POST", "/api/ask", {"question": question, **_given(fields)})
        citations = [Citation(**{k: v for k, v in c.items() if k in Citation.__dataclass_fields__})
                     for c in data.get("citations", [])]
        kept = {k: v for k, v in data.items() if k in Answer.__dataclass_fields__ and k != "citations"}
        return Answer(**kept, citations=citations)

    def search(self, query: str, **fields: object) -> tuple[str, list[dict]]:
        """POST /api/search: the score the ranking followed, and the ranked passages."""
        data = self._call("POST", "/api/search", {"query": query, **_given(fields)})
        return data["ranked_by"], data["results"]

    def lookup(self, cid: str, collection: str | None) -> dict:
        """GET /api/citations/{id}: the cited passage in its document."""
        return self._call("GET", f"/api/citations/{quote(cid, safe='')}" + _query(collection=collection))

    def documents(self, collection: str | None) -> list[dict]:
        """GET /api/documents: the indexed documents, newest first."""
        return self._call("GET", "/api/documents" + _query(collection=collection))["documents"]

    def collections(self) -> dict[str, int]:
        """GET /api/collections: every collection with its chunk count."""
        return self._call("GET", "/api/collections")["collections"]

    def index(self, paths: list[Path], collection: str | None) -> tuple[list[tuple[str, str]], str]:
        """Upload every file under the paths, one at a time: the failed files and a summary line."""
        from rag.ingest.loaders import iter_files

        files = list(iter_files(paths))
        counts: Counter[str] = Counter()
        failed: list[tuple[str, str]] = []
        for path, name in zip(files, upload_names(files)):
            for report in self.upload(path, name, collection):
                counts[report["status"]] += 1
                counts["chunks"] += report.get("chunks") or 0
                if report["status"] == "failed":
                    failed.append((str(path), report.get("reason") or "failed"))
        return failed, (f"uploaded: added {counts['added']}, updated {counts['updated']}, unchanged "
                        f"{counts['unchanged']}, failed {len(failed)}; {counts['chunks']} chunks embedded "
                        "by the server")

    def upload(self, path: Path, name: str, collection: str | None) -> list[dict]:
        """POST /api/documents with one file: the server's report for it (also when it refused it)."""
        if not path.is_file():
            return [{"status": "failed", "reason": "no such file or folder" if not path.exists()
                     else "not a regular file (a fifo, socket or broken link?)"}]
        body, content_type = _multipart("files", path, name)
        try:
            return self._call("POST", "/api/documents" + _query(collection=collection), body,
                              content_type)["files"]
        except RemoteError as exc:
            return exc.body.get("files") or [{"filename": name, "status": "failed", "reason": str(exc)}]

    def _call(self, method: str, path: str, payload: object = None,
              content_type: str = "application/json") -> dict:
        """One request; a 4xx/5xx becomes a RemoteError with the server's message."""
        data = json.dumps(payload).encode() if isinstance(payload, dict) else payload
        headers = {"content-type": content_type} if data is not None else {}
        if self.token:
            headers["authorization"] = f"Bearer {self.token}"
        request = Request(self.url + path, data=data, method=method, headers=headers)
        try:
            with urlopen(request, timeout=TIMEOUT) as response:
                return json.loads(response.read())
        except HTTPError as exc:
            raise RemoteError.from_http(exc) from None
        except (URLError, OSError) as exc:
            reason = getattr(exc, "reason", exc)
            raise RagError(f"cannot reach the rag server at {self.url}: {reason}") from None


class RemoteError(RagError):
    """The server answered with an error; the message is its ``detail``."""

    def __init__(self, message: str, body: dict) -> None:
        super().__init__(message)
        self.body = body

    @classmethod
    def from_http(cls, exc: HTTPError) -> RemoteError:
        """The error of an HTTP error response, keeping its JSON body."""
        try:
            body = json.loads(exc.read())
        except ValueError:
            body = {}
        body = body if isinstance(body, dict) else {}
        return cls(str(body.get("detail") or f"the server answered {exc.code} {exc.reason}"), body)


def _given(fields: dict) -> dict:
    """The request fields that were given (None means "the server's default")."""
    return {k: v for k, v in fields.items() if v is not None}


def _query(**params: object) -> str:
    """``?a=1`` for the given parameters, or ""."""
    given = _given(params)
    return "?" + urlencode(given) if given else ""


def upload_names(files: list[Path]) -> list[str]:
    """The name each file is uploaded under: its own, or with its folder's when another shares it.

    The server keeps one copy per name, so two README.md of one run must not replace each other.
    """
    seen = Counter(path.name for path in files)
    return [path.name if seen[path.name] == 1 else "-".join(path.resolve().parts[-2:]) for path in files]


def _multipart(field: str, path: Path, name: str) -> tuple[bytes, str]:
    """A multipart/form-data body holding one file under ``name``, and its content type."""
    boundary = uuid.uuid4().hex
    kind = mimetypes.guess_type(name)[0] or "application/octet-stream"
    head = (f'--{boundary}\r\nContent-Disposition: form-data; name="{field}"; '
            f'filename="{_header_safe(name)}"\r\ncontent-type: {kind}\r\n\r\n').encode()
    tail = f"\r\n--{boundary}--\r\n".encode()
    return head + path.read_bytes() + tail, f"multipart/form-data; boundary={boundary}"


def _header_safe(name: str) -> str:
    """A file name that cannot break out of its quoted header value."""
    return name.replace("\\", "_").replace('"', "_").replace("\r", "_").replace("\n", "_")
