"""``rag eval`` end to end: the seed eval set as a regression gate, and the CLI's error paths."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from rag.eval.metrics import answer_in_text
from rag.settings import PROJECT_ROOT

SEED_SET = PROJECT_ROOT / "tests" / "evalset" / "seeds"
SEED_QUERIES = {q["id"]: q for q in map(json.loads, (SEED_SET / "queries.jsonl").read_text().splitlines())}
SHARED_EVAL = PROJECT_ROOT.parent / "shared" / "eval"


def run_rag(*args: str, timeout: int = 600) -> subprocess.CompletedProcess:
    """``python -m rag ARGS`` on this checkout's code."""
    env = {**os.environ, "PYTHONPATH": str(PROJECT_ROOT), "HF_HUB_OFFLINE": "1",
           "TRANSFORMERS_OFFLINE": "1", "ANONYMIZED_TELEMETRY": "False"}
    return subprocess.run([sys.executable, "-m", "rag", *args], capture_output=True, text=True,
                          env=env, timeout=timeout, cwd=PROJECT_ROOT)


@pytest.fixture(scope="module")
def seed_runs(tmp_path_factory) -> dict[str, dict]:
    """One ``rag eval`` run of every retriever on the seed set, by retriever name."""
    tmp = tmp_path_factory.mktemp("seed-eval")
    out = tmp / "runs.json"
    done = run_rag("eval", str(SEED_SET), "--index", str(tmp / "index"), "--json", str(out),
                   *[a for r in ("dense", "lexical", "hybrid", "textbook") for a in ("--retriever", r)])
    assert done.returncode == 0, done.stderr[-2000:]
    assert "ndcg@10" in done.stdout
    return {run["retriever"]: run for run in json.loads(out.read_text())}


def test_hybrid_retrieval_on_the_seed_set_stays_above_the_gate(seed_runs):
    figures = seed_runs["hybrid"]["retrieval"]
    assert figures["judged_queries"] == 28
    assert figures["ndcg@10"] >= 0.9
    assert figures["recall@5"] >= 0.9


def test_hybrid_answers_on_the_seed_set_stay_above_the_gate(seed_runs):
    """The floor measured after the third session's answer changes (24 of 28 right first, 7 declined)."""
    run = seed_runs["hybrid"]
    assert sum(map(_right, run["per_query"])) >= 31
    assert run["answers"]["answer_in_first"] >= 0.9
    assert run["declining"]["answered_share"] >= 0.92
    assert run["declining"]["declined_share"] == 1.0
    assert run["answers"]["median_sentences"] <= 2
    assert run["citations"]["from_gold_document"] >= 0.9


@pytest.mark.xfail(strict=True, reason="issue 10 target not met yet: 4 of 28 answerable seed questions "
                   "lead with another sentence or are declined (see benchmarks/RESULTS.md)")
def test_every_seed_question_is_answered_with_its_fact_first_or_declined(seed_runs):
    """The target: each answerable question's first quote holds its answer; each other one is declined."""
    wrong = [(q["id"], q["answer"]["answer"][:80]) for q in seed_runs["hybrid"]["per_query"] if not _right(q)]
    assert wrong == []


def _right(result: dict) -> bool:
    """A seed query's answer leads with its gold answer, or declines when it has none."""
    query = SEED_QUERIES[result["id"]]
    answer = result["answer"]
    if not query["answerable"]:
        return not answer["answered"]
    return answer["answered"] and answer_in_text(query["answers"], answer["citations"][0]["quote"])


def test_every_retriever_is_measured_by_the_same_harness(seed_runs):
    assert set(seed_runs) == {"dense", "lexical", "hybrid", "textbook"}
    for run in seed_runs.values():
        assert run["queries"] == 35
        assert run["retrieval"]["recall@10"] == 1.0  # 8 documents: every paragraph is in the top 10
        assert run["latency_ms"]["p95"] >= run["latency_ms"]["p50"] > 0
        assert len(run["per_query"]) == 35


def test_the_second_run_reuses_the_index(tmp_path):
    first = run_rag("eval", str(SEED_SET), "--index", str(tmp_path), "--retrieval-only")
    second = run_rag("eval", str(SEED_SET), "--index", str(tmp_path), "--retrieval-only",
                     "--retriever", "lexical")
    assert first.returncode == 0 and second.returncode == 0, second.stderr[-2000:]
    assert "indexing" in first.stderr and "indexing" not in second.stderr  # nothing to embed


