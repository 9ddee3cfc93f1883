"""Encoder throughput (word pieces per second) on the chunks `rag index` embeds, by variant and batching.

    PYTHONPATH=. python benchmarks/encoder_speed.py [--limit 400] [--configs bf16,fp32,...]

The chunks of the first ``--limit`` realtimeqa_news articles (our chunker, title in front, as the
indexer embeds them) are embedded once per configuration, in this process, after a warm-up. Each
line gives wall and CPU seconds, real (unpadded) word pieces per wall second, the share of padding,
real word pieces per CPU second (steadier on a shared machine), the ratios of both to the default
(bf16, batches of 16 sorted by word pieces, one worker thread per core, each torch forward on one
thread), and the cosine of each vector to the fp32 one (min / median).
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch
from index_speed import cpu_seconds, subset

from rag.minilm import MiniLM, model_folder

CORES = len(os.sched_getaffinity(0))
CONFIGS = {  # name -> (variant, batch size, worker threads, torch threads per forward, batches sorted by)
    "bf16": ("bf16", 16, CORES, 1, "pieces"),
    "fp32": ("fp32", 16, CORES, 1, "pieces"),
    "int8": ("int8", 16, CORES, 1, "pieces"),
    "bf16-batch8": ("bf16", 8, CORES, 1, "pieces"),
    "bf16-batch32": ("bf16", 32, CORES, 1, "pieces"),
    "bf16-batch64": ("bf16", 64, CORES, 1, "pieces"),
    "bf16-batch128": ("bf16", 128, CORES, 1, "pieces"),
    "bf16-by-characters": ("bf16", 16, CORES, 1, "characters"),
    "bf16-unsorted": ("bf16", 16, CORES, 1, None),
    f"bf16-1x{CORES}-threads": ("bf16", 16, 1, CORES, "pieces"),
}
SORT_KEYS = {"pieces": lambda text, pieces: -len(pieces), "characters": lambda text, pieces: -len(text),
             None: lambda text, pieces: 0}


def chunk_texts(limit: int) -> list[str]:
    """What the indexer embeds for the first ``limit`` articles."""
    from rag.ingest.chunking import chunk_document
    from rag.ingest.indexer import embedding_text
    from rag.ingest.loaders import load_file
    from rag.settings import Settings

    settings = Settings.load(environ={})
    with tempfile.TemporaryDirectory() as tmp:
        docs = load_file(subset(limit, Path(tmp)))
    return [embedding_text(c, settings.title_in_chunk) for d in docs
            for c in chunk_document(d, settings.chunk_size, settings.chunk_overlap)]


class Int8MiniLM(MiniLM):
    """MiniLM in fp32 whose 36 linear layers run in int8 (torch's dynamic quantization); not shipped."""

    def __init__(self, folder: Path) -> None:
        super().__init__(folder, "fp32")

    def _trace(self) -> Callable[[list[tuple[torch.Tensor, torch.Tensor]]], list[torch.Tensor]]:
        """The int8 layers, made from the loaded float weights; run op by op (a trace cannot hold
        quantized layers that are not its own submodules)."""
        from torch.ao.quantization import quantize_dynamic

        linears = torch.nn.ModuleDict()
        for name, weight in self.w.items():
            if name.startswith("encoder.") and weight.dim() == 2:  # a linear layer's (norms are 1-D)
                prefix = name.removesuffix("weight")
                layer = linears[_key(prefix)] = torch.nn.Linear(weight.shape[1], weight.shape[0])
                layer.weight.data, layer.bias.data = weight, self.w[prefix + "bias"]
        self.int8 = quantize_dynamic(linears, {torch.nn.Linear}, dtype=torch.qint8)
        return lambda batches: [self._forward(ids, mask) for ids, mask in batches]

    def _linear(self, x: torch.Tensor, p: str) -> torch.Tensor:
        return self.int8[_key(p)](x)


def _key(prefix: str) -> str:
    """A module name for a weight prefix (module names cannot hold dots)."""
    return prefix.rstrip(".").replace(".", "/")


def run(config: tuple, texts: list[str]) -> tuple[np.ndarray, float, float, float]:
    """Vectors, wall and CPU seconds, and the padded share of the word pieces, for one configuration."""
    from rag.embedding import Embedder

    variant, batch, workers, threads, sort = config
    embedder = Embedder(batch, "fast" if variant == "bf16" else "exact", workers)
    if variant == "int8":
        embedder._model = Int8MiniLM(model_folder())
    embedder.embed(["warm up"])
    torch.set_num_threads(threads)
    pieces = embedder.model.word_pieces(texts)
    order = sorted(range(len(texts)), key=lambda i: SORT_KEYS[sort](texts[i], pieces[i]))
    batches = [[pieces[i] for i in order[k:k + batch]] for k in range(0, len(order), batch)]
    padded = sum(len(b) * max(map(len, b)) for b in batches)
    began, cpu = time.perf_counter(), cpu_seconds()
    if workers > 1:  # batch by batch, whichever worker is free takes the next
        done = embedder._workers().map(embedder._forward, [[batch] for batch in batches])
    else:
        done = [embedder._forward(batches)]
    parts = [part for share in done for part in share]
    wall, cpu = time.perf_counter() - began, cpu_seconds() - cpu
    vectors = np.empty((len(texts), embedder.dimension), dtype=np.float32)
    vectors[order] = np.concatenate(parts)
    return vectors, wall, cpu, padded


def main() -> None:
    """Embed the chunks under each configuration; print figures and ratios."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--limit", type=int, default=400, help="First N articles.")
    parser.add_argument("--configs", default=",".join(CONFIGS), help=f"Among {', '.join(CONFIGS)}.")
    args = parser.parse_args()
    from rag.minilm import load_tokenizer

    texts = chunk_texts(args.limit)
    tokens = sum(sum(p.attention_mask) for p in load_tokenizer(model_folder()).encode_batch(texts))
    print(f"{len(texts)} chunks of the first {args.limit} articles, {tokens} word pieces "
          f"({tokens / len(texts):.0f} a chunk, at most 256); {CORES} cores; load average "
          f"{os.getloadavg()[0]:.1f}", flush=True)
    names = args.configs.split(",")
    results = {name: run(CONFIGS[name], texts) for name in ["fp32"] + [n for n in names if n != "fp32"]}
    _, wall, cpu, _ = results["bf16" if "bf16" in names else names[0]]
    base, base_cpu = tokens / wall, tokens / cpu
    for name in names:
        vectors, wall, cpu, padded = results[name]
        cosines = (vectors * results["fp32"][0]).sum(axis=1)
        print(f"{name:<20} wall {wall:6.1f} s  CPU {cpu:6.1f} s  {tokens / wall:5.0f} pieces/s "
              f"x{tokens / wall / base:.2f}  {tokens / cpu:5.0f} per CPU s x{tokens / cpu / base_cpu:.2f}  "
              f"padding {1 - tokens / padded:5.1%}  cosine to fp32 min {cosines.min():.5f} "
              f"median {np.median(cosines):.5f}", flush=True)
    print(json.dumps({"load_average": os.getloadavg()}))


if __name__ == "__main__":
    main()
