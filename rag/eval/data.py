"""Eval sets in the layout of ../shared/eval: corpus.jsonl, queries.jsonl, qrels.tsv."""

from __future__ import annotations

import json
import random
from dataclasses import dataclass, field
from pathlib import Path

from rag.dates import find_date
from rag.errors import RagError


@dataclass(frozen=True)
class EvalQuery:
    """One question with its gold answers and evidence sentences (both may be empty)."""

    id: str
    question: str
    answers: tuple[str, ...] = ()
    evidence: tuple[str, ...] = ()
    answerable: bool = True
    date: str | None = None
    history: tuple[str, ...] = ()  # earlier questions of the conversation, oldest first (follow-ups)


@dataclass
class EvalSet:
    """A dataset folder: its queries and which documents answer each one."""

    name: str
    folder: Path
    queries: list[EvalQuery]
    qrels: dict[str, dict[str, int]] = field(default_factory=dict)

    @property
    def corpus(self) -> Path:
        """The corpus file."""
        return self.folder / "corpus.jsonl"

    @property
    def judged_documents(self) -> set[str]:
        """Every document some query is judged against."""
        return {d for rels in self.qrels.values() for d in rels}


class EvalSetError(RagError):
    """A dataset folder that is missing files or holds malformed lines."""


def read_eval_set(folder: Path) -> EvalSet:
    """Read a dataset folder; a missing file or malformed line is a clear error."""
    for name in ("corpus.jsonl", "queries.jsonl", "qrels.tsv"):
        if not (folder / name).is_file():
            raise EvalSetError(f"{folder} is not an eval set: it has no {name} "
                               "(expected corpus.jsonl, queries.jsonl and qrels.tsv)")
    qrels = _read_qrels(folder / "qrels.tsv")
    queries = [_query(rec, qrels) for rec in _jsonl(folder / "queries.jsonl")]
    return EvalSet(folder.resolve().name, folder, queries, qrels)


def _jsonl(path: Path) -> list[dict]:
    """The records of a jsonl file."""
    records = []
    with path.open(encoding="utf-8") as handle:
        for lineno, line in enumerate(handle, start=1):
            if line.strip():
                try:
                    records.append(json.loads(line))
                except ValueError as exc:
                    raise EvalSetError(f"{path}:{lineno}: bad json: {exc}") from exc
    return records


def _read_qrels(path: Path) -> dict[str, dict[str, int]]:
    """query id -> {doc id: relevance}."""
    qrels: dict[str, dict[str, int]] = {}
    for lineno, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        parts = line.split("\t")
        if not line.strip() or parts[0] == "query-id":
            continue
        if len(parts) != 3 or not parts[2].strip().lstrip("-").isdigit():
            raise EvalSetError(f"{path}:{lineno}: expected query_id<TAB>doc_id<TAB>relevance")
        qrels.setdefault(parts[0], {})[parts[1]] = int(parts[2])
    return qrels


def _query(rec: dict, qrels: dict[str, dict[str, int]]) -> EvalQuery:
    """An EvalQuery from a queries.jsonl record."""
    qid = str(rec.get("id", ""))
    if not qid or not isinstance(rec.get("question"), str):
        raise EvalSetError(f"query record without id or question: {str(rec)[:100]}")
    answers = tuple(str(a) for a in rec.get("answers") or ())
    evidence = rec.get("evidence")
    evidence = tuple(evidence) if isinstance(evidence, list) else ()
    answerable = rec.get("answerable", bool(answers) or qid in qrels)
    date = find_date(str(rec["date"])) if rec.get("date") else None
    history = tuple(str(h) for h in rec.get("history") or ())
    return EvalQuery(qid, rec["question"], answers, evidence, bool(answerable), date, history)


def sample_corpus(eval_set: EvalSet, others: int, seed: int = 0) -> set[str]:
    """Every judged document plus ``others`` unjudged ones drawn with a fixed seed."""
    judged = eval_set.judged_documents
    with eval_set.corpus.open(encoding="utf-8") as handle:
        ids = [json.loads(line)["id"] for line in handle if line.strip()]
    rest = sorted(set(ids) - judged)
    return judged | set(random.Random(seed).sample(rest, min(others, len(rest))))


def write_subset(eval_set: EvalSet, keep: set[str], target: Path) -> Path:
    """Write the corpus lines whose id is in ``keep`` to ``target`` (unchanged if already equal)."""
    with eval_set.corpus.open(encoding="utf-8") as handle:
        lines = [line for line in handle if line.strip() and json.loads(line)["id"] in keep]
    text = "".join(lines)
    if not target.exists() or target.read_text(encoding="utf-8") != text:
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
    return target
