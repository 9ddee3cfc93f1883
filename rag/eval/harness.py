"""``rag eval``: index an eval set into its own collection, run every query, measure everything."""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, replace
from pathlib import Path

from rag.embedding import RememberingEmbedder
from rag.engine import Engine
from rag.eval import metrics
from rag.eval.data import EvalQuery, EvalSet, EvalSetError, sample_corpus, write_subset
from rag.pipeline import Pipeline, build_pipeline, final_answer
from rag.retrieve.dedup import collapse
from rag.serialize import answer_dict
from rag.settings import Settings
from rag.types import Answer, Filters, ScoredChunk

RANKING_DEPTH = 100  # chunks retrieved per query to rank documents


@dataclass(frozen=True)
class EvalOptions:
    """What to measure and how the corpus is indexed."""

    retrievers: tuple[str, ...] = ("hybrid",)
    limit_queries: int | None = None
    sample_queries: int | None = None  # a fixed random sample of the queries (seed 0)
    sample_others: int | None = None  # keep judged documents + this many others (fixed seed)
    k: int = 5  # passages given to the answerer
    depth: int = RANKING_DEPTH
    answers: bool = True  # False: retrieval figures only (much faster)
    as_of_question_date: bool = False  # rank as of each question's date (news quizzes have one)
    collection: str | None = None  # the collection to index into (default: one named after the set)


@dataclass
class QueryResult:
    """What happened for one query."""

    id: str
    ranking: list[str]
    retrieval_ms: float
    total_ms: float
    top_score: float = 0.0
    answer: Answer | None = None
    passages: list[ScoredChunk] | None = None


def collection_name(eval_set: EvalSet, settings: Settings, options: EvalOptions) -> str:
    """The collection an eval set is indexed into: one per dataset, chunking, cut and corpus subset."""
    title = "t" if settings.title_in_chunk else ""
    sample = f"-s{options.sample_others}" if options.sample_others is not None else ""
    chunking = f"{settings.chunk_size}o{settings.chunk_overlap}{title}p{settings.vector_pieces}"
    return f"eval-{eval_set.name}-{chunking}{sample}"[:62]


def corpus_path(eval_set: EvalSet, settings: Settings, options: EvalOptions, name: str) -> Path:
    """The corpus file to index: the dataset's own, or a fixed subset written beside the index."""
    if options.sample_others is None:
        return eval_set.corpus
    keep = sample_corpus(eval_set, options.sample_others)
    return write_subset(eval_set, keep, settings.index_dir / "eval-subsets" / f"{name}.jsonl")


def prepare_engine(eval_set: EvalSet, settings: Settings, options: EvalOptions,
                   progress: Callable[[int, int], None] | None = None, embedder=None) -> Engine:
    """An engine over the eval set's own collection, indexed (incrementally) and pruned."""
    name = options.collection or collection_name(eval_set, settings, options)
    engine = Engine(replace(settings, collection=name), embedder=embedder)
    report = engine.index([corpus_path(eval_set, settings, options, name)], prune=True,
                          progress=progress)
    if report.failed:
        engine.close()
        raise EvalSetError(f"{len(report.failed)} corpus lines failed to load: {report.failed[0]}")
    return engine


def select_queries(queries: list[EvalQuery], options: EvalOptions) -> list[EvalQuery]:
    """The first ``limit_queries``, or a fixed random sample of ``sample_queries`` in file order."""
    if options.sample_queries is not None and options.sample_queries < len(queries):
        keep = set(random.Random(0).sample(range(len(queries)), options.sample_queries))
        queries = [q for i, q in enumerate(queries) if i in keep]
    return queries[:options.limit_queries]


def run_queries(queries: list[EvalQuery], pipeline: Pipeline, k: int, depth: int, answers: bool = True,
                tick: Callable[[], None] | None = None,
                as_of_question_date: bool = False) -> list[QueryResult]:
    """Rank (and answer, with ``answers``) every query through the pipeline's stages, timing each."""
    results = []
    for q in queries:
        began = time.perf_counter()
        query = pipeline.condenser.condense(q.question, [(h, "") for h in q.history])
        found = pipeline.rank(query, depth, Filters(as_of=q.date if as_of_question_date else None))
        retrieved = time.perf_counter()
        # BEIR's rule: a query's own document never counts (ArguAna queries are corpus arguments)
        ranking = metrics.document_ranking((r.chunk.doc_id for r in found), exclude=q.id)
        result = QueryResult(q.id, ranking, 1000 * (retrieved - began), 0.0,
                             max((r.similarity or 0.0 for r in found), default=0.0))
        if answers and (q.answers or not q.answerable):
            result.passages = collapse([r for r in found if r.chunk.doc_id != q.id])[:k]
            result.answer = final_answer(pipeline.answer(q.question, query, result.passages))
        result.total_ms = 1000 * (time.perf_counter() - began)
        results.append(result)
        if tick:
            tick()
    return results


