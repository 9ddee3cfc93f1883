"""A damaged index folder is reported, never silently replaced or crashed on.

A manifest beside the index (``rag-manifest.json``) remembers each collection's document and chunk
counts, the database's size and the modification time of every vector-segment file (Chroma rewrites the
database on every open, but not those). On open, a database that vanished or was emptied while the
manifest lists documents is refused before Chroma could create a new empty one; a folder whose files
differ from the manifest is opened first in a child process (Chroma's native code can crash the
process on a damaged vector segment), so a crash becomes a message naming the repair; files shorter
than their HNSW header says are refused before any process loads them (rag.store.hnsw_files).
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

from rag.errors import IndexDamaged
from rag.store import hnsw_files

MANIFEST = "rag-manifest.json"
DATABASE = "chroma.sqlite3"
PROBE_SECONDS = 120.0


def repair_hint(index_dir: Path) -> str:
    """The commands that mend a damaged index folder."""
    return (f"run `rag index --repair --index {index_dir}` to rebuild what the stored texts allow, "
            f"or `rag index --rebuild --index {index_dir} PATH` to index the files again")


def first_line(exc: BaseException) -> str:
    """``Kind: first line of the message`` of an exception from Chroma or SQLite."""
    text = str(exc).strip()
    return f"{type(exc).__name__}: {text.splitlines()[0] if text else 'no message'}"


def fingerprint(index_dir: Path) -> dict[str, list]:
    """Size of every file Chroma keeps in the folder, and when each vector-segment file last changed.

    Not a checksum: hashing the vector segments (400 MB at 250k chunks) after every write made a
    one-document change cost time in proportion to the corpus.
    """
    found: dict[str, list] = {}
    for path in sorted(index_dir.rglob("*")):
        rel = path.relative_to(index_dir)
        if path.is_file() and rel.parts[0] != "lexical" and not path.name.startswith((MANIFEST, ".")):
            stat = path.stat()
            found[str(rel)] = [stat.st_size]
            if path.name != DATABASE and not path.name.startswith(DATABASE):
                found[str(rel)].append(stat.st_mtime_ns)
    return found


def read_manifest(index_dir: Path) -> dict:
    """The manifest, or an empty one (a folder made before manifests, or a new one)."""
    try:
        manifest = json.loads((index_dir / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {"collections": {}, "files": {}}
    return manifest if isinstance(manifest, dict) else {"collections": {}, "files": {}}


def remember(index_dir: Path, counts: dict[str, tuple[int, int]]) -> None:
    """Record what a write left (collection -> (documents, chunks)) and the files as they are now."""
    manifest = read_manifest(index_dir)
    manifest["collections"].update({name: {"documents": d, "chunks": c} for name, (d, c) in counts.items()})
    manifest["files"] = fingerprint(index_dir)
    fresh = index_dir / f".{MANIFEST}.new"
    fresh.write_text(json.dumps(manifest, indent=1), encoding="utf-8")
    os.replace(fresh, index_dir / MANIFEST)


def forget(index_dir: Path, collection: str) -> None:
    """A collection dropped on purpose (``--rebuild``) is no longer expected."""
    manifest = read_manifest(index_dir)
    if manifest["collections"].pop(collection, None) is not None:
        remember(index_dir, {})


def check_before_open(index_dir: Path) -> None:
    """Refuse a folder whose database is gone or empty while documents are expected; probe changed files."""
    manifest = read_manifest(index_dir)
    expected = {name: c for name, c in manifest["collections"].items() if c.get("chunks")}
    database = index_dir / DATABASE
    if expected and (not database.exists() or database.stat().st_size == 0):
        state = "missing" if not database.exists() else "empty"
        listed = sum(c.get("documents", 0) for c in expected.values())
        raise IndexDamaged(f"the index database {database} is {state}, but the manifest lists {listed} "
                           f"documents; restore it from a backup, or {repair_hint(index_dir)}")
    if database.exists() and fingerprint(index_dir) != manifest["files"]:
        check_hnsw_files(index_dir)
        probe(index_dir, expected)
        remember(index_dir, {})


def check_hnsw_files(index_dir: Path) -> None:
    """IndexDamaged when a vector segment's files are shorter than their header says."""
    for folder in hnsw_files.segment_folders(index_dir):
        if why := hnsw_files.problem(folder):
            raise IndexDamaged(f"the index in {index_dir} is damaged: {why}; {repair_hint(index_dir)}")


def probe(index_dir: Path, expected: dict[str, dict]) -> None:
    """Open the index in a child process and read from every expected collection; IndexDamaged if it fails."""
    try:
        done = subprocess.run([sys.executable, "-m", "rag.store.probe", str(index_dir), json.dumps(expected)],
                              capture_output=True, text=True, timeout=PROBE_SECONDS)
    except subprocess.TimeoutExpired:
        raise IndexDamaged(f"opening the index in {index_dir} hung for {PROBE_SECONDS:.0f} s; "
                           f"{repair_hint(index_dir)}") from None
    if done.returncode == 0:
        return
    lines = done.stdout.strip().splitlines() or done.stderr.strip().splitlines()
    why = lines[-1] if done.returncode > 0 and lines else f"Chroma crashed (signal {-done.returncode})"
    raise IndexDamaged(f"the index in {index_dir} is damaged: {why}; {repair_hint(index_dir)}")


def vector_segment_folders(index_dir: Path, collection: str) -> list[Path]:
    """The folders of a collection's vector segment, read from the database without Chroma."""
    database = index_dir / DATABASE
    try:
        with sqlite3.connect(f"file:{database}?mode=ro", uri=True) as db:
            rows = db.execute("SELECT s.id FROM segments s JOIN collections c ON s.collection = c.id "
                              "WHERE c.name = ? AND s.scope = 'VECTOR'", (collection,)).fetchall()
    except sqlite3.Error as exc:
        raise IndexDamaged(f"the index database {database} cannot be read ({exc}); rebuild it with "
                           f"`rag index --rebuild --index {index_dir} PATH`") from None
    return [index_dir / row[0] for row in rows if (index_dir / row[0]).is_dir()]


def drop_vector_segment(index_dir: Path, collection: str) -> int:
    """Remove a collection's vector-segment folders (derived data: rebuilt from the texts); how many."""
    folders = vector_segment_folders(index_dir, collection)
    for folder in folders:
        shutil.rmtree(folder)
    return len(folders)
