"""First-token and total latency of a seed question through Engine.ask_stream, per backend.

    PYTHONPATH=. python3 benchmarks/llm_latency.py --runs 5            # extractive and SmolLM2 (gguf:)

Prints the model load time, then for each backend the time to the first streamed piece and to the
final, verified Answer: once for the first run (llama.cpp has not seen the prompt) and as the median
(min/max) over repeated runs (its prompt cache then skips most of the prompt).
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from rag.answer.local_llm import local_server_url, smollm2_path
from rag.engine import Engine
from rag.pipeline import final_answer
from rag.settings import Settings
from rag.types import Answer

QUESTION = "How many Indian troops died in the Pathankot attack?"


def timed(engine: Engine, question: str) -> tuple[float, float, Answer]:
    """Seconds to the first text piece and to the Answer, and the Answer."""
    start = time.perf_counter()
    first: list[float] = []

    def note(_: str) -> None:
        if not first:
            first.append(time.perf_counter() - start)

    answer = final_answer(engine.ask_stream(question), note)
    return first[0], time.perf_counter() - start, answer


def describe(values: list[float]) -> str:
    """Median with min and max."""
    return f"{statistics.median(values):6.2f}s (min {min(values):.2f}, max {max(values):.2f})"


def main() -> None:
    """Index the seeds in a temp folder, warm up, and time each backend."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--model", type=Path, default=smollm2_path())
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        engine = Engine(Settings.load(index_dir=Path(tmp) / "index"))
        engine.ensure_index()
        start = time.perf_counter()
        local_server_url(args.model)
        print(f"model load (xllamacpp server start): {time.perf_counter() - start:.2f}s  {args.model.name}")
        backends = [("extractive", engine), ("gguf (SmolLM2)", engine.configured(llm=f"gguf:{args.model}"))]
        for name, backend in backends:
            first, total, _ = timed(backend, QUESTION)  # llama.cpp has not seen this prompt yet
            runs = [timed(backend, QUESTION) for _ in range(args.runs)]  # its prompt cache now helps
            answer = runs[-1][2]
            print(f"{name:16s} first run: first piece {first:.2f}s, answer {total:.2f}s")
            print(f"{'':16s} repeats:   first piece {describe([r[0] for r in runs])}  "
                  f"answer {describe([r[1] for r in runs])}  over {args.runs} runs")
            print(f"{'':16s} {answer.answer!r} verified={[c.verified for c in answer.citations]}")
        engine.close()


if __name__ == "__main__":
    main()