def summarize(eval_set: EvalSet, queries: list[EvalQuery], results: list[QueryResult]) -> dict:
    """Every figure for one retriever: retrieval, answers, citations, declining, latency."""
    by_id = {q.id: q for q in queries}
    judged = [r for r in results if eval_set.qrels.get(r.id)]
    out = {"queries": len(results), "retrieval": _retrieval(eval_set, judged)}
    answered = [r for r in results if r.answer is not None]
    if answered:
        out["answers"] = _answers(by_id, answered)
        out["citations"] = _citations(eval_set, by_id, answered)
        out["declining"] = _declining(by_id, answered)
    out["latency_ms"] = {"p50": round(metrics.percentile([r.total_ms for r in results], 50), 1),
                         "p95": round(metrics.percentile([r.total_ms for r in results], 95), 1),
                         "retrieval_p50": round(metrics.percentile(
                             [r.retrieval_ms for r in results], 50), 1)}
    return out


def _retrieval(eval_set: EvalSet, judged: list[QueryResult]) -> dict:
    """Document-level recall@5/10, nDCG@10 and MRR@10 over the judged queries."""
    def avg(fn, k):
        return round(metrics.mean([fn(r.ranking, eval_set.qrels[r.id], k) for r in judged]), 4)

    return {"judged_queries": len(judged), "recall@5": avg(metrics.recall_at_k, 5),
            "recall@10": avg(metrics.recall_at_k, 10), "ndcg@10": avg(metrics.ndcg_at_k, 10),
            "mrr@10": avg(metrics.mrr_at_k, 10)}


def answer_text(answer: Answer) -> str:
    """The extractive answer's own words: its quotes, without markers or "As of ..." date labels."""
    return " ".join(c.quote for c in answer.citations) if answer.answered else ""


def _answers(by_id: dict[str, EvalQuery], results: list[QueryResult]) -> dict:
    """Gold answer in the answer / in the passages, and token F1, over queries with answers."""
    with_gold = [(by_id[r.id], r) for r in results if by_id[r.id].answers]
    in_answer = [metrics.answer_in_text(q.answers, answer_text(r.answer)) for q, r in with_gold]
    in_passages = [metrics.answer_in_text(q.answers, " ".join(p.chunk.text for p in r.passages))
                   for q, r in with_gold]
    first = [bool(r.answer.citations) and metrics.answer_in_text(q.answers, r.answer.citations[0].quote)
             for q, r in with_gold if r.answer.answered]
    f1 = [metrics.token_f1(answer_text(r.answer), q.answers) for q, r in with_gold]
    sentences = [len(r.answer.citations) for r in results if r.answer.answered]
    return {"with_answers": len(with_gold), "answer_in_answer": round(metrics.mean(in_answer), 4),
            "answer_in_first": round(metrics.mean(first), 4),
            "median_sentences": metrics.percentile(sentences, 50),
            "answer_in_passages": round(metrics.mean(in_passages), 4),
            "token_f1": round(metrics.mean(f1), 4)}


def _citations(eval_set: EvalSet, by_id: dict[str, EvalQuery], results: list[QueryResult]) -> dict:
    """Citations from gold documents that quote their passage; precision/recall on gold sentences."""
    cited = [(r, c) for r in results if r.answer.answered for c in r.answer.citations]
    supported = [c.doc_id in eval_set.qrels.get(r.id, {}) and c.quote in c.passage for r, c in cited]
    out = {"citations": len(cited), "from_gold_document": round(metrics.mean(supported), 4)}
    evidence = [(by_id[r.id], r) for r in results if by_id[r.id].evidence]
    if evidence:
        pairs = [metrics.citation_precision_recall([c.quote for c in r.answer.citations],
                                                   list(q.evidence)) for q, r in evidence]
        precision = [p for (p, _), (_, r) in zip(pairs, evidence) if r.answer.answered]
        out |= {"evidence_queries": len(evidence),
                "evidence_precision": round(metrics.mean(precision), 4),
                "evidence_recall": round(metrics.mean([rc for _, rc in pairs]), 4)}
    return out


def _declining(by_id: dict[str, EvalQuery], results: list[QueryResult]) -> dict:
    """Answered share of answerable questions, declined share of unanswerable ones."""
    answerable = [r.answer.answered for r in results if by_id[r.id].answerable]
    unanswerable = [not r.answer.answered for r in results if not by_id[r.id].answerable]
    out = {"answerable": len(answerable), "answered_share": round(metrics.mean(answerable), 4)}
    if unanswerable:
        out |= {"unanswerable": len(unanswerable),
                "declined_share": round(metrics.mean(unanswerable), 4)}
    return out


