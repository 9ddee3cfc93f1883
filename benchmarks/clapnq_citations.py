"""Calibrate the decline and support thresholds on ClapNQ dev, then score citations per backend.

Prints, from one run:
- the decline sweep: answered share of answerable and declined share of unanswerable questions
  for each retrieval-score threshold (``min_relevance``), and the threshold that balances them;
- the support sweep: how well "best passage sentence similarity >= t and the numbers and names match"
  separates a human answer's sentences checked against their gold passage (supported) from the same
  sentences checked against the best-ranked other passage (not supported), per threshold ``t``;
- for each backend (extractive, and gguf:PATH / openai when asked): answered rate on answerable,
  declined rate on unanswerable, and citation precision/recall against the gold evidence sentences.

    PYTHONPATH=. python3 benchmarks/clapnq_citations.py --llm-limit 16 --llm gguf:smollm2
"""

from __future__ import annotations

import argparse
import json
import random
import re
import statistics
import sys
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

from rag.answer.local_llm import smollm2_path
from rag.answer.verification import facts_match
from rag.engine import Engine
from rag.sentences import sentence_spans
from rag.settings import Settings

DATA = Path(__file__).resolve().parents[2] / "shared" / "eval" / "clapnq_dev"
OLD_PASSAGE_GATE = 0.25  # the passage gate the extractive answerer had before its learned scorer


