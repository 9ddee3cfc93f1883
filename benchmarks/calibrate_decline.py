"""Calibrate ``min_relevance`` (decline below it) from a ``rag eval --json`` file of a set with
unanswerable questions (clapnq_dev): for each threshold, the answered share of answerable questions
and the declined share of unanswerable ones, judged by each query's best passage cosine.

    python3 benchmarks/calibrate_decline.py ../shared/eval/clapnq_dev runs.json [--retriever hybrid]
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from rag.eval.data import read_eval_set


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("dataset", type=Path)
    parser.add_argument("runs", type=Path)
    parser.add_argument("--retriever", default="hybrid")
    args = parser.parse_args()
    answerable = {q.id: q.answerable for q in read_eval_set(args.dataset).queries}
    run = next(r for r in json.loads(args.runs.read_text()) if r["retriever"] == args.retriever)
    scores = [(q["top_score"], answerable[q["id"]]) for q in run["per_query"]]
    print("threshold  answered(answerable)  declined(unanswerable)  balanced")
    best = (0.0, 0.0)
    for step in range(20, 76, 2):
        t = step / 100
        answered = _share([s >= t for s, a in scores if a])
        declined = _share([s < t for s, a in scores if not a])
        balanced = (answered + declined) / 2
        best = max(best, (balanced, t))
        print(f"{t:9.2f}  {answered:20.3f}  {declined:22.3f}  {balanced:8.3f}")
    print(f"best balanced accuracy {best[0]:.3f} at min_relevance {best[1]:.2f}")


def _share(flags: list[bool]) -> float:
    """Share of True values."""
    return sum(flags) / len(flags) if flags else 0.0


if __name__ == "__main__":
    main()
