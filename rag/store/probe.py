"""Run by ``rag.store.integrity.probe`` in a child process: open an index and read every part of it.

``python -m rag.store.probe INDEX_DIR EXPECTED_JSON`` exits 0 when every expected collection opens,
holds chunks and answers a vector query; otherwise it prints one line and exits 1 (or dies, which
the parent reports by its signal).
"""

from __future__ import annotations

import json
import sqlite3
import sys

from rag.store.integrity import first_line


def check(index_dir: str, expected: dict[str, dict]) -> str | None:
    """None when the index reads; else what is wrong."""
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    try:
        # read-write (never create): after a kill -9 a read-only connection cannot roll back the hot
        # journal and fails with "attempt to write a readonly database"; Chroma opens it so next anyway
        with sqlite3.connect(f"file:{index_dir}/chroma.sqlite3?mode=rw", uri=True) as db:
            verdict = db.execute("PRAGMA quick_check").fetchone()[0]
        if verdict != "ok":
            return f"the database fails SQLite's check: {verdict}"
        settings = ChromaSettings(anonymized_telemetry=False)
        client = chromadb.PersistentClient(path=index_dir, settings=settings)
        names = {c.name for c in client.list_collections()}
        for name, counts in expected.items():
            if name not in names:
                return f"collection {name!r} is missing, but the manifest lists {counts.get('chunks')} chunks"
            collection = client.get_collection(name)
            chunks = collection.count()
            if chunks == 0:
                return f"collection {name!r} is empty, but the manifest lists {counts.get('chunks')} chunks"
            row = collection.get(limit=1, include=["embeddings"])
            collection.query(query_embeddings=[row["embeddings"][0]], n_results=min(chunks, 5))
    except Exception as exc:  # anything Chroma raises here means the folder cannot be read
        return first_line(exc)
    return None


def main() -> None:
    """Entry point of the child process."""
    problem = check(sys.argv[1], json.loads(sys.argv[2]))
    if problem:
        print(problem)
        sys.exit(1)


if __name__ == "__main__":
    main()
