"""Sweep hybrid fusion settings (weighted weights, RRF, candidate depth) on an already indexed eval set.

Retrieval only; one process, so each query is embedded once for every setting. Prints one row per
setting (document-level nDCG@10, recall@10, MRR@10), dense and lexical first for reference.

    python3 benchmarks/tune_fusion.py ../shared/eval/clapnq_dev --index /tmp/evalidx/clapnq \
        [--sample-others N] [--title-in-chunk] [--chunk-size 1000 --chunk-overlap 150]
"""

from __future__ import annotations

import argparse
from dataclasses import replace
from pathlib import Path

from rag.eval_data import read_eval_set
from rag.evaluation import EvalOptions, MemoEmbedder, prepare_engine, run_queries, summarize
from rag.retrieval import make_retriever
from rag.settings import Settings

SETTINGS = [("dense", None, None, 50), ("lexical", None, None, 50)] + [
    ("hybrid", "weighted", w, 50) for w in (0.3, 0.4, 0.5, 0.6, 0.7, 0.8)] + [
    ("hybrid", "rrf", None, 50), ("hybrid", "weighted", 0.5, 100), ("hybrid", "rrf", None, 100)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("dataset", type=Path)
    parser.add_argument("--index", type=Path, required=True)
    parser.add_argument("--sample-others", type=int)
    parser.add_argument("--title-in-chunk", action="store_true")
    parser.add_argument("--chunk-size", type=int, default=1000)
    parser.add_argument("--chunk-overlap", type=int, default=150)
    args = parser.parse_args()
    eval_set = read_eval_set(args.dataset)
    settings = Settings.load(index_dir=args.index, title_in_chunk=args.title_in_chunk,
                             chunk_size=args.chunk_size, chunk_overlap=args.chunk_overlap)
    options = EvalOptions(sample_others=args.sample_others, answers=False)
    engine = prepare_engine(eval_set, settings, options)
    memo = MemoEmbedder(engine.embedder)
    print(f"{eval_set.name} ({engine.settings.collection}, {engine.store.count()} chunks)")
    print("retriever  fusion    weight  depth  ndcg@10  recall@10  mrr@10")
    for kind, method, weight, depth in SETTINGS:
        s = replace(engine.settings, fusion=method or "weighted", fusion_weight=weight or 0.5)
        retriever = make_retriever(kind, engine.store, memo, engine.lexical, s.fusion,
                                   s.fusion_weight, depth)
        results = run_queries(eval_set.queries, retriever, None, options.k, options.depth)
        r = summarize(eval_set, eval_set.queries, results)["retrieval"]
        print(f"{kind:9}  {method or '-':8}  {weight or '-':>6}  {depth:5}  {r['ndcg@10']:.4f}  "
              f"{r['recall@10']:9.4f}  {r['mrr@10']:.4f}", flush=True)
    engine.close()


if __name__ == "__main__":
    main()
