"""How close this checkout's encoder comes to the vectors stored in an existing index.

    PYTHONPATH=. python benchmarks/encoder_compat.py --index COPY --collection eval-clapnq_dev-1000o150t

Re-embeds every chunk of the collection (title in front and cut to the collection's word pieces, as
the indexer does) with the encoder variant the collection was built with, and prints the cosine of
each new vector to the stored one (min, 1st percentile, median). An encoder change that keeps
existing indexes valid stays at >= 0.9999. Opens the index read-only in spirit (no writes), but takes
its folder lock: use a copy.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # this checkout's rag, not an installed one


def main() -> None:
    """Re-embed the collection's chunks and compare them with the stored vectors."""
    from rag.embedding import VARIANTS, Embedder
    from rag.engine import Engine
    from rag.ingest.indexer import chunk_vectors
    from rag.settings import Settings

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--index", type=Path, required=True)
    parser.add_argument("--collection", required=True)
    args = parser.parse_args()
    settings = Settings.load(environ={}, index_dir=args.index, collection=args.collection)
    engine = Engine(settings)
    try:
        variant = engine.store.chunks.metadata["embed_variant"]
        encoder = next(name for name, v in VARIANTS.items() if v == variant)
        chunks = list(engine.store.all_chunks())
        stored = engine.store.embeddings([c.id for c in chunks])
        fresh = chunk_vectors(Embedder(encoder=encoder), engine.store, chunks, settings.title_in_chunk)
    finally:
        engine.close()
    old = np.stack([stored[c.id] for c in chunks])
    cosines = (fresh * old).sum(axis=1) / np.linalg.norm(old, axis=1)
    print(f"{args.collection}: {len(chunks)} chunks, encoder {encoder} ({variant}); cosine of the new "
          f"vectors to the stored ones: min {cosines.min():.6f}, 1st percentile "
          f"{np.percentile(cosines, 1):.6f}, median {np.median(cosines):.6f}; load average "
          f"{os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
