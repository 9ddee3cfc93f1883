"""Damage done to an index folder: each kind is reported in one line naming the repair, or reads right;
never a silent empty index, a wrong answer or a crash. Then `rag index --repair` mends what it can."""

from __future__ import annotations

import random
import shutil
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from procs import run
from servers import start_server

from rag.engine import Engine
from rag.errors import IndexDamaged
from rag.types import Chunk, Document

CHUNKS = 1500  # past Chroma's flush threshold, so the vectors live in the HNSW files


def _vectors(n: int, dim: int) -> np.ndarray:
    rng = np.random.default_rng(5)
    v = rng.standard_normal((n, dim)).astype(np.float32)
    return v / np.linalg.norm(v, axis=1, keepdims=True)


@pytest.fixture(scope="module")
def pristine(tmp_path_factory, embedder):
    """An index folder with 30 documents and 1,500 chunks (random vectors), settled and closed."""
    from rag.settings import Settings

    folder = tmp_path_factory.mktemp("pristine")
    settings = Settings.load(environ={}, index_dir=folder / "index", data_dir=folder / "data")
    engine = Engine(settings, embedder)
    docs, chunks = [], []
    for d in range(30):
        text = " ".join(f"Line {i} of report {d}." for i in range(50))
        docs.append(Document(id=f"doc{d}", title=f"Report {d}", source=f"/x/r{d}.txt", text=text,
                             sha256=f"{d:064x}", file=f"/x/r{d}.txt"))
        chunks += [Chunk(id=f"doc{d}-{i}", doc_id=f"doc{d}", index=i, text=f"Line {i} of report {d}.",
                         start=0, end=1, title=f"Report {d}", source=f"/x/r{d}.txt") for i in range(50)]
    vectors = _vectors(CHUNKS, embedder.dimension)
    engine.store.write(docs, chunks, vectors)
    engine.store.sync()
    engine.close()
    Engine(settings, embedder).documents()  # the first open after a write settles the manifest
    return settings, vectors


def _segment_folders(index: Path) -> list[Path]:
    """Vector-segment folders, smallest first (the records' 1-dimension one, then the chunks')."""
    return sorted((p.parent for p in index.glob("*/data_level0.bin")),
                  key=lambda p: (p / "data_level0.bin").stat().st_size)


def _vector_folder(index: Path) -> Path:
    return _segment_folders(index)[-1]


def _random_bytes(path: Path, at: int | None = None, n: int = 4096) -> None:
    data = bytearray(path.read_bytes())
    at = len(data) // 2 if at is None else at
    data[at:at + n] = random.Random(1).randbytes(min(n, len(data) - at))
    path.write_bytes(bytes(data))


def _truncate(path: Path, share: float) -> None:
    path.write_bytes(path.read_bytes()[:int(path.stat().st_size * share)])


DAMAGE = {
    "database deleted": lambda i: (i / "chroma.sqlite3").unlink(),
    "database emptied": lambda i: _truncate(i / "chroma.sqlite3", 0),
    "database half-truncated": lambda i: _truncate(i / "chroma.sqlite3", 0.5),
    "database random bytes in the middle": lambda i: _random_bytes(i / "chroma.sqlite3"),
    "database random bytes in the header": lambda i: _random_bytes(i / "chroma.sqlite3", 0, 100),
    "data_level0.bin random bytes": lambda i: _random_bytes(_vector_folder(i) / "data_level0.bin", 0,
                                                            200_000),
    "data_level0.bin half-truncated": lambda i: _truncate(_vector_folder(i) / "data_level0.bin", 0.5),
    "data_level0.bin deleted": lambda i: (_vector_folder(i) / "data_level0.bin").unlink(),
    "header.bin emptied": lambda i: _truncate(_vector_folder(i) / "header.bin", 0),
    "header.bin random bytes": lambda i: _random_bytes(_vector_folder(i) / "header.bin", 0, 100),
    "length.bin half-truncated": lambda i: _truncate(_vector_folder(i) / "length.bin", 0.5),
    "length.bin deleted": lambda i: (_vector_folder(i) / "length.bin").unlink(),
    "link_lists.bin random bytes": lambda i: _random_bytes(_vector_folder(i) / "link_lists.bin", 0, 100),
    "index_metadata.pickle truncated": lambda i: [_truncate(p, 0.5)
                                                  for p in i.glob("*/index_metadata.pickle")],
    "index_metadata.pickle deleted": lambda i: [p.unlink() for p in i.glob("*/index_metadata.pickle")],
    "vector segment folder deleted": lambda i: shutil.rmtree(_vector_folder(i)),
    "records segment folder deleted": lambda i: shutil.rmtree(_segment_folders(i)[0]),
}


@pytest.mark.parametrize("damage", DAMAGE)
def test_each_damage_is_reported_with_its_repair_or_reads_right(damage, pristine, tmp_path, embedder):
    settings, vectors = pristine
    index = tmp_path / "index"
    shutil.copytree(settings.index_dir, index)
    DAMAGE[damage](index)
    engine = None
    try:
        engine = Engine(replace(settings, index_dir=index), embedder)
        engine.store.check()
        hits = engine.store.dense_search(vectors[777], 3)
    except IndexDamaged as exc:
        message = str(exc)
        assert "\n" not in message and ("rag index --repair" in message or "--rebuild" in message), message
        return
    finally:
        if engine is not None:
            engine.close()
    assert [h.chunk.id for h in hits][:1] == ["doc15-27"], f"{damage}: a wrong answer {hits[:1]}"


@pytest.mark.parametrize(("damage", "said"), [("database deleted", "the manifest lists 30 documents"),
                                              ("data_level0.bin half-truncated", "but its header needs")])
def test_damage_stops_rag_serve_with_one_line(damage, said, pristine, tmp_path):
    settings, _ = pristine
    shutil.copytree(settings.index_dir, tmp_path / "index")
    DAMAGE[damage](tmp_path / "index")
    proc, _, log = start_server(tmp_path)
    assert proc.wait(timeout=300) != 0
    text = log.read_text()
    assert said in text and "rag index --repair" in text and "Traceback" not in text, text
    assert (tmp_path / "index" / "chroma.sqlite3").exists() == (damage != "database deleted")


def test_repair_mends_a_vector_index_that_cannot_be_opened(pristine, tmp_path, embedder):
    settings, _ = pristine
    index = tmp_path / "index"
    shutil.copytree(settings.index_dir, index)
    DAMAGE["data_level0.bin half-truncated"](index)
    repaired = run("index", "--repair", "--index", index, timeout=900)
    assert repaired.returncode == 0 and "repaired: 1500 chunks" in repaired.stdout, repaired.stderr
    engine = Engine(replace(settings, index_dir=index), embedder)
    try:
        hits = engine.search("Line 27 of report 15.", 1)
    finally:
        engine.close()
    assert hits[0].chunk.id == "doc15-27"


def test_repair_rebuilds_the_vectors_from_the_stored_texts(settings):
    index = ["--index", settings.index_dir]
    assert run("index", settings.seeds_dir, *index, timeout=600).returncode == 0
    shutil.rmtree(_vector_folder(settings.index_dir))
    repaired = run("index", "--repair", *index, timeout=600)
    assert repaired.returncode == 0 and "repaired: 3 chunks" in repaired.stdout, repaired.stderr
    asked = run("ask", "How many Indian troops died in the Pathankot attack?", *index, timeout=600)
    assert asked.returncode == 0 and "seven" in asked.stdout, asked.stderr