def test_another_cut_is_measured_on_its_own_collection(tmp_path):
    first = run_rag("eval", str(SEED_SET), "--index", str(tmp_path), "--retrieval-only",
                    "--retriever", "dense")
    whole = run_rag("eval", str(SEED_SET), "--index", str(tmp_path), "--retrieval-only",
                    "--retriever", "dense", "--document-pieces", "256")
    assert first.returncode == 0 and whole.returncode == 0, whole.stderr[-2000:]
    assert "collection eval-seeds-1000o150tp128" in first.stdout
    assert "collection eval-seeds-1000o150tp256" in whole.stdout and "indexing" in whole.stderr


def test_a_folder_that_is_not_an_eval_set_is_one_clear_error(tmp_path):
    done = run_rag("eval", str(tmp_path), "--index", str(tmp_path / "index"))
    assert done.returncode == 1
    assert done.stderr.strip().splitlines() == [
        f"Error: {tmp_path} is not an eval set: it has no corpus.jsonl "
        "(expected corpus.jsonl, queries.jsonl and qrels.tsv)"]


@pytest.mark.skipif(not (SHARED_EVAL / "clapnq_dev").is_dir(), reason="../shared/eval is not here")
def test_clapnq_sample_through_rag_eval(tmp_path):
    """A slice of real data: 30 clapnq questions over their judged passages plus 20 others."""
    out = tmp_path / "clapnq.json"
    done = run_rag("eval", str(SHARED_EVAL / "clapnq_dev"), "--index", str(tmp_path / "index"),
                   "--limit-queries", "30", "--sample-others", "20", "--json", str(out))
    assert done.returncode == 0, done.stderr[-2000:]
    run = json.loads(out.read_text())[0]
    assert run["retrieval"]["ndcg@10"] >= 0.85
    assert run["citations"]["evidence_queries"] > 0


@pytest.mark.skipif(not (SHARED_EVAL / "realtimeqa_news").is_dir(), reason="../shared/eval is not here")
def test_realtimeqa_sample_ranks_better_as_of_each_question_date(tmp_path):
    """News quiz questions ask about that week: ranking as of the question's date must not lose."""
    figures = {}
    for flags in ((), ("--as-of-question-date",)):
        out = tmp_path / f"rtqa{len(flags)}.json"
        done = run_rag("eval", str(SHARED_EVAL / "realtimeqa_news"), "--index", str(tmp_path / "index"),
                       "--limit-queries", "25", "--sample-others", "150", "--retrieval-only",
                       "--json", str(out), *flags)
        assert done.returncode == 0, done.stderr[-2000:]
        figures[flags] = json.loads(out.read_text())[0]["retrieval"]["ndcg@10"]
    assert "hybrid@date" in done.stdout
    assert figures[("--as-of-question-date",)] >= figures[()] > 0.5


def test_each_pipeline_reports_its_own_chunk_count(tmp_path, embedder):
    """The textbook splitter (1000/200, mid-sentence) makes other chunks than ours from one text."""
    from rag.eval.data import read_eval_set
    from rag.eval.harness import EvalOptions, evaluate
    from rag.settings import Settings

    story = " ".join(f"Sentence {i} of the long story tells one more small fact." for i in range(200))
    (tmp_path / "corpus.jsonl").write_text(json.dumps({"id": "d1", "title": "Long", "text": story}))
    (tmp_path / "queries.jsonl").write_text(json.dumps({"id": "q1", "question": "Sentence 7?"}))
    (tmp_path / "qrels.tsv").write_text("q1\td1\t1\n")
    runs = evaluate(read_eval_set(tmp_path), Settings.load(environ={}, index_dir=tmp_path / "index"),
                    EvalOptions(("hybrid", "textbook"), answers=False), embedder, show_progress=False)
    from langchain_text_splitters import RecursiveCharacterTextSplitter

    from rag.ingest.chunking import chunk_document
    from rag.types import Document

    ours = len(chunk_document(Document("d1", "Long", "s", story, "")))
    textbook = len(RecursiveCharacterTextSplitter(chunk_size=1000, chunk_overlap=200).split_text(story))
    assert ours != textbook
    assert [run["corpus"]["chunks"] for run in runs] == [ours, textbook]