def load_queries(folder: Path, limit: int | None, seed: int) -> list[dict]:
    """Queries, a balanced random subset (half answerable) when limit is given."""
    queries = [json.loads(line) for line in (folder / "queries.jsonl").open()]
    if not limit:
        return queries
    rng = random.Random(seed)
    answerable = [q for q in queries if q["answerable"]]
    unanswerable = [q for q in queries if not q["answerable"]]
    rng.shuffle(answerable)
    rng.shuffle(unanswerable)
    return answerable[:limit // 2] + unanswerable[:limit - limit // 2]


def normal(text: str) -> str:
    """Lower-cased words only, to compare our sentence spans with ClapNQ's tokenised evidence."""
    return " ".join(re.findall(r"[a-z0-9]+", text.lower()))


def quote_matches(quote: str, evidence: str) -> bool:
    """A cited sentence matches a gold one when either contains the other."""
    q, e = normal(quote), normal(evidence)
    return bool(q and e) and (q in e or e in q)


def decline_sweep(runs: list[dict], key: str, label: str) -> float:
    """Print answered/declined shares per threshold on one signal; return the best balanced one."""
    print(f"\n== decline threshold: answer when {label} >= t ==")
    print(f"{'t':>5} {'answered(ans)':>14} {'declined(unans)':>16} {'balanced':>9}")
    best = (0.0, 0.0)
    for t in np.arange(0.20, 0.75, 0.05):
        answered = np.mean([r[key] >= t for r in runs if r["answerable"]])
        declined = np.mean([r[key] < t for r in runs if not r["answerable"]])
        balanced = (answered + declined) / 2
        print(f"{t:5.2f} {answered:14.3f} {declined:16.3f} {balanced:9.3f}")
        best = max(best, (round(float(balanced), 4), round(float(t), 2)))
    print(f"best t = {best[1]:.2f} (balanced accuracy {best[0]:.3f})")
    return best[1]


def best_sentence(engine: Engine, question: str, passages: list) -> float:
    """The highest similarity between the question and a sentence of a passage above the old 0.25 floor."""
    sentences = [p.chunk.text[s:e] for p in passages if (p.similarity or 0.0) >= OLD_PASSAGE_GATE
                 for s, e in sentence_spans(p.chunk.text) if e - s >= 15]
    if not sentences:
        return -1.0
    vectors = engine.embedder.embed([question, *sentences])
    return float(np.max(vectors[1:] @ vectors[0]))


def support_pairs(engine: Engine, runs: list[dict], corpus: dict[str, dict]) -> list[tuple[float, bool]]:
    """(best similarity of a sentence whose facts match, gold) for answer sentences vs passages.

    Each sentence of a human answer is checked against its gold passage (it should be supported)
    and against the best-ranked other passage (it should not), the way the Verifier checks.
    """
    pairs: list[tuple[str, dict, bool]] = []
    for r in runs:
        if not r["answerable"] or not r["query"]["answers"]:
            continue
        gold = corpus[r["query"]["passage_doc"]]
        wrong = next((corpus[p.chunk.doc_id] for p in r["passages"] if p.chunk.doc_id != gold["id"]), None)
        answer = r["query"]["answers"][0]
        for s, e in sentence_spans(answer):
            pairs.append((answer[s:e], gold, True))
            if wrong:
                pairs.append((answer[s:e], wrong, False))
    return [(_best_support(engine, claim, doc), is_gold) for claim, doc, is_gold in pairs]


def _best_support(engine: Engine, claim: str, doc: dict) -> float:
    """The highest similarity among the document's sentences that state the claim's facts (-1: none)."""
    sentences = [doc["text"][s:e] for s, e in sentence_spans(doc["text"])]
    vectors = engine.embedder.embed([claim, *sentences])
    sims = vectors[1:] @ vectors[0]
    ok = [float(sims[i]) for i, sentence in enumerate(sentences)
          if facts_match(claim, sentence, f"{sentences[i - 1] if i else ''} {doc['title']}")]
    return max(ok, default=-1.0)


def support_sweep(pairs: list[tuple[float, bool]]) -> float:
    """Print how each threshold classifies supported vs unsupported pairs; return the best by F1."""
    print(f"\n== support threshold ({sum(g for _, g in pairs)} supported, "
          f"{sum(not g for _, g in pairs)} unsupported answer sentences) ==")
    print(f"{'t':>5} {'precision':>10} {'recall':>7} {'F1':>6}   (a sentence with similarity >= t "
          "states the claim's numbers and names)")
    best = (0.0, 0.5)
    for t in np.arange(0.30, 0.85, 0.05):
        tp = sum(1 for score, gold in pairs if score >= t and gold)
        fp = sum(1 for score, gold in pairs if score >= t and not gold)
        fn = sum(1 for score, gold in pairs if score < t and gold)
        p, r = tp / max(1, tp + fp), tp / max(1, tp + fn)
        f1 = 2 * p * r / max(1e-9, p + r)
        print(f"{t:5.2f} {p:10.3f} {r:7.3f} {f1:6.3f}")
        best = max(best, (round(f1, 4), round(float(t), 2)))
    print(f"chosen min_support = {best[1]:.2f} (F1 {best[0]:.3f})")
    return best[1]


def score_backend(engine: Engine, runs: list[dict], k: int) -> dict:
    """Answer every question with the engine's backend; answered/declined rates and citation P/R."""
    rows, latencies = [], []
    for r in runs:
        start = time.perf_counter()
        answer = engine.ask(r["query"]["question"], k=k)
        latencies.append(time.perf_counter() - start)
        rows.append((r, answer))
        print(f"  {len(rows)}/{len(runs)} {latencies[-1]:5.1f}s answered={answer.answered} "
              f"cites={len(answer.citations)} notice={bool(answer.notice)}", file=sys.stderr)
    return {**summarize(rows, latencies), "_rows": rows}


def summarize(rows: list, latencies: list[float]) -> dict:
    """The figures for one backend."""
    answerable = [(r, a) for r, a in rows if r["answerable"]]
    unanswerable = [(r, a) for r, a in rows if not r["answerable"]]
    cited = verified = good_all = good_verified = gold_total = gold_found = 0
    for r, a in answerable:
        evidence = r["query"]["evidence"]
        gold_total += len(evidence)
        gold_found += sum(any(quote_matches(c.quote, e) for c in a.citations if c.verified) for e in evidence)
        for c in a.citations:
            hit = any(quote_matches(c.quote, e) for e in evidence)
            cited += 1
            good_all += hit
            verified += c.verified
            good_verified += hit and c.verified
    return {
        "questions": len(rows), "answerable": len(answerable), "unanswerable": len(unanswerable),
        "answered_rate_answerable": round(np.mean([a.answered for _, a in answerable]), 3),
        "declined_rate_unanswerable": round(np.mean([not a.answered for _, a in unanswerable]), 3),
        "citations": cited, "verified_citations": verified,
        "citation_precision_verified": round(good_verified / max(1, verified), 3),
        "citation_precision_all": round(good_all / max(1, cited), 3),
        "citation_recall": round(gold_found / max(1, gold_total), 3),
        "fallbacks": sum(bool(a.notice) for _, a in rows),
        "median_latency_s": round(statistics.median(latencies), 2),
    }


def main() -> None:
    """Index ClapNQ dev, calibrate both thresholds, score each backend, print the figures."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data", type=Path, default=DATA)
    ap.add_argument("--index", type=Path, default=Path("/tmp/rag-clapnq-index"))
    ap.add_argument("--limit", type=int, default=0, help="questions (balanced); 0 = all")
    ap.add_argument("--llm-limit", type=int, default=16, help="questions for LLM backends (balanced)")
    ap.add_argument("--llm", action="append", default=[],
                    help="another backend: gguf:PATH, gguf:smollm2 or openai")
    ap.add_argument("--llm-url", default=None)
    ap.add_argument("-k", type=int, default=5)
    ap.add_argument("--llm-k", type=int, default=3, help="passages in the LLM prompt (CPU is scarce)")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--min-sentence", type=float, default=None, help="use this, not the sweep's best")
    ap.add_argument("--min-support", type=float, default=None, help="use this, not the sweep's best")
    args = ap.parse_args()

    settings = Settings.load(index_dir=args.index, collection="clapnq_dev")
    engine = Engine(settings)
    started = time.perf_counter()
    print(engine.index([args.data / "corpus.jsonl"]).summary(), f"({time.perf_counter() - started:.0f}s)")
    corpus = {d["id"]: d for d in map(json.loads, (args.data / "corpus.jsonl").open())}
    queries = load_queries(args.data, args.limit, args.seed)
    runs = []
    for q in queries:
        passages = engine.search(q["question"], k=args.k)
        runs.append({"query": q, "answerable": q["answerable"], "passages": passages,
                     "top": passages[0].similarity if passages else 0.0,
                     "sentence": best_sentence(engine, q["question"], passages)})
    print(f"{len(runs)} questions: {sum(r['answerable'] for r in runs)} answerable, "
          f"{sum(not r['answerable'] for r in runs)} unanswerable")
    decline_sweep(runs, "top", "the best passage's retrieval score (the old passage gate)")
    min_sentence = decline_sweep(runs, "sentence", "the best question-sentence similarity "
                                 "(min_sentence_relevance)")
    min_sentence = args.min_sentence if args.min_sentence is not None else min_sentence
    min_support = support_sweep(support_pairs(engine, runs, corpus))
    min_support = args.min_support if args.min_support is not None else min_support
    print(f"backends run with min_sentence_relevance={min_sentence} min_support={min_support}")
    results = {}
    tuned = replace(settings, min_support=min_support)  # the extractive answerer now declines by its scorer
    engine.settings = tuned
    results["extractive"] = score_backend(engine, runs, args.k)
    llm_ids = {q["id"] for q in load_queries(args.data, args.llm_limit, args.seed)}
    llm_runs = [r for r in runs if r["query"]["id"] in llm_ids]
    results["extractive (same questions as the LLMs)"] = summarize(
        [(r, a) for r, a in results["extractive"].pop("_rows") if r["query"]["id"] in llm_ids], [0.0])
    for spec in args.llm:
        if spec == "gguf:smollm2":
            spec = f"gguf:{smollm2_path()}"
        engine.settings = replace(tuned, llm=spec, llm_url=args.llm_url, llm_timeout=300.0)
        engine._generator = None
        results[spec.split(":")[0] + (" (SmolLM2)" if "SmolLM2" in spec else "")] = \
            score_backend(engine, llm_runs, args.llm_k)
    print("\n== backends ==")
    for name, figures in results.items():
        figures.pop("_rows", None)
        print(name, json.dumps(figures))
    engine.close()


if __name__ == "__main__":
    main()
