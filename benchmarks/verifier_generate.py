"""Generate answers for the verifier benchmark's fixed question set once, and store them.

Runs retrieval, the decline gate and the model's prompt exactly as ``rag ask --llm`` does, and stores
each question's passages (ids and offsets) and the model's raw text, so that
``benchmarks/verifier_measure.py`` can re-check the verifier in seconds without the model.

    PYTHONPATH=. python3 benchmarks/verifier_generate.py \
        --llm gguf:/work/models/qwen2.5-coder-1.5b-q4_k_m.gguf --index /work/verify-evalindex
"""

from __future__ import annotations

import argparse
import hashlib
import sys
import time
from dataclasses import replace
from pathlib import Path

from verifier_set import GENERATIONS, SETS, passage_record, question_set, read_jsonl, write_jsonl

from rag.answer.generative import ANSWER_SYSTEM
from rag.engine import Engine
from rag.eval.data import read_eval_set
from rag.eval.harness import EvalOptions, prepare_engine
from rag.settings import Settings


def main() -> None:
    """Generate and store one record per question."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--llm", required=True, help="gguf:PATH or openai (with RAG_LLM_URL)")
    parser.add_argument("--index", type=Path, required=True, help="index folder (a copy, not shared)")
    parser.add_argument("--out", type=Path, default=GENERATIONS)
    parser.add_argument("--limit", type=int, help="only the first N questions (a smoke run)")
    parser.add_argument("--start", type=int, default=0, help="skip the first N questions (a second process)")
    parser.add_argument("--answerable", type=int, default=10, help="answerable ClapNQ questions in the set")
    parser.add_argument("--resume", action="store_true", help="keep the questions --out already holds")
    args = parser.parse_args()
    settings = Settings.load(index_dir=args.index)
    engines: dict[str, Engine] = {}
    prompt = hashlib.sha256(ANSWER_SYSTEM.encode()).hexdigest()[:10]
    records = read_jsonl(args.out) if args.resume and args.out.exists() else []
    done = {(r["set"], r["id"]) for r in records}
    try:
        for set_name, q in question_set(args.answerable)[args.start:args.limit]:
            if (set_name, q.id) in done:
                continue
            if set_name not in engines:
                for previous in engines.values():
                    previous.close()  # one engine a process may hold the index folder
                engine = prepare_engine(read_eval_set(SETS[set_name]), settings, EvalOptions())
                engine.settings = replace(engine.settings, llm=args.llm)
                engines[set_name] = engine
            records.append(generate(engines[set_name], set_name, q, prompt))
            r = records[-1]
            print(f"{len(records)} {set_name}/{q.id} {r['seconds']:.1f}s gate={r['gate_declined']} "
                  f"{r['raw'][:100]!r}", file=sys.stderr)
            write_jsonl(args.out, records)
    finally:
        for engine in engines.values():
            engine.close()


def generate(engine: Engine, set_name: str, q, prompt: str) -> dict:
    """One question's passages, gate decision and raw model text; a follow-up is condensed with its
    conversation first, as `rag ask --llm` does."""
    began = time.perf_counter()
    pipeline = engine.pipeline
    query = pipeline.condenser.condense(q.question, [(h, "") for h in q.history])
    passages = pipeline.retrieve(query, engine.settings.top_k)
    gated = pipeline.extractive.declines(query, passages)
    raw = "" if gated else "".join(pipeline.generator.stream(query, passages))
    return {"set": set_name, "id": q.id, "question": q.question if set_name == "seeds" else None,
            "query": query if set_name == "seeds" else None,
            "answerable": q.answerable, "prompt": prompt, "gate_declined": gated, "raw": raw,
            "seconds": round(time.perf_counter() - began, 1),
            "passages": [passage_record(p) for p in passages]}


if __name__ == "__main__":
    main()
