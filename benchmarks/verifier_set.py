"""The verifier benchmark's fixed question set, and its stored generations' passages rebuilt from the corpora.

Only ids and offsets of eval-set passages are stored in the repository; their text is read back from
``../shared/eval`` (never copied here) and from the seed eval set.
"""

from __future__ import annotations

import json
import random
from functools import cache
from pathlib import Path

from rag.eval.data import EvalQuery, read_eval_set
from rag.ingest.loaders import load_file
from rag.types import Chunk, Document, ScoredChunk

REPO = Path(__file__).resolve().parents[1]
SETS = {"seeds": REPO / "tests" / "evalset" / "seeds",
        "clapnq_dev": REPO.parent / "shared" / "eval" / "clapnq_dev"}
GENERATIONS = Path(__file__).resolve().parent / "verifier_generations.jsonl"
LABELS = Path(__file__).resolve().parent / "verifier_labels.jsonl"


def question_set(answerable: int = 10, unanswerable: int = 2, seed: int = 7) -> list[tuple[str, EvalQuery]]:
    """Every seed question, plus a fixed random sample of ClapNQ dev questions."""
    chosen = [("seeds", q) for q in read_eval_set(SETS["seeds"]).queries]
    clapnq = read_eval_set(SETS["clapnq_dev"]).queries
    rng = random.Random(seed)
    for wanted, count in ((True, answerable), (False, unanswerable)):
        pool = [q for q in clapnq if q.answerable == wanted]
        chosen += [("clapnq_dev", q) for q in rng.sample(pool, count)]
    return chosen


def passage_record(p: ScoredChunk) -> dict:
    """A retrieved passage as stored: where it is, not what it says."""
    c = p.chunk
    return {"chunk_id": c.id, "doc_id": c.doc_id, "index": c.index, "start": c.start, "end": c.end,
            "title": c.title, "date": c.date, "score": round(p.similarity or 0.0, 6)}


@cache
def documents(set_name: str) -> dict[str, Document]:
    """The set's corpus by document id."""
    return {d.id: d for d in load_file(SETS[set_name] / "corpus.jsonl")}


def passages(set_name: str, records: list[dict]) -> list[ScoredChunk]:
    """The stored passages with their text read back from the corpus."""
    docs = documents(set_name)
    out = []
    for r in records:
        doc = docs[r["doc_id"]]
        chunk = Chunk(r["chunk_id"], r["doc_id"], r["index"], doc.text[r["start"]:r["end"]], r["start"],
                      r["end"], r["title"], doc.source, r["date"])
        out.append(ScoredChunk(chunk, similarity=r["score"]))
    return out


def read_jsonl(path: Path) -> list[dict]:
    """The records of a jsonl file."""
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def write_jsonl(path: Path, records: list[dict]) -> None:
    """Write records one per line."""
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8")