def result_dict(eval_set: EvalSet, settings: Settings, options: EvalOptions, name: str,
                summary: dict, results: list[QueryResult]) -> dict:
    """The JSON record of one retriever's run, with per-query detail."""
    config = {k: getattr(settings, k) for k in ("chunk_size", "chunk_overlap", "title_in_chunk",
                                                 "fusion", "fusion_weight", "fusion_depth",
                                                 "recency_half_life", "recency_weight")}
    per_query = [{"id": r.id, "ranking": r.ranking[:10], "top_score": round(r.top_score, 4),
                  "ms": round(r.total_ms, 1),
                  "answer": answer_dict(r.answer) if r.answer else None} for r in results]
    return {"dataset": eval_set.name, "retriever": name, "collection": settings.collection,
            "config": config,
            "options": asdict(options), **summary, "per_query": per_query}


def evaluate(eval_set: EvalSet, settings: Settings, options: EvalOptions, embedder=None,
             show_progress: bool = True) -> list[dict]:
    """Index the eval set (reusing what is unchanged), then measure each retriever on its queries."""
    from rag.progress import ProgressBar

    queries = select_queries(eval_set.queries, options)
    with ProgressBar("indexing") as bar:
        engine = prepare_engine(eval_set, settings, options, bar.update, embedder)
    memo = RememberingEmbedder(engine.embedder)
    try:
        runs = []
        documents = len(engine.store.records())
        for name in options.retrievers:
            pipeline, chunks = _pipeline(name, engine, memo, eval_set, settings, options, show_progress)
            results = _timed_queries(name, queries, pipeline, options, show_progress)
            summary = summarize(eval_set, queries, results)
            summary["corpus"] = {"documents": documents, "chunks": chunks}
            runs.append(result_dict(eval_set, engine.settings, options, name, summary, results))
        return runs
    finally:
        engine.close()


def _pipeline(name: str, engine: Engine, memo: RememberingEmbedder, eval_set: EvalSet, settings: Settings,
              options: EvalOptions, show_progress: bool) -> tuple[Pipeline, int]:
    """The pipeline to measure, with this retriever (ours, or the textbook one), and its chunk count."""
    if name != "textbook":
        tried = replace(engine.settings, retriever=name)
        return build_pipeline(tried, engine.store, memo), engine.store.count()
    from rag.eval.textbook import TextbookRetriever
    from rag.progress import ProgressBar

    sample = f"-s{options.sample_others}" if options.sample_others is not None else ""
    textbook = TextbookRetriever(engine.catalog, f"textbook-{eval_set.name}{sample}"[:62])
    with ProgressBar("textbook indexing") as bar:
        textbook.index(corpus_path(eval_set, settings, options, engine.settings.collection),
                       bar.update if show_progress else None)
    return build_pipeline(engine.settings, engine.store, memo, textbook), textbook.count()


def _timed_queries(name: str, queries: list[EvalQuery], pipeline: Pipeline, options: EvalOptions,
                   show_progress: bool) -> list[QueryResult]:
    """run_queries with a progress bar over the queries."""
    from tqdm import tqdm

    with tqdm(total=len(queries), desc=f"{name} queries", unit="q", disable=not show_progress,
              dynamic_ncols=True) as bar:
        return run_queries(queries, pipeline, options.k, options.depth, options.answers, bar.update,
                           options.as_of_question_date)


_COLUMNS = (("retrieval", "ndcg@10"), ("retrieval", "recall@5"), ("retrieval", "recall@10"),
            ("retrieval", "mrr@10"), ("answers", "answer_in_answer"), ("answers", "answer_in_passages"),
            ("answers", "token_f1"), ("answers", "answer_in_first"), ("answers", "median_sentences"),
            ("citations", "from_gold_document"),
            ("citations", "evidence_precision"), ("citations", "evidence_recall"),
            ("declining", "answered_share"), ("declining", "declined_share"),
            ("latency_ms", "p50"), ("latency_ms", "p95"))


def format_table(runs: list[dict]) -> str:
    """The figures of each retriever as aligned columns (a dash where a figure does not apply)."""
    columns = [(group, key) for group, key in _COLUMNS if any(key in r.get(group, {}) for r in runs)]
    header = ["retriever", *[key.replace("answer_in_", "in_").replace("_share", "") for _, key in columns]]
    rows = [[_label(r), *[_cell(r.get(group, {}).get(key)) for group, key in columns]] for r in runs]
    widths = [max(len(str(row[i])) for row in [header, *rows]) for i in range(len(header))]
    return "\n".join("  ".join(str(v).rjust(w) for v, w in zip(row, widths)) for row in [header, *rows])


def _label(run: dict) -> str:
    """The retriever's name, marked when it ranked as of each question's date (the textbook cannot)."""
    dated = run["options"].get("as_of_question_date") and run["retriever"] != "textbook"
    return f"{run['retriever']}@date" if dated else run["retriever"]


def _cell(value) -> str:
    """A table cell: 4 decimals for ratios, 1 for milliseconds."""
    if value is None:
        return "-"
    return f"{value:.4f}" if isinstance(value, float) and value <= 1.0 else f"{value}"
