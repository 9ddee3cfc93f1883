"""BM25 alone on eval sets, without the encoder: nDCG@10, recall@10, MRR@10, build time, query p50.

    PYTHONPATH=. python benchmarks/lexical_quality.py ../shared/eval/realtimeqa_news \\
        ../shared/eval/clapnq_dev ../shared/eval/beir_arguana

Each corpus is loaded and chunked as ``rag index`` does (1000/150), held in memory in place of the
store, and indexed by ``rag.store.lexical`` in a scratch folder; every judged query is scored as
``rag eval`` scores it (document level, 100 chunks, a query's own document dropped). Lexical
figures need no vectors, so this measures BM25 quality on the full corpora in minutes.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # this checkout's rag, not an installed one

from rag.eval import metrics  # noqa: E402
from rag.eval.data import read_eval_set  # noqa: E402
from rag.ingest.chunking import chunk_document  # noqa: E402
from rag.ingest.loaders import load_paths  # noqa: E402
from rag.store.chroma import DocumentRecord  # noqa: E402
from rag.store.lexical import LexicalIndex  # noqa: E402
from rag.types import Chunk  # noqa: E402


class MemorySource:
    """The chunks and records of a corpus, in memory, offered the way the store offers them."""

    shared = False

    def __init__(self, corpus: Path) -> None:
        self.chunks: dict[str, Chunk] = {}
        self._records: dict[str, DocumentRecord] = {}
        for doc in load_paths([corpus]).documents:
            chunks = chunk_document(doc)
            self.chunks |= {c.id: c for c in chunks}
            self._records[doc.id] = DocumentRecord(doc.id, doc.title, doc.source, doc.file, doc.date,
                                                   doc.sha256, len(chunks), 0.0)

    def records(self) -> dict[str, DocumentRecord]:
        """Every document's record."""
        return self._records

    def counts(self) -> tuple[int, int]:
        """(records, chunks)."""
        return len(self._records), len(self.chunks)

    def get_chunks(self, ids: list[str]) -> list[Chunk]:
        """Chunks by id."""
        return [self.chunks[i] for i in ids if i in self.chunks]

    def chunks_of(self, doc_ids: list[str]) -> list[Chunk]:
        """Every chunk of these documents."""
        wanted = set(doc_ids)
        return [c for c in self.chunks.values() if c.doc_id in wanted]


def measure(folder: Path) -> None:
    """Index one eval set's corpus and score its judged queries."""
    eval_set = read_eval_set(folder)
    source = MemorySource(eval_set.corpus)
    with tempfile.TemporaryDirectory() as scratch:
        index = LexicalIndex(source, Path(scratch) / "bm25")
        began = time.perf_counter()
        index.sync()
        built = time.perf_counter() - began
        rows, latencies = [], []
        for query in eval_set.queries:
            relevant = eval_set.qrels.get(query.id)
            if not relevant:
                continue
            began = time.perf_counter()
            found = index.search(query.question, 100)
            latencies.append(time.perf_counter() - began)
            ranking = metrics.document_ranking((r.chunk.doc_id for r in found), exclude=query.id)
            rows.append((metrics.ndcg_at_k(ranking, relevant, 10), metrics.recall_at_k(ranking, relevant, 10),
                         metrics.mrr_at_k(ranking, relevant, 10)))
    ndcg, recall, mrr = (statistics.mean(column) for column in zip(*rows))
    print(f"{eval_set.name}: {len(source.chunks)} chunks, {len(rows)} judged queries; "
          f"nDCG@10 {ndcg:.4f}  recall@10 {recall:.4f}  MRR@10 {mrr:.4f}; built in {built:.1f} s, "
          f"query p50 {statistics.median(latencies) * 1000:.1f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("datasets", nargs="+", type=Path)
    for folder in parser.parse_args().datasets:
        measure(folder)


if __name__ == "__main__":
    main()
